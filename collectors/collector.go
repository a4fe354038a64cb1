// Package collectors holds the Collector interface, the registry of sources by
// name, the poll loop that runs them, and the HTTP plumbing (retries, backoff,
// rate limits, User-Agent) every collector shares.
package collectors

import (
	"context"
	"log/slog"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Collector polls one source. Collect fetches what is new since the source's
// cursor (or since Run.Since on a backfill) and hands it to Run.Sink in
// batches; each batch advances the cursor in the same transaction as the data
// it covers, so an interrupted run resumes where it stopped.
type Collector interface {
	// Name is the source name: github, github_actions, datadog, prometheus, pagerduty.
	Name() string
	Collect(ctx context.Context, run Run) error
}

// Sink is where collectors store what they fetched.
type Sink interface {
	// Cursor returns the value stored under key for source, or nil.
	Cursor(ctx context.Context, source, key string) ([]byte, error)
	// Commit writes the batch and its cursors atomically.
	Commit(ctx context.Context, b model.Batch) error
}

// Progress receives progress reports; implementations draw a bar or do nothing.
type Progress interface {
	// Total adds n units of expected work for source.
	Total(source string, n int64)
	// Done marks n units of work done for source.
	Done(source string, n int64)
}

// Run is one invocation of a collector.
type Run struct {
	// Since is the earliest time to fetch when a source has no cursor yet, or
	// when Backfill is set.
	Since time.Time
	// Backfill re-reads from Since even when a cursor is further along.
	Backfill bool
	// Now is the end of the range to fetch.
	Now      time.Time
	Sink     Sink
	Progress Progress
	Logger   *slog.Logger

	// Backfills are the sources with an unfinished backfill (an earlier
	// `collect --since` was interrupted) and the Since it asked for: the
	// framework runs those sources as a backfill from there. The
	// collector sees it as Since and Backfill.
	Backfills map[string]time.Time
	// Limits bound each poll (see PollLimits); the zero value is the
	// defaults.
	Limits PollLimits
	// Secrets are the configured credentials: the framework redacts them
	// from a failed run's error (the shared transport already redacts
	// error bodies).
	Secrets []string
}

// WithDefaults fills what a caller may leave out: Logger (fallback, else a
// discarding logger), Progress (none), Now (the current time, in UTC).
func (r Run) WithDefaults(fallback *slog.Logger) Run {
	if r.Logger == nil {
		r.Logger = fallback
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Progress == nil {
		r.Progress = NopProgress{}
	}
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	r.Now = r.Now.UTC()
	return r
}

// NopProgress discards progress.
type NopProgress struct{}

func (NopProgress) Total(string, int64) {}
func (NopProgress) Done(string, int64)  {}
