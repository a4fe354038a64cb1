package drafter

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/impact-dev/impact/internal/model"
)

func TestPastTense(t *testing.T) {
	tests := []struct {
		title, want string
		ok          bool
	}{
		// Imperative.
		{"Move Elasticsearch query construction off the request path", "Moved Elasticsearch query construction off the request path", true},
		{"Add Redis cache for session lookups", "Added Redis cache for session lookups", true},
		{"Fix race in connection pool", "Fixed race in connection pool", true},
		{"Cache search results for 60s", "Cached search results for 60s", true},
		{"Drop unused index on orders.created_at", "Dropped unused index on orders.created_at", true},
		{"Rewrite query planner in Go", "Rewrote query planner in Go", true},
		{"Build search index incrementally", "Built search index incrementally", true},
		{"Make checkout idempotent", "Made checkout idempotent", true},
		{"Run migrations in the background", "Ran migrations in the background", true},
		{"Set pool size to 50", "Set pool size to 50", true},
		{"Split monolith handler into three services", "Split monolith handler into three services", true},
		{"Reduce p99 latency of /search", "Reduced p99 latency of /search", true},
		{"Remove N+1 query in order listing", "Removed N+1 query in order listing", true},
		{"Apply rate limits per tenant", "Applied rate limits per tenant", true},
		{"Stop retrying on 4xx responses", "Stopped retrying on 4xx responses", true},
		{"Ship gzip compression for API responses", "Shipped gzip compression for API responses", true},
		{"Unpin redis client version", "Unpinned redis client version", true},
		{"Remap error codes to RFC 7807", "Remapped error codes to RFC 7807", true},
		{"Debug flaky checkout test", "Debugged flaky checkout test", true},
		{"Commit offsets asynchronously", "Committed offsets asynchronously", true},
		{"Speed up search with a bloom filter", "Sped up search with a bloom filter", true},
		{"Deduplicate webhook events", "Deduplicated webhook events", true},
		{"Memoize feature-flag lookups", "Memoized feature-flag lookups", true},
		{"Parallelize shard queries", "Parallelized shard queries", true},
		{"Shard orders table by tenant", "Sharded orders table by tenant", true},
		{"Index orders by created_at", "Indexed orders by created_at", true},
		{"Re-enable query cache", "Re-enabled query cache", true},
		{"Lazy-load user settings", "Lazy-loaded user settings", true},
		{"Rate-limit login attempts", "Rate-limited login attempts", true},
		{"Upgrade to Go 1.22", "Upgraded to Go 1.22", true},
		{"Update README.md", "Updated README.md", true},
		{"Sync feature flags on startup", "Synced feature flags on startup", true},
		{"Move query building off the hot path and cache results", "Moved query building off the hot path and cached results", true},
		{"Add cache and index corruption checks", "Added cache and index corruption checks", true},
		{"Bump github.com/jackc/pgx/v5 from 5.5.0 to 5.5.4", "Bumped github.com/jackc/pgx/v5 from 5.5.0 to 5.5.4", true},
		{`Revert "Add search cache"`, `Reverted "Add search cache"`, true},
		// Already past.
		{"Reduced search latency by caching", "Reduced search latency by caching", true},
		{"Moved ES queries to a worker", "Moved ES queries to a worker", true},
		{"Fixed memory leak in exporter", "Fixed memory leak in exporter", true},
		{"Rewrote ingestion pipeline", "Rewrote ingestion pipeline", true},
		{"Vectorized scoring loop", "Vectorized scoring loop", true},
		// Gerund.
		{"Adding cache to checkout", "Added cache to checkout", true},
		{"Caching search results", "Cached search results", true},
		{"Speeding up CI with remote cache", "Sped up CI with remote cache", true},
		{"Logging slow queries", "Logged slow queries", true},
		// Third person.
		{"Adds retry to payment client", "Added retry to payment client", true},
		{"Fixes timeout in search", "Fixed timeout in search", true},
		{"Applies backpressure in ingest", "Applied backpressure in ingest", true},
		// Conventional commits and tickets.
		{"feat(search): move ES query construction off the request path (#1234)", "Moved ES query construction off the request path", true},
		{"fix: handle nil pointer in cache", "Handled nil pointer in cache", true},
		{"fix(search): timeout on large queries", "Fixed timeout on large queries", true},
		{"perf!: cache compiled templates", "Cached compiled templates", true},
		{"build(deps): bump lodash from 4.17.20 to 4.17.21", "Bumped lodash from 4.17.20 to 4.17.21", true},
		{"chore: tidy go.mod", "Tidied go.mod", true},
		{"feat: dark mode", "Added dark mode", true},
		{"[JIRA-123] Add Redis cache for sessions", "Added Redis cache for sessions", true},
		{"ABC-42: cache search results", "Cached search results", true},
		{"PAY-1234 Precompute invoice totals", "Precomputed invoice totals", true},
		{"#123 Drop unused index", "Dropped unused index", true},
		{"search-api: precompute facets", "Precomputed facets", true},
		{"[search] Batch index writes", "Batched index writes", true},
		{"Refactor query builder (closes #88)", "Refactored query builder", true},
		{"Enable HTTP keep-alive [skip ci]", "Enabled HTTP keep-alive", true},
		{"Tune GC settings (#4411)", "Tuned GC settings", true},
		{"Add retries - JIRA-991", "Added retries", true},
		{"Fix #123", "Fixed #123", true},
		// Emoji and odd whitespace.
		{"✨ Add streaming responses", "Added streaming responses", true},
		{":zap: Speed up search", "Sped up search", true},
		{"🐛 fix: off-by-one in paginator 🎉", "Fixed off-by-one in paginator", true},
		{"  Add\tcache \n", "Added cache", true},
		// Lower case.
		{"add redis cache", "Added redis cache", true},
		{"optimise image sizes", "Optimised image sizes", true},
		// Negation, comparatives and noun phrases.
		{"Don't fetch user twice", "Stopped fetching user twice", true},
		{"Do not log tokens", "Stopped logging tokens", true},
		{"Faster search via caching", "Made search faster via caching", true},
		{"perf: faster query parsing", "Made query parsing faster", true},
		{"Search latency improvements", "Improved search latency", true},
		{"Improvements to the search ranker", "Improved the search ranker", true},
		{"Fixes for flaky tests", "Fixed flaky tests", true},
		{"Cache invalidation fix", "Fixed cache invalidation", true},
		{"Query builder refactor", "Refactored query builder", true},
		{"Support for HTTP/2", "Added support for HTTP/2", true},
		{"HTTP/2 support", "Added HTTP/2 support", true},
		{"Postgres upgrade", "Upgraded Postgres", true},
		{"Migration of sessions to Redis", "Migrated sessions to Redis", true},
		// Claims in the title are left to the measured figure.
		{"Improve p99 latency of /search by 80%", "Improved p99 latency of /search", true},
		// Not actions.
		{"WIP", "Shipped WIP", false},
		{"Misc", "Shipped misc", false},
		{"Minor fixes", "Shipped minor fixes", false},
		{"Release 1.2.3", "Shipped release 1.2.3", false},
		{"v1.4.0", "Shipped v1.4.0", false},
		{"Dependency updates", "Shipped dependency updates", false},
		{"Caching layer for search", "Shipped caching layer for search", false},
		{"Elasticsearch migration", "Shipped Elasticsearch migration", false},
		{"docs: api reference", "Shipped api reference", false},
		{"", "Shipped a change", false},
		{"🎉", "Shipped a change", false},
	}
	if len(tests) < 60 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		got, ok := PastTense(tt.title)
		if got != tt.want || ok != tt.ok {
			t.Errorf("PastTense(%q) = %q, %v; want %q, %v", tt.title, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPast(t *testing.T) {
	for base, want := range map[string]string{
		"add": "added", "move": "moved", "cache": "cached", "drop": "dropped", "apply": "applied", "deploy": "deployed",
		"ship": "shipped", "fix": "fixed", "log": "logged", "filter": "filtered", "render": "rendered", "open": "opened",
		"limit": "limited", "edit": "edited", "refactor": "refactored", "cancel": "canceled", "unwrap": "unwrapped",
		"defer": "deferred", "prefer": "preferred", "sync": "synced", "panic": "panicked", "flag": "flagged",
		"split": "split", "build": "built", "rewrite": "rewrote", "re-enable": "re-enabled", "lazy-load": "lazy-loaded",
	} {
		if got := past(base); got != want {
			t.Errorf("past(%q) = %q, want %q", base, got, want)
		}
	}
	for base, want := range map[string]string{"fetch": "fetching", "retry": "retrying", "log": "logging", "use": "using", "tie": "tying", "free": "freeing"} {
		if got := gerund(base); got != want {
			t.Errorf("gerund(%q) = %q, want %q", base, got, want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{210, "ms", "210 ms"}, {1800, "ms", "1.8 s"}, {999.7, "ms", "1 s"}, {0.42, "ms", "420 µs"}, {0, "ms", "0 ms"}, {0, "usd", "$0"}, {0, "percent", "0%"},
		{0.21, "s", "210 ms"}, {1.8, "s", "1.8 s"}, {45, "s", "45 s"}, {126, "s", "2.1 min"}, {89.99, "s", "1.5 min"},
		{12, "min", "12 min"}, {95, "min", "1.6 h"}, {0.5, "min", "30 s"}, {3000, "min", "2.1 days"}, {1440 * 2, "min", "2 days"}, {1440, "min", "24 h"},
		{0.42, "percent", "0.42%"}, {12.3, "percent", "12%"}, {4.26, "percent", "4.3%"}, {99.23, "percent", "99.2%"}, {100, "percent", "100%"},
		{1200, "rps", "1.2k req/s"}, {850, "rps", "850 req/s"}, {0.5, "rps", "0.5 req/s"}, {3.4e6, "rps", "3.4M req/s"}, {999.9, "rps", "1k req/s"},
		{512, "bytes", "512 B"}, {512 * 1024, "bytes", "512 KiB"}, {1.5 * (1 << 30), "bytes", "1.5 GiB"},
		{1240, "usd", "$1,240"}, {12400, "usd", "$12k"}, {4.2, "usd", "$4.20"}, {1.26e6, "usd", "$1.3M"},
		{14, "count", "14"}, {3, "count", "3"}, {1.5, "count", "1.5"}, {1240, "count", "1,240"}, {12400, "count", "12k"},
		{7, "widgets", "7 widgets"}, {-12, "ms", "−12 ms"}, {math.NaN(), "ms", "n/a"}, {1e300, "ms", "1.2e+290 days"},
	} {
		if got := FormatValue(c.v, c.unit); got != c.want && !(c.v == 1e300 && strings.HasSuffix(got, " days")) {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}

func TestFormatChange(t *testing.T) {
	for _, c := range []struct {
		change float64
		better string
		want   string
	}{
		{-0.883, "lower", "−88%"}, {0.45, "higher", "+45%"}, {5.8, "higher", "6.8×"}, {1.0, "higher", "2×"},
		{11, "higher", "12×"}, {1.5, "lower", "+150%"}, {-0.3, "higher", "−30%"}, {-0.997, "lower", "−99.7%"},
		{-1, "lower", "−100%"}, {-0.004, "lower", "−0.4%"}, {math.Inf(1), "higher", "n/a"},
	} {
		if got := FormatChange(c.change, c.better); got != c.want {
			t.Errorf("FormatChange(%v, %q) = %q, want %q", c.change, c.better, got, c.want)
		}
	}
}

func TestFormatPair(t *testing.T) {
	a, b := formatPair(1.04, 1.06, "s")
	if a == b {
		t.Errorf("pair %q %q", a, b)
	}
}

func TestStatement(t *testing.T) {
	ref := model.MetricRef{ID: "search-p99", Name: "search API p99 latency", Unit: "ms", Better: "lower"}
	prs := []model.PRRef{{Repo: "acme/search-api", Number: 1234, Title: "Move ES query construction off the request path"}}
	got := statement(ref, false, 1800, 210, -0.883, prs, nil)
	want := "Moved ES query construction off the request path, reducing search API p99 latency from 1.8 s to 210 ms (−88%). (acme/search-api#1234)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	three := append(prs, model.PRRef{Repo: "acme/search-api", Number: 1240, Title: "Cache parsed queries"},
		model.PRRef{Repo: "acme/search-core", Number: 7, Title: "Trim payload"})
	got = statement(ref, false, 1800, 210, -0.883, three, []string{"bob", "carol", "dave"})
	want = "Moved ES query construction off the request path (and 2 related changes) (with @bob, @carol and 1 other), reducing search API p99 latency from 1.8 s to 210 ms (−88%). (acme/search-api#1234, #1240, acme/search-core#7)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	long := []model.PRRef{{Repo: "acme/search-api", Number: 1, Title: "Move " + strings.Repeat("very long words here ", 30)}}
	got = statement(ref, false, 1800, 210, -0.883, long, nil)
	if n := utf8.RuneCountInString(got); n > maxTextRunes || !strings.Contains(got, "…, reducing search API p99 latency from 1.8 s to 210 ms") {
		t.Errorf("%d runes: %q", n, got)
	}
}

func TestEvidence(t *testing.T) {
	r := Run(Input{Params: params(), Now: now,
		Series: []Series{{Metric: latency, Samples: gen{base: 1800, shifts: []step{{shiftAt, 0.5}}, seed: 11}.samples()}},
		PRs:    []model.PR{pr(1234, "alice", shiftAt.Add(-2*time.Hour), "Add query cache"), pr(1250, "bob", shiftAt.Add(-5*time.Hour), "Bump deps")}})
	d := one(t, r)
	ev := strings.Join(d.Evidence, "\n")
	for _, want := range []string{
		"search API p99 latency median ", "over the 7 days before acme/search-api#1234 went live (merged 2026-09-10 12:00 UTC)",
		"over the 7 days after it went live and a 1-day settle; Mann–Whitney p = ", "on 7 vs 7 daily medians.",
		"Also live in the same span: acme/search-api#1250 by @bob (Bump deps), 5 h before the shift",
		"could also explain it",
	} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
}

// FuzzStatement: any title, values and unit give a one-line statement of
// valid UTF-8 that fits and carries both numbers.
func FuzzStatement(f *testing.F) {
	f.Add("feat(search): move ES query construction off the request path (#1234)", 1800.0, 210.0, "ms", false, "bob")
	f.Add("WIP", 14.0, 3.0, "count", true, "")
	f.Add("\x00\xff🎉 Add\u202e cache\n\n", 1200.0, 8160.0, "rps", false, "bob\ncarol")
	f.Add(strings.Repeat("Refactor everything ", 40), 0.0, -1.0, "percent", false, "")
	f.Add("Fix", math.Inf(1), math.NaN(), "\x00weird unit that is long", true, "x")
	f.Fuzz(func(t *testing.T, title string, before, after float64, unit string, weekly bool, other string) {
		ref := model.MetricRef{ID: "m", Name: "search API p99 latency", Unit: unit, Better: "lower"}
		change := (after - before) / before
		var with []string
		if other != "" {
			with = []string{other}
		}
		prs := []model.PRRef{{Repo: "acme/search-api", Number: 1234, Title: title}}
		s := statement(ref, weekly, before, after, change, prs, with)
		if s == "" || !utf8.ValidString(s) {
			t.Fatalf("bad statement %q", s)
		}
		for _, r := range s {
			if unicode.IsControl(r) || r == '\n' || r == '\r' || unicode.Is(unicode.Cf, r) {
				t.Fatalf("control character %U in %q", r, s)
			}
		}
		if n := utf8.RuneCountInString(s); n > 300 {
			t.Fatalf("%d runes: %q", n, s)
		}
		a, b := shownPair(before, after, change, unit, ref.Better)
		if !strings.Contains(s, " from "+a+" to "+b) {
			t.Fatalf("numbers %q, %q missing from %q", a, b, s)
		}
		if action, _ := PastTense(title); action == "" || !utf8.ValidString(action) || strings.ContainsAny(action, "\n\r\x00") {
			t.Fatalf("bad action %q", action)
		}
	})
}

func TestPastTenseCompoundNouns(t *testing.T) {
	for in, want := range map[string]string{
		"Cache Go modules and build outputs in CI":                "Cached Go modules and build outputs in CI",
		"Add runbook links and auto-diagnostics to search alerts": "Added runbook links and auto-diagnostics to search alerts",
		"Add retry budget to the search indexer":                  "Added retry budget to the search indexer",
		"Move query building off the hot path and cache results":  "Moved query building off the hot path and cached results",
	} {
		if got, _ := PastTense(in); got != want {
			t.Errorf("PastTense(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestShownPairAgreesWithChange: the values shown carry as many digits as
// it takes for the change they imply to read as the one in brackets.
func TestShownPairAgreesWithChange(t *testing.T) {
	for _, c := range []struct {
		before, after float64
		unit, better  string
		wantA, wantB  string
	}{
		{1190, 3440, "req/s", "higher", "1.19k req/s", "3.44k req/s"}, // 1.2k → 3.4k would read 2.8×, not 2.9×
		{1202, 142, "count", "lower", "1,202", "142"},
		{1800, 209, "ms", "lower", "1.8 s", "209 ms"}, // different tiers: not compared
		{2.4, 0.6, "percent", "lower", "2.4%", "0.6%"},
	} {
		a, b := shownPair(c.before, c.after, (c.after-c.before)/c.before, c.unit, c.better)
		if a != c.wantA || b != c.wantB {
			t.Errorf("%v → %v %s: %q → %q, want %q → %q", c.before, c.after, c.unit, a, b, c.wantA, c.wantB)
		}
	}
}
