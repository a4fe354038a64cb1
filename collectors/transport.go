package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"
)

// Budget is a vendor's rate-limit state as last reported by its headers.
// The zero value is ready to use; share one between the client and whoever
// reports it (`impact status`, /metrics).
type Budget struct {
	mu        sync.Mutex
	Limit     int
	Remaining int
	// Reset is when the budget refills (zero when the vendor did not say).
	Reset time.Time
	// Known is set once a response carried the headers.
	Known bool
	// Updated is when the headers were last read.
	Updated time.Time
}

// Snapshot returns a copy of the budget's fields.
func (b *Budget) Snapshot() (limit, remaining int, reset time.Time, known bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Limit, b.Remaining, b.Reset, b.Known
}

// refilled records that the budget has been waited out until reset: unless
// a newer response has updated it since, it is full again.
func (b *Budget) refilled(reset time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Known && b.Reset.Equal(reset) {
		b.Remaining, b.Reset = b.Limit, time.Time{}
	}
}

func (b *Budget) set(r budgetReading, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Limit, b.Remaining, b.Reset, b.Known, b.Updated = r.limit, r.remaining, r.reset, true, now
}

// budgetReading is what one response's headers say about the budget.
type budgetReading struct {
	limit, remaining int
	reset            time.Time // zero when absent; at most now + MaxRateLimitWait
	said             time.Time // the reset the vendor sent, when it was further
	ok               bool      // remaining was present
}

// MaxRateLimitWait bounds every wait a vendor can ask for (Retry-After, a
// rate-limit reset): a reset further away is taken as this far, which is
// longer than any MaxWait, so the request fails with a clear error rather
// than overflowing a duration into no wait at all.
const MaxRateLimitWait = 24 * time.Hour

// seconds converts a vendor's count of seconds to a duration, at most
// MaxRateLimitWait (a huge count would overflow into a negative one).
func seconds(v float64) time.Duration {
	if v >= MaxRateLimitWait.Seconds() {
		return MaxRateLimitWait
	}
	return time.Duration(v * float64(time.Second))
}

// WaitUntil is how long to wait for t from now: 0 when past, at most
// MaxRateLimitWait. Use it for every vendor-given time (t.Sub saturates at
// 292 years, and adding to that overflows).
func WaitUntil(now, t time.Time) time.Duration {
	if !t.After(now) {
		return 0
	}
	if t.After(now.Add(MaxRateLimitWait)) {
		return MaxRateLimitWait
	}
	return t.Sub(now)
}

func headerNumber(h http.Header, name string) (float64, bool) {
	s := strings.TrimSpace(h.Get(name))
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, false
	}
	return v, true
}

// retryAfter parses Retry-After: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	s := strings.TrimSpace(h.Get("Retry-After"))
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 && !math.IsNaN(n) {
		return seconds(n), true
	}
	if t, err := http.ParseTime(s); err == nil {
		return WaitUntil(now, t), true
	}
	return 0, false
}

const reasonReset = "rate limit exhausted until reset"

// resetSlack is added to waits computed from a reset time: clocks differ.
const resetSlack = time.Second

// lowBudget is the remaining count below which requests are spaced out.
func lowBudget(limit int) int {
	const floor = 10
	n := int(math.Ceil(float64(limit) * 0.05))
	if n < floor {
		n = floor
	}
	return n
}

// HTTPError is the error of a request the shared client gave up on: the
// retries ran out, or the vendor asked for a longer wait than MaxWait.
type HTTPError struct {
	Vendor string
	Method string
	// Path is the URL path, without the query.
	Path string
	// StatusCode of the last answer; 0 when none came (network error,
	// timeout) or no request was sent (budget exhausted).
	StatusCode int
	// Attempts made.
	Attempts int
	// Wait is what the vendor asked for when it exceeded MaxWait (at most
	// MaxRateLimitWait); Until, when known, the time it named.
	Wait    time.Duration
	MaxWait time.Duration
	Until   time.Time
	// Reason says why a wait was needed, e.g. "rate limited".
	Reason string
	// Err is the last attempt's error when no answer came.
	Err error
}

// Status is the HTTP status line, e.g. "503 Service Unavailable".
func (e *HTTPError) Status() string {
	if e.StatusCode == 0 {
		return ""
	}
	return fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Detail is the error without vendor, method and path, e.g.
// "503 Service Unavailable after 6 attempts"; collectors put it behind their
// own "source: operation:" prefix.
func (e *HTTPError) Detail() string {
	var b strings.Builder
	if s := e.Status(); s != "" {
		b.WriteString(s)
	}
	if e.Wait > 0 {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		reason := e.Reason
		if reason == "" {
			reason = "rate limited"
		}
		if e.Wait >= MaxRateLimitWait && !e.Until.IsZero() {
			fmt.Fprintf(&b, "%s: the vendor asks to wait until %s, longer than the %s allowed: giving up until a later poll",
				reason, e.Until.UTC().Format(time.RFC3339), roundWait(e.MaxWait))
			return b.String()
		}
		fmt.Fprintf(&b, "%s: must wait %s, longer than the %s allowed", reason, roundWait(e.Wait), roundWait(e.MaxWait))
		return b.String()
	}
	if e.Reason != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s: %s %s: %s", e.Vendor, e.Method, e.Path, e.Detail())
}

func (e *HTTPError) Unwrap() error { return e.Err }

func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

type transport struct {
	o HTTPOptions

	mu  sync.Mutex
	lim *rate.Limiter // spaces requests while the budget is low; nil otherwise
}

func newTransport(o HTTPOptions) http.RoundTripper {
	return &transport{o: o.withDefaults()}
}

// maxSniff bounds how much of a 403 body is read to tell a rate limit.
const maxSniff = 64 << 10

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := checkHop(t.vendor(), req); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	guard := pollGuardFrom(ctx)
	if guard != nil {
		if err := guard.admit(t.vendor(), req); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
	}
	body, err := replayableBody(req)
	if err != nil {
		return nil, err
	}
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     t.o.InitialBackoff,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         t.o.MaxBackoff,
	}
	bo.Reset()
	maxAttempts := t.o.MaxRetries + 1
	for attempt := 1; ; attempt++ {
		// After a retry wait the vendor's own wait has been honoured;
		// pacing applies to fresh requests.
		if attempt == 1 {
			if err := t.pace(ctx, req); err != nil {
				var he *HTTPError
				if guard != nil && errors.As(err, &he) && he.Wait > 0 {
					guard.tooLong(he)
				}
				return nil, err
			}
		}
		resp, err := t.attempt(ctx, req, body, attempt)
		now := t.o.Now()
		var wait time.Duration
		var reason string
		var resetAt time.Time // the budget reset the wait runs to, if any
		if err != nil {
			t.record(0)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if dialFailure(err) {
				// Retrying a refused connection or an unknown host only
				// delays the error by minutes.
				return nil, t.unreachable(req, attempt, err)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no response within %s", t.o.Timeout)
			}
			if attempt >= maxAttempts {
				return nil, t.fail(req, 0, attempt, err)
			}
			wait, reason = bo.NextBackOff(), err.Error()
		} else {
			t.record(resp.StatusCode)
			reading := t.o.budgetOf(resp.Header, now)
			if reading.ok {
				kept := reading
				if !kept.said.IsZero() {
					// A reset in 9999 is not remembered for pacing: it
					// would hold back the next polls for a day on a lie.
					kept.reset = time.Time{}
				}
				t.o.Budget.set(kept, now)
			}
			var retry bool
			retry, wait, reason = t.classify(resp, reading, now, bo)
			if reason == reasonReset {
				resetAt = reading.reset
			}
			if !retry {
				if guard != nil {
					guard.answered(t.vendor(), req, resp.StatusCode)
				}
				if err := t.limitBody(req, resp); err != nil {
					return nil, t.fail(req, resp.StatusCode, attempt, err)
				}
				redactErrorBody(req, resp)
				return resp, nil
			}
			discard(resp)
			if attempt >= maxAttempts {
				e := t.fail(req, resp.StatusCode, attempt, nil)
				if resp.StatusCode < 500 {
					e.Reason = reason // which rate limit
				}
				return nil, e
			}
			if wait > t.o.MaxWait {
				e := t.fail(req, resp.StatusCode, attempt, nil)
				e.Wait, e.MaxWait, e.Reason = wait, t.o.MaxWait, reason
				if !reading.said.IsZero() {
					e.Until = reading.said
				}
				if guard != nil {
					guard.tooLong(e)
				}
				return nil, e
			}
		}
		t.o.Stats.retry(t.o.Vendor)
		t.o.Logger.Log(ctx, waitLevel(wait), "retrying request", "vendor", t.o.Vendor, "method", req.Method, "path", req.URL.Path,
			"reason", reason, "wait", roundWait(wait), "attempt", attempt+1, "of", maxAttempts)
		if !t.o.Sleep(ctx.Done(), wait) {
			return nil, ctx.Err()
		}
		if !resetAt.IsZero() {
			t.o.Budget.refilled(resetAt)
		}
	}
}

func (t *transport) fail(req *http.Request, status, attempts int, err error) *HTTPError {
	return &HTTPError{Vendor: t.vendor(), Method: req.Method, Path: req.URL.Path, StatusCode: status, Attempts: attempts, Err: err}
}

func (t *transport) vendor() string {
	if t.o.Vendor == "" {
		return "http"
	}
	return t.o.Vendor
}

func (t *transport) record(status int) {
	t.o.Stats.add(t.o.Vendor, status)
	if t.o.OnResponse != nil {
		t.o.OnResponse(t.o.Vendor, status)
	}
}

// attempt sends one copy of req, bounded by the per-attempt timeout. The
// timeout keeps running while the caller reads the body; closing the body
// releases it.
func (t *transport) attempt(ctx context.Context, req *http.Request, body *replayBody, n int) (*http.Response, error) {
	actx, cancel := context.WithTimeout(ctx, t.o.Timeout)
	r := req.Clone(actx)
	if body != nil && (n > 1 || body.first == nil) {
		b, err := body.get()
		if err != nil {
			cancel()
			return nil, fmt.Errorf("replay request body: %w", err)
		}
		r.Body = b
	}
	r.Header.Set("User-Agent", t.o.UserAgent)
	resp, err := t.o.Base.RoundTrip(r)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// classify decides whether resp is worth another attempt, and after how long.
func (t *transport) classify(resp *http.Response, reading budgetReading, now time.Time, bo *backoff.ExponentialBackOff) (retry bool, wait time.Duration, reason string) {
	status := resp.StatusCode
	switch {
	case status >= 500:
		if d, ok := retryAfter(resp.Header, now); ok {
			return true, d, "unavailable (Retry-After)"
		}
		return true, bo.NextBackOff(), resp.Status
	case status == http.StatusTooManyRequests || status == http.StatusForbidden:
		if d, ok := retryAfter(resp.Header, now); ok {
			return true, d, "rate limited (Retry-After)"
		}
		if reading.ok && reading.remaining == 0 {
			if !reading.reset.IsZero() {
				return true, WaitUntil(now, reading.reset) + resetSlack, reasonReset
			}
			return true, max(bo.NextBackOff(), RateLimitMinWait), "rate limit exhausted"
		}
		if status == http.StatusTooManyRequests {
			return true, bo.NextBackOff(), "rate limited"
		}
		if t.o.SecondaryRateLimit {
			if secondaryLimit(resp) {
				return true, max(bo.NextBackOff(), RateLimitMinWait), "secondary rate limit"
			}
		}
	}
	return false, 0, ""
}

// secondaryLimit reports whether a 403 body speaks of GitHub's secondary
// (abuse) rate limit. The body stays readable for the caller.
func secondaryLimit(resp *http.Response) bool {
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxSniff))
	resp.Body = &joinedBody{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), Closer: resp.Body}
	if err != nil {
		return false
	}
	s := strings.ToLower(string(head))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse")
}

// pace delays a request while the budget is low: with nothing left it waits
// for the reset; below lowBudget it spaces requests so the rest lasts until
// the reset.
func (t *transport) pace(ctx context.Context, req *http.Request) error {
	now := t.o.Now()
	limit, remaining, reset, known := t.o.Budget.Snapshot()
	if !known || reset.IsZero() || !now.Before(reset) {
		t.unpace()
		return nil
	}
	var wait time.Duration
	var reason string
	switch {
	case remaining <= 0:
		wait = WaitUntil(now, reset) + resetSlack
		reason = fmt.Sprintf("rate-limit budget exhausted (0 of %d left)", limit)
	case remaining < lowBudget(limit):
		// Spacing is advice, not the vendor's demand: cap it at MaxWait.
		wait = min(t.reserve(now, rate.Limit(float64(remaining)/reset.Sub(now).Seconds())), t.o.MaxWait)
		reason = fmt.Sprintf("rate-limit budget low (%d of %d left)", remaining, limit)
	default:
		t.unpace()
		return nil
	}
	if wait <= 0 {
		return nil
	}
	if wait > t.o.MaxWait {
		return &HTTPError{Vendor: t.vendor(), Method: req.Method, Path: req.URL.Path, Wait: wait, MaxWait: t.o.MaxWait, Reason: reason}
	}
	t.o.Logger.Log(ctx, waitLevel(wait), "slowing down", "vendor", t.o.Vendor, "reason", reason, "wait", roundWait(wait), "reset", reset.UTC())
	if !t.o.Sleep(ctx.Done(), wait) {
		return ctx.Err()
	}
	if remaining <= 0 {
		t.o.Budget.refilled(reset)
	}
	return nil
}

// reserve books the next request slot at limit requests per second and
// returns how long to wait for it. The limiter is created on entering the
// low-budget state with its one-request bucket empty: the request that
// reported the low budget has just used it.
func (t *transport) reserve(now time.Time, limit rate.Limit) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lim == nil {
		t.lim = rate.NewLimiter(limit, 1)
		t.lim.ReserveN(now, 1)
	} else if t.lim.Limit() != limit {
		t.lim.SetLimitAt(now, limit)
	}
	return t.lim.ReserveN(now, 1).DelayFrom(now)
}

// unpace leaves the low-budget state.
func (t *transport) unpace() {
	t.mu.Lock()
	t.lim = nil
	t.mu.Unlock()
}

// replayBody gives each attempt its copy of the request body.
type replayBody struct {
	// first is the body the first attempt sends (the request's own); nil
	// when it had to be read into memory.
	first io.ReadCloser
	get   func() (io.ReadCloser, error)
}

// replayableBody makes req's body replayable (nil when there is none):
// through req.GetBody when set, else by reading it into memory once.
func replayableBody(req *http.Request) (*replayBody, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		return &replayBody{first: req.Body, get: req.GetBody}, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: read request body: %w", req.URL.Host, req.Method, req.URL.Path, err)
	}
	return &replayBody{get: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}, nil
}

// discard drains a little of an unwanted body, so the connection can be
// reused, and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxSniff))
	resp.Body.Close()
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// waitLevel logs long waits at Info, so a user sees why a run pauses.
func waitLevel(d time.Duration) slog.Level {
	if d >= 5*time.Second {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

type joinedBody struct {
	io.Reader
	io.Closer
}
