package world

import (
	"slices"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// The demo's delivery story (DORA; see internal/builtin/dora.go).
//
// Besides the larger PRs of demoOrdinary, bob, carol and dave merge small
// changes to acme/search-api about once a weekday, each open for half an
// hour to a few hours (smallPRs). Until alice's "Deploy every merge to main
// instead of a daily release train", deploy.yml ran on a schedule, weekday
// mornings at 10:00 UTC, and shipped whatever main held: a change merged at
// 14:00 waited until the next morning, one merged on Friday until Monday.
// From her merge on, deploy.yml runs on every push to main (see ops.runs).
// Lead time for changes — a PR's opening to the deploy that shipped it —
// falls from about a day to a few hours, and the drafter credits the step to
// her PR: the other authors' changes on both sides of it are what is
// measured, the step is hers. The small PRs keep clear of her PR (no other
// author's change goes live within smallQuietBefore before it or
// smallQuietAfter after it) and of the repo's other designed shifts, as
// ordinary traffic does.

// leadTimeMetric is the built-in series alice's PR moves.
const leadTimeMetric = "dora.lead_time/" + repoSearch

// Demo timing of the release-train switch.
const (
	trainDaysBefore = 77 // alice's PR merges this many days before end
	trainHour       = 10 // the train's UTC hour, weekdays
	// No one else's change goes live from quietBefore before alice's PR
	// to quietAfter after it: the drafter's span for a cause reaches a
	// settle day and up to three days (its largest tolerance) before the
	// shift, and three days after it; an hour more either side.
	quietBefore = 4*24*time.Hour + time.Hour
	quietAfter  = 3*24*time.Hour + time.Hour
)

// releaseTrain is acme/search-api's deploy schedule: weekday mornings
// until (alice's merge), on every merge from then on.
type releaseTrain struct{ until time.Time }

// next is the first train at or after t (a weekday at trainHour).
func (r releaseTrain) next(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour).Add(trainHour * time.Hour)
	for d.Before(t) || d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.Add(24 * time.Hour)
	}
	return d
}

// live is when a change merged at t to acme/search-api went live: the
// next train before r.until, its merge from then on (to within the
// deploy's few minutes).
func (r releaseTrain) live(t time.Time) time.Time {
	if t.Before(r.until) {
		return r.next(t)
	}
	return t
}

// quiet reports whether a change merged at t would go live in the span
// around alice's PR kept clear of other changes.
func (r releaseTrain) quiet(t time.Time) bool {
	l := r.live(t)
	return !l.Before(r.until.Add(-quietBefore)) && l.Before(r.until.Add(quietAfter))
}

// clearOrdinary moves the ordinary (placed) search-api PRs that would go
// live in the quiet span out of it — earlier ones to the last weekday
// whose train ships them before it, later ones to the first weekday after
// it, at the same time of day — without drawing from the rng, so that
// the rest of the world stays where it was.
func (b *builder) clearOrdinary(r releaseTrain, ordinary []*draftPR) {
	const day = 24 * time.Hour
	for _, d := range ordinary {
		if d.repo != repoSearch || !r.quiet(d.at) {
			continue
		}
		clock := d.at.Sub(d.at.Truncate(day))
		t := r.until.Truncate(day).Add(clock)
		step := day
		if d.at.Before(r.until) {
			step = -day
		} else {
			t = t.Add(4 * day)
		}
		for r.quiet(t) || t.Weekday() == time.Saturday || t.Weekday() == time.Sunday || !b.spaced(repoSearch, t) {
			t = t.Add(step)
		}
		d.at = t
	}
}

type smallPR struct {
	title string
	files []string
}

// smallTitles are the team's small search-api changes, used in order.
var smallTitles = []smallPR{
	{"Fix typo in the 400 error for empty queries", []string{"M internal/server/errors.go +1 -1"}},
	{"Add a unit test for the empty facet list", []string{"M internal/query/facets_test.go +24"}},
	{"Log the index alias on startup", []string{"M cmd/search-api/main.go +2"}},
	{"Bump the default page size limit to 100", []string{"M internal/server/params.go +1 -1", "M internal/server/params_test.go +3 -3"}},
	{"Return 404 for unknown index names", []string{"M internal/server/handler_search.go +6 -2"}},
	{"Trim whitespace from sort parameters", []string{"M internal/server/params.go +2 -1"}},
	{"Rename the suggest handler's metrics", []string{"M internal/server/handler_suggest.go +3 -3"}},
	{"Add the request id to error responses", []string{"M internal/server/errors.go +5 -1"}},
	{"Document the highlight parameter", []string{"M docs/api.md +12"}},
	{"Drop the unused score_mode option", []string{"M internal/query/builder.go +1 -9"}},
	{"Fix a flaky assertion in TestSuggestLimit", []string{"M internal/server/handler_suggest_test.go +2 -2"}},
	{"Add synonyms for screen sizes", []string{"M config/synonyms.txt +6"}},
	{"Make the health check report the cluster name", []string{"M internal/server/health.go +4 -1"}},
	{"Use errors.Is for the Elasticsearch timeout check", []string{"M internal/es/client.go +2 -2"}},
	{"Add a golden test for nested filters", []string{"A internal/query/testdata/golden/nested.json +41", "M internal/query/golden_test.go +1"}},
	{"Lower the suggest timeout to 300ms", []string{"M internal/server/handler_suggest.go +1 -1"}},
	{"Tidy up the query builder's comments", []string{"M internal/query/builder.go +8 -11"}},
	{"Reject negative offsets with a 400", []string{"M internal/server/params.go +4", "M internal/server/params_test.go +9"}},
	{"Add the brand field to the default source filter", []string{"M internal/query/source.go +1"}},
	{"Fix the README's local setup steps", []string{"M README.md +5 -4"}},
	{"Count zero-result queries in a metric", []string{"M internal/server/handler_search.go +3", "M internal/telemetry/metrics.go +6"}},
	{"Raise the Helm chart's readiness timeout", []string{"M deploy/helm/search-api/values.yaml +1 -1"}},
	{"Escape quotes in the slow query log", []string{"M internal/query/slowlog.go +2 -1"}},
	{"Add a test for the Accept-Language fallback", []string{"M internal/server/handler_suggest_test.go +18"}},
	{"Sort facet values by count, then name", []string{"M internal/query/facets.go +4 -2"}},
	{"Remove the deprecated fuzzy flag alias", []string{"M internal/flags/flags.go +0 -4"}},
	{"Add synonyms for common colour names", []string{"M config/synonyms.txt +9"}},
	{"Return the total hit count as an integer", []string{"M internal/server/response.go +2 -2"}},
	{"Cap the query length at 512 characters", []string{"M internal/server/params.go +5", "M internal/server/params_test.go +7"}},
	{"Name the goroutines' spans consistently", []string{"M internal/telemetry/tracing.go +4 -4"}},
	{"Fix the cursor test for an empty last page", []string{"M internal/query/cursor_test.go +6 -2"}},
	{"Add the shard count to the startup log", []string{"M cmd/search-api/main.go +1"}},
	{"Skip highlighting for numeric fields", []string{"M internal/query/highlight.go +3"}},
	{"Clarify the synonyms file's comment syntax", []string{"M docs/synonyms.md +4 -2"}},
	{"Make the Elasticsearch retry count configurable", []string{"M internal/es/client.go +6 -1", "M internal/config/config.go +3"}},
	{"Fix a nil map write when filters are empty", []string{"M internal/query/filters.go +3 -1", "M internal/query/filters_test.go +11"}},
	{"Add a benchmark for the query builder", []string{"A internal/query/builder_bench_test.go +38"}},
	{"Normalise Unicode in product names before matching", []string{"M internal/query/normalize.go +7 -2"}},
	{"Expose the build version on /healthz", []string{"M internal/server/health.go +3"}},
	{"Add synonyms for storage units", []string{"M config/synonyms.txt +5"}},
	{"Return Retry-After on 429 responses", []string{"M internal/server/ratelimit.go +2"}},
	{"Fix the Helm chart's pod disruption budget selector", []string{"M deploy/helm/search-api/templates/pdb.yaml +1 -1"}},
	{"Use the request context in the suggest handler", []string{"M internal/server/handler_suggest.go +2 -2"}},
	{"Add a test for reserved characters in prefixes", []string{"M internal/query/escape_test.go +14"}},
	{"Drop the v1 route from the API docs", []string{"M docs/api.md +0 -18"}},
	{"Lower the log level of cache misses to debug", []string{"M internal/index/mappings.go +1 -1"}},
	{"Add the index name to slow query logs", []string{"M internal/query/slowlog.go +2 -1"}},
	{"Validate the highlight fragment size", []string{"M internal/server/params.go +4", "M internal/server/params_test.go +6"}},
	{"Fix the spelling of 'occurrence' in errors", []string{"M internal/server/errors.go +2 -2"}},
	{"Add a metric for suggest cache hits", []string{"M internal/telemetry/metrics.go +4", "M internal/server/handler_suggest.go +2"}},
	{"Return an empty list, not null, for no facets", []string{"M internal/server/response.go +3 -1"}},
	{"Add synonyms for kitchen appliances", []string{"M config/synonyms.txt +7"}},
	{"Set GOMAXPROCS from the container's CPU limit", []string{"M cmd/search-api/main.go +2", "M go.mod +1", "M go.sum +2"}},
	{"Fix the typo tolerance flag's default in docs", []string{"M docs/flags.md +1 -1"}},
	{"Reuse the HTTP client for Elasticsearch health checks", []string{"M internal/es/health.go +4 -6"}},
	{"Add a test for the pagination cursor's encoding", []string{"M internal/query/cursor_test.go +21"}},
	{"Stop logging full queries at info level", []string{"M internal/server/handler_search.go +1 -1"}},
	{"Include the shard failures in 502 responses", []string{"M internal/server/errors.go +6 -1"}},
	{"Add synonyms for clothing sizes", []string{"M config/synonyms.txt +8"}},
	{"Make the suggest endpoint's minimum prefix two characters", []string{"M internal/server/handler_suggest.go +2 -1"}},
	{"Fix the date math in the freshness boost", []string{"M internal/query/boost.go +2 -2", "M internal/query/boost_test.go +9"}},
	{"Add the client name to access logs", []string{"M internal/server/logging.go +2"}},
	{"Remove the stale Kibana dashboard link", []string{"M docs/runbooks/search-api.md +0 -2"}},
	{"Guard against empty synonym lines", []string{"M internal/index/synonyms.go +3"}},
	{"Add a test for the 512-character query cap", []string{"M internal/server/params_test.go +8"}},
	{"Use strings.Cut in the sort parameter parser", []string{"M internal/server/params.go +3 -6"}},
	{"Add synonyms for phone accessories", []string{"M config/synonyms.txt +6"}},
	{"Trace the mapping cache refresh", []string{"M internal/index/mappings.go +4"}},
	{"Fix the Helm chart's HPA target utilisation", []string{"M deploy/helm/search-api/values.yaml +1 -1"}},
	{"Return 413 for request bodies over 64 KiB", []string{"M internal/server/limits.go +5"}},
	{"Add a test for empty Accept-Language headers", []string{"M internal/server/handler_suggest_test.go +10"}},
	{"Drop the unused legacy sort names", []string{"M internal/server/params.go +0 -7"}},
	{"Reword the 503 message while reindexing", []string{"M internal/server/errors.go +1 -1"}},
	{"Add synonyms for garden tools", []string{"M config/synonyms.txt +5"}},
	{"Move the query hash helper next to its only caller", []string{"M internal/query/slowlog.go +11", "M internal/query/hash.go +0 -11"}},
	{"Fix the race in the mapping cache test", []string{"M internal/index/mappings_test.go +4 -3"}},
	{"Log the Elasticsearch version on connect", []string{"M internal/es/client.go +3"}},
	{"Add the missing license header to two files", []string{"M internal/query/fuzzy.go +3", "M internal/query/escape.go +3"}},
	{"Keep the suggest cache warm across deploys", []string{"M internal/server/handler_suggest.go +9 -2"}},
	{"Document the rate limit headers", []string{"M docs/api.md +9"}},
}

// smallPRs adds the team's small search-api changes on weekdays in
// [from, to): about one a day (none on some days, two on others), by bob,
// carol and dave, each opened smallOpenMinutes to smallOpenMinutes +
// smallOpenSpread minutes before its merge, outside the repo's keep-clear
// zones and quiet. They are extra PRs (see addExtra): the rest of the world
// is as it was without them.
func (b *builder) smallPRs(from, to time.Time, train releaseTrain, quiet []span) {
	rng := seedFor(demoSeed, "small-prs")
	const day = 24 * time.Hour
	authors := []string{"bob", "carol", "dave"}
	k := 0
	for d := from.Truncate(day); d.Before(to); d = d.Add(day) {
		n := 1 + rng.IntN(2)
		for range n {
			author := authors[rng.IntN(len(authors))]
			open := time.Duration(quickOpen+rng.IntN(quickSpread))*time.Minute + time.Duration(rng.IntN(60))*time.Second
			var t time.Time
			for try := 0; try < 4; try++ {
				t = d.Add(time.Duration(9*60+30+rng.IntN(8*60)) * time.Minute)
				if b.spaced(repoSearch, t) {
					break
				}
			}
			if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || !t.Before(to) || t.Before(from) || train.quiet(t) ||
				slices.ContainsFunc(quiet, func(z span) bool { return !t.Before(z.from) && t.Before(z.to) }) ||
				!b.spaced(repoSearch, t) {
				continue
			}
			x := smallTitles[k%len(smallTitles)]
			k++
			b.addExtra(repoSearch, author, t, t.Add(-open), x.title, x.files...)
		}
	}
}

// leadTimeLevels are the demo's lead times for changes on acme/search-api
// (minutes from a PR's opening to the first successful deploy at or after
// its merge) over the drafter's windows around live, alice's PR's deploy:
// before is [live − 7d, live), after [live + 1d settle, + 7d); each
// stretches a day at a time, by up to another 7 days, until it holds 7
// whole days (24-hour blocks from its fixed end) with data; the after
// window stops at end. Before and after are the medians of the lead times
// in them.
func leadTimeLevels(runs []model.CIRun, prs []model.PR, info map[string]PRInfo, live, end time.Time) (before, after float64) {
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	var deploys []time.Time
	for _, r := range runs {
		if r.Repo == repoSearch && r.Deploys && r.Conclusion == "success" {
			deploys = append(deploys, r.StartedAt.Add(r.Duration))
		}
	}
	slices.SortFunc(deploys, func(a, b time.Time) int { return a.Compare(b) })
	type sample struct {
		at time.Time
		v  float64
	}
	var lead []sample
	for _, p := range prs {
		if p.Repo != repoSearch {
			continue
		}
		i, _ := slices.BinarySearchFunc(deploys, p.MergedAt, func(d, t time.Time) int { return d.Compare(t) })
		if i < len(deploys) {
			lead = append(lead, sample{deploys[i], deploys[i].Sub(info[p.Key()].CreatedAt).Minutes()})
		}
	}
	in := func(from, to time.Time) []float64 {
		var out []float64
		for _, s := range lead {
			if !s.at.Before(from) && s.at.Before(to) {
				out = append(out, s.v)
			}
		}
		return out
	}
	days := func(from, to time.Time, backwards bool) int {
		n := 0
		for i := time.Duration(0); i < to.Sub(from)/day; i++ {
			b := from.Add(i * day)
			if backwards {
				b = to.Add(-(i + 1) * day)
			}
			if len(in(b, b.Add(day))) > 0 {
				n++
			}
		}
		return n
	}
	bs := live.Add(-week)
	for extra := time.Duration(0); extra < week && days(bs, live, true) < 7; {
		extra += day
		bs = live.Add(-week - extra)
	}
	as := live.Add(day)
	ae := as.Add(week)
	for extra := time.Duration(0); extra < week && as.Add(week+extra).Before(end) && days(as, ae, false) < 7; {
		extra += day
		ae = as.Add(week + extra)
	}
	if ae.After(end) {
		ae = as.Add(end.Sub(as).Truncate(day))
	}
	return Median(in(bs, live)), Median(in(as, ae))
}
