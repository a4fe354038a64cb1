package datadog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
)

// Sites are the Datadog sites site: may name, in the order messages list them.
var Sites = []string{"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com", "ddog-gov.com"}

// Config is `sources.datadog:`: the account the `metrics:` entries with
// source: datadog are read from.
type Config struct {
	APIKey   config.Secret   `yaml:"api_key"`
	AppKey   config.Secret   `yaml:"app_key"`
	Site     string          `yaml:"site"`    // default datadoghq.com
	APIURL   string          `yaml:"api_url"` // overrides Site when set
	Interval config.Duration `yaml:"interval"`
}

// Defaults is where a `sources.datadog:` entry starts.
func Defaults() *Config {
	return &Config{Site: DefaultSite, Interval: config.Duration(time.Hour)}
}

// URL is the Datadog API base URL without a trailing "/": api_url when
// set, else https://api.<site>.
func (c *Config) URL() string {
	if c.APIURL != "" {
		return c.APIURL
	}
	site := c.Site
	if site == "" {
		site = DefaultSite
	}
	return "https://api." + site
}

// PollInterval implements config.SourceConfig.
func (c *Config) PollInterval() time.Duration { return c.Interval.D() }

// Check implements config.SourceConfig.
func (c *Config) Check(ch *config.Check) {
	c.Site = strings.ToLower(strings.TrimSpace(c.Site))
	if c.Site == "" {
		c.Site = DefaultSite
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	loop := false
	if c.APIURL != "" {
		loop = ch.URL("api_url", c.APIURL)
	} else if !slices.Contains(Sites, c.Site) {
		ch.Add("site", "unknown Datadog site %q (one of %s; or set api_url)", c.Site, strings.Join(Sites, ", "))
	}
	ch.Secret("api_key", c.APIKey, loop)
	ch.Secret("app_key", c.AppKey, loop)
	ch.Positive("interval", c.Interval)
}

// Format prints c like fmt would, with secrets masked.
func (c *Config) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, c) }
