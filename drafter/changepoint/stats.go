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

func maxAbs(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// residualAutocorr is the lag-1 autocorrelation of the residuals of ys
// around the medians of the segments given by cps, clamped to [0, 0.9].
func residualAutocorr(ys []float64, cps []int) float64 {
	n := len(ys)
	r := make([]float64, n)
	bounds := append(append([]int{0}, cps...), n)
	for k := 0; k+1 < len(bounds); k++ {
		m := median(ys[bounds[k]:bounds[k+1]])
		for i := bounds[k]; i < bounds[k+1]; i++ {
			r[i] = ys[i] - m
		}
	}
	var num, den float64
	for i := range r {
		den += r[i] * r[i]
		if i > 0 {
			num += r[i] * r[i-1]
		}
	}
	if den == 0 {
		return 0
	}
	return math.Max(0, math.Min(0.9, num/den))
}

// mannWhitneyP is the two-sided Mann–Whitney U p-value for a location
// difference between a and b, by the normal approximation with tie and
// continuity corrections. rho ≥ 0 is a lag-1 autocorrelation of the data;
// the variance of U is inflated by (1+ρ)/(1−ρ), the usual AR(1) variance
// factor for sums, so autocorrelated series do not yield spuriously small p.
func mannWhitneyP(a, b []float64, rho float64) float64 {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	type lv struct {
		v     float64
		first bool
	}
	all := make([]lv, 0, n1+n2)
	for _, v := range a {
		all = append(all, lv{v, true})
	}
	for _, v := range b {
		all = append(all, lv{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	N := float64(n1 + n2)
	var r1, ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // average of ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].first {
				r1 += rank
			}
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	u := r1 - float64(n1)*float64(n1+1)/2
	mu := float64(n1) * float64(n2) / 2
	v := float64(n1) * float64(n2) / 12 * ((N + 1) - ties/(N*(N-1)))
	if v <= 0 {
		return 1
	}
	v *= (1 + rho) / (1 - rho)
	d := math.Abs(u-mu) - 0.5
	if d < 0 {
		d = 0
	}
	z := d / math.Sqrt(v)
	return math.Erfc(z / math.Sqrt2)
}

// mergeInsignificant repeatedly removes the change point whose adjacent
// segments differ least significantly until all have p < alpha.
func mergeInsignificant(ys []float64, cps []int, alpha, rho float64) []int {
	cps = append([]int(nil), cps...)
	for len(cps) > 0 {
		bounds := append(append([]int{0}, cps...), len(ys))
		worst, worstP := -1, -1.0
		for k := range cps {
			p := mannWhitneyP(ys[bounds[k]:bounds[k+1]], ys[bounds[k+1]:bounds[k+2]], rho)
			if p > worstP {
				worst, worstP = k, p
			}
		}
		if worstP < alpha {
			break
		}
		cps = append(cps[:worst], cps[worst+1:]...)
	}
	return cps
}
