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
)

// Registry returns a registry holding every built-in source, in the order
// a collection runs them (and `impact status` lists them).
func Registry() *collectors.Registry {
	r := collectors.NewRegistry()
	r.Add(github.Source())
	r.Add(githubactions.Source())
	r.Add(datadog.Source())
	r.Add(prometheus.Source())
	r.Add(pagerduty.Source())
	r.Add(newrelic.Source())
	r.Add(sqlsource.Source())
	r.Add(honeycomb.Source())
	return r
}
