package collectors

import (
	"net/http"
	"sync"
	"time"
)

// Budget is a vendor's rate-limit state as last reported by its headers.
type Budget struct {
	mu        sync.Mutex
	Limit     int
	Remaining int
	Reset     time.Time
	Known     bool
}

// Snapshot returns a copy of the budget's fields.
func (b *Budget) Snapshot() (limit, remaining int, reset time.Time, known bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Limit, b.Remaining, b.Reset, b.Known
}

// TODO(httpx): retries, backoff, rate-limit headers. Stub: sets User-Agent only.
type transport struct {
	o    HTTPOptions
	base http.RoundTripper
}

func newTransport(o HTTPOptions) http.RoundTripper {
	base := o.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if o.UserAgent == "" {
		o.UserAgent = "impact/dev"
	}
	return &transport{o: o, base: base}
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", t.o.UserAgent)
	return t.base.RoundTrip(req)
}
