// Package changepoint finds sustained level shifts (change points) in a
// univariate series. It is pure: no I/O, no randomness, no global state.
//
// Method: isolated outlier spikes are damped with a Hampel filter, then the
// series is segmented by exact penalised least squares (optimal partitioning /
// PELT) with a penalty proportional to σ²·log n, where σ is a robust noise
// scale estimated from the median absolute first difference. Adjacent
// segments whose levels do not differ significantly (Mann–Whitney U, with the
// variance inflated for lag-1 autocorrelation) are merged, weakest first,
// until every reported change point has p < Alpha.
package changepoint

import (
	"math"
	"sort"
)

// Options tunes Detect. The zero value selects the defaults.
type Options struct {
	// MinSegment is the minimum number of (non-NaN) points per segment.
	// Default 5.
	MinSegment int
	// Alpha is the significance level a change point must reach to be
	// reported (two-sided Mann–Whitney p-value between the adjacent
	// segments). Default 0.01.
	Alpha float64
	// Penalty multiplies σ²·log(n) in the segmentation cost. Default 3
	// (close to the modified BIC for a change in mean). Larger values find
	// fewer, larger shifts.
	Penalty float64
}

// Point is one detected change point.
type Point struct {
	Index  int     // index in xs of the first point of the new segment
	Before float64 // median of the segment before
	After  float64 // median of the segment after
	PValue float64 // two-sided p-value for the difference of the two segments
}

const (
	defaultMinSegment = 5
	defaultAlpha      = 0.01
	defaultPenalty    = 3
)

func (o Options) withDefaults() Options {
	if o.MinSegment <= 0 {
		o.MinSegment = defaultMinSegment
	}
	if o.Alpha <= 0 || o.Alpha >= 1 || math.IsNaN(o.Alpha) {
		o.Alpha = defaultAlpha
	}
	if o.Penalty <= 0 || math.IsNaN(o.Penalty) || math.IsInf(o.Penalty, 0) {
		o.Penalty = defaultPenalty
	}
	return o
}

// Detect returns the change points of xs sorted by Index. NaN (and ±Inf)
// values are gaps: they are skipped, and a change point reported after a gap
// has the index of the first non-gap point of the new segment. A series with
// fewer than 2·MinSegment non-gap points has no change points (nil).
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
	sigma := noiseScale(ys)
	if sigma == 0 {
		// Piecewise exactly constant data (e.g. counters that rarely move):
		// any change is real; use a tiny scale relative to the data.
		sigma = 1e-9 * (1 + maxAbs(ys))
	}
	clean := hampel(ys, 3, 3*sigma)
	beta := o.Penalty * math.Log(float64(n))
	cps := segment(clean, sigma, beta, o.MinSegment)
	rho := residualAutocorr(ys, cps)
	cps = mergeInsignificant(ys, cps, o.Alpha, rho)
	if len(cps) == 0 {
		return nil
	}
	out := make([]Point, len(cps))
	bounds := append(append([]int{0}, cps...), n)
	for k, c := range cps {
		a, b := ys[bounds[k]:c], ys[c:bounds[k+2]]
		out[k] = Point{Index: pos[c], Before: median(a), After: median(b), PValue: mannWhitneyP(a, b, rho)}
	}
	return out
}

// noiseScale estimates the standard deviation of the noise around a
// piecewise-constant level from the first differences: MAD(diff)/√2 scaled to
// be consistent for Gaussian noise. Level shifts and trends affect only a few
// differences (or shift them all equally) and so barely affect it.
func noiseScale(ys []float64) float64 {
	if len(ys) < 2 {
		return 0
	}
	d := make([]float64, len(ys)-1)
	for i := range d {
		d[i] = ys[i+1] - ys[i]
	}
	m := median(d)
	for i := range d {
		d[i] = math.Abs(d[i] - m)
	}
	return 1.4826 * median(d) / math.Sqrt2
}

// hampel replaces points further than thresh from the median of their
// ±half window by that median. Steps survive (a window median follows a
// step once half the window is past it); single spikes do not.
func hampel(ys []float64, half int, thresh float64) []float64 {
	out := append([]float64(nil), ys...)
	if thresh <= 0 {
		return out
	}
	w := make([]float64, 0, 2*half+1)
	for i := range ys {
		lo, hi := max(0, i-half), min(len(ys), i+half+1)
		w = append(w[:0], ys[lo:hi]...)
		m := median(w)
		if math.Abs(ys[i]-m) > thresh {
			out[i] = m
		}
	}
	return out
}

// segment returns the optimal change points (indices into ys, each the
// first index of a new segment) minimising Σ SSE/σ² + β per change, with
// every segment at least minSeg long. It uses optimal partitioning with PELT
// pruning.
func segment(ys []float64, sigma, beta float64, minSeg int) []int {
	n := len(ys)
	// Standardise for numerical stability.
	mu := median(ys)
	s1 := make([]float64, n+1)
	s2 := make([]float64, n+1)
	for i, y := range ys {
		z := (y - mu) / sigma
		s1[i+1] = s1[i] + z
		s2[i+1] = s2[i] + z*z
	}
	cost := func(a, b int) float64 { // SSE of ys[a:b] in σ² units
		l := float64(b - a)
		s := s1[b] - s1[a]
		c := s2[b] - s2[a] - s*s/l
		if c < 0 {
			return 0
		}
		return c
	}
	F := make([]float64, n+1)
	prev := make([]int, n+1)
	for i := range F {
		F[i] = math.Inf(1)
	}
	F[0] = -beta
	// Candidates for the start of the last segment. Without pruning this is
	// exact optimal partitioning, O(n²); above exactLimit points PELT pruning
	// (exact without a minimum segment length, near-exact with one) keeps
	// it roughly linear.
	prune := n > exactLimit
	cands := []int{0}
	for t := minSeg; t <= n; t++ {
		best, arg := math.Inf(1), -1
		for _, s := range cands {
			if t-s < minSeg {
				continue
			}
			if v := F[s] + cost(s, t) + beta; v < best {
				best, arg = v, s
			}
		}
		F[t], prev[t] = best, arg
		if prune {
			kept := cands[:0]
			for _, s := range cands {
				if t-s < minSeg || F[s]+cost(s, t) <= F[t] {
					kept = append(kept, s)
				}
			}
			cands = kept
		}
		cands = append(cands, t)
	}
	return backtrack(prev, n)
}

const exactLimit = 5000

func backtrack(prev []int, n int) []int {
	var cps []int
	for t := n; t > 0; {
		s := prev[t]
		if s <= 0 {
			break
		}
		cps = append(cps, s)
		t = s
	}
	sort.Ints(cps)
	return cps
}
