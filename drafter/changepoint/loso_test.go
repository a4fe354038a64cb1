package changepoint

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTCPDLOSO is the leave-one-series-out check of the TCPD harness
// (TCPD_LOSO=1; it runs the detector 14 × |grid| times): for each series,
// the penalty weight is chosen from a grid by the mean F1 + cover on the
// other 13 series and the held-out series is scored with it. The default
// weight is not chosen this way (it is BIC's 3); the LOSO figure shows what
// choosing it by data would have given on unseen series, and the in-sample
// row what the best grid value gives on the series it was chosen on.
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
	grid := []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6}
	runs := make([][]tcpdScore, len(grid))
	for g, pen := range grid {
		runs[g], _ = runTCPD(t, dir, annRaw, Options{Penalty: pen})
	}
	k := len(runs[0])
	mean := func(g int, skip int) (f1, cov float64) {
		m := 0
		for i, s := range runs[g] {
			if i != skip {
				f1 += s.F1
				cov += s.Cover
				m++
			}
		}
		return f1 / float64(m), cov / float64(m)
	}
	var b strings.Builder
	bestIn := 0
	for g := range grid {
		f, c := mean(g, -1)
		fmt.Fprintf(&b, "penalty %.1f·log n: in-sample F1 %.3f cover %.3f\n", grid[g], f, c)
		if bf, bc := mean(bestIn, -1); f+c > bf+bc {
			bestIn = g
		}
	}
	var lf, lc float64
	for i := 0; i < k; i++ {
		best := 0
		for g := range grid {
			f, c := mean(g, i)
			if bf, bc := mean(best, i); f+c > bf+bc {
				best = g
			}
		}
		lf += runs[best][i].F1
		lc += runs[best][i].Cover
		fmt.Fprintf(&b, "held out %-20s chosen %.1f  F1 %.3f cover %.3f\n", runs[best][i].Name, grid[best], runs[best][i].F1, runs[best][i].Cover)
	}
	f, c := mean(bestIn, -1)
	fmt.Fprintf(&b, "best in-sample (penalty %.1f): F1 %.3f cover %.3f\n", grid[bestIn], f, c)
	fmt.Fprintf(&b, "leave-one-series-out: F1 %.3f cover %.3f\n", lf/float64(k), lc/float64(k))
	t.Log("\n" + b.String())
}

// BenchmarkDetectScaling times Detect (and, for daily points, the
// previous detector DetectExact, which the drafter still uses) on white
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
