package drafter

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Weekly count series (pages, incidents) are events, a few a day at most,
// and most days hold zero, one or two of them. A rank test on daily counts
// has little to work with (a drop from 14 to 3 pages a week over 7 vs 7
// days cannot reach p < 0.01 with Mann–Whitney), so counts are treated as
// what they are, Poisson processes:
//
//   - windows are at least countWindow long (4 weeks; Params.Window when
//     longer) and snapped to whole UTC days: before is the days that ended
//     before the first credited PR went live, after the days that begin
//     after the last one went live plus Settle. The after window needs
//     minCountAfter (2 weeks) of data;
//   - before and after are per-week rates: events / (days covered / 7);
//   - significance is the exact conditional test for two Poisson rates:
//     given n events in all, the after count is Binomial(n, share of the
//     exposure after) under "no change" (two-sided, as R's
//     poisson.test). Real incident counts are burstier than Poisson (one
//     outage pages five times), so when the weekly counts vary more than a
//     Poisson process would (Pearson dispersion φ > 1, pooled over both
//     windows' whole weeks), both counts are divided by φ first — the
//     quasi-Poisson correction; the test never becomes less strict than the
//     plain one;
//   - sustained: at least two thirds of the after window's whole weeks lie
//     beyond the midpoint of the two rates.
const (
	countWindow   = 28 * day
	minCountAfter = 14 * day
	// countRefineDays is how far around a detected day the split of a
	// count series is searched, and countSlack how much worse (in
	// log-likelihood-ratio units, 2·Δ log L) a split may be and still be
	// as plausible as the best: those splits make the shift's tolerance.
	countRefineDays = 5
	countSlack      = 4.0
	maxCountTol     = 3 * day
	// poissonLR is the likelihood-ratio statistic a split of a daily
	// count series needs to be proposed (before it is tested on its own
	// windows): about p < 0.001 for one fixed split.
	poissonLR = 11.0
)

// weekdayWeights returns, for each daily count of the series, the
// activity of its weekday relative to the average day: pages come in
// working hours, so a Monday holds more than a Sunday at the same weekly
// rate. Splitting, placing and testing counts by these exposures instead of
// by days keeps a quiet weekend from looking like a drop. Each weekday's
// rate is shrunk towards the overall rate (two pseudo-events), and series
// shorter than four weeks get equal weights.
func (a *analysis) weekdayWeights() []float64 {
	w := make([]float64, len(a.xs))
	for i := range w {
		w[i] = 1
	}
	if len(a.xs) < 28 {
		return w
	}
	var c, n [7]float64
	total := 0.0
	for i, x := range a.xs {
		k := weekday(a.days[i])
		c[k] += max(x, 0)
		n[k]++
		total += max(x, 0)
	}
	mean := total / float64(len(a.xs))
	if mean <= 0 {
		return w
	}
	const pseudo = 2.0
	var wk [7]float64
	sumW := 0.0
	for k := range wk {
		wk[k] = (c[k] + pseudo) / (n[k] + pseudo/mean) / mean
		sumW += wk[k]
	}
	for k := range wk {
		wk[k] *= 7 / sumW // a whole week's exposure is 7 days
	}
	for i := range w {
		w[i] = wk[weekday(a.days[i])]
	}
	return w
}

// weekday of UTC day number d (0 = Thursday 1970-01-01; only used as a key).
func weekday(d int64) int {
	k := d % 7
	if k < 0 {
		k += 7
	}
	return int(k)
}

// detectCounts proposes level shifts in daily counts: the changepoint
// detector's proposals on the counts divided by their weekday weights (it
// sees abrupt shifts in dense counts) joined with those of a binary
// segmentation on the Poisson likelihood (which sees drops in sparse
// counts that look like noise to a Gaussian model).
func (a *analysis) detectCounts() []int {
	adj := make([]float64, len(a.xs))
	for i, x := range a.xs {
		adj[i] = x / a.cw[i]
	}
	var out []int
	if sparse(a.xs) {
		out = detect(a.xs) // the sparse fallback looks at the raw counts
	} else {
		out = detect(adj)
	}
	for _, i := range poissonBinseg(a.xs, a.cw) {
		near := false
		for _, j := range out {
			if i-j < minSegment && j-i < minSegment {
				near = true
				break
			}
		}
		if !near {
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out
}

// xlogx is x·log(x), 0 at 0.
func xlogx(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return x * math.Log(x)
}

// poissonSplitLR is 2·(log L of two Poisson rates − log L of one) for s1
// events over exposure e1 and s2 over e2.
func poissonSplitLR(s1, e1, s2, e2 float64) float64 {
	s, e := s1+s2, e1+e2
	lr := 2 * (xlogx(s1) - s1*math.Log(e1) + xlogx(s2) - s2*math.Log(e2) - xlogx(s) + s*math.Log(e))
	return max(lr, 0)
}

// cumulative returns the running sums of xs (clamped at 0) and of the
// exposures w, each with a leading 0.
func cumulative(xs, w []float64) (cx, cw []float64) {
	cx, cw = make([]float64, len(xs)+1), make([]float64, len(xs)+1)
	for i, x := range xs {
		cx[i+1] = cx[i] + max(x, 0)
		cw[i+1] = cw[i] + w[i]
	}
	return cx, cw
}

// poissonBinseg is binary segmentation of daily counts (with exposures w)
// by the Poisson likelihood ratio: split where it is largest, keep the
// split if it reaches poissonLR, recurse into both halves.
func poissonBinseg(xs, w []float64) []int {
	cx, cw := cumulative(xs, w)
	var out []int
	var rec func(lo, hi, depth int)
	rec = func(lo, hi, depth int) {
		if hi-lo < 2*minSegment || depth > 32 {
			return
		}
		bestK, best := -1, 0.0
		for k := lo + minSegment; k <= hi-minSegment; k++ {
			lr := poissonSplitLR(cx[k]-cx[lo], cw[k]-cw[lo], cx[hi]-cx[k], cw[hi]-cw[k])
			if lr > best {
				bestK, best = k, lr
			}
		}
		if bestK < 0 || best < poissonLR {
			return
		}
		out = append(out, bestK)
		rec(lo, bestK, depth+1)
		rec(bestK, hi, depth+1)
	}
	rec(0, len(xs), 0)
	sort.Ints(out)
	return out
}

// refineCounts places a count shift detected at daily index i on the day
// within ±countRefineDays (and inside (lo, hi), the neighbouring
// detections) where the Poisson likelihood ratio of the days around it is
// largest. The tolerance is the span of days whose ratio is within
// countSlack of the best: at least a day (or Params.Tolerance), at most
// maxCountTol.
func (a *analysis) refineCounts(i, lo, hi int) shiftEst {
	// The neighbourhood compared: up to four weeks either side.
	from, to := max(lo, i-28), min(hi, i+28)
	cx, cw := cumulative(a.xs[from:to], a.cw[from:to])
	lr := func(k int) float64 {
		k -= from
		return poissonSplitLR(cx[k], cw[k], cx[len(cx)-1]-cx[k], cw[len(cw)-1]-cw[k])
	}
	kLo, kHi := max(from+minSegment, i-countRefineDays), min(to-minSegment, i+countRefineDays)
	bestK, best := i, -1.0
	for k := kLo; k <= kHi; k++ {
		if v := lr(k); v > best {
			bestK, best = k, v
		}
	}
	est := shiftEst{at: dayStart(a.days[bestK]), tol: max(a.p.Tolerance, day), score: best}
	if best < 0 {
		return est
	}
	span := 0
	for k := kLo; k <= kHi; k++ {
		if best-lr(k) <= countSlack {
			span = max(span, k-bestK, bestK-k)
		}
	}
	est.tol = min(max(est.tol, time.Duration(span)*day), maxCountTol)
	return est
}

// countShiftTimes detects shifts in a weekly count series.
func (a *analysis) countShiftTimes() []shiftEst {
	if len(a.xs) < 2*minSegment {
		return nil
	}
	idx := a.detectCounts()
	var out []shiftEst
	for n, i := range idx {
		if i <= 0 || i >= len(a.xs) {
			continue
		}
		lo, hi := 0, len(a.xs)
		if n > 0 {
			lo = idx[n-1]
		}
		if n+1 < len(idx) {
			hi = idx[n+1]
		}
		est := a.refineCounts(i, lo, hi)
		if len(out) > 0 && est.at.Sub(out[len(out)-1].at) <= out[len(out)-1].tol {
			if est.score > out[len(out)-1].score {
				out[len(out)-1] = est // two proposals, one shift: the clearer split
			}
			continue
		}
		out = append(out, est)
	}
	return out
}

func floorDay(t time.Time) time.Time { return dayStart(dayOf(t)) }

func ceilDay(t time.Time) time.Time {
	f := floorDay(t)
	if f.Equal(t) {
		return f
	}
	return f.Add(day)
}

// exposure is the weekday-weighted number of the series' days in
// [from, to) (whole days).
func (a *analysis) exposure(from, to time.Time) float64 {
	if len(a.days) == 0 {
		return 0
	}
	i0 := max(0, int(dayOf(from)-a.days[0]))
	i1 := min(len(a.cw), int(dayOf(to)-a.days[0]))
	e := 0.0
	for i := i0; i < i1; i++ {
		e += a.cw[i]
	}
	return e
}

// countIn sums the values of the samples in [from, to).
func (a *analysis) countIn(from, to time.Time) float64 {
	t := 0.0
	for _, x := range a.window(from, to) {
		t += x.Value
	}
	return t
}

// measureCounts is measure for weekly count series; see the comment at
// the top of this file.
func (a *analysis) measureCounts(beforeEnd, afterStart time.Time) (measurement, string) {
	var m measurement
	W := max(a.p.Window, countWindow)
	need := min(minCountAfter, W)
	if len(a.days) == 0 {
		m.why = "no data"
		return m, VerdictTooLittleData
	}
	first := dayStart(a.days[0])
	end := floorDay(a.end) // a day is counted once complete
	be := floorDay(beforeEnd)
	bs := later(be.Add(-W), first)
	as := ceilDay(afterStart)
	ae := as.Add(W)
	if ae.After(end) {
		ae = end
	}
	if be.Sub(bs) < need || ae.Sub(as) < need {
		m.why = "the windows hold " + humanDur(max(be.Sub(bs), 0)) + " and " + humanDur(max(ae.Sub(as), 0)) + " of data; each needs " + humanDur(need)
		return m, VerdictTooLittleData
	}
	m.bw = model.Window{Start: bs.UTC(), End: be.UTC()}
	m.aw = model.Window{Start: as.UTC(), End: ae.UTC()}
	// Exposures in days, weighted by weekday (whole weeks: 7 a week).
	m.expB, m.expA = a.exposure(bs, be), a.exposure(as, ae)
	m.cb, m.ca = a.countIn(bs, be), a.countIn(as, ae)
	if m.expB <= 0 || m.expA <= 0 {
		m.why = "no exposure in a window"
		return m, VerdictTooLittleData
	}
	m.before, m.after = m.cb/(m.expB/7), m.ca/(m.expA/7)
	if !(m.before > 0) {
		m.why = "no events before, so there is no relative change"
		return m, VerdictTooSmall
	}
	m.change = (m.after - m.before) / m.before
	if math.Abs(m.change) < a.p.MinChange {
		m.why = fmt.Sprintf("a change of %s, under min_change %s", signedPct(m.change), pctOf(a.p.MinChange))
		return m, VerdictTooSmall
	}

	// Whole weeks of each window, for the dispersion and "sustained".
	weeksB := a.weeksBack(bs, be)
	weeksA := a.weeksFrom(as, ae)
	m.phi = dispersion(weeksB, weeksA)
	m.p = poissonRateTest(m.cb/m.phi, m.expB, m.ca/m.phi, m.expA)
	if !(m.p < a.p.Alpha) {
		m.why = fmt.Sprintf("exact Poisson rate test p = %s, not below alpha %g", formatP(m.p), a.p.Alpha)
		return m, VerdictNotSignificant
	}
	m.mid = (m.before + m.after) / 2
	m.na = len(weeksA)
	m.nb = len(weeksB)
	for _, v := range weeksA {
		if (m.after > m.before) == (v > m.mid) && v != m.mid {
			m.held++
		}
	}
	if m.na == 0 || float64(m.held) < math.Ceil(heldFraction*float64(m.na)) {
		m.why = fmt.Sprintf("only %d of %d weeks after the settle stayed beyond the midpoint: the rate did not hold", m.held, m.na)
		return m, VerdictNotSustained
	}
	m.rawBefore, m.rawAfter = m.before, m.after
	m.improvement = (m.change < 0) == a.lower
	return m, ""
}

// weeksBack cuts [from, to) into whole weeks backwards from to and
// returns each week's count, earliest first.
func (a *analysis) weeksBack(from, to time.Time) []float64 {
	var out []float64
	for e := to; !e.Add(-week).Before(from); e = e.Add(-week) {
		out = append(out, a.countIn(e.Add(-week), e))
	}
	slices.Reverse(out)
	return out
}

// weeksFrom cuts [from, to) into whole weeks forwards from from and
// returns each week's count.
func (a *analysis) weeksFrom(from, to time.Time) []float64 {
	var out []float64
	for s := from; !s.Add(week).After(to); s = s.Add(week) {
		out = append(out, a.countIn(s, s.Add(week)))
	}
	return out
}

// dispersion is the Pearson dispersion of weekly counts around each
// window's own mean, pooled over the windows (1 when there is nothing to
// estimate it from, and never below 1).
func dispersion(groups ...[]float64) float64 {
	chi, df := 0.0, 0
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		mean := sum(g) / float64(len(g))
		if mean <= 0 {
			continue
		}
		for _, x := range g {
			chi += (x - mean) * (x - mean) / mean
		}
		df += len(g) - 1
	}
	if df == 0 {
		return 1
	}
	return max(1, chi/float64(df))
}

// poissonRateTest is the two-sided exact conditional test of equal rates
// for cb events over exposure eb and ca over ea: given n = cb + ca, ca is
// Binomial(n, ea/(eb+ea)) under the null. Non-integer counts (after a
// dispersion correction) are rounded.
func poissonRateTest(cb, eb, ca, ea float64) float64 {
	nb, na := int(math.Round(cb)), int(math.Round(ca))
	if nb < 0 || na < 0 || eb <= 0 || ea <= 0 {
		return 1
	}
	return binomTwoSided(na, nb+na, ea/(eb+ea))
}

// binomTwoSided is the two-sided exact binomial p-value of k successes in
// n trials with success probability p: the total probability of the
// outcomes no more likely than k (R's binom.test).
func binomTwoSided(k, n int, p float64) float64 {
	if n == 0 {
		return 1
	}
	if p <= 0 || p >= 1 {
		if (p <= 0 && k == 0) || (p >= 1 && k == n) {
			return 1
		}
		return 0
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	lp, lq := math.Log(p), math.Log1p(-p)
	logPMF := func(i int) float64 {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		return lgN - a - b + float64(i)*lp + float64(n-i)*lq
	}
	obs := logPMF(k)
	const relErr = 1 + 1e-7
	total := 0.0
	for i := 0; i <= n; i++ {
		if l := logPMF(i); l <= obs+math.Log(relErr) {
			total += math.Exp(l)
		}
	}
	return min(1, total)
}
