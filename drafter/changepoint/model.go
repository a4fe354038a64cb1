package changepoint

import "math"

// model is the local level model in standardised units (2r + q = 2, the
// variance of the first differences): noise variance r, level random-walk
// variance q.
type model struct {
	r, q float64
	// tab, when set, holds the filter's variances and gains by the number
	// of points a segment has seen (they do not depend on the data), so
	// scans skip a logarithm and two divisions per point.
	tab *gainTable
	// hc, when > 0, makes the innovations' cost Huber's: quadratic up to
	// hc standard deviations, linear beyond (the −2·log density of
	// Huber's least favourable distribution), and hpen is that density's
	// extra cost per innovation, −2·log(1−ε), so that its likelihood is
	// comparable with the Gaussian one.
	hc, hpen float64
}

// rho is the cost of a squared standardised innovation u = v²/F.
func (m model) rho(u float64) float64 {
	if m.hc == 0 || u <= m.hc*m.hc {
		return u
	}
	return 2*m.hc*math.Sqrt(u) - m.hc*m.hc
}

// huber returns m with Huber innovation costs at c standard deviations.
// Huber's least favourable density for contamination ε is proportional to
// (1−ε)·exp(−ρ(x)/2) with ε/(1−ε) = 2φ(c)/c − 2Φ(−c).
func (m model) huber(c float64) model {
	phi := math.Exp(-c*c/2) / math.Sqrt(2*math.Pi)
	r := 2*phi/c - math.Erfc(c/math.Sqrt2)
	eps := r / (1 + r)
	m.hc, m.hpen = c, -2*math.Log(1-eps)
	return m
}

// filter is the Kalman filter of one segment, started with a diffuse level at
// the segment's first point. cost is −2·log restricted likelihood (up to a
// constant) of the points seen so far, with the segment's variance scale s²
// concentrated out subject to s² ≥ 1: a segment may be noisier than the
// series as a whole, never quieter (which would let short, accidentally
// smooth stretches buy their own change points).
type filter struct {
	a, P           float64 // filtered level and its variance
	sumU2, sumLogF float64
	hpen           float64 // the model's extra cost per innovation
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
	f.sumU2 += m.rho(v * v / F)
	f.hpen = m.hpen
	f.sumLogF += math.Log(F)
	f.cnt++
	K := Pp / F
	f.a += K * v
	f.P = Pp - K*Pp
}

func (f *filter) cost() float64 {
	return costOf(f.sumU2, f.cnt, f.sumLogF) + f.hpen*float64(f.cnt)
}

// costOf is the segment cost from Σ v²/F over cnt innovations and Σ log F.
func costOf(sumU2 float64, cnt int, sumLogF float64) float64 {
	c := float64(cnt)
	if sumU2 > c {
		// Scale concentrated out: s² = sumU2/cnt > 1.
		return c*math.Log(sumU2/c) + c + sumLogF
	}
	return sumU2 + sumLogF
}

// segCost is the cost of zs[a:b] as one segment.
func (m model) segCost(zs []float64, a, b int) float64 {
	if t := m.tab; t != nil && b-a >= 1 && len(t.F) >= b-a {
		// The same arithmetic as filter.push, with the data-free
		// variances from the table (as scan does): bit for bit the
		// filter's cost, without a logarithm per point.
		lvl, u2 := zs[a], 0.0
		for k, z := range zs[a+1 : b] {
			v := z - lvl
			u2 += m.rho(v * v / t.F[k])
			lvl += t.K[k] * v
		}
		cnt := b - a - 1
		return costOf(u2, cnt, t.sumLog[cnt]) + m.hpen*float64(cnt)
	}
	var f filter
	for _, z := range zs[a:b] {
		f.push(m, z)
	}
	return f.cost()
}

// lrPValue is the likelihood-ratio p-value of splitting zs[a:c] at b.
func (m model) lrPValue(zs []float64, a, b, c int) float64 {
	lr := m.segCost(zs, a, c) - m.segCost(zs, a, b) - m.segCost(zs, b, c)
	if !(lr > 0) {
		return 1
	}
	return math.Exp(-lr / 2) // χ² survival function with 2 degrees of freedom
}

// totalCost is the sum of the segment costs of zs cut at cps.
func (m model) totalCost(zs []float64, cps []int) float64 {
	t, a := 0.0, 0
	for _, c := range append(cps[:len(cps):len(cps)], len(zs)) {
		t += m.segCost(zs, a, c)
		a = c
	}
	return t
}
