package drafter

import (
	"math"
	"sort"

	"github.com/impact-dev/impact/drafter/changepoint"
)

// deseasonalize removes the weekly cycle from daily values (weekend
// traffic dips, weekday CI load): each weekday's factor is the median, over
// the weeks, of its value relative to the median of the seven values
// around it, and each value is divided by its weekday's factor. Without it
// the detector reads every weekend as a level shift and can place a real
// shift on the weekend before it. Series shorter than three weeks, or
// without a weekly cycle worth removing (every factor within 3% of 1), are
// returned as they are. Factors come from ratios, so values ≤ 0 leave the
// series as it is.
func deseasonalize(xs []float64, days []int64) []float64 {
	const minDays = 21
	if len(xs) < minDays {
		return xs
	}
	for _, x := range xs {
		if !(x > 0) {
			return xs
		}
	}
	var ratios [7][]float64
	win := make([]float64, 0, 7)
	for i, x := range xs {
		lo, hi := max(0, i-3), min(len(xs), i+4)
		win = append(win[:0], xs[lo:hi]...)
		ratios[weekday(days[i])] = append(ratios[weekday(days[i])], x/median(win))
	}
	var f [7]float64
	material := false
	for k := range f {
		f[k] = 1
		if len(ratios[k]) >= 3 {
			f[k] = median(ratios[k])
		}
		if math.Abs(f[k]-1) > 0.03 {
			material = true
		}
	}
	if !material {
		return xs
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x / f[weekday(days[i])]
	}
	return out
}

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
// increasing order. It is a variable so tests can swap detectors.
var detect = changepointDetect

// changepointDetect uses drafter/changepoint, whose local-level model
// tells abrupt shifts from slow drift (traffic growth, gradual
// degradation), which a plain two-sample split cannot: on a series
// drifting 50% over ten weeks the rank split below proposes a "shift" at
// every PR. Sparse daily counts that changepoint sees as constant (most
// days zero) fall back to the rank split.
func changepointDetect(xs []float64) []int {
	pts := changepoint.Detect(xs, changepoint.Options{MinSegment: minSegment})
	if len(pts) == 0 && sparse(xs) {
		return binsegDetect(xs)
	}
	idx := make([]int, len(pts))
	for i, p := range pts {
		idx[i] = p.Index
	}
	return idx
}

// sparse reports whether most values are zero (daily event counts).
func sparse(xs []float64) bool {
	zeros := 0
	for _, x := range xs {
		if x == 0 {
			zeros++
		}
	}
	return zeros*2 >= len(xs)
}

// binsegDetect is the fallback detector: binary segmentation with the Mann–Whitney rank-sum
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
	// Binary segmentation can miss a short segment between two shifts
	// (a regression fixed ten days later): a local scan adds shifts where
	// the week before and the week after barely overlap.
	for _, i := range localScan(xs) {
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

// localScanDays and localScanZ: the local scan compares the localScanDays
// values before each index with those after and proposes local maxima of
// |z| ≥ localScanZ (for 7 vs 7 values: at most one out-of-order pair).
const (
	localScanDays = 7
	localScanZ    = 2.95
)

func localScan(xs []float64) []int {
	const h = localScanDays
	if len(xs) < 2*h {
		return nil
	}
	zs := make([]float64, len(xs))
	for i := h; i+h <= len(xs); i++ {
		// U statistic by direct comparison: 49 pairs, no sorting.
		u := 0.0
		for _, b := range xs[i-h : i] {
			for _, a := range xs[i : i+h] {
				switch {
				case b > a:
					u++
				case b == a:
					u += 0.5
				}
			}
		}
		zs[i] = (u - h*h/2.0) / math.Sqrt(h*h*(2*h+1)/12.0)
	}
	var out []int
	for i := h; i+h <= len(xs); i++ {
		z := math.Abs(zs[i])
		if z < localScanZ {
			continue
		}
		peak := true
		for j := max(h, i-minSegment); j <= min(len(xs)-h, i+minSegment); j++ {
			if zj := math.Abs(zs[j]); zj > z || zj == z && j < i {
				peak = false
				break
			}
		}
		if peak {
			out = append(out, i)
		}
	}
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
