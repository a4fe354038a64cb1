package drafter

import (
	"math"
	"slices"

	"github.com/aclements/go-moremath/stats"
)

// A draft needs a step: a change concentrated around one point in time,
// not a level that drifts across the windows (organic growth, a random
// walk, a slow change of season). The window medians of a series that
// climbs 1.5% a day differ by 13% over a week and a settle, and a rank
// test on them is significant, yet nothing happened at the go-live.
//
// So the change a shift's windows measure is compared with the changes
// the same windows measure everywhere else in the series' history — a
// placebo test. At every day k away from the shift, the placebo change is
// log(median of the Window days after k + gap ÷ median of the Window days
// before k), on the daily values with the weekly cycle removed (gap is
// the distance between the shift's windows, in whole days). Positions
// whose windows overlap the shift's are left out.
//
//   - Organic growth or decay moves every placebo by the same amount: the
//     median placebo change P̃ is the trend's share over the windows, and
//     the change at the shift minus P̃ — the step — is about zero.
//   - A random walk spreads the placebos widely: the change at the shift is
//     one of many like it.
//   - A step stands out: step = D − P̃ (D the log change between the
//     shift's window medians) is far out in the placebo distribution.
//
// How far apart two such windows lie when nothing happened comes from the
// local-level model (a random walk plus noise, the model the detector
// uses) fitted to the series' day-to-day variation (see localLevel and
// placeboSD): for a random walk it is wide, for a steady series narrow.
// The shift is a step when |step| is at least zα of those standard
// deviations (zα the two-sided normal quantile of Alpha, 2.58 at 0.01), in the
// direction of D, and at least MinChange by itself (e^step − 1). This
// ratio is the step's sharpness (Finding.StepZ). A history too short to
// give minPlacebos placebos cannot be judged and is let through.
//
// Numbers: when the placebos show a trend — P̃ per day is significant at
// Alpha under the local-level model, and its share over the windows is at
// least a quarter of MinChange — the before and after medians are moved along it to the go-live
// (each by the trend's share over the distance from its window's middle),
// so the change reported is the step, and the trend's share never
// inflates it. Otherwise the numbers are the plain window medians (rule 4).
type stepTest struct {
	ok        bool    // enough placebos to judge
	n         int     // placebos
	d         float64 // log change between the shift's window medians
	trend     float64 // median placebo change (log): the trend's share over the windows
	scale     float64 // sd of such a change without a step, under the local-level model (log)
	step      float64 // d − trend, or d when the trend is not significant
	z         float64 // (d − trend) / scale
	trendSig  bool    // the sign test finds a trend
	wd, gap   int     // window and gap in days
	perDayLog float64 // trend per day (log)
}

// minPlacebos is the fewest placebo positions the step test needs.
const minPlacebos = 10

// placebo runs the step test for a shift whose windows span the daily
// indexes [b0, b1) and [a0, a1) of a.days (b1 ≤ a0), with d the log change
// between its window medians.
func (a *analysis) placebo(b0, b1, a0, a1 int, d float64) stepTest {
	wd := int(a.p.Window / day)
	gap := max(a0-b1, 0)
	st := stepTest{d: d, step: d, wd: wd, gap: gap}
	xs := a.dxs
	if wd < 2 || len(xs) < 2*wd+gap {
		return st
	}
	for _, x := range xs {
		if !(x > 0) {
			return st
		}
	}
	medW := a.windowMedians(wd)
	var ps []float64
	for k := wd; k+gap+wd <= len(xs); k++ {
		lo, hi := k-wd, k+gap+wd
		if hi > b0 && lo < a1 {
			continue // overlaps the shift's windows
		}
		ps = append(ps, math.Log(medW[k+gap]/medW[lo]))
	}
	st.n = len(ps)
	if len(ps) < minPlacebos {
		return st
	}
	st.ok = true
	st.trend = median(slices.Clone(ps))
	// How far apart would two such windows be without any step? The
	// local-level model (a random walk plus noise, fitted to the series'
	// day-to-day variation) says: sdPred.
	q, r := a.localLevel(wd)
	st.scale = placeboSD(q, r, wd, gap)
	if !(st.scale > 0) {
		st.scale = 1e-9
	}
	// Is the median placebo change a trend, or noise? Under the model the
	// change over N days of history estimates a drift per day with
	// variance q/N + 2r/N² (a median: × 1.2533²). The trend is removed when
	// it is significant at Alpha and material: its share over the windows
	// at least a quarter of MinChange (less moves a figure by about its
	// rounding).
	nd := float64(len(xs))
	perDay := st.trend / float64(wd+gap)
	se := 1.2533 * math.Sqrt(q/nd+2*r/(nd*nd))
	st.trendSig = math.Abs(perDay) >= zAlpha(a.p.Alpha)*se && math.Abs(math.Expm1(st.trend)) >= a.p.MinChange/4
	st.z = d / st.scale
	if st.trendSig {
		st.z = (d - st.trend) / st.scale
	}
	if st.trendSig {
		st.step = d - st.trend
		st.perDayLog = st.trend / float64(wd+gap)
	}
	return st
}

// windowMedians returns the median of every run of wd consecutive daily
// values with the weekly cycle removed (element i: dxs[i:i+wd]), computed
// once per series: every shift's step test reads the same ones.
func (a *analysis) windowMedians(wd int) []float64 {
	if a.medOK && a.wmed == wd {
		return a.medW
	}
	xs := a.dxs
	out := make([]float64, max(len(xs)-wd+1, 0))
	scratch := make([]float64, wd)
	for i := range out {
		out[i] = median(append(scratch[:0], xs[i:i+wd]...))
	}
	a.medW, a.wmed, a.medOK = out, wd, true
	return out
}

// zAlpha is the two-sided normal quantile of alpha (2.58 at 0.01).
func zAlpha(alpha float64) float64 {
	return stats.NormalDist{Mu: 0, Sigma: 1}.InvCDF(1 - alpha/2)
}

// dayIndex is the index of the first day of a.days at or after day d.
func (a *analysis) dayIndex(d int64) int {
	i, _ := slices.BinarySearch(a.days, d)
	return i
}

// localLevel fits the local-level model — a level that moves as a random
// walk with daily variance q, observed with noise of variance r — to the
// log daily values with the weekly cycle removed, by the robust variogram:
// for lags h = 1…maxLag, half the squared differences x[t+h] − x[t]
// (centred on their median, so a steady trend does not count) have median
// 0.4549·(r + q·h/2); a least-squares line through the lags gives r and q
// (both at least 0). Steps in the series are a few large differences the
// medians ignore.
func (a *analysis) localLevel(maxLag int) (q, r float64) {
	if a.levOK && a.wlev == maxLag {
		return a.levQ, a.levR
	}
	q, r = a.fitLocalLevel(maxLag)
	a.levQ, a.levR, a.wlev, a.levOK = q, r, maxLag, true
	return q, r
}

// fitLocalLevel is localLevel, computed.
func (a *analysis) fitLocalLevel(maxLag int) (q, r float64) {
	xs := a.dxs
	n := len(xs)
	lx := make([]float64, n)
	for i, x := range xs {
		lx[i] = math.Log(x)
	}
	var hs, gs []float64
	diffs := make([]float64, 0, n)
	for h := 1; h <= maxLag && h < n-2; h++ {
		diffs = diffs[:0]
		for i := 0; i+h < n; i++ {
			diffs = append(diffs, lx[i+h]-lx[i])
		}
		m := median(slices.Clone(diffs))
		for i := range diffs {
			d := diffs[i] - m
			diffs[i] = d * d
		}
		g := median(diffs) / 0.4549 / 2 // E[(x[t+h]−x[t])²]/2 = r + q·h/2
		hs = append(hs, float64(h))
		gs = append(gs, g)
	}
	if len(hs) < 2 {
		if len(gs) == 1 {
			return 0, gs[0]
		}
		return 0, 0
	}
	var mh, mg float64
	for i := range hs {
		mh += hs[i]
		mg += gs[i]
	}
	mh /= float64(len(hs))
	mg /= float64(len(hs))
	var sxy, sxx float64
	for i := range hs {
		sxy += (hs[i] - mh) * (gs[i] - mg)
		sxx += (hs[i] - mh) * (hs[i] - mh)
	}
	slope := max(sxy/sxx, 0)
	r = max(mg-slope*mh, 0)
	if r == 0 {
		// All of it is the walk: refit through the origin.
		var sg, sh float64
		for i := range hs {
			sg += gs[i] * hs[i]
			sh += hs[i] * hs[i]
		}
		slope = max(sg/sh, 0)
	}
	return 2 * slope, r
}

// placeboSD is the standard deviation of the log change between the
// medians of two windows of wd days, gap days apart, under the local-level
// model with walk variance q and noise variance r: noise contributes
// (π/2)·2r/wd (medians of wd values), and each daily step of the walk
// between the windows' first and last day its weight squared — the share of
// after days it moved minus the share of before days it moved.
func placeboSD(q, r float64, wd, gap int) float64 {
	v := math.Pi / 2 * 2 * r / float64(wd)
	// Days: before −wd…−1, after gap…gap+wd−1; a step s moves day t when t ≥ s.
	for s := -wd + 1; s <= gap+wd-1; s++ {
		after := 1.0
		if s > gap {
			after = float64(gap+wd-s) / float64(wd)
		}
		before := 0.0
		if s <= 0 {
			before = float64(-s) / float64(wd)
		}
		c := after - before
		v += q * c * c
	}
	return math.Sqrt(v)
}
