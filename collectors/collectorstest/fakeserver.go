package collectorstest

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"sync"
	"time"
)

// What the vendors' fake servers share. Each fake lives in its source's
// folder (collectors/<name>/fake.go) and is the one fake of its vendor:
// the collector's tests, the demo, the daemon tests, the hostile-vendor
// table and the benchmarks all use it. This file holds only what several
// of them need: the options every fake takes, request counting, latency
// and fault injection, and an hourly request budget.

// FakeOptions tune a fake vendor server.
type FakeOptions struct {
	// Latency is added to every request (benchmarks).
	Latency time.Duration
	// Counter, when set, counts the requests served, by vendor, route
	// pattern and status. One Counter may be shared by several fakes.
	Counter *Counter
	// Fault, when set, is asked about every request before it is served;
	// a non-zero status makes the fake answer with that status and the
	// vendor's error body instead (429 and 503 also get Retry-After: 1).
	Fault func(r *http.Request) int
	// RateLimit is the requests the fake allows per hour; 0 means the
	// vendor's usual (GitHub 5000, Datadog 1600), a negative value never
	// runs out (the headers are still sent). Fakes of vendors without an
	// hourly budget ignore it.
	RateLimit int
	// Now is the clock for rate-limit headers; default time.Now.
	Now func() time.Time
	// PageSize, when positive, caps the page size below the vendor's
	// maximum, so a test sees several pages from a few items (the GitHub
	// fake honours it).
	PageSize int
}

// Clock is o.Now(), or time.Now() when it is not set.
func (o FakeOptions) Clock() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Count counts one request of vendor's route pattern answered with status
// into o.Counter, if set; pattern "" is counted as "unmatched".
func (o FakeOptions) Count(vendor, pattern string, status int) {
	if o.Counter == nil {
		return
	}
	if pattern == "" {
		pattern = "unmatched"
	}
	o.Counter.add(CountKey{Vendor: vendor, Pattern: pattern, Status: status})
}

// CountKey identifies one bucket of a Counter.
type CountKey struct {
	Vendor  string // "github", "datadog", ...
	Pattern string // the route, e.g. "GET /repos/{owner}/{repo}/pulls"; "unmatched" for none
	Status  int
}

// Counter counts requests; safe for concurrent use. The zero value is
// ready.
type Counter struct {
	mu sync.Mutex
	m  map[CountKey]int
}

func (c *Counter) add(k CountKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[CountKey]int{}
	}
	c.m[k]++
}

// Snapshot returns a copy of the counts.
func (c *Counter) Snapshot() map[CountKey]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[CountKey]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Total is the number of requests counted.
func (c *Counter) Total() int {
	n := 0
	for _, v := range c.Snapshot() {
		n += v
	}
	return n
}

// Count sums the requests whose pattern is pattern (any vendor, any
// status); pattern "" sums everything.
func (c *Counter) Count(pattern string) int {
	n := 0
	for k, v := range c.Snapshot() {
		if pattern == "" || k.Pattern == pattern {
			n += v
		}
	}
	return n
}

// Keys returns the buckets in a stable order (vendor, pattern, status).
func (c *Counter) Keys() []CountKey {
	snap := c.Snapshot()
	keys := make([]CountKey, 0, len(snap))
	for k := range snap {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b CountKey) int {
		return cmp.Or(cmp.Compare(a.Vendor, b.Vendor), cmp.Compare(a.Pattern, b.Pattern), cmp.Compare(a.Status, b.Status))
	})
	return keys
}

// String renders the counts one bucket a line: "github GET /repos/... 200 12".
func (c *Counter) String() string {
	snap := c.Snapshot()
	s := ""
	for _, k := range c.Keys() {
		s += fmt.Sprintf("%s %s %d %d\n", k.Vendor, k.Pattern, k.Status, snap[k])
	}
	return s
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// wait sleeps o.Latency, or until the request is cancelled (false).
func (o FakeOptions) wait(r *http.Request) bool {
	if o.Latency <= 0 {
		return true
	}
	t := time.NewTimer(o.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// Wrap adds o's latency, faults and counting around mux, counting each
// request under the mux pattern it matched. fault answers an injected
// status with the vendor's error body.
func Wrap(vendor string, mux *http.ServeMux, o FakeOptions, fault func(http.ResponseWriter, int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !o.wait(r) {
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		_, pattern := mux.Handler(r)
		if o.Fault != nil {
			if code := o.Fault(r); code != 0 {
				fault(sw, code)
				o.Count(vendor, pattern, sw.status)
				return
			}
		}
		mux.ServeHTTP(sw, r)
		o.Count(vendor, pattern, cmp.Or(sw.status, http.StatusOK))
	})
}

// Counted adds o's latency and counting around h, a fake that injects its
// own faults; route names a request's route in the counts
// ("POST /1/queries/{dataset}").
func Counted(vendor string, h http.Handler, route func(*http.Request) string, o FakeOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !o.wait(r) {
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		o.Count(vendor, route(r), cmp.Or(sw.status, http.StatusOK))
	})
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// ETag is a weak entity tag of body.
func ETag(body []byte) string {
	h := sha256.Sum256(body)
	return `W/"` + hex.EncodeToString(h[:16]) + `"`
}

// StableID is a stable positive id for s, at least lo.
func StableID(s string, lo int64) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return lo + int64(h.Sum64()%90_000_000)
}

// BaseURL is the scheme and host the client reached the fake at.
func BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Limiter is an hourly request budget; the zero value allows none, a
// negative Limit never runs out.
type Limiter struct {
	Limit int // requests an hour; < 0: unlimited

	mu    sync.Mutex
	used  int
	reset time.Time
}

// NewLimiter is an hourly budget of limit requests, def when limit is 0.
func NewLimiter(limit, def int) *Limiter {
	return &Limiter{Limit: cmp.Or(limit, def)}
}

// Take spends one request (when spend) and reports the budget after it.
// ok is false when the budget was already exhausted.
func (l *Limiter) Take(now time.Time, spend bool) (limit, remaining, used int, reset time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reset.IsZero() || !now.Before(l.reset) {
		l.used = 0
		l.reset = now.Add(time.Hour).Truncate(time.Second)
	}
	limit = l.Limit
	if limit < 0 {
		limit = 1 << 30
	}
	ok = l.used < limit
	if spend && ok {
		l.used++
	}
	return limit, limit - l.used, l.used, l.reset, ok
}
