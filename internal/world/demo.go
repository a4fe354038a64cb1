package world

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

const demoSeed = 20240611

const (
	repoSearch   = "acme/search-api"
	repoCheckout = "acme/checkout"
	repoPlatform = "acme/platform"
	bot          = "dependabot[bot]"
)

// Demo returns the built-in scenario, ending at end (truncated to the hour):
// 90 days of hourly series for ten metrics over three repos, ~80 merged PRs
// by alice (me), bob, carol, dave and dependabot and some 60 small
// search-api PRs by bob, carol and dave (demo_flow.go), PagerDuty incidents of two
// services (PSEARCH1, PCHKOUT1; alice is PALICE1), acme/search-api's CI and
// deploy workflow runs, and these designed shifts (days are before end; a
// date that falls on a weekend moves to the nearest weekday):
//
//	search-p99         1800 → 210 ms   alice "Move Elasticsearch query construction off the request path", ~35 d → draft
//	checkout-errors    2.4 → 0.6 %     alice's retry fix + circuit breaker, same afternoon, ~25 d    → one draft for both
//	checkout-trace-p99 (Honeycomb traces) 1400 → 600 ms  the same two PRs (the breaker stops waiting on
//	                   fraud-check timeouts)                                                        → one draft for both
//	checkout-p95       320 → 450 ms    regression after alice's "Add request logging middleware", ~45 d → no draft
//	platform-db-p99    900 → 300 ms    bob's "Add index on orders.customer_id", ~20 d; alice merged
//	                                   an unrelated platform PR 4 d before, carol one 2 d after → no draft
//	search-errors      0.35 % flat                                                                   → no draft
//	search-throughput  310 rps, +1.5% a day compounding and a random walk (~4% a day), no step      → no draft (drift)
//	fraud-check-p99    420 → 250 ms after alice's "Upgrade the fraud-check client to the v2 API",
//	                   back to 420 ms four days later (rolled back)                                 → no draft (not sustained)
//	ingest-throughput  1200 → 3400 rps alice "perf(ingest): batch Kafka writes", ~12 d               → draft (2.8×)
//	checkout-queue-depth (Prometheus) 1200 → 140  alice "Process checkout jobs with a pool of eight workers", ~14 d → draft
//	orders-sync-seconds (sql: the orders database's job_runs table) 190 → 40 s
//	                   alice "Sync orders incrementally by updated_at instead of a full scan", ~31 d → draft
//	pagerduty.pages_to_me         14 → 3 a week   alice "Add retry budget to the search indexer", ~52 d → draft
//	pagerduty.incidents/PSEARCH1  25 → 14 a week  the same PR (the indexer alerts stop)             → draft
//	pagerduty.mttr/PSEARCH1       52 → 20 min     alice "Add runbook links and auto-diagnostics to search alerts", ~66 d → draft
//	ci.duration/acme/search-api/ci.yml  14 → 6 min  alice "Cache Go modules and build outputs in CI", ~58 d → draft
//	dora.lead_time/acme/search-api  about a day → about two hours  alice "Deploy every merge to main instead of a
//	                   daily release train", ~77 d: deploy.yml ran on weekday mornings before it, on every merge
//	                   after (demo_flow.go); the levels are the medians over the drafter's windows → draft
//	dora.deploy_frequency, change_failure_rate, time_to_restore: no designed shift → no draft
//	pagerduty.mtta/*, PCHKOUT1's series, ci.queue/*, ci.success_rate/*, deploy.yml's duration: flat → no draft
//
// Each cause merges 1–6 hours before its shift's At. Other authors' PRs to
// the same repo stay ≥ 3 days away from the credited shifts (≥ 4 days, in
// every repo, from the PagerDuty ones: PagerDuty series credit PRs to every
// repo); other repos get ordinary traffic (and a few deliberate decoys) at
// any time. acme/search-api deploys after every merge from alice's
// release-train PR on (deploy.yml, head = the merge commit; a few ordinary
// deploys fail and are re-run by hand), and on weekday mornings before it,
// so its PRs go live at their deploy.
//
// The true levels From/To are exact: each regime of a series is rescaled so
// the median of its samples equals the level, and the generator keeps the
// median over any whole week inside a regime within ~2% of it (see
// GenerateSeries). PagerDuty counts follow fixed weekday patterns (any
// whole weeks hold exactly the weekly rate), and times to resolve and CI
// durations are stratified or tight around their levels (see demo_ops.go).
// Expect Before/After are those true levels.
func Demo(end time.Time) *World {
	end = end.UTC().Truncate(time.Hour)
	start := end.Add(-90 * 24 * time.Hour)
	b := newBuilder(demoSeed, start, end)
	day := 24 * time.Hour

	// --- Designed PRs -------------------------------------------------
	esMerge := workday(end, 35, 14, 20)
	es := b.add(repoSearch, "alice", esMerge, false,
		"Move Elasticsearch query construction off the request path",
		b.files(
			"M internal/query/builder.go +212 -148",
			"A internal/query/precompiled.go +96",
			"M internal/query/builder_test.go +88 -12",
			"M internal/server/handler_search.go +14 -41",
			"M cmd/search-api/main.go +6 -1",
		))
	es.body = "Query templates were rebuilt from the mapping on every request, which dominated p99 under load.\n\n" +
		"This precompiles the templates at startup (and when the index alias moves) so the request path only fills in parameters.\n\n" +
		"Load test on staging: p99 1.7 s → 190 ms at 400 rps."
	es.files[0].Patch = "@@ -41,22 +41,9 @@ func (b *Builder) Build(ctx context.Context, req Request) (Query, error) {\n-\tmapping, err := b.es.GetMapping(ctx, b.index)\n-\tif err != nil {\n-\t\treturn Query{}, err\n-\t}\n-\ttmpl := compile(mapping, req.Fields)\n+\ttmpl := b.templates.Load().For(req.Fields)\n \treturn tmpl.Fill(req), nil\n }"
	at1 := esMerge.Truncate(time.Hour).Add(3 * time.Hour)
	// Abandoned alternative, closed unmerged the same day: a collector that
	// keeps it would credit it too.
	b.add(repoSearch, "alice", esMerge.Add(-2*time.Hour-20*time.Minute), true,
		"WIP: cache parsed queries in-process",
		b.files("A internal/query/cache.go +143", "M internal/query/builder.go +9 -2"))

	retryMerge := workday(end, 25, 13, 5)
	breakerMerge := retryMerge.Truncate(day).Add(15*time.Hour + 40*time.Minute)
	retry := b.add(repoCheckout, "alice", retryMerge, false,
		"fix(payments): retry idempotent calls on 503",
		b.files("M internal/payments/client.go +48 -9", "A internal/payments/retry.go +77", "A internal/payments/retry_test.go +121"))
	breaker := b.add(repoCheckout, "alice", breakerMerge, false,
		"Add circuit breaker around the fraud-check client",
		b.files("M internal/fraud/client.go +35 -6", "A internal/fraud/breaker.go +64", "M go.mod +1", "M go.sum +2"))
	at2 := breakerMerge.Truncate(time.Hour).Add(2 * time.Hour) // 17:00
	b.add(repoCheckout, "carol", retryMerge.Add(-55*time.Minute), true,
		"Experiment: raise payment client timeout to 10s",
		b.files("M internal/payments/client.go +1 -1"))

	logMerge := workday(end, 45, 11, 30)
	logging := b.add(repoCheckout, "alice", logMerge, false,
		"Add request logging middleware",
		b.files("A internal/server/logging.go +58", "M internal/server/routes.go +3 -1", "A internal/server/logging_test.go +40"))
	at3 := logMerge.Truncate(time.Hour).Add(3 * time.Hour) // 14:00

	indexMerge := workday(end, 20, 10, 15)
	index := b.add(repoPlatform, "bob", indexMerge, false,
		"Add index on orders.customer_id",
		b.files("A migrations/0112_orders_customer_id_idx.sql +3", "A migrations/0112_orders_customer_id_idx.down.sql +1"))
	at4 := indexMerge.Truncate(time.Hour).Add(3 * time.Hour) // 13:00
	aliceBefore := indexMerge.Truncate(day).AddDate(0, 0, -4).Add(16*time.Hour + 5*time.Minute)
	for aliceBefore.Weekday() == time.Saturday || aliceBefore.Weekday() == time.Sunday {
		aliceBefore = aliceBefore.AddDate(0, 0, -1) // earlier still: live even longer
	}
	unrelated := b.add(repoPlatform, "alice", aliceBefore, false,
		"Add structured logging to the migration runner",
		b.files("M cmd/migrate/main.go +22 -9", "M internal/migrate/runner.go +31 -14"))
	carolAfter := nextWorkday(indexMerge.Truncate(day).AddDate(0, 0, 2)).Add(11*time.Hour + 20*time.Minute)
	b.add(repoPlatform, "carol", carolAfter, false,
		"chore(ci): cache Go modules between jobs",
		b.files("M .github/workflows/ci.yml +9 -2"))

	kafkaMerge := workday(end, 12, 14, 45)
	kafka := b.add(repoPlatform, "alice", kafkaMerge, false,
		"perf(ingest): batch Kafka writes",
		b.files("M internal/ingest/producer.go +94 -37", "M internal/ingest/config.go +12", "A internal/ingest/batcher.go +118", "A internal/ingest/batcher_test.go +156"))
	at6 := kafkaMerge.Truncate(time.Hour).Add(4 * time.Hour) // 18:00

	// Operations: PagerDuty and CI (see demo_ops.go).
	runbookMerge := workday(end, 66, 13, 40)
	runbook := b.add(repoSearch, "alice", runbookMerge, false,
		"Add runbook links and auto-diagnostics to search alerts",
		b.files("M deploy/alerts/search.yaml +64 -12", "A internal/diag/diag.go +141", "A internal/diag/diag_test.go +96",
			"M internal/server/routes.go +2"))
	atRunbook := runbookMerge.Truncate(time.Hour).Add(3 * time.Hour)
	cacheMerge := workday(end, 58, 11, 10)
	cache := b.add(repoSearch, "alice", cacheMerge, false,
		"Cache Go modules and build outputs in CI",
		b.files("M .github/workflows/ci.yml +18 -4"))
	atCache := cacheMerge.Truncate(time.Hour).Add(2 * time.Hour) // the push run fills the cache
	retryBudgetMerge := workday(end, 52, 14, 30)
	retryBudget := b.add(repoSearch, "alice", retryBudgetMerge, false,
		"Add retry budget to the search indexer",
		b.files("A internal/indexer/budget.go +88", "A internal/indexer/budget_test.go +131", "M internal/indexer/bulk.go +23 -41"))
	atRetryBudget := retryBudgetMerge.Truncate(time.Hour).Add(3 * time.Hour)
	poolMerge := workday(end, 14, 15, 20)
	pool := b.add(repoCheckout, "alice", poolMerge, false,
		"Process checkout jobs with a pool of eight workers",
		b.files("M internal/jobs/worker.go +57 -19", "A internal/jobs/pool.go +102", "A internal/jobs/pool_test.go +77"))
	atPool := poolMerge.Truncate(time.Hour).Add(2 * time.Hour)
	syncMerge := workday(end, 31, 10, 40)
	syncPR := b.add(repoPlatform, "alice", syncMerge, false,
		"Sync orders incrementally by updated_at instead of a full scan",
		b.files("M internal/orders/sync.go +61 -88", "A migrations/0111_orders_updated_at_idx.sql +2", "M internal/orders/sync_test.go +74 -20"))
	atSync := syncMerge.Truncate(time.Hour).Add(2 * time.Hour) // the next hourly run

	// Decoys on other repos near the credited shifts: right time, wrong repo.
	b.add(repoCheckout, "dave", esMerge.Add(45*time.Minute), false,
		"[PAY-398] Show masked card number on the receipt page",
		b.files("M web/src/checkout/Receipt.tsx", "M internal/orders/receipt.go"))
	b.add(repoPlatform, "alice", retryMerge.Truncate(day).Add(11*time.Hour), false,
		"Add pprof endpoints behind admin auth",
		b.files("A internal/admin/pprof.go", "M internal/admin/routes.go"))
	b.add(repoSearch, bot, kafkaMerge.Truncate(day).Add(9*time.Hour+30*time.Minute), false,
		"Bump github.com/elastic/go-elasticsearch/v8 from 8.12.1 to 8.13.0",
		b.files("M go.mod +1 -1", "M go.sum +2 -2"))
	b.add(repoPlatform, "dave", workday(end, 14, 16, 0), true,
		"Switch the ingest producer to franz-go",
		b.files("M internal/ingest/producer.go", "M go.mod", "M go.sum"))
	b.add(repoCheckout, "bob", workday(end, 40, 10, 30), true,
		"[PAY-405] Retry declined cards once",
		b.files("M internal/payments/charge.go"))

	// Ordinary traffic keeps ≥ 3 days from every designed shift on the
	// shift's repos.
	for _, z := range []struct {
		repo string
		t    time.Time
	}{
		{repoSearch, at1}, {repoCheckout, at2}, {repoCheckout, at3},
		{repoPlatform, at4}, {repoPlatform, at6},
	} {
		b.keepClear(z.repo, z.t, 3*day)
	}
	b.keepClear(repoSearch, atCache, 3*day)
	b.keepClear(repoCheckout, atPool, 3*day)
	b.keepClear(repoPlatform, atSync, 3*day)
	// PagerDuty series credit PRs to every repo (services are not mapped
	// to repos), so their shifts keep every repo clear, a little wider:
	// a count or a few incidents a day place a shift less surely.
	for _, repo := range []string{repoSearch, repoCheckout, repoPlatform} {
		b.keepClear(repo, atRetryBudget, 4*day)
		b.keepClear(repo, atRunbook, 4*day)
	}
	demoOrdinary(b)
	var ordinary []*draftPR
	for _, d := range b.prs {
		if d.at.IsZero() {
			ordinary = append(ordinary, d)
		}
	}
	b.placeOrdinary(start.Add(-5*day), end.Add(-30*time.Hour))

	// Delivery (demo_flow.go): alice's PR ends acme/search-api's daily
	// release train, and the team's small PRs are what lead time measures.
	// Both are added after the ordinary traffic is placed, as extra PRs,
	// so that everything above stays where it was.
	trainMerge := workday(end, trainDaysBefore, 11, 20)
	rt := releaseTrain{until: trainMerge}
	b.clearOrdinary(rt, ordinary)
	train := b.addExtra(repoSearch, "alice", trainMerge, trainMerge.Add(-2*time.Hour-35*time.Minute),
		"Deploy every merge to main instead of a daily release train",
		"M .github/workflows/deploy.yml +11 -16", "M docs/deploying.md +9 -21")
	train.body = "deploy.yml ran on weekday mornings and shipped whatever main held, so a change merged after 10:00 waited a day, and one merged on Friday waited for Monday.\n\n" +
		"This runs it on every push to main instead (one deploy at a time: `concurrency: production`), so each merge ships on its own, minutes later, and a bad deploy points at one change.\n\n" +
		"The scheduled run and its \"what's new\" summary step are gone; the rollback job is unchanged."
	// The small PRs keep out of the spans in which a cause of the repo's
	// designed shifts would fall (narrower than the ordinary traffic's
	// zones: a small PR is one more candidate, not a moved one).
	b.smallPRs(start, end.Add(-30*time.Hour), rt, []span{
		{at1.Add(-2 * day), at1.Add(2 * day)},
		{atCache.Add(-2 * day), atCache.Add(2 * day)},
		{atRunbook.Add(-2 * day), atRunbook.Add(2 * day)},
		{atRetryBudget.Add(-4 * day), atRetryBudget.Add(4 * day)},
	})

	// The search-api team keeps PRs small: open half an hour to a few
	// hours (demo_flow.go).
	b.quick = map[string]bool{repoSearch: true}
	// search-api is numbered so the ES PR is #1234, the number the spec's
	// example statement quotes.
	merged, closed, info := b.finish(map[string]int{repoSearch: 1180, repoCheckout: 384, repoPlatform: 1966},
		map[*draftPR]int{es: 1234})

	w := &World{
		Start:          start,
		End:            end,
		Me:             "alice",
		Repos:          []string{repoSearch, repoCheckout, repoPlatform},
		PRs:            merged,
		ClosedUnmerged: closed,
		Info:           info,
		Metrics:        demoMetrics(),
		Series:         map[string][]model.Sample{},
		Services:       []string{ServiceSearch, ServiceCheckout},
		PagerDutyUser:  UserAlice,
		Workflows:      demoWorkflows(),
	}
	o := ops{start: start, end: end, retryAt: atRetryBudget, runbookAt: atRunbook, cacheAt: atCache,
		sureDeploys: map[string]bool{}, trainUntil: trainMerge, extra: map[string]bool{}}
	extra := map[string]bool{}
	for _, d := range b.prs {
		if d.extra {
			extra[d.key()] = true
		}
	}
	for _, p := range merged {
		if p.Repo == repoSearch {
			o.searchMerges = append(o.searchMerges, p)
			if extra[p.Key()] {
				o.extra[p.MergeSHA] = true
			}
		}
	}
	for _, d := range []*draftPR{es, runbook, cache, retryBudget, train} {
		if p, ok := w.PR(d.key()); ok {
			o.sureDeploys[p.MergeSHA] = true
		}
	}
	w.Incidents = o.incidents()
	w.CIRuns = o.runs()
	// alice's PR went live at its own deploy, the first on a merge.
	trainPR, _ := w.PR(train.key())
	trainLive := end
	for _, r := range w.CIRuns {
		if r.Deploys && r.SHA == trainPR.MergeSHA && r.Conclusion == "success" {
			trainLive = r.StartedAt.Add(r.Duration)
			break
		}
	}
	leadBefore, leadAfter := leadTimeLevels(w.CIRuns, merged, info, trainLive, end)
	w.Shifts = []Shift{
		{Metric: "search-p99", At: at1, From: 1800, To: 210, Cause: []string{es.key()}},
		{Metric: "checkout-errors", At: at2, From: 2.4, To: 0.6, Cause: []string{retry.key(), breaker.key()}},
		{Metric: "checkout-trace-p99", At: at2, From: 1400, To: 600, Cause: []string{retry.key(), breaker.key()}},
		{Metric: "checkout-p95", At: at3, From: 320, To: 450, Cause: []string{logging.key()}},
		{Metric: "platform-db-p99", At: at4, From: 900, To: 300, Cause: []string{index.key()}},
		{Metric: "ingest-throughput", At: at6, From: 1200, To: 3400, Cause: []string{kafka.key()}},
		{Metric: "checkout-queue-depth", At: atPool, From: 1200, To: 140, Cause: []string{pool.key()}},
		{Metric: "orders-sync-seconds", At: atSync, From: 190, To: 40, Cause: []string{syncPR.key()}},
		{Metric: "pagerduty.pages_to_me", At: atRetryBudget, From: pagesBefore, To: pagesAfter, Cause: []string{retryBudget.key()}},
		{Metric: "pagerduty.incidents/" + ServiceSearch, At: atRetryBudget, From: searchIncBefore, To: searchIncAfter, Cause: []string{retryBudget.key()}},
		{Metric: "pagerduty.mttr/" + ServiceSearch, At: atRunbook, From: mttrBefore, To: mttrAfter, Cause: []string{runbook.key()}},
		{Metric: "ci.duration/acme/search-api/ci.yml", At: atCache, From: ciBefore, To: ciAfter, Cause: []string{cache.key()}},
		{Metric: leadTimeMetric, At: trainLive, From: leadBefore, To: leadAfter, Cause: []string{train.key()}},
	}
	for _, s := range w.Shifts {
		slices.Sort(s.Cause)
	}
	w.Expect = []Expect{
		{Metric: "search-p99", PRs: []string{es.key()}, Before: 1800, After: 210},
		{Metric: "checkout-errors", PRs: sorted(retry.key(), breaker.key()), Before: 2.4, After: 0.6},
		{Metric: "checkout-trace-p99", PRs: sorted(retry.key(), breaker.key()), Before: 1400, After: 600},
		{Metric: "ingest-throughput", PRs: []string{kafka.key()}, Before: 1200, After: 3400},
		{Metric: "checkout-queue-depth", PRs: []string{pool.key()}, Before: 1200, After: 140},
		{Metric: "orders-sync-seconds", PRs: []string{syncPR.key()}, Before: 190, After: 40},
		{Metric: "pagerduty.pages_to_me", PRs: []string{retryBudget.key()}, Before: pagesBefore, After: pagesAfter},
		{Metric: "pagerduty.incidents/" + ServiceSearch, PRs: []string{retryBudget.key()}, Before: searchIncBefore, After: searchIncAfter},
		{Metric: "pagerduty.mttr/" + ServiceSearch, PRs: []string{runbook.key()}, Before: mttrBefore, After: mttrAfter},
		{Metric: "ci.duration/acme/search-api/ci.yml", PRs: []string{cache.key()}, Before: ciBefore, After: ciAfter},
		{Metric: leadTimeMetric, PRs: []string{train.key()}, Before: leadBefore, After: leadAfter},
	}
	// Two traps a naive drafter would sell as wins: search throughput grows
	// 1.5% a day, compounding, and wanders (a random walk of about 4% a
	// day) with no step anywhere, while alice merges to search-api every
	// few days; and alice's fraud-check client upgrade cut its p99 for four
	// days, until it was rolled back.
	fraud := fraudUpgrade(merged, start, end)
	atFraud := fraud.MergedAt.Truncate(time.Hour).Add(3 * time.Hour)
	const revertAfter = 4 * 24 * time.Hour
	w.Traps = map[string]string{
		"search-throughput": "grows 1.5% a day, compounding, and wanders 4% a day, with no step",
		"fraud-check-p99":   fmt.Sprintf("420 → 250 ms after %s, back to 420 ms four days later", fraud.Key()),
	}
	w.MustNotMetrics = []string{"checkout-p95", "platform-db-p99", "search-errors", "search-throughput", "fraud-check-p99",
		"pagerduty.mtta/" + ServiceSearch, "pagerduty.incidents/" + ServiceCheckout, "pagerduty.mttr/" + ServiceCheckout,
		"pagerduty.mtta/" + ServiceCheckout, "ci.queue/acme/search-api/ci.yml", "ci.success_rate/acme/search-api/ci.yml",
		"ci.duration/acme/search-api/deploy.yml", "ci.queue/acme/search-api/deploy.yml", "ci.success_rate/acme/search-api/deploy.yml",
		"dora.deploy_frequency/" + repoSearch, "dora.change_failure_rate/" + repoSearch, "dora.time_to_restore/" + repoSearch}
	w.MustNot = []string{
		fmt.Sprintf("checkout-p95: the 320 → 450 ms regression after alice's %s (request logging middleware) drafted as a win", logging.key()),
		fmt.Sprintf("platform-db-p99: the 900 → 300 ms drop is bob's %s; alice's %s had been live 4 days while the metric held steady and must not be credited", index.key(), unrelated.key()),
		"search-errors: flat all along (noise and incident spikes only); any draft",
		"search-throughput: organic growth and wander, no step; any draft, e.g. crediting whichever of alice's search-api PRs the windows straddle",
		fmt.Sprintf("fraud-check-p99: the drop after alice's %s was rolled back four days later; any draft", fraud.Key()),
		"any draft crediting a closed-unmerged PR (e.g. alice's \"WIP: cache parsed queries in-process\" closed the day of the search-p99 shift)",
		"any draft crediting a PR outside the metric's repos (e.g. alice's acme/platform pprof PR merged the day checkout errors dropped)",
		"a second checkout-errors draft: both of alice's PRs belong in one",
		"pagerduty.mttr/" + ServiceSearch + ": a shift at the retry budget (fewer incidents, the same times to resolve)",
		"pagerduty.mtta, pagerduty.incidents/" + ServiceCheckout + ", ci.queue, ci.success_rate and the deploy workflow's series: flat; any draft",
	}

	// --- Series ----------------------------------------------------------
	type gen struct {
		id     string
		levels []Regime
		shape  Shape
		quiet  []time.Time
	}
	gens := []gen{
		{"search-p99", []Regime{{start, 1800}, {at1, 210}},
			Shape{DailyAmp: 0.20, PeakHour: 15, Weekend: 0.93, Sigma: 0.12, Spikes: 4}, []time.Time{esMerge}},
		{"search-errors", []Regime{{start, 0.35}},
			Shape{DailyAmp: 0.15, PeakHour: 15, Weekend: 0.95, Sigma: 0.15, Spikes: 3, Max: 100}, []time.Time{esMerge}},
		{"checkout-errors", []Regime{{start, 2.4}, {at2, 0.6}},
			Shape{DailyAmp: 0.15, PeakHour: 16, Weekend: 0.9, Sigma: 0.12, Spikes: 4, Max: 100}, []time.Time{retryMerge, logMerge}},
		{"checkout-trace-p99", []Regime{{start, 1400}, {at2, 600}},
			Shape{DailyAmp: 0.18, PeakHour: 16, Weekend: 0.93, Sigma: 0.10, Spikes: 3}, []time.Time{retryMerge, logMerge}},
		{"checkout-p95", []Regime{{start, 320}, {at3, 450}},
			Shape{DailyAmp: 0.18, PeakHour: 16, Weekend: 0.95, Sigma: 0.08, Spikes: 3}, []time.Time{retryMerge}},
		{"platform-db-p99", []Regime{{start, 900}, {at4, 300}},
			Shape{DailyAmp: 0.20, PeakHour: 14, Weekend: 0.92, Sigma: 0.10, Spikes: 4}, []time.Time{aliceBefore, carolAfter, kafkaMerge}},
		{"ingest-throughput", []Regime{{start, 1200}, {at6, 3400}},
			Shape{DailyAmp: 0.25, PeakHour: 14, Weekend: 0.8, Sigma: 0.08, Spikes: 3, SpikeDown: true}, []time.Time{indexMerge}},
		{"checkout-queue-depth", []Regime{{start, 1200}, {atPool, 140}},
			Shape{DailyAmp: 0.3, PeakHour: 13, Weekend: 0.85, Sigma: 0.12, Spikes: 3}, []time.Time{poolMerge}},
		{"orders-sync-seconds", []Regime{{start, 190}, {atSync, 40}},
			Shape{DailyAmp: 0.25, PeakHour: 12, Weekend: 0.8, Sigma: 0.10, Spikes: 3}, []time.Time{syncMerge}},
		{"search-throughput", []Regime{{start, 310}},
			Shape{DailyAmp: 0.35, PeakHour: 15, Weekend: 0.75, Sigma: 0.08, Spikes: 2, SpikeDown: true, Walk: 0.04, Growth: 0.015}, nil},
		{"fraud-check-p99", []Regime{{start, 420}, {atFraud, 250}, {atFraud.Add(revertAfter), 420}},
			Shape{DailyAmp: 0.15, PeakHour: 15, Weekend: 0.95, Sigma: 0.10, Spikes: 2}, []time.Time{fraud.MergedAt}},
	}
	for _, g := range gens {
		w.Series[g.id] = GenerateSeries(seedFor(demoSeed, g.id), start, end, g.levels, g.shape, g.quiet)
	}
	w.Reviews = DemoReviews(w)
	return w
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// fraudUpgrade is the PR whose win the demo reverts: alice's "Upgrade the
// fraud-check client to the v2 API", or, when the ordinary traffic placed
// it too near an end of the history for a week on each side, alice's
// checkout PR nearest the middle.
func fraudUpgrade(merged []model.PR, start, end time.Time) model.PR {
	const day = 24 * time.Hour
	mid := start.Add(end.Sub(start) / 2)
	var best model.PR
	for _, p := range merged {
		if p.Repo != repoCheckout || p.Author != "alice" || p.MergedAt.Before(start.Add(10*day)) || p.MergedAt.After(end.Add(-12*day)) {
			continue
		}
		if strings.HasPrefix(p.Title, "Upgrade the fraud-check client") {
			return p
		}
		if best.Number == 0 || p.MergedAt.Sub(mid).Abs() < best.MergedAt.Sub(mid).Abs() {
			best = p
		}
	}
	return best
}

func demoMetrics() []config.Metric {
	return []config.Metric{
		{ID: "search-p99", Name: "search API p99 latency", Source: "datadog",
			Query: "p99:trace.http.request.duration{service:search-api,env:prod}",
			Unit:  "ms", Better: "lower", Repos: []string{repoSearch}, Paths: []string{"internal/query/**"}, Category: "performance"},
		{ID: "search-errors", Name: "search API error rate", Source: "datadog",
			Query: "avg:search_api.requests.error_rate{env:prod}",
			Unit:  "percent", Better: "lower", Repos: []string{repoSearch}, Category: "reliability"},
		{ID: "checkout-errors", Name: "checkout error rate", Source: "datadog",
			Query: "avg:checkout.requests.error_rate{env:prod}",
			Unit:  "percent", Better: "lower", Repos: []string{repoCheckout}, Category: "reliability"},
		// The checkout service's p99 from its traces in Honeycomb (the
		// demo's fake Query Data API answers it from the series).
		{ID: "checkout-trace-p99", Name: "checkout p99 latency (traces)", Source: "honeycomb", In: "checkout",
			Query: "P99(duration_ms) WHERE service.name = checkout AND span.kind = server",
			Unit:  "ms", Better: "lower", Repos: []string{repoCheckout}, Category: "performance"},
		{ID: "checkout-p95", Name: "checkout p95 latency", Source: "datadog",
			Query: "p95:trace.http.request.duration{service:checkout,env:prod}",
			Unit:  "ms", Better: "lower", Repos: []string{repoCheckout}, Category: "performance"},
		{ID: "platform-db-p99", Name: "orders DB query p99", Source: "datadog",
			Query: "p99:trace.postgres.query.duration{service:orders-db,env:prod}",
			Unit:  "ms", Better: "lower", Repos: []string{repoPlatform}, Category: "database"},
		{ID: "ingest-throughput", Name: "ingest throughput", Source: "datadog",
			Query: "sum:ingest.records.written{env:prod}.as_rate()",
			Unit:  "rps", Better: "higher", Repos: []string{repoPlatform}, Category: "performance"},
		{ID: "search-throughput", Name: "search API throughput", Source: "datadog",
			Query: "sum:trace.http.request.hits{service:search-api,env:prod}.as_rate()",
			Unit:  "rps", Better: "higher", Repos: []string{repoSearch}, Category: "performance"},
		{ID: "fraud-check-p99", Name: "fraud-check p99 latency", Source: "datadog",
			Query: "p99:trace.fraud.check.duration{service:checkout,env:prod}",
			Unit:  "ms", Better: "lower", Repos: []string{repoCheckout}, Category: "performance"},
		{ID: "checkout-queue-depth", Name: "checkout job queue depth", Source: "prometheus",
			Query: `rabbitmq_queue_messages_ready{queue="checkout-jobs",vhost="checkout"}`,
			Unit:  "count", Better: "lower", Repos: []string{repoCheckout}, Category: "performance"},
		// The mean duration of the hourly orders sync, from the job's own
		// table (the demo's in-memory database answers it; see ConfigFor).
		{ID: "orders-sync-seconds", Name: "orders sync job duration", Source: "sql", In: "orders",
			Query: "SELECT date_trunc('hour', finished_at), avg(extract(epoch FROM finished_at - started_at)) FROM job_runs " +
				"WHERE job = 'orders-sync' AND finished_at >= $from AND finished_at < $to GROUP BY 1",
			Unit: "s", Better: "lower", Repos: []string{repoPlatform}, Category: "database"},
	}
}

// demoOrdinary adds the everyday traffic, per repo in chronological order.
func demoOrdinary(b *builder) {
	type o struct {
		author, title string
		files         []string
	}
	add := func(repo string, list []o) {
		for _, x := range list {
			b.add(repo, x.author, time.Time{}, false, x.title, b.files(x.files...))
		}
	}
	add(repoSearch, []o{
		{"carol", "Add OpenTelemetry spans to the search handler", []string{"M internal/server/handler_search.go", "A internal/telemetry/tracing.go"}},
		{"alice", "feat(search): support prefix matching on product names", []string{"M internal/query/builder.go", "M internal/query/builder_test.go"}},
		{bot, "Bump github.com/elastic/go-elasticsearch/v8 from 8.11.0 to 8.12.1", []string{"M go.mod +1 -1", "M go.sum +2 -2"}},
		{"dave", "[SRCH-211] Return 400 on malformed sort parameter", []string{"M internal/server/params.go", "M internal/server/params_test.go"}},
		{"carol", "Fixed pagination cursor off-by-one on the last page", []string{"M internal/query/cursor.go", "M internal/query/cursor_test.go"}},
		{"alice", "Extract index alias resolution into its own package", []string{"A internal/index/alias.go", "M internal/query/builder.go"}},
		{"dave", "docs: document the synonyms file format", []string{"A docs/synonyms.md"}},
		{"carol", "refactor(query): split filter builders by field type (#1198)", []string{"M internal/query/filters.go", "A internal/query/filters_numeric.go"}},
		{"alice", "Add golden tests for the query builder", []string{"A internal/query/golden_test.go", "A internal/query/testdata/golden/basic.json"}},
		{bot, "Bump golang.org/x/net from 0.17.0 to 0.23.0", []string{"M go.mod +1 -1", "M go.sum +2 -2"}},
		{"dave", "Update Helm chart resource requests for search-api", []string{"M deploy/helm/search-api/values.yaml"}},
		{"carol", "fix(search): escape reserved characters in user queries", []string{"A internal/query/escape.go", "A internal/query/escape_test.go"}},
		{"alice", "Make the suggest endpoint honour Accept-Language", []string{"M internal/server/handler_suggest.go"}},
		{"dave", "[SRCH-230] Add feature flag for typo tolerance", []string{"M internal/flags/flags.go", "A internal/query/fuzzy.go"}},
		{"carol", "Remove the legacy v1 search route", []string{"M internal/server/routes.go", "D internal/server/handler_v1.go"}},
		{"alice", "chore: bump Go to 1.22 in CI", []string{"M .github/workflows/ci.yml +1 -1", "M go.mod +1 -1"}},
		{"dave", "Log slow queries above 500ms with the query hash", []string{"A internal/query/slowlog.go"}},
		{"carol", "Added synonyms for common product abbreviations", []string{"M config/synonyms.txt"}},
		{bot, "Bump google.golang.org/grpc from 1.60.1 to 1.62.0", []string{"M go.mod +1 -1", "M go.sum +4 -4"}},
		{"dave", "test: deflake TestSearchTimeout", []string{"M internal/server/handler_search_test.go"}},
		{"carol", "Cache index mappings for five minutes", []string{"M internal/index/mappings.go"}},
		{"alice", "Add request-scoped deadline to Elasticsearch calls", []string{"M internal/es/client.go", "M internal/es/client_test.go"}},
	})
	add(repoCheckout, []o{
		{"bob", "[PAY-380] Validate currency codes against ISO 4217", []string{"A internal/payments/currency.go", "A internal/payments/currency_test.go"}},
		{"dave", "Add Apple Pay button behind a feature flag", []string{"A web/src/checkout/ApplePay.tsx", "M internal/flags/flags.go"}},
		{"alice", "Refactor cart totals into a pure function", []string{"M internal/cart/totals.go", "M internal/cart/totals_test.go"}},
		{bot, "Bump github.com/stripe/stripe-go/v76 from 76.8.0 to 76.16.0", []string{"M go.mod +1 -1", "M go.sum +2 -2"}},
		{"bob", "fix: don't double-apply discount codes on retry", []string{"M internal/cart/discounts.go", "M internal/cart/discounts_test.go"}},
		{"dave", "[PAY-401] Send order confirmation email asynchronously", []string{"M internal/orders/confirm.go", "A internal/mail/queue.go"}},
		{"bob", "Added metrics for payment provider latency", []string{"A internal/payments/metrics.go", "M internal/payments/client.go"}},
		{"alice", "Upgrade the fraud-check client to the v2 API", []string{"M internal/fraud/client.go", "M internal/fraud/types.go"}},
		{"dave", "feat(checkout): remember shipping address for returning customers", []string{"M internal/shipping/address.go", "M web/src/checkout/Shipping.tsx"}},
		{"bob", "Rename PaymentIntent fields to match the provider (#455)", []string{"M internal/payments/intent.go", "M internal/payments/intent_test.go"}},
		{bot, "Bump golang.org/x/crypto from 0.17.0 to 0.21.0", []string{"M go.mod +1 -1", "M go.sum +2 -2"}},
		{"dave", "[PAY-412] Show estimated delivery date on the review page", []string{"M web/src/checkout/Review.tsx", "A internal/shipping/estimate.go"}},
		{"bob", "Move webhook signature verification into middleware", []string{"A internal/webhooks/verify.go", "M internal/server/middleware.go"}},
		{"alice", "test(cart): cover rounding for zero-decimal currencies", []string{"M internal/cart/totals_test.go"}},
		{"bob", "Drop the unused gift-wrap option", []string{"M internal/cart/options.go", "D web/src/checkout/GiftWrap.tsx"}},
		{"dave", "Tidy up checkout error messages", []string{"M internal/server/errors.go", "M web/src/checkout/errors.ts"}},
		{"bob", "[PAY-430] Store provider decline codes on failed payments", []string{"A migrations/0042_decline_codes.sql", "M internal/payments/store.go"}},
		{"dave", "chore(deps): update Node to 20 in the web build", []string{"M web/.nvmrc +1 -1", "M web/package.json"}},
		{"alice", "Add a runbook link to the payment alerts", []string{"M deploy/alerts/payments.yaml +4"}},
		{"bob", "Speed up the checkout integration tests by sharing the DB fixture", []string{"M internal/testutil/db.go"}},
	})
	add(repoPlatform, []o{
		{"carol", "Add Terraform module for the orders read replica", []string{"A infra/terraform/orders-replica/main.tf", "A infra/terraform/orders-replica/variables.tf"}},
		{"bob", "feat(orders): expose order history pagination", []string{"M internal/orders/history.go", "M internal/orders/history_test.go"}},
		{"dave", "Bump the Kafka client to 2.3.1", []string{"M go.mod +1 -1", "M go.sum +2 -2"}},
		{bot, "Bump github.com/jackc/pgx/v5 from 5.5.1 to 5.5.4", []string{"M go.mod +1 -1", "M go.sum +2 -2"}},
		{"carol", "Migrate CI runners to arm64", []string{"M .github/workflows/ci.yml"}},
		{"bob", "[OPS-77] Alert when replication lag exceeds 30s", []string{"M deploy/alerts/postgres.yaml"}},
		{"dave", "Refactored the ingest consumer config loading", []string{"M internal/ingest/config.go", "M internal/ingest/config_test.go"}},
		{"carol", "chore: remove dead feature flags", []string{"M internal/flags/flags.go"}},
		{"bob", "Partition the events table by month", []string{"A migrations/0107_partition_events.sql", "A migrations/0107_partition_events.down.sql"}},
		{"alice", "Add dead-letter topic for malformed ingest records", []string{"A internal/ingest/dlq.go", "M internal/ingest/consumer.go"}},
		{"dave", "fix(ingest): handle schema registry timeouts", []string{"M internal/ingest/schema.go"}},
		{"carol", "Upgrade Postgres to 16.2 in staging", []string{"M infra/terraform/postgres/main.tf +1 -1"}},
		{"bob", "Tune autovacuum for the orders table (#2051)", []string{"A migrations/0110_orders_autovacuum.sql"}},
		{bot, "Bump golang.org/x/net from 0.21.0 to 0.23.0", []string{"M go.mod +1 -1", "M go.sum +2 -2"}},
		{"dave", "Add Grafana dashboard for ingest lag", []string{"A deploy/dashboards/ingest.json"}},
		{"carol", "[OPS-91] Rotate database credentials via Vault", []string{"M internal/db/creds.go", "M deploy/helm/platform/values.yaml"}},
		{"bob", "docs(runbook): how to fail over the orders DB", []string{"A docs/runbooks/orders-db.md"}},
		{"alice", "Tidy up the admin CLI flags", []string{"M cmd/platformctl/main.go"}},
		{"dave", "Add tracing to the ingest consumer", []string{"M internal/ingest/consumer.go", "A internal/telemetry/kafka.go"}},
		{"carol", "Fix flaky TestPartitionRotation", []string{"M internal/db/partitions_test.go"}},
	})
}
