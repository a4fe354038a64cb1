// Package changepoint finds sustained level shifts (change points) in a
// univariate series. It is pure: no I/O, no randomness, no global state, and
// the result depends only on the input.
//
// # Model
//
// Between change points the series follows a local level model
//
//	y_t = μ_t + ε_t,   ε_t ~ N(0, s²·r)     (noise)
//	μ_{t+1} = μ_t + η_t,  η_t ~ N(0, s²·q)  (slow random-walk wander)
//
// and at a change point the level μ restarts from a diffuse (unknown) value
// and the segment's variance scale s² may change (it is at least the
// series-wide value, so quiet stretches cannot be "explained" by a tiny
// variance). Allowing slow wander is what keeps autocorrelated, drifting or
// trending series (random walks, prices, populations, slowly degrading
// latency) from being chopped into dozens of spurious steps: only jumps that
// are abrupt relative to the wander are change points.
//
// # Procedure
//
//  1. NaN/±Inf values are gaps and are dropped (indices are mapped back).
//  2. The series is scaled by a robust noise SD (MAD of first differences)
//     and spikes of up to three points are replaced by the local median
//     (Hampel identifier: window ±3, threshold 3 robust SDs of the nearby
//     residuals from the local median). Steps survive this filter; incident
//     spikes do not.
//  3. For each wander-to-noise ratio λ = q/r on a log grid (0, 1e-4 … 100)
//     the change points minimising
//     −2·log restricted likelihood (a Kalman filter per segment)
//     + Penalty·log(n) per change point (+ 2·log(n) if λ > 0)
//     are found exactly by optimal partitioning with segments of at least
//     MinSegment points; the λ with the least total is kept. So whether a
//     jump is a level shift or part of the series' wander is decided by the
//     likelihood.
//  4. Each change point gets a likelihood-ratio p-value for its two adjacent
//     segments against one merged segment; change points with p ≥ Alpha are
//     removed, weakest first.
//  5. A common linear drift is then estimated by Theil–Sen from pairs of
//     points in the same segment (so the shifts do not bias it) and removed,
//     and steps 2–5 repeat until the change points no longer move (at most
//     four passes). A steady trend is therefore not cut into steps.
//
// Cost: O(n²) Kalman steps per λ and pass; about 25 ms for n = 400 and
// 0.2 s for n = 1000 on one core. Series longer
// than 3000 points are first reduced to medians of blocks of ⌈n/1500⌉
// points; change points found on the blocks are then placed exactly within
// ±1 block on the raw points.
package changepoint

import (
	"math"
	"slices"
)

// Options tunes Detect. The zero value selects the defaults.
type Options struct {
	// MinSegment is the minimum number of (non-gap) points per segment.
	// Default 5.
	MinSegment int
	// Alpha is the significance level a change point must reach to be
	// reported. Default 0.01. The penalty usually dominates (with n ≥ 25
	// points the default penalty implies roughly p < 0.01), so lowering
	// Penalty, not raising Alpha, is how to get more change points; Alpha
	// matters for short series and as a stricter filter.
	Alpha float64
	// Penalty is the cost per change point in units of log(n) (n = number
	// of non-gap points), i.e. a BIC weight. Default 3: BIC for the three
	// parameters a change point adds (position, level, variance scale).
	// Larger values report fewer, larger shifts.
	Penalty float64
}

// Point is one detected change point.
type Point struct {
	Index  int     // index in xs of the first point of the new segment
	Before float64 // median of the segment before
	After  float64 // median of the segment after
	// PValue is the likelihood-ratio p-value (χ², 2 df: level and scale) of
	// the two adjacent segments against a single merged segment under the
	// fitted model. It allows for the series' wander and autocorrelation,
	// but not for the search over positions, so treat it as a measure of
	// strength rather than a calibrated error rate.
	PValue float64
}

const (
	defaultMinSegment = 5
	defaultAlpha      = 0.01
	defaultPenalty    = 3

	// lambdaPenalty is the extra cost, in units of log(n), of letting the
	// level wander (λ > 0): stable-level-plus-shifts is the simpler model
	// and is preferred unless the wander is clearly supported.
	lambdaPenalty = 2

	hampelHalf = 3 // Hampel identifier window: ±3 points
	hampelK    = 3 // … and threshold: 3 robust SDs
	// hampelScaleWin is the half-width of the window over which the Hampel
	// identifier's robust SD is measured.
	hampelScaleWin = 15
	maxPasses      = 4 // drift / segmentation alternations

	maxDirect = 3000 // longer series are reduced to block medians
	blockTo   = 1500 // … of about this many blocks
)

func (o Options) withDefaults() Options {
	if o.MinSegment <= 0 {
		o.MinSegment = defaultMinSegment
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		o.Alpha = defaultAlpha
	}
	if !(o.Penalty > 0) || math.IsInf(o.Penalty, 0) {
		o.Penalty = defaultPenalty
	}
	return o
}

// Detect returns the change points of xs sorted by Index. NaN and ±Inf
// values are gaps: they are skipped, and a change point that follows a gap
// has the index of the first non-gap point of the new segment. A series with
// fewer than 2·MinSegment non-gap points, or a constant one, has no change
// points (nil).
func Detect(xs []float64, o Options) []Point {
	o = o.withDefaults()
	ys := make([]float64, 0, len(xs))
	pos := make([]int, 0, len(xs))
	for i, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			ys = append(ys, x)
			pos = append(pos, i)
		}
	}
	n := len(ys)
	if n < 2*o.MinSegment {
		return nil
	}
	work := ys
	if a := maxAbs(ys); a > 1e100 || a > 0 && a < 1e-100 {
		// The method is scale-invariant; keep differences finite.
		work = make([]float64, n)
		for i, y := range ys {
			work[i] = y / a
		}
	}
	var cps []int
	var ps []float64
	if n > maxDirect {
		cps, ps = detectBlocks(work, o)
	} else {
		cps, ps = detect(work, o)
	}
	if len(cps) == 0 {
		return nil
	}
	out := make([]Point, len(cps))
	bounds := append(append([]int{0}, cps...), n)
	for k, c := range cps {
		out[k] = Point{
			Index:  pos[c],
			Before: median(ys[bounds[k]:c]),
			After:  median(ys[c:bounds[k+2]]),
			PValue: ps[k],
		}
	}
	return out
}

// detect returns the change points of ys (indices of the first points of
// new segments) and their p-values.
func detect(ys []float64, o Options) ([]int, []float64) {
	n := len(ys)
	beta := o.Penalty * math.Log(float64(n))
	var cps []int
	var ps []float64
	lo, hi := 0, len(lambdas)
	for pass := 0; pass < maxPasses; pass++ {
		seg := segmentIDs(n, cps)
		slope := 0.0
		if pass > 0 {
			slope = theilSen(ys, seg)
		}
		work := make([]float64, n)
		for i, y := range ys {
			work[i] = y - slope*float64(i)
		}
		zs, ok := standardize(work, seg)
		if !ok {
			return nil, nil // constant series
		}
		zs = hampel(zs, hampelHalf, hampelK)
		m, next, li := selectModel(zs, beta, o.MinSegment, lo, hi)
		next, ps = m.pruneInsignificant(zs, next, o.Alpha)
		// Later passes only refine λ around the previous choice.
		lo, hi = max(0, li-2), min(len(lambdas), li+3)
		done := pass > 0 && slices.Equal(next, cps)
		cps = next
		if done {
			break
		}
	}
	return cps, ps
}

// detectBlocks runs detect on medians of blocks of b points and then places
// each change point exactly, within ±b points, where the two-sample z
// statistic between the neighbouring segments is largest.
func detectBlocks(ys []float64, o Options) ([]int, []float64) {
	n := len(ys)
	b := (n + blockTo - 1) / blockTo
	nb := (n + b - 1) / b
	blocks := make([]float64, nb)
	for i := range blocks {
		blocks[i] = median(ys[i*b : min(n, (i+1)*b)])
	}
	bo := o
	bo.MinSegment = max(2, (o.MinSegment+b-1)/b)
	bcps, ps := detect(blocks, bo)
	cps := make([]int, len(bcps))
	for k, c := range bcps {
		lo := c*b - b
		if k > 0 {
			lo = max(lo, cps[k-1]+o.MinSegment)
		}
		lo = max(lo, o.MinSegment)
		next := n
		if k+1 < len(bcps) {
			next = bcps[k+1] * b
		}
		hi := min(c*b+b, next-o.MinSegment, n-o.MinSegment)
		left := 0
		if k > 0 {
			left = cps[k-1]
		}
		best, arg := -1.0, c*b
		for t := lo; t <= hi; t++ {
			if z := twoSampleZ(ys[left:t], ys[t:next]); z > best {
				best, arg = z, t
			}
		}
		cps[k] = arg
	}
	return cps, ps
}

// twoSampleZ is |mean(a) − mean(b)|·√(|a||b|/(|a|+|b|)), the mean-shift
// statistic up to the (common) noise scale.
func twoSampleZ(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return -1
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	na, nb := float64(len(a)), float64(len(b))
	return math.Abs(mean(a)-mean(b)) * math.Sqrt(na*nb/(na+nb))
}

// standardize returns (ys − median)/s with s the robust SD of the
// within-segment first differences over √2 (the noise SD if the series were
// white noise around a constant level). ok is false for a constant series.
func standardize(ys []float64, seg []int) ([]float64, bool) {
	d := make([]float64, 0, len(ys))
	for i := 1; i < len(ys); i++ {
		if seg[i] == seg[i-1] {
			d = append(d, ys[i]-ys[i-1])
		}
	}
	sc := robustSD(d) / math.Sqrt2
	if !(sc > 0) {
		return nil, false
	}
	med := median(ys)
	zs := make([]float64, len(ys))
	for i, y := range ys {
		zs[i] = (y - med) / sc
	}
	return zs, true
}

// lambdas is the grid of wander-to-noise variance ratios λ = q/r searched.
var lambdas = func() []float64 {
	l := []float64{0}
	for e := -8; e <= 4; e++ {
		l = append(l, math.Pow(10, float64(e)/2))
	}
	return l
}()

// selectModel chooses λ = q/r among lambdas[lo:hi] by penalised likelihood
// jointly with the segmentation: for each λ (with 2r + q = 2, the variance
// of the standardised first differences) it segments zs and keeps the λ
// whose segmentation has the least total cost, λ > 0 costing an extra
// lambdaPenalty·log(n). It returns the model, the change points and the
// index of the chosen λ.
func selectModel(zs []float64, beta float64, minSeg, lo, hi int) (model, []int, int) {
	var bestM model
	var bestCps []int
	best, bestI := math.Inf(1), lo
	for i := lo; i < hi; i++ {
		l := lambdas[i]
		r := 2 / (2 + l)
		m := model{r: r, q: l * r}
		cps, cost := m.segment(zs, beta, minSeg)
		if l > 0 {
			cost += lambdaPenalty * math.Log(float64(len(zs)))
		}
		if cost < best {
			best, bestM, bestCps, bestI = cost, m, cps, i
		}
	}
	return bestM, bestCps, bestI
}

// hampel replaces points further than k robust SDs from the median of
// their ±half window by that median. The SD is that of the residuals from
// the local medians within ±hampelScaleWin points, so it follows changes in
// the noise level. A step survives (each point is on the majority side of
// its own window); a spike of up to half points does not.
func hampel(ys []float64, half int, k float64) []float64 {
	n := len(ys)
	med := make([]float64, n)
	res := make([]float64, n)
	w := make([]float64, 0, 2*hampelScaleWin+1)
	for i := range ys {
		lo, hi := max(0, i-half), min(n, i+half+1)
		w = append(w[:0], ys[lo:hi]...)
		med[i] = median(w)
		res[i] = ys[i] - med[i]
	}
	out := append([]float64(nil), ys...)
	for i := range ys {
		lo, hi := max(0, i-hampelScaleWin), min(n, i+hampelScaleWin+1)
		if th := k * robustSD(res[lo:hi]); th > 0 && math.Abs(res[i]) > th {
			out[i] = med[i]
		}
	}
	return out
}
