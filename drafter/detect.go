package drafter

import (
	"math"
	"sort"
)

// minSegment is the fewest daily values on either side of a detected shift.
const minSegment = 3

// detectZ is the standardised rank-sum statistic a split needs to be
// proposed. It is deliberately permissive: every proposal is then tested
// on its own before/after windows (Mann–Whitney at alpha, min_change,
// sustained), so a spurious proposal costs a little time, a missed one a
// draft.
const detectZ = 3.0

// detect proposes level shifts in a daily series: it returns the indexes
// where a new level starts (xs[i] is the first value of the new level), in
// increasing order.
//
// It is a variable so the dedicated detector (drafter/changepoint) can be
// swapped in without touching the callers:
//
//	detect = func(xs []float64) []int {
//		pts := changepoint.Detect(xs, changepoint.Options{…})
//		idx := make([]int, len(pts))
//		for i, p := range pts {
//			idx[i] = p.Index
//		}
//		return idx
//	}
var detect = binsegDetect

// binsegDetect is binary segmentation with the Mann–Whitney rank-sum
// statistic: split the series where the standardised rank sum of the left
// part is most extreme, keep the split if |z| ≥ detectZ, and recurse into
// both halves. Ranks make it indifferent to spikes and skew.
func binsegDetect(xs []float64) []int {
	var out []int
	ranks := make([]float64, len(xs))
	idx := make([]int, len(xs))
	var rec func(lo, hi, depth int)
	rec = func(lo, hi, depth int) {
		if hi-lo < 2*minSegment || depth > 32 {
			return
		}
		k, z := bestRankSplit(xs[lo:hi], ranks[:hi-lo], idx[:hi-lo])
		if k < 0 || math.Abs(z) < detectZ {
			return
		}
		out = append(out, lo+k)
		rec(lo, lo+k, depth+1)
		rec(lo+k, hi, depth+1)
	}
	rec(0, len(xs), 0)
	sort.Ints(out)
	return out
}

// bestRankSplit returns the split k (left = xs[:k]) with the most extreme
// standardised Mann–Whitney statistic, with tie correction. ranks and idx
// are scratch space of len(xs).
func bestRankSplit(xs, ranks []float64, idx []int) (int, float64) {
	n := len(xs)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return xs[idx[i]] < xs[idx[j]] })
	ties := 0.0
	for i := 0; i < n; {
		j := i
		for j < n && xs[idx[j]] == xs[idx[i]] {
			j++
		}
		r := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			ranks[idx[k]] = r
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	nf := float64(n)
	varFactor := (nf + 1) - ties/(nf*(nf-1)) // variance = k(n−k)/12 · varFactor
	if varFactor <= 0 {
		return -1, 0 // all equal
	}
	bestK, bestZ := -1, 0.0
	w := 0.0
	for k := 1; k < n; k++ {
		w += ranks[k-1]
		if k < minSegment || n-k < minSegment {
			continue
		}
		kf := float64(k)
		z := (w - kf*(nf+1)/2) / math.Sqrt(kf*(nf-kf)*varFactor/12)
		if math.Abs(z) > math.Abs(bestZ) {
			bestK, bestZ = k, z
		}
	}
	return bestK, bestZ
}
