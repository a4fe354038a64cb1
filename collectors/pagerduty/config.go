package pagerduty

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
)

// Config is `sources.pagerduty:`: incidents of the listed services.
type Config struct {
	Token    config.Secret   `yaml:"token"`
	APIURL   string          `yaml:"api_url"` // default https://api.pagerduty.com ; never a trailing "/" after load
	Services []string        `yaml:"services"`
	UserID   string          `yaml:"user_id"`
	Interval config.Duration `yaml:"interval"`
	// ServiceRepos maps services to the repos whose changes run there:
	// their pagerduty.* series credit PRs to those repos only, and DORA's
	// change failure rate counts their incidents against those repos'
	// deploys. A service left out is credited to every watched repo.
	ServiceRepos []ServiceRepos `yaml:"service_repos"`
}

// ServiceRepos is one PagerDuty service and the repos deployed to it.
type ServiceRepos struct {
	Service string   `yaml:"service"`
	Repos   []string `yaml:"repos"`
}

// Defaults is where a `sources.pagerduty:` entry starts.
func Defaults() *Config {
	return &Config{APIURL: DefaultAPIURL, Interval: config.Duration(time.Hour)}
}

// ReposOf returns the repos mapped to a service, or nil when it has none.
func (c Config) ReposOf(service string) []string {
	for _, m := range c.ServiceRepos {
		if m.Service == service {
			return m.Repos
		}
	}
	return nil
}

// PollInterval implements config.SourceConfig.
func (c *Config) PollInterval() time.Duration { return c.Interval.D() }

// watcher is sources.github's config (collectors/github.Config): the
// repos service_repos may name.
type watcher interface {
	Watches(repo string) bool
}

// Check implements config.SourceConfig.
func (c *Config) Check(ch *config.Check) {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	loop := ch.URL("api_url", c.APIURL)
	ch.Secret("token", c.Token, loop)
	if len(c.Services) == 0 {
		ch.Add("services", "required: at least one service id (e.g. PSEARCH1)")
	}
	for i, svc := range c.Services {
		if strings.TrimSpace(svc) == "" || strings.ContainsAny(svc, "/ \t") {
			ch.Add(config.Index("services", i), "invalid service id %q", svc)
		}
	}
	ch.Positive("interval", c.Interval)
	gh, _ := ch.Config().Sources.Get("github").(watcher)
	for i, m := range c.ServiceRepos {
		p := config.Index("service_repos", i)
		if !slices.Contains(c.Services, m.Service) {
			ch.Add(p+".service", "%q is not in %s.services", m.Service, ch.Prefix())
		}
		if len(m.Repos) == 0 {
			ch.Add(p+".repos", "required: the owner/name repos deployed to %s", m.Service)
		}
		for j, r := range m.Repos {
			if gh != nil && !gh.Watches(r) {
				ch.Add(config.Index(p+".repos", j), "%q is not in sources.github.repos", r)
			}
		}
	}
}

// Format prints c like fmt would, with secrets masked.
func (c *Config) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, c) }
