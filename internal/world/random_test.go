package world

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

func TestRandomDeterministic(t *testing.T) {
	a, b := Random(7, RandomOptions{}), Random(7, RandomOptions{})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Random is not deterministic")
	}
	if c := Random(8, RandomOptions{}); reflect.DeepEqual(a.Labels, c.Labels) {
		t.Fatal("seeds 7 and 8 give the same labels")
	}
	if !a.End.Equal(DefaultRandomEnd) {
		t.Errorf("End = %v", a.End)
	}
}

func TestRandomOptions(t *testing.T) {
	end := time.Date(2026, 5, 6, 13, 37, 0, 0, time.FixedZone("x", 7200))
	w := Random(3, RandomOptions{End: end, Days: 90, Repos: 3, Authors: 4, Metrics: 9, PRs: 100})
	if !w.End.Equal(end.Truncate(time.Hour)) || w.End.Location() != time.UTC || w.End.Sub(w.Start) != 90*day {
		t.Errorf("span %v – %v", w.Start, w.End)
	}
	if len(w.Repos) != 3 || len(w.Metrics) != 9 {
		t.Errorf("%d repos, %d metrics", len(w.Repos), len(w.Metrics))
	}
	humans := map[string]bool{}
	for _, p := range w.PRs {
		if p.Author != bot {
			humans[p.Author] = true
		}
	}
	if len(humans) != 4 {
		t.Errorf("%d human authors, want 4", len(humans))
	}
	checkRandom(t, w, true)
}

func TestRandomSane(t *testing.T) {
	kinds := map[string]int{}
	for seed := int64(1); seed <= 30; seed++ {
		w := Random(seed, RandomOptions{})
		for _, l := range w.Labels {
			kinds[l.Kind]++
		}
		t.Run("seed"+itoa(seed), func(t *testing.T) { checkRandom(t, w, seed%5 == 0) })
	}
	for _, k := range LabelKinds {
		if kinds[k] < 10 {
			t.Errorf("only %d labels of kind %s over 30 seeds", kinds[k], k)
		}
	}
	t.Logf("labels over 30 seeds: %v", kinds)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// checkRandom checks the invariants Random documents; weeks also scans
// every whole-week median (slow under -race).
func checkRandom(t *testing.T, w *World, weeks bool) {
	t.Helper()
	if n := len(w.Repos); n < 2 || n > 4 {
		t.Errorf("%d repos", n)
	}
	if n := len(w.Metrics); n < 6 || n > 12 {
		t.Errorf("%d metrics", n)
	}
	authors := map[string]bool{}
	inRange := 0
	for _, p := range w.PRs {
		authors[p.Author] = true
		if !p.MergedAt.Before(w.Start) {
			inRange++
		}
	}
	delete(authors, bot)
	if n := len(authors); n < 3 || n > 6 || !authors[w.Me] {
		t.Errorf("authors %v, me %s", authors, w.Me)
	}
	if inRange < 55 || inRange > 215 {
		t.Errorf("%d PRs merged in range, want about 60–200", inRange)
	}
	checkPRBasics(t, w)

	prs := map[string]model.PR{}
	for _, p := range w.PRs {
		prs[p.Key()] = p
	}
	ids := map[string]bool{}
	queries := map[string]bool{}
	for _, m := range w.Metrics {
		if ids[m.ID] || queries[m.Query] {
			t.Errorf("duplicate metric %s", m.ID)
		}
		ids[m.ID], queries[m.Query] = true, true
		if len(m.Repos) != 1 || !slices.Contains(w.Repos, m.Repos[0]) || m.Source != "datadog" {
			t.Errorf("metric %+v", m)
		}
		if m.Better != "lower" && m.Better != "higher" {
			t.Errorf("%s: better %q", m.ID, m.Better)
		}
	}

	// Series: hourly on [Start, End) except inside the gaps.
	for _, m := range w.Metrics {
		ss := w.Series[m.ID]
		gaps := w.Gaps[m.ID]
		missing := 0
		for _, g := range gaps {
			if d := g.End.Sub(g.Start); d < 6*time.Hour || d > 36*time.Hour {
				t.Errorf("%s: gap of %v", m.ID, d)
			}
			missing += int(g.End.Sub(g.Start) / time.Hour)
		}
		if want := int(w.End.Sub(w.Start)/time.Hour) - missing; len(ss) != want {
			t.Errorf("%s: %d samples, want %d", m.ID, len(ss), want)
		}
		for i, s := range ss {
			if i > 0 && !s.Time.After(ss[i-1].Time) {
				t.Fatalf("%s: samples out of order at %v", m.ID, s.Time)
			}
			if !(s.Value > 0) || math.IsInf(s.Value, 0) || (m.Unit == "percent" && s.Value > 100) {
				t.Fatalf("%s: bad value %v at %v", m.ID, s.Value, s.Time)
			}
			for _, g := range gaps {
				if !s.Time.Before(g.Start) && s.Time.Before(g.End) {
					t.Fatalf("%s: sample at %v inside a gap", m.ID, s.Time)
				}
			}
		}
	}

	// Labels.
	byMetric := map[string][]Label{}
	mine := 0
	for _, l := range w.Labels {
		byMetric[l.Metric] = append(byMetric[l.Metric], l)
		if l.Kind == KindMine {
			mine++
		}
		if !slices.Contains(LabelKinds, l.Kind) {
			t.Errorf("unknown kind %q", l.Kind)
		}
	}
	if mine == 0 {
		t.Errorf("no %s label", KindMine)
	}
	for _, m := range w.Metrics {
		ls := byMetric[m.ID]
		if len(ls) == 0 {
			t.Errorf("%s: no label", m.ID)
			continue
		}
		flat := slices.ContainsFunc(ls, func(l Label) bool { return MetricKind(l.Kind) })
		if flat && len(ls) != 1 {
			t.Errorf("%s: flat and shifted", m.ID)
		}
		if flat && ls[0].Kind != KindFlat {
			if !slices.Contains(w.MustNotMetrics, m.ID) {
				t.Errorf("%s: %s but not must-not", m.ID, ls[0].Kind)
			}
			continue
		}
		if flat {
			if med := Median(values(w.Series[m.ID])); rel(med, ls[0].From) > 0.001 {
				t.Errorf("%s: flat level %.4g, median %.4g", m.ID, ls[0].From, med)
			}
			if !slices.Contains(w.MustNotMetrics, m.ID) {
				t.Errorf("%s: flat but not must-not", m.ID)
			}
			continue
		}
		for i, l := range ls {
			checkLabel(t, w, prs, m.Better, l)
			if i > 0 {
				if d := l.At.Sub(ls[i-1].At); d < 10*day {
					t.Errorf("%s: shifts %v apart", m.ID, d)
				}
				if prev := ls[i-1]; l.From != prev.To && !(prev.Kind == KindRevert && l.From == prev.From) {
					t.Errorf("%s: level chain broken at %v", m.ID, l.At)
				}
			}
		}
		if weeks {
			checkWeeks(t, w, m.ID, ls)
		}
	}

	// Designed shifts on one repo are ≥ 4 days apart.
	for i, a := range w.Labels {
		for _, b := range w.Labels[i+1:] {
			if MetricKind(a.Kind) || MetricKind(b.Kind) || a.Metric == b.Metric {
				continue
			}
			ma, _ := w.Metric(a.Metric)
			mb, _ := w.Metric(b.Metric)
			if ma.Repos[0] == mb.Repos[0] && a.At.Sub(b.At).Abs() < 4*day {
				t.Errorf("%s and %s shift %v apart on %s", a.Metric, b.Metric, a.At.Sub(b.At).Abs(), ma.Repos[0])
			}
		}
	}

	// Expect and MustNotMetrics follow the labels.
	var want []Expect
	for _, l := range w.Labels {
		if l.Draftable() {
			want = append(want, Expect{Metric: l.Metric, PRs: l.Cause, Before: l.From, After: l.To})
		}
	}
	if !reflect.DeepEqual(want, w.Expect) {
		t.Errorf("Expect does not follow the labels")
	}
	for _, id := range w.MustNotMetrics {
		if slices.ContainsFunc(w.Expect, func(e Expect) bool { return e.Metric == id }) {
			t.Errorf("%s both expected and must-not", id)
		}
	}
	if len(w.Shifts) != len(w.Labels)-countKind(w, KindFlat)-countKind(w, KindGrowth)-countKind(w, KindWalk) {
		t.Errorf("%d shifts for %d labels", len(w.Shifts), len(w.Labels))
	}
}

func countKind(w *World, kind string) int {
	n := 0
	for _, l := range w.Labels {
		if l.Kind == kind {
			n++
		}
	}
	return n
}

func checkLabel(t *testing.T, w *World, prs map[string]model.PR, better string, l Label) {
	t.Helper()
	m, _ := w.Metric(l.Metric)
	repo := m.Repos[0]
	if len(l.Cause) == 0 || !slices.IsSorted(l.Cause) || !slices.IsSorted(l.Others) {
		t.Fatalf("%s: causes %v others %v", l, l.Cause, l.Others)
	}
	var first, last time.Time
	for _, k := range l.Cause {
		p, ok := prs[k]
		if !ok {
			t.Fatalf("%s: cause %s not merged", l, k)
		}
		if lead := l.At.Sub(p.MergedAt); lead < time.Hour || lead > 6*time.Hour {
			t.Errorf("%s: cause %s merged %v before", l, k, lead)
		}
		if p.Repo != repo {
			t.Errorf("%s: cause %s on another repo", l, k)
		}
		if (p.Author == w.Me) == (l.Kind == KindOther || l.Kind == KindOtherCloser) {
			t.Errorf("%s: cause %s by %s", l, k, p.Author)
		}
		if len(m.Paths) > 0 && !slices.ContainsFunc(p.Files, func(f string) bool { return strings.HasPrefix(f, strings.TrimSuffix(m.Paths[0], "**")) }) {
			t.Errorf("%s: cause %s does not touch %v", l, k, m.Paths)
		}
		if first.IsZero() || p.MergedAt.Before(first) {
			first = p.MergedAt
		}
		last = later(last, p.MergedAt)
	}
	if first.Add(-8*day).Before(w.Start) || last.Add(10*day).After(w.End) {
		t.Errorf("%s: windows not complete", l)
	}

	// Sizes and directions.
	change := l.To/l.From - 1
	improve := (change < 0) == (better == "lower")
	switch l.Kind {
	case KindMineTiny:
		if !improve || math.Abs(change) < 0.03 || math.Abs(change) > 0.06 {
			t.Errorf("%s: tiny change %+.3f", l, change)
		}
	case KindRegression:
		if improve || math.Abs(change) < 0.15 {
			t.Errorf("%s: regression change %+.3f", l, change)
		}
	default:
		if !improve || math.Abs(change) < 0.25 {
			t.Errorf("%s: improvement %+.3f", l, change)
		}
	}

	// Nobody's merged PR to the repo within [At − 3d, At + 2d) but the
	// label's own.
	for _, p := range w.PRs {
		if p.Repo != repo || p.MergedAt.Before(l.At.Add(-3*day)) || !p.MergedAt.Before(l.At.Add(2*day)) {
			continue
		}
		if !slices.Contains(l.Cause, p.Key()) && !slices.Contains(l.Others, p.Key()) {
			t.Errorf("%s: %s by %s merged %v, inside the shift's band", l, p.Key(), p.Author, p.MergedAt)
		}
	}
	for _, k := range l.Others {
		p := prs[k]
		switch l.Kind {
		case KindMineCrowded:
			d := l.At.Sub(p.MergedAt)
			if p.Author == w.Me || d < 30*time.Minute || d > 23*time.Hour || d < l.At.Sub(last)-time.Hour {
				t.Errorf("%s: crowding PR %s by %s %v before", l, k, p.Author, d)
			}
		case KindOther:
			d := l.At.Sub(p.MergedAt)
			if p.Author != w.Me || d < 3*day || d > 5*day+12*time.Hour {
				t.Errorf("%s: earlier PR %s by %s %v before", l, k, p.Author, d)
			}
		case KindOtherCloser:
			// Mine, farther from the shift than theirs, within settle.
			if d := first.Sub(p.MergedAt); p.Author != w.Me || d < 2*time.Hour || d > 5*time.Hour {
				t.Errorf("%s: my PR %s by %s %v before theirs", l, k, p.Author, d)
			}
		case KindMineUnrelated:
			if d := l.At.Sub(p.MergedAt); p.Author != w.Me || d < 14*time.Hour || d > 22*time.Hour {
				t.Errorf("%s: unrelated PR %s by %s %v before the shift", l, k, p.Author, d)
			}
		default:
			t.Errorf("%s: others %v", l, l.Others)
		}
	}
	if l.Kind == KindMineCrowded && len(l.Others) == 0 {
		t.Errorf("%s: crowded without others", l)
	}
	if (l.Kind == KindMineGap) != !l.Gap.Start.IsZero() {
		t.Errorf("%s: gap %v", l, l.Gap)
	}
	if l.Kind == KindMineGap {
		if d := l.Gap.Start.Sub(l.At); d < -6*time.Hour || d > 24*time.Hour {
			t.Errorf("%s: gap starts %v after the shift", l, d)
		}
		if !slices.Contains(w.Gaps[l.Metric], l.Gap) {
			t.Errorf("%s: gap not in World.Gaps", l)
		}
	}

	// The drafter's windows recover the true levels.
	ss := w.Series[l.Metric]
	before, _ := WindowMedian(ss, first.Add(-7*day), first)
	after, _ := WindowMedian(ss, last.Add(day), last.Add(8*day))
	tol := 0.03
	if l.Kind == KindMineGap {
		tol = 0.04
	}
	wantAfter := l.To
	if l.Kind == KindRevert {
		wantAfter = l.From // back within the after window's first 12 hours
		tol = 0.06
		if l.Until.Sub(l.At) != 30*time.Hour {
			t.Errorf("%s: reverted %v after", l, l.Until.Sub(l.At))
		}
	}
	if rel(before, l.From) > tol || rel(after, wantAfter) > tol {
		t.Errorf("%s: window medians %.4g → %.4g", l, before, after)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// checkWeeks: any whole week inside a regime has its median within 3% of
// the level (gaps excluded: their weeks are short).
func checkWeeks(t *testing.T, w *World, id string, ls []Label) {
	t.Helper()
	ss := w.Series[id]
	if len(w.Gaps[id]) > 0 {
		return
	}
	worst := 0.0
	for i := 0; i+168 <= len(ss); i += 5 {
		from, to := ss[i].Time, ss[i].Time.Add(168*time.Hour)
		level := ls[0].From
		ok := true
		for _, l := range ls {
			if !to.After(l.At) {
				break
			}
			if from.Before(l.At) || !l.Until.IsZero() && from.Before(l.Until) {
				ok = false
				break
			}
			level = l.To
			if !l.Until.IsZero() {
				level = l.From
			}
		}
		if !ok {
			continue
		}
		med, _ := WindowMedian(ss[i:i+168], from, to)
		worst = max(worst, rel(med, level))
	}
	if worst > 0.03 {
		t.Errorf("%s: a whole-week median is %.1f%% off its level", id, 100*worst)
	}
}

// checkPRBasics: working hours, urls, numbering, info.
func checkPRBasics(t *testing.T, w *World) {
	t.Helper()
	keys := map[string]bool{}
	for _, p := range w.PRs {
		if !p.MergedAt.Before(w.End) {
			t.Errorf("%s merged after End", p.Key())
		}
		if !isWorkTime(p.MergedAt) {
			t.Errorf("%s merged outside working hours: %v", p.Key(), p.MergedAt)
		}
		if p.MergeSHA == "" || len(p.Files) == 0 || p.Title == "" || p.Base != "main" || !strings.HasSuffix(p.URL, "/pull/"+itoa(int64(p.Number))) {
			t.Errorf("%s: incomplete %+v", p.Key(), p)
		}
		if !slices.Contains(w.Repos, p.Repo) {
			t.Errorf("%s: unknown repo", p.Key())
		}
	}
	for _, p := range append(slices.Clone(w.PRs), w.ClosedUnmerged...) {
		if keys[p.Key()] {
			t.Errorf("duplicate %s", p.Key())
		}
		keys[p.Key()] = true
		in, ok := w.Info[p.Key()]
		if !ok {
			t.Fatalf("%s: no info", p.Key())
		}
		closeAt := p.MergedAt
		if closeAt.IsZero() {
			closeAt = in.ClosedAt
		}
		if !in.CreatedAt.Before(closeAt) || !in.UpdatedAt.After(closeAt) {
			t.Errorf("%s: created %v closed %v updated %v", p.Key(), in.CreatedAt, closeAt, in.UpdatedAt)
		}
	}
	if len(w.Info) != len(keys) {
		t.Errorf("info has %d entries for %d PRs", len(w.Info), len(keys))
	}
}

// TestRandomTable logs one world (go test -v -run TestRandomTable).
func TestRandomTable(t *testing.T) {
	w := Random(1, RandomOptions{})
	t.Logf("me %s, repos %v, %d PRs, %d closed-unmerged", w.Me, w.Repos, len(w.PRs), len(w.ClosedUnmerged))
	for _, m := range w.Metrics {
		t.Logf("metric %-22s %-8s %-6s %s %v", m.ID, m.Unit, m.Better, m.Repos[0], m.Paths)
	}
	for _, l := range w.Labels {
		t.Logf("  %s", l)
		for _, k := range append(slices.Clone(l.Cause), l.Others...) {
			p, _ := w.PR(k)
			t.Logf("      %s @%s %s %q", k, p.Author, p.MergedAt.Format("Mon 01-02 15:04"), p.Title)
		}
	}
}
