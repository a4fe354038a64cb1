package changepoint

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"strconv"
	"testing"
)

// TestEvalSuite prints detection and false-alarm rates on synthetic
// scenarios (EVAL=1).
func TestEvalSuite(t *testing.T) {
	if os.Getenv("EVAL") == "" {
		t.Skip()
	}
	fmt.Println(evalSuite(100))
}

func envf(k string, d float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
		return v
	}
	return d
}

type scenario struct {
	name string
	gen  func(rng *rand.Rand) ([]float64, []int)
}

func stepGen(n int, at []int, sizes []float64) func(rng *rand.Rand) ([]float64, []int) {
	return func(rng *rand.Rand) ([]float64, []int) {
		xs := noise(rng, n, 1)
		for k, a := range at {
			for i := a; i < n; i++ {
				xs[i] += sizes[k]
			}
		}
		return xs, at
	}
}

func scenarios() []scenario {
	return []scenario{
		{"white n=30", stepGen(30, nil, nil)},
		{"white n=100", stepGen(100, nil, nil)},
		{"white n=400", stepGen(400, nil, nil)},
		{"step3 n=30@15", stepGen(30, []int{15}, []float64{3})},
		{"step3 n=60@30", stepGen(60, []int{30}, []float64{3})},
		{"step2 n=100@50", stepGen(100, []int{50}, []float64{2})},
		{"step1.5 n=200@120", stepGen(200, []int{120}, []float64{1.5})},
		{"steps 40,80 (+5,-3.5)", stepGen(120, []int{40, 80}, []float64{5, -3.5})},
		{"step4 n=14@7", stepGen(14, []int{7}, []float64{4})},
		{"rw q/r=.01 n=200", func(rng *rand.Rand) ([]float64, []int) { return rw(rng, 200, 0.1, 0), nil }},
		{"rw q/r=.25 n=200", func(rng *rand.Rand) ([]float64, []int) { return rw(rng, 200, 0.5, 0), nil }},
		{"rw q/r=4 n=200", func(rng *rand.Rand) ([]float64, []int) { return rw(rng, 200, 2, 0), nil }},
		{"rw q/r=.25 n=60", func(rng *rand.Rand) ([]float64, []int) { return rw(rng, 60, 0.5, 0), nil }},
		{"rw.25+step4 n=200@100", func(rng *rand.Rand) ([]float64, []int) {
			xs := rw(rng, 200, 0.5, 0)
			for i := 100; i < 200; i++ {
				xs[i] += 4
			}
			return xs, []int{100}
		}},
		{"ar.5 n=200", func(rng *rand.Rand) ([]float64, []int) { return ar(rng, 200, 0.5), nil }},
		{"ar.8 n=200", func(rng *rand.Rand) ([]float64, []int) { return ar(rng, 200, 0.8), nil }},
		{"trend .05 n=300", func(rng *rand.Rand) ([]float64, []int) { return rw(rng, 300, 0, 0.05), nil }},
		{"trend .05+step3 n=200@120", func(rng *rand.Rand) ([]float64, []int) {
			xs := rw(rng, 200, 0, 0.05)
			for i := 120; i < 200; i++ {
				xs[i] += 3
			}
			return xs, []int{120}
		}},
		{"weekly+step n=120@63", func(rng *rand.Rand) ([]float64, []int) {
			xs := make([]float64, 120)
			for i := range xs {
				xs[i] = 100 + 3*rng.NormFloat64()
				if i%7 >= 5 {
					xs[i] -= 10
				}
				if i >= 63 {
					xs[i] += 10
				}
			}
			return xs, []int{63}
		}},
		{"weekly n=120", func(rng *rand.Rand) ([]float64, []int) {
			xs := make([]float64, 120)
			for i := range xs {
				xs[i] = 100 + 3*rng.NormFloat64()
				if i%7 >= 5 {
					xs[i] -= 10
				}
			}
			return xs, nil
		}},
		{"lognormal+spike n=90", func(rng *rand.Rand) ([]float64, []int) {
			xs := make([]float64, 90)
			for i := range xs {
				xs[i] = 200 * math.Exp(0.15*rng.NormFloat64())
			}
			xs[45] = 2000
			return xs, nil
		}},
		{"lognormal+20% n=90@60", func(rng *rand.Rand) ([]float64, []int) {
			xs := make([]float64, 90)
			for i := range xs {
				xs[i] = 200 * math.Exp(0.15*rng.NormFloat64())
				if i >= 60 {
					xs[i] *= 1.2
				}
			}
			return xs, []int{60}
		}},
		{"t2 noise n=200", func(rng *rand.Rand) ([]float64, []int) {
			xs := make([]float64, 200)
			for i := range xs {
				xs[i] = rng.NormFloat64() / math.Sqrt((sq(rng.NormFloat64())+sq(rng.NormFloat64()))/2)
			}
			return xs, nil
		}},
	}
}

func sq(x float64) float64 { return x * x }

func rw(rng *rand.Rand, n int, sdq, drift float64) []float64 {
	xs := make([]float64, n)
	mu := 0.0
	for i := range xs {
		mu += sdq*rng.NormFloat64() + drift
		xs[i] = mu + rng.NormFloat64()
	}
	return xs
}

func ar(rng *rand.Rand, n int, phi float64) []float64 {
	xs := make([]float64, n)
	e := 0.0
	for i := range xs {
		e = phi*e + math.Sqrt(1-phi*phi)*rng.NormFloat64()
		xs[i] = e
	}
	return xs
}

// evalSuite returns a table: for null scenarios the fraction of series with
// any change point and the mean count; for others the fraction where exactly
// the true changes were found within ±2.
func evalSuite(reps int) string {
	out := ""
	for _, sc := range scenarios() {
		rng := rand.New(rand.NewSource(42))
		hit, anyCP, total := 0, 0, 0
		for r := 0; r < reps; r++ {
			xs, truth := sc.gen(rng)
			got := Detect(xs, Options{})
			total += len(got)
			if len(got) > 0 {
				anyCP++
			}
			if near(got, truth, 2) {
				hit++
			}
		}
		out += fmt.Sprintf("%-28s exact=%.2f any=%.2f mean#=%.2f\n", sc.name, float64(hit)/float64(reps), float64(anyCP)/float64(reps), float64(total)/float64(reps))
	}
	return out
}
