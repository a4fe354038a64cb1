// Package backend is what the CLI commands that read or change the store
// talk to: the store itself when this process can open it (Local), or the
// running daemon's local API when `impact serve` holds the file (Client).
// Both give the same answers, so a command prints the same thing either way.
package backend

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// Backend is the set of operations the CLI needs from the store and the
// pipeline. Every method takes a context first; implementations are safe
// for concurrent use.
type Backend interface {
	// DraftsJSON returns the drafts that match f as their stored JSON.
	DraftsJSON(ctx context.Context, f store.DraftFilter) ([]json.RawMessage, error)
	// Drafts returns the drafts that match f, newest shift first.
	Drafts(ctx context.Context, f store.DraftFilter) ([]model.Draft, error)
	// Draft returns one draft by id or unique prefix.
	Draft(ctx context.Context, id string) (model.Draft, error)
	// Decide accepts or rejects a draft (see store.Store.Decide).
	Decide(ctx context.Context, id string, status model.Status, text, reason string, at time.Time) (model.Draft, error)
	// EditText replaces a draft's statement.
	EditText(ctx context.Context, id, text string) (model.Draft, error)
	// Status describes the store and the collectors' last runs.
	Status(ctx context.Context) (Status, error)
	// Collect polls the configured sources once (or req.Source). When
	// nothing could be started (unknown source, none configured) it returns
	// nil results and an error wrapping ErrUsage; otherwise every source's
	// result and the joined errors of the failed ones.
	Collect(ctx context.Context, req CollectRequest, progress collectors.Progress) ([]SourceResult, error)
	// RunDrafter runs the drafter over everything stored and saves its drafts.
	RunDrafter(ctx context.Context) (DraftSummary, error)
	// Where says what answers: the store's path, or "the daemon at ADDR".
	Where() string
	// Close releases the store or the connections.
	Close() error
}

// ErrUsage marks errors caused by the request (an unknown source, no
// sources configured): the CLI exits with code 2 for them.
var ErrUsage = errors.New("bad request")

// Status is what `impact status` shows.
type Status struct {
	// Path is the store file.
	Path  string                     `json:"path"`
	Stats store.Stats                `json:"stats"`
	Runs  map[string]store.RunRecord `json:"runs"`
	// Daemon is set when a daemon answered.
	Daemon *Info `json:"daemon,omitempty"`
}

// Info identifies a running daemon.
type Info struct {
	Version string    `json:"version"`
	PID     int       `json:"pid"`
	Store   string    `json:"store"`
	Started time.Time `json:"started"`
	Config  string    `json:"config"`
}

// CollectRequest selects what Collect does.
type CollectRequest struct {
	// Source limits the run to one source ("" = every configured source).
	Source string `json:"source,omitempty"`
	// Since backfills from that time even where a cursor is further along;
	// zero collects incrementally.
	Since time.Time `json:"since,omitzero"`
}

// SourceResult is one source's outcome of a Collect.
type SourceResult struct {
	Source   string        `json:"source"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Samples  int           `json:"samples"`
	Events   int           `json:"events"`
	// Error is the failure's text; empty on success.
	Error string `json:"error,omitempty"`
}

// FromResults converts the pipeline's results.
func FromResults(rs []collectors.Result) []SourceResult {
	if rs == nil {
		return nil
	}
	out := make([]SourceResult, len(rs))
	for i, r := range rs {
		out[i] = SourceResult{Source: r.Source, Start: r.Start.UTC(), Duration: r.Duration, Samples: r.Samples, Events: r.Events}
		if r.Err != nil {
			out[i].Error = r.Err.Error()
		}
	}
	return out
}

// DraftSummary is what one drafter pass did.
type DraftSummary struct {
	Added        int `json:"added"`
	Updated      int `json:"updated"`
	Kept         int `json:"kept"`
	Regressions  int `json:"regressions"`
	Unattributed int `json:"unattributed"`
}

// usageError wraps a message so that errors.Is(err, ErrUsage) holds while
// the text stays the original one.
type usageError struct{ err error }

func (e *usageError) Error() string        { return e.err.Error() }
func (e *usageError) Unwrap() error        { return e.err }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Usage marks err as caused by the request.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err}
}
