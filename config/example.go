package config

import "strings"

// Example returns a commented example configuration, for
// `impact config example`. It parses and validates once the environment
// variables it references (GITHUB_TOKEN, DD_API_KEY, DD_APP_KEY, PROM_TOKEN,
// PAGERDUTY_TOKEN, SMTP_PASSWORD) are set.
func Example() string { return ExampleWith(LoadOptions{}) }

// ExampleWith is Example for what a load with opts accepts: the registered
// sources' entries (and their example metrics) added, and the categories
// listed.
func ExampleWith(opts LoadOptions) string {
	types := opts.Sources
	var b strings.Builder
	b.WriteString(exampleHead)
	for _, t := range types {
		if t.Example == "" {
			continue
		}
		b.WriteString("\n")
		b.WriteString(indent(strings.TrimRight(t.Example, "\n"), "  "))
		b.WriteString("\n")
	}
	b.WriteString(exampleMetrics(opts.Categories))
	for _, t := range types {
		if t.ExampleMetrics == "" {
			continue
		}
		b.WriteString("\n")
		b.WriteString(indent(strings.TrimRight(t.ExampleMetrics, "\n"), "  "))
		b.WriteString("\n")
	}
	b.WriteString(exampleTail)
	return b.String()
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

const exampleHead = `# impact configuration.
#
# Found at --config, else $IMPACT_CONFIG, else $XDG_CONFIG_HOME/impact/config.yaml
# (~/.config/impact/config.yaml). Check it with ` + "`impact config check`" + `.
#
# ${VAR} in any value is replaced by the environment variable VAR (an unset
# variable is an error; ${VAR:-default} gives a fallback; $${ is a literal "${").
# Inside [ ] or { } quote such values: repos: ["${ORG}/api"].
# Every secret (token, api_key, app_key, bearer_token, password) can instead be
# read from a file with <key>_file, e.g. "token_file: /run/secrets/github_token";
# the file's trailing newline is dropped. Secrets never appear in logs, errors
# or ` + "`impact config show`" + `.
# Durations are Go durations plus days: 15m, 1h30m, 7d, 1d12h.

me:
  # Your GitHub login: PRs by this author are "mine". A list is allowed:
  # github: [alice, alice-work]
  github: alice
  name: Alice Smith
  email: alice@example.com           # also the digest's default From
  # IANA time zone: the digest schedule and "this week" use it. Default UTC.
  timezone: Europe/Berlin

store:
  # The bbolt database with the collected history and your drafts.
  path: ~/.local/share/impact/impact.db

server:
  # The daemon's local API, /metrics and /healthz. Left out, it is a unix
  # socket only you can use (mode 0600, in a 0700 directory):
  # $XDG_RUNTIME_DIR/impact/impact.sock, else ~/.local/state/impact/impact.sock.
  # A TCP host:port (loopback included) requires token: clients send it as
  # a bearer token, and the CLI first checks that the daemon holds its store.
  # listen: unix:/run/user/1000/impact/impact.sock
  # listen: 127.0.0.1:7878
  # token: ${IMPACT_SERVER_TOKEN}

ui:
  # The review page (impact serve serves it; impact review opens it). A
  # loopback host:port only, or off; the first visit needs the one-time
  # login link that impact review prints or opens.
  listen: 127.0.0.1:7879
  # Where your browser reaches the page (an SSH tunnel, a proxy): when set,
  # the digest links each draft to its page.
  public_url: ""

# Where work leaves numbers. Leave a source out to disable it.
sources:`

// exampleMetrics is the comment above `metrics:`, naming the categories.
func exampleMetrics(categories []string) string {
	category := "category (default " + DefaultMetric.Category + ")"
	if len(categories) > 0 {
		category = "category (" + orList(categories) + "; default " + DefaultMetric.Category + ")"
	}
	return "\n" + comment("Series that come from a query: each entry names a source configured above "+
		"that takes metrics, and each needs a unique id. The keys every entry has: "+
		"id (lower-case letters, digits and . _ / -), name (how statements name it), source, query, "+
		"unit ("+strings.Join(units, ", ")+"), better (lower or higher: which way is a win), "+
		"repos (PRs to these repos may be credited; they must be in sources.github.repos), "+
		"paths (optional: the PR must touch one of these; ** spans directories) and "+category+".") +
		"metrics:\n"
}

// comment wraps text into "# " lines of at most 76 columns.
func comment(text string) string {
	var b strings.Builder
	line := "#"
	for _, w := range strings.Fields(text) {
		if len(line) > 1 && len(line)+1+len(w) > 76 {
			b.WriteString(line + "\n")
			line = "#"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
	return b.String()
}

const exampleTail = `
# How shifts become drafts.
drafter:
  window: 7d          # before/after windows either side of the change
  settle: 1d          # time after merge (or deploy) excluded from the after window
  min_change: 10%     # smaller relative changes are not drafted
  alpha: 0.01         # significance level for a shift (between 0 and 0.5)

# Activity statements count over a review period: half (H1/H2) or quarter.
review:
  period: half

# Documents: a merged PR of yours touching one of these files counts as
# writing or updating that document ("Wrote or updated 6 runbooks ...").
docs:
  category: leadership
  paths:
    - {name: runbook, globs: ["runbooks/**", "docs/runbooks/**"]}
    - {name: architecture decision record, globs: ["docs/adr/**"]}

# The weekly digest email. Leave "to" empty to send none.
digest:
  schedule: "0 9 * * MON"            # cron (minute hour day month weekday), in me.timezone
  to: [alice@example.com]
  from: impact@example.com
  smtp:
    host: smtp.example.com
    port: 587
    username: alice
    password: ${SMTP_PASSWORD}
    tls: starttls                    # starttls | tls | none (none only for localhost)

# Bounds on what a vendor can make a poll do (the defaults suit every API).
collect:
  max_response_bytes: 67108864       # 64 MiB: a longer answer fails that request
  max_requests: 50000                # per poll of one source: stops pagination that never ends
  poll_timeout: 30m                  # the daemon's deadline for one poll (what it stored stays)
`
