package changepoint

import (
	"math"
	"sort"
)

// model is the local level model in standardised units (2r + q = 2, the
// variance of the first differences): noise variance r, level random-walk
// variance q.
type model struct{ r, q float64 }

// filter is the Kalman filter of one segment, started with a diffuse level at
// the segment's first point. cost is −2·log restricted likelihood (up to a
// constant) of the points seen so far, with the segment's variance scale s²
// concentrated out subject to s² ≥ 1: a segment may be noisier than the
// series as a whole, never quieter (which would let short, accidentally
// smooth stretches buy their own change points).
type filter struct {
	a, P           float64 // filtered level and its variance
	sumU2, sumLogF float64
	cnt            int
	started        bool
}

func (f *filter) push(m model, y float64) {
	if !f.started {
		f.a, f.P, f.started = y, m.r, true
		return
	}
	Pp := f.P + m.q
	F := Pp + m.r
	v := y - f.a
	f.sumU2 += v * v / F
	f.sumLogF += math.Log(F)
	f.cnt++
	K := Pp / F
	f.a += K * v
	f.P = Pp - K*Pp
}

func (f *filter) cost() float64 {
	c := float64(f.cnt)
	if f.sumU2 > c {
		// Scale concentrated out: s² = sumU2/cnt > 1.
		return c*math.Log(f.sumU2/c) + c + f.sumLogF
	}
	return f.sumU2 + f.sumLogF
}

// segCost is the cost of zs[a:b] as one segment.
func (m model) segCost(zs []float64, a, b int) float64 {
	var f filter
	for _, z := range zs[a:b] {
		f.push(m, z)
	}
	return f.cost()
}

// segment returns the change points (first indices of new segments)
// minimising Σ segment costs + β per change point, every segment at least
// minSeg long, and that minimum. It is exact optimal partitioning: each
// candidate start of the last segment carries its own filter, O(n²) steps.
func (m model) segment(zs []float64, beta float64, minSeg int) ([]int, float64) {
	n := len(zs)
	F := make([]float64, n+1)
	prev := make([]int, n+1)
	for i := range F {
		F[i] = math.Inf(1)
	}
	F[0] = -beta
	type cand struct {
		s int
		f filter
	}
	cands := []cand{{s: 0}}
	for t := 1; t <= n; t++ {
		y := zs[t-1]
		best, arg := math.Inf(1), -1
		for i := range cands {
			c := &cands[i]
			c.f.push(m, y)
			if t-c.s >= minSeg {
				if v := F[c.s] + c.f.cost() + beta; v < best {
					best, arg = v, c.s
				}
			}
		}
		F[t], prev[t] = best, arg
		if t >= minSeg && t+minSeg <= n && !math.IsInf(F[t], 1) {
			cands = append(cands, cand{s: t})
		}
	}
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
	return cps, F[n]
}

// lrPValue is the likelihood-ratio p-value of splitting zs[a:c] at b.
func (m model) lrPValue(zs []float64, a, b, c int) float64 {
	lr := m.segCost(zs, a, c) - m.segCost(zs, a, b) - m.segCost(zs, b, c)
	if !(lr > 0) {
		return 1
	}
	return math.Exp(-lr / 2) // χ² survival function with 2 degrees of freedom
}

// pruneInsignificant removes, weakest first, change points whose adjacent
// segments do not differ at level alpha, and returns the survivors with
// their p-values.
func (m model) pruneInsignificant(zs []float64, cps []int, alpha float64) ([]int, []float64) {
	cps = append([]int(nil), cps...)
	for {
		bounds := append(append([]int{0}, cps...), len(zs))
		ps := make([]float64, len(cps))
		worst := -1
		for k := range cps {
			ps[k] = m.lrPValue(zs, bounds[k], bounds[k+1], bounds[k+2])
			if worst < 0 || ps[k] > ps[worst] {
				worst = k
			}
		}
		if worst < 0 || ps[worst] < alpha {
			return cps, ps
		}
		cps = append(cps[:worst], cps[worst+1:]...)
	}
}
