package drafter

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// theFinding returns the finding closest to at (failing when there is none).
func theFinding(t *testing.T, r Result, at time.Time) Finding {
	t.Helper()
	if len(r.Findings) == 0 {
		t.Fatalf("no findings")
	}
	best := r.Findings[0]
	for _, f := range r.Findings {
		if absDur(f.At.Sub(at)) < absDur(best.At.Sub(at)) {
			best = f
		}
	}
	return best
}

// myPRsEvery returns PRs of mine every k days at 11:00.
func myPRsEvery(k int) []model.PR {
	var prs []model.PR
	for d := k; d < 70; d += k {
		prs = append(prs, pr(d, "alice", t0.Add(time.Duration(d)*day+11*time.Hour), "Tidy go.mod"))
	}
	return prs
}

// withDetectors runs f with the default detector and with the rank-split
// fallback, which proposes a "shift" wherever the windows differ (drift
// included), so the drafter's own step test is what must say no.
func withDetectors(t *testing.T, f func(t *testing.T)) {
	for _, d := range []struct {
		name string
		fn   func([]float64) []int
	}{{"changepoint", changepointDetect}, {"ranksplit", binsegDetect}} {
		t.Run(d.name, func(t *testing.T) {
			detect = d.fn
			defer func() { detect = changepointDetect }()
			f(t)
		})
	}
}

// notDrafted checks that r has no draft and that every finding has one of
// the verdicts allowed; it returns how many findings had each verdict.
func notDrafted(t *testing.T, r Result, allowed ...string) map[string]int {
	t.Helper()
	for _, d := range r.Drafts {
		t.Errorf("drafted %q (p=%g)", d.Text, d.PValue)
	}
	n := map[string]int{}
	for _, f := range r.Findings {
		n[f.Verdict]++
		if !slices.Contains(allowed, f.Verdict) {
			t.Errorf("finding at %s: verdict %s (%s), want one of %v", f.At.Format(timeLayout), f.Verdict, f.Reason, allowed)
		}
		for _, c := range f.Candidates {
			if c.Role == RoleCredited {
				t.Errorf("finding at %s (%s): #%d is %s, but nothing was drafted", f.At.Format(timeLayout), f.Verdict, c.PR.Number, c.Role)
			}
		}
	}
	return n
}

// TestTrapGrowth: organic growth of 0.5–3% a day, compounding, with a PR
// of mine every other day: no draft, and the shifts the detector proposes
// are judged drift (or too small to matter).
func TestTrapGrowth(t *testing.T) {
	withDetectors(t, func(t *testing.T) {
		drift := 0
		for i, rate := range []float64{0.005, 0.01, 0.015, 0.02, 0.03} {
			for seed := uint64(0); seed < 4; seed++ {
				s := gen{base: 1100, seed: 300 + 10*uint64(i) + seed, sigma: 0.15}.samples()
				for j := range s {
					s[j].Value *= math.Pow(1+rate, s[j].Time.Sub(t0).Hours()/24)
				}
				r := Run(Input{Params: params(), Series: []Series{{Metric: throughput, Samples: s}}, PRs: myPRsEvery(2), Now: now})
				drift += notDrafted(t, r, VerdictDrift, VerdictTooSmall, VerdictNotSignificant, VerdictNotSustained, VerdictTooLittleData)[VerdictDrift]
			}
		}
		t.Logf("%d shifts judged drift", drift)
		if detect(nil) == nil && drift == 0 && strings.Contains(t.Name(), "ranksplit") {
			t.Errorf("the rank split proposed no drift to judge")
		}
	})
}

// TestTrapRandomWalk: a random walk (daily log-steps of 2–5%) with a PR of
// mine every other day: no draft.
func TestTrapRandomWalk(t *testing.T) {
	withDetectors(t, func(t *testing.T) {
		for seed := uint64(0); seed < 20; seed++ {
			rng := rand.New(rand.NewPCG(seed, 77))
			sd := (0.02 + 0.03*float64(seed%4)/3) / math.Sqrt(24)
			s := gen{base: 400, seed: 500 + seed, sigma: 0.12}.samples()
			walk := 0.0
			for j := range s {
				walk += sd * rng.NormFloat64()
				s[j].Value *= math.Exp(walk)
			}
			r := Run(Input{Params: params(), Series: []Series{{Metric: latency, Samples: s}}, PRs: myPRsEvery(2), Now: now})
			// A walk in the worse direction may be listed as a regression
			// (worth a look); it is never a win.
			notDrafted(t, r, VerdictDrift, VerdictTooSmall, VerdictNotSignificant, VerdictNotSustained, VerdictTooLittleData, VerdictRegression)
		}
	})
}

// TestTrapStepOnTrend: a −35% step on a series that also grows 1.5% a
// day is still drafted, and its numbers are the step at the go-live, not
// the step plus the trend's share over the windows.
func TestTrapStepOnTrend(t *testing.T) {
	hits := 0
	for seed := uint64(0); seed < 10; seed++ {
		s := gen{base: 400, shifts: []step{{shiftAt, 0.65}}, seed: 600 + seed, sigma: 0.15}.samples()
		for j := range s {
			s[j].Value *= math.Pow(1.015, s[j].Time.Sub(t0).Hours()/24)
		}
		r := Run(Input{Params: params(), Series: []Series{{Metric: latency, Samples: s}},
			PRs: []model.PR{pr(1234, "alice", shiftAt.Add(-2*time.Hour), "Cache parsed queries")}, Now: now})
		if len(r.Drafts) != 1 {
			f := theFinding(t, r, shiftAt)
			t.Logf("seed %d: %d drafts; finding %s: %s", seed, len(r.Drafts), f.Verdict, f.Reason)
			continue
		}
		hits++
		d := r.Drafts[0]
		// The step at the go-live is −35%; the raw window medians differ
		// by about −35% plus 8 days of +1.5% growth (≈ −30%).
		if d.Change > -0.30 || d.Change < -0.40 {
			t.Errorf("seed %d: change %+.3f, want the step (−35%%)", seed, d.Change)
		}
		f := theFinding(t, r, shiftAt)
		if f.Verdict != VerdictDrafted || f.DraftID != d.ID {
			t.Errorf("seed %d: finding %s %s", seed, f.Verdict, f.DraftID)
		}
	}
	if hits < 9 {
		t.Errorf("drafted %d of 10 steps on a trend", hits)
	}
}

// TestTrapRevert: a −40% win that is reverted (the level comes back) 30
// hours later, or 3 days later, inside the after window: no draft. The
// default detector mostly leaves a 30-hour dip alone (too brief to split
// into two levels); a shift proposed at the win — by it, or by the rank
// split, or by a detector that proposes the win's day whatever the data —
// is judged not sustained.
func TestTrapRevert(t *testing.T) {
	atTheWin := func(xs []float64) []int {
		if i := int(shiftAt.Sub(t0) / day); i < len(xs) {
			return []int{i}
		}
		return nil
	}
	for _, d := range []struct {
		name string
		fn   func([]float64) []int
	}{{"changepoint", changepointDetect}, {"at-the-win", atTheWin}} {
		t.Run(d.name, func(t *testing.T) {
			detect = d.fn
			defer func() { detect = changepointDetect }()
			trapRevert(t, d.name == "at-the-win")
		})
	}
}

func trapRevert(t *testing.T, always bool) {
	for _, back := range []time.Duration{30 * time.Hour, 3 * day} {
		proposed, sustained := 0, 0
		verdicts := map[string]int{}
		for seed := uint64(0); seed < 10; seed++ {
			s := gen{base: 500, shifts: []step{{shiftAt, 0.6}, {shiftAt.Add(back), 1 / 0.6}}, seed: 700 + seed}.samples()
			r := Run(Input{Params: params(), Series: []Series{{Metric: latency, Samples: s}},
				PRs: []model.PR{pr(1234, "alice", shiftAt.Add(-2*time.Hour), "Cache parsed queries")}, Now: now})
			for v, k := range notDrafted(t, r, VerdictNotSustained, VerdictTooSmall, VerdictNotSignificant, VerdictDrift, VerdictRegression, VerdictTooLittleData) {
				verdicts[v] += k
			}
			for _, f := range r.Findings {
				if absDur(f.At.Sub(shiftAt)) <= f.Tolerance() {
					proposed++
					if f.Verdict == VerdictNotSustained {
						sustained++
					}
				}
			}
		}
		t.Logf("revert after %v: %d proposed at the win, %d judged not sustained; all verdicts %v", back, proposed, sustained, verdicts)
		if sustained < proposed || (back == 3*day || always) && sustained < 8 {
			t.Errorf("revert after %v: %d of %d shifts at the win judged not sustained", back, sustained, proposed)
		}
	}
}

// TestTrapLikeliestCause: the case — my PR went live at 11:23,
// @chen-l's at 14:34, the step came at 17:00 — and the converse.
func TestTrapLikeliestCause(t *testing.T) {
	at := shiftAt.Add(3 * time.Hour) // 17:00
	up := gen{base: 1100, shifts: []step{{at, 1.45}}, seed: 11, sigma: 0.12}.samples()
	mine := pr(1301, "alice", at.Add(-5*time.Hour-37*time.Minute), "Add metrics for queue depth")
	theirs := pr(1302, "chen-l", at.Add(-2*time.Hour-26*time.Minute), "Pool Elasticsearch connections per shard")

	t.Run("theirs closer", func(t *testing.T) {
		r := Run(Input{Params: params(), Series: []Series{{Metric: throughput, Samples: up}}, PRs: []model.PR{mine, theirs}, Now: now})
		if len(r.Drafts) != 0 {
			t.Fatalf("drafted %q", r.Drafts[0].Text)
		}
		f := theFinding(t, r, at)
		if f.Verdict != VerdictCredited || f.CreditedTo != "chen-l" {
			t.Fatalf("verdict %s credited to %q: %s", f.Verdict, f.CreditedTo, f.Reason)
		}
		if len(f.Candidates) != 2 || f.Candidates[0].PR.Number != 1302 || f.Candidates[0].Role != RoleLikeliest ||
			f.Candidates[1].PR.Number != 1301 || !f.Candidates[1].Mine || f.Candidates[1].OffsetSeconds >= 0 {
			t.Errorf("candidates %+v", f.Candidates)
		}
		if len(r.Unattributed) != 1 || r.Unattributed[0].Cause.Author != "chen-l" {
			t.Errorf("unattributed %+v", r.Unattributed)
		}
	})
	t.Run("mine closer, theirs 3 h earlier", func(t *testing.T) {
		mine2 := mine
		mine2.MergedAt = at.Add(-90 * time.Minute)
		r := Run(Input{Params: params(), Series: []Series{{Metric: throughput, Samples: up}}, PRs: []model.PR{mine2, theirs}, Now: now})
		d := one(t, r)
		if len(d.PRs) != 1 || d.PRs[0].Number != 1301 {
			t.Errorf("credited %+v", d.PRs)
		}
		f := theFinding(t, r, at)
		if f.Verdict != VerdictDrafted || f.DraftID != d.ID {
			t.Errorf("verdict %s: %s", f.Verdict, f.Reason)
		}
	})
	t.Run("same deploy", func(t *testing.T) {
		// Both merged earlier, shipped by one deploy at 15:00: equally
		// close; mine is credited, with @chen-l named.
		a, b := mine, theirs
		a.MergedAt, b.MergedAt = at.Add(-5*time.Hour), at.Add(-4*time.Hour)
		dep := model.Deploy{Repo: "acme/search-api", Workflow: "deploy.yml", RunID: 1, SHA: b.MergeSHA, Time: at.Add(-2 * time.Hour)}
		r := Run(Input{Params: params(), Series: []Series{{Metric: throughput, Samples: up}}, PRs: []model.PR{a, b},
			Deploys: []model.Deploy{dep}, Now: now})
		d := one(t, r)
		if len(d.PRs) != 1 || d.PRs[0].Number != 1301 || !strings.Contains(d.Text, "(with @chen-l)") || d.Confidence != model.ConfidenceMedium {
			t.Errorf("draft %q credits %+v, confidence %s", d.Text, d.PRs, d.Confidence)
		}
	})
}

// TestTrapUnrelatedPROfMine: an unrelated PR of mine went live 20 hours
// before my real one, within settle of the shift: only the real one is
// credited, and the statement does not mention the other.
func TestTrapUnrelatedPROfMine(t *testing.T) {
	drop := gen{base: 1800, shifts: []step{{shiftAt, 0.6}}, seed: 1}
	real := pr(1234, "alice", shiftAt.Add(-2*time.Hour), "Add composite indexes on saved_searches")
	other := pr(1233, "alice", shiftAt.Add(-22*time.Hour), "Improve log messages in worker")
	r := Run(Input{Params: params(), Series: []Series{{Metric: latency, Samples: drop.samples()}}, PRs: []model.PR{other, real}, Now: now})
	d := one(t, r)
	if len(d.PRs) != 1 || d.PRs[0].Number != 1234 || strings.Contains(strings.ToLower(d.Text), "log messages") {
		t.Errorf("draft %q credits %+v", d.Text, d.PRs)
	}
	if !d.BeforeWindow.End.Equal(real.MergedAt) {
		t.Errorf("before window ends %s, want at the credited PR", d.BeforeWindow.End)
	}
	f := theFinding(t, r, shiftAt)
	for _, c := range f.Candidates {
		want := RoleCredited
		if c.PR.Number == 1233 {
			want = RoleLess
		}
		if c.Role != want {
			t.Errorf("candidate #%d: role %s, want %s", c.PR.Number, c.Role, want)
		}
	}
}

// TestExplain: the explanation of one series lists its findings; --at
// keeps the ones near a time.
func TestExplain(t *testing.T) {
	s := gen{base: 500, shifts: []step{{shiftAt, 0.6}, {shiftAt.Add(15 * day), 1.5}}, seed: 3}.samples()
	in := Input{Params: params(), Series: []Series{{Metric: latency, Samples: s}, {Metric: throughput, Samples: s}},
		PRs: []model.PR{pr(1234, "alice", shiftAt.Add(-2*time.Hour), "Cache parsed queries"),
			pr(1240, "bob", shiftAt.Add(15*day-2*time.Hour), "Add audit logging")}, Now: now}
	ex, ok := Explain(in, "search-p99", time.Time{})
	if !ok || ex.Metric.ID != "search-p99" || ex.Samples != len(s) {
		t.Fatalf("explain: %v %+v", ok, ex.Metric)
	}
	var verdicts []string
	for _, f := range ex.Findings {
		verdicts = append(verdicts, f.Verdict)
	}
	if !slices.Contains(verdicts, VerdictDrafted) || !slices.Contains(verdicts, VerdictRegression) {
		t.Errorf("verdicts %v", verdicts)
	}
	near, _ := Explain(in, "search-p99", shiftAt.Add(15*day))
	if len(near.Findings) == 0 || near.Findings[0].Verdict != VerdictRegression || near.Findings[0].CreditedTo != "bob" {
		t.Errorf("near the second shift: %+v", near.Findings)
	}
	if _, ok := Explain(in, "nope", time.Time{}); ok {
		t.Errorf("unknown metric explained")
	}
	// Pure: the same input gives the same explanation.
	again, _ := Explain(in, "search-p99", time.Time{})
	if len(again.Findings) != len(ex.Findings) || again.Findings[0].Reason != ex.Findings[0].Reason {
		t.Errorf("not deterministic")
	}
}

// TestTrapSeasonality: a slow change of season — the level swings ±25%
// over 60 days (a sine), and the daily cycle deepens week by week — with a
// PR of mine every other day: no draft; what the detector proposes is
// drift, too small, not significant or not sustained, or a regression
// when the season turns the worse way.
func TestTrapSeasonality(t *testing.T) {
	withDetectors(t, func(t *testing.T) {
		n := map[string]int{}
		for seed := uint64(0); seed < 8; seed++ {
			s := gen{base: 800, seed: 900 + seed, sigma: 0.12}.samples()
			phase := float64(seed) * math.Pi / 4
			for j := range s {
				d := s[j].Time.Sub(t0).Hours() / 24
				season := 1 + 0.25*math.Sin(2*math.Pi*d/60+phase)
				cycle := 1 + (0.05+0.5*d/70)*math.Sin(2*math.Pi*float64(s[j].Time.Hour()-8)/24)
				s[j].Value *= season * cycle
			}
			for _, m := range []model.Metric{latency, throughput} {
				r := Run(Input{Params: params(), Series: []Series{{Metric: m, Samples: s}}, PRs: myPRsEvery(2), Now: now})
				for v, k := range notDrafted(t, r, VerdictDrift, VerdictTooSmall, VerdictNotSignificant, VerdictNotSustained,
					VerdictTooLittleData, VerdictRegression) {
					n[v] += k
				}
			}
		}
		t.Logf("verdicts %v", n)
		if strings.Contains(t.Name(), "ranksplit") && n[VerdictDrift] == 0 {
			t.Errorf("the rank split proposed no drift to judge: %v", n)
		}
	})
}

// TestTrapStepOnGrowth: a +40% throughput step on a series that also grows
// 1.5% a day. The raw window medians differ by the step plus about 8 days
// of growth (≈ +58%); each draft claims less than its raw windows differ
// (the trend's share removed), the claims average the step, and the
// finding says the trend was removed. (A single claim is off the step by
// the sampling noise of two 7-day medians: a few points either way.)
func TestTrapStepOnGrowth(t *testing.T) {
	var claims []float64
	for seed := uint64(0); seed < 10; seed++ {
		s := gen{base: 900, shifts: []step{{shiftAt, 1.4}}, seed: 650 + seed, sigma: 0.12}.samples()
		for j := range s {
			s[j].Value *= math.Pow(1.015, s[j].Time.Sub(t0).Hours()/24)
		}
		r := Run(Input{Params: params(), Series: []Series{{Metric: throughput, Samples: s}},
			PRs: []model.PR{pr(1234, "alice", shiftAt.Add(-2*time.Hour), "Pool Elasticsearch connections")}, Now: now})
		if len(r.Drafts) != 1 {
			t.Logf("seed %d: %d drafts; %d findings", seed, len(r.Drafts), len(r.Findings))
			continue
		}
		d := r.Drafts[0]
		f := theFinding(t, r, shiftAt)
		claims = append(claims, d.Change)
		var b, a []float64
		for _, x := range s {
			if !x.Time.Before(d.BeforeWindow.Start) && x.Time.Before(d.BeforeWindow.End) {
				b = append(b, x.Value)
			}
			if !x.Time.Before(d.AfterWindow.Start) && x.Time.Before(d.AfterWindow.End) {
				a = append(a, x.Value)
			}
		}
		raw := median(a)/median(b) - 1
		t.Logf("seed %d: claims %+.3f, raw windows %+.3f, trend %+.4f a day", seed, d.Change, raw, f.TrendPerDay)
		if d.Change > raw-0.08 || d.Change < 0.28 || d.Change > 0.52 {
			t.Errorf("seed %d: change %+.3f (raw windows %+.3f), want the step (+40%%) without the trend's share: %s", seed, d.Change, raw, d.Text)
		}
		if f.Verdict != VerdictDrafted || !f.Detrended || f.TrendPerDay < 0.01 || f.TrendPerDay > 0.02 ||
			!strings.Contains(strings.Join(d.Evidence, " "), "moved along the trend") {
			t.Errorf("seed %d: finding %s detrended %v trend %+.4f a day", seed, f.Verdict, f.Detrended, f.TrendPerDay)
		}
	}
	if len(claims) < 8 {
		t.Errorf("drafted %d of 10 steps on growth", len(claims))
	}
	mean := 0.0
	for _, c := range claims {
		mean += c / float64(len(claims))
	}
	if math.Abs(mean-0.40) > 0.03 {
		t.Errorf("claims average %+.3f, want the step's +0.40 (the raw windows, trend included, ≈ +0.58)", mean)
	}
}

// TestTrapMyPRsTogether: my PRs are credited together only when they went
// live within the shift's localisation tolerance of the closest one, or
// in the same deploy; an earlier PR of mine beyond it is a less likely
// cause, named in the finding and not in the draft.
func TestTrapMyPRsTogether(t *testing.T) {
	drop := gen{base: 1800, shifts: []step{{shiftAt, 0.6}}, seed: 5}.samples()
	closest := pr(1234, "alice", shiftAt.Add(-2*time.Hour), "Add composite indexes on saved_searches")
	base := Run(Input{Params: params(), Series: []Series{{Metric: latency, Samples: drop}}, PRs: []model.PR{closest}, Now: now})
	tol := theFinding(t, base, shiftAt).Tolerance()
	if tol < 2*time.Hour || tol > 24*time.Hour {
		t.Fatalf("tolerance %v", tol)
	}
	for _, c := range []struct {
		name     string
		earlier  time.Duration // how long before the closest mine went live
		deploy   bool          // both shipped by one deploy at the closest's time
		together bool
	}{
		{"within the tolerance", tol / 2, false, true},
		{"beyond the tolerance", tol + 3*time.Hour, false, false},
		{"beyond the tolerance, same deploy", tol + 3*time.Hour, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := pr(1230, "alice", closest.MergedAt.Add(-c.earlier), "Improve log messages in worker")
			in := Input{Params: params(), Series: []Series{{Metric: latency, Samples: drop}}, PRs: []model.PR{other, closest}, Now: now}
			if c.deploy {
				a, b := other, closest
				a.MergedAt, b.MergedAt = closest.MergedAt.Add(-c.earlier), closest.MergedAt.Add(-c.earlier+30*time.Minute)
				in.PRs = []model.PR{a, b}
				in.Deploys = []model.Deploy{{Repo: "acme/search-api", Workflow: "deploy.yml", RunID: 7, SHA: b.MergeSHA, Time: closest.MergedAt}}
			}
			r := Run(in)
			d := one(t, r)
			var nums []int
			for _, p := range d.PRs {
				nums = append(nums, p.Number)
			}
			slices.Sort(nums)
			want := []int{1234}
			if c.together {
				want = []int{1230, 1234}
			}
			if !slices.Equal(nums, want) {
				t.Errorf("credited %v, want %v: %s", nums, want, d.Text)
			}
			if mentions := strings.Contains(strings.ToLower(d.Text), "related change") || strings.Contains(strings.ToLower(d.Text), "log messages"); mentions != c.together {
				t.Errorf("statement %q (together %v)", d.Text, c.together)
			}
			f := theFinding(t, r, shiftAt)
			if f.Verdict != VerdictDrafted || f.DraftID != d.ID {
				t.Errorf("finding %s %s", f.Verdict, f.DraftID)
			}
			for _, cand := range f.Candidates {
				want := RoleCredited
				if cand.PR.Number == 1230 && !c.together {
					want = RoleLess
				}
				if cand.Role != want {
					t.Errorf("candidate #%d: role %s, want %s", cand.PR.Number, cand.Role, want)
				}
			}
		})
	}
}

// TestTrapRamp: the level climbs +40% over 6, 8 or 12 days (a gradual
// rollout, a slow change), with my PR at the ramp's start or in its
// middle. The windows differ by about +30%, but the change is spread over
// days, not concentrated at one moment: judged drift, not a step. Some
// ramps still pass — the local step carries three quarters of a
// mid-ramp PR's windows now and then — so the bound is on the count.
func TestTrapRamp(t *testing.T) {
	for _, c := range []struct {
		days      float64
		maxDrafts int
	}{{6, 4}, {8, 3}, {12, 1}} {
		drafts, drift := 0, 0
		for seed := uint64(0); seed < 10; seed++ {
			s := gen{base: 900, seed: 800 + seed, sigma: 0.12}.samples()
			for j := range s {
				d := s[j].Time.Sub(shiftAt).Hours() / 24
				s[j].Value *= math.Pow(1.4, math.Min(math.Max(d/c.days, 0), 1))
			}
			for _, off := range []time.Duration{-2 * time.Hour, time.Duration(c.days*12) * time.Hour} {
				r := Run(Input{Params: params(), Series: []Series{{Metric: throughput, Samples: s}},
					PRs: []model.PR{pr(1234, "alice", shiftAt.Add(off), "Pool connections")}, Now: now})
				drafts += len(r.Drafts)
				for _, f := range r.Findings {
					if f.Verdict == VerdictDrift {
						drift++
					}
				}
			}
		}
		t.Logf("ramp over %v days: %d of 20 drafted, %d findings judged drift", c.days, drafts, drift)
		if drafts > c.maxDrafts || drift < 10 {
			t.Errorf("ramp over %v days: %d of 20 drafted (at most %d), %d judged drift (at least 10)", c.days, drafts, c.maxDrafts, drift)
		}
	}
}

// TestBeforeWindowStopsAtClearerShift: a weaker shift proposed four days
// after a real step (the detector's echo of it, or another PR's nudge) is
// measured from after the step, not across it: its before window would
// otherwise mix both levels and credit part of the step to a PR that went
// live days later (the demo once drafted "Added pprof endpoints …,
// reducing orders sync job duration from 58 s to 40 s").
func TestBeforeWindowStopsAtClearerShift(t *testing.T) {
	s := gen{base: 1800, shifts: []step{{shiftAt, 0.2}}, seed: 5}.samples()
	se := Series{Metric: latency, Samples: s}
	a := newAnalysis(&se, params().withDefaults(), now)
	echo := shiftAt.Add(4*day + 3*time.Hour)
	a.shifts = []shiftEst{{at: shiftAt, tol: 4 * time.Hour, score: 60}, {at: echo, tol: 9 * time.Hour, score: 14}}
	if m, why := a.measure(a.shifts[1], echo.Add(8*time.Hour), echo.Add(8*time.Hour+day)); why != VerdictTooLittleData ||
		!m.bw.Start.Equal(shiftAt.Add(4*time.Hour)) || !strings.Contains(m.why, "starts after the shift found at") {
		t.Errorf("echo: verdict %q (%s), before window %v", why, m.why, m.bw)
	}
	// The step itself is measured as before: the echo is later and weaker.
	if m, why := a.measure(a.shifts[0], shiftAt.Add(-2*time.Hour), shiftAt.Add(day)); why != "" || m.change > -0.7 {
		t.Errorf("step: verdict %q (%s), change %.2f", why, m.why, m.change)
	}
	// A weaker shift earlier in the before window does not cut it.
	a.shifts[0].score = 5
	if m, _ := a.measure(a.shifts[1], echo.Add(8*time.Hour), echo.Add(8*time.Hour+day)); !m.bw.Start.Equal(echo.Add(8*time.Hour - a.p.Window)) {
		t.Errorf("a weaker earlier shift cut the before window: %v", m.bw)
	}
}
