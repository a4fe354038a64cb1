package collectors

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is the transport's clock and sleeper in tests: Sleep records the
// wait and moves the clock on, without waiting.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(done <-chan struct{}, d time.Duration) bool {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	select {
	case <-done:
		return false
	default:
		return true
	}
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// reply is one scripted answer of the test server.
type reply struct {
	status int
	header map[string]string
	body   string
	hangup bool // close the connection without answering
	delay  time.Duration
}

type seen struct {
	method, path, body, userAgent string
}

// script serves its replies in order, then 200 "ok" forever.
type script struct {
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	reqs    []seen
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, string(b), r.Header.Get("User-Agent")})
	rep := reply{status: 200, body: "ok"}
	if n < len(s.replies) {
		rep = s.replies[n]
	}
	s.mu.Unlock()
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	if rep.hangup {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			s.t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *script) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

func serve(t *testing.T, replies ...reply) (*script, *httptest.Server) {
	t.Helper()
	s := &script{t: t, replies: replies}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func epoch(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// secondaryBody is fixtures/vendor/github/error_403_secondary_rate_limit.json
// (PyGithub ReplayData SpecificExceptions.testAuthenticatedRateLimitExceeded,
// served with Retry-After: 60).
const secondaryBody = `{"documentation_url": "https://developer.github.com/v3/#abuse-rate-limits","message": "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."}`

// primaryBody is fixtures/vendor/github/error_403_primary_rate_limit.json
// (served with x-ratelimit-remaining: 0, x-ratelimit-limit: 60, no reset).
const primaryBody = `{"message":"API Rate Limit Exceeded for 92.104.200.119"}`

func TestRetries(t *testing.T) {
	clk := newClock() // only for building header values; each case gets its own
	t0 := clk.Now()
	between := func(lo, hi time.Duration) func(time.Duration) bool {
		return func(d time.Duration) bool { return d >= lo && d <= hi }
	}
	exactly := func(want time.Duration) func(time.Duration) bool {
		return func(d time.Duration) bool { return d == want }
	}
	tests := []struct {
		name       string
		vendor     string
		maxRetries int
		replies    []reply
		wantStatus int    // status the caller gets; 0 = error
		wantErr    string // exact error text when wantStatus is 0
		wantBody   string
		sleeps     []func(time.Duration) bool
	}{
		{
			name:    "429 Retry-After seconds",
			replies: []reply{{status: 429, header: map[string]string{"Retry-After": "7"}}},
			sleeps:  []func(time.Duration) bool{exactly(7 * time.Second)},
		},
		{
			name:    "429 Retry-After HTTP date",
			replies: []reply{{status: 429, header: map[string]string{"Retry-After": t0.Add(30 * time.Second).Format(http.TimeFormat)}}},
			sleeps:  []func(time.Duration) bool{exactly(30 * time.Second)},
		},
		{
			name:    "5xx burst then 200",
			replies: []reply{{status: 500}, {status: 502}, {status: 503}},
			// 1s initial backoff, ±50% jitter, doubling.
			sleeps: []func(time.Duration) bool{between(500*time.Millisecond, 1500*time.Millisecond), between(time.Second, 3*time.Second), between(2*time.Second, 6*time.Second)},
		},
		{
			name:    "503 with Retry-After",
			replies: []reply{{status: 503, header: map[string]string{"Retry-After": "3"}}},
			sleeps:  []func(time.Duration) bool{exactly(3 * time.Second)},
		},
		{
			name:    "network error then 200",
			replies: []reply{{hangup: true}},
			sleeps:  []func(time.Duration) bool{between(500*time.Millisecond, 1500*time.Millisecond)},
		},
		{
			name:       "401 not retried",
			replies:    []reply{{status: 401, body: `{"message":"Bad credentials"}`}},
			wantStatus: 401, wantBody: `{"message":"Bad credentials"}`,
		},
		{
			name:       "404 not retried",
			replies:    []reply{{status: 404, body: `{"message":"Not Found"}`}},
			wantStatus: 404, wantBody: `{"message":"Not Found"}`,
		},
		{
			name:       "400 not retried",
			replies:    []reply{{status: 400, body: `bad`}},
			wantStatus: 400, wantBody: `bad`,
		},
		{
			name:       "403 that is not a rate limit is not retried, body intact",
			replies:    []reply{{status: 403, body: `{"message":"Resource not accessible by integration"}`}},
			wantStatus: 403, wantBody: `{"message":"Resource not accessible by integration"}`,
		},
		{
			name:    "403 secondary limit (fixture, Retry-After 60)",
			replies: []reply{{status: 403, header: map[string]string{"Retry-After": "60", "Content-Type": "application/json; charset=utf-8"}, body: secondaryBody}},
			sleeps:  []func(time.Duration) bool{exactly(60 * time.Second)},
		},
		{
			name:    "403 secondary limit without Retry-After waits at least a minute",
			replies: []reply{{status: 403, body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`}},
			sleeps:  []func(time.Duration) bool{between(time.Minute, time.Minute)},
		},
		{
			name: "403 primary limit waits for X-RateLimit-Reset",
			replies: []reply{{status: 403, body: primaryBody, header: map[string]string{
				"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch(t0.Add(90 * time.Second))}}},
			sleeps: []func(time.Duration) bool{exactly(91 * time.Second)},
		},
		{
			name: "403 primary limit (fixture, no reset) backs off a minute",
			replies: []reply{{status: 403, body: primaryBody, header: map[string]string{
				"x-ratelimit-remaining": "0", "x-ratelimit-limit": "60"}}},
			sleeps: []func(time.Duration) bool{exactly(time.Minute)},
		},
		{
			name:   "429 primary limit waits for reset",
			vendor: "github_actions",
			replies: []reply{{status: 429, header: map[string]string{
				"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch(t0.Add(10 * time.Second))}}},
			sleeps: []func(time.Duration) bool{exactly(11 * time.Second)},
		},
		{
			name:   "pagerduty 429 ratelimit-reset is seconds until reset",
			vendor: "pagerduty",
			replies: []reply{{status: 429, body: `{"error":{"message":"Rate Limit Exceeded","code":2020}}`, header: map[string]string{
				"Content-Type": "application/json", "ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "1"}}},
			sleeps: []func(time.Duration) bool{exactly(2 * time.Second)},
		},
		{
			name:   "datadog 429 X-Ratelimit-Reset is seconds until reset",
			vendor: "datadog",
			replies: []reply{{status: 429, body: `{"errors":["Rate limit exceeded"]}`, header: map[string]string{
				"X-Ratelimit-Limit": "10", "X-Ratelimit-Period": "10", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "7"}}},
			sleeps: []func(time.Duration) bool{exactly(8 * time.Second)},
		},
		{
			name:       "403 mentioning abuse is not a limit outside GitHub",
			vendor:     "datadog",
			replies:    []reply{{status: 403, body: `{"errors":["Forbidden: abuse of API key"]}`}},
			wantStatus: 403, wantBody: `{"errors":["Forbidden: abuse of API key"]}`,
		},
		{
			name:       "retries run out",
			maxRetries: 2,
			replies:    []reply{{status: 503}, {status: 503}, {status: 503}},
			wantErr:    "github: GET /repos/acme/x/pulls: 503 Service Unavailable after 3 attempts",
			sleeps:     []func(time.Duration) bool{between(500*time.Millisecond, 1500*time.Millisecond), between(time.Second, 3*time.Second)},
		},
		{
			name:       "secondary limit until retries run out",
			maxRetries: 1,
			replies:    []reply{{status: 403, body: secondaryBody}, {status: 403, body: secondaryBody}},
			wantErr:    "github: GET /repos/acme/x/pulls: 403 Forbidden: secondary rate limit after 2 attempts",
			sleeps:     []func(time.Duration) bool{exactly(time.Minute)},
		},
		{
			name:    "wait longer than MaxWait fails at once",
			replies: []reply{{status: 429, header: map[string]string{"Retry-After": "3600"}}},
			wantErr: "github: GET /repos/acme/x/pulls: 429 Too Many Requests: rate limited (Retry-After): must wait 1h0m0s, longer than the 2m0s allowed",
		},
		{
			name: "reset too far away fails at once",
			replies: []reply{{status: 403, body: primaryBody, header: map[string]string{
				"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch(t0.Add(45 * time.Minute))}}},
			wantErr: "github: GET /repos/acme/x/pulls: 403 Forbidden: rate limit exhausted until reset: must wait 45m1s, longer than the 2m0s allowed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := serve(t, tt.replies...)
			clk := newClock()
			vendor := tt.vendor
			if vendor == "" {
				vendor = "github"
			}
			scheme, secondary := testScheme(vendor)
			c := NewHTTPClient(HTTPOptions{Vendor: vendor, RateLimit: scheme, SecondaryRateLimit: secondary, MaxRetries: tt.maxRetries, Sleep: clk.Sleep, Now: clk.Now, Stats: &Stats{}})
			resp, err := c.Get(srv.URL + "/repos/acme/x/pulls?state=closed")
			wantStatus := tt.wantStatus
			if wantStatus == 0 && tt.wantErr == "" {
				wantStatus = 200
			}
			if wantStatus != 0 {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, wantStatus)
				}
				wantBody := tt.wantBody
				if wantBody == "" {
					wantBody = "ok"
				}
				if string(b) != wantBody {
					t.Errorf("body %q, want %q", b, wantBody)
				}
			} else {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("Get succeeded with %d, want error %q", resp.StatusCode, tt.wantErr)
				}
				var he *HTTPError
				if !errors.As(err, &he) {
					t.Fatalf("error %v (%T) is not an *HTTPError", err, err)
				}
				if he.Error() != tt.wantErr {
					t.Errorf("error\n got %q\nwant %q", he.Error(), tt.wantErr)
				}
			}
			sleeps := clk.Sleeps()
			if len(sleeps) != len(tt.sleeps) {
				t.Fatalf("sleeps %v, want %d", sleeps, len(tt.sleeps))
			}
			for i, ok := range tt.sleeps {
				if !ok(sleeps[i]) {
					t.Errorf("sleep %d = %v, not as expected", i, sleeps[i])
				}
			}
			wantReqs := len(tt.sleeps) + 1
			if n := len(s.requests()); n != wantReqs {
				t.Errorf("%d requests, want %d", n, wantReqs)
			}
		})
	}
}

func TestPOSTBodyReplayed(t *testing.T) {
	const form = "query=rate%28http_requests_total%5B5m%5D%29&start=1&end=2&step=60"
	for _, withGetBody := range []bool{true, false} {
		t.Run("GetBody="+strconv.FormatBool(withGetBody), func(t *testing.T) {
			s, srv := serve(t, reply{status: 503}, reply{status: 502})
			clk := newClock()
			c := NewHTTPClient(HTTPOptions{Vendor: "prometheus", Sleep: clk.Sleep, Now: clk.Now, Stats: &Stats{}})
			var body io.Reader = strings.NewReader(form)
			if !withGetBody {
				body = struct{ io.Reader }{body} // hides the type, so no GetBody
			}
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/query_range", body)
			if err != nil {
				t.Fatal(err)
			}
			if (req.GetBody != nil) != withGetBody {
				t.Fatalf("GetBody set = %v", req.GetBody != nil)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			reqs := s.requests()
			if len(reqs) != 3 {
				t.Fatalf("%d requests, want 3", len(reqs))
			}
			for i, r := range reqs {
				if r.method != "POST" || r.body != form {
					t.Errorf("attempt %d: %s body %q, want POST %q", i+1, r.method, r.body, form)
				}
			}
		})
	}
}

func TestUserAgent(t *testing.T) {
	for _, ua := range []string{"", "impact/1.2.3"} {
		s, srv := serve(t)
		c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, UserAgent: ua, Stats: &Stats{}})
		req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
		req.Header.Set("User-Agent", "go-github/v60.0.0")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := ua
		if want == "" {
			want = "impact/dev"
		}
		if got := s.requests()[0].userAgent; got != want {
			t.Errorf("User-Agent %q, want %q", got, want)
		}
		if req.Header.Get("User-Agent") != "go-github/v60.0.0" {
			t.Errorf("caller's request was modified")
		}
	}
}

func TestBudgetParsed(t *testing.T) {
	clk := newClock()
	t0 := clk.Now()
	tests := []struct {
		vendor    string
		header    map[string]string
		known     bool
		limit     int
		remaining int
		reset     time.Time
	}{
		// Headers as in fixtures/vendor/github/raw/pull_get.meta.json: Reset is an epoch.
		{"github", map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4991", "X-RateLimit-Reset": "1767880692", "X-RateLimit-Used": "9", "X-RateLimit-Resource": "core"},
			true, 5000, 4991, time.Unix(1767880692, 0)},
		{"github_actions", map[string]string{"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4904", "x-ratelimit-reset": "1684195041"},
			true, 5000, 4904, time.Unix(1684195041, 0)},
		// pull_files_small.meta.json (2013): no reset header.
		{"github", map[string]string{"X-Ratelimit-Limit": "5000", "X-Ratelimit-Remaining": "4990"},
			true, 5000, 4990, time.Time{}},
		// Datadog (datadog/raw/v1_query_by_host.meta.json): Reset is seconds until reset.
		{"datadog", map[string]string{"X-Ratelimit-Limit": "100", "X-Ratelimit-Period": "10", "X-Ratelimit-Remaining": "98", "X-Ratelimit-Reset": "7", "X-Ratelimit-Name": "query"},
			true, 100, 98, t0.Add(7 * time.Second)},
		// PagerDuty (pagerduty/raw/error_429.meta.json): lower-case, seconds.
		{"pagerduty", map[string]string{"ratelimit-limit": "960", "ratelimit-remaining": "955", "ratelimit-reset": "30"},
			true, 960, 955, t0.Add(30 * time.Second)},
		{"prometheus", map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "1"}, false, 0, 0, time.Time{}},
		{"github", map[string]string{}, false, 0, 0, time.Time{}},
		{"github", map[string]string{"X-RateLimit-Remaining": "lots"}, false, 0, 0, time.Time{}},
	}
	for i, tt := range tests {
		_, srv := serve(t, reply{status: 200, header: tt.header, body: "ok"})
		b := &Budget{}
		scheme, _ := testScheme(tt.vendor)
		c := NewHTTPClient(HTTPOptions{Vendor: tt.vendor, RateLimit: scheme, Budget: b, Now: clk.Now, Sleep: clk.Sleep, Stats: &Stats{}})
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		limit, remaining, reset, known := b.Snapshot()
		if known != tt.known || limit != tt.limit || remaining != tt.remaining || !reset.Equal(tt.reset) {
			t.Errorf("%d %s: budget = %d/%d reset %v known %v, want %d/%d reset %v known %v",
				i, tt.vendor, remaining, limit, reset, known, tt.remaining, tt.limit, tt.reset, tt.known)
		}
	}
}

// githubBudget answers like GitHub with the given remaining count and reset.
type githubBudget struct {
	mu        sync.Mutex
	remaining int
	reset     time.Time
	hits      int
}

func (g *githubBudget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hits++
	if g.remaining > 0 {
		g.remaining--
	}
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(g.remaining))
	w.Header().Set("X-RateLimit-Reset", epoch(g.reset))
	io.WriteString(w, "[]")
}

func TestSlowsDownWhenBudgetLow(t *testing.T) {
	clk := newClock()
	t0 := clk.Now()
	gh := &githubBudget{remaining: 6, reset: t0.Add(100 * time.Second)}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	b := &Budget{}
	c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Budget: b, Now: clk.Now, Sleep: clk.Sleep, Stats: &Stats{}})
	for i := 0; i < 4; i++ {
		resp, err := c.Get(srv.URL + "/repos/acme/x/pulls")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// The first answer says 5 of 5000 left (< 5%) for 100s: one request
	// every 20s, so the rest lasts until the reset.
	want := []time.Duration{20 * time.Second, 20 * time.Second, 20 * time.Second}
	got := clk.Sleeps()
	if len(got) != len(want) {
		t.Fatalf("sleeps %v, want %v", got, want)
	}
	for i := range want {
		if d := got[i] - want[i]; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("sleeps %v, want %v", got, want)
			break
		}
	}
	if _, rem, _, _ := b.Snapshot(); rem != 2 {
		t.Errorf("remaining %d, want 2", rem)
	}
}

func TestNoSlowDownWithHealthyBudget(t *testing.T) {
	clk := newClock()
	gh := &githubBudget{remaining: 4000, reset: clk.Now().Add(time.Hour)}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Now: clk.Now, Sleep: clk.Sleep, Stats: &Stats{}})
	for i := 0; i < 5; i++ {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if s := clk.Sleeps(); len(s) != 0 {
		t.Errorf("slept %v with a healthy budget", s)
	}
}

func TestWaitsForResetWhenBudgetExhausted(t *testing.T) {
	clk := newClock()
	t0 := clk.Now()
	// A successful answer that used the last request.
	gh := &githubBudget{remaining: 1, reset: t0.Add(30 * time.Second)}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	b := &Budget{}
	c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Budget: b, Now: clk.Now, Sleep: clk.Sleep, Stats: &Stats{}})
	for i := 0; i < 2; i++ {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := clk.Sleeps(); len(got) != 1 || got[0] != 31*time.Second {
		t.Errorf("sleeps %v, want [31s] (until the reset)", got)
	}

	// With the reset further away than MaxWait, the request is not sent.
	clk2 := newClock()
	gh2 := &githubBudget{remaining: 1, reset: clk2.Now().Add(time.Hour)}
	srv2 := httptest.NewServer(gh2)
	defer srv2.Close()
	c2 := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Now: clk2.Now, Sleep: clk2.Sleep, Stats: &Stats{}})
	resp, err := c2.Get(srv2.URL + "/repos/acme/x/pulls")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, err = c2.Get(srv2.URL + "/repos/acme/x/pulls")
	var he *HTTPError
	if !errors.As(err, &he) || he.Wait != time.Hour+time.Second {
		t.Fatalf("err = %v, want an HTTPError with a 1h wait", err)
	}
	const want = "github: GET /repos/acme/x/pulls: rate-limit budget exhausted (0 of 5000 left): must wait 1h0m1s, longer than the 2m0s allowed"
	if he.Error() != want {
		t.Errorf("error\n got %q\nwant %q", he.Error(), want)
	}
	if gh2.hits != 1 {
		t.Errorf("%d requests sent, want 1", gh2.hits)
	}
}

func TestContextCancelStopsWaiting(t *testing.T) {
	_, srv := serve(t, reply{status: 429, header: map[string]string{"Retry-After": "60"}})
	c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Stats: &Stats{}}) // real timer
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	start := time.Now()
	_, err := c.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to notice the cancel", d)
	}
}

func TestAttemptTimeout(t *testing.T) {
	s, srv := serve(t, reply{status: 200, delay: 2 * time.Second, body: "slow"})
	clk := newClock()
	c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Timeout: 100 * time.Millisecond, Sleep: clk.Sleep, Now: clk.Now, Stats: &Stats{}})
	resp, err := c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "ok" {
		t.Errorf("body %q, %v; want the second attempt's", b, err)
	}
	if n := len(s.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}

	// Every attempt timing out ends in an error saying so.
	_, srv2 := serve(t, reply{delay: time.Second}, reply{delay: time.Second})
	c2 := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Timeout: 50 * time.Millisecond, MaxRetries: 1, Sleep: clk.Sleep, Now: clk.Now, Stats: &Stats{}})
	_, err = c2.Get(srv2.URL + "/x")
	var he *HTTPError
	if !errors.As(err, &he) || he.Error() != "github: GET /x: no response within 50ms after 2 attempts" {
		t.Errorf("err = %v", err)
	}
}

func TestStats(t *testing.T) {
	_, srv := serve(t, reply{status: 503}, reply{status: 429, header: map[string]string{"Retry-After": "1"}})
	clk := newClock()
	st := &Stats{}
	var mu sync.Mutex
	var seen []int
	c := NewHTTPClient(HTTPOptions{Vendor: "datadog", RateLimit: HeaderRateLimit("X-RateLimit-", false), Sleep: clk.Sleep, Now: clk.Now, Stats: st, OnResponse: func(v string, status int) {
		mu.Lock()
		defer mu.Unlock()
		if v == "datadog" {
			seen = append(seen, status)
		}
	}})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if st.Count("datadog", 503) != 1 || st.Count("datadog", 429) != 1 || st.Count("datadog", 200) != 4 {
		t.Errorf("stats %v", st.Responses())
	}
	if st.Retries()["datadog"] != 2 {
		t.Errorf("retries %v, want 2", st.Retries())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 6 {
		t.Errorf("OnResponse saw %v", seen)
	}
}

// TestSchemeResetBounded: a reset of 10^12 seconds is a far time, not
// overflowed into a past one, and the budget bounds the wait to a day (the
// rate-limit schemes a source declares).
func TestSchemeResetBounded(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for name, tt := range map[string]struct {
		scheme RateLimitScheme
		h      http.Header
	}{
		"structured": {StructuredRateLimit("RateLimit"), http.Header{"Ratelimit": {"limit=10, remaining=0, reset=1000000000000"}}},
		"headers":    {HeaderRateLimit("X-RateLimit-", false), http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1000000000000"}}},
	} {
		_, rem, reset, ok := tt.scheme(tt.h, now)
		if !ok || rem != 0 || reset.Year() < 30000 {
			t.Errorf("%s: remaining %d, reset %v, ok %v; want 0 and a reset 31,700 years on", name, rem, reset, ok)
		}
		b := HTTPOptions{RateLimit: tt.scheme}.budgetOf(tt.h, now)
		if !b.reset.Equal(now.Add(MaxRateLimitWait)) || !b.said.Equal(reset) {
			t.Errorf("%s: budget reset %v (said %v), want %v bounded, the far time kept", name, b.reset, b.said, now.Add(MaxRateLimitWait))
		}
	}
}

// testScheme is the rate-limit scheme each vendor's source declares (the
// sources' packages import this one, so the tests name them here).
func testScheme(vendor string) (RateLimitScheme, bool) {
	switch vendor {
	case "github", "github_actions":
		return HeaderRateLimit("X-RateLimit-", true), true
	case "datadog":
		return HeaderRateLimit("X-RateLimit-", false), false
	case "pagerduty":
		return HeaderRateLimit("RateLimit-", false), false
	}
	return nil, false
}
