package world

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestExpWindowErr(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(90 * 24 * time.Hour)
	for _, k := range []int{1, 2, 4, 6, 8, 12, 24} {
		stratK = k
	for _, sh := range []Shape{
		{DailyAmp: 0.2, PeakHour: 15, Weekend: 0.93, Sigma: 0.12, Spikes: 4},
		{DailyAmp: 0.25, PeakHour: 15, Weekend: 0.8, Sigma: 0.08, Spikes: 4, SpikeDown: true},
	} {
		worst := 0.0
		sum := 0.0
		cnt := 0
		for seed := uint64(0); seed < 30; seed++ {
			rng := seedFor(seed, "x")
			ss := GenerateSeries(rng, start, end, []Regime{{start, 100}}, sh, nil)
			for i := 0; i+168 <= len(ss); i += 5 {
				m, _ := WindowMedian(ss[i:i+168], ss[i].Time, ss[i+167].Time.Add(time.Hour))
				e := math.Abs(m/100 - 1)
				worst = max(worst, e)
				sum += e * e
				cnt++
			}
		}
		fmt.Printf("k=%d amp %.2f sig %.2f worst %.4f rms %.4f\n", k, sh.DailyAmp, sh.Sigma, worst, math.Sqrt(sum/float64(cnt)))
	}
	}
}
