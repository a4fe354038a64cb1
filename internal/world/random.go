package world

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// Label kinds: what a designed shift is, and so what the drafter must do
// with it. See Label.
const (
	// KindMine: my PR(s) merged 1–6 h before an improvement of ≥ 25%, and
	// nobody else's PR to the metric's repos within 3 days → one draft
	// crediting exactly Cause, numbers within 5% of From/To.
	KindMine = "mine"
	// KindMineTiny: my PR before a 3–6% improvement, under min_change
	// (10%) → no draft.
	KindMineTiny = "mine-tiny"
	// KindMineCrowded: like KindMine, but 1–3 PRs by other authors went
	// live to the same repo in the 23 hours before the shift, each at
	// least as far from the shift as mine (at most 1 h closer) → one
	// draft crediting exactly Cause (mine), which should name the others
	// (Others) and carry lowered confidence.
	KindMineCrowded = "mine-crowded"
	// KindOther: another author's PR merged 1–6 h before an improvement;
	// my PRs to the repo are ≥ 3 days away (sometimes one 3–5 days before,
	// live while the metric held steady: Others) → no draft.
	KindOther = "other"
	// KindRegression: my PR merged 1–6 h before a 20–60% worsening → no
	// draft (the drafter lists it as a regression).
	KindRegression = "regression"
	// KindMineGap: like KindMine, but the series has no data for 6–36 h
	// (Gap) starting between 6 h before and 24 h after the shift → one
	// draft as for KindMine.
	KindMineGap = "mine-gap"
	// KindFlat: a metric with no designed shift at all (noise, cycles and
	// incident spikes only); At is zero → no draft.
	KindFlat = "none-flat"
	// KindRevert: my PR merged 1–6 h before an improvement of ≥ 25% that
	// is reverted (the level returns to From) 30 hours later (Until) → no
	// draft (the win did not hold).
	KindRevert = "revert"
	// KindOtherCloser: another author's PR (Cause) merged 1–3 h before an
	// improvement, mine (Others) 2–5 h before theirs, both within settle:
	// theirs is the likelier cause → no draft for me.
	KindOtherCloser = "other-closer"
	// KindMineUnrelated: like KindMine, plus an unrelated PR of mine to
	// the same repo (Others) merged 14–22 h before the shift, within
	// settle of it → one draft crediting exactly Cause (the real one).
	KindMineUnrelated = "mine-unrelated"
	// KindGrowth: a metric with no step that drifts in its better
	// direction by 0.5–3% a day, compounding (organic growth or decay),
	// with PRs of mine to its repo now and then; At is zero → no draft.
	KindGrowth = "none-growth"
	// KindWalk: a metric with no step whose level is a random walk (daily
	// log-steps of 2–4%), with PRs of mine to its repo; At is zero → no
	// draft.
	KindWalk = "none-walk"
)

// LabelKinds lists every kind, in the order reports show them.
var LabelKinds = []string{KindMine, KindMineCrowded, KindMineGap, KindMineUnrelated, KindMineTiny, KindOther, KindOtherCloser,
	KindRegression, KindRevert, KindFlat, KindGrowth, KindWalk}

// MetricKind reports whether kind labels a whole metric (no designed
// shift: At is zero) rather than one shift.
func MetricKind(kind string) bool {
	return kind == KindFlat || kind == KindGrowth || kind == KindWalk
}

// Label is the ground truth about one designed shift (or one flat metric)
// of a Random world.
type Label struct {
	Metric string
	// At is the hour the new level starts (zero for KindFlat).
	At   time.Time
	Kind string
	// Cause are the PR keys that caused the shift, sorted: mine for the
	// mine kinds and regressions, the other author's for KindOther.
	Cause []string
	// Others are PR keys that went live near the shift without causing
	// it, sorted: other authors' PRs in the settle span (KindMineCrowded),
	// or my PR merged 3–5 days before the shift (KindOther, optional).
	Others []string
	// From and To are the true levels before and after (equal for
	// KindFlat: the series' level).
	From, To float64
	// Gap is the span without data (KindMineGap only).
	Gap model.Window
	// Until is when the level returned to From (KindRevert only).
	Until time.Time
	// Rate is the daily drift (KindGrowth: +0.005…+0.03 or the negative
	// for lower-is-better metrics) or the daily log-step sd (KindWalk).
	Rate float64
}

// Draftable reports whether the label asks for a draft.
func (l Label) Draftable() bool {
	switch l.Kind {
	case KindMine, KindMineCrowded, KindMineGap, KindMineUnrelated:
		return true
	}
	return false
}

// String describes the label in one line.
func (l Label) String() string {
	switch l.Kind {
	case KindFlat:
		return fmt.Sprintf("%s %s flat at %.4g", l.Metric, l.Kind, l.From)
	case KindGrowth:
		return fmt.Sprintf("%s %s from %.4g, %+.1f%% a day", l.Metric, l.Kind, l.From, 100*l.Rate)
	case KindWalk:
		return fmt.Sprintf("%s %s from %.4g, %.1f%% a day", l.Metric, l.Kind, l.From, 100*l.Rate)
	}
	s := fmt.Sprintf("%s %s %.4g → %.4g (%+.0f%%) at %s caused by %s",
		l.Metric, l.Kind, l.From, l.To, 100*(l.To/l.From-1), l.At.Format("2006-01-02 15:04"), strings.Join(l.Cause, ", "))
	if len(l.Others) > 0 {
		s += " near " + strings.Join(l.Others, ", ")
	}
	if !l.Gap.Start.IsZero() {
		s += fmt.Sprintf(" gap %s +%v", l.Gap.Start.Format("01-02 15:04"), l.Gap.End.Sub(l.Gap.Start))
	}
	if !l.Until.IsZero() {
		s += " reverted " + l.Until.Format("01-02 15:04")
	}
	return s
}

// RandomOptions shape a Random world. Zero fields are drawn from the seed
// within the ranges given.
type RandomOptions struct {
	// End is the world's "now" (truncated to the hour); zero means
	// 2026-11-23 09:00 UTC, so that a seed alone fixes the world.
	End time.Time
	// Days of history (default 120; at least 40).
	Days int
	// Repos (2–4), Authors (3–6, including me; dependabot comes on top)
	// and Metrics (6–12; at most 5 or 6 per repo, as its service has).
	Repos, Authors, Metrics int
	// PRs is about how many merged PRs there are (60–200).
	PRs int
}

// DefaultRandomEnd is the End of a Random world when none is given.
var DefaultRandomEnd = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func (o RandomOptions) withDefaults(rng *rand.Rand) RandomOptions {
	if o.End.IsZero() {
		o.End = DefaultRandomEnd
	}
	if o.Days <= 0 {
		o.Days = 120
	}
	o.Days = max(o.Days, 40)
	pick := func(v *int, lo, hi int) {
		if *v <= 0 {
			*v = lo + rng.IntN(hi-lo+1)
		}
	}
	// Always draw all four, so an explicit value does not shift the others.
	var r, a, m, p int
	pick(&r, 2, 4)
	pick(&a, 3, 6)
	pick(&m, 6, 12)
	pick(&p, 60, 200)
	if o.Repos <= 0 {
		o.Repos = r
	}
	if o.Authors <= 0 {
		o.Authors = a
	}
	if o.Metrics <= 0 {
		o.Metrics = m
	}
	if o.PRs <= 0 {
		o.PRs = p
	}
	o.Repos = min(o.Repos, len(services))
	o.Authors = min(max(o.Authors, 2), len(logins))
	o.Metrics = max(o.Metrics, o.Repos)
	return o
}

// Random returns a seeded synthetic world for the attribution benchmark:
// 2–4 repos of made-up services, 3–6 authors (one of them Me) plus
// dependabot, 60–200 merged PRs over working hours, and 6–12 hourly
// metrics (latency in ms or s, error rate in percent, throughput in rps;
// lower or higher better), each mapped to one repo (a quarter also to a
// path), with daily and weekly cycles, log-normal noise and incident
// spikes (GenerateSeries). One or two metrics stay flat, in half the
// worlds one grows or decays 0.5–3% a day (KindGrowth) and in half one is
// a random walk (KindWalk), each with 4–8 PRs of mine touching its code;
// each other metric gets 1–3 designed shifts of the kinds in LabelKinds,
// at least one of them KindMine in every world. Every designed shift and flat metric is
// described by a Label; Shifts, Expect, MustNot and MustNotMetrics are
// filled as for Demo, and Gaps holds the KindMineGap outages.
//
// Placement rules, which make the labels unambiguous for a drafter that
// follows the spec (window 7d, settle 1d, min_change 10%):
//   - causes merge 1–6 h before the shift; the before window (7 days
//     before the first cause) starts after Start + 1 day and the after
//     window (settle + 7 days after the last cause) ends before End − 2
//     days (a regime shorter than ~10 days calibrates less well);
//   - shifts of one metric are ≥ 10 days apart; shifts on one repo are
//     ≥ 4 days apart, and no designed PR of one shift lies within
//     [At − 3d, At + 2d] of another shift on the same repo;
//   - ordinary PRs (anyone's) keep out of [At − 3d, At + 2d) on the
//     shift's repo; decoys — my PRs to other repos at the same hour, my
//     closed-unmerged PRs, other repos' traffic — may come close;
//   - each regime's median equals its level and any whole week inside a
//     regime is within ~2% of it (GenerateSeries; 3% at worst), so From/To
//     are what the drafter's window medians should recover. A gap in an
//     after window removes some hours of the daily cycle more than others,
//     which can move that window's median up to ~3.5%.
//
// The same seed and options give the same world.
func Random(seed int64, o RandomOptions) *World {
	s := uint64(seed)
	rng := seedFor(s, "random")
	o = o.withDefaults(rng)
	end := o.End.UTC().Truncate(time.Hour)
	start := end.Add(-time.Duration(o.Days) * day)
	g := &rgen{rng: rng, seed: s, start: start, end: end, b: newBuilder(s, start, end)}
	g.team(o)
	g.metrics(o)
	g.schedule()
	g.decoys()
	g.ordinary(o)
	return g.world()
}

const day = 24 * time.Hour

// service is a made-up service: its repo name and words for titles.
type service struct {
	repo, short, title, ticket, area, dep string
	things                                []string
	dirs                                  []string
	table, column                         string
	module                                string // a Go module it depends on (dependabot bumps)
	queue                                 bool   // consumes a queue: has a consumer-lag metric
}

var services = []service{
	{"search-api", "search", "search API", "SRCH", "search", "Elasticsearch",
		[]string{"query builder", "result ranking", "index alias resolution", "suggest handler", "facet counts"},
		[]string{"internal/query", "internal/index", "internal/server"}, "saved_searches", "tenant_id", "github.com/elastic/go-elasticsearch/v8", false},
	{"checkout", "checkout", "checkout", "PAY", "payments", "Stripe",
		[]string{"cart totals", "payment intents", "receipt rendering", "discount codes", "fraud check"},
		[]string{"internal/payments", "internal/cart", "internal/orders"}, "orders", "customer_id", "github.com/stripe/stripe-go/v76", false},
	{"platform", "ingest", "ingest", "OPS", "ingest", "Kafka",
		[]string{"ingest consumer", "record batcher", "schema registry lookups", "partition router", "dead-letter handler"},
		[]string{"internal/ingest", "internal/db", "internal/schema"}, "events", "created_at", "github.com/twmb/franz-go", true},
	{"billing", "billing", "billing", "BILL", "billing", "Postgres",
		[]string{"invoice rendering", "usage aggregation", "tax calculation", "credit notes", "dunning emails"},
		[]string{"internal/invoices", "internal/usage", "internal/tax"}, "invoices", "account_id", "github.com/jackc/pgx/v5", true},
	{"notifications", "notify", "notifications", "NTF", "notify", "SNS",
		[]string{"email fan-out", "push delivery", "template rendering", "digest scheduler", "webhook retries"},
		[]string{"internal/delivery", "internal/templates", "internal/webhooks"}, "notifications", "user_id", "github.com/aws/aws-sdk-go-v2", true},
	{"inventory", "inventory", "inventory", "INV", "stock", "Redis",
		[]string{"stock reservations", "warehouse sync", "SKU lookups", "restock planner", "availability cache"},
		[]string{"internal/stock", "internal/sync", "internal/catalog"}, "stock_levels", "sku", "github.com/redis/go-redis/v9", true},
	{"auth-service", "auth", "auth service", "AUTH", "auth", "Redis",
		[]string{"token validation", "session lookup", "JWKS refresh", "login handler", "permission checks"},
		[]string{"internal/token", "internal/session", "internal/authz"}, "sessions", "user_id", "github.com/golang-jwt/jwt/v5", false},
	{"gateway", "gateway", "API gateway", "GW", "gateway", "Envoy",
		[]string{"rate limiter", "route matching", "header rewriting", "upstream health checks", "request coalescing"},
		[]string{"internal/ratelimit", "internal/routing", "internal/upstream"}, "routes", "host", "google.golang.org/grpc", false},
	{"recommendations", "recs", "recommendations", "REC", "recs", "Feast",
		[]string{"candidate scoring", "feature fetch", "model loading", "result caching", "diversity re-ranking"},
		[]string{"internal/scoring", "internal/features", "internal/model"}, "impressions", "user_id", "github.com/feast-dev/feast/sdk/go", true},
}

var orgs = []string{"acme", "globex", "initech", "hooli", "umbrella", "soylent"}

// logins: the first picked is me.
var logins = []string{"alice", "bob", "carol", "dpatel", "erin-k", "frank", "grace", "heidi-w", "ivan", "judy"}

// metricType is a kind of series a service exports.
type metricType struct {
	suffix, name, unit, better, category string
	query                                func(sv service) string
	level                                func(r *rand.Rand) float64
	shape                                func(r *rand.Rand) Shape
	improve                              []string // titles of PRs that improve it
}

var latencyImprove = []string{
	"Move {thing} off the request path",
	"perf({area}): cache {thing} results",
	"Precompute {thing} at startup",
	"[{ticket}] Replace N+1 queries in {thing} with one batched query",
	"Reuse HTTP connections to {dep}",
	"Stream {thing} responses instead of buffering them",
	"perf: parallelize {thing} fan-out",
	"Cut allocations in the {thing} hot path",
	"Switched {thing} serialization to a pooled encoder",
	"Add an in-process LRU in front of {dep} lookups",
}

var dbImprove = []string{
	"Add index on {table}.{column}",
	"perf(db): keyset pagination for {thing}",
	"[{ticket}] Rewrite the {thing} query to use a covering index",
	"Batch {table} lookups in {thing}",
	"Drop the ORDER BY on the unindexed {table} scan",
	"Replaced the {thing} subquery with a join",
}

var errorImprove = []string{
	"fix({area}): retry idempotent calls to {dep} on 503",
	"Add circuit breaker around the {dep} client",
	"Handle context cancellation in {thing}",
	"[{ticket}] Validate {thing} input before calling {dep}",
	"Fixed race in {thing} cache invalidation",
	"fix: stop leaking connections to {dep} on timeout",
	"Return 4xx instead of 500 for malformed {thing} requests",
}

var throughputImprove = []string{
	"perf({area}): batch {dep} writes",
	"Raise the {thing} worker pool and use a bounded queue",
	"Pipeline {dep} commands in {thing}",
	"Switch the {thing} consumer to batch acknowledgements",
	"Process {thing} partitions concurrently",
	"perf: reuse buffers in the {thing} encoder",
}

var lagImprove = []string{
	"Scale {thing} consumers with partition count",
	"perf({area}): commit offsets asynchronously in {thing}",
	"Drain {thing} backlog with a second worker group",
	"[{ticket}] Skip re-processing of already-acked {thing} messages",
}

var regressionTitles = []string{
	"Add request logging middleware",
	"Enable synchronous audit logging for {thing}",
	"Validate {thing} payloads against the JSON schema",
	"Upgrade the {dep} client to v3",
	"Add per-request tracing spans to {thing}",
	"feat({area}): enrich {thing} responses with owner details",
	"[{ticket}] Encrypt {table}.{column} at rest",
	"Switch {thing} to strongly consistent reads",
}

var tinyTitles = []string{
	"Trim a redundant lookup from {thing}",
	"perf: avoid a copy in {thing}",
	"Tune {dep} client keep-alive",
	"Reorder {thing} middleware",
	"refactor({area}): inline the {thing} helper",
}

var ordinaryTitles = []string{
	"Add OpenTelemetry spans to {thing}",
	"feat({area}): support {feature} in {thing}",
	"docs: document the {thing} configuration",
	"[{ticket}] Return 400 on malformed {param} parameter",
	"Fixed off-by-one in {thing} pagination",
	"refactor({area}): split {thing} into smaller files (#{n})",
	"Add golden tests for {thing}",
	"chore: bump Go to 1.{gominor} in CI",
	"Update Helm chart resource requests for {repo}",
	"test: deflake Test{Thing}Timeout",
	"Remove the legacy v1 {thing} route",
	"Log slow {thing} calls with the request id",
	"[{ticket}] Add feature flag for {feature}",
	"chore: remove dead feature flags",
	"Tidy up {thing} error messages",
	"Rename {thing} fields to match the {dep} API",
	"Add a runbook link to the {area} alerts",
	"docs(runbook): how to fail over {dep}",
	"Extract {thing} into its own package",
	"Added metrics for {dep} latency",
	"Make {thing} honour Accept-Language",
	"[{ticket}] Expose {feature} in the admin API",
	"Speed up the {thing} integration tests by sharing the DB fixture",
	"Migrate CI runners to arm64",
	"fix({area}): handle empty {param} in {thing}",
	"Refactored {thing} config loading",
	"[{ticket}] Keep the {param} parameter in {thing} audit records",
	"Add Grafana dashboard for {thing}",
}

var features = []string{"prefix matching", "bulk export", "pagination cursors", "dry-run mode", "per-tenant limits", "soft deletes", "idempotency keys", "partial responses"}
var params = []string{"sort", "limit", "cursor", "tenant", "locale", "filter", "since"}

var metricTypes = []metricType{
	{"p99", "p99 latency", "ms", "lower", "performance",
		func(sv service) string {
			return "p99:trace.http.request.duration{service:" + sv.repo + ",env:prod}"
		},
		func(r *rand.Rand) float64 { return 150 + 2350*r.Float64()*r.Float64() },
		func(r *rand.Rand) Shape {
			return Shape{DailyAmp: 0.12 + 0.13*r.Float64(), PeakHour: 13 + 4*r.Float64(), Weekend: 0.9 + 0.08*r.Float64(), Sigma: 0.07 + 0.07*r.Float64(), Spikes: 2 + r.IntN(4)}
		}, latencyImprove},
	{"p95", "p95 latency", "ms", "lower", "performance",
		func(sv service) string {
			return "p95:trace.http.request.duration{service:" + sv.repo + ",env:prod}"
		},
		func(r *rand.Rand) float64 { return 40 + 700*r.Float64()*r.Float64() },
		func(r *rand.Rand) Shape {
			return Shape{DailyAmp: 0.1 + 0.12*r.Float64(), PeakHour: 13 + 4*r.Float64(), Weekend: 0.92 + 0.07*r.Float64(), Sigma: 0.06 + 0.06*r.Float64(), Spikes: 2 + r.IntN(3)}
		}, latencyImprove},
	{"errors", "error rate", "percent", "lower", "reliability",
		func(sv service) string {
			return "avg:" + strings.ReplaceAll(sv.repo, "-", "_") + ".requests.error_rate{env:prod}"
		},
		func(r *rand.Rand) float64 { return 0.2 + 4*r.Float64()*r.Float64() },
		func(r *rand.Rand) Shape {
			return Shape{DailyAmp: 0.1 + 0.1*r.Float64(), PeakHour: 14 + 3*r.Float64(), Weekend: 0.88 + 0.1*r.Float64(), Sigma: 0.1 + 0.06*r.Float64(), Spikes: 2 + r.IntN(4), Max: 100}
		}, errorImprove},
	{"throughput", "throughput", "rps", "higher", "performance",
		func(sv service) string {
			return "sum:" + strings.ReplaceAll(sv.repo, "-", "_") + ".requests.processed{env:prod}.as_rate()"
		},
		func(r *rand.Rand) float64 { return 200 + 6000*r.Float64()*r.Float64() },
		func(r *rand.Rand) Shape {
			return Shape{DailyAmp: 0.15 + 0.12*r.Float64(), PeakHour: 13 + 3*r.Float64(), Weekend: 0.75 + 0.15*r.Float64(), Sigma: 0.06 + 0.05*r.Float64(), Spikes: 2 + r.IntN(3), SpikeDown: true}
		}, throughputImprove},
	{"db-p99", "DB query p99", "ms", "lower", "database",
		func(sv service) string {
			return "p99:trace.postgres.query.duration{service:" + sv.repo + "-db,env:prod}"
		},
		func(r *rand.Rand) float64 { return 15 + 900*r.Float64()*r.Float64() },
		func(r *rand.Rand) Shape {
			return Shape{DailyAmp: 0.15 + 0.1*r.Float64(), PeakHour: 12 + 4*r.Float64(), Weekend: 0.9 + 0.08*r.Float64(), Sigma: 0.08 + 0.06*r.Float64(), Spikes: 2 + r.IntN(4)}
		}, dbImprove},
	{"lag", "consumer lag", "s", "lower", "performance",
		func(sv service) string {
			return "max:kafka.consumer.lag_seconds{consumer_group:" + sv.repo + ",env:prod}"
		},
		func(r *rand.Rand) float64 { return 3 + 200*r.Float64()*r.Float64() },
		func(r *rand.Rand) Shape {
			return Shape{DailyAmp: 0.2 + 0.1*r.Float64(), PeakHour: 14 + 3*r.Float64(), Weekend: 0.8 + 0.15*r.Float64(), Sigma: 0.1 + 0.05*r.Float64(), Spikes: 2 + r.IntN(3)}
		}, lagImprove},
}

// rgen builds one Random world.
type rgen struct {
	rng        *rand.Rand
	seed       uint64
	start, end time.Time
	b          *builder

	org    string
	me     string
	others []string // human authors other than me
	repos  []*rrepo
	ms     []*rmetric
	events []*revent // placed
}

type rrepo struct {
	name string // owner/repo
	sv   service
	ms   []*rmetric
}

type rmetric struct {
	cfg   config.Metric
	typ   metricType
	repo  *rrepo
	dir   string // directory designed PRs touch (the metric's path, if any)
	base  float64
	shape Shape
	flat  bool
	trap  string   // KindGrowth or KindWalk: no designed shift, a drifting level
	rate  float64  // the trap's daily drift or walk sd
	kinds []string // designed shifts still to place
}

// revent is one designed shift.
type revent struct {
	m        *rmetric
	kind     string
	at       time.Time
	causes   []*draftPR
	others   []*draftPR // crowded: others' PRs; other: my earlier PR; other-closer, mine-unrelated: mine
	from, to float64
	gap      model.Window
	until    time.Time // revert: when the level returned to from
}

// prs are all the event's designed PRs.
func (e *revent) prs() []*draftPR { return append(slices.Clone(e.causes), e.others...) }

func (g *rgen) team(o RandomOptions) {
	r := g.rng
	g.org = orgs[r.IntN(len(orgs))]
	people := slices.Clone(logins)
	r.Shuffle(len(people), func(i, j int) { people[i], people[j] = people[j], people[i] })
	g.me = people[0]
	g.others = people[1:o.Authors]
	svs := slices.Clone(services)
	r.Shuffle(len(svs), func(i, j int) { svs[i], svs[j] = svs[j], svs[i] })
	for _, sv := range svs[:o.Repos] {
		g.repos = append(g.repos, &rrepo{name: g.org + "/" + sv.repo, sv: sv})
	}
}

// types are the metric types a repo's service exports.
func (rp *rrepo) types() []metricType {
	var out []metricType
	for _, t := range metricTypes {
		if t.suffix != "lag" || rp.sv.queue {
			out = append(out, t)
		}
	}
	return out
}

func (g *rgen) metrics(o RandomOptions) {
	r := g.rng
	// Every repo gets one metric, the rest go to random repos with room.
	room := 0
	for _, rp := range g.repos {
		room += len(rp.types())
	}
	var owners []*rrepo
	owners = append(owners, g.repos...)
	for len(owners) < min(o.Metrics, room) {
		rp := g.repos[r.IntN(len(g.repos))]
		n := 0
		for _, x := range owners {
			if x == rp {
				n++
			}
		}
		if n < len(rp.types()) {
			owners = append(owners, rp)
		}
	}
	for _, rp := range owners {
		// A type the repo does not have yet; p99 and errors first.
		var avail []metricType
		for _, t := range rp.types() {
			if !slices.ContainsFunc(rp.ms, func(m *rmetric) bool { return m.typ.suffix == t.suffix }) {
				avail = append(avail, t)
			}
		}
		t := avail[0]
		if len(rp.ms) > 0 || r.IntN(3) == 0 {
			t = avail[r.IntN(len(avail))]
		}
		m := &rmetric{typ: t, repo: rp, dir: rp.sv.dirs[r.IntN(len(rp.sv.dirs))]}
		m.cfg = config.Metric{
			ID: rp.sv.short + "-" + t.suffix, Name: rp.sv.title + " " + t.name, Source: "datadog",
			Query: t.query(rp.sv), Unit: t.unit, Better: t.better, Repos: []string{rp.name}, Category: t.category,
		}
		if r.IntN(4) == 0 {
			m.cfg.Paths = []string{m.dir + "/**"}
		}
		m.base = roundSig(t.level(r), 3)
		if t.unit == "ms" && m.base >= 1000 {
			m.base = roundSig(m.base, 2)
		}
		m.shape = t.shape(r)
		rp.ms = append(rp.ms, m)
		g.ms = append(g.ms, m)
	}
	// One or two flat metrics; the others get 1–3 designed shifts.
	nFlat := 1
	if len(g.ms) >= 9 && r.IntN(2) == 0 {
		nFlat = 2
	}
	perm := r.Perm(len(g.ms))
	for _, i := range perm[:nFlat] {
		g.ms[i].flat = true
	}
	// A growing (or decaying) metric and a random walk, each in half the
	// worlds that have room: traps for a drafter that reads any
	// difference of window medians as a shift.
	growth, walk := r.IntN(2) == 0, r.IntN(2) == 0
	rest := perm[nFlat:]
	if len(rest) >= 3 && growth {
		m := g.ms[rest[len(rest)-1]]
		m.trap, m.rate = KindGrowth, 0.005+0.025*r.Float64()
		if m.cfg.Better == "lower" {
			m.rate = -m.rate
		}
		rest = rest[:len(rest)-1]
	}
	if len(rest) >= 3 && walk {
		m := g.ms[rest[len(rest)-1]]
		m.trap, m.rate = KindWalk, 0.02+0.02*r.Float64()
	}
	first := true
	for _, m := range g.ms {
		if m.flat || m.trap != "" {
			continue
		}
		n := 1 + r.IntN(3)
		for range n {
			k := pickKind(r)
			if first {
				k, first = KindMine, false
			}
			m.kinds = append(m.kinds, k)
		}
	}
}

// kindWeights: how often each designed kind is drawn.
var kindWeights = []struct {
	kind string
	w    int
}{
	{KindMine, 30}, {KindMineCrowded, 15}, {KindMineGap, 12}, {KindMineTiny, 12}, {KindOther, 15}, {KindRegression, 16},
	{KindRevert, 8}, {KindOtherCloser, 10}, {KindMineUnrelated, 10},
}

func pickKind(r *rand.Rand) string {
	total := 0
	for _, kw := range kindWeights {
		total += kw.w
	}
	x := r.IntN(total)
	for _, kw := range kindWeights {
		if x < kw.w {
			return kw.kind
		}
		x -= kw.w
	}
	return KindMine
}

// schedule places every designed shift (mine first, so each world keeps
// at least one), dropping those that find no room.
func (g *rgen) schedule() {
	type job struct {
		m    *rmetric
		kind string
	}
	var jobs []job
	for _, m := range g.ms {
		for _, k := range m.kinds {
			jobs = append(jobs, job{m, k})
		}
	}
	g.rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	slices.SortStableFunc(jobs, func(a, b job) int {
		return boolInt(b.kind == KindMine) - boolInt(a.kind == KindMine)
	})
	for _, j := range jobs {
		g.place(j.m, j.kind)
	}
	slices.SortFunc(g.events, func(a, b *revent) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.m.cfg.ID, b.m.cfg.ID)
	})
	// Levels: each shift starts from the level the previous one left.
	for _, m := range g.ms {
		level := m.base
		for _, e := range g.events {
			if e.m != m {
				continue
			}
			e.from = level
			e.to = g.nextLevel(m, e.kind, level)
			level = e.to
			if e.kind == KindRevert {
				level = e.from // back 30 hours later
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nextLevel draws the level after a shift of the given kind.
func (g *rgen) nextLevel(m *rmetric, kind string, from float64) float64 {
	r := g.rng
	lower := m.cfg.Better == "lower"
	var f float64
	switch kind {
	case KindMineTiny:
		d := 0.035 + 0.02*r.Float64() // 3.5–5.5%, rounding keeps it in 3–6%
		if lower {
			f = 1 - d
		} else {
			f = 1 + d
		}
	case KindRegression:
		d := 0.2 + 0.4*r.Float64()
		if lower {
			f = 1 + d
		} else {
			f = 1 / (1 + d)
		}
	default: // an improvement of 28–85% (lower) or 1.35–2.6× (higher)
		if lower {
			f = 0.15 + 0.57*r.Float64()
		} else {
			f = 1.35 + 1.25*r.Float64()
		}
	}
	to := roundSig(from*f, 3)
	if m.cfg.Unit == "percent" {
		to = min(to, 95)
	}
	return to
}

// place finds a time for one designed shift on m and adds its PRs.
func (g *rgen) place(m *rmetric, kind string) {
	r := g.rng
	repo := m.repo.name
	first := g.start.Add(8 * day).Truncate(day)
	last := g.end.Add(-10*day - 6*time.Hour)
	nDays := int(last.Sub(first) / day)
	for try := 0; try < 400; try++ {
		d := first.Add(time.Duration(r.IntN(nDays)) * day)
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		m1 := d.Add(time.Duration(9*60+r.IntN(8*60+30)) * time.Minute)
		merges := []time.Time{m1}
		if kind == KindMine && r.IntN(10) < 3 {
			// Two of my PRs behind one shift: one draft for both.
			m2 := m1.Add(time.Duration(45+r.IntN(135)) * time.Minute)
			if m2.Hour() >= 18 {
				continue
			}
			merges = append(merges, m2)
		}
		lastMerge := merges[len(merges)-1]
		at := lastMerge.Truncate(time.Hour).Add(time.Duration(2+r.IntN(5)) * time.Hour)
		if at.Sub(m1) > 6*time.Hour || at.Sub(lastMerge) < time.Hour {
			continue
		}
		if m1.Add(-8*day).Before(g.start) || lastMerge.Add(10*day).After(g.end) {
			continue
		}
		times := slices.Clone(merges)
		var trap, mineFar time.Time
		switch kind {
		case KindOtherCloser:
			// Theirs 1–3 h before the shift, mine 2–5 h before theirs.
			if at.Sub(m1) > 3*time.Hour {
				continue
			}
			mineFar = m1.Add(-time.Duration(120+r.IntN(181)) * time.Minute)
			times = append(times, mineFar)
		case KindMineUnrelated:
			// An unrelated PR of mine 14–22 h before the shift.
			mineFar = at.Add(-time.Duration(14*60+r.IntN(8*60)) * time.Minute)
			times = append(times, mineFar)
		}
		if kind == KindOther && r.IntN(2) == 0 {
			// My PR to the repo 3–5 days before: live while the metric
			// held steady, so it did not cause the shift.
			t := at.Add(-3*day - time.Duration(r.IntN(2*24*60))*time.Minute)
			t = t.Truncate(day).Add(time.Duration(9*60+r.IntN(9*60)) * time.Minute)
			if at.Sub(t) >= 3*day && at.Sub(t) <= 5*day+12*time.Hour && isWorkTime(t) {
				trap = t
				times = append(times, t)
			}
		}
		if !g.fits(m, at, times) {
			continue
		}
		e := &revent{m: m, kind: kind, at: at}
		var crowd []time.Time
		if kind == KindMineCrowded {
			crowd = g.crowd(repo, at, m1, lastMerge)
			if len(crowd) == 0 {
				continue
			}
		}
		// Commit.
		cause := g.meOrOther(kind)
		for i, t := range merges {
			title := g.designedTitle(m, kind, i)
			e.causes = append(e.causes, g.b.add(repo, cause, t, false, title, g.designedFiles(m)))
		}
		if !trap.IsZero() {
			e.others = append(e.others, g.b.add(repo, g.me, trap, false, g.ordinaryTitle(m.repo, g.me), g.designedFiles(m)))
		}
		if !mineFar.IsZero() {
			title := g.ordinaryTitle(m.repo, g.me)
			if kind == KindOtherCloser {
				title = g.designedTitle(m, KindMine, 0) // plausibly a cause, but farther from the shift
			}
			e.others = append(e.others, g.b.add(repo, g.me, mineFar, false, title, g.designedFiles(m)))
		}
		if kind == KindRevert {
			e.until = at.Add(30 * time.Hour)
		}
		authors := slices.Clone(g.others)
		r.Shuffle(len(authors), func(i, j int) { authors[i], authors[j] = authors[j], authors[i] })
		for i, t := range crowd {
			a := authors[i%len(authors)]
			e.others = append(e.others, g.b.add(repo, a, t, false, g.ordinaryTitle(m.repo, a), g.designedFiles(m)))
		}
		if kind == KindMineGap {
			gs := at.Add(time.Duration(r.IntN(31)-6) * time.Hour)
			e.gap = model.Window{Start: gs, End: gs.Add(time.Duration(6+r.IntN(31)) * time.Hour)}
		}
		if (kind == KindMine || kind == KindMineGap) && r.IntN(4) == 0 {
			// An abandoned attempt, closed unmerged shortly before.
			t := m1.Add(-time.Duration(60+r.IntN(120)) * time.Minute)
			if isWorkTime(t) && g.b.ok(repo, t) {
				g.b.add(repo, g.me, t, true, "WIP: "+lowerFirst(fill(r, m.repo.sv, tinyTitles[r.IntN(len(tinyTitles))])), g.designedFiles(m))
			}
		}
		g.events = append(g.events, e)
		return
	}
}

// fits checks a candidate shift at `at` whose designed PRs merge at times
// against the shifts already placed.
func (g *rgen) fits(m *rmetric, at time.Time, times []time.Time) bool {
	for _, t := range times {
		if !isWorkTime(t) || !g.b.ok(m.repo.name, t) {
			return false
		}
	}
	for _, e := range g.events {
		if e.m == m && absDur(e.at.Sub(at)) < 10*day {
			return false
		}
		if e.m.repo != m.repo {
			continue
		}
		if absDur(e.at.Sub(at)) < 4*day {
			return false
		}
		for _, p := range e.prs() {
			if inBand(p.at, at) {
				return false
			}
		}
		for _, t := range times {
			if inBand(t, e.at) {
				return false
			}
		}
	}
	return true
}

// inBand reports whether t lies in [at − 3d, at + 2d], the span around a
// shift that other PRs to its repo keep out of.
func inBand(t, at time.Time) bool {
	return !t.Before(at.Add(-3*day)) && !t.After(at.Add(2*day))
}

// crowd picks 1–3 merge times for other authors' PRs in the 23 hours
// before a shift at `at` whose first and last causes merge at m1 and m2:
// working hours, and farther from the shift than m1 (so mine is the
// likeliest cause, rule 2).
func (g *rgen) crowd(repo string, at, m1, m2 time.Time) []time.Time {
	r := g.rng
	lo := at.Add(-23 * time.Hour)
	hi := m1
	if !hi.After(lo) {
		return nil
	}
	want := 1 + r.IntN(3)
	var out []time.Time
	for try := 0; try < 200 && len(out) < want; try++ {
		t := lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo))))).Truncate(time.Minute)
		if !isWorkTime(t) || !g.b.ok(repo, t) {
			continue
		}
		if slices.ContainsFunc(out, func(x time.Time) bool { return absDur(x.Sub(t)) < 45*time.Minute }) ||
			absDur(t.Sub(m1)) < 45*time.Minute || absDur(t.Sub(m2)) < 45*time.Minute {
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func (g *rgen) meOrOther(kind string) string {
	if kind == KindOther || kind == KindOtherCloser {
		return g.others[g.rng.IntN(len(g.others))]
	}
	return g.me
}

// decoys adds my PRs to other repos at the hour of some shifts (right
// time, wrong repo), a few closed-unmerged PRs by others, and 4–8 PRs of
// mine touching each growth or walk metric's code (nothing they did moves
// it).
func (g *rgen) decoys() {
	r := g.rng
	for _, m := range g.ms {
		if m.trap == "" {
			continue
		}
		n := 4 + r.IntN(5)
		for try := 0; try < 200 && n > 0; try++ {
			d := g.start.Add(8*day + time.Duration(r.IntN(int(g.end.Sub(g.start)/day)-18))*day).Truncate(day)
			t := nextWorkday(d).Add(time.Duration(9*60+r.IntN(9*60)) * time.Minute)
			if !g.b.ok(m.repo.name, t) || g.nearShift(m.repo, t) {
				continue
			}
			g.b.add(m.repo.name, g.me, t, false, g.ordinaryTitle(m.repo, g.me), g.designedFiles(m))
			n--
		}
	}
	for _, e := range g.events {
		if len(g.repos) < 2 || r.IntN(10) >= 3 {
			continue
		}
		rp := g.repos[r.IntN(len(g.repos))]
		if rp == e.m.repo {
			continue
		}
		t := e.causes[0].at.Add(time.Duration(r.IntN(181)-90) * time.Minute)
		if !isWorkTime(t) || !g.b.ok(rp.name, t) || g.nearShift(rp, t) {
			continue
		}
		g.b.add(rp.name, g.me, t, false, g.ordinaryTitle(rp, g.me), g.ordinaryFiles(rp, g.me))
	}
	for range 2 + r.IntN(4) {
		rp := g.repos[r.IntN(len(g.repos))]
		a := g.others[r.IntN(len(g.others))]
		d := g.start.Add(time.Duration(r.IntN(int(g.end.Sub(g.start)/day)-2)) * day).Truncate(day)
		t := nextWorkday(d).Add(time.Duration(9*60+r.IntN(9*60)) * time.Minute)
		if t.Before(g.end.Add(-day)) && g.b.ok(rp.name, t) {
			g.b.add(rp.name, a, t, true, "Experiment: "+lowerFirst(g.ordinaryTitle(rp, a)), g.ordinaryFiles(rp, a))
		}
	}
}

// nearShift reports whether t is in the band of a shift on rp.
func (g *rgen) nearShift(rp *rrepo, t time.Time) bool {
	for _, e := range g.events {
		if e.m.repo == rp && inBand(t, e.at) {
			return true
		}
	}
	return false
}

// ordinary adds everyday traffic, keeping out of the shifts' bands.
func (g *rgen) ordinary(o RandomOptions) {
	r := g.rng
	designed := 0
	for _, p := range g.b.prs {
		if !p.closed {
			designed++
		}
	}
	n := max(o.PRs-designed, 10)
	weights := make([]float64, len(g.repos))
	total := 0.0
	for i, rp := range g.repos {
		weights[i] = 0.5 + r.Float64() + 0.3*float64(len(rp.ms))
		total += weights[i]
	}
	for range n {
		x := r.Float64() * total
		i := 0
		for ; i < len(weights)-1 && x >= weights[i]; i++ {
			x -= weights[i]
		}
		rp := g.repos[i]
		var a string
		switch y := r.Float64(); {
		case y < 0.08:
			a = bot
		case y < 0.08+0.92/float64(len(g.others)+1):
			a = g.me
		default:
			a = g.others[r.IntN(len(g.others))]
		}
		g.b.add(rp.name, a, time.Time{}, false, g.ordinaryTitle(rp, a), g.ordinaryFiles(rp, a))
	}
	for _, e := range g.events {
		g.b.zones[e.m.repo.name] = append(g.b.zones[e.m.repo.name], span{e.at.Add(-3 * day), e.at.Add(2 * day)})
	}
	g.b.placeOrdinary(g.start.Add(-5*day), g.end.Add(-30*time.Hour))
}

func (g *rgen) designedTitle(m *rmetric, kind string, i int) string {
	r := g.rng
	pool := m.typ.improve
	switch kind {
	case KindRegression:
		pool = regressionTitles
	case KindMineTiny:
		pool = tinyTitles
	}
	if i > 0 && kind == KindMine {
		// The second PR behind one shift: a follow-up of another kind.
		pool = errorImprove
		if m.typ.suffix == "errors" {
			pool = latencyImprove
		}
	}
	return fill(r, m.repo.sv, pool[r.IntN(len(pool))])
}

func (g *rgen) ordinaryTitle(rp *rrepo, author string) string {
	r := g.rng
	if author == bot {
		minor := 1 + r.IntN(30)
		return fmt.Sprintf("Bump %s from 1.%d.%d to 1.%d.%d", rp.sv.module, minor, r.IntN(10), minor+1+r.IntN(3), r.IntN(10))
	}
	return fill(r, rp.sv, ordinaryTitles[r.IntN(len(ordinaryTitles))])
}

// designedFiles are the files a designed PR of m touches (always under
// m.dir, so a metric's paths match).
func (g *rgen) designedFiles(m *rmetric) []File {
	r := g.rng
	thing := m.repo.sv.things[r.IntN(len(m.repo.sv.things))]
	f := snake(thing)
	specs := []string{"M " + m.dir + "/" + f + ".go", "M " + m.dir + "/" + f + "_test.go"}
	if r.IntN(2) == 0 {
		specs = append(specs, "A "+m.dir+"/"+f+"_"+[]string{"cache", "batch", "pool", "retry"}[r.IntN(4)]+".go")
	}
	return g.b.files(specs...)
}

func (g *rgen) ordinaryFiles(rp *rrepo, author string) []File {
	r := g.rng
	if author == bot {
		return g.b.files("M go.mod +1 -1", "M go.sum +2 -2")
	}
	dir := rp.sv.dirs[r.IntN(len(rp.sv.dirs))]
	f := snake(rp.sv.things[r.IntN(len(rp.sv.things))])
	switch r.IntN(5) {
	case 0:
		return g.b.files("M docs/" + f + ".md")
	case 1:
		return g.b.files("M .github/workflows/ci.yml", "M deploy/helm/"+rp.sv.repo+"/values.yaml")
	}
	return g.b.files("M "+dir+"/"+f+".go", "M "+dir+"/"+f+"_test.go")
}

// fill replaces the placeholders of a title template.
func fill(r *rand.Rand, sv service, tmpl string) string {
	thing := sv.things[r.IntN(len(sv.things))]
	rep := strings.NewReplacer(
		"{thing}", thing,
		"{Thing}", camel(thing),
		"{area}", sv.area,
		"{dep}", sv.dep,
		"{ticket}", fmt.Sprintf("%s-%d", sv.ticket, 100+r.IntN(900)),
		"{table}", sv.table,
		"{column}", sv.column,
		"{feature}", features[r.IntN(len(features))],
		"{param}", params[r.IntN(len(params))],
		"{repo}", sv.repo,
		"{n}", fmt.Sprint(100+r.IntN(2000)),
		"{gominor}", fmt.Sprint(22+r.IntN(5)),
	)
	return rep.Replace(tmpl)
}

func snake(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "_"), "_")
}

// camel turns "query builder" into "QueryBuilder".
func camel(s string) string {
	var b strings.Builder
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' }) {
		b.WriteString(strings.ToUpper(f[:1]) + f[1:])
	}
	return b.String()
}

func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "[") {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func isWorkTime(t time.Time) bool {
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday && t.Hour() >= 9 && t.Hour() < 18
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// roundSig rounds x to n significant digits.
func roundSig(x float64, n int) float64 {
	if x == 0 {
		return 0
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}

// world numbers the PRs, generates the series and writes the labels.
func (g *rgen) world() *World {
	base := map[string]int{}
	for _, rp := range g.repos {
		base[rp.name] = 100 + g.rng.IntN(3000)
	}
	merged, closed, info := g.b.finish(base, nil)
	w := &World{
		Start:          g.start,
		End:            g.end,
		Me:             g.me,
		PRs:            merged,
		ClosedUnmerged: closed,
		Info:           info,
		Series:         map[string][]model.Sample{},
		Gaps:           map[string][]model.Window{},
	}
	for _, rp := range g.repos {
		w.Repos = append(w.Repos, rp.name)
	}
	for _, m := range g.ms {
		w.Metrics = append(w.Metrics, m.cfg)
	}
	keys := func(ps []*draftPR) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.key())
		}
		slices.Sort(out)
		return out
	}
	for _, e := range g.events {
		id := e.m.cfg.ID
		l := Label{Metric: id, At: e.at, Kind: e.kind, Cause: keys(e.causes), Others: keys(e.others), From: e.from, To: e.to, Gap: e.gap, Until: e.until}
		w.Labels = append(w.Labels, l)
		w.Shifts = append(w.Shifts, Shift{Metric: id, At: e.at, From: e.from, To: e.to, Cause: slices.Clone(l.Cause)})
		if l.Draftable() {
			w.Expect = append(w.Expect, Expect{Metric: id, PRs: slices.Clone(l.Cause), Before: e.from, After: e.to})
		} else {
			w.MustNot = append(w.MustNot, "a draft for "+l.String())
		}
		if !e.gap.Start.IsZero() {
			w.Gaps[id] = append(w.Gaps[id], e.gap)
		}
	}
	for _, m := range g.ms {
		if m.trap == "" && !slices.ContainsFunc(g.events, func(e *revent) bool { return e.m == m }) {
			m.flat = true // no shift found room: it is flat
		}
		switch {
		case m.trap != "":
			l := Label{Metric: m.cfg.ID, Kind: m.trap, From: m.base, To: m.base, Rate: m.rate}
			w.Labels = append(w.Labels, l)
			w.MustNot = append(w.MustNot, "any draft on "+l.String()+": no step, it drifts")
		case m.flat:
			w.Labels = append(w.Labels, Label{Metric: m.cfg.ID, Kind: KindFlat, From: m.base, To: m.base})
			w.MustNot = append(w.MustNot, "any draft on "+m.cfg.ID+": flat all along")
		}
		draftable := false
		for _, e := range w.Expect {
			draftable = draftable || e.Metric == m.cfg.ID
		}
		if !draftable {
			w.MustNotMetrics = append(w.MustNotMetrics, m.cfg.ID)
		}
	}
	w.MustNot = append(w.MustNot, "any draft crediting a PR by someone other than "+w.Me+", a closed-unmerged PR, or a PR outside the metric's repos")

	for _, m := range g.ms {
		regimes := []Regime{{g.start, m.base}}
		var quiet []time.Time
		for _, e := range g.events {
			if e.m != m {
				continue
			}
			regimes = append(regimes, Regime{e.at, e.to})
			if !e.until.IsZero() {
				regimes = append(regimes, Regime{e.until, e.from})
			}
			for _, p := range e.prs() {
				quiet = append(quiet, p.at)
			}
			if !e.gap.Start.IsZero() {
				quiet = append(quiet, e.gap.Start, e.gap.End)
			}
		}
		ss := GenerateSeries(seedFor(g.seed, "series/"+m.cfg.ID), g.start, g.end, regimes, m.shape, quiet)
		if gaps := w.Gaps[m.cfg.ID]; len(gaps) > 0 {
			ss = slices.DeleteFunc(ss, func(s model.Sample) bool {
				return slices.ContainsFunc(gaps, func(gw model.Window) bool {
					return !s.Time.Before(gw.Start) && s.Time.Before(gw.End)
				})
			})
		}
		if m.trap != "" {
			drift(ss, m.trap, m.rate, g.start, seedFor(g.seed, "drift/"+m.cfg.ID))
		}
		w.Series[m.cfg.ID] = ss
	}
	if len(w.Gaps) == 0 {
		w.Gaps = nil
	}
	return w
}

// drift multiplies a flat series by a compounding trend (KindGrowth: rate
// per day) or a random walk (KindWalk: log-steps with sd rate per day,
// drawn hourly), starting at 1 at start.
func drift(ss []model.Sample, kind string, rate float64, start time.Time, rng *rand.Rand) {
	walk := 0.0
	sd := rate / math.Sqrt(24)
	for i := range ss {
		days := ss[i].Time.Sub(start).Hours() / 24
		switch kind {
		case KindGrowth:
			ss[i].Value *= math.Pow(1+rate, days)
		case KindWalk:
			walk += sd * rng.NormFloat64()
			ss[i].Value *= math.Exp(walk)
		}
	}
}
