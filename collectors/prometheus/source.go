package prometheus

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
)

// Source is the prometheus source, for collectors/all: r.Add(prometheus.Source()).
func Source() collectors.Source {
	return collectors.Source{
		Config: config.SourceType{
			Name:           Name,
			New:            func() config.SourceConfig { return Defaults() },
			Metrics:        true,
			Example:        example,
			ExampleMetrics: exampleMetrics,
		},
		// Prometheus sends no rate-limit headers.
		New: func(sc config.SourceConfig, metrics []config.Metric, in collectors.NewInput) (collectors.Collector, error) {
			return New(*sc.(*Config), metrics, Options{HTTPClient: in.Client, Logger: in.Logger})
		},
	}
}

const example = `# Metrics with source: prometheus.
prometheus:
  url: http://localhost:9090
  bearer_token: ${PROM_TOKEN}        # optional; or basic_auth: {username: u, password: ${PROM_PASSWORD}}
  interval: 1h
`

const exampleMetrics = `- id: checkout-error-rate
  name: checkout error rate
  source: prometheus
  query: 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="checkout"}[5m])) * 100'
  unit: percent
  better: lower
  repos: [acme/checkout]
  category: reliability
`
