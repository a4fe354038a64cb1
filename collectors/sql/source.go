package sqlsource

import (
	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
)

// Source is the sql source, for collectors/all: r.Add(sqlsource.Source()).
func Source() collectors.Source { return SourceWith(Options{}) }

// SourceWith is the sql source with o (its Logger is the framework's):
// the demo registers it with an in-memory database as Options.Connect.
func SourceWith(o Options) collectors.Source {
	return collectors.Source{
		Config: config.SourceType{
			Name:           Name,
			New:            func() config.SourceConfig { return Defaults() },
			Metrics:        true,
			Example:        example,
			ExampleMetrics: exampleMetrics,
		},
		// No HTTP: the shared client is not used.
		New: func(sc config.SourceConfig, metrics []config.Metric, in collectors.NewInput) (collectors.Collector, error) {
			o := o
			o.Logger = in.Logger
			return New(*sc.(*Config), metrics, o)
		},
	}
}

const example = `# Metrics with source: sql, read from your own databases. Every query runs
# in a read-only transaction with a statement timeout; give it a read-only
# role all the same.
sql:
  databases:
    - name: orders
      driver: postgres               # or mysql (MySQL, MariaDB)
      dsn_file: /run/secrets/orders-dsn   # postgres://impact_ro:…@db:5432/orders
  statement_timeout: 30s
  max_rows: 10000                    # per query
  interval: 1h
`

const exampleMetrics = `# source: sql. A query with $from and $to returns (time, value) rows, one
# per hour, and is backfilled; a query without them is sampled each poll.
- id: orders-per-hour
  name: orders placed per hour
  source: sql
  in: orders
  query: "SELECT date_trunc('hour', created_at), count(*) FROM orders WHERE created_at >= $from AND created_at < $to GROUP BY 1"
  unit: count
  better: higher
- id: orders-table-bytes
  name: orders table size
  source: sql
  in: orders
  query: "SELECT pg_total_relation_size('orders')"
  unit: bytes
  better: lower
# Two columns, a running total and a running count: the mean between polls
# (here pg_stat_statements' mean time of one statement, in ms).
- id: order-lookup-ms
  name: order lookup mean time
  source: sql
  in: orders
  query: "SELECT sum(total_exec_time), sum(calls) FROM pg_stat_statements WHERE query LIKE 'SELECT%FROM orders WHERE id = $1%'"
  unit: ms
  better: lower
`
