package drafter

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/impact-dev/impact/drafter/changepoint"
	"github.com/impact-dev/impact/internal/model"
)

// benchInput: 1,000 PRs over 5 repos (a quarter of them mine) and 50
// hourly series over a year, each with a few level shifts, some right
// after a PR.
func benchInput() Input {
	in, _ := benchData()
	return in
}

// benchData also returns the true shift times of each series.
func benchData() (Input, [][]time.Time) {
	r := rand.New(rand.NewPCG(42, 42))
	start := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	const hours = 365 * 24
	repos := []string{"acme/search-api", "acme/checkout", "acme/gateway", "acme/billing", "acme/infra"}
	authors := []string{"alice", "bob", "carol", "dave"}
	prs := make([]model.PR, 1000)
	for i := range prs {
		prs[i] = model.PR{Repo: repos[i%len(repos)], Number: 1000 + i, Title: "Add thing " + fmt.Sprint(i),
			Author: authors[r.IntN(len(authors))], MergedAt: start.Add(time.Duration(r.IntN(hours)) * time.Hour),
			MergeSHA: fmt.Sprintf("%040x", i)}
	}
	deploys := make([]model.Deploy, 0, 500)
	for i := 0; i < len(prs); i += 2 {
		deploys = append(deploys, model.Deploy{Repo: prs[i].Repo, Workflow: "deploy.yml", RunID: int64(i), SHA: prs[i].MergeSHA,
			Time: prs[i].MergedAt.Add(40 * time.Minute)})
	}
	series := make([]Series, 50)
	truth := make([][]time.Time, 50)
	for k := range series {
		m := model.Metric{ID: fmt.Sprintf("m%02d", k), Name: fmt.Sprintf("metric %d", k), Unit: "ms", Better: "lower",
			Repos: []string{repos[k%len(repos)]}, Category: "performance"}
		if k%5 == 4 {
			m.Unit, m.Better = "rps", "higher"
		}
		// Shifts: 4 per series, half at the live time of a PR to its repo.
		type st struct {
			at time.Time
			f  float64
		}
		var shifts []st
		for j := 0; j < 4; j++ {
			at := start.Add(time.Duration(r.IntN(hours-30*24)+15*24) * time.Hour)
			if j%2 == 0 {
				p := prs[(k%len(repos))+len(repos)*r.IntN(len(prs)/len(repos))]
				at = p.MergedAt.Add(time.Hour)
			}
			shifts = append(shifts, st{at, []float64{0.6, 1.4, 0.75, 1.5}[j]})
			truth[k] = append(truth[k], at)
		}
		samples := make([]model.Sample, hours)
		for h := range samples {
			t := start.Add(time.Duration(h) * time.Hour)
			v := 300.0
			for _, s := range shifts {
				if !t.Before(s.at) {
					v *= s.f
				}
			}
			v *= (1 + 0.3*math.Sin(2*math.Pi*float64(t.Hour())/24)) * math.Exp(0.2*r.NormFloat64())
			if r.Float64() < 0.01 {
				v *= 5
			}
			samples[h] = model.Sample{Time: t, Value: v}
		}
		series[k] = Series{Metric: m, Samples: samples}
	}
	return Input{Params: Params{Me: []string{"alice"}}, Series: series, PRs: prs, Deploys: deploys, Now: start.Add(hours * time.Hour)}, truth
}

// BenchmarkRun: one Run over a year of hourly data for 50 series and
// 1,000 PRs, with the changepoint detector (the default,
// changepoint.Detect, O(n log n)), with the previous one
// (changepoint.DetectExact, O(n²): see exactDetect) and with the rank-split
// fallback.
func BenchmarkRun(b *testing.B) {
	in := benchInput()
	for _, d := range []struct {
		name string
		fn   func([]float64) []int
	}{{"changepoint", changepointDetect}, {"changepoint-exact", exactDetect}, {"ranksplit", binsegDetect}} {
		b.Run(d.name, func(b *testing.B) {
			detect = d.fn
			defer func() { detect = changepointDetect }()
			b.ReportAllocs()
			var res Result
			cpu0 := cpuTime()
			for b.Loop() {
				res = Run(in)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
			// CPU time: on a shared machine the wall clock also counts
			// the other jobs.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/run")
			b.ReportMetric(float64(len(res.Drafts)), "drafts")
			b.ReportMetric(float64(len(res.Regressions)+len(res.Unattributed)), "shifts")
		})
	}
}

// exactDetect is changepointDetect with the previous detector,
// changepoint.DetectExact, in place of Detect, for BenchmarkRun: what the
// switch saved.
func exactDetect(xs []float64) []int {
	pts := changepoint.DetectExact(xs, changepoint.Options{MinSegment: minSegment})
	if len(pts) == 0 && sparse(xs) {
		return binsegDetect(xs)
	}
	idx := make([]int, len(pts))
	for i, p := range pts {
		idx[i] = p.Index
	}
	return idx
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
