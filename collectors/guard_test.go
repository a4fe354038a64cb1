package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// elsewhere records what reaches "another host".
type elsewhere struct {
	mu      sync.Mutex
	headers []http.Header
}

func (e *elsewhere) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.headers = append(e.headers, r.Header.Clone())
	e.mu.Unlock()
	io.WriteString(w, `{"stolen":true}`)
}

func (e *elsewhere) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.headers)
}

// authTransport adds a credential on every hop, as go-github's
// WithAuthToken does (which undoes Go's own stripping on redirects).
type authTransport struct{ base http.RoundTripper }

func (a authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer ghp_secretsecret")
	r.Header.Set("DD-API-KEY", "dd-api-key-secret")
	return a.base.RoundTrip(r)
}

func TestRedirectsStayOnTheConfiguredHost(t *testing.T) {
	other := &elsewhere{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-http":
			// https → http on "the same" host name is still a downgrade.
			http.Redirect(w, r, otherSrv.URL+"/x", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer tlsSrv.Close()
	same := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/elsewhere":
			http.Redirect(w, r, otherSrv.URL+"/steal", http.StatusFound)
		case "/moved":
			http.Redirect(w, r, "/here", http.StatusMovedPermanently)
		default:
			io.WriteString(w, "here")
		}
	}))
	defer same.Close()

	tests := []struct {
		name    string
		url     string
		tls     bool
		wantErr string
		// own: the vendor client builds its own http.Client around the
		// transport (no CheckRedirect of ours): the transport still refuses.
		own bool
		// anonymous: the request carries no credential; a redirect
		// elsewhere is then harmless and followed.
		anonymous bool
	}{
		{name: "same host is followed", url: same.URL + "/moved"},
		{name: "another host without credentials is followed", url: same.URL + "/elsewhere", anonymous: true},
		{name: "another host", url: same.URL + "/elsewhere", wantErr: "refused a redirect to another host"},
		{name: "another host, client without our CheckRedirect", url: same.URL + "/elsewhere", own: true, wantErr: "refused a redirect to another host"},
		{name: "https to http", url: tlsSrv.URL + "/to-http", tls: true, wantErr: "refused a redirect"},
		{name: "https to http, client without our CheckRedirect", url: tlsSrv.URL + "/to-http", tls: true, own: true, wantErr: "refused a redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := http.DefaultTransport
			if tt.tls {
				base = tlsSrv.Client().Transport
			}
			c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Base: base, MaxRetries: -1})
			if !tt.anonymous {
				c.Transport = authTransport{c.Transport}
			}
			if tt.own {
				c = &http.Client{Transport: c.Transport}
			}
			before := other.count()
			resp, err := c.Get(tt.url)
			if resp != nil {
				resp.Body.Close()
			}
			if tt.anonymous {
				if err != nil || other.count() != before+1 {
					t.Fatalf("err %v, %d requests elsewhere: want the redirect followed", err, other.count()-before)
				}
				return
			}
			if other.count() != before {
				t.Fatalf("the other host got a request: %v", other.headers[len(other.headers)-1])
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			var re *RedirectError
			if !errors.As(err, &re) {
				t.Errorf("%T is not a *RedirectError", err)
			}
			if d, ok := TransportDetail(err); !ok || strings.Contains(d, "\n") || strings.Contains(d, "secret") {
				t.Errorf("TransportDetail = %q, %v", d, ok)
			}
		})
	}
}

func TestResponseSizeCap(t *testing.T) {
	big := strings.Repeat("x", 5000)
	tests := []struct {
		name    string
		h       http.HandlerFunc
		limit   int64
		wantErr string
		want    string
	}{
		{name: "announced too large fails before reading", limit: 1000, wantErr: "200 OK: response of 5000 bytes exceeds the limit of 1000 bytes",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "5000")
				io.WriteString(w, big)
			}},
		{name: "streamed too large fails while reading", limit: 1024, wantErr: "response of more than 1 KiB exceeds the limit of 1 KiB",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.(http.Flusher).Flush() // chunked: no Content-Length
				io.WriteString(w, big)
			}},
		{name: "exactly the limit is fine", limit: 5000, want: big,
			h: func(w http.ResponseWriter, r *http.Request) { w.(http.Flusher).Flush(); io.WriteString(w, big) }},
		{name: "negative is no cap", limit: -1, want: big,
			h: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.h)
			defer srv.Close()
			c := NewHTTPClient(HTTPOptions{Vendor: "datadog", RateLimit: HeaderRateLimit("X-RateLimit-", false), MaxResponseBytes: tt.limit, MaxRetries: -1})
			resp, err := c.Get(srv.URL + "/api/v1/query")
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var tl *ResponseTooLargeError
				if !errors.As(err, &tl) {
					t.Errorf("%T is not a *ResponseTooLargeError", err)
				}
				return
			}
			if err != nil || string(body) != tt.want {
				t.Fatalf("got %d bytes, %v", len(body), err)
			}
		})
	}
}

func TestErrorBodiesRedactedAndCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		// A vendor that echoes the request's headers, and then some.
		fmt.Fprintf(w, `{"message":"Bad credentials","echo":{"authorization":%q,"dd-api-key":%q,"x":%q}}`,
			r.Header.Get("Authorization"), r.Header.Get("DD-API-KEY"), strings.Repeat("y", 2*MaxErrorBody))
	}))
	defer srv.Close()
	c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, MaxRetries: -1})
	c.Transport = authTransport{c.Transport}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("status %d", resp.StatusCode)
	}
	if strings.Contains(string(b), "secret") {
		t.Errorf("secret in the error body: %.200s", b)
	}
	if len(b) > MaxErrorBody+200 {
		t.Errorf("error body of %d bytes, want at most about %d", len(b), MaxErrorBody)
	}
	if !strings.Contains(string(b), "Bad credentials") {
		t.Errorf("the message is gone: %.200s", b)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Authorization: Bearer ghp_abcdefghijkl`, `Authorization: <redacted>`},
		{`{"authorization":"Bearer ghp_abcdefghijkl"}`, `{"authorization":"<redacted>"}`},
		{`headers: DD-API-KEY: 0123456789abcdef, DD-APPLICATION-KEY=fedcba9876543210`, `headers: DD-API-KEY: <redacted>, DD-APPLICATION-KEY=<redacted>`},
		{`Authorization: Token token=y_NbAkKc66ryYTWUXYEu`, `Authorization: <redacted>`},
		{`?api_key=abc123456&x=1`, `?api_key=<redacted>&x=1`},
		{`the token is mysecretvalue inside`, `the token is <redacted> inside`},
		{`401 Bad credentials`, `401 Bad credentials`},
		{`rate limit exhausted until reset`, `rate limit exhausted until reset`},
	}
	for _, tt := range tests {
		if got := Redact(tt.in, "mysecretvalue", "abc"); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("Authorization: Bearer s3cr3tvalue", "s3cr3tvalue")
	f.Add(`{"dd-api-key":"s3cr3tvalue"}`, "s3cr3tvalue")
	f.Fuzz(func(t *testing.T, text, secret string) {
		got := Redact(text, secret)
		if len(secret) >= minSecretLen && strings.Contains(got, secret) && !strings.Contains(Redacted, secret) {
			t.Fatalf("Redact(%q, %q) = %q still holds the secret", text, secret, got)
		}
	})
}

func TestUnreachableFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	// An unknown host, without asking a real resolver.
	noSuchHost := &http.Transport{DialContext: func(ctx context.Context, _, a string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.nosuch.invalid", IsNotFound: true}}
	}}
	tests := []struct {
		name, url, want string
		base            http.RoundTripper
	}{
		{"connection refused", "http://" + addr + "/repos/a/b/pulls", "connection refused", nil},
		{"unknown host", "http://api.nosuch.invalid/repos/a/b/pulls", "host not found (api.nosuch.invalid)", noSuchHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, Sleep: clk.Sleep, Now: clk.Now, Base: tt.base})
			_, err := c.Get(tt.url)
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want an *HTTPError", err)
			}
			if he.Attempts != 1 || len(clk.Sleeps()) != 0 {
				t.Errorf("%d attempts, sleeps %v: want one attempt and no retry", he.Attempts, clk.Sleeps())
			}
			if !strings.Contains(he.Detail(), tt.want) {
				t.Errorf("detail %q does not say %q", he.Detail(), tt.want)
			}
		})
	}
}

func TestFarFutureResetGivesUp(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"github reset in 9999", map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "253402300799"},
			"the vendor asks to wait until 9999-12-31T23:59:59Z, longer than the 2m0s allowed"},
		{"Retry-After of 1e15 seconds", map[string]string{"Retry-After": "1000000000000000"},
			"must wait 24h0m0s, longer than the 2m0s allowed"},
		{"pagerduty reset in 1e12 seconds", map[string]string{"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "1000000000000"},
			"the vendor asks to wait until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vendor := "github"
			if strings.HasPrefix(tt.name, "pagerduty") {
				vendor = "pagerduty"
			}
			s, srv := serve(t, reply{status: 429, header: tt.header})
			clk := newClock()
			b := &Budget{}
			scheme, secondary := testScheme(vendor)
			c := NewHTTPClient(HTTPOptions{Vendor: vendor, RateLimit: scheme, SecondaryRateLimit: secondary, Sleep: clk.Sleep, Now: clk.Now, Budget: b})
			_, err := c.Get(srv.URL + "/x")
			var he *HTTPError
			if !errors.As(err, &he) || !strings.Contains(he.Detail(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if n := len(s.requests()); n != 1 || len(clk.Sleeps()) != 0 {
				t.Errorf("%d requests, sleeps %v: want 1 and none", n, clk.Sleeps())
			}
			if _, _, reset, known := b.Snapshot(); known && reset.Sub(clk.Now()) > MaxRateLimitWait {
				t.Errorf("budget reset %v is more than a day away", reset)
			}
		})
	}
}

func TestPollGuard(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		if r.URL.Path == "/401" {
			w.WriteHeader(401)
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	c := NewHTTPClient(HTTPOptions{Vendor: "github", RateLimit: HeaderRateLimit("X-RateLimit-", true), SecondaryRateLimit: true, MaxRetries: -1})
	get := func(ctx context.Context, path string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	t.Run("a repeated page is a loop", func(t *testing.T) {
		ctx := WithPollGuard(context.Background(), NewPollGuard(PollLimits{MaxRepeats: 2}))
		var err error
		n := 0
		for ; n < 10 && err == nil; n++ {
			err = get(ctx, "/pulls?page=1")
		}
		if err == nil || !strings.Contains(err.Error(), "pagination loops") || n != 3 {
			t.Fatalf("after %d requests: %v", n, err)
		}
	})
	t.Run("requests per poll are capped", func(t *testing.T) {
		ctx := WithPollGuard(context.Background(), NewPollGuard(PollLimits{MaxRequests: 5}))
		var err error
		n := 0
		for ; n < 10 && err == nil; n++ {
			err = get(ctx, fmt.Sprintf("/pulls?page=%d", n))
		}
		if err == nil || !strings.Contains(err.Error(), "more than 5 requests in one poll") {
			t.Fatalf("after %d requests: %v", n, err)
		}
	})
	t.Run("nothing is sent after a 401", func(t *testing.T) {
		ctx := WithPollGuard(context.Background(), NewPollGuard(PollLimits{}))
		if err := get(ctx, "/401"); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		before := hits
		mu.Unlock()
		err := get(ctx, "/other")
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != 401 {
			t.Fatalf("err = %v, want a 401 *HTTPError", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if hits != before {
			t.Errorf("a request was sent after the 401")
		}
	})
}

func TestSourceErrorIsOneLine(t *testing.T) {
	rejected := &HTTPError{Vendor: "github", Method: "GET", Path: "/repos/a/c/pulls", StatusCode: 401, Reason: reasonRejected}
	err := errors.Join(
		errors.New("github: list pulls a/b: 401 Bad credentials: Authorization: Bearer ghp_abcdefghijk"),
		fmt.Errorf("github: list pulls a/c: %w", rejected),
		fmt.Errorf("github: list pulls a/d: %w", rejected),
	)
	se := newSourceError("github", err, []string{"ghp_abcdefghijk"})
	got := se.Error()
	want := "github: list pulls a/b: 401 Bad credentials: Authorization: <redacted> (2 more requests not sent after it)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !errors.Is(se, rejected) {
		t.Error("errors.Is does not see the wrapped error")
	}
	same := newSourceError("github", errors.Join(errors.New("github: list pulls a/b: 404 Not Found"), errors.New("github: list pulls a/c: 404 Not Found")), nil)
	if got, want := same.Error(), "github: list pulls a/b: 404 Not Found (1 more failed the same way)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	multi := newSourceError("datadog", errors.Join(errors.New("datadog: query a: 500 Internal Server Error"), errors.New("query b: timeout\nafter 3 attempts")), nil)
	if got, want := multi.Error(), "datadog: query a: 500 Internal Server Error; and 1 more: query b: timeout after 3 attempts"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestRunAllCancelIsNotAFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := collectFunc{name: "slow", f: func(ctx context.Context, run Run) error {
		cancel()
		<-ctx.Done()
		return fmt.Errorf("slow: %w", ctx.Err())
	}}
	res := RunAll(ctx, []Collector{c}, Run{}, nil)
	if !res[0].Canceled || !errors.Is(res[0].Err, context.Canceled) {
		t.Errorf("result %+v: want Canceled", res[0])
	}
}

func TestRunAllResumesAnInterruptedBackfill(t *testing.T) {
	since := time.Date(2025, 12, 6, 0, 0, 0, 0, time.UTC)
	var got Run
	c := collectFunc{name: "github", f: func(ctx context.Context, run Run) error { got = run; return nil }}
	RunAll(context.Background(), []Collector{c}, Run{Since: since.AddDate(0, 9, 0), Backfills: map[string]time.Time{"github": since}}, nil)
	if !got.Since.Equal(since) || !got.Backfill {
		t.Errorf("run Since %v Backfill %v: want %v, true", got.Since, got.Backfill, since)
	}
}

type collectFunc struct {
	name string
	f    func(ctx context.Context, run Run) error
}

func (c collectFunc) Name() string                               { return c.name }
func (c collectFunc) Collect(ctx context.Context, run Run) error { return c.f(ctx, run) }

func TestRunAllPollDeadline(t *testing.T) {
	c := collectFunc{name: "stuck", f: func(ctx context.Context, run Run) error {
		<-ctx.Done()
		return fmt.Errorf("stuck: list: %w", ctx.Err())
	}}
	res := RunAll(context.Background(), []Collector{c}, Run{Limits: PollLimits{Timeout: 20 * time.Millisecond}}, nil)
	r := res[0]
	if r.Canceled || r.Err == nil || !strings.Contains(r.Err.Error(), "poll stopped at its deadline of 20ms") || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("result %+v: want a deadline failure", r)
	}
}
