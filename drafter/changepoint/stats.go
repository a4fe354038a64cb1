package changepoint

import (
	"math"
	"sort"
)

func median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// robustSD is 1.4826·MAD, a consistent estimate of the standard deviation
// for Gaussian data. When more than half the values are equal (MAD = 0, e.g.
// counts that are mostly zero) it falls back to 1.2533 × the mean absolute
// deviation from the median, which is also consistent for Gaussian data.
func robustSD(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := median(xs)
	d := make([]float64, len(xs))
	sum := 0.0
	for i, x := range xs {
		d[i] = math.Abs(x - m)
		sum += d[i]
	}
	if mad := median(d); mad > 0 {
		return 1.4826 * mad
	}
	return 1.2533 * sum / float64(len(xs))
}

// theilSenPairs bounds the number of pairs theilSen looks at.
const theilSenPairs = 1 << 20

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
	var slopes []float64
	for i := 0; i < n; i += stride {
		for j := i + stride; j < n && seg[j] == seg[i]; j += stride {
			slopes = append(slopes, (ys[j]-ys[i])/float64(j-i))
		}
	}
	if len(slopes) == 0 {
		return 0
	}
	return median(slopes)
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
