package changepoint

// This file keeps the previous detector, exact optimal partitioning over a
// grid of 14 wander ratios λ, O(n²) per λ and pass, for the drafter until
// it is moved to Detect (see DetectExact).

import (
	"math"
	"slices"
	"sort"
)

// DetectExact is the previous detector: the same model as Detect, but each
// λ of a grid of 14 gets its own exact optimal partitioning (O(n²) Kalman
// steps), up to four drift passes, and series longer than 3000 points are
// reduced to block medians. The drafter still uses it: on the drafter's
// unit tests Detect places a step in daily medians of a few incidents a
// day a day later, which the drafter's drift check then rejects (17 of 20
// found against 18 required). Prefer Detect elsewhere.
func DetectExact(xs []float64, o Options) []Point {
	return detectWith(xs, o, func(work []float64, o Options) ([]int, []float64) {
		if len(work) > exactMaxDirect {
			return detectExactBlocks(work, o)
		}
		return detectExact(work, o)
	})
}

const (
	// lambdaPenalty is the extra cost, in units of log(n), of letting the
	// level wander (λ > 0) in DetectExact.
	lambdaPenalty = 2
	// maxPassesExact: drift / segmentation alternations of DetectExact.
	maxPassesExact = 4
	exactMaxDirect = 3000 // longer series are reduced to block medians
	blockTo        = 1500 // … of about this many blocks
)

// detect returns the change points of ys (indices of the first points of
// new segments) and their p-values.
func detectExact(ys []float64, o Options) ([]int, []float64) {
	n := len(ys)
	beta := o.Penalty * math.Log(float64(n))
	var cps []int
	var ps []float64
	lo, hi := 0, len(lambdas)
	for pass := 0; pass < maxPassesExact; pass++ {
		seg := segmentIDs(n, cps)
		slope := 0.0
		if pass > 0 {
			slope = theilSen(ys, seg)
		}
		work := make([]float64, n)
		for i, y := range ys {
			work[i] = y - slope*float64(i)
		}
		zs, ok := standardizeExact(work, seg)
		if !ok {
			return nil, nil // constant series
		}
		zs = hampel(zs, hampelHalf, hampelK)
		m, next, li := selectModel(zs, beta, o.MinSegment, lo, hi)
		next, ps = m.pruneInsignificant(zs, next, o.Alpha)
		// Later passes only refine λ around the previous choice.
		lo, hi = max(0, li-2), min(len(lambdas), li+3)
		done := pass > 0 && slices.Equal(next, cps)
		cps = next
		if done {
			break
		}
	}
	return cps, ps
}

// detectBlocks runs detect on medians of blocks of b points and then places
// each change point exactly, within ±b points, where the two-sample z
// statistic between the neighbouring segments is largest.
func detectExactBlocks(ys []float64, o Options) ([]int, []float64) {
	n := len(ys)
	b := (n + blockTo - 1) / blockTo
	nb := (n + b - 1) / b
	blocks := make([]float64, nb)
	for i := range blocks {
		blocks[i] = median(ys[i*b : min(n, (i+1)*b)])
	}
	bo := o
	bo.MinSegment = max(2, (o.MinSegment+b-1)/b)
	bcps, ps := detectExact(blocks, bo)
	cps := make([]int, len(bcps))
	for k, c := range bcps {
		lo := c*b - b
		if k > 0 {
			lo = max(lo, cps[k-1]+o.MinSegment)
		}
		lo = max(lo, o.MinSegment)
		next := n
		if k+1 < len(bcps) {
			next = bcps[k+1] * b
		}
		hi := min(c*b+b, next-o.MinSegment, n-o.MinSegment)
		left := 0
		if k > 0 {
			left = cps[k-1]
		}
		best, arg := -1.0, c*b
		for t := lo; t <= hi; t++ {
			if z := twoSampleZ(ys[left:t], ys[t:next]); z > best {
				best, arg = z, t
			}
		}
		cps[k] = arg
	}
	return cps, ps
}

// twoSampleZ is |mean(a) − mean(b)|·√(|a||b|/(|a|+|b|)), the mean-shift
// statistic up to the (common) noise scale.
func twoSampleZ(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return -1
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	na, nb := float64(len(a)), float64(len(b))
	return math.Abs(mean(a)-mean(b)) * math.Sqrt(na*nb/(na+nb))
}

// standardize returns (ys − median)/s with s the robust SD of the
// within-segment first differences over √2 (the noise SD if the series were
// white noise around a constant level). ok is false for a constant series.
func standardizeExact(ys []float64, seg []int) ([]float64, bool) {
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

// lambdas is the grid of wander-to-noise variance ratios λ = q/r searched.
var lambdas = func() []float64 {
	l := []float64{0}
	for e := -8; e <= 4; e++ {
		l = append(l, math.Pow(10, float64(e)/2))
	}
	return l
}()

// selectModel chooses λ = q/r among lambdas[lo:hi] by penalised likelihood
// jointly with the segmentation: for each λ (with 2r + q = 2, the variance
// of the standardised first differences) it segments zs and keeps the λ
// whose segmentation has the least total cost, λ > 0 costing an extra
// lambdaPenalty·log(n). It returns the model, the change points and the
// index of the chosen λ.
func selectModel(zs []float64, beta float64, minSeg, lo, hi int) (model, []int, int) {
	var bestM model
	var bestCps []int
	best, bestI := math.Inf(1), lo
	for i := lo; i < hi; i++ {
		l := lambdas[i]
		r := 2 / (2 + l)
		m := model{r: r, q: l * r}
		cps, cost := m.segment(zs, beta, minSeg)
		if l > 0 {
			cost += lambdaPenalty * math.Log(float64(len(zs)))
		}
		if cost < best {
			best, bestM, bestCps, bestI = cost, m, cps, i
		}
	}
	return bestM, bestCps, bestI
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
