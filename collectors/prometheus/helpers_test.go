package prometheus

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

const (
	testToken = "prom-token-s3cr3t-0123456789"
	testQuery = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="search-api"}[1h])))`
	errQuery  = `sum(rate(http_requests_total{service="checkout",code=~"5.."}[1h]))`
)

// now is a poll time in the middle of an hour.
var now = time.Date(2026, 3, 1, 14, 23, 17, 0, time.UTC)

// open is the last complete step at now.
var open = now.Truncate(time.Hour)

func promMetric(id, query string) config.Metric {
	return config.Metric{ID: id, Name: id, Source: "prometheus", Query: query, Unit: "ms", Better: "lower", Category: "performance"}
}

// badHour reports whether the test world holds NaN or ±Inf at t.
func badHour(t time.Time) bool { h := t.Unix() / 3600; return h%97 == 0 || h%101 == 0 || h%103 == 0 }

// testValue is the test world's sample of metric i at t.
func testValue(i int, t time.Time) float64 {
	h := t.Unix() / 3600
	switch {
	case h%97 == 0:
		return math.NaN()
	case h%101 == 0:
		return math.Inf(1)
	case h%103 == 0:
		return math.Inf(-1)
	}
	return float64(h%500) + 0.25 + 10*float64(i)
}

// testWorld serves search-p99 (testQuery) and checkout-errors (errQuery)
// hourly from 600 days before now until 10 hours after it.
func testWorld() *world.World {
	start, end := open.Add(-600*24*time.Hour), open.Add(10*time.Hour)
	w := &world.World{Start: start, End: end, Series: map[string][]model.Sample{}, Metrics: []config.Metric{
		promMetric("search-p99", testQuery), promMetric("checkout-errors", errQuery),
		{ID: "dd", Source: "datadog", Query: "avg:x{*}"},
	}}
	for i, id := range []string{"search-p99", "checkout-errors"} {
		var ss []model.Sample
		for t := start; t.Before(end); t = t.Add(time.Hour) {
			ss = append(ss, model.Sample{Time: t, Value: testValue(i, t)})
		}
		w.Series[id] = ss
	}
	return w
}

// request is what the test server saw of one call.
type request struct {
	Method            string
	Query             string
	Start, End        time.Time
	Step              string
	Auth, ContentType string
}

func (r request) points(t *testing.T) int {
	step, err := strconv.ParseFloat(r.Step, 64)
	if err != nil {
		t.Fatalf("step %q: %v", r.Step, err)
	}
	return int(r.End.Sub(r.Start).Seconds()/step) + 1
}

// fakeProm is NewFake with a request log and a hook to
// answer requests itself.
type fakeProm struct {
	w   *world.World
	srv *httptest.Server
	// respond may answer the n-th request (0-based) and return true;
	// otherwise the fake answers.
	respond func(n int, rw http.ResponseWriter, r request) bool
	fault   func(n int) int // status for the fake's FakeOptions.Fault; 0 none

	mu   sync.Mutex
	reqs []request
}

func newFake(t *testing.T) *fakeProm {
	t.Helper()
	f := &fakeProm{w: testWorld()}
	fv := NewFake(f.w, collectorstest.FakeOptions{Fault: func(r *http.Request) int {
		if f.fault == nil {
			return 0
		}
		return f.fault(r.Context().Value(nKey{}).(int))
	}})
	f.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		req := request{Method: r.Method, Query: r.Form.Get("query"), Step: r.Form.Get("step"),
			Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type")}
		req.Start, _ = parseTime(r.Form.Get("start"))
		req.End, _ = parseTime(r.Form.Get("end"))
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		if f.respond != nil && f.respond(n, rw, req) {
			return
		}
		fv.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), nKey{}, n)))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

type nKey struct{}

func parseTime(s string) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, err
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC(), nil
}

func (f *fakeProm) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

func writeBody(rw http.ResponseWriter, status int, contentType, body string) {
	if contentType != "" {
		rw.Header().Set("Content-Type", contentType)
	}
	rw.WriteHeader(status)
	rw.Write([]byte(body))
}

// newTest builds a collector against f with a bearer token.
func newTest(t *testing.T, f *fakeProm, opt Options, metrics ...config.Metric) (*Collector, *collectorstest.Sleeps) {
	t.Helper()
	sl := &collectorstest.Sleeps{}
	if opt.HTTPClient == nil {
		opt.HTTPClient = testClient(sl)
	}
	if len(metrics) == 0 {
		metrics = []config.Metric{promMetric("search-p99", testQuery)}
	}
	c, err := New(Config{URL: f.srv.URL, BearerToken: testToken}, metrics, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

// hourly lists the hours from..to inclusive, without the test world's bad
// (NaN, ±Inf) ones.
func hourly(from, to time.Time) []time.Time {
	var out []time.Time
	for t := from; !t.After(to); t = t.Add(time.Hour) {
		if !badHour(t) {
			out = append(out, t)
		}
	}
	return out
}

// ---- sink, progress, sleeps, logs ---------------------------------------

// memSink is collectorstest.Sink with this collector's cursors typed.
type memSink struct{ collectorstest.Sink }

func newSink() *memSink { return &memSink{} }

func (s *memSink) setCursor(t *testing.T, id string, c any) {
	t.Helper()
	if err := s.SetCursorJSON(Name, id, c); err != nil {
		t.Fatal(err)
	}
}

func (s *memSink) cursor(t *testing.T, id string) Cursor {
	t.Helper()
	var c Cursor
	if ok, err := s.CursorJSON(Name, id, &c); !ok || err != nil {
		t.Fatalf("cursor for %s: found %v, %v", id, ok, err)
	}
	return c
}

// testClient is the shared HTTP client with sleeping replaced.
func testClient(s *collectorstest.Sleeps) *http.Client {
	return collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, MaxRetries: 5, Sleep: s.Sleep})
}

func bufLogger(b *collectorstest.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
