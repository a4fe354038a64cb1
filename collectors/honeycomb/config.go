package honeycomb

import (
	"regexp"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
)

// Regions and their API hosts.
var endpoints = map[string]string{
	"us": "https://api.honeycomb.io",
	"eu": "https://api.eu1.honeycomb.io",
}

// Environment is the `in:` of a metric whose query runs over every dataset
// of the key's environment.
const Environment = "__all__"

// Config is `sources.honeycomb:`.
type Config struct {
	// APIKey is a configuration key with the "Run Queries" and "Manage
	// Queries and Columns" permissions, sent as X-Honeycomb-Team.
	APIKey config.Secret `yaml:"api_key"`
	// Region is us or eu; api_url overrides it.
	Region string `yaml:"region"`
	// APIURL is the API's base URL (a proxy, or a test server).
	APIURL   string          `yaml:"api_url"`
	Interval config.Duration `yaml:"interval"`
}

// Defaults is where a `sources.honeycomb:` entry starts.
func Defaults() *Config {
	return &Config{Region: "us", Interval: config.Duration(time.Hour)}
}

// Endpoint is the API's base URL, without a trailing slash: api_url when
// set, else the region's.
func (c *Config) Endpoint() string {
	if c.APIURL != "" {
		return strings.TrimRight(c.APIURL, "/")
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
	ch.Positive("interval", c.Interval)
}

// datasetRe is a dataset slug.
var datasetRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckMetric implements config.MetricChecker: `in:` names the dataset (or
// __all__), and the query is one calculation with optional filters.
func (c *Config) CheckMetric(ch *config.Check, m config.Metric) {
	switch in := strings.TrimSpace(m.In); {
	case in == "":
		ch.Add("in", "required: the dataset slug the query runs in, or %s for the whole environment", Environment)
	case in != Environment && !datasetRe.MatchString(in):
		ch.Add("in", "invalid dataset slug %q (or %s for the whole environment)", in, Environment)
	}
	if strings.TrimSpace(m.Query) == "" {
		return // reported as required already
	}
	if _, err := ParseQuery(m.Query); err != nil {
		ch.Add("query", "%s", err.Error())
	}
}
