package github

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
)

// RateLimit is GitHub's scheme: X-RateLimit-Limit, -Remaining, and -Reset
// as a Unix time.
var RateLimit = collectors.HeaderRateLimit("X-RateLimit-", true)

// SeriesPrefix starts the ids of the built-in series made from this
// source's reviews (internal/builtin names them); `metrics:` ids may not use
// it.
const SeriesPrefix = "github."

// Source is the github source, for collectors/all: r.Add(github.Source()).
func Source() collectors.Source {
	return collectors.Source{
		Config: config.SourceType{
			Name:           Name,
			New:            func() config.SourceConfig { return Defaults() },
			SeriesPrefixes: []string{SeriesPrefix},
			Example:        example,
		},
		RateLimit:          RateLimit,
		SecondaryRateLimit: true,
		New: func(sc config.SourceConfig, _ []config.Metric, in collectors.NewInput) (collectors.Collector, error) {
			gc := sc.(*Config)
			return New(*gc, Options{
				HTTPClient: in.Client,
				NeedFiles:  needFiles(in.Config),
				Logger:     in.Logger,
				Reviewers:  reviewers(in.Config, gc),
			})
		},
	}
}

// needFiles: a PR's files are listed for repos a metric with paths names,
// and for every repo when docs.paths is set (documents written).
func needFiles(cfg *config.Config) func(repo string) bool {
	metrics := NeedFilesFor(cfg.Metrics)
	docs := len(cfg.Docs.Paths) > 0
	return func(repo string) bool { return docs || metrics(repo) }
}

// reviewers are the logins whose reviews the source collects.
func reviewers(cfg *config.Config, gc *Config) []string {
	if !gc.CollectReviews() {
		return nil
	}
	return cfg.Me.GitHub
}

const example = `# Merged PRs and reviews of these repositories.
github:
  token: ${GITHUB_TOKEN}             # a token that can read the repos
  api_url: https://api.github.com/   # GitHub Enterprise: https://ghe.example.com/api/v3/
  repos: [acme/search-api, acme/checkout]
  interval: 15m                      # how often to poll
  skip_reviews: false                # true: do not collect the reviews me.github gave (search API + per-PR reviews)
`
