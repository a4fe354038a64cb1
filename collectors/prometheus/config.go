package prometheus

import (
	"fmt"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
)

// Config is `sources.prometheus:`: the server the `metrics:` entries with
// source: prometheus are read from.
type Config struct {
	URL         string          `yaml:"url"`
	BearerToken config.Secret   `yaml:"bearer_token"`
	BasicAuth   *BasicAuth      `yaml:"basic_auth"`
	Interval    config.Duration `yaml:"interval"`
}

// BasicAuth for Prometheus.
type BasicAuth struct {
	Username string        `yaml:"username"`
	Password config.Secret `yaml:"password"`
}

// Defaults is where a `sources.prometheus:` entry starts.
func Defaults() *Config { return &Config{Interval: config.Duration(time.Hour)} }

// PollInterval implements config.SourceConfig.
func (c *Config) PollInterval() time.Duration { return c.Interval.D() }

// Check implements config.SourceConfig.
func (c *Config) Check(ch *config.Check) {
	c.URL = strings.TrimRight(c.URL, "/")
	ch.URL("url", c.URL)
	if ba := c.BasicAuth; ba != nil {
		if ba.Username == "" {
			ch.Add("basic_auth.username", "required with basic_auth")
		}
		if c.BearerToken != "" {
			ch.Add("basic_auth", "use either bearer_token or basic_auth, not both")
		}
	}
	ch.Positive("interval", c.Interval)
}

// Format prints c like fmt would, with secrets masked.
func (c *Config) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, c) }

// Format prints b like fmt would, with secrets masked.
func (b *BasicAuth) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, b) }
