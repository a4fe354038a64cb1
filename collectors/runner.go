package collectors

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Result is the outcome of one collector run, timed by the framework.
type Result struct {
	Source   string
	Start    time.Time
	Duration time.Duration
	// Samples and Events count what the run committed.
	Samples int
	Events  int
	// Err is the run's failure as one line that names the source and, for
	// an HTTP failure, the status, with every secret redacted (a
	// *SourceError; errors.Is and errors.As see what it wraps).
	Err error
	// Canceled is set when the run stopped because ctx was cancelled (the
	// user pressed Ctrl-C, the daemon is stopping): not a failure of the
	// source.
	Canceled bool
}

// RunAll runs every collector once, concurrently, each isolated from the
// others: an error or even a panic in one is reported in its Result and the
// rest carry on. The framework, not the collector, times the run and counts
// what it committed. onDone, if set, is called as each collector finishes.
func RunAll(ctx context.Context, cs []Collector, run Run, onDone func(Result)) []Result {
	results := make([]Result, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runOne(ctx, c, run)
			if onDone != nil {
				onDone(results[i])
			}
		}()
	}
	wg.Wait()
	return results
}

func runOne(ctx context.Context, c Collector, run Run) (res Result) {
	res = Result{Source: c.Name(), Start: time.Now()}
	cs := &countingSink{Sink: run.Sink}
	run.Sink = cs
	if run.Progress == nil {
		run.Progress = NopProgress{}
	}
	if run.Logger != nil {
		run.Logger = run.Logger.With("source", c.Name())
	}
	if since, ok := run.Backfills[c.Name()]; ok && !since.IsZero() && !run.Backfill {
		// An earlier backfill of this source was interrupted: go on with it.
		run.Since, run.Backfill = since, true
	}
	run.Backfills = nil
	ctx = WithPollGuard(ctx, NewPollGuard(run.Limits))
	if d := run.Limits.Timeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errPollTimeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			if run.Logger != nil {
				run.Logger.Error("collector panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
			res.Err = fmt.Errorf("collector panicked: %v", p)
		}
		res.Duration = time.Since(res.Start)
		res.Samples = int(cs.samples.Load())
		res.Events = int(cs.events.Load())
		if res.Err != nil && errors.Is(context.Cause(ctx), errPollTimeout) {
			res.Err = fmt.Errorf("poll stopped at its deadline of %s (what it stored is kept; the next poll resumes): %w", run.Limits.Timeout, res.Err)
		}
		if res.Err != nil {
			res.Canceled = ctx.Err() != nil && errors.Is(res.Err, context.Canceled)
			res.Err = newSourceError(c.Name(), res.Err, run.Secrets)
		}
	}()
	res.Err = c.Collect(ctx, run)
	return res
}

// SourceError is a source's failed run on one line: the source's name, the
// first failure (with its HTTP status, as the collector describes it) and
// what else failed, secrets redacted, at most maxSourceError runes.
type SourceError struct {
	Source string
	Err    error
	msg    string
}

func (e *SourceError) Error() string { return e.msg }
func (e *SourceError) Unwrap() error { return e.Err }

const maxSourceError = 600

func newSourceError(source string, err error, secrets []string) *SourceError {
	var se *SourceError
	if errors.As(err, &se) && se.Source == source {
		return se
	}
	leaves := leafErrors(err)
	prefix := source + ": "
	text := func(e error) string { return strings.TrimPrefix(OneLine(e.Error(), 0), prefix) }
	var first string
	var others []string
	seen := map[string]bool{}
	stopped, same := 0, 0
	for _, l := range leaves {
		if first != "" && notSent(l) {
			stopped++
			continue
		}
		t := text(l)
		if seen[t] {
			continue
		}
		seen[t] = true
		switch {
		case first == "":
			first = t
		case detail(t) == detail(first):
			// "list pulls acme/b: 401 Bad credentials" after
			// "list pulls acme/a: 401 Bad credentials".
			same++
		default:
			others = append(others, t)
		}
	}
	msg := prefix + first
	switch {
	case same > 0 && stopped > 0:
		msg += fmt.Sprintf(" (%d more failed the same way, %d more requests not sent after it)", same, stopped)
	case same > 0:
		msg += fmt.Sprintf(" (%d more failed the same way)", same)
	case stopped > 0:
		msg += fmt.Sprintf(" (%d more requests not sent after it)", stopped)
	}
	if len(others) > 0 {
		msg += fmt.Sprintf("; and %d more: %s", len(others), strings.Join(others, "; "))
	}
	return &SourceError{Source: source, Err: err, msg: OneLine(Redact(msg, secrets...), maxSourceError)}
}

// detail is an error text without its leading "operation target: ".
func detail(t string) string {
	if _, rest, ok := strings.Cut(t, ": "); ok {
		return rest
	}
	return t
}

// leafErrors flattens err's joined errors (errors.Join, a collector's list
// of per-target errors) into the errors that are not joins themselves.
func leafErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if e != nil {
				out = append(out, leafErrors(e)...)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return []error{err}
}

// countingSink counts what passes through to the real sink.
type countingSink struct {
	Sink
	samples, events atomic.Int64
}

func (s *countingSink) Commit(ctx context.Context, b model.Batch) error {
	if err := s.Sink.Commit(ctx, b); err != nil {
		return err
	}
	n := 0
	for _, ss := range b.Samples {
		n += len(ss)
	}
	s.samples.Add(int64(n))
	s.events.Add(int64(len(b.PRs) + len(b.Deploys) + len(b.Incidents) + len(b.CIRuns) + len(b.Reviews)))
	return nil
}
