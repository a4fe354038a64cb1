package collectors

import (
	"net/http"
	"time"
)

// HTTPOptions configure the shared HTTP client.
type HTTPOptions struct {
	// Vendor names the source in errors and metrics ("github", "datadog", ...).
	Vendor string
	// UserAgent is sent on every request; default "impact/<version>".
	UserAgent string
	// Timeout bounds one request attempt; default 30s.
	Timeout time.Duration
	// MaxRetries on 5xx, 429 and rate-limit 403s; default 5.
	MaxRetries int
	// MaxWait is the longest single wait the client accepts (Retry-After or a
	// rate-limit reset); a longer one fails the request with an error that
	// says how long the vendor asked to wait. Default 2m.
	MaxWait time.Duration
	// Sleep waits for d or until ctx is done; tests replace it. Default: a timer.
	Sleep func(ctxDone <-chan struct{}, d time.Duration) bool
	// Budget receives the vendor's rate-limit state after each response; may be nil.
	Budget *Budget
	// Base is the underlying transport; default http.DefaultTransport clone.
	Base http.RoundTripper
}

// NewHTTPClient returns the client every collector uses: it sets User-Agent,
// retries 5xx/429/secondary-limit 403 with exponential backoff honouring
// Retry-After and the vendor's rate-limit headers, and slows down before the
// remaining budget reaches zero.
func NewHTTPClient(o HTTPOptions) *http.Client {
	return &http.Client{Transport: newTransport(o)}
}
