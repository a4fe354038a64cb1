package changepoint

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTCPDLOSO is the leave-one-series-out check of the TCPD harness
// (TCPD_LOSO=1; it runs the detector 14 times per configuration). For each
// of two families of configurations — the penalty weight (at the default
// Huber constant) and the Huber constant of the heavy-tailed wander model
// (at the default penalty) — and for both together, every series is scored
// with the configuration that has the best mean F1 + cover on the other 13.
// The default penalty is not chosen this way (it is BIC's 3); the Huber
// constant is (see wanderHuber). The in-sample rows show what the best
// configuration gives on the series it was chosen on.
//
//	TCPD_LOSO=1 go test -run TestTCPDLOSO -v ./drafter/changepoint/
func TestTCPDLOSO(t *testing.T) {
	if os.Getenv("TCPD_LOSO") == "" {
		t.Skip("set TCPD_LOSO=1")
	}
	dir := os.Getenv("TCPD_DATA")
	if dir == "" {
		dir = "/work/shared/bench/tcpd/data"
	}
	annRaw, err := os.ReadFile(filepath.Join(dir, "annotations.json"))
	if err != nil {
		t.Skipf("TCPD data not available: %v", err)
	}
	type config struct {
		name string
		o    Options
	}
	var pens, hubers []config
	for _, p := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6} {
		pens = append(pens, config{fmt.Sprintf("penalty %.1f·log n", p), Options{Penalty: p}})
	}
	for _, h := range []float64{-1, 1.345, 2, 3} {
		name := fmt.Sprintf("huber %.3g", h)
		if h < 0 {
			name = "huber none"
		}
		hubers = append(hubers, config{name, Options{huber: h}})
	}
	scores := map[string][]tcpdScore{}
	var b strings.Builder
	for _, c := range append(append([]config(nil), pens...), hubers...) {
		if _, ok := scores[c.name]; !ok {
			scores[c.name], _ = runTCPD(t, dir, annRaw, c.o)
		}
		f, cv := meanScore(scores[c.name], -1)
		fmt.Fprintf(&b, "%-20s in-sample F1 %.3f cover %.3f\n", c.name, f, cv)
	}
	for _, fam := range []struct {
		name string
		cs   []config
	}{{"penalty", pens}, {"huber", hubers}, {"both", append(append([]config(nil), pens...), hubers...)}} {
		k := len(scores[fam.cs[0].name])
		best := func(skip int) string {
			arg, bv := "", math.Inf(-1)
			for _, c := range fam.cs {
				if f, cv := meanScore(scores[c.name], skip); f+cv > bv {
					arg, bv = c.name, f+cv
				}
			}
			return arg
		}
		var lf, lc float64
		chosen := map[string]int{}
		for i := 0; i < k; i++ {
			c := best(i)
			chosen[c]++
			lf += scores[c][i].F1
			lc += scores[c][i].Cover
		}
		in := best(-1)
		f, cv := meanScore(scores[in], -1)
		fmt.Fprintf(&b, "%s: best in-sample %s F1 %.3f cover %.3f; leave-one-series-out F1 %.3f cover %.3f (chosen %v)\n",
			fam.name, in, f, cv, lf/float64(k), lc/float64(k), chosen)
	}
	t.Log("\n" + b.String())
}

// meanScore is the mean F1 and cover of scores, leaving out index skip.
func meanScore(scores []tcpdScore, skip int) (f1, cov float64) {
	m := 0
	for i, s := range scores {
		if i != skip {
			f1 += s.F1
			cov += s.Cover
			m++
		}
	}
	return f1 / float64(m), cov / float64(m)
}

// BenchmarkDetectScaling times Detect (and, for daily points, the
// previous detector DetectExact, which the drafter used before) on white
// noise with one step, over 1, 2, 3 and 5 years of daily and of hourly
// points.
//
//	go test -run '^$' -bench DetectScaling -benchtime 3x -count 3 ./drafter/changepoint/
func BenchmarkDetectScaling(b *testing.B) {
	for _, c := range []struct {
		name  string
		per   int
		exact bool
	}{{"daily", 365, false}, {"hourly", 8760, false}, {"daily-exact", 365, true}} {
		for _, years := range []int{1, 2, 3, 5} {
			n := c.per * years
			rng := rand.New(rand.NewSource(1))
			xs := noise(rng, n, 1)
			for i := n / 2; i < n; i++ {
				xs[i] += 2
			}
			b.Run(fmt.Sprintf("%s/%dy/n=%d", c.name, years, n), func(b *testing.B) {
				cpu0 := cpuTime()
				for range b.N {
					if c.exact {
						DetectExact(xs, Options{})
					} else {
						Detect(xs, Options{})
					}
				}
				// CPU time, not wall time: on a shared machine the wall
				// clock mostly measures the other jobs.
				cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
				b.ReportMetric(cpu*1e3, "cpu-ms/op")
				b.ReportMetric(cpu*1e9/float64(n), "cpu-ns/point")
			})
		}
	}
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
