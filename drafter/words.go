package drafter

import "strings"

// Word lists for PastTense. Kept as space-separated strings for easy
// editing; parsed once into sets at init.

// verbWords are base forms that start PR titles. Words that are also common
// nouns (cache, log, index, …) are listed in ambiguousWords as well.
const verbWords = `
abort accept activate adapt add address adjust adopt aggregate alert align allocate allow annotate apply archive
assert attach audit authenticate authorize automate autoscale avoid back backfill backport balance ban batch
benchmark bind block boost bootstrap bound bring broadcast buffer build bump bundle bust cache calculate
call cancel cap capture centralize centralise change check chunk clamp clarify clean cleanup clear clip clone close
cluster coalesce collapse collect combine commit compact compare compile complete compress compute concatenate
configure connect consolidate constrain consume containerize containerise convert copy correct count cover create
cut deduplicate dedupe dedup default defer define delay delete denormalize deploy deprecate derive describe
design detach detect determine disable disallow discard dispatch display distribute dockerize document double
downgrade drain drop dump edit eliminate emit enable encode encrypt enforce enhance ensure enqueue expand
expire explain export expose extend extract fail fallback fan fetch fill filter finalize find finish fix flag
flatten flush fold force fork format forward free freeze gate gather generalize generate get give gzip guard
halve handle harden hash hide hoist hold hook ignore implement import improve include increase index inline
initialize initialise inject insert install instrument integrate intern introduce invalidate isolate keep kill
label launch lazy-load let lift limit link lint load localize lock log loosen lower make manage map mark match
measure memoize merge migrate minimize minimise mock model modernize modularize monitor mount move mute
narrow normalize normalise offload omit open optimize optimise order overhaul override overwrite pack page paginate
parallelize parallelise parameterize parse partition pass patch pause persist pin pipeline plug poll pool port
precompute predict prefer prefetch preload prepare preserve prevent prewarm print prioritize process profile
promote propagate protect provide provision prune publish pull purge push put quarantine queue quit raise
rate-limit read rebalance rebuild recompute reconcile record recover redesign redirect reduce refactor refresh
register reimplement reindex reject release reload remap remove rename reorder reorganize reorganise repair
replace report require rerun reset reshard resize resolve respect restore restrict restructure resume retain retry
return reuse revert review revise rewire rewrite roll rotate route run sample sanitize sanitise save scale
scan schedule scope scrub seal secure select send separate serialize serve set shard share shave shed shift
ship short-circuit shorten show shrink shut simplify size skip slice slim sort specify speed split spread stabilize
stage standardize start stop store stream strengthen strip structure stub submit subscribe support suppress swap
switch sync tag tear terminate test throttle tidy tighten time toggle trace track trigger trim truncate tune
turn unblock unify uninstall unlock unpin unset untangle unwrap unzip update upgrade upload use validate vectorize
vendor verify wait warm watch widen wire wrap write zip
`

// ambiguousWords are verbs that often start noun-phrase titles
// ("Cache invalidation fix", "Build improvements").
const ambiguousWords = `
alert audit back batch benchmark block buffer build bump cache change check cluster commit count cover default
delay design display document double fallback fan flag fork format gate guard hash hook index label launch limit
lint lock log map mark match mock model monitor order page patch pipeline pool port process profile queue record
release report review rewrite roll route sample scope shard share shift size slice sort speed stage store stream
stub support switch sync tag test time trace track trigger turn update upgrade watch
`

// irregular maps base forms to past forms (including verbs that would be
// misspelt by the regular rules).
var irregular = map[string]string{
	"be": "was", "become": "became", "begin": "began", "bind": "bound", "break": "broke", "bring": "brought",
	"broadcast": "broadcast", "build": "built", "buy": "bought", "catch": "caught", "choose": "chose",
	"cut": "cut", "deal": "dealt", "dig": "dug", "do": "did", "draw": "drew", "drive": "drove", "eat": "ate",
	"fall": "fell", "feed": "fed", "find": "found", "fly": "flew", "forbid": "forbade", "forget": "forgot",
	"freeze": "froze", "get": "got", "give": "gave", "go": "went", "grow": "grew", "hang": "hung", "have": "had",
	"hide": "hid", "hold": "held", "keep": "kept", "know": "knew", "lay": "laid", "lead": "led", "leave": "left",
	"lend": "lent", "let": "let", "lose": "lost", "make": "made", "mean": "meant", "meet": "met",
	"offset": "offset", "outrun": "outran", "overcome": "overcame", "override": "overrode", "overwrite": "overwrote",
	"pay": "paid", "prebuild": "prebuilt", "preset": "preset", "put": "put", "quit": "quit", "read": "read",
	"rebind": "rebound", "rebuild": "rebuilt", "redo": "redid", "reread": "reread", "rerun": "reran",
	"reset": "reset", "resend": "resent", "rethink": "rethought", "rewrite": "rewrote", "ride": "rode",
	"rise": "rose", "run": "ran", "say": "said", "see": "saw", "seek": "sought", "sell": "sold", "send": "sent",
	"set": "set", "shed": "shed", "shrink": "shrank", "shut": "shut", "sink": "sank", "slide": "slid",
	"speed": "sped", "spend": "spent", "spin": "spun", "split": "split", "spread": "spread", "stand": "stood",
	"steal": "stole", "stick": "stuck", "strike": "struck", "sweep": "swept", "swing": "swung", "take": "took",
	"teach": "taught", "tear": "tore", "tell": "told", "think": "thought", "throw": "threw", "unbind": "unbound",
	"undo": "undid", "unfreeze": "unfroze", "unset": "unset", "upset": "upset", "wake": "woke", "wind": "wound",
	"win": "won", "withdraw": "withdrew", "write": "wrote",
	// Regular verbs whose spelling the rules get wrong.
	"commit": "committed", "submit": "submitted", "emit": "emitted", "omit": "omitted", "permit": "permitted",
	"admit": "admitted", "transmit": "transmitted", "control": "controlled", "patrol": "patrolled",
	"compel": "compelled", "expel": "expelled", "propel": "propelled", "equip": "equipped", "format": "formatted",
	"program": "programmed", "transfer": "transferred", "infer": "inferred", "occur": "occurred",
	"panic": "panicked", "mimic": "mimicked", "dedup": "deduped", "fan": "fanned", "cleanup": "cleaned up",
	"fallback": "fell back", "ping": "pinged", "gzip": "gzipped", "debug": "debugged", "defer": "deferred",
	"refer": "referred", "prefer": "preferred", "overlap": "overlapped", "regret": "regretted",
}

// nounHeads end noun-phrase titles that read as an action once inverted:
// "Search latency improvements" → "Improved search latency".
var nounHeads = map[string]string{
	"fix": "Fixed", "fixes": "Fixed", "bugfix": "Fixed", "hotfix": "Fixed",
	"improvement": "Improved", "improvements": "Improved",
	"refactor": "Refactored", "refactoring": "Refactored",
	"cleanup": "Cleaned up", "clean-up": "Cleaned up",
	"optimization": "Optimized", "optimizations": "Optimized", "optimisation": "Optimised", "optimisations": "Optimised",
	"speedup": "Sped up", "speed-up": "Sped up", "speedups": "Sped up",
	"overhaul": "Overhauled", "rewrite": "Rewrote", "removal": "Removed",
	"upgrade": "Upgraded", "bump": "Bumped", "support": "Added",
}

// nounLeads start noun-phrase titles followed by a preposition:
// "Fix for X" → "Fixed X", "Support for X" → "Added support for X".
var nounLeads = map[string]struct {
	action string
	preps  string // prepositions dropped after the lead
	keep   bool   // keep the lead and preposition as the object ("Added support for X")
}{
	"fix": {"Fixed", "for to in of", false}, "fixes": {"Fixed", "for to in of", false},
	"improvement": {"Improved", "to for in of", false}, "improvements": {"Improved", "to for in of", false},
	"optimization": {"Optimized", "to for in of", false}, "optimizations": {"Optimized", "to for in of", false},
	"optimisation": {"Optimised", "to for in of", false}, "optimisations": {"Optimised", "to for in of", false},
	"refactor": {"Refactored", "of", false}, "refactoring": {"Refactored", "of", false},
	"cleanup": {"Cleaned up", "of in", false}, "rewrite": {"Rewrote", "of", false},
	"removal": {"Removed", "of", false}, "speedup": {"Sped up", "of for in", false},
	"speedups": {"Sped up", "of for in", false}, "migration": {"Migrated", "of", false},
	"support": {"Added", "for", true},
}

// stopLeads make a noun-phrase title too vague to invert ("Minor fixes").
const stopLeads = `misc miscellaneous minor small various some more few several general other assorted quick tiny
big major additional many random lots bunch a an the couple`

// comparatives start titles like "Faster search via caching" → "Made search faster via caching".
const comparatives = `faster quicker smaller cheaper leaner lighter safer simpler cleaner better shorter tighter`

// prepositions end the object of a comparative title.
const prepositions = `via by with using through for in on when during from under across after before without`

// nounAfterGerund: a gerund followed by one of these is a noun phrase
// ("Caching layer for search"), not an action.
const nounAfterGerund = `layer layers improvements improvement fix fixes support config configuration refactor system
service services module logic strategy changes change update updates cleanup tweaks infrastructure framework
library middleware policy policies rules option options flag flags setup tests test helper helpers utils pipeline
proxy engine client server mode`

// properNouns keep their capital letter when a title's first word is
// lower-cased ("Shipped Elasticsearch migration").
const properNouns = `elasticsearch redis postgres postgresql mysql kafka docker kubernetes go golang python rust java
node react datadog sentry linux prometheus grafana terraform github gitlab jenkins nginx envoy istio consul vault
mongodb mongo cassandra clickhouse bigquery snowflake spark airflow celery sidekiq rails django flask spring
typescript javascript ruby scala kotlin swift android ios aws gcp azure cloudflare stripe slack pagerduty
opensearch memcached rabbitmq nats grpc graphql protobuf helm argo bazel gradle maven webpack vite jest
i monday tuesday wednesday thursday friday saturday sunday january february march april june july august
september october november december`

var (
	verbs         = wordSet(verbWords)
	ambiguous     = wordSet(ambiguousWords)
	stopLeadSet   = wordSet(stopLeads)
	comparSet     = wordSet(comparatives)
	prepSet       = wordSet(prepositions)
	gerundNounSet = wordSet(nounAfterGerund)
	properSet     = wordSet(properNouns)
	irregularPast = func() map[string]bool {
		m := make(map[string]bool, len(irregular))
		for _, p := range irregular {
			if !strings.Contains(p, " ") {
				m[p] = true
			}
		}
		return m
	}()
	determiners = wordSet(`the a an all every each its their our some this that these those`)
	// compoundNouns are noun/verb words followed by a plural noun that
	// together are more likely a compound noun than a verb and its
	// object: "cache modules and build outputs", "and test results".
	compoundNouns = wordSet(`build-outputs build-artifacts build-times build-steps build-jobs build-scripts
build-images build-logs build-errors build-failures test-results test-logs test-failures test-files test-times
test-suites log-lines log-files index-files cache-keys cache-layers cache-files`)
)

func wordSet(s string) map[string]bool {
	f := strings.Fields(s)
	m := make(map[string]bool, len(f))
	for _, w := range f {
		m[w] = true
	}
	return m
}
