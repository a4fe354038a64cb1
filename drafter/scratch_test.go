package drafter
import ("testing";"fmt")
func TestScratch(t *testing.T){
 for _, s := range []string{
 "feat(search): move ES query construction off the request path (#1234)",
 "Move Elasticsearch query construction off the request path",
 "fix: handle nil pointer in cache", "fix(search): search timeout on large queries", "perf!: faster query parsing",
 "[JIRA-123] Add Redis cache for sessions", "ABC-42: cache search results", "#123 Drop unused index", "Rewrite query planner",
 "Build search index incrementally", "Make search faster", "Run migrations in background", "Set pool size to 50", "Split monolith handler",
 "Reduced p99 by caching", "Adding cache to checkout", "Adds retry to client", "add redis cache", "WIP", "Misc", "Update README.md",
 "Release 1.2.3", "Search latency improvements", "✨ Add streaming responses", ":zap: Speed up search", "Fixes for flaky tests",
 "Don't fetch user twice", "Do not log tokens", "Caching layer for search", "Logging slow queries", "Cache invalidation fix",
 "Support for HTTP/2", "HTTP/2 support", "Postgres upgrade", "Faster search via caching", "Bump github.com/foo/bar from 1.2.0 to 1.3.0",
 "build(deps): bump lodash from 4.17.20 to 4.17.21", "Revert \"Add search cache\"", "Re-enable query cache", "Lazy-load user settings",
 "Unpin redis client", "Remap error codes", "Stop retrying on 4xx", "Debug flaky test", "Deduplicate events", "Memoize config lookup",
 "Parallelize shard queries", "Shard orders table by tenant", "Index orders by created_at", "Move X and cache results", "Add cache and index corruption checks",
 "Use connection pooling for Postgres", "Optimise image sizes", "v1.4.0", "Merge branch 'main' into feature", "Minor fixes", "Improvements to the search ranker",
 "Sync feature flags", "Tune GC settings", "Shipped new search", "Speeding up CI", "Apply rate limits per tenant", "Rate-limit login attempts",
 "Upgrade to Go 1.22", "Dependency updates", "Refactor query builder (closes #88)", "chore: tidy go.mod", "Migration of sessions to Redis", "search-api: precompute facets",
 "Query builder refactor", "Fix #123", "Update", "Improve p99 latency of /search by 80%", "feat: dark mode", "docs: api reference", "Enable HTTP keep-alive [skip ci]",
 "  \x00Add\tcache\u202e\n", "Drop ", "Commit offsets asynchronously", "Submit metrics in batches", "Panic on invalid config",
 } { a, ok := PastTense(s); fmt.Printf("%-60q → %q %v\n", s, a, ok) }
}
