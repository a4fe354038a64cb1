package datadog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/impact-dev/impact/internal/model"
)

// ---- fake Datadog API --------------------------------------------------

// request is what the fake saw of one call.
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

// synthOpts shape the responses the fake builds for any from/to.
type synthOpts struct {
	intTS   bool                 // timestamps as ints (2022 cassette form) instead of floats
	msExtra float64              // added to every timestamp (ms), to test truncation to the second
	series  int                  // number of series; 0 means 1
	null    func(t int64) string // "value" → [t,null], "time" → [null,v], "both" → [null,null]
	// partialMarker, when set, is added to the value of the bucket that
	// contains `to` (the still-open hour), so tests can see it re-read.
	partialMarker float64
}

// fakeDD serves GET /api/v1/query like Datadog: scripted answers first,
// else an hourly response synthesized from the v1_query.json shape.
type fakeDD struct {
	t      *testing.T
	prefix string // path prefix, for api_url with a path
	synth  synthOpts
	// respond may answer the n-th request (0-based); nil → synthesize.
	respond func(n int, r request) *response

	mu   sync.Mutex
	reqs []request
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

func (f *fakeDD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != f.prefix+"/api/v1/query" {
		f.t.Errorf("fake datadog: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"errors":["Not found"]}`, http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	from, err1 := strconv.ParseInt(q.Get("from"), 10, 64)
	to, err2 := strconv.ParseInt(q.Get("to"), 10, 64)
	if err1 != nil || err2 != nil || q.Get("query") == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"status":"error","code":400,"errors":["Missing required parameter"]}`))
		return
	}
	req := request{Method: r.Method, Path: r.URL.Path, From: from, To: to, Query: q.Get("query"),
		APIKey: r.Header.Get("DD-API-KEY"), AppKey: r.Header.Get("DD-APPLICATION-KEY"), Host: r.Host}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	respond := f.respond
	f.mu.Unlock()

	var resp *response
	if respond != nil {
		resp = respond(n, req)
	}
	if resp == nil {
		resp = &response{status: 200, header: okHeaders(f.t), body: f.synthBody(req)}
	}
	for k, vs := range resp.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.status)
	w.Write(resp.body)
}

// synthValue is the value the fake reports for hour t (epoch seconds) of
// series i.
func synthValue(i int, t int64) float64 { return float64(t/3600%500) + 0.25 + 10*float64(i) }

// synthBody builds a v1 query response with hourly points for [from, to):
// every bucket that starts at or after from and before to, as Datadog does
// (the last one may be partial).
func (f *fakeDD) synthBody(r request) []byte {
	f.t.Helper()
	nseries := max(f.synth.series, 1)
	top := readObject(f.t, "v1_query.json")
	tmpl := firstSeries(f.t, top)
	if nseries > 1 {
		tmpl = firstSeries(f.t, readObject(f.t, "v1_query_by_host.json"))
	}
	first := (r.From + 3599) / 3600 * 3600
	var series []map[string]json.RawMessage
	for i := range nseries {
		var pts []string
		for t := first; t < r.To; t += 3600 {
			v := synthValue(i, t)
			if t+3600 > r.To {
				v += f.synth.partialMarker
			}
			ms := float64(t*1000) + f.synth.msExtra
			ts := strconv.FormatFloat(ms, 'f', -1, 64)
			if !f.synth.intTS && !strings.Contains(ts, ".") {
				ts += ".0"
			}
			vs := strconv.FormatFloat(v, 'f', -1, 64)
			kind := ""
			if f.synth.null != nil {
				kind = f.synth.null(t)
			}
			switch kind {
			case "value":
				vs = "null"
			case "time":
				ts = "null"
			case "both":
				ts, vs = "null", "null"
			}
			pts = append(pts, "["+ts+","+vs+"]")
		}
		s := cloneObj(tmpl)
		s["pointlist"] = json.RawMessage("[" + strings.Join(pts, ",") + "]")
		s["start"] = rawJSON(first * 1000)
		s["end"] = rawJSON(r.To*1000 - 1)
		s["length"] = rawJSON(len(pts))
		s["interval"] = rawJSON(3600)
		if nseries > 1 {
			s["tag_set"] = rawJSON([]string{fmt.Sprintf("host:web-%d", i+1)})
			s["scope"] = rawJSON(fmt.Sprintf("host:web-%d", i+1))
		}
		series = append(series, s)
	}
	top["series"] = rawJSON(series)
	top["query"] = rawJSON(r.Query)
	top["from_date"] = rawJSON(r.From * 1000)
	top["to_date"] = rawJSON(r.To * 1000)
	b, err := json.Marshal(top)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func readObject(t *testing.T, name string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(readTestdata(t, name), &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func firstSeries(t *testing.T, top map[string]json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var ss []map[string]json.RawMessage
	if err := json.Unmarshal(top["series"], &ss); err != nil || len(ss) == 0 {
		t.Fatalf("template series: %v", err)
	}
	return ss[0]
}

func cloneObj(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

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

// okHeaders are those of a real 200 query answer, rate-limit headers included.
func okHeaders(t *testing.T) http.Header { return metaHeaders(readMeta(t, "v1_query_by_host")) }

func jsonResponse(status int, body string) *response {
	return &response{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(body)}
}

// ---- fake sink, progress, client ----------------------------------------

type memSink struct {
	mu      sync.Mutex
	cursors map[string][]byte
	samples map[string]map[time.Time]float64
	batches []model.Batch
}

func newSink() *memSink {
	return &memSink{cursors: map[string][]byte{}, samples: map[string]map[time.Time]float64{}}
}

func (s *memSink) Cursor(_ context.Context, source, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[source+"/"+key], nil
}

func (s *memSink) Commit(_ context.Context, b model.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, b)
	for id, ss := range b.Samples {
		if s.samples[id] == nil {
			s.samples[id] = map[time.Time]float64{}
		}
		for _, x := range ss {
			s.samples[id][x.Time] = x.Value
		}
	}
	for k, v := range b.Cursors {
		s.cursors[b.Source+"/"+k] = v
	}
	return nil
}

func (s *memSink) setCursor(t *testing.T, id string, c any) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s.cursors[Name+"/"+id] = b
}

func (s *memSink) cursor(t *testing.T, id string) Cursor {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	raw := s.cursors[Name+"/"+id]
	if raw == nil {
		t.Fatalf("no cursor for %s", id)
	}
	var c Cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("cursor %s = %s: %v", id, raw, err)
	}
	return c
}

// sorted returns the samples of id in time order.
func (s *memSink) sorted(id string) []model.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.Sample
	for t, v := range s.samples[id] {
		out = append(out, model.Sample{Time: t, Value: v})
	}
	slices.SortFunc(out, func(a, b model.Sample) int { return a.Time.Compare(b.Time) })
	return out
}

type countProgress struct {
	mu          sync.Mutex
	total, done int64
}

func (p *countProgress) Total(source string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if source == Name {
		p.total += n
	}
}

func (p *countProgress) Done(source string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if source == Name {
		p.done += n
	}
}

// sleeps records the waits the shared transport asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(done <-chan struct{}, d time.Duration) bool {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	select {
	case <-done:
		return false
	default:
		return true
	}
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// testClient is the shared HTTP client with sleeping replaced.
func testClient(s *sleeps) *http.Client {
	return collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, MaxRetries: 5, Sleep: s.sleep})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func bufLogger(b *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
