package pagerduty

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
)

// RateLimit is PagerDuty's scheme: RateLimit-Limit, -Remaining, and -Reset
// in seconds from now.
var RateLimit = collectors.HeaderRateLimit("RateLimit-", false)

// SeriesPrefix starts the ids of the built-in series made from this
// source's incidents (internal/builtin names them); `metrics:` ids may not
// use it.
const SeriesPrefix = "pagerduty."

// Source is the pagerduty source, for collectors/all: r.Add(pagerduty.Source()).
func Source() collectors.Source {
	return collectors.Source{
		Config: config.SourceType{
			Name:           Name,
			New:            func() config.SourceConfig { return Defaults() },
			SeriesPrefixes: []string{SeriesPrefix},
			Example:        example,
		},
		RateLimit: RateLimit,
		New: func(sc config.SourceConfig, _ []config.Metric, in collectors.NewInput) (collectors.Collector, error) {
			return New(*sc.(*Config), Options{HTTPClient: in.Client, Logger: in.Logger})
		},
	}
}

const example = `# Incidents of these services (built-in series pagerduty.incidents/…,
# pagerduty.mttr/…, pagerduty.mtta/…, pagerduty.pages_to_me).
pagerduty:
  token: ${PAGERDUTY_TOKEN}          # a read-only REST API key
  api_url: https://api.pagerduty.com # EU: https://api.eu.pagerduty.com
  services: [PSEARCH1]
  user_id: PALICE1                   # your PagerDuty user: "pages to me"
  service_repos:                     # which repos run on each service (default: every watched repo)
    - {service: PSEARCH1, repos: [acme/search-api]}
  interval: 1h
`
