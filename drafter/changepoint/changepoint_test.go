package changepoint

import (
	"math"
	"math/rand"
	"reflect"
	"testing"
)

func noise(rng *rand.Rand, n int, sd float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = rng.NormFloat64() * sd
	}
	return xs
}

func indices(ps []Point) []int {
	out := []int{}
	for _, p := range ps {
		out = append(out, p.Index)
	}
	return out
}

func near(got []Point, want []int, tol int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if d := got[i].Index - want[i]; d < -tol || d > tol {
			return false
		}
	}
	return true
}

func TestSingleShift(t *testing.T) {
	// A 3σ shift in 60 points: found within ±1 nearly always (the rare miss
	// is a noise realisation that genuinely blurs the step).
	ok := 0
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		xs := noise(rng, 60, 1)
		for i := 30; i < 60; i++ {
			xs[i] += 3
		}
		got := Detect(xs, Options{})
		if !near(got, []int{30}, 1) {
			t.Logf("seed %d: got %v, want one change at 30±1", seed, indices(got))
			continue
		}
		p := got[0]
		if math.Abs(p.Before) > 1 || math.Abs(p.After-3) > 1 || !(p.PValue < 0.01) {
			t.Errorf("seed %d: bad point %+v", seed, p)
		}
		ok++
	}
	if ok < 18 {
		t.Errorf("found the shift in %d/20 series, want ≥ 18", ok)
	}
	// A large shift is always found exactly.
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		xs := noise(rng, 60, 1)
		for i := 25; i < 60; i++ {
			xs[i] += 6
		}
		if got := Detect(xs, Options{}); !near(got, []int{25}, 0) {
			t.Errorf("seed %d: 6σ shift: got %v", seed, indices(got))
		}
	}
}

func TestTwoShifts(t *testing.T) {
	ok := 0
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		xs := noise(rng, 120, 1)
		for i := range xs {
			switch {
			case i >= 80:
				xs[i] += 1.5
			case i >= 40:
				xs[i] += 5
			}
			xs[i] += 100 // offset must not matter
		}
		if got := Detect(xs, Options{}); near(got, []int{40, 80}, 2) {
			ok++
		} else {
			t.Logf("seed %d: got %v, want changes at 40, 80", seed, indices(got))
		}
	}
	if ok < 19 {
		t.Errorf("found both shifts in %d/20 series, want ≥ 19", ok)
	}
}

// falseAlarms counts series (of reps) on which Detect reports anything.
func falseAlarms(reps int, gen func(rng *rand.Rand) []float64) (int, []int) {
	rng := rand.New(rand.NewSource(7))
	bad := 0
	var example []int
	for r := 0; r < reps; r++ {
		if got := Detect(gen(rng), Options{}); len(got) > 0 {
			bad++
			example = indices(got)
		}
	}
	return bad, example
}

func TestFlatNoise(t *testing.T) {
	for _, n := range []int{14, 30, 100, 400} {
		bad, ex := falseAlarms(100, func(rng *rand.Rand) []float64 { return noise(rng, n, 2) })
		if bad > 5 {
			t.Errorf("n=%d: change points on %d/100 pure-noise series (e.g. %v)", n, bad, ex)
		}
	}
}

func TestHeavyTailsAndSpike(t *testing.T) {
	// Skewed, heavy-tailed "daily latency medians" with one incident spike.
	bad, ex := falseAlarms(100, func(rng *rand.Rand) []float64 {
		xs := make([]float64, 90)
		for i := range xs {
			xs[i] = 200 * math.Exp(0.15*rng.NormFloat64())
			if rng.Intn(20) == 0 {
				xs[i] += 40 * math.Abs(rng.NormFloat64()) // heavier upper tail
			}
		}
		xs[45] = 2000 // one-day incident
		return xs
	})
	if bad > 5 {
		t.Errorf("change points on %d/100 heavy-tailed series with a spike (e.g. %v)", bad, ex)
	}
}

func TestMultiDaySpike(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	xs := noise(rng, 80, 1)
	xs[40], xs[41], xs[42] = 30, 25, 28 // a three-day incident is not a level shift
	if got := Detect(xs, Options{}); len(got) > 0 {
		t.Errorf("got %v", got)
	}
}

func TestLinearTrend(t *testing.T) {
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		xs := noise(rng, 300, 1)
		for i := range xs {
			xs[i] += 0.1 * float64(i)
		}
		if got := Detect(xs, Options{}); len(got) > 1 {
			t.Errorf("seed %d: linear trend gave %v", seed, indices(got))
		}
	}
	// A step on top of a trend is still found.
	rng := rand.New(rand.NewSource(1))
	xs := noise(rng, 200, 1)
	for i := range xs {
		xs[i] += 0.05 * float64(i)
		if i >= 120 {
			xs[i] += 4
		}
	}
	if got := Detect(xs, Options{}); !near(got, []int{120}, 1) {
		t.Errorf("step on trend: got %v", indices(got))
	}
}

func TestRandomWalk(t *testing.T) {
	// Wandering series (prices, slowly drifting latency) without jumps.
	bad, ex := falseAlarms(100, func(rng *rand.Rand) []float64 {
		xs := make([]float64, 200)
		mu := 0.0
		for i := range xs {
			mu += 0.5 * rng.NormFloat64()
			xs[i] = mu + rng.NormFloat64()
		}
		return xs
	})
	if bad > 10 {
		t.Errorf("change points on %d/100 random walks (e.g. %v)", bad, ex)
	}
}

func TestWeeklyCycle(t *testing.T) {
	// Daily series with a weekend dip and a shift at day 63.
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		xs := make([]float64, 120)
		for i := range xs {
			xs[i] = 100 + 3*rng.NormFloat64()
			if i%7 >= 5 {
				xs[i] -= 10
			}
			if i >= 63 {
				xs[i] += 15
			}
		}
		if got := Detect(xs, Options{}); !near(got, []int{63}, 1) {
			t.Errorf("seed %d: got %v", seed, indices(got))
		}
	}
}

func TestShortSeries(t *testing.T) {
	if got := Detect([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, Options{}); got != nil {
		t.Errorf("n < 2·MinSegment: got %v", got)
	}
	if got := Detect(nil, Options{}); got != nil {
		t.Errorf("nil: got %v", got)
	}
	if got := Detect([]float64{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, Options{}); got != nil {
		t.Errorf("constant: got %v", got)
	}
	// 14 daily points with an obvious shift.
	xs := []float64{10.2, 9.8, 10.1, 10.0, 9.9, 10.3, 10.1, 15.2, 14.9, 15.1, 15.3, 14.8, 15.0, 15.1}
	if got := Detect(xs, Options{}); !near(got, []int{7}, 0) {
		t.Errorf("short step: got %v", got)
	}
	// MinSegment respected.
	xs = []float64{0, 0.1, -0.05, 0.12, 0.03, -0.1, 5, 5.1, 4.92, 5.13, 4.97, 5.05}
	if got := Detect(xs, Options{MinSegment: 7}); got != nil {
		t.Errorf("MinSegment 7 on 12 points: got %v", got)
	}
	if got := Detect(xs, Options{MinSegment: 3}); !near(got, []int{6}, 0) {
		t.Errorf("MinSegment 3: got %v", got)
	}
}

func TestGaps(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	xs := noise(rng, 80, 1)
	for i := 40; i < 80; i++ {
		xs[i] += 4
	}
	want := Detect(xs, Options{})
	for _, i := range []int{3, 10, 11, 12, 55, 79} {
		xs[i] = math.NaN()
	}
	xs[20] = math.Inf(1)
	// A gap right at the change: the change is reported at the first
	// non-gap point of the new segment.
	xs[40], xs[41] = math.NaN(), math.NaN()
	got := Detect(xs, Options{})
	if len(want) != 1 || !near(got, []int{42}, 1) {
		t.Errorf("with gaps: got %v (without: %v)", indices(got), indices(want))
	}
	for _, p := range got {
		if math.IsNaN(p.Before) || math.IsNaN(p.After) || math.IsNaN(p.PValue) {
			t.Errorf("NaN in %+v", p)
		}
	}
	all := make([]float64, 30)
	for i := range all {
		all[i] = math.NaN()
	}
	if got := Detect(all, Options{}); got != nil {
		t.Errorf("all gaps: got %v", got)
	}
}

func TestMostlyZeroCounts(t *testing.T) {
	// Error counts: mostly zero, then errors become common.
	rng := rand.New(rand.NewSource(2))
	xs := make([]float64, 100)
	for i := range xs {
		if rng.Intn(10) == 0 {
			xs[i] = 1
		}
		if i >= 60 {
			xs[i] = float64(5 + rng.Intn(5))
		}
	}
	if got := Detect(xs, Options{}); !near(got, []int{60}, 1) {
		t.Errorf("got %v", indices(got))
	}
}

func TestDeterministicAndSorted(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	xs := noise(rng, 300, 1)
	for i := range xs {
		xs[i] += float64((i / 50) % 3 * 3)
	}
	a, b := Detect(xs, Options{}), Detect(xs, Options{})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("not deterministic")
	}
	for i := 1; i < len(a); i++ {
		if a[i].Index <= a[i-1].Index {
			t.Fatalf("not sorted: %v", indices(a))
		}
	}
	if len(a) < 4 {
		t.Errorf("expected ≥4 changes, got %v", indices(a))
	}
}

func TestOptionsEffect(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	xs := noise(rng, 200, 1)
	for i := 100; i < 200; i++ {
		xs[i] += 0.9 // modest shift
	}
	lo := Detect(xs, Options{Penalty: 1})
	hi := Detect(xs, Options{Penalty: 20})
	if len(lo) < len(hi) {
		t.Errorf("lower penalty found fewer: %v vs %v", indices(lo), indices(hi))
	}
	strict := Detect(xs, Options{Penalty: 1, Alpha: 1e-12})
	for _, p := range strict {
		if p.PValue >= 1e-12 {
			t.Errorf("Alpha not enforced: %+v", p)
		}
	}
}

// TestLongSeries: a year of hourly points with one step in the middle is
// found at the exact index (how the cost grows with n is measured by
// BenchmarkDetectScaling, not timed here).
func TestLongSeries(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	xs := noise(rng, 8760, 1)
	for i := 4380; i < len(xs); i++ {
		xs[i] += 2
	}
	if got := Detect(xs, Options{}); !near(got, []int{4380}, 0) {
		t.Errorf("got %v", indices(got))
	}
}

// TestLongRandomWalk: random walks of up to five years of daily points are not cut into steps (the previous
// detector's failure on a held-back TCPD series was 49 change points on one
// random-walk-like series).
func TestLongRandomWalk(t *testing.T) {
	for _, n := range []int{500, 1825} {
		worst := 0
		for seed := int64(1); seed <= 3; seed++ {
			rng := rand.New(rand.NewSource(seed))
			xs := rw(rng, n, 1, 0) // wander as large as the noise
			worst = max(worst, len(Detect(xs, Options{})))
		}
		if worst > 2 {
			t.Errorf("n=%d: up to %d change points on a random walk", n, worst)
		}
	}
}

// TestHeavyTailedWalk: a random walk whose jumps are Student-t with 4
// degrees of freedom (prices) is cut at few of its big jumps: the
// heavy-tailed wander model explains most of them (14 change points on
// these four walks; the Gaussian models alone make 32).
func TestHeavyTailedWalk(t *testing.T) {
	total := 0
	for seed := int64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewSource(seed))
		xs := make([]float64, 2000)
		lvl := 0.0
		for i := range xs {
			chi := (sq(rng.NormFloat64()) + sq(rng.NormFloat64()) + sq(rng.NormFloat64()) + sq(rng.NormFloat64())) / 4
			lvl += rng.NormFloat64() / math.Sqrt(chi)
			xs[i] = lvl
		}
		total += len(Detect(xs, Options{}))
	}
	if total > 4*4 {
		t.Errorf("%d change points on 4 heavy-tailed walks of 2,000 points, want ≤ 16", total)
	}
	t.Logf("%d change points on 4 walks", total)
}
