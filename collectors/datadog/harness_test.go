package datadog

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// ---- the fake Datadog, behind a test harness ------------------------------

// request is what the harness saw of one call.
type request struct {
	Method, Path   string
	From, To       int64
	Query          string
	APIKey, AppKey string
	Host           string
}

// response is one scripted answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// synthOpts shape the answers of the fake Datadog (NewFakeWith's
// FakeOptions), and the world it serves: every query has the hourly values
// synthValue(0, t).
type synthOpts struct {
	intTS   bool                 // timestamps as ints (2022 cassette form) instead of floats
	msExtra float64              // added to every timestamp (ms), to test truncation to the second
	series  int                  // number of series; 0 means 1
	null    func(t int64) string // "value" → [t,null], "time" → [null,v], "both" → [null,null]
	// partialMarker, when set, is added to the value of the bucket that
	// contains `to` (the still-open hour), so tests can see it re-read.
	partialMarker float64
}

// fakeDD is the fake Datadog (NewFakeWith) serving a world where every
// query asked for is a metric with synthValue's hourly values, behind a
// harness that logs each request and can answer it with a scripted
// response instead.
type fakeDD struct {
	t      *testing.T
	prefix string // path prefix, for api_url with a path
	synth  synthOpts
	// respond may answer the n-th request (0-based); nil → the fake.
	respond func(n int, r request) *response

	mu   sync.Mutex
	reqs []request
	dd   *FakeServer // made at the first request, from synth
	srv  *httptest.Server
}

func newFake(t *testing.T) *fakeDD {
	t.Helper()
	f := &fakeDD{t: t}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDD) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// server is the fake Datadog, made at the first request from f.synth.
func (f *fakeDD) server() *FakeServer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dd == nil {
		do := FakeOptions{Timestamps: "float", ExtraMillis: f.synth.msExtra, Groups: f.synth.series,
			Nulls: func(string, time.Time) string { return "" }}
		if f.synth.intTS {
			do.Timestamps = "int"
		}
		if null := f.synth.null; null != nil {
			do.Nulls = func(_ string, t time.Time) string { return null(t.Unix()) }
		}
		w := &world.World{Start: now.AddDate(-1, 0, 0).Truncate(time.Hour), End: now.AddDate(0, 0, 2).Truncate(time.Hour), Series: map[string][]model.Sample{}}
		f.dd = NewFakeWith(w, collectorstest.FakeOptions{RateLimit: -1}, do)
	}
	return f.dd
}

// serve makes query a metric of the world if it is not one yet, and puts
// the partial marker on the bucket holding to.
func (f *fakeDD) serve(query string, to int64) {
	id := FakeNormalizeQuery(query)
	f.server().Update(func(w *world.World) {
		if !slices.ContainsFunc(w.Metrics, func(m config.Metric) bool { return m.ID == id }) {
			w.Metrics = append(w.Metrics, config.Metric{ID: id, Source: Name, Query: query})
		}
		if w.Series[id] != nil && f.synth.partialMarker == 0 {
			return
		}
		var ss []model.Sample
		for t := w.Start; t.Before(w.End); t = t.Add(time.Hour) {
			v := synthValue(0, t.Unix())
			if sec := t.Unix(); sec <= to && to < sec+3600 {
				v += f.synth.partialMarker
			}
			ss = append(ss, model.Sample{Time: t, Value: v})
		}
		w.Series[id] = ss
	})
}

func (f *fakeDD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, f.prefix)
	if r.Method != http.MethodGet || !ok || path != "/api/v1/query" {
		f.t.Errorf("fake datadog: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"errors":["Not found"]}`, http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
	to, _ := strconv.ParseInt(q.Get("to"), 10, 64)
	req := request{Method: r.Method, Path: r.URL.Path, From: from, To: to, Query: q.Get("query"),
		APIKey: r.Header.Get("DD-API-KEY"), AppKey: r.Header.Get("DD-APPLICATION-KEY"), Host: r.Host}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	respond := f.respond
	f.mu.Unlock()

	if respond != nil {
		if resp := respond(n, req); resp != nil {
			for k, vs := range resp.header {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			w.WriteHeader(resp.status)
			w.Write(resp.body)
			return
		}
	}
	if req.Query != "" {
		f.serve(req.Query, to)
	}
	r = r.Clone(r.Context())
	r.URL.Path = path
	f.server().ServeHTTP(w, r)
}

// synthValue is the value the fake reports for hour t (epoch seconds) of
// series i.
func synthValue(i int, t int64) float64 { return float64(t/3600%500) + 0.25 + 10*float64(i) }

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// meta is a raw/<name>.meta.json file.
type meta struct {
	RequestURL string              `json:"request_url"`
	Status     int                 `json:"status"`
	Headers    map[string][]string `json:"response_headers"`
}

func readMeta(t *testing.T, name string) meta {
	t.Helper()
	var m meta
	if err := json.Unmarshal(readTestdata(t, filepath.Join("raw", name+".meta.json")), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// metaHeaders are a recording's response headers minus the ones the test
// server sets itself.
func metaHeaders(m meta) http.Header {
	h := http.Header{}
	for k, vs := range m.Headers {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Connection", "Date", "Transfer-Encoding":
			continue
		}
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return h
}

// fixture answers with testdata/<name>.json and its recorded status and headers.
func fixture(t *testing.T, name string) *response {
	t.Helper()
	m := readMeta(t, name)
	return &response{status: m.Status, header: metaHeaders(m), body: readTestdata(t, name+".json")}
}

func jsonResponse(status int, body string) *response {
	return &response{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(body)}
}

// ---- fake sink, progress, client ----------------------------------------

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
	return collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, MaxRetries: 5, Sleep: s.Sleep})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func bufLogger(b *collectorstest.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
