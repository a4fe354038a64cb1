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

// ends covers every weekday and a few hours of the day, so that the weekend
// adjustments of the designed dates are all exercised.
func ends() []time.Time {
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
	var out []time.Time
	for d := range 7 {
		for _, h := range []int{0, 9, 17, 23} {
			out = append(out, base.AddDate(0, 0, d).Add(time.Duration(h-9)*time.Hour))
		}
	}
	return append(out, time.Date(2025, 12, 31, 12, 34, 56, 0, time.FixedZone("x", 3600)))
}

func TestDemoDeterministic(t *testing.T) {
	end := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	a, b := Demo(end), Demo(end)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Demo is not deterministic")
	}
	if !a.End.Equal(end) || a.End.Location() != time.UTC {
		t.Fatalf("End = %v", a.End)
	}
	if c := Demo(end.Add(17 * time.Minute)); !c.End.Equal(end) {
		t.Fatalf("End not truncated to the hour: %v", c.End)
	}
}

func TestDemoSane(t *testing.T) {
	for i, end := range ends() {
		w := Demo(end)
		// The whole-week scan is slow under -race; every weekday of end
		// is still scanned once.
		t.Run(w.End.Format("Mon-15h"), func(t *testing.T) { checkWorld(t, w, i%4 == 1) })
	}
}

func checkWorld(t *testing.T, w *World, weeks bool) {
	t.Helper()
	const day = 24 * time.Hour
	if w.End.Sub(w.Start) < 60*day {
		t.Errorf("span %v < 60 days", w.End.Sub(w.Start))
	}
	if w.End != w.End.Truncate(time.Hour) {
		t.Errorf("End not hour-aligned")
	}

	// Series: complete, hourly, positive, percent within [0,100].
	for _, m := range w.Metrics {
		ss := w.Series[m.ID]
		if want := int(w.End.Sub(w.Start) / time.Hour); len(ss) != want {
			t.Errorf("%s: %d samples, want %d", m.ID, len(ss), want)
			continue
		}
		for i, s := range ss {
			if !s.Time.Equal(w.Start.Add(time.Duration(i) * time.Hour)) {
				t.Fatalf("%s: sample %d at %v", m.ID, i, s.Time)
			}
			if !(s.Value > 0) || math.IsInf(s.Value, 0) || (m.Unit == "percent" && s.Value > 100) {
				t.Fatalf("%s: bad value %v at %v", m.ID, s.Value, s.Time)
			}
		}
	}

	prs := map[string]model.PR{}
	for _, p := range w.PRs {
		prs[p.Key()] = p
	}

	// Every shift: causes merged 1–6 h before At; windows complete; medians
	// of the truth over the drafter's windows within 3% of the levels.
	// (Built-in series are computed from events: checkOps.)
	shiftOf := map[string]Shift{}
	for _, s := range w.Shifts {
		shiftOf[s.Metric] = s
		if len(s.Cause) == 0 {
			continue
		}
		if _, ok := w.Metric(s.Metric); !ok {
			checkOps(t, w, s, prs)
			continue
		}
		var first, last time.Time
		for _, k := range s.Cause {
			p, ok := prs[k]
			if !ok {
				t.Fatalf("%s: cause %s is not a merged PR", s.Metric, k)
			}
			if lead := s.At.Sub(p.MergedAt); lead < time.Hour || lead > 6*time.Hour {
				t.Errorf("%s: cause %s merged %v before At", s.Metric, k, lead)
			}
			if first.IsZero() || p.MergedAt.Before(first) {
				first = p.MergedAt
			}
			if p.MergedAt.After(last) {
				last = p.MergedAt
			}
		}
		if first.Add(-7 * day).Before(w.Start) {
			t.Errorf("%s: before window starts before Start", s.Metric)
		}
		if last.Add(8 * day).After(w.End) {
			t.Errorf("%s: after window ends after End", s.Metric)
		}
		before, nb := WindowMedian(w.Series[s.Metric], first.Add(-7*day), first)
		after, na := WindowMedian(w.Series[s.Metric], last.Add(day), last.Add(8*day))
		if nb != 168 || na != 168 {
			t.Errorf("%s: windows hold %d and %d samples", s.Metric, nb, na)
		}
		if rel(before, s.From) > 0.03 || rel(after, s.To) > 0.03 {
			t.Errorf("%s: window medians %.4g → %.4g, true %.4g → %.4g", s.Metric, before, after, s.From, s.To)
		}
	}

	// Every whole week inside a regime has its median within 3% of the
	// level (the generator aims at ~2%).
	for _, m := range w.Metrics {
		if !weeks {
			break
		}
		if _, trap := w.Traps[m.ID]; trap {
			continue // no one level to be near: checkTraps
		}
		ss := w.Series[m.ID]
		s, hasShift := shiftOf[m.ID]
		worst := 0.0
		flat := Median(values(ss))
		for i := 0; i+168 <= len(ss); i += 3 {
			from, to := ss[i].Time, ss[i].Time.Add(168*time.Hour)
			var level float64
			switch {
			case !hasShift:
				level = flat
			case !to.After(s.At):
				level = s.From
			case !from.Before(s.At):
				level = s.To
			default:
				continue
			}
			med, _ := WindowMedian(ss[i:i+168], from, to)
			worst = max(worst, rel(med, level))
		}
		if worst > 0.03 {
			t.Errorf("%s: a whole-week median is %.1f%% off its level", m.ID, 100*worst)
		}
	}

	// Expectations: my PRs, sorted, matching a shift in the better direction.
	for _, e := range w.Expect {
		s, ok := shiftOf[e.Metric]
		if !ok {
			t.Fatalf("expect %s: no shift", e.Metric)
		}
		m, _ := w.SeriesMetric(e.Metric)
		if !slices.IsSorted(e.PRs) || !slices.Equal(e.PRs, s.Cause) {
			t.Errorf("expect %s: PRs %v, causes %v", e.Metric, e.PRs, s.Cause)
		}
		for _, k := range e.PRs {
			if prs[k].Author != w.Me || !slices.Contains(m.Repos, prs[k].Repo) {
				t.Errorf("expect %s: %s is not mine on the metric's repos", e.Metric, k)
			}
		}
		if e.Before != s.From || e.After != s.To {
			t.Errorf("expect %s: levels differ from the shift", e.Metric)
		}
		if better := (m.Better == "lower") == (e.After < e.Before); !better {
			t.Errorf("expect %s: not an improvement", e.Metric)
		}
		if slices.Contains(w.MustNotMetrics, e.Metric) {
			t.Errorf("%s both expected and must-not", e.Metric)
		}

		// Other authors' PRs on the metric's repos stay ≥ 1.5 days away
		// from the span [first cause merge, At]; so do my PRs that are not
		// causes.
		var first time.Time
		for _, k := range e.PRs {
			if first.IsZero() || prs[k].MergedAt.Before(first) {
				first = prs[k].MergedAt
			}
		}
		for _, p := range w.PRs {
			if !slices.Contains(m.Repos, p.Repo) || slices.Contains(e.PRs, p.Key()) {
				continue
			}
			if p.MergedAt.After(first.Add(-36*time.Hour)) && p.MergedAt.Before(s.At.Add(36*time.Hour)) {
				t.Errorf("expect %s: %s by %s merged %v, too close to the shift at %v", e.Metric, p.Key(), p.Author, p.MergedAt, s.At)
			}
		}
	}
	for _, id := range w.MustNotMetrics {
		if _, ok := w.SeriesMetric(id); !ok {
			t.Errorf("must-not metric %s unknown", id)
		}
	}

	// Row 4: alice's unrelated platform PR live for days before, carol's
	// after.
	if s := shiftOf["platform-db-p99"]; true {
		var mineBefore, othersAfter bool
		for _, p := range w.PRs {
			if p.Repo != "acme/platform" {
				continue
			}
			d := s.At.Sub(p.MergedAt)
			if p.Author == w.Me && d >= 3*day && d <= 7*day {
				mineBefore = true
			}
			if p.Author == "carol" && -d >= day && -d <= 4*day {
				othersAfter = true
			}
		}
		if !mineBefore || !othersAfter {
			t.Errorf("platform-db-p99: mine-before %v, carol-after %v", mineBefore, othersAfter)
		}
	}

	checkPRs(t, w)
}

// checkOps checks a designed shift of a built-in series against the
// events it is computed from, over the windows the drafter uses: whole
// days and four weeks for counts (exact per-week rates), a week either
// side for times (within 5%).
func checkOps(t *testing.T, w *World, s Shift, prs map[string]model.PR) {
	t.Helper()
	const day = 24 * time.Hour
	if strings.HasPrefix(s.Metric, "dora.lead_time/") {
		checkLeadTime(t, w, s, prs)
		return
	}
	var first, last time.Time
	for _, k := range s.Cause {
		p, ok := prs[k]
		if !ok {
			t.Fatalf("%s: cause %s is not a merged PR", s.Metric, k)
		}
		if lead := s.At.Sub(p.MergedAt); lead < time.Hour || lead > 6*time.Hour {
			t.Errorf("%s: cause %s merged %v before At", s.Metric, k, lead)
		}
		if first.IsZero() || p.MergedAt.Before(first) {
			first = p.MergedAt
		}
		if p.MergedAt.After(last) {
			last = p.MergedAt
		}
	}
	m, ok := w.SeriesMetric(s.Metric)
	if !ok {
		t.Fatalf("%s: unknown series", s.Metric)
	}
	if m.Unit == "count" {
		be := first.Truncate(day)
		as := last.Add(day).Truncate(day).Add(day)
		count := func(from, to time.Time) (n int) {
			for _, inc := range w.Incidents {
				if inc.CreatedAt.Before(from) || !inc.CreatedAt.Before(to) {
					continue
				}
				if s.Metric == "pagerduty.pages_to_me" && slices.Contains(inc.Assignees, w.PagerDutyUser) ||
					s.Metric == "pagerduty.incidents/"+inc.Service {
					n++
				}
			}
			return n
		}
		if be.Add(-28*day).Before(w.Start) || as.Add(28*day).After(w.End) {
			t.Errorf("%s: four-week windows do not fit", s.Metric)
		}
		b, a := float64(count(be.Add(-28*day), be))/4, float64(count(as, as.Add(28*day)))/4
		if b != s.From || a != s.To {
			t.Errorf("%s: %v → %v a week, designed %v → %v", s.Metric, b, a, s.From, s.To)
		}
		return
	}
	var vals func(from, to time.Time) []float64
	switch {
	case strings.HasPrefix(s.Metric, "pagerduty.mttr/"):
		svc := strings.TrimPrefix(s.Metric, "pagerduty.mttr/")
		vals = func(from, to time.Time) (out []float64) {
			for _, inc := range w.Incidents {
				if inc.Service == svc && !inc.CreatedAt.Before(from) && inc.CreatedAt.Before(to) && !inc.ResolvedAt.After(w.End) {
					out = append(out, inc.ResolvedAt.Sub(inc.CreatedAt).Minutes())
				}
			}
			return out
		}
	case strings.HasPrefix(s.Metric, "ci.duration/"):
		vals = func(from, to time.Time) (out []float64) {
			for _, r := range w.CIRuns {
				if "ci.duration/"+r.Repo+"/"+r.Workflow == s.Metric && r.Conclusion == "success" &&
					!r.StartedAt.Before(from) && r.StartedAt.Before(to) {
					out = append(out, r.Duration.Minutes())
				}
			}
			return out
		}
	default:
		t.Fatalf("%s: no check for this series", s.Metric)
	}
	b, a := vals(first.Add(-7*day), first), vals(last.Add(day), last.Add(8*day))
	if len(b) < 10 || len(a) < 10 {
		t.Errorf("%s: windows hold %d and %d values", s.Metric, len(b), len(a))
	}
	if rel(Median(b), s.From) > 0.05 || rel(Median(a), s.To) > 0.05 {
		t.Errorf("%s: window medians %.4g → %.4g, true %.4g → %.4g", s.Metric, Median(b), Median(a), s.From, s.To)
	}
}

// checkLeadTime checks the release-train story (demo_flow.go): the cause
// is mine and went live at At, at the first deploy on a merge; before it
// deploy.yml ran only on the schedule (or by hand), after it on every
// merge; no one else's change went live from four days before At to three
// after (the drafter's largest span for a cause); the levels are a step
// down. internal/cmd/demo checks the drafted numbers against an
// independent computation.
func checkLeadTime(t *testing.T, w *World, s Shift, prs map[string]model.PR) {
	t.Helper()
	const day = 24 * time.Hour
	if len(s.Cause) != 1 || prs[s.Cause[0]].Author != w.Me {
		t.Fatalf("%s: causes %v", s.Metric, s.Cause)
	}
	cause := prs[s.Cause[0]]
	repo := strings.TrimPrefix(s.Metric, "dora.lead_time/")
	var deploys []model.CIRun
	for _, r := range w.CIRuns {
		if r.Repo == repo && r.Deploys {
			deploys = append(deploys, r)
			if r.CreatedAt.Before(cause.MergedAt) && r.Event == "push" || !r.CreatedAt.Before(cause.MergedAt) && r.Event == "schedule" {
				t.Errorf("%s: %s deploy at %v on the wrong side of %s's merge", s.Metric, r.Event, r.CreatedAt, cause.Key())
			}
		}
	}
	live := func(p model.PR) time.Time {
		for _, r := range deploys {
			if r.Conclusion == "success" && !r.StartedAt.Add(r.Duration).Before(p.MergedAt) {
				return r.StartedAt.Add(r.Duration)
			}
		}
		return time.Time{}
	}
	if !live(cause).Equal(s.At) {
		t.Errorf("%s: %s live at %v, the shift at %v", s.Metric, cause.Key(), live(cause), s.At)
	}
	for _, p := range w.PRs {
		if l := live(p); p.Repo == repo && p.Key() != cause.Key() && !l.Before(s.At.Add(-4*day)) && !l.After(s.At.Add(3*day)) {
			t.Errorf("%s: %s by %s live at %v, within the span of a cause of the shift at %v", s.Metric, p.Key(), p.Author, l, s.At)
		}
	}
	if !(s.From > 5*s.To) || !(s.To > 0) {
		t.Errorf("%s: levels %.4g → %.4g, not a step down", s.Metric, s.From, s.To)
	}
}

func checkPRs(t *testing.T, w *World) {
	t.Helper()
	inRange := 0
	keys := map[string]bool{}
	authors := map[string]int{}
	for _, p := range w.PRs {
		if !p.MergedAt.Before(w.Start) {
			inRange++
		}
		authors[p.Author]++
		if !p.MergedAt.Before(w.End) {
			t.Errorf("%s merged after End", p.Key())
		}
		if wd := p.MergedAt.Weekday(); wd == time.Saturday || wd == time.Sunday || p.MergedAt.Hour() < 9 || p.MergedAt.Hour() >= 18 {
			t.Errorf("%s merged outside working hours: %v", p.Key(), p.MergedAt)
		}
		if p.URL != "https://github.com/"+p.Repo+"/pull/"+strconv.Itoa(p.Number) {
			t.Errorf("%s: url %s", p.Key(), p.URL)
		}
		if p.MergeSHA == "" || len(p.Files) == 0 || p.Title == "" || p.Base != "main" {
			t.Errorf("%s: incomplete %+v", p.Key(), p)
		}
	}
	// About 80 designed and ordinary PRs, and 60 or so of the search-api
	// team's small ones (demo_flow.go).
	if inRange < 110 || inRange > 170 {
		t.Errorf("%d PRs merged in range, want 110–170", inRange)
	}
	for _, a := range []string{"alice", "bob", "carol", "dave", "dependabot[bot]"} {
		if authors[a] == 0 {
			t.Errorf("no PRs by %s", a)
		}
	}
	if len(w.ClosedUnmerged) < 2 {
		t.Errorf("want closed-unmerged PRs")
	}
	type rn struct {
		created time.Time
		number  int
	}
	byRepo := map[string][]rn{}
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
		} else if !in.ClosedAt.Equal(p.MergedAt) {
			t.Errorf("%s: closed_at ≠ merged_at", p.Key())
		}
		if !in.CreatedAt.Before(closeAt) || !in.UpdatedAt.After(closeAt) || in.UpdatedAt.Sub(closeAt) > 15*time.Minute {
			t.Errorf("%s: created %v closed %v updated %v", p.Key(), in.CreatedAt, closeAt, in.UpdatedAt)
		}
		if len(in.Files) != len(p.Files) || in.HeadRef == "" || len(in.HeadSHA) != 40 {
			t.Errorf("%s: info %+v", p.Key(), in)
		}
		byRepo[p.Repo] = append(byRepo[p.Repo], rn{in.CreatedAt, p.Number})
	}
	for repo, l := range byRepo {
		slices.SortFunc(l, func(a, b rn) int { return a.created.Compare(b.created) })
		for i := 1; i < len(l); i++ {
			if l[i].number <= l[i-1].number && l[i].created.After(l[i-1].created) {
				t.Errorf("%s: numbers not increasing with creation", repo)
			}
		}
	}
	if !keys["acme/search-api#1234"] {
		t.Errorf("the ES PR is not acme/search-api#1234")
	}
	if len(w.Info) != len(keys) {
		t.Errorf("info has %d entries for %d PRs", len(w.Info), len(keys))
	}
}

func TestGenerateSeriesWeeklyMedians(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(90 * 24 * time.Hour)
	worst := 0.0
	for seed := range uint64(10) {
		ss := GenerateSeries(seedFor(seed, "x"), start, end, []Regime{{start, 100}},
			Shape{DailyAmp: 0.25, PeakHour: 15, Weekend: 0.8, Sigma: 0.15, Spikes: 5}, nil)
		for i := 0; i+168 <= len(ss); i += 7 {
			m, _ := WindowMedian(ss[i:i+168], ss[i].Time, ss[i].Time.Add(168*time.Hour))
			worst = max(worst, rel(m, 100))
		}
	}
	if worst > 0.03 {
		t.Errorf("worst weekly median off by %.1f%%", 100*worst)
	}
	t.Logf("worst weekly median error over 10 seeds: %.2f%%", 100*worst)
}

// TestDemoTable logs the scenario (go test -v -run TestDemoTable).
func TestDemoTable(t *testing.T) {
	w := Demo(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	for _, s := range w.Shifts {
		var lead []string
		for _, k := range s.Cause {
			p, _ := w.PR(k)
			lead = append(lead, k+" by "+p.Author+" "+p.MergedAt.Format("Mon 15:04")+" ("+s.At.Sub(p.MergedAt).String()+" before) "+p.Title)
		}
		t.Logf("%-18s %g → %g  At end-%v (%s)\n    %s", s.Metric, s.From, s.To, w.End.Sub(s.At), s.At.Format("Mon Jan 2 15:04"), strings.Join(lead, "\n    "))
	}
	t.Logf("%d merged PRs (%d before Start), %d closed-unmerged", len(w.PRs), countBefore(w), len(w.ClosedUnmerged))
	for _, p := range append(slices.Clone(w.PRs), w.ClosedUnmerged...) {
		t.Logf("  %-24s %-16s %s %s", p.Key(), p.Author, w.Info[p.Key()].ClosedAt.Format("2006-01-02 Mon 15:04"), p.Title)
	}
}

func countBefore(w *World) int {
	n := 0
	for _, p := range w.PRs {
		if p.MergedAt.Before(w.Start) {
			n++
		}
	}
	return n
}

func values(ss []model.Sample) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = s.Value
	}
	return out
}

func rel(got, want float64) float64 { return math.Abs(got/want - 1) }

// TestDemoTraps: the demo's two traps are what they claim to be — the
// fraud-check p99 is at 250 ms for four days after alice's PR and back at
// 420 ms after; search throughput grows without a step.
func TestDemoTraps(t *testing.T) {
	const day = 24 * time.Hour
	for _, end := range ends()[:3] {
		w := Demo(end)
		if len(w.Traps) != 2 {
			t.Fatalf("traps %v", w.Traps)
		}
		var fraud model.PR
		for _, p := range w.PRs {
			if strings.Contains(w.Traps["fraud-check-p99"], p.Key()+",") {
				fraud = p
			}
		}
		if fraud.Author != "alice" || fraud.Repo != "acme/checkout" {
			t.Fatalf("%s: the reverted PR %+v", end, fraud)
		}
		at := fraud.MergedAt.Truncate(time.Hour).Add(3 * time.Hour)
		ss := w.Series["fraud-check-p99"]
		before, _ := WindowMedian(ss, at.Add(-7*day), at)
		during, _ := WindowMedian(ss, at, at.Add(4*day))
		after, _ := WindowMedian(ss, at.Add(4*day), at.Add(11*day))
		if rel(before, 420) > 0.05 || rel(during, 250) > 0.05 || rel(after, 420) > 0.05 {
			t.Errorf("%s: fraud-check p99 %.0f → %.0f → %.0f, want 420 → 250 → 420", end, before, during, after)
		}
		// Growth: 1.5% a day compounds to ~3.8× over 90 days; the walk
		// moves it by a fraction of that.
		tp := w.Series["search-throughput"]
		first, _ := WindowMedian(tp, w.Start, w.Start.Add(7*day))
		last, _ := WindowMedian(tp, w.End.Add(-7*day), w.End)
		if r := last / first; r < 2 || r > 7 {
			t.Errorf("%s: search throughput grew %.1f×", end, r)
		}
	}
}
