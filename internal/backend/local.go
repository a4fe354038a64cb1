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
	dg "github.com/impact-dev/impact/digest"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// Local serves a Backend from an open store in this process: the CLI when
// no daemon runs, and the daemon behind its API.
type Local struct {
	Store *store.Store
	// Config is used by the default Collect and RunDrafter and by the
	// digest; ConfigFunc, when set, replaces it (the daemon's current
	// config, which SIGHUP may reload).
	Config     *config.Config
	ConfigFunc func() *config.Config
	Logger     *slog.Logger
	Now        func() time.Time
	// CollectFunc and DraftFunc, when set, replace the default pipeline
	// run (the daemon serialises them with its own polls).
	CollectFunc func(ctx context.Context, req CollectRequest, progress collectors.Progress) ([]SourceResult, error)
	DraftFunc   func(ctx context.Context, req DraftRequest) (DraftSummary, error)
	// Info, when set, is reported by Status (the daemon sets it).
	Info *Info
	// KeepOpen leaves the store open on Close (the daemon closes it itself).
	KeepOpen bool
}

var _ Backend = (*Local)(nil)

func (l *Local) config() *config.Config {
	if l.ConfigFunc != nil {
		if cfg := l.ConfigFunc(); cfg != nil {
			return cfg
		}
	}
	return l.Config
}

func (l *Local) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Local) pipeline(progress collectors.Progress) *app.Pipeline {
	return &app.Pipeline{Config: l.config(), Store: l.Store, Registry: all.Registry(), Logger: l.Logger, Now: l.Now, Progress: progress}
}

func (l *Local) DraftsJSON(ctx context.Context, f store.DraftFilter) ([]json.RawMessage, error) {
	return l.Store.DraftsJSON(ctx, f)
}

func (l *Local) EachDraftJSON(ctx context.Context, f store.DraftFilter, fn func(raw []byte) error) error {
	return l.Store.EachDraftJSON(ctx, f, fn)
}

// CanonicalDrafts reports whether EachDraftJSON gives each draft exactly as
// json.Marshal encodes it (store.Store.CanonicalDrafts).
func (l *Local) CanonicalDrafts() bool { return l.Store.CanonicalDrafts() }

func (l *Local) Drafts(ctx context.Context, f store.DraftFilter) ([]model.Draft, error) {
	return l.Store.Drafts(ctx, f)
}

func (l *Local) Draft(ctx context.Context, id string) (model.Draft, error) {
	return l.Store.Draft(ctx, id)
}

func (l *Local) Decide(ctx context.Context, id string, status model.Status, text, reason string, at time.Time) (model.Draft, error) {
	return l.Store.Decide(ctx, id, status, text, reason, at)
}

func (l *Local) Undo(ctx context.Context, id string) (model.Draft, error) {
	return l.Store.Undo(ctx, id)
}

func (l *Local) EditText(ctx context.Context, id, text string) (model.Draft, error) {
	return l.Store.EditText(ctx, id, text)
}

func (l *Local) AddWin(ctx context.Context, w store.Win) (model.Draft, error) {
	return l.Store.AddWin(ctx, w)
}

func (l *Local) UpdateWin(ctx context.Context, id string, w store.Win) (model.Draft, error) {
	return l.Store.UpdateWin(ctx, id, w)
}

func (l *Local) DeleteWin(ctx context.Context, id string) (model.Draft, error) {
	return l.Store.DeleteWin(ctx, id)
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
	digests, err := l.Store.Digests(ctx)
	if err != nil {
		return Status{}, err
	}
	s := Status{Path: l.Store.Path(), Stats: stats, Runs: runs, Daemon: l.Info}
	if len(digests) > 0 {
		s.Digest = &digests[0]
	}
	return s, nil
}

func (l *Local) Collect(ctx context.Context, req CollectRequest, progress collectors.Progress) ([]SourceResult, error) {
	if l.CollectFunc != nil {
		return l.CollectFunc(ctx, req, progress)
	}
	if l.config() == nil {
		return nil, Usage(errors.New("collect: no configuration"))
	}
	results, err := l.pipeline(progress).Collect(ctx, app.CollectOptions{Source: req.Source, Since: req.Since})
	if results == nil && err != nil {
		return nil, Usage(err)
	}
	return FromResults(results), err
}

func (l *Local) RunDrafter(ctx context.Context, req DraftRequest) (DraftSummary, error) {
	if l.DraftFunc != nil {
		return l.DraftFunc(ctx, req)
	}
	rep, err := l.pipeline(nil).DraftWith(ctx, app.DraftOptions{Full: req.Full})
	if err != nil {
		return DraftSummary{}, err
	}
	return Summarize(rep), nil
}

// DigestPreview renders the week's digest from the store.
func (l *Local) DigestPreview(ctx context.Context, req DigestPreviewRequest) (DigestPreview, error) {
	cfg := l.config()
	if cfg == nil {
		return DigestPreview{}, Usage(errors.New("digest: no configuration"))
	}
	now := l.now()
	week, err := digestWeek(req.Week, cfg, dg.WeekOf(now, cfg.Location()))
	if err != nil {
		return DigestPreview{}, err
	}
	r, d, err := PreviewDigest(ctx, cfg, l.Store, week, now, DigestAnalyzer(cfg, l.Store, l.Now), req.Command)
	if err != nil {
		return DigestPreview{}, err
	}
	p := DigestPreview{Week: d.Week.String(), Subject: r.Subject, Text: r.Text}
	if req.HTML {
		p.HTML = r.StandaloneHTML
	}
	return p, nil
}

// SendDigest sends the week's digest through digest.SendWeek.
func (l *Local) SendDigest(ctx context.Context, req DigestSendRequest) (DigestSendResult, error) {
	cfg := l.config()
	if cfg == nil {
		return DigestSendResult{}, Usage(errors.New("digest: no configuration"))
	}
	week, err := digestWeek(req.Week, cfg, dg.Week{})
	if err != nil {
		return DigestSendResult{}, err
	}
	res, err := dg.SendWeek(ctx, dg.Deps{
		Config:  cfg,
		Store:   l.Store,
		Analyze: DigestAnalyzer(cfg, l.Store, l.Now),
		Mailer:  req.Mailer,
		Now:     l.Now,
		Logger:  l.Logger,
		BackOff: req.BackOff,
		Command: req.Command,
	}, dg.SendOptions{Week: week, To: req.To, Force: req.Force})
	if err != nil {
		return DigestSendResult{}, err
	}
	out := DigestSendResult{
		Week: res.Week.String(), Outcome: res.Outcome, Record: res.Record,
		Subject: res.Subject, MessageID: res.MessageID, To: res.To,
	}
	if res.Outcome == dg.OutcomeSkipped && res.Digest != nil {
		out.EmptyLine = res.Digest.EmptyLine()
	}
	return out, nil
}

// digestWeek parses an ISO week in me.timezone; "" gives def.
func digestWeek(v string, cfg *config.Config, def dg.Week) (dg.Week, error) {
	if v == "" {
		return def, nil
	}
	w, err := dg.ParseWeek(v, cfg.Location())
	if err != nil {
		return dg.Week{}, Usage(err)
	}
	return w, nil
}

// PreviewDigest gathers, builds and renders a week's digest without
// sending or recording anything. command starts the accept/reject
// commands ("" is "impact").
func PreviewDigest(ctx context.Context, cfg *config.Config, st *store.Store, week dg.Week, now time.Time, analyze dg.Analyzer, command string) (*dg.Rendered, *dg.Digest, error) {
	in, err := dg.Gather(ctx, cfg, st, week, now, analyze)
	if err != nil {
		return nil, nil, err
	}
	in.Command = command
	d := dg.Build(in)
	r, err := dg.Render(d)
	if err != nil {
		return nil, nil, err
	}
	return r, d, nil
}

// DigestAnalyzer runs the drafter over the store the way `impact collect`
// does, for the digest's regressions and unattributed shifts, and hands
// over the series it read (built-in ones included) for the charts.
func DigestAnalyzer(cfg *config.Config, st *store.Store, now func() time.Time) dg.Analyzer {
	return func(ctx context.Context) (dg.Analysis, error) {
		// A full pass that saves nothing, one series at a time: the
		// digest's charts read the configured series' windows from the
		// store, and get the built-in series (not stored) from here.
		p := &app.Pipeline{Config: cfg, Store: st, Now: now}
		rep, err := p.DraftWith(ctx, app.DraftOptions{Full: true, DryRun: true, KeepBuiltins: true})
		if err != nil {
			return dg.Analysis{}, err
		}
		return dg.Analysis{Series: rep.Series, Result: rep.Result}, nil
	}
}

// Explain runs the drafter on the stored data and explains one series.
func (l *Local) Explain(ctx context.Context, req ExplainRequest) (drafter.Explanation, error) {
	ex, err := l.pipeline(nil).Explain(ctx, req.Metric, req.At)
	if errors.Is(err, app.ErrUnknownMetric) {
		return ex, Usage(err)
	}
	return ex, err
}

// Summarize condenses a drafter report.
func Summarize(rep app.DraftReport) DraftSummary {
	return DraftSummary{
		Added: rep.Saved.Added, Updated: rep.Saved.Updated, Kept: rep.Saved.Kept,
		Regressions: len(rep.Result.Regressions), Unattributed: len(rep.Result.Unattributed),
		Examined: rep.Examined,
	}
}

func (l *Local) Where() string { return l.Store.Path() }

func (l *Local) Close() error {
	if l.KeepOpen {
		return nil
	}
	return l.Store.Close()
}
