package newrelic

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
)

// Source is the newrelic source, for collectors/all: r.Add(newrelic.Source()).
func Source() collectors.Source {
	return collectors.Source{
		Config: config.SourceType{
			Name:           Name,
			New:            func() config.SourceConfig { return Defaults() },
			Metrics:        true,
			Example:        example,
			ExampleMetrics: exampleMetrics,
		},
		// NerdGraph documents no rate-limit headers: its limit is 3,000 NRQL
		// queries per account per minute, answered with 429 (retried by the
		// shared client).
		New: func(sc config.SourceConfig, metrics []config.Metric, in collectors.NewInput) (collectors.Collector, error) {
			return New(*sc.(*Config), metrics, Options{HTTPClient: in.Client, Logger: in.Logger})
		},
	}
}

const example = `# Metrics with source: newrelic, read with NRQL through NerdGraph.
newrelic:
  api_key: ${NEW_RELIC_API_KEY}      # a User key (NRAK-…)
  account_id: 1234567
  region: us                         # or eu
  # api_url: https://api.newrelic.com/graphql   # overrides region: a proxy, or a test server
  interval: 1h
`

const exampleMetrics = `# source: newrelic: one NRQL SELECT returning one value; the collector adds
# SINCE, UNTIL and TIMESERIES 1 hour.
- id: checkout-p95
  name: checkout p95 latency
  source: newrelic
  query: "SELECT percentile(duration, 95) * 1000 FROM Transaction WHERE appName = 'checkout'"
  unit: ms
  better: lower
  repos: [acme/checkout]
`
