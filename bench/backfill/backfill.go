// Package backfill measures a one-year backfill of every source against
// the fake vendors (collectors/<name>/fake.go) serving world.Bench: the requests
// the collectors make against the fewest the vendors' APIs allow, the wall
// time, and what a second poll with nothing new costs.
//
// Run collects through app.Pipeline.Collect with collectors/all's registry
// — the collectors concurrently, as `impact collect --since 1y` does — into
// a fresh store, with every fake adding Options.Latency to each request and
// counting requests by route and status; then it polls again, 15 minutes
// later, with nothing new.
//
// # The minimum
//
// The fewest requests that read the data at the APIs' largest page or
// range, given what the data is:
//
//   - github: per repo, ⌈listed/100⌉ pages of GET .../pulls?state=closed
//     &sort=updated&per_page=100, where listed counts the closed PRs (merged
//     or not: the API cannot filter them out) updated since Since, plus the
//     first older one when there is one — a reader of a newest-first list
//     only knows it is done when it sees it. No files requests: no metric
//     sets `paths`.
//   - github_actions: per workflow, ⌈runs/100⌉ pages of the workflow's runs
//     created since Since (as if the 1,000-result cap of a filtered listing
//     did not exist).
//   - datadog: per series, ⌈points/1,500⌉ requests of GET /api/v1/query at
//     an hourly rollup: Datadog returns at most 1,500 points per series and
//     coarsens the rollup beyond that.
//   - prometheus: per series, ⌈points/11,000⌉ range queries: Prometheus
//     refuses more than 11,000 steps per series.
//   - pagerduty: ⌈incidents/100⌉ pages of GET /incidents per since/until
//     window, with the fewest windows PagerDuty allows (6 months each),
//     plus ⌈resolved incidents/1,000⌉ pages of POST /analytics/raw/incidents
//     per created_at range the fake allows (a year): PagerDuty clears the
//     acknowledgements and assignees of resolved incidents, and the
//     analytics data has them in bulk. Per-incident requests
//     (GET /incidents/{id}/log_entries, the fallback when analytics is not
//     on the plan or lags) have no minimum.
//   - honeycomb: per series, 3 requests per 7 days (create the query, run
//     it, poll the result once) — and 7 days is all the Query Data API
//     reads back, so a year's backfill stores the last 7 days. The bench
//     serves HoneycombSeries of the world's Datadog series through the
//     honeycomb fake, one query per series ("AVG(value) WHERE series =
//     <id>").
//
// A source's ratio is all its requests (listing and per-item, retries
// included) over its minimum.
//
// # Rate limits
//
// The fake GitHub (5,000 an hour, shared by pull requests and Actions) and
// Datadog (1,600 an hour) budgets run on the real clock. The fake
// PagerDuty's 960-a-minute budget runs on a clock Options.PagerDutyClock
// times faster (default 60), so the benchmark measures requests and
// latency rather than a wait the collector cannot avoid; the report gives
// the time that budget alone would take at PagerDuty's real rate.
package backfill

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/honeycomb"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/collectors/prometheus"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/internal/world/worldconfig"
	"github.com/impact-dev/impact/store"
)

// Sources in report order.
var Sources = []string{"github", "github_actions", "datadog", "prometheus", "pagerduty", "honeycomb"}

// HoneycombSeries is how many series the bench reads from Honeycomb: under
// the 10 query results a minute the API allows, so the backfill never
// waits on that limit.
const HoneycombSeries = 4

// Options tune a run.
type Options struct {
	// World is what the fakes serve; default world.Bench(DefaultEnd).
	World *world.World
	// Latency is added by the fakes to every request (default 0).
	Latency time.Duration
	// PagerDutyClock is how much faster than real time the fake
	// PagerDuty's per-minute budget runs; default 60, 1 for real time.
	PagerDutyClock float64
	// Dir holds the store; default a new temporary directory, removed
	// after the run.
	Dir string
	// Logger receives the pipeline's logs; default discarded.
	Logger *slog.Logger
}

// DefaultEnd is the end of the default world.
var DefaultEnd = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// SecondPollAfter is how long after the backfill the second poll runs.
const SecondPollAfter = 15 * time.Minute

// Report is the outcome of a run.
type Report struct {
	Since, End time.Time
	Latency    time.Duration
	// Backfill and Poll are the wall times of the two Collect calls.
	Backfill, Poll time.Duration
	Sources        []SourceReport
	// GitHubUsed is the fake GitHub's primary budget spent by the second
	// poll (its X-RateLimit-Used before and after, by GET /rate_limit).
	GitHubUsed int
	// PagerDutyClock is Options.PagerDutyClock.
	PagerDutyClock float64
	// Stored counts what the store holds after the backfill.
	Stored Stored
	// Routes are the fakes' counts after the backfill and after the second
	// poll (cumulative), one "vendor route status count" a line.
	Routes, Routes2 string
}

// Stored counts the store's contents.
type Stored struct {
	PRs, Samples, Incidents, CIRuns, Deploys int
	// Honeycomb counts the samples of the Honeycomb series.
	Honeycomb int
}

// SourceReport is one source's figures.
type SourceReport struct {
	Source string
	// Units is what the source reads: repos, workflows, series, or
	// services.
	Units string
	// Requests made by the backfill; Detail of them per item (files,
	// /timing, single runs, log entries, single incidents).
	Requests, Detail int
	// Statuses counts the backfill's answers by status.
	Statuses map[int]int
	// Min is the minimum (see the package comment); MinNote says how it
	// was counted.
	Min     int
	MinNote string
	// Wall is the source's run time in the backfill.
	Wall time.Duration
	Err  error
	// Poll2 is the second poll's requests; Poll2NotModified of them 304;
	// Poll2Budget the primary rate-limit budget they spent (GitHub
	// sources: the answers other than 304).
	Poll2, Poll2NotModified, Poll2Budget int
	Poll2Err                             error
}

// Ratio is Requests over Min.
func (s SourceReport) Ratio() float64 {
	if s.Min == 0 {
		return math.Inf(1)
	}
	return float64(s.Requests) / float64(s.Min)
}

// Run does the benchmark once.
func Run(ctx context.Context, o Options) (*Report, error) {
	w := o.World
	if w == nil {
		w = world.Bench(DefaultEnd)
	}
	if o.PagerDutyClock <= 0 {
		o.PagerDutyClock = 60
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "impact-backfill-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}

	counter := &collectorstest.Counter{}
	// A fake counts a request after answering it, which may be after the
	// client has gone on: snapshots wait for the handlers in flight.
	var inflight sync.WaitGroup
	serve := func(h http.Handler) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Done()
			h.ServeHTTP(rw, r)
		}))
	}
	snapshot := func() map[collectorstest.CountKey]int {
		inflight.Wait()
		return counter.Snapshot()
	}
	fo := collectorstest.FakeOptions{Latency: o.Latency, Counter: counter}
	gh := serve(github.NewFake(w, fo, githubactions.FakeRoutes))
	defer gh.Close()
	dd := serve(datadog.NewFake(w, fo))
	defer dd.Close()
	prom := serve(prometheus.NewFake(w, fo))
	defer prom.Close()
	pdo := fo
	started := time.Now()
	pdo.Now = func() time.Time { // the fake's clock: its budget and its view
		return w.End.Add(time.Duration(float64(time.Since(started)) * o.PagerDutyClock))
	}
	pd := serve(pagerduty.NewFake(w, pdo))
	defer pd.Close()
	var mu sync.Mutex
	now := w.End
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	hnyFake := &honeycomb.Fake{Key: "bench", Series: worldSeries(w), Now: clock}
	hny := serve(collectorstest.Counted("honeycomb", hnyFake, honeycombRoute, fo))
	defer hny.Close()

	st, err := store.Open(filepath.Join(dir, "impact.db"), store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()

	reg := all.Registry()
	for _, name := range Sources {
		if !slices.Contains(reg.Names(), name) {
			return nil, fmt.Errorf("collectors/all registers no %s collector", name)
		}
	}
	cfg := benchConfig(w, gh.URL, dd.URL, prom.URL, pd.URL, hny.URL)
	p := &app.Pipeline{
		Config:   cfg,
		Store:    st,
		Registry: reg,
		Logger:   o.Logger,
		Now:      clock,
	}
	since := w.End.AddDate(-1, 0, 0)
	rep := &Report{Since: since, End: w.End, Latency: o.Latency, PagerDutyClock: o.PagerDutyClock}

	// The backfill.
	t0 := time.Now()
	results, err := p.Collect(ctx, app.CollectOptions{Since: since})
	rep.Backfill = time.Since(t0)
	if results == nil && err != nil {
		return nil, err
	}
	first := bySource(snapshot())
	rep.Routes = counter.String()
	mins := minimums(w, since, w.End)
	for _, src := range Sources {
		c := first[src]
		sr := SourceReport{Source: src, Requests: c.total, Detail: c.detail, Statuses: c.statuses,
			Min: mins[src].n, MinNote: mins[src].note, Units: mins[src].units}
		for _, r := range results {
			if r.Source == src {
				sr.Wall, sr.Err = r.Duration, r.Err
			}
		}
		rep.Sources = append(rep.Sources, sr)
	}
	if rep.Stored, err = stored(ctx, st, w, cfg); err != nil {
		return nil, err
	}

	// The second poll, with nothing new.
	usedBefore, err := githubUsed(ctx, gh.URL)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	now = w.End.Add(SecondPollAfter)
	mu.Unlock()
	t0 = time.Now()
	results, err = p.Collect(ctx, app.CollectOptions{})
	rep.Poll = time.Since(t0)
	if results == nil && err != nil {
		return nil, err
	}
	usedAfter, err := githubUsed(ctx, gh.URL)
	if err != nil {
		return nil, err
	}
	rep.GitHubUsed = usedAfter - usedBefore
	second := bySource(snapshot())
	rep.Routes2 = counter.String()
	for i := range rep.Sources {
		sr := &rep.Sources[i]
		a, b := first[sr.Source], second[sr.Source]
		sr.Poll2 = b.total - a.total
		sr.Poll2NotModified = b.statuses[http.StatusNotModified] - a.statuses[http.StatusNotModified]
		if sr.Source == "github" || sr.Source == "github_actions" {
			sr.Poll2Budget = sr.Poll2 - sr.Poll2NotModified
		}
		for _, r := range results {
			if r.Source == sr.Source {
				sr.Poll2Err = r.Err
			}
		}
	}
	return rep, nil
}

func benchConfig(w *world.World, ghURL, ddURL, promURL, pdURL, hnyURL string) *config.Config {
	cfg := &config.Config{
		File:    "(backfill benchmark)",
		Me:      config.Me{GitHub: config.StringList{w.Me}, Name: "Alice Example", Email: "alice@example.com", Timezone: "UTC"},
		Metrics: slices.Clone(w.Metrics),
		Drafter: config.DrafterConfig{Window: config.Duration(7 * 24 * time.Hour), Settle: config.Duration(24 * time.Hour),
			MinChange: config.Percent(0.10), Alpha: 0.01},
	}
	// Reviews given (search + per-PR requests) are not part of what this
	// bench measures: the PR walk against its minimum.
	cfg.Sources.Set(github.Name, &github.Config{Token: "bench", APIURL: ghURL + "/", Repos: slices.Clone(w.Repos), Interval: config.Duration(15 * time.Minute), SkipReviews: true})
	cfg.Sources.Set(githubactions.Name, &githubactions.Config{Token: "bench", APIURL: ghURL + "/", Workflows: worldconfig.Workflows(w),
		Interval: config.Duration(30 * time.Minute)})
	cfg.Sources.Set(datadog.Name, &datadog.Config{APIKey: "bench", AppKey: "bench", APIURL: ddURL, Interval: config.Duration(time.Hour)})
	cfg.Sources.Set(prometheus.Name, &prometheus.Config{URL: promURL, Interval: config.Duration(time.Hour)})
	cfg.Sources.Set(pagerduty.Name, &pagerduty.Config{Token: "bench", APIURL: pdURL, Services: slices.Clone(w.Services),
		UserID: w.PagerDutyUser, Interval: config.Duration(time.Hour)})
	cfg.Sources.Set(honeycomb.Name, &honeycomb.Config{APIKey: "bench", APIURL: hnyURL, Interval: config.Duration(time.Hour)})
	cfg.Metrics = append(cfg.Metrics, honeycombMetrics(w)...)
	return cfg
}

// honeycombMetrics are the bench's Honeycomb series: the first
// HoneycombSeries Datadog series of the world, read from the honeycomb
// fake.
func honeycombMetrics(w *world.World) []config.Metric {
	var out []config.Metric
	for _, m := range w.Metrics {
		if m.Source != "datadog" || len(out) == HoneycombSeries {
			continue
		}
		m.ID, m.Source, m.In = "hny-"+m.ID, honeycomb.Name, "bench"
		m.Query = fmt.Sprintf("AVG(value) WHERE series = %q", strings.TrimPrefix(m.ID, "hny-"))
		out = append(out, m)
	}
	return out
}

// worldSeries serves the world's series to the honeycomb fake: the query's
// "series = <id>" filter names it.
func worldSeries(w *world.World) func(string, honeycomb.Spec, time.Time, time.Time) []model.Sample {
	return func(_ string, s honeycomb.Spec, from, to time.Time) []model.Sample {
		var id string
		for _, f := range s.Filters {
			if f.Column == "series" && f.Op == "=" {
				id, _ = f.Value.(string)
			}
		}
		var out []model.Sample
		for _, x := range w.Series[id] {
			if !x.Time.Before(from) && x.Time.Before(to) && x.Time.Before(w.End) {
				out = append(out, x)
			}
		}
		return out
	}
}

// honeycombRoute is the route of a Query Data API request.
func honeycombRoute(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[1] == "queries":
		return r.Method + " /1/queries/{dataset}"
	case len(parts) == 3 && parts[1] == "query_results":
		return r.Method + " /1/query_results/{dataset}"
	case len(parts) == 4 && parts[1] == "query_results":
		return r.Method + " /1/query_results/{dataset}/{id}"
	}
	return ""
}

// counts are one source's requests.
type counts struct {
	total, detail int
	statuses      map[int]int
}

// bySource sorts the fakes' counts by source: the route tells the two
// GitHub sources apart, and per-item routes from listings.
func bySource(snap map[collectorstest.CountKey]int) map[string]counts {
	out := map[string]counts{}
	for k, n := range snap {
		src, detail := route(k)
		c := out[src]
		if c.statuses == nil {
			c.statuses = map[int]int{}
		}
		c.total += n
		c.statuses[k.Status] += n
		if detail {
			c.detail += n
		}
		out[src] = c
	}
	return out
}

func route(k collectorstest.CountKey) (source string, detail bool) {
	p := k.Pattern
	switch k.Vendor {
	case "github":
		switch {
		case strings.Contains(p, "/actions/"):
			return "github_actions", !strings.HasSuffix(p, "/runs")
		case strings.HasSuffix(p, "/pulls"):
			return "github", false
		case p == "GET /rate_limit":
			return "github (rate_limit)", false
		}
		return "github", true
	case "pagerduty":
		return "pagerduty", p != "GET /incidents" && p != "POST /analytics/raw/incidents"
	}
	return k.Vendor, false
}

// minimum is one source's minimum.
type minimum struct {
	n           int
	note, units string
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// minimums counts each source's minimum for reading [since, end) of w.
func minimums(w *world.World, since, end time.Time) map[string]minimum {
	out := map[string]minimum{}

	// github: the closed PRs listed, by repo.
	var notes []string
	n := 0
	for _, repo := range w.Repos {
		listed, older := 0, false
		for _, p := range slices.Concat(w.PRs, w.ClosedUnmerged) {
			in := w.Info[p.Key()]
			if p.Repo != repo || in.CreatedAt.After(w.End) || in.ClosedAt.After(w.End) {
				continue
			}
			if in.UpdatedAt.Before(since) {
				older = true
			} else {
				listed++
			}
		}
		if older {
			listed++
		}
		n += ceilDiv(listed, 100)
		notes = append(notes, fmt.Sprintf("%d", ceilDiv(listed, 100)))
	}
	out["github"] = minimum{n, fmt.Sprintf("⌈listed/100⌉ per repo (%s)", strings.Join(notes, "+")), fmt.Sprintf("%d repos", len(w.Repos))}

	// github_actions: runs created since, by workflow.
	n, notes = 0, nil
	for _, wf := range w.Workflows {
		runs := 0
		for _, r := range w.CIRuns {
			if r.Repo == wf.Repo && r.Workflow == wf.Workflow && !r.CreatedAt.Before(since) && !r.CreatedAt.After(end) {
				runs++
			}
		}
		n += max(1, ceilDiv(runs, 100))
		notes = append(notes, fmt.Sprintf("%d", max(1, ceilDiv(runs, 100))))
	}
	out["github_actions"] = minimum{n, fmt.Sprintf("⌈runs/100⌉ per workflow (%s)", strings.Join(notes, "+")), fmt.Sprintf("%d workflows", len(w.Workflows))}

	// datadog and prometheus: hourly points from since to end.
	hours := int(end.Truncate(time.Hour).Sub(since.Truncate(time.Hour)) / time.Hour)
	for _, src := range []string{"datadog", "prometheus"} {
		series := 0
		for _, m := range w.Metrics {
			if m.Source == src {
				series++
			}
		}
		switch src {
		case "datadog":
			per := ceilDiv(hours, 1500)
			out[src] = minimum{series * per, fmt.Sprintf("⌈%d points/1,500⌉ = %d per series", hours, per), fmt.Sprintf("%d series", series)}
		case "prometheus":
			points := hours // each whole hour, and the open hour's start when end is past it
			if !end.Equal(end.Truncate(time.Hour)) {
				points++
			}
			per := ceilDiv(points, 11000)
			out[src] = minimum{series * per, fmt.Sprintf("⌈%d points/11,000⌉ = %d per series", points, per), fmt.Sprintf("%d series", series)}
		}
	}

	// pagerduty: 6-month windows.
	n, notes = 0, nil
	for from := since; from.Before(end); {
		to := from.AddDate(0, 6, 0)
		if to.After(end) {
			to = end
		}
		k := 0
		for _, in := range w.Incidents {
			if !in.CreatedAt.Before(from) && in.CreatedAt.Before(to) && slices.Contains(w.Services, in.Service) {
				k++
			}
		}
		n += max(1, ceilDiv(k, 100))
		notes = append(notes, fmt.Sprintf("%d", max(1, ceilDiv(k, 100))))
		from = to
	}
	listNote := strings.Join(notes, "+")
	// Analytics: the resolved incidents, 1,000 a page, per allowed range.
	notes = nil
	for from := since; from.Before(end); {
		to := from.Add(pagerduty.FakeAnalyticsMaxRange)
		if to.After(end) {
			to = end
		}
		k := 0
		for _, in := range w.Incidents {
			if !in.CreatedAt.Before(from) && in.CreatedAt.Before(to) && slices.Contains(w.Services, in.Service) &&
				!in.ResolvedAt.IsZero() && !in.ResolvedAt.After(end) {
				k++
			}
		}
		n += ceilDiv(k, 1000)
		notes = append(notes, fmt.Sprintf("%d", ceilDiv(k, 1000)))
		from = to
	}
	// honeycomb: 3 requests per 7-day range per series, over what the API
	// reads back.
	hnySeries, hnyFrom := HoneycombSeries, since
	if oldest := end.Add(-honeycomb.MaxAge); hnyFrom.Before(oldest) {
		hnyFrom = oldest
	}
	hnyChunks := ceilDiv(int(end.Sub(hnyFrom)/time.Hour), int(honeycomb.MaxChunk/time.Hour))
	out["honeycomb"] = minimum{hnySeries * 3 * hnyChunks, fmt.Sprintf("3 (create, run, poll) × %d range of ≤ 7 days per series (all the API reads back)", hnyChunks),
		fmt.Sprintf("%d series", hnySeries)}

	out["pagerduty"] = minimum{n, fmt.Sprintf("⌈incidents/100⌉ per 6-month window (%s) + ⌈resolved/1,000⌉ analytics pages per year (%s)",
		listNote, strings.Join(notes, "+")),
		fmt.Sprintf("%d services, %d incidents", len(w.Services), len(w.Incidents))}
	return out
}

// githubUsed reads the fake GitHub's primary budget spent (X-RateLimit-Used
// in GET /rate_limit, which does not spend it).
func githubUsed(ctx context.Context, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/rate_limit", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var rl struct {
		Resources struct {
			Core struct {
				Used int `json:"used"`
			} `json:"core"`
		} `json:"resources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rl); err != nil {
		return 0, fmt.Errorf("rate_limit: %w", err)
	}
	return rl.Resources.Core.Used, nil
}

func stored(ctx context.Context, st *store.Store, w *world.World, cfg *config.Config) (Stored, error) {
	var s Stored
	prs, err := st.PRs(ctx, time.Time{}, time.Time{})
	if err != nil {
		return s, err
	}
	incs, err := st.Incidents(ctx, time.Time{}, time.Time{})
	if err != nil {
		return s, err
	}
	runs, err := st.CIRuns(ctx, time.Time{}, time.Time{})
	if err != nil {
		return s, err
	}
	deps, err := st.Deploys(ctx, time.Time{}, time.Time{})
	if err != nil {
		return s, err
	}
	s.PRs, s.Incidents, s.CIRuns, s.Deploys = len(prs), len(incs), len(runs), len(deps)
	for _, m := range w.Metrics {
		ss, err := st.Samples(ctx, m.ID, time.Time{}, time.Time{})
		if err != nil {
			return s, err
		}
		s.Samples += len(ss)
	}
	for _, m := range cfg.MetricsFor(honeycomb.Name) {
		ss, err := st.Samples(ctx, m.ID, time.Time{}, time.Time{})
		if err != nil {
			return s, err
		}
		s.Honeycomb += len(ss)
	}
	return s, nil
}

// Totals sums the backfill's requests and minimums, and the second poll's
// requests.
func (r *Report) Totals() (requests, minimum, poll2 int) {
	for _, s := range r.Sources {
		requests += s.Requests
		minimum += s.Min
		poll2 += s.Poll2
	}
	return
}

// Err joins the sources' errors.
func (r *Report) Err() error {
	var errs []string
	for _, s := range r.Sources {
		if s.Err != nil {
			errs = append(errs, "backfill: "+s.Err.Error())
		}
		if s.Poll2Err != nil {
			errs = append(errs, "second poll: "+s.Poll2Err.Error())
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}

// Markdown renders the report as two tables and notes.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Backfill of one year (%s – %s) through the fake vendors, %s added to each request:\n\n",
		r.Since.Format("2006-01-02"), r.End.Format("2006-01-02"), r.Latency)
	b.WriteString("| source | reads | requests (per item) | minimum | ratio | wall time |\n|---|---|---|---|---|---|\n")
	for _, s := range r.Sources {
		detail, listing := "", ""
		if s.Detail > 0 {
			detail = fmt.Sprintf(" (%d)", s.Detail)
			listing = fmt.Sprintf(" (listing %.2f×)", float64(s.Requests-s.Detail)/float64(max(s.Min, 1)))
		}
		errs := ""
		if s.Err != nil {
			errs = " **failed**"
		}
		fmt.Fprintf(&b, "| %s | %s | %d%s%s | %d: %s | %.2f×%s | %s |\n", s.Source, s.Units, s.Requests, detail, errs,
			s.Min, s.MinNote, s.Ratio(), listing, s.Wall.Round(100*time.Millisecond))
	}
	req, mn, poll2 := r.Totals()
	fmt.Fprintf(&b, "| **all** (concurrently) | | %d | %d | %.2f× | %s |\n", req, mn, float64(req)/float64(max(mn, 1)), r.Backfill.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "\nStored: %d PRs, %d hourly samples (and %d from Honeycomb's 7 days), %d incidents, %d CI runs, %d deploys.\n",
		r.Stored.PRs, r.Stored.Samples, r.Stored.Honeycomb, r.Stored.Incidents, r.Stored.CIRuns, r.Stored.Deploys)

	fmt.Fprintf(&b, "\nSecond poll %s later, nothing new:\n\n", SecondPollAfter)
	b.WriteString("| source | requests | 304 Not Modified | GitHub primary budget used |\n|---|---|---|---|\n")
	for _, s := range r.Sources {
		budget := "—"
		if s.Source == "github" || s.Source == "github_actions" {
			budget = fmt.Sprint(s.Poll2Budget)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", s.Source, s.Poll2, s.Poll2NotModified, budget)
	}
	fmt.Fprintf(&b, "| **all** | %d (%s) | | %d (fake's X-RateLimit-Used) |\n", poll2, r.Poll.Round(time.Millisecond), r.GitHubUsed)

	for _, s := range r.Sources {
		if s.Source == "pagerduty" && s.Requests > 0 {
			fmt.Fprintf(&b, "\nPagerDuty's budget (960 requests a minute) ran %g× fast; at the real rate its %d requests take at least %s.\n",
				r.PagerDutyClock, s.Requests, (time.Duration(s.Requests) * time.Minute / 960).Round(time.Second))
		}
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "\nErrors: %s\n", err)
	}
	return b.String()
}

// statusSummary renders a status histogram, e.g. "200×31 304×3".
func statusSummary(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", k, m[k]))
	}
	return cmp.Or(strings.Join(parts, " "), "none")
}
