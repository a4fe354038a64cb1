package collectors

import (
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of HTTPOptions.
const (
	DefaultUserAgent      = "impact/dev"
	DefaultTimeout        = 30 * time.Second
	DefaultMaxRetries     = 5
	DefaultMaxWait        = 2 * time.Minute
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = time.Minute
	// RateLimitMinWait is the shortest wait after a rate-limit answer that
	// says neither how long to wait nor when the budget resets (GitHub asks
	// for at least a minute after a secondary limit).
	RateLimitMinWait = time.Minute
)

// HTTPOptions configure the shared HTTP client.
type HTTPOptions struct {
	// Vendor names the source in errors and metrics ("github", "datadog", ...).
	Vendor string
	// UserAgent is sent on every request; default "impact/dev". Callers
	// pass "impact/<version>".
	UserAgent string
	// Timeout bounds one request attempt, reading the body included; default 30s.
	Timeout time.Duration
	// MaxRetries on 5xx, 429, rate-limit 403s, timeouts and dropped
	// connections (not on a refused connection or an unknown host, which
	// fail at once); default 5
	// (so at most 6 attempts). Negative means no retries.
	MaxRetries int
	// MaxWait is the longest single wait the client accepts (Retry-After or a
	// rate-limit reset); a longer one fails the request with an error that
	// says how long the vendor asked to wait. Default 2m.
	MaxWait time.Duration
	// InitialBackoff is the first exponential-backoff interval (with ±50%
	// jitter, doubling each retry); default 1s. MaxBackoff caps it; default
	// 1m (never above MaxWait).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// Sleep waits for d or until ctxDone is closed, reporting whether the
	// full wait elapsed; tests replace it. Default: a timer.
	Sleep func(ctxDone <-chan struct{}, d time.Duration) bool
	// Now is the clock used for rate-limit resets and pacing; default time.Now.
	Now func() time.Time
	// Budget receives the vendor's rate-limit state after each response; may
	// be nil (the client then keeps its own for pacing).
	Budget *Budget
	// Stats counts responses by vendor and status; default DefaultStats.
	Stats *Stats
	// OnResponse, if set, is called after every attempt with the status
	// (0 when no response arrived).
	OnResponse func(vendor string, status int)
	// Logger reports retries and rate-limit waits; default: discarded.
	Logger *slog.Logger
	// Base is the underlying transport; default http.DefaultTransport.
	Base http.RoundTripper
	// MaxResponseBytes caps every response body: a longer one fails the
	// request with a *ResponseTooLargeError. 0 means
	// DefaultMaxResponseBytes (64 MiB), negative no cap.
	MaxResponseBytes int64
	// RateLimit reads the vendor's rate-limit headers (nil: the vendor
	// sends none). A source declares its scheme in its collectors.Source;
	// the registry passes it here.
	RateLimit RateLimitScheme
	// SecondaryRateLimit: a 403 whose body speaks of a secondary (abuse)
	// rate limit is retried after at least RateLimitMinWait (GitHub).
	SecondaryRateLimit bool
}

// RateLimitScheme reads a vendor's rate-limit headers: the budget's limit,
// what remains, and when it resets (zero when not said). ok is false when
// the response carried no budget.
type RateLimitScheme func(h http.Header, now time.Time) (limit, remaining int, reset time.Time, ok bool)

// budgetOf reads the budget a response reports through the source's
// scheme (none: no budget), its reset bounded by MaxRateLimitWait.
func (o HTTPOptions) budgetOf(h http.Header, now time.Time) budgetReading {
	if o.RateLimit == nil {
		return budgetReading{}
	}
	l, r, reset, ok := o.RateLimit(h, now)
	b := budgetReading{limit: l, remaining: r, reset: reset, ok: ok}
	// A reset a day or more away is a vendor's mistake or malice (GitHub's
	// window is an hour): bounded, and not remembered for pacing.
	if limit := now.Add(MaxRateLimitWait); !reset.IsZero() && !reset.Before(limit) {
		b.said, b.reset = reset, limit
	}
	return b
}

// HeaderRateLimit is the scheme of vendors that send
// <prefix>Limit, <prefix>Remaining and <prefix>Reset headers; epoch says
// Reset is a Unix time rather than seconds from now.
func HeaderRateLimit(prefix string, epoch bool) RateLimitScheme {
	return func(h http.Header, now time.Time) (int, int, time.Time, bool) {
		rem, ok := headerNumber(h, prefix+"Remaining")
		if !ok {
			return 0, 0, time.Time{}, false
		}
		var limit int
		if l, ok := headerNumber(h, prefix+"Limit"); ok {
			limit = int(l)
		}
		var reset time.Time
		if v, ok := headerNumber(h, prefix+"Reset"); ok {
			if epoch {
				reset = time.Unix(int64(min(v, 1<<40)), 0)
			} else {
				reset = secondsFrom(now, v)
			}
		}
		return limit, int(rem), reset, true
	}
}

// secondsFrom is now plus a vendor's count of seconds, without overflowing
// a duration: a huge count stays a far time (budgetOf bounds the wait and
// keeps what the vendor said for the error).
func secondsFrom(now time.Time, v float64) time.Time {
	whole := math.Floor(min(v, 1<<40))
	return time.Unix(now.Unix()+int64(whole), int64(now.Nanosecond())).Add(time.Duration((min(v, 1<<40) - whole) * float64(time.Second)))
}

// StructuredRateLimit is the scheme of vendors that send one header in the
// IETF draft's structured form, "RateLimit: limit=100, remaining=80,
// reset=54" (reset in seconds from now), as Honeycomb does.
func StructuredRateLimit(header string) RateLimitScheme {
	return func(h http.Header, now time.Time) (int, int, time.Time, bool) {
		v := h.Get(header)
		if v == "" {
			return 0, 0, time.Time{}, false
		}
		var limit, remaining int
		var reset time.Time
		found := false
		for _, part := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "limit":
				limit = int(n)
			case "remaining":
				remaining, found = int(n), true
			case "reset":
				reset = secondsFrom(now, n)
			}
		}
		return limit, remaining, reset, found
	}
}

func (o HTTPOptions) withDefaults() HTTPOptions {
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff > o.MaxWait {
		o.MaxBackoff = o.MaxWait
	}
	if o.InitialBackoff > o.MaxBackoff {
		o.InitialBackoff = o.MaxBackoff
	}
	if o.Sleep == nil {
		o.Sleep = SleepTimer
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Budget == nil {
		o.Budget = &Budget{}
	}
	if o.Stats == nil {
		o.Stats = DefaultStats
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Base == nil {
		o.Base = http.DefaultTransport
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	return o
}

// NewHTTPClient returns the client every collector uses: it sets User-Agent,
// retries 5xx/429/rate-limit 403s and network errors with exponential backoff
// honouring Retry-After and the vendor's rate-limit headers, bounds each
// attempt by Timeout, and slows down before the remaining budget reaches
// zero.
//
// It also stands between the vendor and the user's credentials and memory
// (see guard.go): redirects are followed only on the same host (never from
// https to http), error bodies are capped and their credentials redacted,
// every body is capped at MaxResponseBytes, a refused connection or an
// unknown host fails at once, and a PollGuard in the request's context
// bounds the poll.
//
// Non-retryable answers (400, 401, 404, a 403 that is not a rate limit...)
// are returned (error bodies redacted), so the vendor's client builds its own error. When the
// retries run out, or the vendor asks for a wait longer than MaxWait, the
// request fails with an *HTTPError (wrapped by the vendor client, usually
// in a *url.Error; find it with errors.As).
func NewHTTPClient(o HTTPOptions) *http.Client {
	vendor := o.Vendor
	if vendor == "" {
		vendor = "http"
	}
	return &http.Client{Transport: newTransport(o), CheckRedirect: checkRedirect(vendor)}
}

// SleepTimer waits for d or until done is closed; it reports whether the
// whole wait elapsed. It is the default HTTPOptions.Sleep.
func SleepTimer(done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
