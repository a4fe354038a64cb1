package collectors

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/glob"
	"github.com/impact-dev/impact/internal/model"
)

// Env is what a collector factory may use besides the config.
type Env struct {
	// HTTPClient returns the shared client for a vendor (retries, rate limits,
	// User-Agent already set up).
	HTTPClient func(vendor string) *http.Client
	// Client, if set, returns the shared client for o (Vendor and RateLimit
	// set by the registry); HTTPClient is used when it is nil.
	Client func(o HTTPOptions) *http.Client
	Logger *slog.Logger
}

// client returns the shared client for a registered source.
func (e Env) client(o HTTPOptions) *http.Client {
	switch {
	case e.Client != nil:
		return e.Client(o)
	case e.HTTPClient != nil && o.RateLimit == nil:
		return e.HTTPClient(o.Vendor)
	}
	return NewHTTPClient(o)
}

// Source is everything the framework needs to know about one source. Each
// source's package exports a function returning it (newrelic.Source()),
// and registering the source is one line: r.Add(newrelic.Source()).
type Source struct {
	// Config describes the source's `sources.<name>:` entry to the loader:
	// its name, config type and defaults, example, built-in series.
	Config config.SourceType
	// RateLimit reads the vendor's rate-limit headers (nil: none).
	RateLimit RateLimitScheme
	// SecondaryRateLimit: a 403 whose body speaks of a secondary rate
	// limit is retried after a minute or more (GitHub).
	SecondaryRateLimit bool
	// New builds the collector. sc is the source's config (the pointer its
	// Config.New returned, decoded and checked), metrics the `metrics:`
	// entries naming the source, client the shared HTTP client (retries,
	// backoff, rate-limit pacing, User-Agent, the credential and redirect
	// rules) — sources that speak no HTTP ignore it.
	New func(sc config.SourceConfig, metrics []config.Metric, in NewInput) (Collector, error)
}

// NewInput is what Source.New gets besides its config.
type NewInput struct {
	Config *config.Config
	Client *http.Client
	Logger *slog.Logger
}

// Factory builds a collector from the config. It returns (nil, nil) when the
// source is not configured.
type Factory func(cfg *config.Config, env Env) (Collector, error)

// Registry maps source names to factories. Build one with NewRegistry and
// Register; there is no package-level registry.
type Registry struct {
	order     []string
	factories map[string]Factory
	sources   []Source
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{factories: map[string]Factory{}} }

// Register adds a factory under name; registering a name twice panics, since
// it is a programming error.
func (r *Registry) Register(name string, f Factory) {
	if _, dup := r.factories[name]; dup {
		panic("collectors: duplicate registration of " + name)
	}
	r.order = append(r.order, name)
	r.factories[name] = f
}

// Add registers a source that owns its config (see Source).
func (r *Registry) Add(s Source) {
	r.sources = append(r.sources, s)
	r.Register(s.Config.Name, sourceFactory(s))
}

// Replace swaps the source registered under s.Config.Name for s, keeping
// its place in the order: the demo stands an in-memory database in for
// the sql source's drivers this way. Replacing a name not registered with
// Add panics, since it is a programming error.
func (r *Registry) Replace(s Source) {
	name := s.Config.Name
	for i := range r.sources {
		if r.sources[i].Config.Name == name {
			r.sources[i] = s
			r.factories[name] = sourceFactory(s)
			return
		}
	}
	panic("collectors: replacing " + name + ", which is not registered with Add")
}

// sourceFactory builds s's collector when the config has its entry.
func sourceFactory(s Source) Factory {
	name := s.Config.Name
	return func(cfg *config.Config, env Env) (Collector, error) {
		sc := cfg.Sources.Get(name)
		if sc == nil {
			return nil, nil
		}
		logger := env.Logger
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		return s.New(sc, cfg.MetricsFor(name), NewInput{
			Config: cfg,
			Client: env.client(HTTPOptions{Vendor: name, RateLimit: s.RateLimit, SecondaryRateLimit: s.SecondaryRateLimit}),
			Logger: logger,
		})
	}
}

// Types lists the config types of the sources registered with Add, for
// config.LoadOptions.Sources.
func (r *Registry) Types() []config.SourceType {
	out := make([]config.SourceType, len(r.sources))
	for i, s := range r.sources {
		out[i] = s.Config
	}
	return out
}

// LoadOptions are config.LoadOptions that know the registered sources and
// the categories (model.Categories).
func (r *Registry) LoadOptions() config.LoadOptions {
	return config.LoadOptions{Sources: r.Types(), Categories: model.Categories, CheckPattern: glob.Check}
}

// Load loads and validates the config at path with the registered sources.
func (r *Registry) Load(path string) (*config.Config, error) {
	return config.LoadWith(path, r.LoadOptions())
}

// Parse parses and validates a config with the registered sources.
func (r *Registry) Parse(data []byte, filename string) (*config.Config, error) {
	return config.ParseWith(data, filename, r.LoadOptions())
}

// Example is `impact config example`: the commented config with every
// registered source's entry.
func (r *Registry) Example() string { return config.ExampleWith(r.LoadOptions()) }

// Configured lists the sources configured in cfg that the registry knows,
// in the config's order.
func (r *Registry) Configured(cfg *config.Config) []string {
	var out []string
	for _, name := range cfg.ConfiguredSources() {
		if _, ok := r.factories[name]; ok {
			out = append(out, name)
		}
	}
	return out
}

// Interval is how often source name is polled under cfg.
func (r *Registry) Interval(cfg *config.Config, name string) time.Duration {
	return cfg.PollInterval(name)
}

// RateLimit is the rate-limit scheme of source name (nil: the built-in
// reading for the vendor).
func (r *Registry) RateLimit(name string) RateLimitScheme {
	for _, s := range r.sources {
		if s.Config.Name == name {
			return s.RateLimit
		}
	}
	return nil
}

// SeriesPrefixes lists the id prefixes of every registered source's
// built-in series (pagerduty., ci., dora., github.): the one list of them.
// `metrics:` ids may not use them; `impact wins --metric` accepts them.
func (r *Registry) SeriesPrefixes() []string {
	var out []string
	for _, s := range r.sources {
		out = append(out, s.Config.SeriesPrefixes...)
	}
	return out
}

// Names lists registered sources in registration order.
func (r *Registry) Names() []string { return append([]string(nil), r.order...) }

// Build returns the collectors configured in cfg, in registration order. If
// only is non-empty, just that source is built; an unknown or unconfigured
// name is an error.
func (r *Registry) Build(cfg *config.Config, env Env, only string) ([]Collector, error) {
	if only != "" {
		f, ok := r.factories[only]
		if !ok {
			names := r.Names()
			sort.Strings(names)
			return nil, fmt.Errorf("unknown source %q (known: %v)", only, names)
		}
		c, err := f(cfg, env)
		if err != nil {
			return nil, named(only, err)
		}
		if c == nil {
			return nil, fmt.Errorf("source %q is not configured in %s", only, cfg.File)
		}
		return []Collector{c}, nil
	}
	var out []Collector
	for _, name := range r.order {
		c, err := r.factories[name](cfg, env)
		if err != nil {
			return nil, named(name, err)
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// named prefixes err with the source name unless the collector already did.
func named(name string, err error) error {
	if strings.HasPrefix(err.Error(), name+":") {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}
