package githubactions

import (
	"fmt"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
)

// Config is `sources.github_actions:`: workflow runs. Its token and
// api_url fall back to sources.github's when left out.
type Config struct {
	Token     config.Secret   `yaml:"token"`
	APIURL    string          `yaml:"api_url"`
	Workflows []Workflow      `yaml:"workflows"`
	Interval  config.Duration `yaml:"interval"`
}

// Workflow is one GitHub Actions workflow to watch.
type Workflow struct {
	Repo     string `yaml:"repo"`
	Workflow string `yaml:"workflow"` // file name (ci.yml) or numeric id
	Branch   string `yaml:"branch"`   // default main
	Deploys  bool   `yaml:"deploys"`
}

// SetDefaults implements config.Defaulter: each `workflows:` entry starts
// on branch main.
func (w *Workflow) SetDefaults() { w.Branch = "main" }

// Defaults is where a `sources.github_actions:` entry starts.
func Defaults() *Config {
	return &Config{APIURL: DefaultAPIURL, Interval: config.Duration(30 * time.Minute)}
}

// PollInterval implements config.SourceConfig.
func (c *Config) PollInterval() time.Duration { return c.Interval.D() }

// GitHubAPIURL implements weblink.GitHubAPI: PRs link to this API's web
// host (github.com, or a GitHub Enterprise host).
func (c *Config) GitHubAPIURL() string { return c.APIURL }

// credentialer is sources.github's config (collectors/github.Config),
// whose token and api_url this source reuses unless it sets its own.
type credentialer interface {
	Credentials() (token config.Secret, apiURL string)
}

// Check implements config.SourceConfig.
func (c *Config) Check(ch *config.Check) {
	// Same account, same server: reuse sources.github's unless set.
	if gh, ok := ch.Config().Sources.Get("github").(credentialer); ok {
		token, apiURL := gh.Credentials()
		if c.Token == "" && !ch.Set("token") {
			c.Token = token
		}
		if !ch.Set("api_url") {
			c.APIURL = apiURL
		}
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	loop := ch.URL("api_url", c.APIURL)
	ch.Secret("token", c.Token, loop)
	if len(c.Workflows) == 0 {
		ch.Add("workflows", "required: at least one {repo, workflow}")
	}
	for i, w := range c.Workflows {
		wp := config.Index("workflows", i)
		if w.Repo == "" {
			ch.Add(wp+".repo", "required: the repository (owner/name)")
		} else {
			ch.Repo(wp+".repo", w.Repo)
		}
		if strings.TrimSpace(w.Workflow) == "" {
			ch.Add(wp+".workflow", "required: the workflow file name (ci.yml) or id")
		}
	}
	ch.Positive("interval", c.Interval)
}

// Format prints c like fmt would, with secrets masked.
func (c *Config) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, c) }
