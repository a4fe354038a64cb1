package datadog

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

const (
	testAPIKey = "dd-api-key-0123456789"
	testAppKey = "dd-app-key-abcdef"
	testQuery  = "p99:trace.http.request.duration{service:search-api,env:prod}"
)

// now is a poll time in the middle of an hour.
var now = time.Date(2026, 3, 1, 14, 23, 17, 0, time.UTC)

func source(apiURL string) Config {
	return Config{APIKey: testAPIKey, AppKey: testAppKey, APIURL: apiURL}
}

func ddMetric(id, query string) config.Metric {
	return config.Metric{ID: id, Name: id, Source: "datadog", Query: query, Unit: "ms", Better: "lower", Category: "performance"}
}

// newTest builds a collector against f for the given metrics.
func newTest(t *testing.T, f *fakeDD, opt Options, metrics ...config.Metric) (*Collector, *collectorstest.Sleeps) {
	t.Helper()
	sl := &collectorstest.Sleeps{}
	if opt.HTTPClient == nil {
		opt.HTTPClient = testClient(sl)
	}
	if len(metrics) == 0 {
		metrics = []config.Metric{ddMetric("search-p99", testQuery)}
	}
	c, err := New(source(f.srv.URL+f.prefix), metrics, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

func hourly(from, to time.Time) []time.Time {
	var out []time.Time
	for t := from; !t.After(to); t = t.Add(time.Hour) {
		out = append(out, t)
	}
	return out
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		fixture     string
		n           int
		first, last float64 // values
		firstMS     int64
		lastMS      int64
	}{
		{"v1_query", 288, 94.31900300343831, 94.11299427350362, 1623846300000, 1623932400000},                  // float timestamps
		{"v1_query_2022_reserialized", 288, 91.4583840476142, 92.57754687873684, 1641344100000, 1641430200000}, // int timestamps
		{"v1_query_by_host", 2, 10.5, 11.0, 1618221135000, 1618221195000},                                      // by {host}
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			// Poll over the recorded request's range.
			u, err := url.Parse(readMeta(t, tt.fixture).RequestURL)
			if err != nil {
				t.Fatal(err)
			}
			from, _ := strconv.ParseInt(u.Query().Get("from"), 10, 64)
			to, _ := strconv.ParseInt(u.Query().Get("to"), 10, 64)
			since, until := time.Unix(from, 0).UTC(), time.Unix(to, 0).UTC()

			f := newFake(t)
			f.respond = func(int, request) *response { return fixture(t, tt.fixture) }
			c, _ := newTest(t, f, Options{})
			sink := newSink()
			if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: until, Sink: sink}); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if len(reqs) != 1 || reqs[0].From != since.Truncate(time.Hour).Unix() || reqs[0].To != to {
				t.Fatalf("requests = %+v, want one from %d to %d", reqs, since.Truncate(time.Hour).Unix(), to)
			}
			got := sink.Samples("search-p99")
			if len(got) != tt.n {
				t.Fatalf("got %d samples, want %d", len(got), tt.n)
			}
			if got[0].Time != time.UnixMilli(tt.firstMS).UTC() || got[0].Value != tt.first {
				t.Errorf("first = %v, want %v %v", got[0], time.UnixMilli(tt.firstMS).UTC(), tt.first)
			}
			if l := got[len(got)-1]; l.Time != time.UnixMilli(tt.lastMS).UTC() || l.Value != tt.last {
				t.Errorf("last = %v, want %v %v", l, time.UnixMilli(tt.lastMS).UTC(), tt.last)
			}
			for _, s := range got {
				if s.Time.Location() != time.UTC || s.Time.Nanosecond() != 0 {
					t.Fatalf("sample time %v not UTC seconds", s.Time)
				}
			}
			if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(until.Truncate(time.Hour)) {
				t.Errorf("cursor through = %v, want %v", cur.Through, until.Truncate(time.Hour))
			}
		})
	}
}

func TestBackfillChunks(t *testing.T) {
	since := now.Add(-90 * 24 * time.Hour)
	start := since.Truncate(time.Hour)
	tests := []struct {
		name  string
		chunk time.Duration
		n     int
	}{
		{"default 62d", 0, 2},
		{"7d", 7 * 24 * time.Hour, 13},
		{"30d", 30 * 24 * time.Hour, 3},
		{"1d", 24 * time.Hour, 90},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			c, _ := newTest(t, f, Options{Chunk: tt.chunk})
			sink, prog := newSink(), &collectorstest.Progress{Source: Name}
			err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Sink: sink, Progress: prog})
			if err != nil {
				t.Fatal(err)
			}
			step := tt.chunk
			if step == 0 {
				step = DefaultChunk
			}
			reqs := f.requests()
			if len(reqs) != tt.n {
				t.Fatalf("%d requests, want %d", len(reqs), tt.n)
			}
			for i, r := range reqs {
				from := start.Add(time.Duration(i) * step)
				to := from.Add(step)
				if i == tt.n-1 {
					to = now
				}
				if r.From != from.Unix() || r.To != to.Unix() {
					t.Errorf("request %d: from=%d to=%d, want from=%d (%v) to=%d (%v)", i, r.From, r.To, from.Unix(), from, to.Unix(), to)
				}
				if r.Query != testQuery+".rollup(avg, 3600)" {
					t.Errorf("request %d: query %q", i, r.Query)
				}
				if r.APIKey != testAPIKey || r.AppKey != testAppKey {
					t.Errorf("request %d: keys %q %q", i, r.APIKey, r.AppKey)
				}
			}
			// One commit per chunk, each with its own cursor; the last stops
			// at the open hour.
			if len(sink.Batches) != tt.n {
				t.Fatalf("%d commits, want %d", len(sink.Batches), tt.n)
			}
			for i, b := range sink.Batches {
				want := start.Add(time.Duration(i+1) * step)
				if i == tt.n-1 {
					want = now.Truncate(time.Hour)
				}
				var cur Cursor
				if err := json.Unmarshal(b.Cursors["search-p99"], &cur); err != nil || !cur.Through.Equal(want) || b.Source != "datadog" {
					t.Errorf("commit %d: source %q cursor %s, want through %v", i, b.Source, b.Cursors["search-p99"], want)
				}
			}
			got := sink.Samples("search-p99")
			want := hourly(start, now.Truncate(time.Hour)) // the open hour too
			if len(got) != len(want) {
				t.Fatalf("%d samples, want %d", len(got), len(want))
			}
			for i, s := range got {
				if !s.Time.Equal(want[i]) || s.Value != synthValue(0, want[i].Unix()) {
					t.Fatalf("sample %d = %v, want %v %v", i, s, want[i], synthValue(0, want[i].Unix()))
				}
			}
			if total, done := prog.Counts(); total != int64(tt.n) || done != int64(tt.n) {
				t.Errorf("progress total %d done %d, want %d", total, done, tt.n)
			}
		})
	}
}

func TestPoints(t *testing.T) {
	day := now.Add(-48 * time.Hour)
	tests := []struct {
		name  string
		synth synthOpts
		skip  func(t int64) bool // hours that must be absent
	}{
		{name: "float timestamps", synth: synthOpts{}},
		{name: "int timestamps", synth: synthOpts{intTS: true}},
		{name: "millisecond fractions truncated to the second", synth: synthOpts{msExtra: 123.5}},
		{
			name: "null points skipped",
			synth: synthOpts{null: func(t int64) string {
				switch h := t / 3600; {
				case h%5 == 0:
					return "value"
				case h%7 == 0:
					return "time"
				case h%11 == 0:
					return "both"
				}
				return ""
			}},
			skip: func(t int64) bool { h := t / 3600; return h%5 == 0 || h%7 == 0 || h%11 == 0 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.synth = tt.synth
			c, _ := newTest(t, f, Options{})
			sink := newSink()
			if err := c.Collect(context.Background(), collectors.Run{Since: day, Now: now, Sink: sink}); err != nil {
				t.Fatal(err)
			}
			var want []time.Time
			for _, h := range hourly(day.Truncate(time.Hour), now.Truncate(time.Hour)) {
				if tt.skip == nil || !tt.skip(h.Unix()) {
					want = append(want, h)
				}
			}
			got := sink.Samples("search-p99")
			if len(got) != len(want) {
				t.Fatalf("%d samples, want %d", len(got), len(want))
			}
			for i := range got {
				if !got[i].Time.Equal(want[i]) || got[i].Value != synthValue(0, want[i].Unix()) {
					t.Fatalf("sample %d = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestIncremental(t *testing.T) {
	q := testQuery + RollupSuffix
	since := now.Add(-7 * 24 * time.Hour).Truncate(time.Hour)
	t10 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		cursor   any // nil: none
		backfill bool
		wantFrom time.Time // zero: no request
	}{
		{name: "from cursor", cursor: Cursor{Through: t10, Query: q}, wantFrom: t10},
		{name: "cursor without query", cursor: map[string]string{"through": t10.Format(time.RFC3339)}, wantFrom: t10},
		{name: "query changed", cursor: Cursor{Through: t10, Query: "avg:other{*}" + RollupSuffix}, wantFrom: since},
		{name: "backfill ignores cursor", cursor: Cursor{Through: t10, Query: q}, backfill: true, wantFrom: since},
		{name: "unreadable cursor", cursor: "garbage", wantFrom: since},
		{name: "no cursor", wantFrom: since},
		// No hour completed since the last poll: nothing to ask.
		{name: "cursor at the open hour", cursor: Cursor{Through: now.Truncate(time.Hour), Query: q}},
		{name: "cursor ahead of now", cursor: Cursor{Through: now.Add(2 * time.Hour).Truncate(time.Hour), Query: q}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			c, _ := newTest(t, f, Options{})
			sink := newSink()
			if tt.cursor != nil {
				sink.setCursor(t, "search-p99", tt.cursor)
			}
			err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Backfill: tt.backfill, Sink: sink})
			if err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if tt.wantFrom.IsZero() {
				if len(reqs) != 0 || len(sink.Batches) != 0 {
					t.Fatalf("requests %v, commits %d; want none", reqs, len(sink.Batches))
				}
				return
			}
			if len(reqs) != 1 || reqs[0].From != tt.wantFrom.Unix() || reqs[0].To != now.Unix() {
				t.Fatalf("requests = %+v, want one from %v to %v", reqs, tt.wantFrom, now)
			}
			if got, want := len(sink.Samples("search-p99")), len(hourly(tt.wantFrom, now.Truncate(time.Hour))); got != want {
				t.Errorf("%d samples, want %d", got, want)
			}
			if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(now.Truncate(time.Hour)) || cur.Query != q {
				t.Errorf("cursor = %+v", cur)
			}
		})
	}
}

// The still-open hour is stored, then read again (and overwritten) next poll.
func TestOpenHourReRead(t *testing.T) {
	f := newFake(t)
	f.synth.partialMarker = 1000
	c, _ := newTest(t, f, Options{})
	sink := newSink()
	since := now.Add(-6 * time.Hour)
	for _, at := range []time.Time{now, now.Add(time.Hour)} {
		if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: at, Sink: sink}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[1].From != now.Truncate(time.Hour).Unix() || reqs[1].To != now.Add(time.Hour).Unix() {
		t.Fatalf("requests = %+v", reqs)
	}
	got := sink.Samples("search-p99")
	open := now.Truncate(time.Hour)
	for _, s := range got {
		want := synthValue(0, s.Time.Unix())
		if s.Time.Equal(open.Add(time.Hour)) {
			want += 1000 // the new open hour
		}
		if s.Value != want {
			t.Errorf("%v = %v, want %v", s.Time, s.Value, want)
		}
	}
	if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(open.Add(time.Hour)) {
		t.Errorf("cursor = %v", cur.Through)
	}
}

func TestAPIURL(t *testing.T) {
	for _, prefix := range []string{"", "/dd-proxy"} {
		for _, suffix := range []string{"", "/"} {
			t.Run("prefix="+prefix+suffix, func(t *testing.T) {
				f := newFake(t)
				f.prefix = prefix
				c, err := New(source(f.srv.URL+prefix+suffix), []config.Metric{ddMetric("m", "avg:x{*}")}, Options{HTTPClient: testClient(&collectorstest.Sleeps{})})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-3 * time.Hour), Now: now, Sink: newSink()}); err != nil {
					t.Fatal(err)
				}
				reqs := f.requests()
				if len(reqs) != 1 || reqs[0].Path != prefix+"/api/v1/query" || !strings.HasPrefix(reqs[0].Host, "127.0.0.1:") {
					t.Fatalf("requests = %+v", reqs)
				}
			})
		}
	}
}

func TestSite(t *testing.T) {
	tests := []struct{ site, host string }{
		{"", "api.datadoghq.com"},
		{"datadoghq.com", "api.datadoghq.com"},
		{"datadoghq.eu", "api.datadoghq.eu"},
		{"us3.datadoghq.com", "api.us3.datadoghq.com"},
		{"us5.datadoghq.com", "api.us5.datadoghq.com"},
		{"ap1.datadoghq.com", "api.ap1.datadoghq.com"},
		{"ddog-gov.com", "api.ddog-gov.com"},
		{"app.datadoghq.eu", "api.datadoghq.eu"},                // pasted from the browser
		{"https://us3.datadoghq.com/", "api.us3.datadoghq.com"}, // pasted URL
		{"xx9.datadoghq.com", "api.xx9.datadoghq.com"},          // a site newer than the client
	}
	for _, tt := range tests {
		t.Run(tt.site, func(t *testing.T) {
			f := newFake(t)
			var got []string
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got = append(got, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
				w := httptest.NewRecorder()
				f.ServeHTTP(w, r)
				return w.Result(), nil
			})}
			src := source("")
			src.Site = tt.site
			c, err := New(src, []config.Metric{ddMetric("m", "avg:x{*}")}, Options{HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-time.Hour), Now: now, Sink: newSink()}); err != nil {
				t.Fatal(err)
			}
			if want := "https://" + tt.host + "/api/v1/query"; len(got) != 1 || got[0] != want {
				t.Fatalf("requested %v, want %s", got, want)
			}
		})
	}
}

func TestRollup(t *testing.T) {
	tests := []struct{ query, sent string }{
		{"avg:x{*}", "avg:x{*}.rollup(avg, 3600)"},
		{"  " + testQuery + " \n", testQuery + ".rollup(avg, 3600)"},
		{"avg:x{*}.rollup(max, 3600)", "avg:x{*}.rollup(max, 3600)"},
		{"sum:hits{*}.as_count().rollup(sum, 3600)", "sum:hits{*}.as_count().rollup(sum, 3600)"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := RollupQuery(tt.query); got != tt.sent {
				t.Errorf("RollupQuery = %q, want %q", got, tt.sent)
			}
			if got := RollupQuery(RollupQuery(tt.query)); got != tt.sent {
				t.Errorf("RollupQuery twice = %q", got)
			}
			f := newFake(t)
			c, _ := newTest(t, f, Options{}, ddMetric("m", tt.query))
			sink := newSink()
			// Two polls: the query is not extended again, the cursor is kept.
			for _, at := range []time.Time{now, now.Add(2 * time.Hour)} {
				if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-3 * time.Hour), Now: at, Sink: sink}); err != nil {
					t.Fatal(err)
				}
			}
			reqs := f.requests()
			if len(reqs) != 2 || reqs[0].Query != tt.sent || reqs[1].Query != tt.sent || reqs[1].From != now.Truncate(time.Hour).Unix() {
				t.Fatalf("requests = %+v", reqs)
			}
		})
	}
}

// Retries are the shared transport's; the Datadog client's own stay off.
func TestRetries(t *testing.T) {
	rl := readMeta(t, "v2_logs_search_429")
	tests := []struct {
		name     string
		fail     []*response
		minSleep time.Duration // the longest wait asked must be at least this
	}{
		{
			name:     "429 with X-Ratelimit-Reset",
			fail:     []*response{{status: 429, header: metaHeaders(rl), body: []byte(`{"errors":["Rate limit exceeded"]}`)}},
			minSleep: time.Second, // X-Ratelimit-Reset: 1 (seconds until reset)
		},
		{
			name: "5xx burst",
			fail: []*response{
				jsonResponse(502, `{"errors":["Bad Gateway"]}`),
				{status: 503, header: http.Header{"Content-Type": {"text/html"}}, body: []byte("<html>503 Service Unavailable</html>")},
				jsonResponse(500, `{"errors":["Internal Server Error"]}`),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.respond = func(n int, _ request) *response {
				if n < len(tt.fail) {
					return tt.fail[n]
				}
				return nil
			}
			c, sl := newTest(t, f, Options{})
			sink := newSink()
			if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: sink}); err != nil {
				t.Fatalf("Collect: %v (shared transport should retry)", err)
			}
			if n := len(f.requests()); n != len(tt.fail)+1 {
				t.Errorf("%d requests, want %d", n, len(tt.fail)+1)
			}
			waits := sl.All()
			t.Logf("waits: %v", waits)
			if len(waits) < len(tt.fail) {
				t.Errorf("waits %v, want %d", waits, len(tt.fail))
			}
			if tt.minSleep > 0 && (len(waits) == 0 || waits[0] < tt.minSleep) {
				t.Errorf("waits %v, want the first ≥ %v", waits, tt.minSleep)
			}
			if got := len(sink.Samples("search-p99")); got != 25 {
				t.Errorf("%d samples, want 25", got)
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		name   string
		resp   func(t *testing.T) *response
		want   string
		status int
	}{
		{"403 fixture", func(t *testing.T) *response { return fixture(t, "v1_query_403") }, "datadog: query search-p99: 403 Forbidden", 403},
		{"403 with reason", func(*testing.T) *response {
			return jsonResponse(403, `{"status":"error","code":403,"errors":["Invalid Application Key"]}`)
		}, "datadog: query search-p99: 403 Forbidden: Invalid Application Key", 403},
		{"400 multi-line reason", func(*testing.T) *response {
			return jsonResponse(400, `{"status":"error","code":400,"errors":["Error parsing query: \n unable to parse p99:x{: Rule 'scope_expr' didn't match"]}`)
		}, "datadog: query search-p99: 400 Bad Request: Error parsing query: unable to parse p99:x{: Rule 'scope_expr' didn't match", 400},
		{"404 html", func(*testing.T) *response {
			return &response{status: 404, header: http.Header{"Content-Type": {"text/html"}}, body: []byte("<html>not here</html>")}
		}, "datadog: query search-p99: 404 Not Found", 404},
		{"long reason cut", func(*testing.T) *response {
			return jsonResponse(400, `{"errors":["`+strings.Repeat("x", 500)+`"]}`)
		}, "datadog: query search-p99: 400 Bad Request: " + strings.Repeat("x", 199) + "…", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Two metrics; the first fails on its third chunk.
			f := newFake(t)
			f.respond = func(n int, r request) *response {
				if strings.HasPrefix(r.Query, "p99:") && n == 2 {
					return tt.resp(t)
				}
				return nil
			}
			c, _ := newTest(t, f, Options{Chunk: 30 * 24 * time.Hour}, ddMetric("search-p99", testQuery), ddMetric("checkout-errors", "sum:errors{service:checkout}.as_count()"))
			sink, prog := newSink(), &collectorstest.Progress{Source: Name}
			since := now.Add(-90 * 24 * time.Hour)
			err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Sink: sink, Progress: prog})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), testAPIKey) || strings.Contains(err.Error(), testAppKey) {
				t.Errorf("error not one clean line: %q", err)
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.StatusCode != tt.status || qe.Metric != "search-p99" {
				t.Errorf("QueryError = %+v", qe)
			}
			// The first two chunks are kept, with the cursor after them.
			start := since.Truncate(time.Hour)
			if got, want := len(sink.Samples("search-p99")), 60*24; got != want {
				t.Errorf("search-p99: %d samples kept, want %d", got, want)
			}
			if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(start.Add(60 * 24 * time.Hour)) {
				t.Errorf("search-p99 cursor = %v", cur.Through)
			}
			// The other metric is collected in full.
			if got, want := len(sink.Samples("checkout-errors")), len(hourly(start, now.Truncate(time.Hour))); got != want {
				t.Errorf("checkout-errors: %d samples, want %d", got, want)
			}
			if total, done := prog.Counts(); total != 6 || done != 6 {
				t.Errorf("progress %d/%d, want 6/6", done, total)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	html := &response{status: 200, header: http.Header{"Content-Type": {"text/html"}}, body: []byte("<html><body>Login</body></html>")}
	tests := []struct {
		name string
		resp *response
		want string // prefix of the error
	}{
		{"html", html, "datadog: query search-p99: malformed response (200 OK, text/html): "},
		{"truncated", jsonResponse(200, `{"status":"ok","series":[{"pointlist":[[1772380800000.0,1.5],[17723`), "datadog: query search-p99: malformed response (200 OK, application/json): "},
		{"series not a list", jsonResponse(200, `{"status":"ok","series":"nope"}`), "datadog: query search-p99: malformed response: body does not match the v1 query response schema"},
		{"point not a pair", jsonResponse(200, `{"status":"ok","series":[{"pointlist":[[1772380800000.0,1.5,3]]}]}`), "datadog: query search-p99: malformed response: series 0 point 0 has 3 elements"},
		{"point value a string", jsonResponse(200, `{"status":"ok","series":[{"pointlist":[[1772380800000.0,"1.5"]]}]}`), "datadog: query search-p99: malformed response: series 0 does not match the schema"},
		{"empty object", jsonResponse(200, `{}`), "datadog: query search-p99: malformed response: no status and no series"},
		{"empty body", jsonResponse(200, ``), "datadog: query search-p99: malformed response: no status and no series"},
		{"status error", jsonResponse(200, `{"status":"error","error":"Rule 'scope_expr' didn't match"}`), "datadog: query search-p99: 200 OK with error: Rule 'scope_expr' didn't match"},
	}
	t10 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.respond = func(int, request) *response { return tt.resp }
			c, _ := newTest(t, f, Options{})
			sink := newSink()
			sink.setCursor(t, "search-p99", Cursor{Through: t10, Query: testQuery + RollupSuffix})
			err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: sink})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v\nwant prefix %s", err, tt.want)
			}
			if len(sink.Batches) != 0 {
				t.Errorf("%d commits after a malformed body", len(sink.Batches))
			}
			if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(t10) {
				t.Errorf("cursor moved to %v", cur.Through)
			}
		})
	}
}

func TestSeveralSeriesAveraged(t *testing.T) {
	f := newFake(t)
	f.synth.series = 3
	var logs collectorstest.Buffer
	c, _ := newTest(t, f, Options{Logger: bufLogger(&logs)})
	sink := newSink()
	if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-90 * 24 * time.Hour), Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	for _, s := range sink.Samples("search-p99") {
		// series i reports base + 10·i: the mean of 0, 10, 20 is +10.
		if want := synthValue(0, s.Time.Unix()) + 10; s.Value != want {
			t.Fatalf("%v = %v, want %v", s.Time, s.Value, want)
		}
	}
	if n := strings.Count(logs.String(), "several series"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logs.String())
	}
}

func TestCanceled(t *testing.T) {
	f := newFake(t)
	c, _ := newTest(t, f, Options{}, ddMetric("a", "avg:a{*}"), ddMetric("b", "avg:b{*}"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := newSink()
	prog := &collectorstest.Progress{Source: Name}
	err := c.Collect(ctx, collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: sink, Progress: prog})
	if !errors.Is(err, context.Canceled) || len(sink.Batches) != 0 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %q, %d commits", err, len(sink.Batches))
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests after cancel", n)
	}
	if total, done := prog.Counts(); total != 2 || done != 2 {
		t.Errorf("progress %d/%d", done, total)
	}
}

func TestNew(t *testing.T) {
	good := []config.Metric{ddMetric("a", "avg:a{*}")}
	tests := []struct {
		name    string
		src     Config
		metrics []config.Metric
		chunk   time.Duration
		want    string // error substring; "" = ok
	}{
		{name: "ok", src: source(""), metrics: good},
		{name: "no api key", src: Config{AppKey: "x"}, metrics: good, want: "datadog: api_key is not set"},
		{name: "no app key", src: Config{APIKey: "x"}, metrics: good, want: "datadog: app_key is not set"},
		{name: "chunk not whole hours", src: source(""), metrics: good, chunk: 90 * time.Minute, want: "whole number of hours"},
		{name: "chunk too large", src: source(""), metrics: good, chunk: MaxChunk + time.Hour, want: "whole number of hours"},
		{name: "api_url without scheme", src: source("localhost:8080"), metrics: good, want: "want http(s)://"},
		{name: "api_url ftp", src: source("ftp://example.com"), metrics: good, want: "want http(s)://"},
		{name: "api_url credentials", src: source("https://user:hunter2@proxy.example.com"), metrics: good, want: "must not carry credentials"},
		{name: "metric without query", src: source(""), metrics: []config.Metric{ddMetric("a", " ")}, want: "datadog: metric a has no query"},
		{name: "other sources ignored", src: source(""), metrics: []config.Metric{{ID: "p", Source: "prometheus"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.src, tt.metrics, Options{Chunk: tt.chunk})
			if tt.want == "" {
				if err != nil || c.Name() != "datadog" {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password: %v", err)
			}
		})
	}
}

func TestTransportError(t *testing.T) {
	f := newFake(t)
	f.srv.Close() // connection refused
	c, _ := newTest(t, f, Options{}, ddMetric("m", "avg:x{*}"))
	sink := newSink()
	err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-time.Hour), Now: now, Sink: sink})
	if err == nil || !strings.HasPrefix(err.Error(), "datadog: query m: ") || strings.Contains(err.Error(), "\n") ||
		strings.Contains(err.Error(), "/api/v1/query?") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	if len(sink.Batches) != 0 {
		t.Errorf("%d commits", len(sink.Batches))
	}
}

// failSink fails its n-th commit (0-based).
type failSink struct {
	*memSink
	n     int
	calls int
}

func (s *failSink) Commit(ctx context.Context, b model.Batch) error {
	defer func() { s.calls++ }()
	if s.calls == s.n {
		return errors.New("disk full")
	}
	return s.memSink.Commit(ctx, b)
}

func TestCommitError(t *testing.T) {
	f := newFake(t)
	c, _ := newTest(t, f, Options{Chunk: 30 * 24 * time.Hour}, ddMetric("a", "avg:a{*}"), ddMetric("b", "avg:b{*}"))
	sink := &failSink{memSink: newSink(), n: 1}
	prog := &collectorstest.Progress{Source: Name}
	err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-90 * 24 * time.Hour), Now: now, Sink: sink, Progress: prog})
	if err == nil || err.Error() != "datadog: store a: disk full" {
		t.Fatalf("err = %v", err)
	}
	// a stops after its first chunk; b is collected in full.
	if n := len(f.requests()); n != 2+3 {
		t.Errorf("%d requests, want 5", n)
	}
	if got := sink.cursor(t, "b"); !got.Through.Equal(now.Truncate(time.Hour)) {
		t.Errorf("b cursor = %v", got.Through)
	}
	if total, done := prog.Counts(); total != 6 || done != 6 {
		t.Errorf("progress %d/%d", done, total)
	}
}
