package app

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/builtin"
	"github.com/impact-dev/impact/internal/glob"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// DraftOptions select what a drafter pass does.
type DraftOptions struct {
	// Full analyses every series (`collect --redraft`); otherwise only the
	// series whose data, PRs or deploys changed since the drafter last
	// analysed them, or whose verdicts still depend on the clock (see
	// Pipeline.DraftWith).
	Full bool
	// KeepSeries keeps the series read in DraftReport.Series (the demo
	// charts them); otherwise each series is dropped once analysed, so a
	// pass holds about one series per CPU at a time. KeepBuiltins keeps
	// only the built-in series (computed from events, not stored).
	KeepSeries, KeepBuiltins bool
	// DryRun analyses (every series, with Full) and reports, saving
	// nothing: the digest's look for regressions and others' wins.
	DryRun bool
}

// Draft runs an incremental drafter pass and saves its drafts (see
// DraftWith).
func (p *Pipeline) Draft(ctx context.Context) (DraftReport, error) {
	return p.DraftWith(ctx, DraftOptions{})
}

// Redraft runs a full drafter pass over everything stored.
func (p *Pipeline) Redraft(ctx context.Context) (DraftReport, error) {
	return p.DraftWith(ctx, DraftOptions{Full: true})
}

// work is one series a pass analyses: a configured metric (read from the
// store when its turn comes) or a built-in series (already computed).
type work struct {
	metric  model.Metric
	builtin *drafter.Series
	fp      string
}

// DraftWith runs the drafter and saves its drafts.
//
// The configured series are analysed up to the horizon, the start of the
// current UTC day: samples, PRs merged and deploys run before it, with
// the drafter's Now at the horizon. The open day is read once it closes
// (its median would be a few hours of the daily cycle), so drafts come at
// most a day later than the data allows, and a poll that brought an hour
// of samples asks nothing of the drafter until the day closes. Built-in
// series (derived from events) are analysed at now.
//
// Incremental (the default): the store's change log (store.DrafterState)
// says what changed since the drafter last analysed each series. A series
// is analysed again when its samples before the horizon changed, when a
// PR or deploy before the horizon of one of its repos (of any repo, for a
// metric without repos) changed, when its definition or the drafter's
// settings changed, or, once the horizon has moved, when it had data
// beyond the old horizon or a verdict waiting on the clock (an after
// window still filling: see clockDependent). Built-in series and activity
// statements are analysed again on any event change and on every pass
// that analyses anything. Everything else keeps the drafts it has: a
// series' result depends only on its own data, the PRs and deploys and
// its metric's drafts (drafter.Prepared), so the drafts are those of a
// full pass at the same time — the equivalence test in this package
// checks it poll by poll over long generated histories. A pass with
// nothing to analyse reads the change log and stops.
//
// A long series (samples before the tail's start) is analysed in two
// parts (see tail): its history up to the epoch, kept in the store and
// reused while nothing before the epoch changed, and its tail. A new
// epoch (every 28 days) analyses every series again.
//
// Series are read from the store and analysed one per CPU at a time, and
// dropped once analysed (unless KeepSeries): memory holds a few series,
// the PRs and deploys and the drafts, not all history.
func (p *Pipeline) DraftWith(ctx context.Context, o DraftOptions) (DraftReport, error) {
	cfg := p.Config
	now := p.now()
	params := p.drafterParams()
	state, err := p.Store.DrafterState(ctx)
	if err != nil {
		return DraftReport{}, err
	}
	// The configured series are read up to the horizon, the start of the
	// current UTC day: their open day (whose median a few hours of the
	// daily cycle would bias) is read once it closes, and a poll that
	// brought an hour of samples asks nothing of the drafter until then.
	horizon := now.Truncate(24 * time.Hour)
	hday := uint32(horizon.Unix() / 86400)
	needs := func(m model.Metric, fp string) bool {
		if o.Full {
			return true
		}
		ss, ok := state.Series[m.ID]
		if !ok || ss.Fingerprint != fp {
			return true
		}
		if c := state.SeriesChanges[m.ID]; c.Seq > ss.Seq && c.MinDay < hday {
			return true // samples before the horizon changed
		}
		repos := m.Repos
		if len(repos) == 0 {
			repos = []string{""} // any repo's PRs may be credited
		}
		for _, r := range repos {
			if state.RepoChanged(r, ss.Seq, hday) {
				return true // a PR or deploy before the horizon changed
			}
		}
		// A new epoch: a long series is split anew (see tail).
		if ph := phase(m.ID); ss.Through > 0 && epochDay(ss.Through, ph) != tailFor(params, hday, ph).eday {
			return true
		}
		// A new horizon: what lay beyond the old one is read now, and
		// verdicts waiting on the clock are due.
		return ss.Through != horizon.Unix() && (ss.Open || ss.Clock)
	}
	var todo []work
	for _, m := range Metrics(cfg) {
		if fp := fingerprint(params, m); needs(m, fp) {
			todo = append(todo, work{metric: m, fp: fp})
		}
	}
	// Built-ins (computed from events, at now): when events changed, or
	// whenever the pass does anything.
	bfp := fingerprint(params, model.Metric{})
	bs, ok := state.Series[builtinKey]
	if len(todo) == 0 && !o.Full && ok && bs.Fingerprint == bfp && state.Events <= bs.Seq {
		return DraftReport{}, nil
	}
	rep := DraftReport{}
	var prs []model.PR
	if prs, err = p.Store.PRs(ctx, time.Time{}, time.Time{}); err != nil {
		return rep, fmt.Errorf("load PRs: %w", err)
	}
	deploys, err := p.Store.Deploys(ctx, time.Time{}, time.Time{})
	if err != nil {
		return rep, fmt.Errorf("load deploys: %w", err)
	}
	// The configured series see the PRs merged and deploys run before the
	// horizon; open: a repo has some after it.
	var hprs []model.PR
	var hdeploys []model.Deploy
	beyond := map[string]bool{} // lower-case repo, "" any: a PR or deploy at or after the horizon
	for _, pr := range prs {
		if pr.MergedAt.Before(horizon) {
			hprs = append(hprs, pr)
		} else {
			beyond[strings.ToLower(pr.Repo)], beyond[""] = true, true
		}
	}
	for _, d := range deploys {
		if d.Time.Before(horizon) {
			hdeploys = append(hdeploys, d)
		} else {
			beyond[strings.ToLower(d.Repo)], beyond[""] = true, true
		}
	}
	builtins, err := p.builtinData(ctx, now)
	if err != nil {
		return rep, err
	}
	for _, s := range builtin.Series(cfg, builtins) {
		s := s
		todo = append(todo, work{metric: s.Metric, builtin: &s, fp: fingerprint(params, s.Metric)})
	}
	builtins = builtin.Data{}
	rep.Examined = len(todo)
	// Only measured drafts: activity drafts and manual wins are not the
	// drafter's to keep, supersede or match PRs against.
	existing := map[string][]model.Draft{}
	err = p.Store.EachDraft(ctx, store.DraftFilter{Kind: model.KindImpact}, func(d model.Draft) error {
		existing[d.Metric.ID] = append(existing[d.Metric.ID], d)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("load drafts: %w", err)
	}

	drAll := drafter.Prepare(params, prs, deploys)
	drH := drafter.Prepare(params, hprs, hdeploys)
	// The PRs and deploys before an epoch, for the analyses up to it
	// (long series only; prepared once one is needed, once per epoch:
	// series' epochs are staggered, see phase).
	var emu sync.Mutex
	eprep := map[int64]*drafter.Prepared{}
	// Each epoch's PRs are let go once its last series is done: the
	// series are taken in the order of their epochs (order), so a pass
	// holds one or two epochs' at a time, not up to 28.
	left := map[int64]int{}
	for _, w := range todo {
		if w.builtin == nil {
			left[tailFor(params, hday, phase(w.metric.ID)).epoch.Unix()]++
		}
	}
	doneWith := func(epoch time.Time) {
		emu.Lock()
		defer emu.Unlock()
		if left[epoch.Unix()]--; left[epoch.Unix()] <= 0 {
			delete(eprep, epoch.Unix())
		}
	}
	order := make([]int, len(todo))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		wa, wb := &todo[order[a]], &todo[order[b]]
		if (wa.builtin == nil) != (wb.builtin == nil) {
			return wa.builtin == nil
		}
		if wa.builtin != nil {
			return false
		}
		return tailFor(params, hday, phase(wa.metric.ID)).eday < tailFor(params, hday, phase(wb.metric.ID)).eday
	})
	drE := func(epoch time.Time) *drafter.Prepared {
		emu.Lock()
		defer emu.Unlock()
		if pp, ok := eprep[epoch.Unix()]; ok {
			return pp
		}
		var eprs []model.PR
		var edeploys []model.Deploy
		for _, pr := range hprs {
			if pr.MergedAt.Before(epoch) {
				eprs = append(eprs, pr)
			}
		}
		for _, d := range hdeploys {
			if d.Time.Before(epoch) {
				edeploys = append(edeploys, d)
			}
		}
		pp := drafter.Prepare(params, eprs, edeploys)
		eprep[epoch.Unix()] = pp
		return pp
	}
	// kept: whether a series' analysis up to the epoch, kept by an
	// earlier pass, still holds: nothing it read (samples, PRs and
	// deploys before the epoch) changed since, nor its settings.
	kept := func(m model.Metric, fp string, tl tail) bool {
		ss, ok := state.Series[m.ID]
		if o.Full || !ok || ss.Fingerprint != fp {
			return false
		}
		if c := state.SeriesChanges[m.ID]; c.Seq > ss.Seq && c.MinDay < tl.eday {
			return false
		}
		repos := m.Repos
		if len(repos) == 0 {
			repos = []string{""}
		}
		for _, r := range repos {
			if state.RepoChanged(r, ss.Seq, tl.eday) {
				return false
			}
		}
		return true
	}
	newParts := map[string][]byte{}
	type done struct {
		res    drafter.Result
		series drafter.Series
		clock  bool
		open   bool
		err    error
	}
	parts := make([]done, len(todo))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Go(func() {
			for {
				mu.Lock()
				k := next
				next++
				mu.Unlock()
				if k >= len(todo) || ctx.Err() != nil {
					return
				}
				i := order[k]
				w := &todo[i]
				ex := existing[w.metric.ID]
				if w.builtin != nil {
					s := *w.builtin
					w.builtin = nil
					parts[i] = done{res: drAll.Run([]drafter.Series{s}, ex, now), clock: true}
					if o.KeepSeries || o.KeepBuiltins {
						parts[i].series = s
					}
					continue
				}
				tl := tailFor(params, hday, phase(w.metric.ID))
				an, err := p.analyse(ctx, w.metric, w.fp, ex, tl, horizon, drH, drE, kept, o.KeepSeries)
				doneWith(tl.epoch)
				res, s := an.res, an.series
				if err == nil {
					var late []model.Sample
					late, err = p.Store.Samples(ctx, w.metric.ID, horizon, time.Time{})
					parts[i].open = len(late) > 0
				}
				if err != nil {
					parts[i].err = fmt.Errorf("load samples of %s: %w", w.metric.ID, err)
					return
				}
				mu.Lock()
				if an.enc != nil {
					newParts[w.metric.ID] = *an.enc
				}
				if an.split {
					rep.Split++
				}
				if an.reused {
					rep.Reused++
				}
				mu.Unlock()
				newCreated(res.Drafts, ex, now)
				parts[i].res, parts[i].clock = res, clockDependent(res.Findings, params, horizon)
				if o.KeepSeries {
					parts[i].series = s
				}
				repos := w.metric.Repos
				if len(repos) == 0 {
					repos = []string{""}
				}
				for _, r := range repos {
					parts[i].open = parts[i].open || beyond[strings.ToLower(r)]
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("drafter: %w", err)
	}
	var res drafter.Result
	states := map[string]store.SeriesState{}
	for i, pt := range parts {
		if pt.err != nil {
			return rep, pt.err
		}
		res.Drafts = append(res.Drafts, pt.res.Drafts...)
		res.Regressions = append(res.Regressions, pt.res.Regressions...)
		res.Unattributed = append(res.Unattributed, pt.res.Unattributed...)
		res.Findings = append(res.Findings, pt.res.Findings...)
		res.Superseded = append(res.Superseded, pt.res.Superseded...)
		if pt.series.Metric.ID != "" {
			rep.Series = append(rep.Series, pt.series)
		}
		if !isBuiltin(cfg, todo[i].metric.ID) {
			states[todo[i].metric.ID] = store.SeriesState{Seq: state.Seq, Fingerprint: todo[i].fp, Clock: pt.clock,
				Through: horizon.Unix(), Open: pt.open}
		}
	}
	parts = nil
	states[builtinKey] = store.SeriesState{Seq: state.Seq, Fingerprint: bfp}
	sortResult(&res)
	for i := range res.Drafts {
		d := &res.Drafts[i]
		if d.PRs == nil {
			d.PRs = []model.PRRef{}
		}
		if d.Others == nil {
			d.Others = []model.PRRef{}
		}
		if d.Evidence == nil {
			d.Evidence = []string{}
		}
	}
	rep.Result = res
	if o.DryRun {
		return rep, nil
	}
	if rep.Saved, err = p.Store.SaveDrafts(ctx, res.Drafts); err != nil {
		return rep, fmt.Errorf("save drafts: %w", err)
	}
	// A pending draft the drafter no longer proposes (its credited PRs
	// changed as a deploy or a late PR arrived, so the shift now has a
	// draft under another id) must not linger beside its successor. The
	// store re-checks each one: a draft the user accepted, rejected or
	// edited since it was read stays.
	if rep.Removed, err = p.Store.DeleteDrafts(ctx, res.Superseded); err != nil {
		return rep, fmt.Errorf("remove superseded drafts: %w", err)
	}
	acts, err := p.Activity(ctx, prs, now)
	if err != nil {
		return rep, err
	}
	asaved, err := p.Store.SaveDrafts(ctx, acts)
	if err != nil {
		return rep, fmt.Errorf("save activity drafts: %w", err)
	}
	rep.Activity = acts
	rep.Saved.Added, rep.Saved.Updated, rep.Saved.Kept = rep.Saved.Added+asaved.Added, rep.Saved.Updated+asaved.Updated, rep.Saved.Kept+asaved.Kept
	if err := p.attachWinEvidence(ctx); err != nil {
		return rep, err
	}
	if err := p.Store.SetDrafterParts(ctx, newParts, o.Full); err != nil {
		return rep, err
	}
	// Recorded last: a pass that failed before this point is run again.
	if err := p.Store.SetSeriesStates(ctx, states, o.Full); err != nil {
		return rep, err
	}
	return rep, nil
}

// newCreated stamps the drafts that are new (not in existing) with now:
// the drafter stamps them with the horizon it was given.
func newCreated(ds, existing []model.Draft, now time.Time) {
	for i := range ds {
		if !slices.ContainsFunc(existing, func(e model.Draft) bool { return e.ID == ds[i].ID }) {
			ds[i].CreatedAt = now.UTC().Truncate(time.Second)
		}
	}
}

// builtinKey is the drafter state that stands for all built-in series.
const builtinKey = "\x00builtin"

// isBuiltin: a built-in series id (not configured).
func isBuiltin(cfg *config.Config, id string) bool {
	for _, m := range cfg.Metrics {
		if m.ID == id {
			return false
		}
	}
	return true
}

// sortResult puts the merged per-series results in the order one
// drafter.Run over all of them gives.
func sortResult(r *drafter.Result) {
	sort.SliceStable(r.Drafts, func(i, j int) bool {
		a, b := r.Drafts[i], r.Drafts[j]
		if !a.ShiftAt.Equal(b.ShiftAt) {
			return a.ShiftAt.Before(b.ShiftAt)
		}
		return a.ID < b.ID
	})
	byTime := func(ss []drafter.Shift) {
		sort.SliceStable(ss, func(i, j int) bool {
			if !ss[i].At.Equal(ss[j].At) {
				return ss[i].At.Before(ss[j].At)
			}
			return ss[i].Metric.ID < ss[j].Metric.ID
		})
	}
	byTime(r.Regressions)
	byTime(r.Unattributed)
	sort.Strings(r.Superseded)
	r.Superseded = slices.Compact(r.Superseded)
}

// clockDependent reports whether a series' analysis at now may change
// with the clock alone: a shift's after window (anchored at most the
// tolerance after the shift, plus settle; irregular events stretch it by
// up to another window) may still be filling, so the next pass must
// analyse it again even without new data.
func clockDependent(fs []drafter.Finding, p drafter.Params, now time.Time) bool {
	margin := clockMargin(p)
	for _, f := range fs {
		if now.Before(f.At.Add(margin)) {
			return true
		}
	}
	return false
}

// clockMargin is how long after a shift its verdict may still change
// with the clock alone (see clockDependent).
func clockMargin(p drafter.Params) time.Duration {
	settle := max(p.Settle, 24*time.Hour) // the default settle is a day
	return settle + 2*max(p.Window, 7*24*time.Hour) + 36*time.Hour + 2*24*time.Hour
}

// drafterParams are the drafter's settings from the config.
func (p *Pipeline) drafterParams() drafter.Params {
	cfg := p.Config
	return drafter.Params{
		Window:    cfg.Drafter.Window.D(),
		Settle:    cfg.Drafter.Settle.D(),
		MinChange: float64(cfg.Drafter.MinChange),
		Alpha:     cfg.Drafter.Alpha,
		Me:        append([]string(nil), cfg.Me.GitHub...),
		MatchPath: glob.Match,
	}
}

// fingerprint identifies a metric's definition and the drafter's
// settings: a series analysed under another fingerprint is analysed again.
func fingerprint(p drafter.Params, m model.Metric) string {
	b, _ := json.Marshal(struct {
		W, S              time.Duration
		MinChange, Alpha  float64
		Me                []string
		Tolerance         time.Duration
		Metric            model.Metric
		DrafterGeneration int
	}{p.Window, p.Settle, p.MinChange, p.Alpha, p.Me, p.Tolerance, m, drafterGeneration})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// drafterGeneration changes when the drafter's method changes in a way
// that should redo every series' analysis on upgrade. 2: long series are
// analysed in two parts (see tail); drafts made before from their whole
// history are made again the new way, so that the incremental passes give
// what a full pass gives.
const drafterGeneration = 2

// Long series are analysed in two parts, so that a pass re-examines only
// the tail of their history (see tail): what lies before the cut comes
// from an analysis of the history up to the epoch (the start of the
// current 28-day period), which the store keeps and a pass reuses while
// nothing before the epoch changed; what lies after the cut from an
// analysis of the last tailContext days before the cut and everything
// after it. Both are functions of the stored data alone, so a full pass
// and any sequence of incremental passes give the same drafts.
const (
	// tailEpochDays is the period of the epochs (on UTC day numbers):
	// once per epoch a long series' history is analysed in full.
	tailEpochDays = 28
	// tailContextDays is the history before the cut the tail's analysis
	// reads: on 60 series × 3 years of the scale benchmark (8 horizons
	// 37 days apart) an analysis of the last 120 days drafted 47 of the
	// 49 drafts of the last 49 days that an analysis of the whole
	// history drafted, word for word, and none that it did not, at a
	// tenth of the CPU.
	tailContextDays = 120
	// tailSeam is how far before the cut the tail still keeps a shift
	// the analysis up to the epoch did not find (nor within tailSeam of
	// it): twice the widest tolerance of a shift's time.
	tailSeam = 72 * time.Hour
)

// tail is the geometry of a pass's split of long series.
type tail struct {
	eday   uint32    // the epoch's UTC day number
	epoch  time.Time // its start
	cut    time.Time // shifts before it come from the analysis up to the epoch
	from   time.Time // the tail's analysis reads samples from here
	usable bool      // the horizon is late enough for a split at all
}

// tailFor places the epoch of the horizon's day hday for a series of the
// given phase, and the cut: the reach before the epoch within which a
// verdict may still wait on the clock (see clockDependent), so that every
// shift before the cut has its final verdict at the epoch.
func tailFor(p drafter.Params, hday, phase uint32) tail {
	reach := uint32((clockMargin(p) + 24*time.Hour - 1) / (24 * time.Hour))
	t := tail{eday: epochDay(int64(hday)*86400, phase)}
	t.epoch = time.Unix(int64(t.eday)*86400, 0).UTC()
	if t.eday < reach+tailContextDays {
		return t
	}
	cday := t.eday - reach
	t.cut = time.Unix(int64(cday)*86400, 0).UTC()
	t.from = time.Unix(int64(cday-tailContextDays)*86400, 0).UTC()
	t.usable = true
	return t
}

// epochDay is the epoch (its UTC day number) of the horizon at unix
// seconds through, for a series of the given phase.
func epochDay(through int64, phase uint32) uint32 {
	d := uint32(through / 86400)
	return d - (d+phase)%tailEpochDays
}

// phase staggers the series' epochs over the days of an epoch (by a hash
// of the metric id), so that each day about one series in 28 is analysed
// in full, rather than every series on the same day.
func phase(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32() % tailEpochDays
}

// keptPart is what the store keeps of a long series: its analysis up to
// the epoch, cut.
type keptPart struct {
	Epoch       uint32       `json:"epoch"`
	Fingerprint string       `json:"fp"`
	Part        drafter.Part `json:"part"`
}

// encodeKept is kp as the store keeps it: JSON (whose numbers read back
// bit for bit), deflated (a fifth of the size at the scale benchmark's
// 50 series × 3 years: 4 KB a series; findings repeat their PRs and
// phrases).
func encodeKept(kp keptPart) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(zw).Encode(kp); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeKept reads what encodeKept wrote.
func decodeKept(raw []byte) (keptPart, error) {
	var kp keptPart
	if raw == nil {
		return kp, errors.New("nothing kept")
	}
	zr := flate.NewReader(bytes.NewReader(raw))
	defer zr.Close()
	err := json.NewDecoder(zr).Decode(&kp)
	return kp, err
}

// analysed is one configured series' analysis.
type analysed struct {
	res    drafter.Result
	series drafter.Series // the metric; its samples with keep
	enc    *[]byte        // when not nil, what the store should keep for the series
	split  bool           // analysed in two parts
	reused bool           // … the first kept from an earlier pass
}

// analyse analyses one configured series up to horizon: in full, or, for
// a series with samples before the tail's start, in two parts (see tail).
func (p *Pipeline) analyse(ctx context.Context, m model.Metric, fp string, ex []model.Draft, tl tail, horizon time.Time,
	drH *drafter.Prepared, drE func(time.Time) *drafter.Prepared, kept func(model.Metric, string, tail) bool, keep bool) (analysed, error) {
	long := false
	if tl.usable {
		first, ok, err := p.Store.FirstSample(ctx, m.ID)
		if err != nil {
			return analysed{}, err
		}
		long = ok && first.Before(tl.from)
	}
	if !long {
		samples, err := p.Store.Samples(ctx, m.ID, time.Time{}, horizon)
		if err != nil {
			return analysed{}, err
		}
		s := drafter.Series{Metric: m, Samples: samples}
		return analysed{res: drH.Run([]drafter.Series{s}, ex, horizon), series: s}, nil
	}
	var before drafter.Part
	var enc *[]byte
	ok := false
	if kept(m, fp, tl) {
		raw, err := p.Store.DrafterPart(ctx, m.ID)
		if err != nil {
			return analysed{}, err
		}
		if kp, err := decodeKept(raw); err == nil && kp.Epoch == tl.eday && kp.Fingerprint == fp && kp.Part.Metric == m.ID {
			before, ok = kp.Part, true
		}
	}
	if !ok {
		samples, err := p.Store.Samples(ctx, m.ID, time.Time{}, tl.epoch)
		if err != nil {
			return analysed{}, err
		}
		before = filterPart(drE(tl.epoch).Analyse(&drafter.Series{Metric: m, Samples: samples}, tl.epoch), func(t time.Time) bool { return t.Before(tl.cut) })
		b, err := encodeKept(keptPart{Epoch: tl.eday, Fingerprint: fp, Part: before})
		if err != nil {
			b = nil // not kept (a value JSON cannot hold): analysed again next time
		}
		enc = &b
	}
	samples, err := p.Store.Samples(ctx, m.ID, tl.from, horizon)
	if err != nil {
		return analysed{}, err
	}
	// The tail keeps its shifts after the cut, and those up to tailSeam
	// before it that the part before the cut did not find: a shift near
	// the cut that the two analyses place on either side of it is kept
	// once, by one of them.
	found := make([]time.Time, len(before.Findings))
	for i, f := range before.Findings {
		found[i] = f.At
	}
	after := filterPart(drH.Analyse(&drafter.Series{Metric: m, Samples: samples}, horizon), func(t time.Time) bool {
		if t.Before(tl.cut.Add(-tailSeam)) {
			return false
		}
		return !slices.ContainsFunc(found, func(a time.Time) bool { return a.Sub(t).Abs() <= tailSeam })
	})
	joined := drafter.Part{Metric: m.ID,
		Proposals:    append(before.Proposals, after.Proposals...),
		Findings:     append(before.Findings, after.Findings...),
		Regressions:  append(before.Regressions, after.Regressions...),
		Unattributed: append(before.Unattributed, after.Unattributed...)}
	slices.SortStableFunc(joined.Findings, func(a, b drafter.Finding) int { return a.At.Compare(b.At) })
	res := drH.Merge([]drafter.Part{joined}, ex, horizon)
	s := drafter.Series{Metric: m}
	if keep {
		if s.Samples, err = p.Store.Samples(ctx, m.ID, time.Time{}, horizon); err != nil {
			return analysed{}, err
		}
	}
	return analysed{res: res, series: s, enc: enc, split: true, reused: ok}, nil
}

// filterPart keeps what p found at the times in keeps.
func filterPart(p drafter.Part, in func(time.Time) bool) drafter.Part {
	out := drafter.Part{Metric: p.Metric}
	for _, x := range p.Proposals {
		if in(x.Draft.ShiftAt) {
			out.Proposals = append(out.Proposals, x)
		}
	}
	for _, f := range p.Findings {
		if in(f.At) {
			out.Findings = append(out.Findings, f)
		}
	}
	for _, x := range p.Regressions {
		if in(x.At) {
			out.Regressions = append(out.Regressions, x)
		}
	}
	for _, x := range p.Unattributed {
		if in(x.At) {
			out.Unattributed = append(out.Unattributed, x)
		}
	}
	return out
}

// explainParts is Explain for a configured series long enough to be
// analysed in two parts (see tail), analysed as a pass analyses it (the
// part up to its epoch computed afresh); ok is false for a shorter one.
// in is the drafter's input at the horizon (atHorizon).
func (p *Pipeline) explainParts(ctx context.Context, in drafter.Input, metric string, at time.Time) (drafter.Explanation, bool, error) {
	if len(in.Series) != 1 || in.Series[0].Metric.ID != metric {
		return drafter.Explanation{}, false, nil
	}
	se := in.Series[0]
	horizon := in.Now
	hday := uint32(horizon.Unix() / 86400)
	params := p.drafterParams()
	tl := tailFor(params, hday, phase(metric))
	var ex []model.Draft
	for _, d := range in.Existing {
		if d.Metric.ID == metric {
			ex = append(ex, d)
		}
	}
	drE := func(epoch time.Time) *drafter.Prepared {
		var eprs []model.PR
		var edeploys []model.Deploy
		for _, pr := range in.PRs {
			if pr.MergedAt.Before(epoch) {
				eprs = append(eprs, pr)
			}
		}
		for _, d := range in.Deploys {
			if d.Time.Before(epoch) {
				edeploys = append(edeploys, d)
			}
		}
		return drafter.Prepare(params, eprs, edeploys)
	}
	never := func(model.Metric, string, tail) bool { return false }
	an, err := p.analyse(ctx, se.Metric, fingerprint(params, se.Metric), ex, tl, horizon,
		drafter.Prepare(params, in.PRs, in.Deploys), drE, never, false)
	if err != nil || !an.split {
		return drafter.Explanation{}, false, err
	}
	out := drafter.Explanation{Metric: se.Metric.Ref(), Samples: len(se.Samples)}
	if out.Metric.Name == "" {
		out.Metric.Name = out.Metric.ID
	}
	if n := len(se.Samples); n > 0 {
		out.From, out.To = se.Samples[0].Time.UTC(), se.Samples[n-1].Time.UTC()
	}
	return drafter.ExplainResult(out, an.res.Findings, params, at), true, nil
}
