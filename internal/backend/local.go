package backend

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// Local serves a Backend from an open store in this process: the CLI when
// no daemon runs, and the daemon behind its API.
type Local struct {
	Store *store.Store
	// Config is used by the default Collect and RunDrafter.
	Config *config.Config
	Logger *slog.Logger
	Now    func() time.Time
	// CollectFunc and DraftFunc, when set, replace the default pipeline
	// run (the daemon serialises them with its own polls).
	CollectFunc func(ctx context.Context, req CollectRequest, progress collectors.Progress) ([]SourceResult, error)
	DraftFunc   func(ctx context.Context) (DraftSummary, error)
	// Info, when set, is reported by Status (the daemon sets it).
	Info *Info
	// KeepOpen leaves the store open on Close (the daemon closes it itself).
	KeepOpen bool
}

var _ Backend = (*Local)(nil)

func (l *Local) pipeline(progress collectors.Progress) *app.Pipeline {
	return &app.Pipeline{Config: l.Config, Store: l.Store, Registry: all.Registry(), Logger: l.Logger, Now: l.Now, Progress: progress}
}

func (l *Local) DraftsJSON(ctx context.Context, f store.DraftFilter) ([]json.RawMessage, error) {
	return l.Store.DraftsJSON(ctx, f)
}

func (l *Local) Drafts(ctx context.Context, f store.DraftFilter) ([]model.Draft, error) {
	return l.Store.Drafts(ctx, f)
}

func (l *Local) Draft(ctx context.Context, id string) (model.Draft, error) {
	return l.Store.Draft(ctx, id)
}

func (l *Local) Decide(ctx context.Context, id string, status model.Status, text, reason string, at time.Time) (model.Draft, error) {
	return l.Store.Decide(ctx, id, status, text, reason, at)
}

func (l *Local) EditText(ctx context.Context, id, text string) (model.Draft, error) {
	return l.Store.EditText(ctx, id, text)
}

func (l *Local) Status(ctx context.Context) (Status, error) {
	stats, err := l.Store.Stats(ctx)
	if err != nil {
		return Status{}, err
	}
	runs, err := l.Store.Runs(ctx)
	if err != nil {
		return Status{}, err
	}
	return Status{Path: l.Store.Path(), Stats: stats, Runs: runs, Daemon: l.Info}, nil
}

func (l *Local) Collect(ctx context.Context, req CollectRequest, progress collectors.Progress) ([]SourceResult, error) {
	if l.CollectFunc != nil {
		return l.CollectFunc(ctx, req, progress)
	}
	if l.Config == nil {
		return nil, Usage(errors.New("collect: no configuration"))
	}
	results, err := l.pipeline(progress).Collect(ctx, app.CollectOptions{Source: req.Source, Since: req.Since})
	if results == nil && err != nil {
		return nil, Usage(err)
	}
	return FromResults(results), err
}

func (l *Local) RunDrafter(ctx context.Context) (DraftSummary, error) {
	if l.DraftFunc != nil {
		return l.DraftFunc(ctx)
	}
	rep, err := l.pipeline(nil).Draft(ctx)
	if err != nil {
		return DraftSummary{}, err
	}
	return Summarize(rep), nil
}

// Summarize condenses a drafter report.
func Summarize(rep app.DraftReport) DraftSummary {
	return DraftSummary{
		Added: rep.Saved.Added, Updated: rep.Saved.Updated, Kept: rep.Saved.Kept,
		Regressions: len(rep.Result.Regressions), Unattributed: len(rep.Result.Unattributed),
	}
}

func (l *Local) Where() string { return l.Store.Path() }

func (l *Local) Close() error {
	if l.KeepOpen {
		return nil
	}
	return l.Store.Close()
}
