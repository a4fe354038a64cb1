package changepoint

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

func TestDbg(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	for rep := 0; rep < 4; rep++ {
		xs := make([]float64, 90)
		for i := range xs {
			xs[i] = 200 * math.Exp(0.15*rng.NormFloat64())
			if i >= 60 {
				xs[i] *= 1.2
			}
		}
		debugf = func(f string, a ...any) { fmt.Printf(f+"\n", a...) }
		fmt.Println(Detect(xs, Options{}))
		debugf = nil
		seg := segmentIDs(90, nil)
		zs, _ := standardize(xs, seg)
		zs = hampel(zs, 3, 3)
		for _, l := range lambdas[:6] {
			r := 2 / (2 + l)
			m := model{r: r, q: l * r}
			cps, cost := m.segment(zs, 3*math.Log(90), 5)
			fmt.Println(l, cps, cost, m.segCost(zs, 0, 90), m.segCost(zs, 0, 60)+m.segCost(zs, 60, 90))
		}
	}
}
