// Package attrbench is the labelled-scenario attribution benchmark: it
// builds seeded synthetic worlds (world.Random), serves each through the
// fake GitHub and Datadog servers, runs the real collectors, store and
// drafter exactly as `impact demo` does (app.Pipeline Collect, then Draft),
// and scores the pending drafts against the world's labels.
//
// # Scoring
//
// Every draft gets one verdict:
//
//   - correct: it is on the metric of a mine, mine-crowded or mine-gap
//     label, credits exactly that label's Cause, and its before and after
//     are within 5% of the label's From and To;
//   - wrong-numbers: the metric and PRs match such a label, the numbers do
//     not;
//   - false-win: it credits a PR by someone other than me, it is on a
//     growth or random-walk metric (drift sold as a win), or it is related
//     to an `other`, `other-closer`, `regression` or `revert` label: it
//     credits one of the label's PRs, its shift is within 3 days of the
//     label's, or its before and after windows straddle the label's shift
//     (it measured that change);
//   - wrong-prs: it is related to a mine* label but credits another PR set
//     (one of two causes, or an extra PR of mine);
//   - tiny: it drafts a mine-tiny shift (below min_change);
//   - spurious: related to no designed shift (flat metrics included).
//
// Precision is correct / all drafts. Recall is the share of mine,
// mine-crowded, mine-gap and mine-unrelated labels with a correct draft.
// False wins count false-win drafts and must be 0. "Not the likeliest
// cause" counts drafts related to a labelled shift that credit a PR other
// than the shift's cause (another author's PR closer to it, or my
// unrelated PR within settle folded in); it must be 0 too.
//
// mine-crowded: other authors' PRs went live in the 23 hours before the
// shift, but mine went live closest to it, so the spec (rule 2) says to
// credit mine while naming the others with lowered confidence. Drafting it
// crediting exactly my PRs is correct and counts toward recall; not
// drafting it is a miss. The others are never credited (Draft.PRs holds
// mine only; an other's PR there would be a false win). Whether the
// draft named the others (Draft.Others non-empty, confidence below high)
// is reported separately ("uncertainty named"), not folded into precision.
package attrbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/internal/world/worldconfig"
	"github.com/impact-dev/impact/store"
)

// Goals of the benchmark (issue "A drafter you can trust").
const (
	GoalPrecision = 0.98
	GoalRecall    = 0.90
	GoalFalseWins = 0
	// GoalNotLikeliest: drafts crediting a PR that is not the likeliest
	// cause of the shift they measured.
	GoalNotLikeliest = 0
	// NumberTolerance is how far a draft's before/after may be from the
	// true levels.
	NumberTolerance = 0.05
	// nearShift is how far from a label's shift a draft still relates to it.
	nearShift = 3 * 24 * time.Hour
)

// Verdicts of a draft.
const (
	VerdictCorrect      = "correct"
	VerdictWrongNumbers = "wrong-numbers"
	VerdictWrongPRs     = "wrong-prs"
	VerdictFalseWin     = "false-win"
	VerdictTiny         = "tiny"
	VerdictSpurious     = "spurious"
)

// Outcomes of a label.
const (
	OutcomeDrafted    = "drafted"     // draftable, and a correct draft matched it
	OutcomeWrong      = "wrong"       // draftable, related drafts but none correct
	OutcomeMissed     = "missed"      // draftable, no related draft
	OutcomeNotDrafted = "not-drafted" // not draftable, and no draft: right
	OutcomeViolated   = "violated"    // not draftable, yet drafted
)

// Options of a benchmark run.
type Options struct {
	// Seeds are the worlds to build (world.Random's seed).
	Seeds []int64
	// World shapes every world (zero: drawn from each seed).
	World world.RandomOptions
	// Parallel is how many seeds run at once (default GOMAXPROCS).
	Parallel int
	// Logger receives the pipeline's logs; nil discards them.
	Logger *slog.Logger
}

// Seeds returns n seeds starting at first.
func Seeds(first int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = first + int64(i)
	}
	return out
}

// SeedResult is one world's run.
type SeedResult struct {
	Seed    int64
	World   *world.World
	Drafts  []model.Draft  // pending drafts, as stored
	Result  drafter.Result // the drafter's own result (regressions, unattributed)
	Samples int            // samples collected
	Events  int            // events (PRs) collected
	Elapsed time.Duration

	Score    Score
	Verdicts []DraftVerdict
	Outcomes []LabelOutcome
}

// DraftVerdict is how one draft was scored.
type DraftVerdict struct {
	Draft   model.Draft
	Verdict string
	// Label is the label the draft relates to (nil for spurious drafts).
	Label *world.Label
	Why   string
}

// LabelOutcome is what became of one label.
type LabelOutcome struct {
	Label   world.Label
	Outcome string
	// Drafts are the drafts related to the label.
	Drafts []model.Draft
	// Note says what the drafter reported near the shift when it did not
	// draft it as expected (a regression, an unattributed improvement, or
	// nothing).
	Note string
}

// KindStats counts one label kind's outcomes.
type KindStats struct {
	Labels int
	// Drafted: draftable labels with a correct draft.
	Drafted int
	// Wrong: draftable labels drafted with wrong PRs or numbers.
	Wrong int
	// Missed: draftable labels with no draft.
	Missed int
	// Violated: labels that must not be drafted but were.
	Violated int
	// FalseWins: false-win drafts related to labels of this kind.
	FalseWins int
}

// Score sums up one or more worlds.
type Score struct {
	Seeds  int
	Labels int
	Drafts int
	// Verdicts counts drafts by verdict.
	Verdicts map[string]int
	// Positives are the mine, mine-crowded and mine-gap labels; Matched
	// those with a correct draft.
	Positives, Matched int
	ByKind             map[string]*KindStats
	// CrowdedDrafted and CrowdedNamed: correct mine-crowded drafts, and
	// those of them that named the others (Others non-empty) with
	// confidence below high.
	CrowdedDrafted, CrowdedNamed int
	// NotLikeliest counts drafts related to a labelled shift that credit
	// a PR that is not its cause.
	NotLikeliest int
}

func newScore() Score {
	s := Score{Verdicts: map[string]int{}, ByKind: map[string]*KindStats{}}
	for _, k := range world.LabelKinds {
		s.ByKind[k] = &KindStats{}
	}
	return s
}

// Correct is the number of correct drafts.
func (s Score) Correct() int { return s.Verdicts[VerdictCorrect] }

// FalseWins is the number of false-win drafts.
func (s Score) FalseWins() int { return s.Verdicts[VerdictFalseWin] }

// Precision is correct drafts / drafts (1 when there are none).
func (s Score) Precision() float64 {
	if s.Drafts == 0 {
		return 1
	}
	return float64(s.Correct()) / float64(s.Drafts)
}

// Recall is matched / positive labels (1 when there are none).
func (s Score) Recall() float64 {
	if s.Positives == 0 {
		return 1
	}
	return float64(s.Matched) / float64(s.Positives)
}

// Met reports whether the goals are met, and which are not.
func (s Score) Met() (bool, []string) {
	var fails []string
	if p := s.Precision(); p < GoalPrecision {
		fails = append(fails, fmt.Sprintf("precision %.3f < %.2f", p, GoalPrecision))
	}
	if r := s.Recall(); r < GoalRecall {
		fails = append(fails, fmt.Sprintf("recall %.3f < %.2f", r, GoalRecall))
	}
	if f := s.FalseWins(); f > GoalFalseWins {
		fails = append(fails, fmt.Sprintf("%d false win(s)", f))
	}
	if n := s.NotLikeliest; n > GoalNotLikeliest {
		fails = append(fails, fmt.Sprintf("%d draft(s) crediting a PR that is not the likeliest cause", n))
	}
	return len(fails) == 0, fails
}

// Add adds o into s.
func (s *Score) Add(o Score) {
	if s.Verdicts == nil {
		*s = newScore()
	}
	s.Seeds += o.Seeds
	s.Labels += o.Labels
	s.Drafts += o.Drafts
	for k, v := range o.Verdicts {
		s.Verdicts[k] += v
	}
	s.Positives += o.Positives
	s.Matched += o.Matched
	for k, v := range o.ByKind {
		t, ok := s.ByKind[k]
		if !ok {
			t = &KindStats{}
			s.ByKind[k] = t
		}
		t.Labels += v.Labels
		t.Drafted += v.Drafted
		t.Wrong += v.Wrong
		t.Missed += v.Missed
		t.Violated += v.Violated
		t.FalseWins += v.FalseWins
	}
	s.CrowdedDrafted += o.CrowdedDrafted
	s.CrowdedNamed += o.CrowdedNamed
	s.NotLikeliest += o.NotLikeliest
}

// RunSeed builds the world for seed, runs the pipeline on it and scores
// the drafts.
func RunSeed(ctx context.Context, seed int64, wo world.RandomOptions, logger *slog.Logger) (*SeedResult, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	started := time.Now()
	w := world.Random(seed, wo)

	gh := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{}, githubactions.FakeRoutes))
	defer gh.Close()
	dd := httptest.NewServer(datadog.NewFake(w, collectorstest.FakeOptions{}))
	defer dd.Close()
	cfg := worldconfig.Default(w, gh.URL+"/", dd.URL)

	dir, err := os.MkdirTemp("", "impact-attrbench-")
	if err != nil {
		return nil, fmt.Errorf("seed %d: %w", seed, err)
	}
	defer os.RemoveAll(dir)
	cfg.Store.Path = filepath.Join(dir, "impact.db")
	cfg.File = fmt.Sprintf("(attrbench seed %d)", seed)
	st, err := store.Open(cfg.Store.Path, store.Options{Timeout: 2 * time.Second, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("seed %d: %w", seed, err)
	}
	defer st.Close()

	p := &app.Pipeline{Config: cfg, Store: st, Registry: all.Registry(), Logger: logger, Now: func() time.Time { return w.End }}
	results, err := p.Collect(ctx, app.CollectOptions{Since: w.Start})
	if err != nil {
		return nil, fmt.Errorf("seed %d: collect: %w", seed, err)
	}
	res := &SeedResult{Seed: seed, World: w}
	for _, r := range results {
		res.Samples += r.Samples
		res.Events += r.Events
	}
	rep, err := p.Draft(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed %d: draft: %w", seed, err)
	}
	res.Result = rep.Result
	if res.Drafts, err = st.Drafts(ctx, store.DraftFilter{Status: model.StatusPending}); err != nil {
		return nil, fmt.Errorf("seed %d: %w", seed, err)
	}
	res.Score, res.Verdicts, res.Outcomes = ScoreWorld(w, res.Drafts, res.Result)
	res.Elapsed = time.Since(started)
	return res, nil
}

// Report is a whole benchmark run.
type Report struct {
	Options Options
	Seeds   []*SeedResult // in seed order
	Total   Score
	Elapsed time.Duration
}

// Run runs every seed (Parallel at a time) and sums the scores.
func Run(ctx context.Context, o Options) (*Report, error) {
	started := time.Now()
	par := o.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	out := make([]*SeedResult, len(o.Seeds))
	errs := make([]error, len(o.Seeds))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, seed := range o.Seeds {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			out[i], errs[i] = RunSeed(ctx, seed, o.World, o.Logger)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &Report{Options: o, Seeds: out, Total: newScore()}
	for _, s := range out {
		r.Total.Add(s.Score)
	}
	r.Elapsed = time.Since(started)
	return r, nil
}

// ScoreWorld scores the drafts of one world against its labels; res (the
// drafter's result, may be zero) explains the misses.
func ScoreWorld(w *world.World, drafts []model.Draft, res drafter.Result) (Score, []DraftVerdict, []LabelOutcome) {
	sc := newScore()
	sc.Seeds = 1
	sc.Labels = len(w.Labels)
	sc.Drafts = len(drafts)
	labels := w.Labels
	outcomes := make([]LabelOutcome, len(labels))
	correctFor := make([]bool, len(labels))
	for i, l := range labels {
		outcomes[i].Label = l
	}
	verdicts := make([]DraftVerdict, len(drafts))
	for di, d := range drafts {
		v := judge(w, d)
		verdicts[di] = v
		sc.Verdicts[v.Verdict]++
		if v.Label != nil && !world.MetricKind(v.Label.Kind) {
			for _, k := range draftKeys(d) {
				if !slices.Contains(v.Label.Cause, k) {
					sc.NotLikeliest++
					break
				}
			}
		}
		li := -1
		if v.Label != nil {
			li = slices.IndexFunc(labels, func(l world.Label) bool { return sameLabel(l, *v.Label) })
		} else if l := metricLabel(w, d.Metric.ID); l >= 0 {
			li = l
		}
		if li < 0 {
			continue
		}
		outcomes[li].Drafts = append(outcomes[li].Drafts, d)
		if v.Verdict == VerdictCorrect {
			correctFor[li] = true
			if labels[li].Kind == world.KindMineCrowded {
				sc.CrowdedDrafted++
				if len(d.Others) > 0 && d.Confidence != model.ConfidenceHigh {
					sc.CrowdedNamed++
				}
			}
		}
		if v.Verdict == VerdictFalseWin {
			sc.ByKind[labels[li].Kind].FalseWins++
		}
	}
	for i, l := range labels {
		ks := sc.ByKind[l.Kind]
		if ks == nil {
			ks = &KindStats{}
			sc.ByKind[l.Kind] = ks
		}
		ks.Labels++
		o := &outcomes[i]
		switch {
		case l.Draftable() && correctFor[i]:
			o.Outcome = OutcomeDrafted
			ks.Drafted++
		case l.Draftable() && len(o.Drafts) > 0:
			o.Outcome = OutcomeWrong
			ks.Wrong++
		case l.Draftable():
			o.Outcome = OutcomeMissed
			ks.Missed++
		case len(o.Drafts) > 0:
			o.Outcome = OutcomeViolated
			ks.Violated++
		default:
			o.Outcome = OutcomeNotDrafted
		}
		if l.Draftable() {
			sc.Positives++
			if correctFor[i] {
				sc.Matched++
			}
		}
		if o.Outcome == OutcomeMissed || o.Outcome == OutcomeWrong {
			o.Note = explain(l, res)
		}
	}
	return sc, verdicts, outcomes
}

func sameLabel(a, b world.Label) bool {
	return a.Metric == b.Metric && a.At.Equal(b.At) && a.Kind == b.Kind
}

// metricLabel is the index of the metric-wide label (flat, growth, walk)
// of metric, or −1.
func metricLabel(w *world.World, metric string) int {
	return slices.IndexFunc(w.Labels, func(l world.Label) bool { return l.Metric == metric && world.MetricKind(l.Kind) })
}

// judge gives one draft its verdict.
func judge(w *world.World, d model.Draft) DraftVerdict {
	keys := draftKeys(d)
	v := DraftVerdict{Draft: d}
	var foreign []string
	for _, p := range d.PRs {
		if !strings.EqualFold(strings.TrimPrefix(p.Author, "@"), w.Me) {
			foreign = append(foreign, fmt.Sprintf("%s#%d by @%s", p.Repo, p.Number, p.Author))
		}
	}
	l := related(w, d, keys)
	v.Label = l
	var drifting *world.Label
	if i := metricLabel(w, d.Metric.ID); i >= 0 && w.Labels[i].Kind != world.KindFlat {
		drifting = &w.Labels[i]
	}
	switch {
	case len(foreign) > 0:
		v.Verdict, v.Why = VerdictFalseWin, "credits someone else's PR: "+strings.Join(foreign, ", ")
	case drifting != nil:
		v.Label = drifting
		v.Verdict, v.Why = VerdictFalseWin, "drafted drift: "+drifting.String()
	case l == nil:
		v.Verdict, v.Why = VerdictSpurious, "no designed shift within 3 days or inside its windows"
	case l.Draftable() && slices.Equal(keys, l.Cause):
		if within(d.Before, l.From, NumberTolerance) && within(d.After, l.To, NumberTolerance) {
			v.Verdict = VerdictCorrect
		} else {
			v.Verdict = VerdictWrongNumbers
			v.Why = fmt.Sprintf("before %.4g after %.4g, true %.4g → %.4g (off by %+.1f%%, %+.1f%%)",
				d.Before, d.After, l.From, l.To, 100*(d.Before/l.From-1), 100*(d.After/l.To-1))
		}
	case l.Kind == world.KindOther || l.Kind == world.KindRegression || l.Kind == world.KindOtherCloser || l.Kind == world.KindRevert:
		v.Verdict, v.Why = VerdictFalseWin, "drafted a shift labelled "+l.Kind
	case l.Kind == world.KindMineTiny:
		v.Verdict, v.Why = VerdictTiny, fmt.Sprintf("drafted a %+.1f%% shift (below min_change)", 100*(l.To/l.From-1))
	default:
		v.Verdict = VerdictWrongPRs
		v.Why = fmt.Sprintf("credits %s, the shift was caused by %s", strings.Join(keys, ", "), strings.Join(l.Cause, ", "))
	}
	return v
}

// related finds the designed shift a draft is about: one whose causes or
// bystanders it credits, else the nearest one on its metric that lies
// within 3 days of the draft's shift or between the start of its before
// window and the end of its after window (the draft measured it).
func related(w *world.World, d model.Draft, keys []string) *world.Label {
	var best *world.Label
	bestDist := time.Duration(math.MaxInt64)
	for i := range w.Labels {
		l := &w.Labels[i]
		if l.Metric != d.Metric.ID || world.MetricKind(l.Kind) {
			continue
		}
		for _, k := range keys {
			if slices.Contains(l.Cause, k) || slices.Contains(l.Others, k) {
				return l
			}
		}
		dist := d.ShiftAt.Sub(l.At).Abs()
		if d.ShiftAt.IsZero() {
			dist = d.AfterWindow.Start.Sub(l.At).Abs()
		}
		// A draft whose before and after windows straddle the shift
		// measures it, wherever the detector placed its own shift.
		spans := !d.BeforeWindow.Start.IsZero() && l.At.After(d.BeforeWindow.Start) && l.At.Before(d.AfterWindow.End)
		if (dist <= nearShift || spans) && dist < bestDist {
			best, bestDist = l, dist
		}
	}
	return best
}

// explain says what the drafter reported near a label's shift.
func explain(l world.Label, res drafter.Result) string {
	var notes []string
	describe := func(what string, s drafter.Shift) {
		cause := "no PR went live near it"
		if s.Cause != nil {
			cause = fmt.Sprintf("likeliest cause %s#%d by @%s", s.Cause.Repo, s.Cause.Number, s.Cause.Author)
		}
		notes = append(notes, fmt.Sprintf("drafter listed %s at %s: %.4g → %.4g (%+.1f%%), p=%.3g, %s",
			what, s.At.Format("01-02 15:04"), s.Before, s.After, 100*s.Change, s.PValue, cause))
	}
	for _, s := range res.Regressions {
		if s.Metric.ID == l.Metric && s.At.Sub(l.At).Abs() <= nearShift {
			describe("a regression", s)
		}
	}
	for _, s := range res.Unattributed {
		if s.Metric.ID == l.Metric && s.At.Sub(l.At).Abs() <= nearShift {
			describe("an unattributed improvement", s)
		}
	}
	if len(notes) == 0 {
		return "drafter reported nothing within 3 days of the shift (not detected, or not significant/sustained/large enough on its windows)"
	}
	return strings.Join(notes, "; ")
}

func draftKeys(d model.Draft) []string {
	ks := make([]string, 0, len(d.PRs))
	for _, p := range d.PRs {
		ks = append(ks, model.PR{Repo: p.Repo, Number: p.Number}.Key())
	}
	slices.Sort(ks)
	return ks
}

func within(got, want, tol float64) bool {
	if want == 0 {
		return math.Abs(got) < 1e-9
	}
	return math.Abs(got-want)/math.Abs(want) <= tol
}

// sortedKinds lists the kinds in report order, then any others.
func sortedKinds(s Score) []string {
	out := slices.Clone(world.LabelKinds)
	var extra []string
	for k := range s.ByKind {
		if !slices.Contains(out, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}
