package honeycomb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/honeycomb"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

const key = "hcaikTESTKEY0000000000000000000000"

var now0 = time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)

// clock is a fake clock whose Sleep advances it.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(_ <-chan struct{}, d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept += d
	return true
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// wave is the fake's series: a value per hour.
func wave(_ string, _ honeycomb.Spec, from, to time.Time) []model.Sample {
	var out []model.Sample
	for t := from.Truncate(time.Hour); t.Before(to); t = t.Add(time.Hour) {
		out = append(out, model.Sample{Time: t, Value: 200 + 50*math.Sin(float64(t.Unix())/86400)})
	}
	return out
}

type setupOpts struct {
	fault   func(*http.Request) int
	chunk   time.Duration
	pending int
	key     string
	dataset string
	timeout time.Duration
	real    bool // real sleeps (polling waits)
}

func setup(t *testing.T, o setupOpts) (*honeycomb.Fake, *honeycomb.Collector, *clock) {
	t.Helper()
	clk := &clock{t: now0}
	fake := &honeycomb.Fake{Key: key, Datasets: []string{"checkout"}, Series: wave, Fault: o.fault, Pending: o.pending, Now: clk.Now}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client := collectors.NewHTTPClient(collectors.HTTPOptions{
		Vendor:    "honeycomb",
		RateLimit: honeycomb.Source().RateLimit,
		Sleep:     func(<-chan struct{}, time.Duration) bool { return true },
	})
	if o.key == "" {
		o.key = key
	}
	if o.dataset == "" {
		o.dataset = "checkout"
	}
	opts := honeycomb.Options{HTTPClient: client, Chunk: o.chunk, PollTimeout: o.timeout, Now: clk.Now, Sleep: clk.Sleep}
	if o.real {
		opts.Sleep, opts.PollInterval = nil, 10*time.Millisecond
	}
	c, err := honeycomb.New(honeycomb.Config{APIKey: config.Secret(o.key), APIURL: srv.URL + "/"},
		[]config.Metric{{ID: "checkout-p99", Source: "honeycomb", In: o.dataset, Query: "P99(duration_ms) WHERE service.name = checkout"}},
		opts)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, clk
}

func TestBackfillOverChunksAndIncremental(t *testing.T) {
	fake, c, clk := setup(t, setupOpts{chunk: 24 * time.Hour})
	sink := &collectorstest.Sink{}
	// A 30-day backfill reads the 7 days the API keeps: from the first
	// whole hour within them to the open hour, 167 hours in 7 daily chunks,
	// 3 requests each (create, run, one poll).
	if err := c.Collect(context.Background(), collectors.Run{Since: now0.Add(-30 * 24 * time.Hour), Backfill: true, Now: now0, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests(); got != 7*3 {
		t.Errorf("backfill requests = %d, want %d (7 chunks × 3)", got, 7*3)
	}
	got := sink.Samples("checkout-p99")
	if len(got) != 167 {
		t.Fatalf("stored %d samples, want 167", len(got))
	}
	if first := got[0].Time; !first.Equal(now0.Add(-7 * 24 * time.Hour).Truncate(time.Hour).Add(time.Hour)) {
		t.Errorf("first sample at %v", first)
	}
	if last := got[len(got)-1].Time; !last.Equal(now0.Truncate(time.Hour).Add(-time.Hour)) {
		t.Errorf("last sample at %v, want the last complete hour", last)
	}
	want := wave("", honeycomb.Spec{}, got[5].Time, got[5].Time.Add(time.Hour))
	if got[5].Value != want[0].Value {
		t.Errorf("sample %v, want %v", got[5].Value, want[0].Value)
	}
	if clk.slept >= time.Minute {
		t.Errorf("waited %v for 7 query results (polls included)", clk.slept)
	}

	tests := []struct {
		name string
		now  time.Time
		want int // requests
	}{
		{"same hour asks nothing", now0.Add(20 * time.Minute), 0},
		// One hour more, read as the 10 hours a query must cover.
		{"next hour asks once", now0.Add(time.Hour), 3},
	}
	for _, tt := range tests {
		clk.set(tt.now)
		before := fake.Requests()
		if err := c.Collect(context.Background(), collectors.Run{Now: tt.now, Sink: sink}); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := fake.Requests() - before; got != tt.want {
			t.Errorf("%s: %d requests, want %d", tt.name, got, tt.want)
		}
	}
	if n := len(sink.Samples("checkout-p99")); n != 168 {
		t.Errorf("after the next hour: %d samples, want 168", n)
	}
}

// TestPacing: 17 query results (10-hour chunks over 7 days) stay within
// 10 a minute: the collector waits instead of meeting 429s.
func TestPacing(t *testing.T) {
	fake, c, clk := setup(t, setupOpts{chunk: honeycomb.MinRange})
	sink := &collectorstest.Sink{}
	if err := c.Collect(context.Background(), collectors.Run{Since: now0.Add(-7 * 24 * time.Hour), Backfill: true, Now: now0, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests(); got != 17*3 {
		t.Errorf("%d requests, want %d (3 per chunk: no 429 retried)", got, 17*3)
	}
	if clk.slept < time.Minute || clk.slept > 2*time.Minute {
		t.Errorf("waited %v, want one minute (and the polls' waits)", clk.slept)
	}
	if n := len(sink.Samples("checkout-p99")); n != 167 {
		t.Errorf("%d samples, want 167", n)
	}
}

func TestErrors(t *testing.T) {
	var n atomic.Int32
	results := func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/1/query_results/")
	}
	tests := []struct {
		name    string
		o       setupOpts
		wantErr []string
	}{
		{"429 with RateLimit twice, then served", setupOpts{fault: func(r *http.Request) int {
			if results(r) && n.Add(1) <= 2 {
				return http.StatusTooManyRequests
			}
			return 0
		}}, nil},
		{"result pending twice", setupOpts{pending: 2}, nil},
		{"bad key", setupOpts{key: "hcaikWRONG-SECRET"}, []string{"create query: 401 Unauthorized: unknown API key", "api_key"}},
		{"unknown dataset", setupOpts{dataset: "chekout"}, []string{"404", "dataset slug"}},
		{"malformed body", setupOpts{fault: func(r *http.Request) int {
			if r.Method == http.MethodGet {
				return -1
			}
			return 0
		}}, []string{"poll result: malformed response"}},
		{"server error", setupOpts{fault: func(*http.Request) int { return http.StatusBadGateway }}, []string{"502"}},
		{"never completes", setupOpts{pending: -1, timeout: 300 * time.Millisecond, real: true},
			[]string{"poll result: result r2 not complete after 300ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.Store(0)
			_, c, _ := setup(t, tt.o)
			start := time.Now()
			err := c.Collect(context.Background(), collectors.Run{Since: now0.Add(-48 * time.Hour), Backfill: true, Now: now0, Sink: &collectorstest.Sink{}})
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v", el)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), key) {
				t.Error("the key leaked into the error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// TestCursorUnchangedOnError: a failed poll stores nothing and leaves the
// cursor where the last good poll put it.
func TestCursorUnchangedOnError(t *testing.T) {
	var fail atomic.Bool
	fake, c, clk := setup(t, setupOpts{})
	fake.Fault = func(r *http.Request) int {
		if fail.Load() && r.Method == http.MethodGet {
			return http.StatusInternalServerError
		}
		return 0
	}
	sink := &collectorstest.Sink{}
	if err := c.Collect(context.Background(), collectors.Run{Backfill: true, Since: now0.Add(-3 * 24 * time.Hour), Now: now0, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	before, _ := sink.Cursor(context.Background(), "honeycomb", "checkout-p99")
	batches := len(sink.Batches)
	fail.Store(true)
	later := now0.Add(5 * time.Hour)
	clk.set(later)
	if err := c.Collect(context.Background(), collectors.Run{Now: later, Sink: sink}); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v, want a 500", err)
	}
	after, _ := sink.Cursor(context.Background(), "honeycomb", "checkout-p99")
	if !bytes.Equal(before, after) || len(sink.Batches) != batches {
		t.Fatalf("cursor %s → %s, %d new batches", before, after, len(sink.Batches)-batches)
	}
	fail.Store(false)
	if err := c.Collect(context.Background(), collectors.Run{Now: later, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	var cur collectors.RangeCursor
	after, _ = sink.Cursor(context.Background(), "honeycomb", "checkout-p99")
	if err := json.Unmarshal(after, &cur); err != nil || !cur.Through.Equal(later.Truncate(time.Hour)) {
		t.Fatalf("cursor after recovery %s, want through %v", after, later.Truncate(time.Hour))
	}
}

// TestDocumentedResult decodes the documented result shape
// (testdata/SOURCES.md).
func TestDocumentedResult(t *testing.T) {
	raw, err := os.ReadFile("testdata/query_result.json")
	if err != nil {
		t.Fatal(err)
	}
	var r honeycomb.Result
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Complete || r.Data == nil {
		t.Fatal("the documented result is complete with data")
	}
	ss, err := honeycomb.Samples(r.Data.Series, "P99(duration_ms)")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 4 || ss[0].Value != 212.4 || ss[3].Value != 205 || !ss[3].Time.Equal(time.Date(2025, 12, 6, 5, 0, 0, 0, time.UTC)) {
		t.Fatalf("samples %v", ss)
	}
	var p honeycomb.Problem
	raw, err = os.ReadFile("testdata/rate_limited.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.Status != 429 || p.Error == "" {
		t.Fatalf("problem %+v, %v", p, err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr, endpoint string
	}{
		{"us default", "api_key: k\n", "", "https://api.honeycomb.io"},
		{"eu", "api_key: k\nregion: EU\n", "", "https://api.eu1.honeycomb.io"},
		{"api_url", "api_key: k\napi_url: https://hny.example.com/\n", "", "https://hny.example.com"},
		{"bad region", "api_key: k\nregion: mars\n", `c.yaml:6: sources.honeycomb.region: unknown value "mars"`, ""},
		{"no key", "region: us\n", "sources.honeycomb.api_key", ""},
		{"unknown key", "api_key: k\ndataset: x\n", `c.yaml:6: sources.honeycomb: unknown key "dataset"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "me: {github: alice}\nsources:\n  github: {token: t, repos: [acme/a]}\n  honeycomb:\n" + indent(tt.yaml, "    ")
			cfg, err := config.ParseWith([]byte(doc), "c.yaml", config.LoadOptions{Sources: []config.SourceType{github.Source().Config, honeycomb.Source().Config}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := config.SourceAs[honeycomb.Config](cfg, "honeycomb").Endpoint(); got != tt.endpoint {
				t.Errorf("endpoint %q, want %q", got, tt.endpoint)
			}
		})
	}
}

func TestMetricRules(t *testing.T) {
	doc := `me: {github: alice}
sources:
  honeycomb: {api_key: k}
metrics:
  - {id: a, source: honeycomb, unit: ms, better: lower, query: "P99(duration_ms)"}
  - {id: b, source: honeycomb, in: checkout, unit: ms, better: lower, query: "HEATMAP(duration_ms)"}
  - {id: c, source: honeycomb, in: "check out", unit: ms, better: lower, query: "AVG(duration_ms)"}
  - {id: d, source: honeycomb, in: checkout, unit: ms, better: lower, query: '{"calculations":[{"op":"P95","column":"duration_ms"}],"breakdowns":["route"]}'}
  - {id: e, source: honeycomb, in: __all__, unit: count, better: lower, query: "COUNT WHERE error exists"}
`
	_, err := config.ParseWith([]byte(doc), "c.yaml", config.LoadOptions{Sources: []config.SourceType{github.Source().Config, honeycomb.Source().Config}})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		"c.yaml:5: metrics[0].in: required",
		"c.yaml:6: metrics[1].query: HEATMAP is no number",
		`c.yaml:7: metrics[2].in: invalid dataset slug "check out"`,
		"c.yaml:8: metrics[3].query: leave out breakdowns",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "metrics[4]") {
		t.Errorf("metrics[4] is fine:\n%v", err)
	}
}

func indent(s, p string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = p + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestInstantResult: a result complete at creation is read without
// polling (2 requests a chunk).
func TestInstantResult(t *testing.T) {
	fake, c, _ := setup(t, setupOpts{})
	fake.Instant = true
	sink := &collectorstest.Sink{}
	if err := c.Collect(context.Background(), collectors.Run{Since: now0.Add(-2 * 24 * time.Hour), Backfill: true, Now: now0, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests(); got != 2 {
		t.Errorf("%d requests, want 2 (create, run)", got)
	}
	if n := len(sink.Samples("checkout-p99")); n != 48 {
		t.Errorf("%d samples, want 48", n)
	}
}
