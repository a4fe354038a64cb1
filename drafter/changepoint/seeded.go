package changepoint

import (
	"math"
	"sort"
)

// scratch holds the prefix and suffix cost arrays of one scan, reused
// across scans so a pass allocates them once.
type scratch struct{ fwd, bwd []float64 }

// scan finds the best single split of zs[a:b] under m: the s in
// [a+minSeg, b−minSeg] maximising the likelihood ratio
// C(a,b) − C(a,s) − C(s,b). It runs one filter forward from a and one
// backward from b−1 (the local level model's restricted likelihood does
// not depend on the direction of time), so it costs O(b−a). It returns
// s = −1 when the interval is too short.
func (m model) scan(zs []float64, a, b, minSeg int, sc *scratch) (int, float64) {
	L := b - a
	if L < 2*minSeg {
		return -1, 0
	}
	if cap(sc.fwd) < L+1 {
		sc.fwd = make([]float64, L+1)
		sc.bwd = make([]float64, L+1)
	}
	fwd, bwd := sc.fwd[:L+1], sc.bwd[:L+1]
	if t := m.tab; t != nil && len(t.F) >= L {
		// The same arithmetic as filter.push, with the data-free
		// variances from the table.
		lvl, u2 := zs[a], 0.0
		fwd[1] = 0
		for j := 2; j <= L; j++ {
			k := j - 2
			v := zs[a+j-1] - lvl
			u2 += m.rho(v * v / t.F[k])
			lvl += t.K[k] * v
			fwd[j] = costOf(u2, k+1, t.sumLog[k+1]) + m.hpen*float64(k+1) // cost of zs[a : a+j]
		}
		lvl, u2 = zs[b-1], 0.0
		bwd[1] = 0
		for j := 2; j <= L; j++ {
			k := j - 2
			v := zs[b-j] - lvl
			u2 += m.rho(v * v / t.F[k])
			lvl += t.K[k] * v
			bwd[j] = costOf(u2, k+1, t.sumLog[k+1]) + m.hpen*float64(k+1) // cost of zs[b−j : b]
		}
	} else {
		var f filter
		for j := 1; j <= L; j++ {
			f.push(m, zs[a+j-1])
			fwd[j] = f.cost() // cost of zs[a : a+j]
		}
		f = filter{}
		for j := 1; j <= L; j++ {
			f.push(m, zs[b-j])
			bwd[j] = f.cost() // cost of zs[b−j : b]
		}
	}
	whole := fwd[L]
	best, arg := math.Inf(-1), -1
	for s := a + minSeg; s <= b-minSeg; s++ {
		if lr := whole - fwd[s-a] - bwd[b-s]; lr > best {
			best, arg = lr, s
		}
	}
	return arg, best
}

// seedDecay is the ratio of the lengths of two consecutive layers of
// seeded intervals (Kovács, Li, Bühlmann & Munk 2023, "Seeded binary
// segmentation", Biometrika): 1/2, their default, halves the length from
// one layer to the next and shifts each interval by half its length, so
// every change point sits well inside an interval of about the length of
// its shorter neighbouring segment, and the layers hold about 2n points
// each: O(n log n) in all.
const seedDecay = 0.5

// scanner scans the stretches of one series under one model, and
// remembers each stretch's best split: the rounds of seeded segmentation
// and the refinement scan many of the same stretches again (every seeded
// interval that holds no new change point, and the stretch between two
// change points each interval around them is cut to).
type scanner struct {
	m      model
	zs     []float64
	minSeg int
	sc     scratch
	memo   map[uint64]scanHit // by a<<32 | b
}

type scanHit struct {
	s  int
	lr float64
}

func (m model) scanner(zs []float64, minSeg int) *scanner {
	return &scanner{m: m, zs: zs, minSeg: minSeg, memo: make(map[uint64]scanHit, len(zs))}
}

// scan is m.scan(zs, a, b, minSeg), remembered.
func (sn *scanner) scan(a, b int) (int, float64) {
	k := uint64(a)<<32 | uint64(uint32(b))
	if h, ok := sn.memo[k]; ok {
		return h.s, h.lr
	}
	s, lr := sn.m.scan(sn.zs, a, b, sn.minSeg, &sn.sc)
	sn.memo[k] = scanHit{s, lr}
	return s, lr
}

type seedHit struct {
	a, b, s int
	lr      float64
}

// seededSplits proposes change points by seeded binary segmentation with
// greedy selection: the best split of every seeded interval is computed;
// then, strongest first, a split whose likelihood ratio exceeds beta is
// kept and every interval containing it is dropped (as is any split closer
// than minSeg to one already kept). Intervals are cut at the change
// points in fixed, which are kept. The result is sorted.
func (sn *scanner) seededSplits(beta float64, fixed []int) []int {
	n, minSeg := len(sn.zs), sn.minSeg
	var hits []seedHit
	for L := float64(n); int(L) >= 2*minSeg; L *= seedDecay {
		ln := int(math.Ceil(L))
		shift := max(1, int(L*seedDecay))
		for a := 0; ; a += shift {
			b := min(n, a+ln)
			// The pieces of [a, b) between the fixed change points.
			lo := a
			for k := 0; k <= len(fixed); k++ {
				hi := b
				if k < len(fixed) {
					if fixed[k] <= lo {
						continue
					}
					hi = min(b, fixed[k])
				}
				if s, lr := sn.scan(lo, hi); s >= 0 && lr > beta {
					hits = append(hits, seedHit{lo, hi, s, lr})
				}
				if hi == b {
					break
				}
				lo = hi
			}
			if b == n {
				break
			}
		}
	}
	// Strongest first; ties to the narrower interval, then the earlier.
	sort.Slice(hits, func(i, j int) bool {
		hi, hj := hits[i], hits[j]
		if hi.lr != hj.lr {
			return hi.lr > hj.lr
		}
		if hi.b-hi.a != hj.b-hj.a {
			return hi.b-hi.a < hj.b-hj.a
		}
		return hi.s < hj.s
	})
	cps := append([]int(nil), fixed...)
	for _, h := range hits {
		ok := true
		for _, c := range cps {
			if h.a < c && c < h.b || abs(h.s-c) < minSeg {
				ok = false
				break
			}
		}
		if ok {
			cps = append(cps, h.s)
		}
	}
	sort.Ints(cps)
	return cps
}

// maxRounds bounds the rounds of seeded segmentation: each round keeps the
// change points found so far and searches the stretches between them again
// (greedy selection drops every interval containing a kept point, and with
// it a short segment next to that point: a level that returns after a few
// days). Two or three rounds find everything; the bound caps the work.
const maxRounds = 4

// propose runs seededSplits for up to maxRounds rounds, until a round adds
// nothing.
func (sn *scanner) propose(beta float64) []int {
	var cps []int
	for range maxRounds {
		next := sn.seededSplits(beta, cps)
		if len(next) == len(cps) {
			break
		}
		cps = next
	}
	return cps
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// lrAt is the likelihood ratio of splitting zs[a:c] at b; −Inf when it
// is not a number (costs overflowed on extreme values), so such a split is
// never kept.
func (m model) lrAt(zs []float64, a, b, c int) float64 {
	lr := m.segCost(zs, a, c) - m.segCost(zs, a, b) - m.segCost(zs, b, c)
	if math.IsNaN(lr) {
		return math.Inf(-1)
	}
	return lr
}

// eliminate removes, weakest first, change points whose likelihood ratio
// against merging their two adjacent segments is below thresh. Only the
// neighbours of a removed point are recomputed, so each removal costs the
// length of the merged segments. It returns the survivors and their
// likelihood ratios.
func (m model) eliminate(zs []float64, cps []int, thresh float64) ([]int, []float64) {
	cps = append([]int(nil), cps...)
	bound := func(k int) int { // k-th boundary: 0, cps..., n
		switch {
		case k == 0:
			return 0
		case k > len(cps):
			return len(zs)
		}
		return cps[k-1]
	}
	lr := make([]float64, len(cps))
	for k := range cps {
		lr[k] = m.lrAt(zs, bound(k), cps[k], bound(k+2))
	}
	for len(cps) > 0 {
		worst := 0
		for k := range lr {
			if lr[k] < lr[worst] {
				worst = k
			}
		}
		if lr[worst] >= thresh {
			break
		}
		cps = append(cps[:worst], cps[worst+1:]...)
		lr = append(lr[:worst], lr[worst+1:]...)
		for _, k := range []int{worst - 1, worst} {
			if k >= 0 && k < len(cps) {
				lr[k] = m.lrAt(zs, bound(k), cps[k], bound(k+2))
			}
		}
	}
	return cps, lr
}

// refine moves each change point, in order, to the best single split of
// the stretch between its neighbours (a coordinate-descent step of the
// penalised cost: the likelihood ratio of each point can only grow). It
// costs one scan of the series per sweep.
func (sn *scanner) refine(cps []int) []int {
	cps = append([]int(nil), cps...)
	for k := range cps {
		a, b := 0, len(sn.zs)
		if k > 0 {
			a = cps[k-1]
		}
		if k+1 < len(cps) {
			b = cps[k+1]
		}
		if s, _ := sn.scan(a, b); s >= 0 {
			cps[k] = s
		}
	}
	return cps
}
