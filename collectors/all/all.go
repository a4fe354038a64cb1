// Package all registers every built-in collector, like Telegraf's
// plugins/inputs/all. Registry returns a fresh registry each call; there is
// no package-level state.
package all

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/honeycomb"
	"github.com/impact-dev/impact/collectors/newrelic"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/collectors/prometheus"
	sqlsource "github.com/impact-dev/impact/collectors/sql"
	"github.com/impact-dev/impact/config"
)

// Registry returns a registry holding every built-in source, in the order
// a collection runs them (and `impact status` lists them).
func Registry() *collectors.Registry {
	r := collectors.NewRegistry()
	r.Register("github", func(cfg *config.Config, env collectors.Env) (collectors.Collector, error) {
		if cfg.Sources.GitHub == nil {
			return nil, nil
		}
		return github.New(*cfg.Sources.GitHub, github.Options{
			HTTPClient: env.HTTPClient("github"),
			NeedFiles:  needFiles(cfg),
			Logger:     env.Logger,
			Reviewers:  reviewers(cfg),
		})
	})
	r.Register("github_actions", func(cfg *config.Config, env collectors.Env) (collectors.Collector, error) {
		if cfg.Sources.GitHubActions == nil {
			return nil, nil
		}
		return githubactions.New(*cfg.Sources.GitHubActions, githubactions.Options{
			HTTPClient: env.HTTPClient(githubactions.Name),
			Logger:     env.Logger,
			// A run whose updated_at moved long after it ended (about 1 in
			// 100) is stored with its duration unknown rather than costing
			// one /timing request each: CI time is a median over many runs,
			// and a deploy's go-live time falls back to the run's start.
			// This keeps a backfill within 1.1× the listing's minimum.
			MaxTimingRequests: -1,
		})
	})
	r.Add(datadog.Source())
	r.Add(prometheus.Source())
	r.Register("pagerduty", func(cfg *config.Config, env collectors.Env) (collectors.Collector, error) {
		if cfg.Sources.PagerDuty == nil {
			return nil, nil
		}
		return pagerduty.New(*cfg.Sources.PagerDuty, pagerduty.Options{
			HTTPClient: env.HTTPClient(pagerduty.Name),
			Logger:     env.Logger,
		})
	})
	r.Add(newrelic.Source())
	r.Add(sqlsource.Source())
	r.Add(honeycomb.Source())
	return r
}

// needFiles: a PR's files are listed for repos a metric with paths names,
// and for every repo when docs.paths is set (documents written).
func needFiles(cfg *config.Config) func(repo string) bool {
	metrics := github.NeedFilesFor(cfg.Metrics)
	docs := len(cfg.Docs.Paths) > 0
	return func(repo string) bool { return docs || metrics(repo) }
}

// reviewers are the logins whose reviews the github source collects.
func reviewers(cfg *config.Config) []string {
	if !cfg.Sources.GitHub.CollectReviews() {
		return nil
	}
	return cfg.Me.GitHub
}
