package githubactions

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/config"
)

// The prefixes of the built-in series made from this source's runs and
// deploys (internal/builtin names them); `metrics:` ids may not use them.
const (
	CIPrefix   = "ci."   // per workflow
	DORAPrefix = "dora." // per deploy repo
)

// Source is the github_actions source, for collectors/all:
// r.Add(githubactions.Source()).
func Source() collectors.Source {
	return collectors.Source{
		Config: config.SourceType{
			Name:           Name,
			New:            func() config.SourceConfig { return Defaults() },
			SeriesPrefixes: []string{CIPrefix, DORAPrefix},
			Example:        example,
		},
		RateLimit:          RateLimit,
		SecondaryRateLimit: true,
		New: func(sc config.SourceConfig, _ []config.Metric, in collectors.NewInput) (collectors.Collector, error) {
			return New(*sc.(*Config), Options{
				HTTPClient: in.Client,
				Logger:     in.Logger,
				// A run whose updated_at moved long after it ended (about 1 in
				// 100) is stored with its duration unknown rather than costing
				// one /timing request each: CI time is a median over many runs,
				// and a deploy's go-live time falls back to the run's start.
				// This keeps a backfill within 1.1× the listing's minimum.
				MaxTimingRequests: -1,
			})
		},
	}
}

const example = `# CI build and deploy times (built-in series ci.duration/…, ci.queue/…,
# ci.success_rate/…). token and api_url default to sources.github's.
github_actions:
  token: ${GITHUB_TOKEN}
  api_url: https://api.github.com/
  workflows:
    # branch defaults to main; deploys: true marks deploy runs, whose
    # finish time is when a PR went live.
    - {repo: acme/search-api, workflow: ci.yml, branch: main}
    - {repo: acme/search-api, workflow: deploy.yml, branch: main, deploys: true}
  interval: 30m
`

// RateLimit is GitHub's scheme (the Actions API shares the REST budget).
var RateLimit = github.RateLimit
