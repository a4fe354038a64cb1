package prometheus

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// checkSamples compares the stored samples of metric i (0 search-p99, 1
// checkout-errors) with the test world's good hours from..to.
func checkSamples(t *testing.T, sink *memSink, id string, i int, from, to time.Time) {
	t.Helper()
	got := sink.Samples(id)
	want := hourly(from, to)
	if len(got) != len(want) {
		t.Fatalf("%s: %d samples, want %d", id, len(got), len(want))
	}
	for k, s := range got {
		if !s.Time.Equal(want[k]) || s.Value != testValue(i, want[k]) || s.Time.Location() != time.UTC {
			t.Fatalf("%s: sample %d = %v, want %v %v", id, k, s, want[k], testValue(i, want[k]))
		}
	}
}

func TestBackfillSplit(t *testing.T) {
	since := now.Add(-30 * 24 * time.Hour)
	start := since.Truncate(time.Hour) // 720 whole hours to open, and open: 721 evaluation times
	tests := []struct {
		name  string
		chunk time.Duration
		n     int
	}{
		{"100 hours", 100 * time.Hour, 8},
		{"720 hours, one request", 720 * time.Hour, 1},
		{"719 hours", 719 * time.Hour, 2},
		{"1 hour", time.Hour, 720},
		{"default", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			c, _ := newTest(t, f, Options{Chunk: tt.chunk})
			sink, prog := newSink(), &collectorstest.Progress{Source: Name}
			if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Sink: sink, Progress: prog}); err != nil {
				t.Fatal(err)
			}
			span := tt.chunk
			if span == 0 {
				span = DefaultChunk
			}
			reqs := f.requests()
			if len(reqs) != tt.n {
				t.Fatalf("%d requests, want %d", len(reqs), tt.n)
			}
			for i, r := range reqs {
				// Each request evaluates the hours of its chunk; the last
				// also the open hour's start.
				first := start.Add(time.Duration(i) * span)
				last, max := first.Add(span-time.Hour), int(span/time.Hour)
				if i == tt.n-1 {
					last, max = open, max+1
				}
				if r.Method != http.MethodPost || r.ContentType != "application/x-www-form-urlencoded" || r.Query != testQuery ||
					r.Step != "3600" || !r.Start.Equal(first) || !r.End.Equal(last) || r.points(t) > max || r.points(t) > MaxPoints {
					t.Fatalf("request %d = %+v, want POST %v…%v step 3600", i, r, first, last)
				}
			}
			// One commit per request, each with its cursor; the last one
			// stops at the last complete step, read again next time.
			if len(sink.Batches) != tt.n {
				t.Fatalf("%d commits, want %d", len(sink.Batches), tt.n)
			}
			for i, b := range sink.Batches {
				want := start.Add(time.Duration(i+1) * span)
				if i == tt.n-1 {
					want = open
				}
				var cur Cursor
				if err := json.Unmarshal(b.Cursors["search-p99"], &cur); err != nil || !cur.Through.Equal(want) || cur.Query != testQuery || b.Source != Name {
					t.Errorf("commit %d: source %q cursor %s, want through %v", i, b.Source, b.Cursors["search-p99"], want)
				}
			}
			checkSamples(t, sink, "search-p99", 0, start, open)
			if total, done := prog.Counts(); total != int64(tt.n) || done != int64(tt.n) {
				t.Errorf("progress %d/%d, want %d", done, total, tt.n)
			}
		})
	}
}

// A backfill longer than the default request: 500 days at 10,000 hours a
// request is two requests, the first of exactly 10,000 points.
func TestDefaultChunkSplit(t *testing.T) {
	f := newFake(t)
	c, _ := newTest(t, f, Options{})
	sink := newSink()
	since := now.Add(-500 * 24 * time.Hour)
	if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if n := int(DefaultChunk / time.Hour); len(reqs) != 2 || reqs[0].points(t) != n || reqs[1].points(t) != 500*24+1-n {
		t.Fatalf("requests %+v", reqs)
	}
	checkSamples(t, sink, "search-p99", 0, since.Truncate(time.Hour), open)
}

func TestNaNAndInfSkipped(t *testing.T) {
	f := newFake(t)
	c, _ := newTest(t, f, Options{})
	sink := newSink()
	since := now.Add(-20 * 24 * time.Hour)
	if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for t0 := since.Truncate(time.Hour); !t0.After(open); t0 = t0.Add(time.Hour) {
		if badHour(t0) {
			bad++
		}
	}
	if bad < 10 {
		t.Fatalf("only %d NaN/Inf hours in the range; the test proves little", bad)
	}
	checkSamples(t, sink, "search-p99", 0, since.Truncate(time.Hour), open)
}

func TestIncremental(t *testing.T) {
	since := now.Add(-7 * 24 * time.Hour).Truncate(time.Hour)
	t10 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		cursor   any // nil: none
		backfill bool
		wantFrom time.Time // zero: no request
	}{
		{name: "from cursor", cursor: Cursor{Through: t10, Query: testQuery}, wantFrom: t10},
		{name: "cursor without query", cursor: map[string]string{"through": t10.Format(time.RFC3339)}, wantFrom: t10},
		{name: "cursor off the step", cursor: Cursor{Through: t10.Add(20 * time.Minute), Query: testQuery}, wantFrom: t10},
		{name: "query changed", cursor: Cursor{Through: t10, Query: "up"}, wantFrom: since},
		{name: "backfill ignores cursor", cursor: Cursor{Through: t10, Query: testQuery}, backfill: true, wantFrom: since},
		{name: "unreadable cursor", cursor: "garbage", wantFrom: since},
		{name: "no cursor", wantFrom: since},
		// No step completed since the last poll: nothing to ask.
		{name: "cursor at the last complete step", cursor: Cursor{Through: open, Query: testQuery}},
		{name: "cursor ahead of now", cursor: Cursor{Through: open.Add(2 * time.Hour), Query: testQuery}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			c, _ := newTest(t, f, Options{})
			sink := newSink()
			if tt.cursor != nil {
				sink.setCursor(t, "search-p99", tt.cursor)
			}
			if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Backfill: tt.backfill, Sink: sink}); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if tt.wantFrom.IsZero() {
				if len(reqs) != 0 || len(sink.Batches) != 0 {
					t.Fatalf("requests %v, commits %d; want none", reqs, len(sink.Batches))
				}
				return
			}
			if len(reqs) != 1 || !reqs[0].Start.Equal(tt.wantFrom) || !reqs[0].End.Equal(open) {
				t.Fatalf("requests = %+v, want one from %v to %v", reqs, tt.wantFrom, open)
			}
			checkSamples(t, sink, "search-p99", 0, tt.wantFrom, open)
			if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(open) || cur.Query != testQuery {
				t.Errorf("cursor = %+v", cur)
			}
		})
	}
}

// Successive polls: each starts at the previous poll's last complete step
// (read again, so a value that changed as late scrapes arrived is
// overwritten), a poll before the next step completes asks nothing, and no
// sample is lost or duplicated.
func TestSuccessivePolls(t *testing.T) {
	f := newFake(t)
	c, _ := newTest(t, f, Options{})
	sink := newSink()
	since := now.Add(-2 * 24 * time.Hour)
	polls := []time.Time{now, now.Add(10 * time.Minute), now.Add(time.Hour), now.Add(5*time.Hour + 59*time.Minute)}
	for _, at := range polls {
		if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: at, Sink: sink}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	want := [][2]time.Time{
		{since.Truncate(time.Hour), open},
		{open, open.Add(time.Hour)},
		{open.Add(time.Hour), open.Add(6 * time.Hour)},
	}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if !r.Start.Equal(want[i][0]) || !r.End.Equal(want[i][1]) {
			t.Errorf("request %d: %v…%v, want %v…%v", i, r.Start, r.End, want[i][0], want[i][1])
		}
	}
	checkSamples(t, sink, "search-p99", 0, since.Truncate(time.Hour), open.Add(6*time.Hour))
	if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(open.Add(6 * time.Hour)) {
		t.Errorf("cursor = %v", cur.Through)
	}
}

// A poll exactly on the hour does not evaluate that hour (its start is not
// past yet): the first poll after the next hour closes reads it, and no
// hour is lost or read twice in one poll.
func TestPollOnTheHour(t *testing.T) {
	f := newFake(t)
	c, _ := newTest(t, f, Options{})
	sink := newSink()
	since := now.Add(-24 * time.Hour)
	for _, at := range []time.Time{open, now, now.Add(time.Hour)} {
		if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: at, Sink: sink}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	want := [][2]time.Time{
		{since.Truncate(time.Hour), open.Add(-time.Hour)},
		{open, open.Add(time.Hour)},
	}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d: %+v", len(reqs), len(want), reqs)
	}
	for i, r := range reqs {
		if !r.Start.Equal(want[i][0]) || !r.End.Equal(want[i][1]) {
			t.Errorf("request %d: %v…%v, want %v…%v", i, r.Start, r.End, want[i][0], want[i][1])
		}
	}
	checkSamples(t, sink, "search-p99", 0, since.Truncate(time.Hour), open.Add(time.Hour))
}

func TestAuth(t *testing.T) {
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	tests := []struct {
		name string
		src  func(url string) Config
		want string
	}{
		{"bearer", func(u string) Config {
			return Config{URL: u, BearerToken: testToken}
		}, "Bearer " + testToken},
		{"basic", func(u string) Config {
			return Config{URL: u, BasicAuth: &BasicAuth{Username: "alice", Password: "hunter2"}}
		}, basic("alice", "hunter2")},
		{"basic without password", func(u string) Config {
			return Config{URL: u, BasicAuth: &BasicAuth{Username: "alice"}}
		}, basic("alice", "")},
		{"credentials in the URL", func(u string) Config {
			return Config{URL: strings.Replace(u, "http://", "http://bob:s%C3%A9same@", 1)}
		}, basic("bob", "sésame")},
		{"none", func(u string) Config { return Config{URL: u} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			sl := &collectorstest.Sleeps{}
			c, err := New(tt.src(f.srv.URL), []config.Metric{promMetric("search-p99", testQuery)}, Options{HTTPClient: testClient(sl), Chunk: 30 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-3 * 24 * time.Hour), Now: now, Sink: newSink()}); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if len(reqs) != 3 {
				t.Fatalf("%d requests", len(reqs))
			}
			for i, r := range reqs {
				if r.Auth != tt.want {
					t.Errorf("request %d: Authorization %q, want %q", i, r.Auth, tt.want)
				}
			}
		})
	}
}

// Credentials go to the configured host only, not to where a redirect leads.
func TestAuthNotSentOnRedirect(t *testing.T) {
	f := newFake(t)
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("front: Authorization %q", r.Header.Get("Authorization"))
		}
		http.Redirect(rw, r, f.srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	c, err := New(Config{URL: front.URL, BearerToken: testToken}, []config.Metric{promMetric("search-p99", testQuery)}, Options{HTTPClient: testClient(&collectorstest.Sleeps{})})
	if err != nil {
		t.Fatal(err)
	}
	sink := newSink()
	if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].Auth != "" || reqs[0].Method != http.MethodPost {
		t.Fatalf("redirected requests %+v", reqs)
	}
	checkSamples(t, sink, "search-p99", 0, now.Add(-24*time.Hour).Truncate(time.Hour), open)
}

// The client POSTs the form; a server (or proxy) that refuses POST with 405
// gets the same query by GET.
func TestGetFallback(t *testing.T) {
	f := newFake(t)
	f.respond = func(_ int, rw http.ResponseWriter, r request) bool {
		if r.Method == http.MethodPost {
			rw.Header().Set("Allow", "GET")
			writeBody(rw, http.StatusMethodNotAllowed, "text/plain", "Method Not Allowed")
			return true
		}
		return false
	}
	c, _ := newTest(t, f, Options{Chunk: 24 * time.Hour})
	sink := newSink()
	since := now.Add(-2 * 24 * time.Hour)
	if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 2 POST + 2 GET", len(reqs))
	}
	for i, r := range reqs {
		want := http.MethodPost
		if i%2 == 1 {
			want = http.MethodGet
		}
		if r.Method != want || r.Auth != "Bearer "+testToken || r.Query != testQuery {
			t.Errorf("request %d: %+v", i, r)
		}
	}
	checkSamples(t, sink, "search-p99", 0, since.Truncate(time.Hour), open)
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		fault    []int // statuses from the fake's Fault
		respond  []func(rw http.ResponseWriter)
		minSleep time.Duration
	}{
		{name: "503 burst with Retry-After", fault: []int{503, 503, 503}, minSleep: time.Second},
		{name: "5xx burst", respond: []func(rw http.ResponseWriter){
			func(rw http.ResponseWriter) { writeBody(rw, 502, "text/html", "<html>502 Bad Gateway</html>") },
			func(rw http.ResponseWriter) {
				writeBody(rw, 500, "application/json", `{"status":"error","errorType":"internal","error":"boom"}`)
			},
			func(rw http.ResponseWriter) { writeBody(rw, 504, "", "") },
		}},
		{name: "429", fault: []int{429}, minSleep: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.fault = func(n int) int {
				if n < len(tt.fault) {
					return tt.fault[n]
				}
				return 0
			}
			f.respond = func(n int, rw http.ResponseWriter, _ request) bool {
				if n < len(tt.respond) {
					tt.respond[n](rw)
					return true
				}
				return false
			}
			c, sl := newTest(t, f, Options{})
			sink := newSink()
			if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: sink}); err != nil {
				t.Fatalf("Collect: %v (the shared transport should retry)", err)
			}
			nfail := len(tt.fault) + len(tt.respond)
			reqs := f.requests()
			if len(reqs) != nfail+1 {
				t.Errorf("%d requests, want %d", len(reqs), nfail+1)
			}
			for i, r := range reqs {
				// Every attempt replays the same POST form.
				if r.Method != http.MethodPost || r.Query != testQuery || !r.Start.Equal(reqs[0].Start) || r.Auth != "Bearer "+testToken {
					t.Errorf("attempt %d: %+v", i, r)
				}
			}
			waits := sl.All()
			if len(waits) != nfail || tt.minSleep > 0 && waits[0] < tt.minSleep {
				t.Errorf("waits %v", waits)
			}
			checkSamples(t, sink, "search-p99", 0, now.Add(-24*time.Hour).Truncate(time.Hour), open)
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	jsonBody := func(status int, body string) func(http.ResponseWriter) {
		return func(rw http.ResponseWriter) { writeBody(rw, status, "application/json", body) }
	}
	tests := []struct {
		name    string
		query   string                    // search-p99's query; default testQuery
		fault   int                       // the fake's Fault status for the failing request
		respond func(http.ResponseWriter) // else this answers it
		want    string
		status  int
		typ     string
		reqs    int // requests of search-p99 in all; default 3 (two good chunks + the failure)
	}{
		{name: "parse error from the fake", query: `sum(rate(http_requests_total{service="search"}[1h])`,
			want: `prometheus: query_range search-p99: 400 bad_data: 1:4: parse error: unclosed left parenthesis`, status: 400, typ: "bad_data", reqs: 1},
		{name: "400 bad_data", respond: jsonBody(400, `{"status":"error","errorType":"bad_data","error":"parse error at char 5: unexpected character: '{'"}`),
			want: `prometheus: query_range search-p99: 400 bad_data: parse error at char 5: unexpected character: '{'`, status: 400, typ: "bad_data"},
		{name: "400 multi-line", respond: jsonBody(400, `{"status":"error","errorType":"bad_data","error":"1:5: parse error:\n\tunexpected \"{\""}`),
			want: `prometheus: query_range search-p99: 400 bad_data: 1:5: parse error: unexpected "{"`, status: 400, typ: "bad_data"},
		{name: "422 execution", respond: jsonBody(422, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}`),
			want: "prometheus: query_range search-p99: 422 execution: query processing would load too many samples into memory in query execution", status: 422, typ: "execution"},
		{name: "400 html from a proxy", respond: func(rw http.ResponseWriter) { writeBody(rw, 400, "text/html", "<html><h1>Bad Request</h1></html>") },
			want: "prometheus: query_range search-p99: 400 Bad Request", status: 400},
		{name: "401 from the fake", fault: 401, want: "prometheus: query_range search-p99: 401 Unauthorized", status: 401},
		{name: "401 with a reason", respond: jsonBody(401, `{"error":"token expired"}`),
			want: "prometheus: query_range search-p99: 401 Unauthorized: token expired", status: 401},
		{name: "403 then GET fallback 403", fault: 403, want: "prometheus: query_range search-p99: 403 Forbidden", status: 403, reqs: 4},
		{name: "404 wrong path", respond: func(rw http.ResponseWriter) { writeBody(rw, 404, "text/plain; charset=utf-8", "404 page not found\n") },
			want: "prometheus: query_range search-p99: 404 Not Found: 404 page not found", status: 404},
		{name: "200 with status error", respond: jsonBody(200, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`),
			want: "prometheus: query_range search-p99: 200 timeout: query timed out in expression evaluation", status: 200, typ: "timeout"},
		{name: "long reason cut", respond: jsonBody(400, `{"status":"error","errorType":"bad_data","error":"`+strings.Repeat("x", 500)+`"}`),
			want: "prometheus: query_range search-p99: 400 bad_data: " + strings.Repeat("x", 299) + "…", status: 400, typ: "bad_data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Two metrics; search-p99 fails on its third request, or at once
			// when its query is bad.
			q := tt.query
			if q == "" {
				q = testQuery
			}
			f := newFake(t)
			var mu sync.Mutex
			failAt, p99 := -1, 0
			f.fault = func(n int) int {
				mu.Lock()
				defer mu.Unlock()
				if n == failAt {
					return tt.fault
				}
				return 0
			}
			f.respond = func(n int, rw http.ResponseWriter, r request) bool {
				if r.Query != q {
					return false
				}
				mu.Lock()
				defer mu.Unlock()
				p99++
				if p99 == 3 || tt.fault == 403 && p99 == 4 {
					if tt.respond != nil {
						tt.respond(rw)
						return true
					}
					failAt = n
				}
				return false
			}
			var logs collectorstest.Buffer
			c, _ := newTest(t, f, Options{Chunk: 30 * 24 * time.Hour, Logger: bufLogger(&logs)}, promMetric("search-p99", q), promMetric("checkout-errors", errQuery))
			sink, prog := newSink(), &collectorstest.Progress{Source: Name}
			since := now.Add(-90 * 24 * time.Hour)
			err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Sink: sink, Progress: prog})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), testToken) || strings.Contains(logs.String(), testToken) {
				t.Errorf("error not one clean line, or a secret leaked: %q", err)
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.StatusCode != tt.status || qe.Metric != "search-p99" || qe.Type != tt.typ {
				t.Errorf("QueryError = %+v", qe)
			}
			wantReqs := tt.reqs
			if wantReqs == 0 {
				wantReqs = 3
			}
			mu.Lock()
			defer mu.Unlock()
			if p99 != wantReqs {
				t.Errorf("%d search-p99 requests, want %d", p99, wantReqs)
			}
			start := since.Truncate(time.Hour)
			if wantReqs >= 3 {
				// The first two chunks are kept, with the cursor after them.
				checkSamples(t, sink, "search-p99", 0, start, start.Add(60*24*time.Hour-time.Hour))
				if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(start.Add(60 * 24 * time.Hour)) {
					t.Errorf("search-p99 cursor = %v", cur.Through)
				}
			} else if len(sink.Samples("search-p99")) != 0 {
				t.Errorf("search-p99 stored samples")
			}
			// The other metric is collected in full.
			checkSamples(t, sink, "checkout-errors", 1, start, open)
			if total, done := prog.Counts(); total != 6 || done != 6 {
				t.Errorf("progress %d/%d, want 6/6", done, total)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	f := newFake(t)
	f.fault = func(int) int { return 503 }
	c, sl := newTest(t, f, Options{})
	sink := newSink()
	err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: sink})
	want := "prometheus: query_range search-p99: 503 Service Unavailable after 6 attempts"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	var qe *QueryError
	if !errors.As(err, &qe) || qe.StatusCode != 503 {
		t.Errorf("QueryError = %+v", qe)
	}
	if len(f.requests()) != 6 || len(sl.All()) != 5 || len(sink.Batches) != 0 {
		t.Errorf("%d requests, %d waits, %d commits", len(f.requests()), len(sl.All()), len(sink.Batches))
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        string // prefix of the error
	}{
		{"html", "text/html", "<html><body>Login</body></html>", "prometheus: query_range search-p99: malformed response (200 OK, text/html): "},
		{"truncated", "application/json", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1772380800,"1.5"],[17723`,
			"prometheus: query_range search-p99: malformed response (200 OK, application/json): "},
		{"no content type", "", `{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1772380800,1.5]]}]}}`,
			"prometheus: query_range search-p99: malformed response (200 OK, "},
		{"vector", "application/json", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1772380800,"1"]}]}}`,
			"prometheus: query_range search-p99: malformed response: result type vector, want matrix"},
		{"empty object", "application/json", `{}`, "prometheus: query_range search-p99: malformed response: no result in the body"},
		{"empty body", "application/json", ``, "prometheus: query_range search-p99: malformed response (200 OK, application/json): "},
	}
	t10 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.respond = func(_ int, rw http.ResponseWriter, _ request) bool {
				if tt.contentType == "" {
					rw.Header()["Content-Type"] = nil // no sniffing
				}
				writeBody(rw, 200, tt.contentType, tt.body)
				return true
			}
			c, _ := newTest(t, f, Options{})
			sink := newSink()
			sink.setCursor(t, "search-p99", Cursor{Through: t10, Query: testQuery})
			err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: sink})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v\nwant prefix %s", err, tt.want)
			}
			t.Log(err)
			if len(sink.Batches) != 0 {
				t.Errorf("%d commits after a malformed body", len(sink.Batches))
			}
			if cur := sink.cursor(t, "search-p99"); !cur.Through.Equal(t10) {
				t.Errorf("cursor moved to %v", cur.Through)
			}
		})
	}
}

// Several series are averaged per timestamp with one warning; the server's
// warnings and infos are logged once each.
func TestSeveralSeriesAndWarnings(t *testing.T) {
	f := newFake(t)
	f.respond = func(_ int, rw http.ResponseWriter, r request) bool {
		var a, b []string
		for t := r.Start; !t.After(r.End); t = t.Add(time.Hour) {
			a = append(a, fmt.Sprintf(`[%d,"%g"]`, t.Unix(), float64(t.Unix()/3600%100)))
			if t.Unix()/3600%5 != 0 { // b has gaps: those hours are a alone
				b = append(b, fmt.Sprintf(`[%d,"%g"]`, t.Unix(), float64(t.Unix()/3600%100)+10))
			} else {
				b = append(b, fmt.Sprintf(`[%d,"NaN"]`, t.Unix()))
			}
		}
		writeBody(rw, 200, "application/json", `{"status":"success","warnings":["PromQL warning: encountered a mix of histograms and floats"],"infos":["PromQL info: metric might not be a counter"],`+
			`"data":{"resultType":"matrix","result":[{"metric":{"pod":"a"},"values":[`+strings.Join(a, ",")+`]},{"metric":{"pod":"b"},"values":[`+strings.Join(b, ",")+`]}]}}`)
		return true
	}
	var logs collectorstest.Buffer
	c, _ := newTest(t, f, Options{Logger: bufLogger(&logs), Chunk: 24 * time.Hour})
	sink := newSink()
	since := now.Add(-3 * 24 * time.Hour)
	if err := c.Collect(context.Background(), collectors.Run{Since: since, Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	got := sink.Samples("search-p99")
	if len(got) != 3*24+1 {
		t.Fatalf("%d samples", len(got))
	}
	for _, s := range got {
		want := float64(s.Time.Unix()/3600%100) + 5
		if s.Time.Unix()/3600%5 == 0 {
			want -= 5
		}
		if s.Value != want {
			t.Fatalf("%v = %v, want %v", s.Time, s.Value, want)
		}
	}
	if len(f.requests()) != 3 {
		t.Errorf("%d requests", len(f.requests()))
	}
	l := logs.String()
	if strings.Count(l, "several series") != 1 || strings.Count(l, "mix of histograms and floats") != 1 || strings.Count(l, "might not be a counter") != 1 {
		t.Errorf("want one line each for several series, the warning and the info:\n%s", l)
	}
	if strings.Contains(l, testToken) {
		t.Errorf("logs leak the token")
	}
}

func TestCanceled(t *testing.T) {
	f := newFake(t)
	c, _ := newTest(t, f, Options{}, promMetric("a", "up"), promMetric("b", "up2"))
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

func TestTransportError(t *testing.T) {
	f := newFake(t)
	f.srv.Close() // connection refused
	c, _ := newTest(t, f, Options{})
	sink := newSink()
	err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-time.Hour), Now: now, Sink: sink})
	// A refused connection fails at once: retries are for 5xx, 429 and timeouts.
	if err == nil || !strings.HasPrefix(err.Error(), "prometheus: query_range search-p99: ") || !strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), "attempts") ||
		strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), testToken) {
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
	c, _ := newTest(t, f, Options{Chunk: 30 * 24 * time.Hour}, promMetric("a", testQuery), promMetric("b", errQuery))
	sink := &failSink{memSink: newSink(), n: 1}
	prog := &collectorstest.Progress{Source: Name}
	err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-90 * 24 * time.Hour), Now: now, Sink: sink, Progress: prog})
	if err == nil || err.Error() != "prometheus: store a: disk full" {
		t.Fatalf("err = %v", err)
	}
	// a stops after its second request; b is collected in full.
	if n := len(f.requests()); n != 2+3 {
		t.Errorf("%d requests, want 5", n)
	}
	if got := sink.cursor(t, "b"); !got.Through.Equal(open) {
		t.Errorf("b cursor = %v", got.Through)
	}
	if total, done := prog.Counts(); total != 6 || done != 6 {
		t.Errorf("progress %d/%d", done, total)
	}
}

func TestNew(t *testing.T) {
	good := []config.Metric{promMetric("a", "up")}
	src := Config{URL: "http://localhost:9090"}
	tests := []struct {
		name    string
		src     Config
		metrics []config.Metric
		opt     Options
		want    string // error substring; "" = ok
	}{
		{name: "ok", src: src, metrics: good},
		{name: "path prefix", src: Config{URL: "https://example.com/prometheus/"}, metrics: good},
		{name: "no url", metrics: good, want: "prometheus: url is not set"},
		{name: "url without scheme", src: Config{URL: "localhost:9090"}, metrics: good, want: "want http(s)://"},
		{name: "url ftp", src: Config{URL: "ftp://example.com"}, metrics: good, want: "want http(s)://"},
		{name: "url with query", src: Config{URL: "https://u:hunter2@example.com/?x=1"}, metrics: good, want: "must not carry a query"},
		{name: "unparsable url", src: Config{URL: "http://u:hunter2@exa mple.com:x/"}, metrics: good, want: "prometheus: url is not a valid URL"},
		{name: "both auths", src: Config{URL: "http://x", BearerToken: "hunter2", BasicAuth: &BasicAuth{Username: "u"}}, metrics: good, want: "not both"},
		{name: "basic without username", src: Config{URL: "http://x", BasicAuth: &BasicAuth{Password: "hunter2"}}, metrics: good, want: "basic_auth.username is not set"},
		{name: "chunk not whole hours", src: src, metrics: good, opt: Options{Chunk: 90 * time.Minute}, want: "whole number of hours between 1h and 10999h"},
		{name: "chunk negative", src: src, metrics: good, opt: Options{Chunk: -time.Hour}, want: "whole number of hours"},
		{name: "chunk too large", src: src, metrics: good, opt: Options{Chunk: 11_000 * time.Hour}, want: "whole number of hours"},
		{name: "chunk at the cap", src: src, metrics: good, opt: Options{Chunk: MaxChunk}},
		{name: "metric without id", src: src, metrics: []config.Metric{promMetric("", "up")}, want: "prometheus: a metric has no id"},
		{name: "metric without query", src: src, metrics: []config.Metric{promMetric("a", " ")}, want: "prometheus: metric a has no query"},
		{name: "duplicate id", src: src, metrics: []config.Metric{promMetric("a", "up"), promMetric("a", "up2")}, want: "prometheus: metric id a is used twice"},
		{name: "other sources ignored", src: src, metrics: []config.Metric{{ID: "d", Source: "datadog"}, {Source: "datadog"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.src, tt.metrics, tt.opt)
			if tt.want == "" {
				if err != nil || c.Name() != "prometheus" {
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

// A Prometheus behind a proxy under a path prefix, with or without a
// trailing slash in the URL.
func TestPathPrefix(t *testing.T) {
	for _, suffix := range []string{"", "/"} {
		f := newFake(t)
		front := httptest.NewServer(http.StripPrefix("/prometheus", f.srv.Config.Handler))
		c, err := New(Config{URL: front.URL + "/prometheus" + suffix}, []config.Metric{promMetric("search-p99", testQuery)}, Options{HTTPClient: testClient(&collectorstest.Sleeps{})})
		if err != nil {
			t.Fatal(err)
		}
		sink := newSink()
		if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: sink}); err != nil {
			t.Fatalf("suffix %q: %v", suffix, err)
		}
		front.Close()
		checkSamples(t, sink, "search-p99", 0, now.Add(-24*time.Hour).Truncate(time.Hour), open)
	}
}
