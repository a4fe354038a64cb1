// Package worldconfig builds the configuration that points the real
// collectors at the fake vendors serving a world (internal/world): each
// source's config type lives in its folder under collectors/, and those
// folders' fakes import the world's data, so the world itself cannot name
// them.
package worldconfig

import (
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/honeycomb"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/collectors/prometheus"
	sqlsource "github.com/impact-dev/impact/collectors/sql"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/world"
)

// Default returns a ready configuration for the world with GitHub and
// Datadog pointed at the given base URLs (a fake GitHub and a fake
// Datadog), and the metrics that come from Datadog. For configures the
// other sources too.
func Default(w *world.World, githubURL, datadogURL string) *config.Config {
	return For(w, world.URLs{GitHub: githubURL, Datadog: datadogURL})
}

// For returns a ready configuration for the world with every source whose
// URL is set, and the metrics whose source is configured.
func For(w *world.World, u world.URLs) *config.Config {
	slash := func(s string) string {
		if s != "" && !strings.HasSuffix(s, "/") {
			s += "/"
		}
		return s
	}
	var src config.Sources
	if u.GitHub != "" {
		src.Set(github.Name, &github.Config{
			Token:    config.Secret("demo"),
			APIURL:   slash(u.GitHub),
			Repos:    slices.Clone(w.Repos),
			Interval: config.Duration(15 * time.Minute),
		})
	}
	if u.Actions != "" && len(w.Workflows) > 0 {
		src.Set(githubactions.Name, &githubactions.Config{
			Token:     config.Secret("demo"),
			APIURL:    slash(u.Actions),
			Workflows: Workflows(w),
			Interval:  config.Duration(30 * time.Minute),
		})
	}
	if u.Datadog != "" {
		src.Set(datadog.Name, &datadog.Config{
			APIKey:   config.Secret("demo"),
			AppKey:   config.Secret("demo"),
			APIURL:   u.Datadog,
			Interval: config.Duration(time.Hour),
		})
	}
	if u.Prometheus != "" {
		src.Set(prometheus.Name, &prometheus.Config{
			URL:      u.Prometheus,
			Interval: config.Duration(time.Hour),
		})
	}
	if u.PagerDuty != "" && len(w.Services) > 0 {
		src.Set(pagerduty.Name, &pagerduty.Config{
			Token:    config.Secret("demo"),
			APIURL:   strings.TrimSuffix(u.PagerDuty, "/"),
			Services: slices.Clone(w.Services),
			UserID:   w.PagerDutyUser,
			Interval: config.Duration(time.Hour),
		})
	}
	if u.Honeycomb != "" {
		src.Set(honeycomb.Name, &honeycomb.Config{
			APIKey:   config.Secret("demo"),
			APIURL:   u.Honeycomb,
			Interval: config.Duration(time.Hour),
		})
	}
	if u.SQL != "" {
		src.Set(sqlsource.Name, &sqlsource.Config{
			Databases:        []sqlsource.Database{{Name: "orders", Driver: sqlsource.Postgres, DSN: config.Secret(u.SQL)}},
			StatementTimeout: config.Duration(sqlsource.DefaultStatementTimeout),
			MaxRows:          sqlsource.DefaultMaxRows,
			Interval:         config.Duration(time.Hour),
		})
	}
	var metrics []config.Metric
	for _, m := range w.Metrics {
		if src.Get(m.Source) == nil {
			continue
		}
		m.Repos = slices.Clone(m.Repos)
		m.Paths = slices.Clone(m.Paths)
		metrics = append(metrics, m)
	}
	return &config.Config{
		Me: config.Me{
			GitHub:   config.StringList{w.Me},
			Name:     "Alice Example",
			Email:    "alice@example.com",
			Timezone: "UTC",
		},
		Sources: src,
		Metrics: metrics,
		Drafter: config.DrafterConfig{
			Window:    config.Duration(7 * 24 * time.Hour),
			Settle:    config.Duration(24 * time.Hour),
			MinChange: config.Percent(0.10),
			Alpha:     0.01,
		},
	}
}

// Workflows are the world's workflows as sources.github_actions lists them.
func Workflows(w *world.World) []githubactions.Workflow {
	out := make([]githubactions.Workflow, len(w.Workflows))
	for i, wf := range w.Workflows {
		out[i] = githubactions.Workflow(wf)
	}
	return out
}
