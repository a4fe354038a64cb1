package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // me.timezone must load on hosts (and images) without a zoneinfo database

	"github.com/robfig/cron/v3"
)

// Allowed values, in the order messages list them.
var (
	units    = []string{"ms", "s", "min", "percent", "count", "rps", "bytes", "usd"}
	tlsModes = []string{"starttls", "tls", "none"}
)

var (
	metricIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*$`)
	repoRe     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	loginRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*(\[bot\])?$`)
)

// Validate checks a configuration built in code (Load and Parse already
// validate) and returns a *ValidationError listing every problem, or nil.
func (c *Config) Validate() error {
	ps := newProblems(c.File)
	c.validate(ps)
	return ps.err()
}

// normalize fills in derived defaults and canonical forms after decoding.
// lines tells which keys the file set (nil for a config built in code).
func (c *Config) normalize(opts LoadOptions, lines map[string]int) {
	set := func(path string) bool { _, ok := lines[path]; return ok }

	if strings.TrimSpace(c.Me.Timezone) == "" {
		c.Me.Timezone = "UTC"
	}
	// The default store follows $XDG_DATA_HOME when it is set (absolute, as
	// the XDG spec requires): the container image points it at its volume.
	if !set("store.path") && c.Store.Path == DefaultConfig.Store.Path && opts.LookupEnv != nil {
		if x, ok := opts.LookupEnv("XDG_DATA_HOME"); ok && filepath.IsAbs(x) {
			c.Store.Path = filepath.Join(x, "impact", "impact.db")
		}
	}
	c.Store.Path = expandHome(c.Store.Path, opts.UserHomeDir)
	if strings.TrimSpace(c.Server.Listen) == "" {
		c.Server.Listen = DefaultListen(opts.LookupEnv, opts.UserHomeDir)
	}
	if p, ok := strings.CutPrefix(c.Server.Listen, "unix:"); ok {
		c.Server.Listen = "unix:" + expandHome(p, opts.UserHomeDir)
	}

	for i := range c.Metrics {
		if c.Metrics[i].Category == "" {
			c.Metrics[i].Category = DefaultMetric.Category
		}
	}
	if c.Digest.From == "" && len(c.Digest.To) > 0 {
		c.Digest.From = c.Me.Email
	}
}

// validate adds every problem of c to ps.
func (c *Config) validate(ps *problems) {
	c.validateMe(ps)
	if strings.TrimSpace(c.Store.Path) == "" {
		ps.add("store.path", "required: where to keep the database")
	}
	c.validateServer(ps)
	c.validateUI(ps)
	c.checkRegistered(ps)
	c.validateMetrics(ps)
	c.validateDrafter(ps)
	c.validateDigest(ps)
	c.validateCollect(ps)
	c.validateReview(ps)
}

func (c *Config) validateCollect(ps *problems) {
	k := c.Collect
	if k.MaxResponseBytes < 1<<10 {
		ps.add("collect.max_response_bytes", "must be at least 1024 (bytes; default 67108864, 64 MiB)")
	}
	if k.MaxRequests < 1 {
		ps.add("collect.max_requests", "must be positive (default 50000)")
	}
	if k.PollTimeout < Duration(time.Minute) {
		ps.add("collect.poll_timeout", "must be at least 1m (default 30m)")
	}
}

func (c *Config) validateReview(ps *problems) {
	switch c.Review.Period {
	case "", "half", "quarter":
	default:
		ps.add("review.period", "%q: want half or quarter", c.Review.Period)
	}
	if cat := c.Docs.Category; cat != "" && !c.knownCategory(cat) {
		ps.add("docs.category", "%q: want one of %s", cat, strings.Join(c.categories, ", "))
	}
	for i, d := range c.Docs.Paths {
		p := indexPath("docs.paths", i)
		if strings.TrimSpace(d.Name) == "" {
			ps.add(p+".name", "required: what the files are, e.g. runbook")
		}
		if len(d.Globs) == 0 {
			ps.add(p+".globs", "required: e.g. [\"runbooks/**\"]")
		}
		for j, pat := range d.Globs {
			if err := c.checkGlob(pat); err != nil {
				ps.add(indexPath(p+".globs", j), "invalid pattern %q: %v", pat, err)
			}
		}
	}
}

func (c *Config) validateMe(ps *problems) {
	if len(c.Me.GitHub) == 0 {
		ps.add("me.github", "required: the GitHub login (or list of logins) whose work is yours")
	}
	for i, l := range c.Me.GitHub {
		p := "me.github"
		if len(c.Me.GitHub) > 1 {
			p = indexPath(p, i)
		}
		if !loginRe.MatchString(l) || len(l) > 64 {
			ps.add(p, "%q is not a GitHub login", l)
		}
	}
	if hasControl(c.Me.Name) {
		ps.add("me.name", "must be one line of text")
	}
	if c.Me.Email != "" {
		if _, err := mail.ParseAddress(c.Me.Email); err != nil {
			ps.add("me.email", "invalid address %q", c.Me.Email)
		}
	}
	if _, err := loadLocation(c.Me.Timezone); err != nil {
		ps.add("me.timezone", "unknown time zone %q (use an IANA name such as Europe/Berlin)", c.Me.Timezone)
	}
}

func (c *Config) validateServer(ps *problems) {
	listen := c.Server.Listen
	if p, ok := strings.CutPrefix(listen, "unix:"); ok {
		if !filepath.IsAbs(p) {
			ps.add("server.listen", "invalid address %q: a unix socket needs an absolute path (unix:/path/impact.sock)", listen)
		}
		return
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		ps.add("server.listen", "invalid address %q: want host:port or unix:/absolute/path", listen)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		ps.add("server.listen", "invalid address %q: the port must be a number from 1 to 65535", listen)
		return
	}
	if c.Server.Token == "" {
		ps.add("server.token", "required when server.listen (%s) is TCP: every local user can connect to a TCP port, loopback included; set a token, or leave server.listen out to use the default unix socket", listen)
	}
}

// validateUI: the review page listens on loopback TCP only (a browser
// cannot reach a unix socket; a remote browser reaches it through a tunnel
// or proxy named by public_url).
func (c *Config) validateUI(ps *problems) {
	if l := c.UI.Listen; l != "off" && l != "" {
		host, port, err := net.SplitHostPort(l)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || n < 0 || n > 65535:
			ps.add("ui.listen", "invalid address %q: want a loopback host:port such as 127.0.0.1:7879, or off", l)
		case !isLoopbackHost(host):
			ps.add("ui.listen", "%q is not a loopback address: the review page listens on this machine only (reach it from elsewhere through an SSH tunnel and set ui.public_url)", l)
		}
	}
	if u := c.UI.PublicURL; u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil || pu.RawQuery != "" || pu.Fragment != "" {
			ps.add("ui.public_url", "invalid URL %q: want http(s)://host[:port][/path]", u)
		}
	}
}

// isLoopbackHost reports whether host names this machine only.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// requireSecret reports an empty secret, unless the source talks to a
// loopback test server.
func requireSecret(ps *problems, path string, s Secret, loopback bool) {
	if s == "" && !loopback {
		key := path[strings.LastIndexByte(path, '.')+1:]
		ps.add(path, "required (or %s_file)", key)
	}
}

// checkURL validates an absolute http(s) URL and reports whether it points
// at a loopback host. The URL is not echoed: it might carry credentials.
func checkURL(ps *problems, path, raw string) (loopback bool) {
	if raw == "" {
		ps.add(path, "required: an http(s) URL")
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		ps.add(path, "invalid URL: want an absolute http:// or https:// URL")
		return false
	}
	if u.User != nil {
		ps.add(path, "must not contain credentials: use the source's token or basic_auth")
		return false
	}
	return isLoopbackHost(u.Hostname())
}

func checkRepo(ps *problems, path, repo string) {
	if !repoRe.MatchString(repo) {
		ps.add(path, "%q is not a repository: want owner/name", repo)
	}
}

func positive(ps *problems, path string, d Duration) {
	if d <= 0 {
		ps.add(path, "must be positive")
	}
}

func (c *Config) validateMetrics(ps *problems) {
	seen := map[string]int{}
	for i, m := range c.Metrics {
		p := indexPath("metrics", i)
		switch {
		case m.ID == "":
			ps.add(p+".id", "required: a short id such as search-p99")
		case !metricIDRe.MatchString(m.ID):
			ps.add(p+".id", "invalid id %q: use lower-case letters, digits and . _ / -, starting with a letter or digit", m.ID)
		case c.reservedID(m.ID) != "":
			ps.add(p+".id", "invalid id %q: the prefix %q is reserved for built-in series", m.ID, c.reservedID(m.ID))
		default:
			if j, dup := seen[m.ID]; dup {
				ps.add(p+".id", "duplicate id %q (also metrics[%d])", m.ID, j)
			} else {
				seen[m.ID] = i
			}
		}
		known := c.metricSources()
		switch {
		case m.Source == "":
			ps.add(p+".source", "required: %s", orList(known))
		case !slices.Contains(known, m.Source):
			ps.add(p+".source", "unknown source %q (want %s)", m.Source, orList(known))
		case c.Sources.Get(m.Source) == nil:
			ps.add(p+".source", "source %q is not configured under sources", m.Source)
		default:
			if mc, ok := c.Sources.Get(m.Source).(MetricChecker); ok {
				mc.CheckMetric(&Check{ps: ps, prefix: p, cfg: c}, m)
			} else if m.In != "" {
				ps.add(p+".in", "source %s takes no \"in\"", m.Source)
			}
		}
		if strings.TrimSpace(m.Query) == "" {
			ps.add(p+".query", "required")
		}
		switch {
		case m.Unit == "":
			ps.add(p+".unit", "required: one of %s", strings.Join(units, ", "))
		case !slices.Contains(units, m.Unit):
			ps.add(p+".unit", "unknown unit %q (one of %s)", m.Unit, strings.Join(units, ", "))
		}
		if m.Better != "lower" && m.Better != "higher" {
			if m.Better == "" {
				ps.add(p+".better", "required: lower or higher")
			} else {
				ps.add(p+".better", "invalid value %q (want lower or higher)", m.Better)
			}
		}
		if !c.knownCategory(m.Category) {
			ps.add(p+".category", "unknown category %q (one of %s)", m.Category, strings.Join(c.categories, ", "))
		}
		for j, r := range m.Repos {
			rp := indexPath(p+".repos", j)
			checkRepo(ps, rp, r) // a source checks it reads PRs there (sources.github)
		}
		for j, pat := range m.Paths {
			if err := c.checkGlob(pat); err != nil {
				ps.add(indexPath(p+".paths", j), "invalid pattern %q: %v", pat, err)
			}
		}
	}
}

// knownCategory reports whether cat is one of the categories c was loaded
// with (any is, when it was given none).
func (c *Config) knownCategory(cat string) bool {
	return len(c.categories) == 0 || slices.Contains(c.categories, cat)
}

// reservedID returns the built-in prefix id starts with, or "".
func (c *Config) reservedID(id string) string {
	for _, t := range c.types {
		for _, p := range t.SeriesPrefixes {
			if strings.HasPrefix(id, p) {
				return p
			}
		}
	}
	return ""
}

// metricSources lists the sources `metrics:` entries may name: the
// built-in ones, the registered types that take metrics, and (for a config
// built in code without types) every registered source configured.
func (c *Config) metricSources() []string {
	var out []string
	for _, t := range c.types {
		if t.Metrics && !slices.Contains(out, t.Name) {
			out = append(out, t.Name)
		}
	}
	if c.types == nil {
		for _, n := range c.Sources.registered() {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func (c *Config) validateDrafter(ps *problems) {
	d := c.Drafter
	if d.Window <= 0 {
		ps.add("drafter.window", "must be positive")
	}
	if d.Settle < 0 {
		ps.add("drafter.settle", "must not be negative")
	}
	if !(d.MinChange >= 0 && d.MinChange < 1) {
		ps.add("drafter.min_change", "must be at least 0%% and below 100%%")
	}
	if !(d.Alpha > 0 && d.Alpha < 0.5) {
		ps.add("drafter.alpha", "must be between 0 and 0.5, e.g. 0.01")
	}
}

func (c *Config) validateDigest(ps *problems) {
	d := c.Digest
	if _, err := cron.ParseStandard(d.Schedule); err != nil {
		ps.add("digest.schedule", "invalid cron schedule %q: %v", d.Schedule, err)
	}
	for i, a := range d.To {
		if _, err := mail.ParseAddress(a); err != nil || hasControl(a) {
			ps.add(indexPath("digest.to", i), "invalid address %q", a)
		}
	}
	enabled := len(d.To) > 0
	switch {
	case d.From != "":
		if _, err := mail.ParseAddress(d.From); err != nil || hasControl(d.From) {
			ps.add("digest.from", "invalid address %q", d.From)
		}
	case enabled:
		ps.add("digest.from", "required to send the digest (or set me.email)")
	}
	s := d.SMTP
	if s.Host == "" && enabled {
		ps.add("digest.smtp.host", "required to send the digest")
	}
	if hasControl(s.Host) || strings.ContainsAny(s.Host, " /") {
		ps.add("digest.smtp.host", "invalid host %q", s.Host)
	}
	if s.Port < 1 || s.Port > 65535 {
		ps.add("digest.smtp.port", "must be from 1 to 65535")
	}
	switch {
	case !slices.Contains(tlsModes, s.TLS):
		ps.add("digest.smtp.tls", "unknown mode %q (one of starttls, tls, none)", s.TLS)
	case s.TLS == "none" && s.Host != "" && !isLoopbackHost(s.Host):
		ps.add("digest.smtp.tls", "none is only allowed for localhost, not %q (it would send the password in clear text)", s.Host)
	}
	if hasControl(s.Username) {
		ps.add("digest.smtp.username", "must be one line of text")
	}
}

// hasControl reports whether s contains a control character (which could
// inject mail headers).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// loadLocation is time.LoadLocation with a cache: the zoneinfo is read from
// disk on every call otherwise.
func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if v, ok := locations.Load(name); ok {
		return v.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", name, err)
	}
	locations.Store(name, loc)
	return loc, nil
}
