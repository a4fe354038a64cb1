// Package app wires collectors, the store and the drafter into the pipeline
// that `collect`, `demo` and `serve` share.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/drafter/activity"
	"github.com/impact-dev/impact/internal/builtin"
	"github.com/impact-dev/impact/internal/glob"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/version"
	"github.com/impact-dev/impact/store"
)

// Pipeline collects, stores and drafts for one config and one store.
type Pipeline struct {
	Config   *config.Config
	Store    *store.Store
	Registry *collectors.Registry
	Logger   *slog.Logger
	Progress collectors.Progress
	Now      func() time.Time
	// HTTPOptions, if set, adjusts the shared client options per vendor
	// (tests shorten waits; benchmarks count requests).
	HTTPOptions func(o *collectors.HTTPOptions)
	// Limits bound each source's poll; zero: the defaults.
	Limits collectors.PollLimits

	mu      sync.Mutex
	budgets map[string]*collectors.Budget
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Budget returns the rate-limit budget tracked for a vendor.
func (p *Pipeline) Budget(vendor string) *collectors.Budget {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.budgets == nil {
		p.budgets = map[string]*collectors.Budget{}
	}
	b, ok := p.budgets[vendor]
	if !ok {
		b = &collectors.Budget{}
		p.budgets[vendor] = b
	}
	return b
}

func (p *Pipeline) httpClient(vendor string) *http.Client {
	return p.client(collectors.HTTPOptions{Vendor: vendor})
}

// client is the shared client for o.Vendor, with o.RateLimit kept.
func (p *Pipeline) client(o collectors.HTTPOptions) *http.Client {
	o.UserAgent = version.UserAgent()
	o.Budget = p.Budget(o.Vendor)
	o.MaxResponseBytes = p.Config.Collect.MaxResponseBytes // collect.max_response_bytes; 0: the default
	if p.HTTPOptions != nil {
		p.HTTPOptions(&o)
	}
	return collectors.NewHTTPClient(o)
}

// CollectOptions select what Collect does.
type CollectOptions struct {
	// Source limits the run to one source ("" = all configured).
	Source string
	// Since is how far back to fetch: a backfill from Since even where a
	// cursor is further along. Zero = incremental from each cursor, or the
	// default first-run history (90 days) where there is none.
	Since time.Time
}

// DefaultHistory is how far back a source with no cursor is first read.
const DefaultHistory = 90 * 24 * time.Hour

// Collect runs the configured collectors once, each isolated from the
// others, and records each run in the store. It returns every run's result;
// the error joins the failed sources' errors.
func (p *Pipeline) Collect(ctx context.Context, o CollectOptions) ([]collectors.Result, error) {
	env := collectors.Env{HTTPClient: p.httpClient, Client: p.client, Logger: p.logger()}
	cs, err := p.Registry.Build(p.Config, env, o.Source)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, errors.New("no sources configured: add one under sources: in " + p.Config.File)
	}
	now := p.now()
	run := collectors.Run{
		Since:    now.Add(-DefaultHistory),
		Now:      now,
		Sink:     p.Store,
		Progress: p.Progress,
		Logger:   p.logger(),
		Secrets:  p.Config.SecretValues(),
		Limits:   p.limits(),
	}
	// A backfill's target is kept until the source has read it all, so a
	// run interrupted by Ctrl-C (or a failure) is resumed by the next
	// plain collect, not forgotten for the default 90 days.
	backfilling := map[string]bool{}
	if !o.Since.IsZero() {
		run.Since, run.Backfill = o.Since.UTC(), true
		for _, c := range cs {
			if err := p.setBackfill(ctx, c.Name(), run.Since); err != nil {
				return nil, err
			}
			backfilling[c.Name()] = true
		}
	} else {
		run.Backfills = map[string]time.Time{}
		for _, c := range cs {
			if t, ok := p.backfill(ctx, c.Name()); ok {
				p.logger().Info("resuming an interrupted backfill", "source", c.Name(), "since", t)
				run.Backfills[c.Name()] = t
				backfilling[c.Name()] = true
			}
		}
	}
	results := collectors.RunAll(ctx, cs, run, func(r collectors.Result) {
		if r.Canceled {
			// Interrupted (Ctrl-C, shutdown): not a failure of the
			// source; what it committed stays, and so does a backfill
			// target.
			p.logger().Info("collect interrupted", "source", r.Source, "duration", r.Duration, "samples", r.Samples, "events", r.Events)
			return
		}
		if r.Err == nil && backfilling[r.Source] {
			if err := p.setBackfill(context.WithoutCancel(ctx), r.Source, time.Time{}); err != nil {
				p.logger().Warn("clear the backfill target", "source", r.Source, "err", err)
			}
		}
		rec := store.RunRecord{
			LastStart:    r.Start.UTC(),
			LastDuration: r.Duration,
			Samples:      r.Samples,
			Events:       r.Events,
		}
		if r.Err != nil {
			rec.LastError = r.Err.Error()
		} else {
			rec.LastSuccess = r.Start.UTC().Add(r.Duration)
		}
		if limit, remaining, reset, known := p.Budget(r.Source).Snapshot(); known {
			rec.RateLimitLimit, rec.RateLimitRemaining, rec.RateLimitReset = limit, remaining, reset.UTC()
		}
		// Recording a run must not fail the run; the daemon logs it.
		if err := p.Store.RecordRun(context.WithoutCancel(ctx), r.Source, rec); err != nil {
			p.logger().Warn("record run", "source", r.Source, "err", err)
		}
		if r.Err != nil {
			p.logger().Info("collect failed", "source", r.Source, "duration", r.Duration, "err", r.Err)
		} else {
			p.logger().Info("collected", "source", r.Source, "duration", r.Duration, "samples", r.Samples, "events", r.Events)
		}
	})
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return results, errors.Join(errs...)
}

// limits are the poll limits: Pipeline.Limits, else the config's collect:.
func (p *Pipeline) limits() collectors.PollLimits {
	l := p.Limits
	if l.MaxRequests == 0 {
		l.MaxRequests = p.Config.Collect.MaxRequests
	}
	return l
}

// backfillSource is the store namespace of the backfill targets: one
// cursor per source, holding the Since of a backfill not finished yet.
const backfillSource = "impact.backfill"

func (p *Pipeline) backfill(ctx context.Context, source string) (time.Time, bool) {
	raw, err := p.Store.Cursor(ctx, backfillSource, source)
	if err != nil || len(raw) == 0 {
		return time.Time{}, false
	}
	var t time.Time
	if err := t.UnmarshalText(raw); err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// setBackfill records source's backfill target; zero clears it.
func (p *Pipeline) setBackfill(ctx context.Context, source string, since time.Time) error {
	var v []byte
	if !since.IsZero() {
		v, _ = since.UTC().MarshalText()
	}
	if err := p.Store.Commit(ctx, model.Batch{Source: backfillSource, Cursors: map[string][]byte{source: v}}); err != nil {
		return fmt.Errorf("record the backfill target of %s: %w", source, err)
	}
	return nil
}

// Metrics returns the drafter's view of every configured series.
func Metrics(cfg *config.Config) []model.Metric {
	out := make([]model.Metric, 0, len(cfg.Metrics))
	for _, m := range cfg.Metrics {
		name := m.Name
		if name == "" {
			name = m.ID
		}
		cat := m.Category
		if cat == "" {
			cat = "performance"
		}
		out = append(out, model.Metric{
			ID: m.ID, Name: name, Source: m.Source, Query: m.Query,
			Unit: m.Unit, Better: m.Better, Repos: m.Repos, Paths: m.Paths, Category: cat,
		})
	}
	return out
}

// DraftReport is what one drafter pass did.
type DraftReport struct {
	Result drafter.Result
	Saved  store.SaveResult
	// Removed counts the superseded pending drafts deleted (see
	// drafter.Result.Superseded).
	Removed int
	// Series are the series the drafter read (configured and built-in),
	// with DraftOptions.KeepSeries only.
	Series []drafter.Series
	// Activity are the activity drafts proposed (drafter/activity); their
	// save is counted in Saved too.
	Activity []model.Draft
	// Examined counts the series analysed (an incremental pass skips the
	// unchanged ones; zero: nothing changed, nothing was done).
	Examined int
	// Split counts the examined series long enough to be analysed in two
	// parts (see tail in draft.go); Reused those of them whose analysis up
	// to the epoch was kept from an earlier pass: only their tail was
	// analysed.
	Split, Reused int
}

// attachWinEvidence gives manual wins that name a metric (`wins add
// --metric`) the measured drafts of that metric near their date as
// evidence (drafter/activity.WinEvidence).
func (p *Pipeline) attachWinEvidence(ctx context.Context) error {
	wins, err := p.Store.Drafts(ctx, store.DraftFilter{Kind: model.KindManual})
	if err != nil {
		return fmt.Errorf("load manual wins: %w", err)
	}
	if !slices.ContainsFunc(wins, func(d model.Draft) bool { return d.Metric.ID != "" }) {
		return nil
	}
	measured, err := p.Store.Drafts(ctx, store.DraftFilter{Kind: model.KindImpact})
	if err != nil {
		return fmt.Errorf("load drafts: %w", err)
	}
	for id, ev := range activity.WinEvidence(wins, measured) {
		if _, err := p.Store.SetWinEvidence(ctx, id, ev); err != nil {
			return fmt.Errorf("attach evidence to win %s: %w", id, err)
		}
	}
	return nil
}

// Activity computes the activity drafts (reviews given, documents written)
// from the stored reviews and the merged PRs prs, for every review period
// with activity up to now (see drafter/activity).
func (p *Pipeline) Activity(ctx context.Context, prs []model.PR, now time.Time) ([]model.Draft, error) {
	cfg := p.Config
	in := activity.Input{
		Me: cfg.Me.GitHub, Now: now, Length: cfg.Review.Period, Loc: cfg.Location(),
		PRs: prs, DocsCategory: cfg.Docs.Category, Match: glob.Match,
	}
	for _, d := range cfg.Docs.Paths {
		in.Docs = append(in.Docs, activity.DocKind{Name: d.Name, Plural: d.Plural, Globs: d.Globs})
	}
	var err error
	if in.Reviews, err = p.Store.Reviews(ctx, time.Time{}, time.Time{}); err != nil {
		return nil, fmt.Errorf("load reviews: %w", err)
	}
	if in.Existing, err = p.Store.Drafts(ctx, store.DraftFilter{Kind: model.KindActivity}); err != nil {
		return nil, fmt.Errorf("load activity drafts: %w", err)
	}
	return activity.Run(in), nil
}

// DrafterInput loads what the drafter needs from the store.
func (p *Pipeline) DrafterInput(ctx context.Context) (drafter.Input, error) {
	cfg := p.Config
	in := drafter.Input{Params: p.drafterParams(), Now: p.now()}
	for _, m := range Metrics(cfg) {
		samples, err := p.Store.Samples(ctx, m.ID, time.Time{}, time.Time{})
		if err != nil {
			return in, fmt.Errorf("load samples of %s: %w", m.ID, err)
		}
		in.Series = append(in.Series, drafter.Series{Metric: m, Samples: samples})
	}
	builtins, err := p.builtinData(ctx, in.Now)
	if err != nil {
		return in, err
	}
	in.Series = append(in.Series, builtin.Series(cfg, builtins)...)
	if in.PRs, err = p.Store.PRs(ctx, time.Time{}, time.Time{}); err != nil {
		return in, fmt.Errorf("load PRs: %w", err)
	}
	if in.Deploys, err = p.Store.Deploys(ctx, time.Time{}, time.Time{}); err != nil {
		return in, fmt.Errorf("load deploys: %w", err)
	}
	// Only measured drafts: activity drafts and manual wins are not the
	// drafter's to keep, supersede or match PRs against.
	if in.Existing, err = p.Store.Drafts(ctx, store.DraftFilter{Kind: model.KindImpact}); err != nil {
		return in, fmt.Errorf("load drafts: %w", err)
	}
	return in, nil
}

// ErrUnknownMetric: Explain was asked about a series that is neither
// configured nor built in.
var ErrUnknownMetric = errors.New("unknown metric")

// Explain runs the drafter over everything stored, as a drafter pass
// would, and returns every shift it finds in one series (a configured
// metric or a built-in series such as pagerduty.pages_to_me) with its
// verdict; with at non-zero only the shifts within a window of it,
// nearest first (see drafter.Explain). Nothing is stored.
func (p *Pipeline) Explain(ctx context.Context, metric string, at time.Time) (drafter.Explanation, error) {
	in, err := p.DrafterInput(ctx)
	if err != nil {
		return drafter.Explanation{}, err
	}
	return p.ExplainInput(ctx, in, metric, at)
}

// ExplainInput is Explain on a drafter input already loaded with
// DrafterInput (the review page keeps one for a minute): the one way a
// shift is explained, so the page, `impact explain` and /v1/explain show
// what the pass concluded.
func (p *Pipeline) ExplainInput(ctx context.Context, in drafter.Input, metric string, at time.Time) (drafter.Explanation, error) {
	if !isBuiltin(p.Config, metric) {
		// A configured series is analysed up to the horizon, as a pass
		// does (see DraftWith), and a long one in two parts.
		in = atHorizon(in, metric)
		if ex, ok, err := p.explainParts(ctx, in, metric, at); err != nil || ok {
			return ex, err
		}
	}
	ex, ok := drafter.Explain(in, metric, at)
	if !ok {
		ids := make([]string, 0, len(in.Series))
		for _, s := range in.Series {
			ids = append(ids, s.Metric.ID)
		}
		sort.Strings(ids)
		if len(ids) == 0 {
			return ex, fmt.Errorf("%w %q: the config names no metrics and no source with built-in series (a config written by 'impact demo --store' has none)", ErrUnknownMetric, metric)
		}
		return ex, fmt.Errorf("%w %q (configured and built-in series: %s)", ErrUnknownMetric, metric, strings.Join(ids, ", "))
	}
	return ex, nil
}

// atHorizon is in as a pass sees the configured series metric: its
// samples, the PRs and the deploys before the start of in.Now's UTC day,
// at that time.
func atHorizon(in drafter.Input, metric string) drafter.Input {
	h := in.Now.Truncate(24 * time.Hour)
	out := drafter.Input{Params: in.Params, Existing: in.Existing, Now: h}
	for _, s := range in.Series {
		if s.Metric.ID == metric {
			n := sort.Search(len(s.Samples), func(i int) bool { return !s.Samples[i].Time.Before(h) })
			s.Samples = s.Samples[:n]
			out.Series = append(out.Series, s)
		}
	}
	for _, pr := range in.PRs {
		if pr.MergedAt.Before(h) {
			out.PRs = append(out.PRs, pr)
		}
	}
	for _, d := range in.Deploys {
		if d.Time.Before(h) {
			out.Deploys = append(out.Deploys, d)
		}
	}
	return out
}

// builtinData loads the events the built-in series are computed from and
// the span each source has collected.
//
// PagerDuty's coverage starts at the UTC day of the earliest stored
// incident (the collector keeps no record of where its first read began,
// so quiet days before the first incident are not counted as zeros) and
// ends at the collector's cursor ("through": every incident created
// before it is stored), or at now without a cursor.
func (p *Pipeline) builtinData(ctx context.Context, now time.Time) (builtin.Data, error) {
	cfg := p.Config
	d := builtin.Data{Now: now, Coverage: map[string]model.Window{}}
	var err error
	if cfg.Sources.Get(pagerduty.Name) != nil {
		if d.Incidents, err = p.Store.Incidents(ctx, time.Time{}, time.Time{}); err != nil {
			return d, fmt.Errorf("load incidents: %w", err)
		}
		if len(d.Incidents) > 0 {
			// Incidents come sorted by creation.
			cov := model.Window{Start: d.Incidents[0].CreatedAt.UTC().Truncate(24 * time.Hour), End: now}
			raw, err := p.Store.Cursor(ctx, builtin.SourcePagerDuty, "incidents")
			if err != nil {
				return d, fmt.Errorf("read the pagerduty cursor: %w", err)
			}
			var cur struct {
				Through time.Time `json:"through"`
			}
			if len(raw) > 0 && json.Unmarshal(raw, &cur) == nil && !cur.Through.IsZero() && cur.Through.Before(now) {
				cov.End = cur.Through.UTC()
			}
			d.Coverage[builtin.SourcePagerDuty] = cov
		}
	}
	if cfg.Sources.Get(githubactions.Name) != nil {
		if d.Runs, err = p.Store.CIRuns(ctx, time.Time{}, time.Time{}); err != nil {
			return d, fmt.Errorf("load workflow runs: %w", err)
		}
		// DORA (internal/builtin/dora.go).
		if d.Deploys, err = p.Store.Deploys(ctx, time.Time{}, time.Time{}); err != nil {
			return d, fmt.Errorf("load deploys: %w", err)
		}
		if d.PRs, err = p.Store.PRs(ctx, time.Time{}, time.Time{}); err != nil {
			return d, fmt.Errorf("load PRs: %w", err)
		}
	}
	return d, nil
}
