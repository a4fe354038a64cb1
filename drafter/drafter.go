// Package drafter finds sustained level shifts in metric series, credits
// them to the merged PRs that went live just before, and drafts quantified
// accomplishment statements.
//
// The package is pure: no I/O, no clock, no randomness. Run takes slices and
// returns drafts; the same input always gives the same output.
//
// # Method
//
//  1. Each series is aggregated to UTC days (daily medians; daily sums for
//     weekly count series) to remove the daily cycle, spikes and most of the
//     autocorrelation, and drafter/changepoint proposes the days where the
//     level moved abruptly (its local-level model tells a shift from slow
//     drift; see detect). Series of irregular events (CI runs, incident
//     durations) have days without data: those days are gaps, not zeros,
//     and the daily medians run over the days with data. Weekly counts are
//     also split with the Poisson likelihood (see counts.go), which sees
//     drops in sparse counts that look like noise to a Gaussian model.
//  2. Each proposed day is refined to the sample where the values split
//     best (rank statistic; hourly values deseasonalised), searching ±36 h
//     around it for hourly data and ±3 days for events and daily values.
//     The split points nearly as good as the best one give the shift's
//     tolerance: how far off its time may be (a split also reaches back
//     across a gap in the data before it; a daily value cannot place a
//     shift within its day, so daily series get at least a day). Weekly
//     counts are placed on the day where the Poisson likelihood ratio
//     peaks, with the days nearly as likely as the tolerance.
//  3. Candidates for a shift at τ are merged PRs to the metric's repos
//     (touching its paths, when given) whose LiveAt lies in
//     [τ − Settle − tolerance, τ + tolerance]. The one closest to τ is the
//     likeliest cause (mine first when equally close: the same deploy
//     shipped both). If it is someone else's, none of mine is credited
//     (Finding verdict "credited-to-other"). Otherwise my candidates that
//     went live within the tolerance of the closest are credited together;
//     other authors' candidates within it are named ("with @bob"), and any
//     other author's candidate lowers the confidence to medium. LiveAt is
//     the first deploy that shipped the PR, else its merge (see
//     preparePRs).
//  4. The numbers come from windows anchored on the credited PRs: before is
//     [firstLive − Window, min(firstLive, τ)), after is
//     [lastLive + Settle, lastLive + Settle + Window). Before and after are
//     the median of the samples in each window. The shift counts when a
//     Mann–Whitney U test on the daily blocks of the two windows gives
//     p < Alpha, |change| ≥ MinChange, and the after level held: at least
//     two thirds of the after window's daily blocks lie beyond the midpoint
//     of before and after. The after window must have at least 5 whole
//     days (or the whole Window, if shorter) before Now; until then the
//     shift is skipped, and the draft is updated as the window fills. For
//     irregular events each window stretches (by up to another Window)
//     until it holds as many days with data as Window has days.
//     A clearer shift found earlier inside the before window bounds it:
//     the window starts after that shift (plus its tolerance), and a
//     window left too short is too little data — a weaker proposal days
//     after a real step is never measured across the step.
//     Weekly counts compare per-week rates over windows of at least four
//     weeks, snapped to whole days, with the exact conditional test for
//     two Poisson rates, and "held" counts whole weeks (see counts.go).
//     The change must also be a step at τ, not drift: it is compared with
//     the changes the same windows measure elsewhere in the history, and
//     a significant trend's share is taken out of the numbers (see
//     stepTest in step.go). A level that came back within the after window
//     is not sustained.
//  5. Improvements credited to me become drafts (one per shift, crediting
//     all my candidate PRs), regressions after my PRs are listed in
//     Result.Regressions, and improvements credited to nobody of mine in
//     Result.Unattributed. Pending, unedited drafts that are no longer
//     proposed are listed in Result.Superseded. Every shift found gets a
//     Finding with its verdict (Result.Findings; Explain for one series).
package drafter

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/impact-dev/impact/internal/glob"
	"github.com/impact-dev/impact/internal/model"
)

// Params are the drafter's settings (the `drafter:` config section plus
// `me.github`). Zero values take the defaults.
type Params struct {
	Window    time.Duration // before/after windows (default 7d)
	Settle    time.Duration // time after go-live excluded from the after window (default 1d; negative means none)
	MinChange float64       // smallest relative change drafted (default 0.10 = 10%)
	Alpha     float64       // significance level (default 0.01)
	Me        []string      // GitHub logins whose PRs are "mine" (case-insensitive, "@" optional)
	// MatchPath reports whether a PR's file path matches a metric's paths
	// pattern (glob with **). nil uses glob.Match, the project's one matcher. Run
	// calls it from several goroutines.
	MatchPath func(pattern, path string) bool
	// Tolerance is the least slack around a detected shift time when
	// pairing it with PRs (default 4h). Each shift widens it to the span of
	// split points its data cannot tell apart (at most 36h); series
	// without hourly resolution, such as weekly counts, use 1 day.
	Tolerance time.Duration
}

// Series is one metric and its samples, sorted by time (hourly for APM
// metrics, one per event for CI runs and incidents, one per UTC day for
// daily counts and rates).
type Series struct {
	Metric  model.Metric
	Samples []model.Sample
	// End, when set, is where the series' data ends (exclusive): the
	// collector has not looked past it. It matters for weekly counts,
	// where a day without samples is a zero only before End. Zero means
	// Input.Now.
	End time.Time
}

// Input is everything one Run looks at.
type Input struct {
	Params Params
	Series []Series
	// PRs are all merged PRs of all repos, all authors.
	PRs []model.PR
	// Deploys may be empty. A PR went live at the first deploy of its
	// repo that shipped it (see preparePRs), else at its merge.
	Deploys []model.Deploy
	// Existing are the drafts already stored.
	Existing []model.Draft
	// Now stamps new drafts and hides after windows not complete yet. The
	// zero time means "after the last sample".
	Now time.Time
}

// Shift is a significant, sustained level shift that is not drafted: a
// regression after my PRs, or an improvement nobody of mine is credited for.
type Shift struct {
	Metric model.MetricRef
	At     time.Time // where the detector places the start of the shift
	// Before, After and Change as in model.Draft; the windows are anchored
	// on Cause when there is one, else on At.
	Before, After, Change, PValue float64
	BeforeWindow, AfterWindow     model.Window
	Improvement                   bool
	// Cause is the likeliest PR (any author), nil if no PR went live near
	// the shift. Others are the other candidates.
	Cause  *model.PRRef
	Others []model.PRRef
}

// Result is what Run found.
type Result struct {
	// Drafts are new or updated drafts to store. They never include
	// changes to accepted or rejected drafts, nor to pending drafts whose
	// text the user edited.
	Drafts []model.Draft
	// Regressions are shifts in the worse direction after my PRs; the
	// digest lists them, they are never drafted.
	Regressions []Shift
	// Unattributed are real improvements nobody of mine is credited for
	// (another author's PR was the likelier cause, or no PR went live).
	Unattributed []Shift
	// Superseded are the ids of existing pending drafts the drafter no
	// longer proposes — their credited PRs or their shift changed as data
	// arrived (a deploy moved a PR's go-live time, a late PR joined the
	// shift), so the same shift now has a draft under another id, or none.
	// Only unedited drafts (Text = GeneratedText) of series in the input
	// are listed; accepted, rejected and edited drafts never are. The
	// caller deletes them.
	Superseded []string
	// Findings are every shift the detector found, with what the drafter
	// made of it (drafted, regression, credited to someone else, drift,
	// too small, …), by metric in input order, then time.
	Findings []Finding
}

const (
	day            = 24 * time.Hour
	week           = 7 * day
	refineSpan     = 36 * time.Hour // hourly refinement searches ±refineSpan around the detected day
	dailySpan      = 3 * day        // … and refinement of daily values ±dailySpan
	refineSlack    = 6.0            // splits within this much of the best z² are as plausible (see refine)
	minAfterWindow = 5 * day        // the after window needs this much data (or the whole Window)
	heldFraction   = 2.0 / 3        // share of after blocks beyond the midpoint for "sustained"
	onsetBlocks    = 2              // first after blocks that must all be beyond the midpoint
)

func (p Params) withDefaults() Params {
	if p.Window <= 0 {
		p.Window = week
	}
	switch {
	case p.Settle == 0:
		p.Settle = day
	case p.Settle < 0:
		p.Settle = 0
	}
	if p.MinChange <= 0 {
		p.MinChange = 0.10
	}
	if p.Alpha <= 0 {
		p.Alpha = 0.01
	}
	if p.MatchPath == nil {
		p.MatchPath = glob.Match
	}
	if p.Tolerance <= 0 {
		p.Tolerance = 4 * time.Hour
	}
	return p
}

// prInfo is a PR with what the drafter derives from it.
type prInfo struct {
	pr   *model.PR
	live time.Time
	mine bool
	key  string
	repo string // lower case
}

func (p *prInfo) ref() model.PRRef {
	return model.PRRef{Repo: p.pr.Repo, Number: p.pr.Number, Title: p.pr.Title, URL: p.pr.URL,
		Author: p.pr.Author, MergedAt: p.pr.MergedAt.UTC(), LiveAt: p.live.UTC()}
}

// Run analyses every series and returns drafts, regressions and
// unattributed improvements, each in a deterministic order. Series are
// analysed in parallel (up to GOMAXPROCS goroutines); the result does not
// depend on the scheduling.
func Run(in Input) Result {
	return Prepare(in.Params, in.PRs, in.Deploys).Run(in.Series, in.Existing, in.Now)
}

// Prepared is the drafter with its PRs made ready (go-live times from the
// deploys, ownership, order), so that series can be analysed a few at a
// time without preparing the PRs again for each: Run(in) gives the same
// result as Prepare(in.Params, in.PRs, in.Deploys).Run(in.Series,
// in.Existing, in.Now), and a series' drafts, findings, regressions,
// unattributed shifts and superseded drafts depend only on that series,
// the PRs and deploys, and the existing drafts of its metric — so running
// the series one by one, each with its metric's existing drafts, gives
// the parts of the result of one Run over them all. A Prepared is
// read-only: Run may be called from several goroutines. It keeps
// pointers into prs.
type Prepared struct {
	p   Params
	prs []*prInfo
}

// Prepare makes the PRs ready for Run.
func Prepare(params Params, prs []model.PR, deploys []model.Deploy) *Prepared {
	p := params.withDefaults()
	return &Prepared{p: p, prs: preparePRs(prs, deploys, p.Me)}
}

// Run analyses series as the package's Run does, with the prepared PRs:
// Analyse on each series (in parallel), then Merge.
func (pp *Prepared) Run(series []Series, existing []model.Draft, now time.Time) Result {
	// Series are independent: analyse them in parallel, then merge in
	// input order so the result does not depend on scheduling.
	parts := make([]Part, len(series))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(series)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(series) {
					return
				}
				parts[i] = pp.Analyse(&series[i], now)
			}
		})
	}
	wg.Wait()
	return pp.Merge(parts, existing, now)
}

// Proposal is a draft the analysis of a series proposes, before the
// metric's other proposals and the drafts already stored are considered
// (Merge), with the keys of the PRs it credits.
type Proposal struct {
	Draft  model.Draft `json:"draft"`
	PRKeys []string    `json:"pr_keys"`
}

// Part is what the analysis of one series concluded before it is merged
// with the other series' and the drafts already stored. It depends only
// on the series, the prepared PRs and deploys, and now (not on the
// existing drafts): a caller may keep it and merge it again later.
type Part struct {
	// Metric is the series' metric id.
	Metric       string     `json:"metric"`
	Proposals    []Proposal `json:"proposals,omitempty"`
	Findings     []Finding  `json:"findings,omitempty"`
	Regressions  []Shift    `json:"regressions,omitempty"`
	Unattributed []Shift    `json:"unattributed,omitempty"`
}

// Analyse analyses one series (Run's per-series step). It reads s and
// does not keep it.
func (pp *Prepared) Analyse(s *Series, now time.Time) Part {
	part := Part{Metric: s.Metric.ID}
	a := newAnalysis(s, pp.p, now)
	if a == nil {
		return part
	}
	a.shifts = a.shiftTimes()
	var res Result
	var cands []*Proposal
	for _, est := range a.shifts {
		a.attribute(est, pp.prs, &res, &cands)
	}
	part.Findings, part.Regressions, part.Unattributed = res.Findings, res.Regressions, res.Unattributed
	for _, c := range cands {
		part.Proposals = append(part.Proposals, *c)
	}
	return part
}

// Merge is Run's last step: it merges the parts of the series analysed
// (in their order) with the drafts already stored — a proposal that
// claims a PR a stronger proposal of the metric or a decided draft claims
// is dropped; accepted, rejected and edited drafts are never changed —
// and lists the pending drafts of those series no longer proposed.
// Merge(parts of Analyse on each series) is Run over the series.
func (pp *Prepared) Merge(parts []Part, existing []model.Draft, now time.Time) Result {
	var (
		res   Result
		cands []*Proposal
	)
	ids := make([]string, len(parts))
	for i := range parts {
		pt := &parts[i]
		ids[i] = pt.Metric
		res.Regressions = append(res.Regressions, pt.Regressions...)
		res.Unattributed = append(res.Unattributed, pt.Unattributed...)
		res.Findings = append(res.Findings, pt.Findings...)
		for j := range pt.Proposals {
			cands = append(cands, &pt.Proposals[j])
		}
	}
	res.Drafts = resolve(cands, existing, now)
	overlaps(res.Findings, res.Drafts, existing)
	res.Regressions = dedupeShifts(res.Regressions)
	res.Unattributed = dedupeShifts(res.Unattributed)
	res.Superseded = superseded(existing, ids, res.Drafts)
	return res
}

// overlaps turns the drafted findings whose draft resolve dropped into
// VerdictOverlap: another, larger draft of the metric claims one of their
// PRs, or a draft of them was accepted or rejected before. A draft kept
// because the user edited it stays drafted.
func overlaps(fs []Finding, drafts []model.Draft, existing []model.Draft) {
	kept := make(map[string]bool, len(drafts))
	for _, d := range drafts {
		kept[d.ID] = true
	}
	status := make(map[string]model.Status, len(existing))
	for _, e := range existing {
		status[e.ID] = e.Status
		if e.GeneratedText != "" && e.Text != e.GeneratedText && (e.Status == model.StatusPending || e.Status == "") {
			kept[e.ID] = true
		}
	}
	for i := range fs {
		f := &fs[i]
		if f.Verdict != VerdictDrafted || kept[f.DraftID] {
			continue
		}
		switch st := status[f.DraftID]; st {
		case model.StatusAccepted, model.StatusRejected:
			f.Reason += "; the draft was " + string(st) + " before"
		default:
			f.Verdict = VerdictOverlap
			f.Reason += "; its PRs are already credited by a larger shift's draft of this metric, or by one decided before"
		}
	}
}

// superseded lists the existing pending, unedited drafts of the analysed
// series that drafts no longer contains, sorted.
func superseded(existing []model.Draft, series []string, drafts []model.Draft) []string {
	if len(existing) == 0 {
		return nil
	}
	analysed := make(map[string]bool, len(series))
	for _, id := range series {
		analysed[id] = true
	}
	kept := make(map[string]bool, len(drafts))
	for _, d := range drafts {
		kept[d.ID] = true
	}
	var out []string
	for _, e := range existing {
		if (e.Status != model.StatusPending && e.Status != "") || e.GeneratedText == "" || e.Text != e.GeneratedText ||
			!analysed[e.Metric.ID] || kept[e.ID] {
			continue
		}
		out = append(out, e.ID)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// preparePRs computes LiveAt and ownership and sorts by LiveAt, then key.
//
// LiveAt is the first deploy of the PR's repo that shipped it, else the
// merge. A deploy's SHA is the head of its workflow run: usually the merge
// commit of the last PR merged before the run started, which ships every
// PR merged before it too. So a deploy ships a PR when it finished at or
// after the merge and
//   - its SHA is the PR's merge SHA, or
//   - its SHA is the merge SHA of a PR of the same repo merged at or after
//     this one (a later PR of the same batch), or
//   - its SHA is no known PR's merge SHA (a direct push, a revert, a
//     manual run): only its time is known, and it is taken to ship what
//     was merged before it.
//
// A deploy whose SHA is the merge of a PR merged before this one started
// before this PR was merged (GitHub fixes a run's head when the run is
// created) and did not ship it. A PR merged after its repo's last deploy
// is taken to be live at its merge: the deploy workflow may not be
// collected yet, or not configured for the repo.
func preparePRs(prs []model.PR, deploys []model.Deploy, me []string) []*prInfo {
	mine := make(map[string]bool, len(me))
	for _, m := range me {
		m = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(m), "@"))
		if m != "" {
			mine[m] = true
		}
	}
	type rs struct{ repo, sha string }
	// mergedAt: when the PR whose merge SHA a deploy ran was merged.
	mergedAt := make(map[rs]time.Time, len(prs))
	for i := range prs {
		if p := &prs[i]; p.MergeSHA != "" && !p.MergedAt.IsZero() {
			mergedAt[rs{strings.ToLower(p.Repo), strings.ToLower(p.MergeSHA)}] = p.MergedAt
		}
	}
	type dep struct {
		t   time.Time
		sha string
	}
	byRepo := make(map[string][]dep)
	for _, d := range deploys {
		if d.Time.IsZero() {
			continue
		}
		r := strings.ToLower(d.Repo)
		byRepo[r] = append(byRepo[r], dep{d.Time, strings.ToLower(d.SHA)})
	}
	for _, ds := range byRepo {
		sort.Slice(ds, func(i, j int) bool {
			if !ds[i].t.Equal(ds[j].t) {
				return ds[i].t.Before(ds[j].t)
			}
			return ds[i].sha < ds[j].sha
		})
	}
	out := make([]*prInfo, 0, len(prs))
	for i := range prs {
		pr := &prs[i]
		if pr.MergedAt.IsZero() {
			continue
		}
		info := &prInfo{pr: pr, live: pr.MergedAt, key: pr.Key(), repo: strings.ToLower(pr.Repo),
			mine: mine[strings.ToLower(strings.TrimPrefix(pr.Author, "@"))]}
		ds := byRepo[info.repo]
		sha := strings.ToLower(pr.MergeSHA)
		for j := sort.Search(len(ds), func(j int) bool { return !ds[j].t.Before(pr.MergedAt) }); j < len(ds); j++ {
			d := ds[j]
			if d.sha != "" && d.sha != sha {
				if m, ok := mergedAt[rs{info.repo, d.sha}]; ok && m.Before(pr.MergedAt) {
					continue // the run's head predates this merge
				}
			}
			info.live = d.t
			break
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].live.Equal(out[j].live) {
			return out[i].live.Before(out[j].live)
		}
		return out[i].key < out[j].key
	})
	// The same PR twice (collected twice): keep the first.
	out = slices.CompactFunc(out, func(a, b *prInfo) bool { return a.key == b.key && a.live.Equal(b.live) })
	return out
}

// eligible reports whether pr may be credited for metric m: merged to a
// listed repo and touching a listed path (when files were fetched).
func eligible(pr *prInfo, m *model.Metric, match func(string, string) bool) bool {
	if len(m.Repos) > 0 {
		ok := false
		for _, r := range m.Repos {
			if strings.EqualFold(r, pr.pr.Repo) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(m.Paths) == 0 || !pr.pr.FilesFetched {
		return true
	}
	for _, f := range pr.pr.Files {
		for _, pat := range m.Paths {
			if match(pat, f) {
				return true
			}
		}
	}
	return false
}

// draftID is the first 8 hex digits of sha256(metric id, sorted PR keys).
func draftID(metricID string, keys []string) string {
	ks := slices.Clone(keys)
	sort.Strings(ks)
	h := sha256.Sum256([]byte(metricID + "\n" + strings.Join(ks, "\n")))
	return hex.EncodeToString(h[:4])
}

// resolve drops drafts that claim a PR another, stronger draft of the same
// metric claims, then applies the existing drafts: rejected and accepted
// ids (and drafts overlapping their PRs on the same metric) are not
// proposed again, edited pending drafts are left alone, and pending ones
// are updated but keep their CreatedAt.
func resolve(cands []*Proposal, existing []model.Draft, now time.Time) []model.Draft {
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := &cands[i].Draft, &cands[j].Draft
		if a.Metric.ID != b.Metric.ID {
			return a.Metric.ID < b.Metric.ID
		}
		if ca, cb := math.Abs(a.Change), math.Abs(b.Change); ca != cb {
			return ca > cb
		}
		if a.PValue != b.PValue {
			return a.PValue < b.PValue
		}
		return a.ID < b.ID
	})
	byID := make(map[string]*model.Draft, len(existing))
	decided := make(map[string]bool) // metric id + "\x00" + PR key of decided drafts
	for i := range existing {
		e := &existing[i]
		byID[e.ID] = e
		if e.Status == model.StatusAccepted || e.Status == model.StatusRejected {
			for _, pr := range e.PRs {
				decided[e.Metric.ID+"\x00"+prKey(pr)] = true
			}
		}
	}
	claimed := make(map[string]bool)
	created := now.UTC().Truncate(time.Second)
	var out []model.Draft
	for _, c := range cands {
		d := c.Draft
		skip := false
		for _, k := range c.PRKeys {
			if claimed[d.Metric.ID+"\x00"+k] || decided[d.Metric.ID+"\x00"+k] {
				skip = true
				break
			}
		}
		if skip {
			continue
		}
		for _, k := range c.PRKeys {
			claimed[d.Metric.ID+"\x00"+k] = true
		}
		d.Status = model.StatusPending
		d.CreatedAt = created
		if e, ok := byID[d.ID]; ok {
			if e.Status != model.StatusPending && e.Status != "" {
				continue
			}
			if e.GeneratedText != "" && e.Text != e.GeneratedText {
				continue // edited by the user: never overwritten
			}
			d.CreatedAt = e.CreatedAt
			d.DecidedAt = e.DecidedAt
			d.Reason = e.Reason
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ShiftAt.Equal(out[j].ShiftAt) {
			return out[i].ShiftAt.Before(out[j].ShiftAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func prKey(r model.PRRef) string { return model.PR{Repo: r.Repo, Number: r.Number}.Key() }

// dedupeShifts removes shifts measured on the same windows (two detected
// points that led to the same cause) and sorts by time, then metric.
func dedupeShifts(ss []Shift) []Shift {
	sort.SliceStable(ss, func(i, j int) bool {
		if !ss[i].At.Equal(ss[j].At) {
			return ss[i].At.Before(ss[j].At)
		}
		return ss[i].Metric.ID < ss[j].Metric.ID
	})
	out := ss[:0]
	seen := make(map[string]bool, len(ss))
	for _, s := range ss {
		k := s.Metric.ID + "\x00" + s.BeforeWindow.End.String() + "\x00" + s.AfterWindow.Start.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
