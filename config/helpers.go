package config

import (
	"strings"
	"sync"
	"time"
)

var locations sync.Map // time zone name → *time.Location

// Source names, as used by collectors, metrics' `source:` and --source.
const (
	SourceGitHub        = "github"
	SourceGitHubActions = "github_actions"
	SourcePagerDuty     = "pagerduty"
)

// ConfiguredSources lists the configured sources: github, github_actions,
// datadog, prometheus, pagerduty (in that order, when configured), then
// the registered sources in the order the file names them.
func (c *Config) ConfiguredSources() []string {
	var out []string
	s := c.Sources
	if s.GitHub != nil {
		out = append(out, SourceGitHub)
	}
	if s.GitHubActions != nil {
		out = append(out, SourceGitHubActions)
	}
	if s.PagerDuty != nil {
		out = append(out, SourcePagerDuty)
	}
	return append(out, s.registered()...)
}

// PollInterval is how often source name is polled: its interval when it is
// configured with a positive one, else an hour.
func (c *Config) PollInterval(name string) time.Duration {
	var d time.Duration
	s := &c.Sources
	switch name {
	case SourceGitHub:
		if s.GitHub != nil {
			d = s.GitHub.Interval.D()
		}
	case SourceGitHubActions:
		if s.GitHubActions != nil {
			d = s.GitHubActions.Interval.D()
		}
	case SourcePagerDuty:
		if s.PagerDuty != nil {
			d = s.PagerDuty.Interval.D()
		}
	default:
		if sc := s.Get(name); sc != nil {
			d = sc.PollInterval()
		}
	}
	if d <= 0 {
		return time.Hour
	}
	return d
}

// MetricsFor returns (a copy of) the metrics whose source is source.
func (c *Config) MetricsFor(source string) []Metric {
	var out []Metric
	for _, m := range c.Metrics {
		if m.Source == source {
			out = append(out, m)
		}
	}
	return out
}

// IsMe reports whether login is one of me.github, ignoring case and a
// leading "@".
func (c *Config) IsMe(login string) bool {
	login = strings.TrimPrefix(strings.TrimSpace(login), "@")
	if login == "" {
		return false
	}
	for _, l := range c.Me.GitHub {
		if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(l), "@"), login) {
			return true
		}
	}
	return false
}

// Location is me.timezone loaded; UTC when it is empty or unknown (a
// loaded config has been validated, so unknown only happens in code).
func (c *Config) Location() *time.Location {
	loc, err := loadLocation(c.Me.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Network splits Listen for net.Listen / net.Dial: ("unix", "/path") for
// "unix:/path", else ("tcp", "host:port").
func (s ServerConfig) Network() (network, address string) {
	if p, ok := strings.CutPrefix(s.Listen, "unix:"); ok {
		return "unix", p
	}
	return "tcp", s.Listen
}
