package attrbench

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// TestAttribution runs three seeded worlds through the real collectors and
// drafter and guards the benchmark's hard lines: no false wins and a
// precision of at least 0.9. The full run is `go run ./bench/attribution`.
func TestAttribution(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Seeds: Seeds(1, 3)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep.WriteMarkdown(&buf)
	buf.WriteString("\n")
	rep.WriteSeeds(&buf)
	t.Logf("\n%s", buf.String())
	for _, s := range rep.Seeds {
		want := 0
		for _, ss := range s.World.Series {
			want += len(ss)
		}
		// The fake serves about one point in sixty as null; the rest
		// must all arrive.
		if s.Samples < want*55/60 || s.Samples > want {
			t.Errorf("seed %d: collected %d samples of %d", s.Seed, s.Samples, want)
		}
		if s.Events < len(s.World.PRs)*9/10 {
			t.Errorf("seed %d: collected %d events for %d PRs", s.Seed, s.Events, len(s.World.PRs))
		}
	}
	tot := rep.Total
	if tot.FalseWins() != 0 || tot.Precision() < 0.9 {
		var f bytes.Buffer
		rep.WriteFailures(&f, 5)
		t.Errorf("false wins %d (want 0), precision %.3f (want ≥ 0.9)\n%s", tot.FalseWins(), tot.Precision(), f.String())
	}
	if tot.Positives == 0 || tot.Drafts == 0 {
		t.Errorf("nothing to score: %+v", tot)
	}
	if tot.NotLikeliest != 0 {
		t.Errorf("%d drafts credit a PR that is not the likeliest cause", tot.NotLikeliest)
	}
	// The traps get the verdict they call for, when the detector found
	// the shift at all.
	want := map[string][]string{
		world.KindOtherCloser: {drafter.VerdictCredited},
		world.KindRevert:      {drafter.VerdictNotSustained, drafter.VerdictTooSmall, drafter.VerdictNotSignificant},
		world.KindRegression:  {drafter.VerdictRegression},
	}
	checked := 0
	for _, s := range rep.Seeds {
		for _, l := range s.World.Labels {
			ok, trap := want[l.Kind]
			if !trap {
				continue
			}
			for _, f := range s.Result.Findings {
				if f.Metric.ID == l.Metric && f.At.Sub(l.At).Abs() <= f.Tolerance() {
					checked++
					if !slices.Contains(ok, f.Verdict) {
						t.Errorf("seed %d: %s: verdict %s (%s), want one of %v", s.Seed, l, f.Verdict, f.Reason, ok)
					}
				}
			}
		}
	}
	t.Logf("%d trap findings checked", checked)
}

// TestScoreTraps: the new traps score as they must — drift drafted is a
// false win, another author's closer PR or my unrelated PR credited is
// "not the likeliest cause".
func TestScoreTraps(t *testing.T) {
	var w *world.World
	need := []string{world.KindOtherCloser, world.KindMineUnrelated, world.KindGrowth}
	for seed := int64(1); seed < 60 && w == nil; seed++ {
		c := world.Random(seed, world.RandomOptions{})
		if !slices.ContainsFunc(need, func(k string) bool {
			return !slices.ContainsFunc(c.Labels, func(l world.Label) bool { return l.Kind == k })
		}) {
			w = c
		}
	}
	if w == nil {
		t.Fatal("no seed with every trap")
	}
	label := func(kind string) world.Label {
		i := slices.IndexFunc(w.Labels, func(l world.Label) bool { return l.Kind == kind })
		return w.Labels[i]
	}
	ref := func(k string) model.PRRef {
		for _, p := range w.PRs {
			if p.Key() == k {
				return model.PRRef{Repo: p.Repo, Number: p.Number, Author: p.Author, MergedAt: p.MergedAt, LiveAt: p.MergedAt}
			}
		}
		t.Fatalf("no PR %s", k)
		return model.PRRef{}
	}
	mk := func(metric string, at time.Time, keys ...string) model.Draft {
		d := model.Draft{ID: metric + strconv.Itoa(len(keys)), Metric: model.MetricRef{ID: metric}, ShiftAt: at, Before: 1, After: 2, Change: 1,
			BeforeWindow: model.Window{Start: at.Add(-7 * 24 * time.Hour), End: at}, AfterWindow: model.Window{Start: at.Add(24 * time.Hour), End: at.Add(8 * 24 * time.Hour)}}
		for _, k := range keys {
			d.PRs = append(d.PRs, ref(k))
		}
		return d
	}
	oc, un, gr := label(world.KindOtherCloser), label(world.KindMineUnrelated), label(world.KindGrowth)
	drafts := []model.Draft{
		mk(oc.Metric, oc.At, oc.Others...),                                    // my farther PR credited: false win, not likeliest
		mk(un.Metric, un.At, append(slices.Clone(un.Cause), un.Others...)...), // unrelated folded in: wrong PRs, not likeliest
		mk(gr.Metric, w.End.Add(-20*24*time.Hour), un.Cause...),               // drift drafted: false win
	}
	sc, verdicts, _ := ScoreWorld(w, drafts, drafter.Result{})
	for _, v := range verdicts {
		t.Logf("%-13s %s %s", v.Verdict, v.Draft.Metric.ID, v.Why)
	}
	if got := []string{verdicts[0].Verdict, verdicts[1].Verdict, verdicts[2].Verdict}; !slices.Equal(got, []string{VerdictFalseWin, VerdictWrongPRs, VerdictFalseWin}) {
		t.Errorf("verdicts %v", got)
	}
	if sc.NotLikeliest != 2 {
		t.Errorf("not likeliest %d, want 2", sc.NotLikeliest)
	}
	if ok, why := sc.Met(); ok || !slices.ContainsFunc(why, func(s string) bool { return strings.Contains(s, "likeliest") }) {
		t.Errorf("Met = %v %v", ok, why)
	}
}

// TestAttributionBench runs the whole benchmark when IMPACT_ATTRBENCH_SEEDS
// is set (e.g. 20) and fails when a goal is not met:
//
//	IMPACT_ATTRBENCH_SEEDS=20 go test -run TestAttributionBench -v ./bench/attribution/attrbench
func TestAttributionBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("IMPACT_ATTRBENCH_SEEDS"))
	if n <= 0 {
		t.Skip("set IMPACT_ATTRBENCH_SEEDS=20 to run the attribution benchmark")
	}
	rep, err := Run(context.Background(), Options{Seeds: Seeds(1, n)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep.WriteMarkdown(&buf)
	buf.WriteString("\n")
	rep.WriteFailures(&buf, 3)
	t.Logf("\n%s", buf.String())
	if ok, why := rep.Total.Met(); !ok {
		t.Errorf("goals not met: %s", strings.Join(why, "; "))
	}
}

// TestScoreWorld checks the verdicts on hand-made drafts.
func TestScoreWorld(t *testing.T) {
	w := world.Random(5, world.RandomOptions{})
	prs := map[string]model.PR{}
	for _, p := range w.PRs {
		prs[p.Key()] = p
	}
	ref := func(k string) model.PRRef {
		p := prs[k]
		return model.PRRef{Repo: p.Repo, Number: p.Number, Title: p.Title, Author: p.Author, MergedAt: p.MergedAt, LiveAt: p.MergedAt}
	}
	mk := func(l world.Label, keys []string, before, after float64) model.Draft {
		d := model.Draft{ID: l.Metric + l.At.Format("0102") + strconv.Itoa(len(keys)), Metric: model.MetricRef{ID: l.Metric},
			Before: before, After: after, Change: after/before - 1, ShiftAt: l.At, Confidence: model.ConfidenceHigh,
			BeforeWindow: model.Window{Start: l.At.Add(-7 * 24 * time.Hour), End: l.At},
			AfterWindow:  model.Window{Start: l.At.Add(24 * time.Hour), End: l.At.Add(8 * 24 * time.Hour)}}
		for _, k := range keys {
			d.PRs = append(d.PRs, ref(k))
		}
		return d
	}
	byKind := map[string][]world.Label{}
	for _, l := range w.Labels {
		byKind[l.Kind] = append(byKind[l.Kind], l)
	}
	for _, k := range []string{world.KindMine, world.KindMineCrowded, world.KindOther, world.KindRegression, world.KindMineTiny, world.KindFlat} {
		if len(byKind[k]) == 0 {
			t.Fatalf("seed 5 has no %s label", k)
		}
	}
	var drafts []model.Draft
	want := map[string]int{}
	// Every draftable label drafted right, except the first mine label,
	// drafted with wrong numbers.
	for _, l := range w.Labels {
		if !l.Draftable() {
			continue
		}
		if sameLabel(l, byKind[world.KindMine][0]) {
			drafts = append(drafts, mk(l, l.Cause, l.From*1.08, l.To))
			want[VerdictWrongNumbers]++
			continue
		}
		d := mk(l, l.Cause, l.From*1.02, l.To*0.97)
		if l.Kind == world.KindMineCrowded {
			d.Confidence = model.ConfidenceMedium
			d.Others = []model.PRRef{ref(l.Others[0])}
		}
		drafts = append(drafts, d)
		want[VerdictCorrect]++
	}
	// A regression drafted as a win, and an other's improvement credited
	// to me by time alone (no shared PR).
	reg := byKind[world.KindRegression][0]
	drafts = append(drafts, mk(reg, reg.Cause, reg.From, reg.To))
	oth := byKind[world.KindOther][0]
	var mine string
	for _, p := range w.PRs {
		if p.Author == w.Me && p.Repo == prs[oth.Cause[0]].Repo {
			mine = p.Key()
		}
	}
	od := mk(oth, []string{mine}, oth.From, oth.To)
	od.ShiftAt = oth.At.Add(-4 * 24 * time.Hour) // detector far off; the windows straddle the shift
	od.BeforeWindow = model.Window{Start: oth.At.Add(-11 * 24 * time.Hour), End: oth.At.Add(-4 * 24 * time.Hour)}
	od.AfterWindow = model.Window{Start: oth.At.Add(-3 * 24 * time.Hour), End: oth.At.Add(4 * 24 * time.Hour)}
	drafts = append(drafts, od)
	// The other's own PR credited.
	drafts = append(drafts, mk(oth, oth.Cause, oth.From, oth.To))
	want[VerdictFalseWin] += 3
	// A tiny shift and a flat metric drafted.
	tiny := byKind[world.KindMineTiny][0]
	drafts = append(drafts, mk(tiny, tiny.Cause, tiny.From, tiny.To))
	want[VerdictTiny]++
	flat := byKind[world.KindFlat][0]
	flat.At = w.End.Add(-20 * 24 * time.Hour)
	drafts = append(drafts, mk(flat, []string{mine}, flat.From, flat.From/2))
	want[VerdictSpurious]++

	sc, verdicts, outcomes := ScoreWorld(w, drafts, drafter.Result{})
	for _, v := range verdicts {
		t.Logf("%-13s %s %v %s", v.Verdict, v.Draft.Metric.ID, draftKeys(v.Draft), v.Why)
	}
	for k, n := range want {
		if sc.Verdicts[k] != n {
			t.Errorf("%s: %d drafts, want %d", k, sc.Verdicts[k], n)
		}
	}
	pos := len(w.Expect)
	if sc.Positives != pos || sc.Matched != pos-1 || sc.Drafts != len(drafts) {
		t.Errorf("positives %d matched %d drafts %d; want %d, %d, %d", sc.Positives, sc.Matched, sc.Drafts, pos, pos-1, len(drafts))
	}
	if got := sc.ByKind[world.KindMine]; got.Wrong != 1 || got.Missed != 0 {
		t.Errorf("mine: %+v", got)
	}
	if got := sc.ByKind[world.KindOther]; got.Violated != 1 || got.FalseWins != 2 {
		t.Errorf("other: %+v", got)
	}
	if got := sc.ByKind[world.KindRegression]; got.Violated != 1 || got.FalseWins != 1 {
		t.Errorf("regression: %+v", got)
	}
	if got := sc.ByKind[world.KindFlat]; got.Violated != 1 {
		t.Errorf("flat: %+v", got)
	}
	if sc.CrowdedDrafted != len(byKind[world.KindMineCrowded]) || sc.CrowdedNamed != sc.CrowdedDrafted {
		t.Errorf("crowded %d named %d", sc.CrowdedDrafted, sc.CrowdedNamed)
	}
	if ok, why := sc.Met(); ok || !slices.ContainsFunc(why, func(s string) bool { return strings.Contains(s, "false win") }) {
		t.Errorf("Met = %v %v", ok, why)
	}
	missed := 0
	for _, o := range outcomes {
		if o.Outcome == OutcomeMissed {
			missed++
		}
	}
	if missed != 0 {
		t.Errorf("%d missed", missed)
	}

	// No drafts at all: recall 0, precision 1, misses explained.
	sc, _, outcomes = ScoreWorld(w, nil, drafter.Result{})
	if sc.Recall() != 0 || sc.Precision() != 1 || sc.ByKind[world.KindMine].Missed != len(byKind[world.KindMine]) {
		t.Errorf("empty: %+v", sc)
	}
	for _, o := range outcomes {
		if o.Outcome == OutcomeMissed && o.Note == "" {
			t.Errorf("miss of %s not explained", o.Label)
		}
	}
}
