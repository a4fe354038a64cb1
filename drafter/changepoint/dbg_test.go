package changepoint

import (
	"fmt"
	"math/rand"
	"testing"
)

func TestDbg(t *testing.T) {
	for _, seed := range []int64{2, 11} {
		rng := rand.New(rand.NewSource(seed))
		xs := noise(rng, 60, 1)
		for i := 30; i < 60; i++ {
			xs[i] += 3
		}
		debugf = func(f string, a ...any) { fmt.Printf(f+"\n", a...) }
		fmt.Println(Detect(xs, Options{}))
		debugf = nil
	}
}
