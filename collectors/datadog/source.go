package datadog

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
)

// Source is the datadog source, for collectors/all: r.Add(datadog.Source()).
func Source() collectors.Source {
	return collectors.Source{
		Config: config.SourceType{
			Name:           Name,
			New:            func() config.SourceConfig { return Defaults() },
			Metrics:        true,
			Example:        example,
			ExampleMetrics: exampleMetrics,
		},
		RateLimit: RateLimit,
		New: func(sc config.SourceConfig, metrics []config.Metric, in collectors.NewInput) (collectors.Collector, error) {
			return New(*sc.(*Config), metrics, Options{HTTPClient: in.Client, Logger: in.Logger})
		},
	}
}

const example = `# Metrics with source: datadog.
datadog:
  api_key: ${DD_API_KEY}
  app_key: ${DD_APP_KEY}
  # datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu,
  # ap1.datadoghq.com or ddog-gov.com.
  site: datadoghq.com
  api_url: ""                        # overrides site: a proxy, or a test server
  interval: 1h
`

const exampleMetrics = `- id: search-p99                     # lower-case letters, digits and . _ / -
  name: search API p99 latency       # how statements name it
  source: datadog                    # a source configured above that takes metrics
  query: "p99:trace.http.request.duration{service:search-api,env:prod}"
  unit: ms                           # ms, s, min, percent, count, rps, bytes, usd
  better: lower                      # lower or higher: which way is a win
  repos: [acme/search-api]           # PRs to these repos may be credited (must be in sources.github.repos)
  paths: ["internal/query/**"]       # optional: the PR must touch one of these (** spans directories)
  category: performance              # one of those listed above; default performance
`

// RateLimit is Datadog's scheme: X-RateLimit-Limit, -Remaining, and -Reset
// in seconds from now.
var RateLimit = collectors.HeaderRateLimit("X-RateLimit-", false)
