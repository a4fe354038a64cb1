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

// gainTable holds, for a segment that has seen k+1 points, the innovation
// variance F[k] and gain K[k] of its next point, and sumLog[k] = Σ log F
// over its first k innovations.
type gainTable struct{ F, K, sumLog []float64 }

// gains computes the gain table for segments of up to n points with the
// same arithmetic as filter.push.
func (m model) gains(n int) gainTable {
	t := gainTable{F: make([]float64, n), K: make([]float64, n), sumLog: make([]float64, n+1)}
	P := m.r
	for k := 0; k < n; k++ {
		Pp := P + m.q
		F := Pp + m.r
		K := Pp / F
		t.F[k], t.K[k] = F, K
		t.sumLog[k+1] = t.sumLog[k] + math.Log(F)
		P = Pp - K*Pp
	}
	return t
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
	// A segment's filter variances (P, F, the gain K) do not depend on
	// the data, only on how many points the segment has seen: compute
	// them once for every length instead of once per candidate start.
	// The arithmetic is the same as filter.push, in the same order, so
	// the costs are bit for bit those of filter.
	tab := m.gains(n)
	type cand struct {
		s     int
		a, u2 float64 // filtered level, Σ v²/F
		cnt   int     // points after the first
	}
	cands := []cand{{s: 0}}
	for t := 1; t <= n; t++ {
		y := zs[t-1]
		best, arg := math.Inf(1), -1
		for i := range cands {
			c := &cands[i]
			if t-1 == c.s {
				c.a = y
			} else {
				v := y - c.a
				c.u2 += v * v / tab.F[c.cnt]
				c.a += tab.K[c.cnt] * v
				c.cnt++
			}
			if t-c.s >= minSeg {
				cf := float64(c.cnt)
				cost := c.u2 + tab.sumLog[c.cnt]
				if c.u2 > cf {
					cost = cf*math.Log(c.u2/cf) + cf + tab.sumLog[c.cnt]
				}
				if v := F[c.s] + cost + beta; v < best {
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
