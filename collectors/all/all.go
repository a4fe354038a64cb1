// Package all registers every built-in collector, like Telegraf's
// plugins/inputs/all. Registry returns a fresh registry each call; there is
// no package-level state.
package all

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/config"
)

// Registry returns a registry holding every built-in source.
func Registry() *collectors.Registry {
	r := collectors.NewRegistry()
	r.Register("github", func(cfg *config.Config, env collectors.Env) (collectors.Collector, error) {
		if cfg.Sources.GitHub == nil {
			return nil, nil
		}
		return github.New(*cfg.Sources.GitHub, github.Options{
			HTTPClient: env.HTTPClient("github"),
			NeedFiles:  github.NeedFilesFor(cfg.Metrics),
			Logger:     env.Logger,
		})
	})
	r.Register("datadog", func(cfg *config.Config, env collectors.Env) (collectors.Collector, error) {
		if cfg.Sources.Datadog == nil {
			return nil, nil
		}
		return datadog.New(*cfg.Sources.Datadog, cfg.MetricsFor("datadog"), datadog.Options{
			HTTPClient: env.HTTPClient("datadog"),
			Logger:     env.Logger,
		})
	})
	return r
}
