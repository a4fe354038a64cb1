package honeycomb

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
)

// Source is the honeycomb source, for collectors/all: r.Add(honeycomb.Source()).
func Source() collectors.Source {
	return collectors.Source{
		Config: config.SourceType{
			Name:           Name,
			New:            func() config.SourceConfig { return Defaults() },
			Metrics:        true,
			Example:        example,
			ExampleMetrics: exampleMetrics,
		},
		// Honeycomb answers "RateLimit: limit=X, remaining=Y, reset=Z"
		// (reset in seconds); the Query Data API's 429 carries no
		// Retry-After. Creating query results is also limited to 10 a
		// minute, which the collector paces itself.
		RateLimit: collectors.StructuredRateLimit("RateLimit"),
		New: func(sc config.SourceConfig, metrics []config.Metric, in collectors.NewInput) (collectors.Collector, error) {
			return New(*sc.(*Config), metrics, Options{HTTPClient: in.Client, Logger: in.Logger})
		},
	}
}

const example = `# Metrics with source: honeycomb, read through the Query Data API
# (Enterprise plan; it reaches back 7 days).
honeycomb:
  api_key: ${HONEYCOMB_API_KEY}      # permissions: Run Queries, Manage Queries and Columns
  region: us                         # or eu (api.eu1.honeycomb.io)
  # api_url: https://api.honeycomb.io   # overrides region: a proxy, or a test server
  interval: 1h
`

const exampleMetrics = `# source: honeycomb: "in" is the dataset (or __all__ for the environment);
# the query is one calculation with optional filters (or a query spec in
# JSON); the collector asks for hourly buckets.
- id: checkout-trace-p99
  name: checkout p99 (traces)
  source: honeycomb
  in: checkout
  query: "P99(duration_ms) WHERE service.name = checkout AND http.route = '/api/checkout'"
  unit: ms
  better: lower
  repos: [acme/checkout]
`
