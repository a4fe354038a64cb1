package world

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// The sizes of a Bench world.
const (
	BenchRepos            = 5
	BenchMergedPerRepo    = 500 // merged within the year
	BenchUnmergedPerRepo  = 20  // closed without merging within the year
	BenchOlderPerRepo     = 30  // merged in the 60 days before the year
	BenchDatadogSeries    = 10
	BenchPrometheusSeries = 10
	BenchServices         = 2
	BenchIncidents        = 2000 // per PagerDuty service
	BenchWorkflows        = 3
	BenchRunsPerWorkflow  = 3000
)

const benchSeed = 20260101

var benchRepos = []string{"acme/search-api", "acme/checkout", "acme/billing", "acme/gateway", "acme/notifications"}

var benchServiceNames = []string{"search-api", "checkout", "billing", "gateway", "notifications",
	"auth", "ledger", "catalog", "inventory", "shipping"}

// Bench returns the world of the backfill benchmark (bench/backfill):
// one year before end (hour-aligned) of
//
//   - 5 repos, each with 500 PRs merged and 20 closed unmerged within the
//     year, and 30 merged in the 60 days before it (so a walk down the
//     list has something to stop at), by five authors and dependabot;
//   - 20 hourly APM series (GenerateSeries): 10 with source datadog and 10
//     with source prometheus, none with `paths` (so the github collector
//     lists no files);
//   - 2 PagerDuty services with 2,000 incidents each, all acknowledged and
//     resolved before end;
//   - 3 GitHub Actions workflows (one of them deploys) with 3,000 completed
//     runs each on main.
//
// Start is end minus 365 days. The same end gives the same world.
func Bench(end time.Time) *World {
	end = end.UTC().Truncate(time.Hour)
	start := end.Add(-365 * day)
	w := &World{
		Start:         start,
		End:           end,
		Me:            "alice",
		Repos:         slices.Clone(benchRepos),
		Series:        map[string][]model.Sample{},
		PagerDutyUser: "PALICE1",
	}
	benchPRs(w)
	benchMetrics(w)
	benchIncidents(w)
	benchRuns(w)
	return w
}

var benchAuthors = []string{"alice", "bob", "carol", "dave", "erin", "dependabot[bot]"}

var (
	benchVerbs = []string{"Add", "Fix", "Refactor", "Speed up", "Remove", "Document", "Simplify", "Cache", "Validate", "Retry"}
	benchNouns = []string{"request logging", "pagination of search results", "the billing export", "retries on 503",
		"connection pool sizing", "the health check", "feature flag cleanup", "rate limiter", "schema migration",
		"error messages", "metrics labels", "the config loader", "timeouts on upstream calls", "batch writes"}
	benchDirs = []string{"internal/api", "internal/store", "internal/query", "cmd/server", "internal/metrics", "pkg/client"}
)

func benchPRs(w *World) {
	b := newBuilder(benchSeed, w.Start, w.End)
	rng := seedFor(benchSeed, "bench-prs")
	add := func(repo string, closed bool) {
		author := benchAuthors[rng.IntN(len(benchAuthors))]
		title := fmt.Sprintf("%s %s", benchVerbs[rng.IntN(len(benchVerbs))], benchNouns[rng.IntN(len(benchNouns))])
		if author == "dependabot[bot]" {
			title = fmt.Sprintf("Bump golang.org/x/net from 0.%d.0 to 0.%d.0", 20+rng.IntN(10), 30+rng.IntN(10))
		}
		var files []File
		for range 1 + rng.IntN(3) {
			files = append(files, File{
				Filename:  fmt.Sprintf("%s/file%d.go", benchDirs[rng.IntN(len(benchDirs))], rng.IntN(40)),
				Status:    "modified",
				Additions: 1 + rng.IntN(80),
				Deletions: rng.IntN(40),
			})
		}
		b.add(repo, author, time.Time{}, closed, title, files)
	}
	// The year first, then the older history: placeOrdinary places the
	// PRs not placed yet, evenly over its range.
	for _, repo := range benchRepos {
		for i := range BenchMergedPerRepo + BenchUnmergedPerRepo {
			add(repo, i%((BenchMergedPerRepo+BenchUnmergedPerRepo)/BenchUnmergedPerRepo) == 7)
		}
	}
	b.placeOrdinary(w.Start, w.End)
	for _, repo := range benchRepos {
		for range BenchOlderPerRepo {
			add(repo, false)
		}
	}
	b.placeOrdinary(w.Start.Add(-60*day), w.Start)
	base := map[string]int{}
	for i, repo := range benchRepos {
		base[repo] = 1000 * (i + 1)
	}
	w.PRs, w.ClosedUnmerged, w.Info = b.finish(base, nil)
}

func benchMetrics(w *World) {
	for i := range BenchDatadogSeries + BenchPrometheusSeries {
		svc := benchServiceNames[i%len(benchServiceNames)]
		m := config.Metric{
			Name:     svc + " p99 latency",
			Unit:     "ms",
			Better:   "lower",
			Repos:    []string{benchRepos[i%len(benchRepos)]},
			Category: "performance",
		}
		if i < BenchDatadogSeries {
			m.ID, m.Source = "dd-"+svc+"-p99", "datadog"
			m.Query = fmt.Sprintf("p99:trace.http.request.duration{service:%s,env:prod}", svc)
		} else {
			m.ID, m.Source = "prom-"+svc+"-p99", "prometheus"
			m.Query = fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="%s"}[5m])))`, svc)
		}
		rng := seedFor(benchSeed, m.ID)
		level := 80 + 400*rng.Float64()
		regimes := []Regime{{From: w.Start, Level: level}}
		if i%2 == 0 { // half the series move once during the year
			at := w.Start.Add(time.Duration(60+rng.IntN(240)) * day).Truncate(time.Hour)
			regimes = append(regimes, Regime{From: at, Level: level * (0.6 + 0.8*rng.Float64())})
		}
		w.Series[m.ID] = GenerateSeries(rng, w.Start, w.End, regimes,
			Shape{DailyAmp: 0.25, PeakHour: 15, Weekend: 0.8, Sigma: 0.08, Spikes: 4, Min: 1}, nil)
		w.Metrics = append(w.Metrics, m)
	}
}

// benchTimes returns n sorted times spread uniformly at random over
// [from, to), to the second.
func benchTimes(rng *rand.Rand, n int, from, to time.Time) []time.Time {
	span := int64(to.Sub(from) / time.Second)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = from.Add(time.Duration(rng.Int64N(span)) * time.Second)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func benchIncidents(w *World) {
	users := []string{"PALICE1", "PBOB001", "PCAROL1", "PDAVE01"}
	for s := range BenchServices {
		svc := fmt.Sprintf("PSVC%03d", s+1)
		w.Services = append(w.Services, svc)
		rng := seedFor(benchSeed, "incidents/"+svc)
		// Created up to 6 hours before end, so all are resolved by then.
		for i, at := range benchTimes(rng, BenchIncidents, w.Start, w.End.Add(-6*time.Hour)) {
			ack := at.Add(time.Duration(30+rng.IntN(15*60)) * time.Second)
			w.Incidents = append(w.Incidents, model.Incident{
				ID:             fmt.Sprintf("Q%d%06d", s+1, i),
				Service:        svc,
				Title:          fmt.Sprintf("%s: %s", benchServiceNames[s], benchNouns[rng.IntN(len(benchNouns))]),
				Urgency:        []string{"high", "low"}[rng.IntN(2)],
				Status:         "resolved",
				CreatedAt:      at,
				AcknowledgedAt: ack,
				ResolvedAt:     ack.Add(time.Duration(5+rng.IntN(240)) * time.Minute),
				Assignees:      []string{users[rng.IntN(len(users))]},
			})
		}
	}
	slices.SortStableFunc(w.Incidents, func(a, b model.Incident) int { return a.CreatedAt.Compare(b.CreatedAt) })
}

func benchRuns(w *World) {
	w.Workflows = []Workflow{
		{Repo: benchRepos[0], Workflow: "ci.yml", Branch: "main"},
		{Repo: benchRepos[0], Workflow: "deploy.yml", Branch: "main", Deploys: true},
		{Repo: benchRepos[1], Workflow: "ci.yml", Branch: "main"},
	}
	for k, wf := range w.Workflows {
		rng := seedFor(benchSeed, "runs/"+wf.Repo+"/"+wf.Workflow)
		// Created up to an hour before end, so all are completed by then.
		for i, at := range benchTimes(rng, BenchRunsPerWorkflow, w.Start, w.End.Add(-time.Hour)) {
			id := int64(7_000_000_000) + int64(k)*10_000_000 + int64(i)
			concl := "success"
			if rng.IntN(10) == 0 {
				concl = "failure"
			}
			w.CIRuns = append(w.CIRuns, model.CIRun{
				Repo:       wf.Repo,
				Workflow:   wf.Workflow,
				RunID:      id,
				Attempt:    1,
				Branch:     "main",
				SHA:        sha(fmt.Sprintf("%s/%s/%d", wf.Repo, wf.Workflow, id)),
				Event:      "push",
				Status:     "completed",
				Conclusion: concl,
				CreatedAt:  at,
				StartedAt:  at.Add(time.Duration(3+rng.IntN(60)) * time.Second),
				Duration:   time.Duration(3*60+rng.IntN(12*60)) * time.Second,
				Deploys:    wf.Deploys,
			})
		}
	}
}
