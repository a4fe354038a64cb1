package collectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Defaults of PollLimits.
const (
	// DefaultMaxRequests bounds the requests of one poll of one source: a
	// year's backfill of a busy repository with its files is a few
	// thousand; a vendor whose pagination never ends is stopped here at
	// the latest.
	DefaultMaxRequests = 50_000
	// DefaultMaxRepeats is how many times one GET may be sent in one poll
	// before it is taken for a pagination loop (a page linking back to an
	// earlier one). Collectors re-read a page at most twice by design.
	DefaultMaxRepeats = 4
)

// PollLimits bound one poll of one source. The framework (RunAll) puts a
// PollGuard built from them in each collector's context; the shared
// transport enforces it on every request, so every source, present and
// future, is covered.
type PollLimits struct {
	// MaxRequests per poll; 0 means DefaultMaxRequests, negative no limit.
	MaxRequests int
	// MaxRepeats of the same GET per poll; 0 means DefaultMaxRepeats,
	// negative no limit.
	MaxRepeats int
	// Timeout is the poll's deadline; 0 means none (a CLI backfill may
	// take long). The daemon sets one, so one stuck source cannot burn its
	// rate limit forever; what a poll committed before its deadline stays,
	// and the next poll resumes from there.
	Timeout time.Duration
}

// errPollTimeout is the cause of a poll's context reaching its deadline.
var errPollTimeout = errors.New("poll deadline")

func (l PollLimits) withDefaults() PollLimits {
	if l.MaxRequests == 0 {
		l.MaxRequests = DefaultMaxRequests
	}
	if l.MaxRepeats == 0 {
		l.MaxRepeats = DefaultMaxRepeats
	}
	return l
}

// reasonRejected is the HTTPError.Reason of a request a PollGuard did not
// send because the credentials were rejected earlier in the poll.
const reasonRejected = "credentials rejected earlier in this poll; not sent again"

// reasonOutOfBudget is the HTTPError.Reason of a request a PollGuard did
// not send because the vendor asked, earlier in the poll, for a longer
// wait than allowed.
const reasonOutOfBudget = "rate limited earlier in this poll for longer than allowed; not sent"

// notSent reports an error for a request a PollGuard held back.
func notSent(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && (he.Reason == reasonRejected || he.Reason == reasonOutOfBudget)
}

// PollGuard is the state of one poll: requests sent, GETs seen, and
// whether the vendor has rejected the credentials (after a 401 nothing
// more is sent: every other request of the poll would fail the same way,
// each adding a line to the error).
type PollGuard struct {
	lim PollLimits

	mu        sync.Mutex
	requests  int
	seen      map[string]int
	rejected  *HTTPError
	outOfTime *HTTPError
}

// NewPollGuard returns a guard for one poll.
func NewPollGuard(l PollLimits) *PollGuard {
	return &PollGuard{lim: l.withDefaults(), seen: map[string]int{}}
}

type pollGuardKey struct{}

// WithPollGuard returns ctx carrying g; the shared transport enforces it.
func WithPollGuard(ctx context.Context, g *PollGuard) context.Context {
	return context.WithValue(ctx, pollGuardKey{}, g)
}

func pollGuardFrom(ctx context.Context) *PollGuard {
	g, _ := ctx.Value(pollGuardKey{}).(*PollGuard)
	return g
}

// Requests is the number of requests admitted so far.
func (g *PollGuard) Requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests
}

// admit counts req, or refuses it.
func (g *PollGuard) admit(vendor string, req *http.Request) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	fail := func(status int, reason string) *HTTPError {
		return &HTTPError{Vendor: vendor, Method: req.Method, Path: req.URL.Path, StatusCode: status, Reason: reason}
	}
	if g.rejected != nil {
		return fail(g.rejected.StatusCode, reasonRejected)
	}
	if g.outOfTime != nil {
		return fail(g.outOfTime.StatusCode, reasonOutOfBudget)
	}
	if g.lim.MaxRequests > 0 && g.requests >= g.lim.MaxRequests {
		return fail(0, fmt.Sprintf("more than %d requests in one poll (collect.max_requests): stopped", g.lim.MaxRequests))
	}
	if req.Method == http.MethodGet && g.lim.MaxRepeats > 0 {
		key := req.URL.String()
		if g.seen[key] >= g.lim.MaxRepeats {
			return fail(0, fmt.Sprintf("pagination loops: the same page was requested %d times in this poll", g.seen[key]+1))
		}
		g.seen[key]++
	}
	g.requests++
	return nil
}

// tooLong notes that the vendor asked for a wait longer than allowed: the
// rest of the poll would only ask again.
func (g *PollGuard) tooLong(e *HTTPError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.outOfTime == nil {
		g.outOfTime = e
	}
}

// answered notes the status of a final answer.
func (g *PollGuard) answered(vendor string, req *http.Request, status int) {
	if status != http.StatusUnauthorized {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.rejected == nil {
		g.rejected = &HTTPError{Vendor: vendor, Method: req.Method, Path: req.URL.Path, StatusCode: status}
	}
}

// MaxClockSkew is how far past the poll's Now a vendor's timestamp may
// lie and still move a cursor: clocks differ by seconds, not days. A
// timestamp further ahead (a PR updated_at of 9999-12-31) is kept as data
// but never becomes a cursor, or every later poll would find nothing new.
const MaxClockSkew = 10 * time.Minute

// Future reports whether vendor time t lies beyond now + MaxClockSkew.
func Future(t, now time.Time) bool { return t.After(now.Add(MaxClockSkew)) }

// TransportDetail is the one-line description of an error the shared
// transport made (a refused redirect, a body over the limit, a request a
// PollGuard stopped, retries run out), without vendor prefix, for
// collectors to put behind their own "source: operation:". ok is false
// for any other error.
func TransportDetail(err error) (detail string, ok bool) {
	var re *RedirectError
	var tl *ResponseTooLargeError
	var he *HTTPError
	switch {
	case errors.As(err, &re):
		return re.Error(), true
	case errors.As(err, &tl):
		return tl.Error(), true
	case errors.As(err, &he):
		return he.Detail(), true
	}
	return "", false
}
