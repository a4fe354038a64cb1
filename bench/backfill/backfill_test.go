package backfill

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/world"
)

// Latency is what the benchmark's fakes add to each request.
const Latency = 50 * time.Millisecond

var (
	worldOnce sync.Once
	benchW    *world.World
)

func benchWorld() *world.World {
	worldOnce.Do(func() { benchW = world.Bench(DefaultEnd) })
	return benchW
}

// check holds the goals every run must meet, whatever the latency.
func check(t testing.TB, r *Report) {
	t.Helper()
	if err := r.Err(); err != nil {
		t.Error(err)
	}
	w := benchWorld()
	want := Stored{PRs: world.BenchRepos * world.BenchMergedPerRepo, Samples: len(w.Metrics) * 365 * 24,
		Incidents: len(w.Incidents), CIRuns: len(w.CIRuns), Deploys: world.BenchRunsPerWorkflow}
	got := r.Stored
	// Samples: the fake Datadog serves about one hour in sixty as null.
	if got.PRs != want.PRs || got.Incidents != want.Incidents || got.CIRuns != want.CIRuns ||
		got.Samples < want.Samples*95/100 || got.Samples > want.Samples || got.Deploys < want.Deploys*85/100 {
		t.Errorf("stored %+v, want %+v", got, want)
	}
	// Honeycomb: the 7 days the API reads back, from the first whole hour
	// within them.
	if want := HoneycombSeries * 167; got.Honeycomb != want {
		t.Errorf("stored %d Honeycomb samples, want %d", got.Honeycomb, want)
	}
	for _, s := range r.Sources {
		if s.Source == "honeycomb" && (s.Requests != s.Min || s.Poll2 != 0) {
			t.Errorf("honeycomb: %d requests (minimum %d), second poll %d; want the minimum and none", s.Requests, s.Min, s.Poll2)
		}
		if s.Requests < s.Min {
			t.Errorf("%s: %d requests, fewer than the minimum %d: the minimum is wrong", s.Source, s.Requests, s.Min)
		}
		if s.Source == "github" && s.Ratio() > 1.1 {
			t.Errorf("github: %d requests, %.2f× the minimum %d", s.Requests, s.Ratio(), s.Min)
		}
		if s.Poll2Budget != 0 {
			t.Errorf("%s: second poll spent %d of the GitHub budget", s.Source, s.Poll2Budget)
		}
	}
	if r.GitHubUsed != 0 {
		t.Errorf("second poll: fake GitHub's X-RateLimit-Used moved by %d", r.GitHubUsed)
	}
	for _, s := range r.Sources {
		if s.Source == "github" && (s.Poll2 != world.BenchRepos || s.Poll2NotModified != s.Poll2) {
			t.Errorf("github second poll: %d requests, %d 304s; want one 304 per repo", s.Poll2, s.Poll2NotModified)
		}
	}
}

func logDetails(t testing.TB, r *Report) {
	t.Helper()
	for _, s := range r.Sources {
		t.Logf("%s: %s", s.Source, statusSummary(s.Statuses))
	}
	t.Logf("requests by route after the backfill:\n%s", r.Routes)
	t.Logf("after the second poll:\n%s", r.Routes2)
}

// TestBackfillSmoke runs the whole benchmark without latency: everything is
// stored, the GitHub sources' second poll is free.
func TestBackfillSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("collects a year of five sources")
	}
	r, err := Run(context.Background(), Options{World: benchWorld()})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.Markdown())
	logDetails(t, r)
	check(t, r)
}

// TestBackfillBench is the benchmark with 50 ms per request, printing its
// Markdown tables: IMPACT_BENCH=1 go test -run TestBackfillBench -v ./bench/backfill/
func TestBackfillBench(t *testing.T) {
	if os.Getenv("IMPACT_BENCH") != "1" {
		t.Skip("set IMPACT_BENCH=1")
	}
	r, err := Run(context.Background(), Options{World: benchWorld(), Latency: Latency})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.Markdown())
	logDetails(t, r)
	check(t, r)
}

// BenchmarkBackfill is what scripts/bench.sh runs (-benchtime 1x). Besides
// the metrics, it writes the Markdown tables to the file named by
// $IMPACT_BACKFILL_MD, or logs them when that is unset.
func BenchmarkBackfill(b *testing.B) {
	w := benchWorld()
	var r *Report
	for b.Loop() {
		var err error
		r, err = Run(context.Background(), Options{World: w, Latency: Latency})
		if err != nil {
			b.Fatal(err)
		}
	}
	check(b, r)
	req, mn, poll2 := r.Totals()
	b.ReportMetric(float64(req), "requests")
	b.ReportMetric(float64(mn), "min-requests")
	b.ReportMetric(r.Backfill.Seconds(), "backfill-s")
	b.ReportMetric(float64(poll2), "poll2-requests")
	b.ReportMetric(float64(r.GitHubUsed), "poll2-github-budget")
	for _, s := range r.Sources {
		b.ReportMetric(s.Ratio(), s.Source+"-x-min")
	}
	if path := os.Getenv("IMPACT_BACKFILL_MD"); path != "" {
		if err := os.WriteFile(path, []byte(r.Markdown()), 0o644); err != nil {
			b.Fatal(err)
		}
		return
	}
	b.Log("\n" + r.Markdown())
}
