package changepoint

import (
	"math"
	"slices"
)

func median(xs []float64) float64 {
	var buf []float64
	return medianBuf(xs, &buf)
}

// medianBuf is median, with *buf as its scratch space (grown as needed):
// a loop of medians allocates once.
func medianBuf(xs []float64, buf *[]float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append((*buf)[:0], xs...)
	*buf = s
	return medianInPlace(s)
}

// medianInPlace is median, reordering s.
func medianInPlace(s []float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return SelectK(s, n/2)
	}
	hi := SelectK(s, n/2)
	// After SelectK, s[:n/2] holds the n/2 smallest values.
	return (slices.Max(s[:n/2]) + hi) / 2
}

// SelectK reorders s so that s[k] is the value a sort would put there,
// with no larger value before it and no smaller one after, and returns
// it: Hoare's quickselect with a median-of-three pivot, O(len(s)) on
// average. Small slices are sorted. s holds no NaN. (The drafter's
// medians use it too.)
func SelectK(s []float64, k int) float64 {
	lo, hi := 0, len(s)-1
	for hi-lo > 16 {
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		p := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < p {
				i++
			}
			for s[j] > p {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	slices.Sort(s[lo : hi+1])
	return s[k]
}

// robustSD is 1.4826·MAD, a consistent estimate of the standard deviation
// for Gaussian data. When more than half the values are equal (MAD = 0, e.g.
// counts that are mostly zero) it falls back to 1.2533 × the mean absolute
// deviation from the median, which is also consistent for Gaussian data.
func robustSD(xs []float64) float64 {
	var b sdScratch
	return b.robustSD(xs)
}

// sdScratch is the scratch space of robustSD, for loops of them.
type sdScratch struct{ sel, dev []float64 }

func (b *sdScratch) robustSD(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := medianBuf(xs, &b.sel)
	d := slices.Grow(b.dev[:0], len(xs))[:len(xs)]
	b.dev = d
	sum := 0.0
	for i, x := range xs {
		d[i] = math.Abs(x - m)
		sum += d[i]
	}
	if mad := medianBuf(d, &b.sel); mad > 0 {
		return 1.4826 * mad
	}
	return 1.2533 * sum / float64(len(xs))
}

// theilSenPairs bounds the number of pairs theilSen looks at: 2^15 slopes
// put the median's sampling error far below that of the slope itself (the
// points are thinned evenly, so every stretch of the series still counts),
// and keep the estimate O(1) in the length of the series.
const theilSenPairs = 1 << 15

// theilSen is the Theil–Sen slope of ys against its index: the median of the
// slopes of all pairs of points in the same segment (seg[i] is the segment
// of point i). Long series are thinned to a regular grid so
// that at most about theilSenPairs pairs are used.
func theilSen(ys []float64, seg []int) float64 {
	n := len(ys)
	stride := 1
	for (n/stride)*(n/stride)/2 > theilSenPairs {
		stride++
	}
	// Count the pairs first: one allocation, at its size.
	pairs := 0
	for i := 0; i < n; i += stride {
		for j := i + stride; j < n && seg[j] == seg[i]; j += stride {
			pairs++
		}
	}
	if pairs == 0 {
		return 0
	}
	slopes := make([]float64, 0, pairs)
	for i := 0; i < n; i += stride {
		for j := i + stride; j < n && seg[j] == seg[i]; j += stride {
			slopes = append(slopes, (ys[j]-ys[i])/float64(j-i))
		}
	}
	return medianInPlace(slopes)
}

// segmentIDs maps each of n points to the number of the segment it is in,
// given the sorted first indices of the segments after the first.
func segmentIDs(n int, cps []int) []int {
	seg := make([]int, n)
	for i, k := 0, 0; i < n; i++ {
		for k < len(cps) && cps[k] <= i {
			k++
		}
		seg[i] = k
	}
	return seg
}

func maxAbs(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// varioLags is the number of lags of the variogram wanderRatio fits. Under
// the local level model the variance of the lag-k differences is 2r + k·q:
// noise contributes a constant, wander a line through the origin. Lags 1…8
// span enough of that line to tell the two apart (at λ = q/r = 0.05 the
// variance grows by 18% from lag 1 to lag 8) while staying short enough
// that autocorrelated noise, whose variogram levels off, is not read as a
// wander (longer lags, tried up to 64, made AR(1) noise with φ = 0.8 look
// like a random walk with steps). Short series use fewer lags (at most a
// quarter of their length, at least 2).
const varioLags = 8

// maxLambda caps the wander-to-noise ratio: beyond 100 the noise is a
// tenth of the wander's SD and the model is a random walk in all but name.
const maxLambda = 100

// wanderRatio estimates λ = q/r of the local level model from zs
// (standardised so that the lag-1 differences have variance about 2) by a
// robust variogram: v_k = robustSD(lag-k differences within a segment)²
// for k = 1…K, and the least-squares line v_k = a + b·k, so r = a/2, q = b.
// A negative slope means no wander (λ = 0); a non-positive intercept means
// no noise beyond the wander (λ = maxLambda). This replaces a search over
// a grid of λ with one closed-form, outlier-resistant estimate; the drift
// of a trending series is removed beforehand (theilSen), or it would add
// k²·slope² and pass for wander.
func wanderRatio(zs []float64, seg []int) float64 {
	n := len(zs)
	K := max(2, min(varioLags, n/4))
	d := make([]float64, 0, n)
	var sk, sv, skk, skv float64
	cnt := 0.0
	for k := 1; k <= K; k++ {
		d = d[:0]
		for i := k; i < n; i++ {
			if seg[i] == seg[i-k] {
				d = append(d, zs[i]-zs[i-k])
			}
		}
		if len(d) < 3 {
			break
		}
		sd := robustSD(d)
		v, kf := sd*sd, float64(k)
		sk += kf
		sv += v
		skk += kf * kf
		skv += kf * v
		cnt++
	}
	if cnt < 2 {
		return 0
	}
	b := (cnt*skv - sk*sv) / (cnt*skk - sk*sk)
	a := (sv - b*sk) / cnt
	switch {
	case !(b > 0):
		return 0
	case !(a > 0):
		return maxLambda
	}
	return min(maxLambda, 2*b/a)
}
