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
//  2. r and q are estimated robustly from the variogram of the series
//     (median absolute deviation of lag-k differences, k = 1..20, whose
//     expectation is 2r + k·q), so sparse shifts and spikes barely affect
//     them.
//  3. Spikes of up to three points are replaced by the local median (Hampel
//     identifier, window ±3, threshold 3 robust SDs of the residual from the
//     local median). Steps survive this filter; isolated incident spikes do
//     not.
//  4. The change points minimise −2·log restricted likelihood (Kalman filter
//     per segment) + Penalty·log(n) per change point, with segments of at
//     least MinSegment points: exact optimal partitioning (O(n²) filter
//     steps), with PELT pruning for long series.
//  5. Each change point gets a likelihood-ratio p-value comparing its two
//     adjacent segments against one merged segment; change points with
//     p ≥ Alpha are removed, weakest first.
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
	// reported. Default 0.01. The penalty usually dominates: with n ≥ 25
	// points the default penalty already implies p < 0.01, so lowering
	// Penalty (not raising Alpha) is how to get more change points.
	Alpha float64
	// Penalty is the cost per change point in units of log(n) (n = number
	// of non-gap points), i.e. the BIC weight. Default 3: BIC for the three
	// parameters a change point adds (position, level, variance scale).
	// Larger values find fewer, larger shifts.
	Penalty float64
}

// Point is one detected change point.
type Point struct {
	Index  int     // index in xs of the first point of the new segment
	Before float64 // median of the segment before
	After  float64 // median of the segment after
	// PValue is the likelihood-ratio p-value (χ², 2 df: level and scale) of
	// the two adjacent segments against a single merged segment under the
	// fitted model. It allows for the series' slow wander and
	// autocorrelation, but not for the search over positions, so treat it
	// as a ranking of strength rather than a calibrated error rate.
	PValue float64
}

var detrend = true

// passes bounds the alternation between estimating the drift and noise
// model and segmenting.
const passes = 4

// minPairs is the fewest within-segment differences a variogram lag needs.
const minPairs = 8

// pruneAbove is the series length above which PELT pruning is used (a
// variable for tests).
var pruneAbove = 2000

const (
	defaultMinSegment = 5
	defaultAlpha      = 0.01
	defaultPenalty    = 3

	variogramLags = 20 // lags used to estimate the noise and wander
	hampelHalf    = 3  // Hampel identifier window: ±3 points
	hampelK       = 3  // … and threshold: 3 robust SDs

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
	// Coordinate descent on the common drift and the segmentation: detrend
	// with the robust (Theil–Sen) slope, segment, re-estimate the slope from
	// within-segment pairs only (so the shifts do not bias it), segment again.
	var (
		m   model
		zs  []float64
		cps []int
		ps  []float64
	)
	for pass := 0; pass < passes; pass++ {
		seg := segmentIDs(n, cps)
		slope := 0.0
		if detrend && pass > 0 {
			slope = theilSen(ys, seg)
		}
		work := make([]float64, n)
		for i, y := range ys {
			work[i] = y - slope*float64(i)
		}
		var ok bool
		zs, ok = standardize(work, seg)
		if !ok {
			return nil // constant series
		}
		zs = hampel(zs, hampelHalf, hampelK)
		beta := o.Penalty * math.Log(float64(n))
		prev := cps
		if selectMode == 1 {
			m, cps = selectModel(zs, beta, o.MinSegment)
		} else {
			r, q := fitVariogram(zs, seg)
			m = model{r: r, q: q}
			cps, _ = m.segment(zs, beta, o.MinSegment)
		}
		cps, ps = m.pruneInsignificant(zs, cps, o.Alpha)
		if debugf != nil {
			debugf("pass %d slope %.4g model %+v cps %v", pass, slope, m, cps)
		}
		if pass > 0 && slices.Equal(prev, cps) {
			break // converged
		}
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

var selectMode = 1

var lambdaPenalty = 1.0

var debugf func(string, ...any)

// lambdas is the grid of wander-to-noise variance ratios q/r searched.
var lambdas = func() []float64 {
	l := []float64{0}
	for e := -4.0; e <= 2.001; e += 0.5 {
		l = append(l, math.Pow(10, e))
	}
	return l
}()

// selectModel chooses the ratio λ = q/r by penalised likelihood jointly with
// the segmentation: for each λ on the grid (with 2r + q = 2, the variance of
// the standardised first differences), segment and keep the λ whose
// segmentation has the least total cost. Whether a jump is a level shift or
// part of the series' wander is thus decided by the likelihood, not by a
// separate estimate that the shifts themselves would bias.
func selectModel(zs []float64, beta float64, minSeg int) (model, []int) {
	var bestM model
	var bestCps []int
	best := math.Inf(1)
	for _, l := range lambdas {
		r := 2 / (2 + l)
		m := model{r: r, q: l * r}
		cps, cost := m.segment(zs, beta, minSeg)
		if l > 0 {
			cost += lambdaPenalty * math.Log(float64(len(zs)))
		}
		if cost < best {
			best, bestM, bestCps = cost, m, cps
		}
	}
	return bestM, bestCps
}

// fitVariogram fits r, q ≥ 0 to the robust variogram of ys, using only
// differences within a segment (seg[i] is the segment of point i): the spread of
// y_{t+k} − y_t is 2r + k·q under the model. The fit is least squares on
// relative errors over k = 1..K with K = min(20, (n−1)/4).
func fitVariogram(ys []float64, seg []int) (r, q float64) {
	n := len(ys)
	K := max(1, min(variogramLags, (n-1)/4))
	buf := make([]float64, 0, n)
	type obs struct{ k, v float64 }
	var rows []obs
	for k := 1; k <= K; k++ {
		buf = buf[:0]
		for t := 0; t+k < n; t++ {
			if seg[t] == seg[t+k] {
				buf = append(buf, ys[t+k]-ys[t])
			}
		}
		if len(buf) < minPairs {
			continue
		}
		if s := robustSD(buf); s > 0 {
			rows = append(rows, obs{float64(k), s * s})
		}
	}
	if len(rows) == 0 {
		return 0, 0
	}
	// Weighted least squares for v ≈ a + b·k with weights 1/v², subject to
	// a, b ≥ 0: try the full fit, then each one-parameter fit.
	best := math.Inf(1)
	try := func(a, b float64) {
		if a < 0 || b < 0 || math.IsNaN(a+b) {
			return
		}
		e := 0.0
		for _, o := range rows {
			d := (a + b*o.k - o.v) / o.v
			e += d * d
		}
		if e < best {
			best, r, q = e, a/2, b
		}
	}
	var s00, s01, s11, t0, t1 float64
	for _, o := range rows {
		w := 1 / (o.v * o.v)
		s00 += w
		s01 += w * o.k
		s11 += w * o.k * o.k
		t0 += w * o.v
		t1 += w * o.v * o.k
	}
	if det := s00*s11 - s01*s01; det > 0 {
		try((t0*s11-t1*s01)/det, (s00*t1-s01*t0)/det)
	}
	try(t0/s00, 0)
	try(0, t1/s11)
	return r, q
}

// hampel replaces points further than k robust SDs (of all residuals from
// the local median) from the median of their ±half window by that median.
// A step survives (the window median switches sides with it); a spike of up
// to half points does not.
func hampel(ys []float64, half int, k float64) []float64 {
	n := len(ys)
	med := make([]float64, n)
	res := make([]float64, n)
	w := make([]float64, 0, 2*half+1)
	for i := range ys {
		lo, hi := max(0, i-half), min(n, i+half+1)
		w = append(w[:0], ys[lo:hi]...)
		med[i] = median(w)
		res[i] = ys[i] - med[i]
	}
	th := k * robustSD(res)
	out := append([]float64(nil), ys...)
	if th <= 0 {
		return out
	}
	for i := range ys {
		if math.Abs(res[i]) > th {
			out[i] = med[i]
		}
	}
	return out
}
