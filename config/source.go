package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A source owns its configuration: the collectors registry hands the loader
// one SourceType per registered source (LoadOptions.Sources), and this
// package decodes `sources.<name>:` into the type the source gave, strictly
// and with file:line like every other key, then lets the source check it.
// Nothing here knows any particular source.

// SourceType describes one source's configuration to the loader.
type SourceType struct {
	// Name is the key under `sources:` and the value of a metric's `source:`.
	Name string
	// New returns a pointer to a fresh config struct holding the source's
	// defaults (Prometheus style: the file's keys are decoded onto it).
	// Its fields use this package's value types (Secret, Duration, ...);
	// yaml tags name the keys; a Secret may also be given as <key>_file.
	New func() SourceConfig
	// Metrics is set when `metrics:` entries may name this source.
	Metrics bool
	// SeriesPrefixes start the ids of the built-in series the source
	// writes; `metrics:` ids may not use them.
	SeriesPrefixes []string
	// Example is the source's commented entry for `impact config example`:
	// YAML starting with "<name>:", unindented. ExampleMetrics, if set, is a
	// commented list of `metrics:` entries using the source, unindented
	// ("- id: ..."). The example config parses once the environment
	// variables they reference are set.
	Example        string
	ExampleMetrics string
}

// SourceConfig is a source's configuration struct (a pointer to it).
type SourceConfig interface {
	// Check normalises the decoded values (trims URLs, fills derived
	// defaults) and reports every problem through c.
	Check(c *Check)
	// PollInterval is how often the source is polled.
	PollInterval() time.Duration
}

// MetricChecker is implemented by source configs that have rules for the
// `metrics:` entries naming them (a query syntax, a required `in:`).
type MetricChecker interface {
	CheckMetric(c *Check, m Metric)
}

// Check is what a source's Check and CheckMetric report problems through.
// Keys are relative to the source's entry (or to the metric's), so problems
// carry the file, line and full path of the key at fault.
type Check struct {
	ps     *problems
	prefix string
	cfg    *Config
}

// Config is the configuration being checked (for rules that look at other
// sections, e.g. a default taken from another source).
func (c *Check) Config() *Config { return c.cfg }

// Set reports whether the file set key (relative to the entry).
func (c *Check) Set(key string) bool {
	_, ok := c.ps.lines[joinPath(c.prefix, key)]
	return ok
}

// Add reports a problem with key ("" for the entry itself).
func (c *Check) Add(key, format string, args ...any) {
	c.ps.add(joinPath(c.prefix, key), format, args...)
}

// AddAt reports a problem with a key outside the entry, by its full path
// (e.g. Index("metrics", 2)+".repos"): a source's rule about another
// section.
func (c *Check) AddAt(path, format string, args ...any) {
	c.ps.add(path, format, args...)
}

// Prefix is the full path of the entry being checked ("sources.github").
func (c *Check) Prefix() string { return c.prefix }

// IsRepo reports whether repo has the owner/name form.
func IsRepo(repo string) bool { return repoRe.MatchString(repo) }

// Repo reports a value that is not owner/name.
func (c *Check) Repo(key, repo string) {
	checkRepo(c.ps, joinPath(c.prefix, key), repo)
}

// URL checks an absolute http(s) URL without credentials and reports
// whether it points at a loopback host (a local test server).
func (c *Check) URL(key, raw string) (loopback bool) {
	return checkURL(c.ps, joinPath(c.prefix, key), raw)
}

// Secret reports an empty secret unless loopback (a local test server).
func (c *Check) Secret(key string, s Secret, loopback bool) {
	requireSecret(c.ps, joinPath(c.prefix, key), s, loopback)
}

// Positive reports a duration that is not positive.
func (c *Check) Positive(key string, d Duration) {
	positive(c.ps, joinPath(c.prefix, key), d)
}

// OneOf reports a value that is not one of allowed.
func (c *Check) OneOf(key, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		c.Add(key, "unknown value %q (one of %s)", value, strings.Join(allowed, ", "))
	}
}

// Index is the key of the i-th entry of the list under key.
func Index(key string, i int) string { return indexPath(key, i) }

// Sources holds each configured source's settings, by name: every source
// is registered (LoadOptions.Sources) and owns its config type.
type Sources struct {
	// Registered holds the registered sources' configs by name (use Get
	// and Set). It is exported so that fmt calls its Format method.
	Registered SourceMap `yaml:"-"`
	order      []string
}

// SourceMap formats itself as the names of the sources it holds: fmt would
// print a value's pointer with its methods off for a verb it does not fit
// (%s), and so the secrets inside. `config show` prints the values.
type SourceMap map[string]SourceConfig

// Format prints the sources' names only.
func (m SourceMap) Format(f fmt.State, _ rune) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	_, _ = fmt.Fprintf(f, "map%v", names)
}

// Get returns the config of the registered source name, or nil when it is
// not configured.
func (s *Sources) Get(name string) SourceConfig {
	return s.Registered[name]
}

// Set configures the registered source name (for configs built in code).
func (s *Sources) Set(name string, sc SourceConfig) {
	if s.Registered == nil {
		s.Registered = SourceMap{}
	}
	if _, ok := s.Registered[name]; !ok {
		s.order = append(s.order, name)
	}
	s.Registered[name] = sc
}

// registered lists the registered sources configured, in the order they
// were set (the file's order).
func (s *Sources) registered() []string { return s.order }

// SourceAs returns the config of source name as *T, or nil when it is not
// configured (or of another type).
func SourceAs[T any](cfg *Config, name string) *T {
	if cfg == nil {
		return nil
	}
	t, _ := any(cfg.Sources.Get(name)).(*T)
	return t
}

// MarshalYAML prints the configured sources in the file's order.
func (s Sources) MarshalYAML() (any, error) {
	n := yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, name := range s.order {
		var v yaml.Node
		if err := v.Encode(s.Registered[name]); err != nil {
			return nil, fmt.Errorf("sources.%s: %w", name, err)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, &v)
	}
	return &n, nil
}

// sourceTypeFor finds the registered type named name.
func sourceTypeFor(types []SourceType, name string) (SourceType, bool) {
	for _, t := range types {
		if t.Name == name {
			return t, true
		}
	}
	return SourceType{}, false
}

// decodeRegistered decodes `sources.<name>:` of a registered source.
func (d *decoder) decodeRegistered(t SourceType, n *yaml.Node, sources reflect.Value, path string) {
	s := sources.Addr().Interface().(*Sources)
	sc := s.Get(t.Name)
	if sc == nil {
		sc = t.New()
	}
	if n.Kind != yaml.MappingNode && !isNull(n) {
		d.fail(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	d.decode(n, reflect.ValueOf(sc).Elem(), path)
	s.Set(t.Name, sc)
}

// checkRegistered normalises and validates the registered sources.
func (c *Config) checkRegistered(ps *problems) {
	for _, name := range c.Sources.registered() {
		sc := c.Sources.Get(name)
		sc.Check(&Check{ps: ps, prefix: "sources." + name, cfg: c})
	}
}
