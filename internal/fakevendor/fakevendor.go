// Package fakevendor serves a world.World through HTTP handlers that speak
// the shapes of the vendors' real APIs (GitHub REST pull requests, Datadog
// v1 metrics query), so `impact demo` and the end-to-end tests can point the
// real collectors at them. See /work/shared/fixtures/vendor for the
// recorded payloads the shapes follow.
package fakevendor

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

// Options tune the fake servers.
type Options struct {
	// Latency is added to every request (benchmarks).
	Latency time.Duration
	// Counter, when set, counts the requests served, by vendor, route
	// pattern and status. One Counter may be shared by both handlers.
	Counter *Counter
	// Fault, when set, is asked about every request before it is served;
	// a non-zero status makes the handler answer with that status and the
	// vendor's error body instead (429 and 503 also get Retry-After: 1).
	Fault func(r *http.Request) int
	// GitHubRateLimit and DatadogRateLimit are the requests allowed per
	// hour; 0 means the vendor's usual (GitHub 5000, Datadog 1600), a
	// negative value never runs out (the headers are still sent).
	GitHubRateLimit  int
	DatadogRateLimit int
	// Now is the clock for rate-limit headers; default time.Now.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// CountKey identifies one bucket of a Counter.
type CountKey struct {
	Vendor  string // "github" or "datadog"
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

// wrap adds latency, faults and counting around mux.
func wrap(vendor string, mux *http.ServeMux, o Options, fault func(http.ResponseWriter, int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Latency > 0 {
			t := time.NewTimer(o.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		_, pattern := mux.Handler(r)
		if o.Fault != nil {
			if code := o.Fault(r); code != 0 {
				fault(sw, code)
				o.count(vendor, pattern, sw.status)
				return
			}
		}
		mux.ServeHTTP(sw, r)
		o.count(vendor, pattern, cmp.Or(sw.status, http.StatusOK))
	})
}

func (o Options) count(vendor, pattern string, status int) {
	if o.Counter == nil {
		return
	}
	if pattern == "" {
		pattern = "unmatched"
	}
	o.Counter.add(CountKey{Vendor: vendor, Pattern: pattern, Status: status})
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

func etag(body []byte) string {
	h := sha256.Sum256(body)
	return `W/"` + hex.EncodeToString(h[:16]) + `"`
}

// stableID is a stable positive id for s.
func stableID(s string, lo int64) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return lo + int64(h.Sum64()%90_000_000)
}

// limiter is an hourly request budget.
type limiter struct {
	mu    sync.Mutex
	limit int // < 0: unlimited
	used  int
	reset time.Time
}

// take spends one request (when spend) and reports the budget after it.
// ok is false when the budget was already exhausted.
func (l *limiter) take(now time.Time, spend bool) (limit, remaining, used int, reset time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reset.IsZero() || !now.Before(l.reset) {
		l.used = 0
		l.reset = now.Add(time.Hour).Truncate(time.Second)
	}
	limit = l.limit
	if limit < 0 {
		limit = 1 << 30
	}
	ok = l.used < limit
	if spend && ok {
		l.used++
	}
	return limit, limit - l.used, l.used, l.reset, ok
}

// Counted adds o's latency and counting around h, a fake that lives in its
// source's folder (collectors/<name>/fake.go); route names a request's
// route in the counts ("POST /1/queries/{dataset}").
func Counted(vendor string, h http.Handler, route func(*http.Request) string, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Latency > 0 {
			t := time.NewTimer(o.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		o.count(vendor, route(r), cmp.Or(sw.status, http.StatusOK))
	})
}
