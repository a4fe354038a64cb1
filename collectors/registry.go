package collectors

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/impact-dev/impact/config"
)

// Env is what a collector factory may use besides the config.
type Env struct {
	// HTTPClient returns the shared client for a vendor (retries, rate limits,
	// User-Agent already set up).
	HTTPClient func(vendor string) *http.Client
	Logger     *slog.Logger
}

// Factory builds a collector from the config. It returns (nil, nil) when the
// source is not configured.
type Factory func(cfg *config.Config, env Env) (Collector, error)

// Registry maps source names to factories. Build one with NewRegistry and
// Register; there is no package-level registry.
type Registry struct {
	order     []string
	factories map[string]Factory
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
