package collectors

// What a hostile or broken vendor can do to impact, and the one place each
// is stopped for every source (every collector's requests go through the
// shared client):
//
//   - send a credential elsewhere: a redirected request that carries a
//     credential (Authorization, DD-API-KEY, any *key*/*token* header) is
//     only sent to the host the chain started at, never from https to
//     http; checked both by the client's CheckRedirect and by the
//     transport on each redirected hop, since go-github adds
//     Authorization below the client on every hop, and a vendor client
//     may build its own http.Client around the transport (sameOrigin);
//   - echo a credential back: error bodies (status ≥ 400) reach the vendor
//     client capped at MaxErrorBody bytes, with the credentials this
//     request carried, and anything that looks like one, redacted
//     (redactErrorBody);
//   - exhaust memory: every body is cut at HTTPOptions.MaxResponseBytes
//     with a *ResponseTooLargeError (limitBody);
//   - keep a poll busy forever: a PollGuard in the context caps the
//     requests of one poll and stops a request repeated as in a pagination
//     loop (see PollGuard).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// DefaultMaxResponseBytes is the default HTTPOptions.MaxResponseBytes:
// generous (the largest answer a collector asks for, a year of hourly
// points or a page of 100 PRs, is well under 10 MiB), yet far below the
// memory the systemd unit allows.
const DefaultMaxResponseBytes = 64 << 20

// MaxErrorBody is the most of an error body (status ≥ 400) a vendor client
// gets to read.
const MaxErrorBody = 64 << 10

// maxRedirects bounds a redirect chain (Go's own default).
const maxRedirects = 10

// RedirectError is a redirect the client refused to follow: to another
// host, or from https to http. Credentials only go to the host configured.
// Its message has no vendor prefix: collectors put it behind theirs.
type RedirectError struct {
	Vendor   string
	From, To *url.URL
}

func (e *RedirectError) Error() string {
	why := "to another host"
	if e.From.Scheme == "https" && e.To.Scheme != "https" && strings.EqualFold(e.From.Host, e.To.Host) {
		why = "from https to http"
	}
	return fmt.Sprintf("refused a redirect %s (%s → %s): credentials are only sent to the configured host",
		why, origin(e.From), origin(e.To))
}

// origin is scheme://host of u, without path, query or user info.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// sameOrigin reports whether a request to to may follow one to from: the
// same host and port, and not from https down to http.
func sameOrigin(from, to *url.URL) bool {
	if !strings.EqualFold(hostPort(from), hostPort(to)) {
		return false
	}
	return !(from.Scheme == "https" && to.Scheme != "https")
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// checkRedirect is the shared client's CheckRedirect: a hop that carries
// a credential (Go has copied the first request's headers into it) must
// stay on the first request's origin.
func checkRedirect(vendor string) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if carriesCredential(req) && !sameOrigin(via[0].URL, req.URL) {
			return &RedirectError{Vendor: vendor, From: via[0].URL, To: req.URL}
		}
		return nil
	}
}

// carriesCredential reports whether req holds a credential.
func carriesCredential(req *http.Request) bool { return len(requestSecrets(req)) > 0 }

// checkHop is the transport's own check of a redirected request: a vendor
// client may build its own http.Client around the transport, without our
// CheckRedirect (go-github copies it, but nothing guarantees the next
// library will), and go-github adds Authorization on every hop itself.
func checkHop(vendor string, req *http.Request) error {
	if req.Response == nil || req.Response.Request == nil || req.Response.Request.URL == nil {
		return nil // not a redirect
	}
	first := req.Response.Request
	for i := 0; first.Response != nil && first.Response.Request != nil && i < 100; i++ {
		first = first.Response.Request
	}
	if carriesCredential(req) && !sameOrigin(first.URL, req.URL) {
		return &RedirectError{Vendor: vendor, From: first.URL, To: req.URL}
	}
	return nil
}

// ResponseTooLargeError is a response body longer than the limit; its
// message has no vendor prefix.
type ResponseTooLargeError struct {
	Vendor string
	Method string
	Path   string
	Limit  int64
	// Length is the Content-Length announced, or -1 when the body was cut
	// while reading.
	Length int64
}

func (e *ResponseTooLargeError) Error() string {
	size := "more than " + formatBytes(e.Limit)
	if e.Length >= 0 {
		size = formatBytes(e.Length)
	}
	return fmt.Sprintf("response of %s exceeds the limit of %s (collect.max_response_bytes)", size, formatBytes(e.Limit))
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// limitBody makes resp's body fail with a *ResponseTooLargeError past
// limit bytes; an announced Content-Length above it fails at once.
func (t *transport) limitBody(req *http.Request, resp *http.Response) error {
	limit := t.o.MaxResponseBytes
	if limit <= 0 {
		return nil
	}
	tooLarge := &ResponseTooLargeError{Vendor: t.vendor(), Method: req.Method, Path: req.URL.Path, Limit: limit, Length: -1}
	if resp.ContentLength > limit {
		tooLarge.Length = resp.ContentLength
		resp.Body.Close()
		return tooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, err: tooLarge}
	return nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	// Read one byte more than allowed, to tell "exactly the limit" from
	// "over it".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		n += int(b.left) // drop the byte past the limit
		b.left = -1
		return n, b.err
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// redactErrorBody replaces an error answer's body (status ≥ 400) with at
// most MaxErrorBody bytes of it, the credentials req carried and anything
// credential-looking redacted: vendor clients put error bodies in their
// errors, which end up in logs, `impact status` and the store.
func redactErrorBody(req *http.Request, resp *http.Response) {
	if resp.StatusCode < 400 || resp.Body == nil {
		return
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	resp.Body.Close()
	red := []byte(Redact(string(b), requestSecrets(req)...))
	if err != nil {
		red = nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(red))
	resp.ContentLength = int64(len(red))
	resp.Header.Del("Content-Length")
	resp.Header.Del("Content-Encoding")
}

// credentialHeaders are the request headers that carry a credential.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "DD-API-KEY", "DD-APPLICATION-KEY", "X-Api-Key", "Api-Key", "X-Honeycomb-Team", "X-Query-Key"}

// requestSecrets are the credential values req carries, each whole and
// without its scheme ("Bearer x" and "x"; PagerDuty's "Token token=x").
func requestSecrets(req *http.Request) []string {
	var out []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if v != "" {
			out = append(out, v)
		}
	}
	for name, vs := range req.Header {
		if !isCredentialHeader(name) {
			continue
		}
		for _, v := range vs {
			add(v)
			if _, rest, ok := strings.Cut(v, " "); ok {
				add(rest)
				if _, tok, ok := strings.Cut(rest, "token="); ok {
					add(tok)
				}
			}
		}
	}
	if u := req.URL.User; u != nil {
		if p, ok := u.Password(); ok {
			add(p)
		}
	}
	return out
}

func isCredentialHeader(name string) bool {
	for _, h := range credentialHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	n := strings.ToLower(name)
	return strings.Contains(n, "key") || strings.Contains(n, "token") || strings.Contains(n, "secret") || strings.Contains(n, "auth")
}

// dialFailure reports whether err means the vendor cannot be reached at
// all — connection refused, no such host, no route — which retrying in a
// few seconds will not change. Timeouts are not dial failures: they are
// retried.
func dialFailure(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return !dns.IsTimeout && !dns.IsTemporary
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// unreachable builds the error of a request that could not connect.
func (t *transport) unreachable(req *http.Request, attempt int, err error) error {
	var dns *net.DNSError
	what := "connection refused"
	switch {
	case errors.As(err, &dns):
		what = "host not found (" + dns.Name + ")"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		what = "no route to host"
	}
	return t.fail(req, 0, attempt, fmt.Errorf("cannot reach %s: %s", req.URL.Host, what))
}
