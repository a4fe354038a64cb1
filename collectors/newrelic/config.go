package newrelic

import (
	"regexp"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
)

// Regions and their NerdGraph endpoints.
var endpoints = map[string]string{
	"us": "https://api.newrelic.com/graphql",
	"eu": "https://api.eu.newrelic.com/graphql",
}

// Config is `sources.newrelic:`.
type Config struct {
	// APIKey is a User key (NRAK-…), sent as the API-Key header.
	APIKey config.Secret `yaml:"api_key"`
	// AccountID is the account the NRQL queries run in.
	AccountID int64 `yaml:"account_id"`
	// Region is us or eu; api_url overrides it.
	Region string `yaml:"region"`
	// APIURL is the NerdGraph endpoint (a proxy, or a test server).
	APIURL   string          `yaml:"api_url"`
	Interval config.Duration `yaml:"interval"`
}

// Defaults is where a `sources.newrelic:` entry starts.
func Defaults() *Config {
	return &Config{Region: "us", Interval: config.Duration(time.Hour)}
}

// Endpoint is the NerdGraph URL: api_url when set, else the region's.
func (c *Config) Endpoint() string {
	if c.APIURL != "" {
		return c.APIURL
	}
	if e, ok := endpoints[c.Region]; ok {
		return e
	}
	return endpoints["us"]
}

// PollInterval implements config.SourceConfig.
func (c *Config) PollInterval() time.Duration { return c.Interval.D() }

// Check implements config.SourceConfig.
func (c *Config) Check(ch *config.Check) {
	c.Region = strings.ToLower(strings.TrimSpace(c.Region))
	c.APIURL = strings.TrimSpace(c.APIURL)
	loop := false
	if c.APIURL != "" {
		loop = ch.URL("api_url", c.APIURL)
	} else {
		ch.OneOf("region", c.Region, "us", "eu")
	}
	ch.Secret("api_key", c.APIKey, loop)
	if c.AccountID <= 0 {
		ch.Add("account_id", "required: your New Relic account id (a positive number)")
	}
	ch.Positive("interval", c.Interval)
}

// clauses the collector adds to every query itself.
var reservedClause = regexp.MustCompile(`(?i)\b(SINCE|UNTIL|TIMESERIES|FACET|COMPARE\s+WITH)\b`)

// CheckMetric implements config.MetricChecker: a metric's query is one
// NRQL SELECT returning one value, without the time clauses the collector
// adds.
func (c *Config) CheckMetric(ch *config.Check, m config.Metric) {
	q := strings.TrimSpace(m.Query)
	if q == "" {
		return // reported as required already
	}
	if !strings.HasPrefix(strings.ToUpper(q), "SELECT ") && !strings.HasPrefix(strings.ToUpper(q), "FROM ") {
		ch.Add("query", "want an NRQL query (SELECT … FROM …)")
	}
	if k := reservedClause.FindString(q); k != "" {
		ch.Add("query", "leave out %s: the collector adds SINCE, UNTIL and TIMESERIES 1 hour itself, and a FACET would give several series", strings.ToUpper(k))
	}
	if m.In != "" {
		ch.Add("in", "newrelic takes no \"in\" (the query's FROM names the data)")
	}
}
