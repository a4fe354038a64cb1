package github

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
)

// Config is `sources.github:`: merged PRs of the listed repos, and the
// reviews me.github gave.
type Config struct {
	Token    config.Secret   `yaml:"token"`
	APIURL   string          `yaml:"api_url"` // default https://api.github.com/ ; always ends in "/" after load
	Repos    []string        `yaml:"repos"`   // owner/name
	Interval config.Duration `yaml:"interval"`
	// SkipReviews turns off collecting the reviews me.github gave (the
	// search and per-PR review requests).
	SkipReviews bool `yaml:"skip_reviews"`
}

// Defaults is where a `sources.github:` entry starts.
func Defaults() *Config {
	return &Config{APIURL: DefaultAPIURL, Interval: config.Duration(15 * time.Minute)}
}

// GitHubAPIURL implements weblink.GitHubAPI: PRs link to this API's web
// host (github.com, or a GitHub Enterprise host).
func (c *Config) GitHubAPIURL() string { return c.APIURL }

// CollectReviews reports whether reviews given are collected.
func (c Config) CollectReviews() bool { return !c.SkipReviews }

// Watches reports whether repo (owner/name, any case) is in repos.
func (c *Config) Watches(repo string) bool {
	return slices.ContainsFunc(c.Repos, func(g string) bool { return strings.EqualFold(g, repo) })
}

// Credentials are the token and API URL, which sources.github_actions
// reuses when it sets none (same account, same server).
func (c *Config) Credentials() (config.Secret, string) { return c.Token, withSlash(c.APIURL) }

// WatchedRepos lists the repos PRs are read from: `metrics:` and other
// sources may only name these.
func (c *Config) WatchedRepos() []string { return c.Repos }

// PollInterval implements config.SourceConfig.
func (c *Config) PollInterval() time.Duration { return c.Interval.D() }

// Check implements config.SourceConfig. Besides its own keys it checks
// that every metric's repos are watched: PRs elsewhere are never read.
func (c *Config) Check(ch *config.Check) {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = withSlash(c.APIURL)
	loop := ch.URL("api_url", c.APIURL)
	ch.Secret("token", c.Token, loop)
	if len(c.Repos) == 0 {
		ch.Add("repos", "required: at least one repository (owner/name)")
	}
	for i, r := range c.Repos {
		ch.Repo(config.Index("repos", i), r)
	}
	ch.Positive("interval", c.Interval)
	for i, m := range ch.Config().Metrics {
		for j, r := range m.Repos {
			if config.IsRepo(r) && !c.Watches(r) {
				ch.AddAt(config.Index(config.Index("metrics", i)+".repos", j), "%q is not in %s.repos", r, ch.Prefix())
			}
		}
	}
}

// Format prints c like fmt would, with secrets masked.
func (c *Config) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, c) }

// withSlash ensures a non-empty URL ends in "/".
func withSlash(u string) string {
	if u != "" && !strings.HasSuffix(u, "/") {
		return u + "/"
	}
	return u
}
