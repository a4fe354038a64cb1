package all_test

// The config loader's tests with every registered source: the files under
// testdata/good and testdata/bad name the sources, so they run here, where
// the registry is (config itself knows no source).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/collectors/prometheus"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/config/configtest"
)

// testOptions uses configtest's fake environment and home, and the real
// file system (testdata/good/secrets) unless readFile is given.
func testOptions(readFile func(string) ([]byte, error)) config.LoadOptions {
	o := all.Registry().LoadOptions()
	o.LookupEnv, o.ReadFile, o.UserHomeDir = configtest.LookupEnv, readFile, configtest.Home
	return o
}

func TestGoodConfigs(t *testing.T) {
	checks := map[string]func(t *testing.T, c *config.Config){
		"minimal.yaml": func(t *testing.T, c *config.Config) {
			want := config.Default()
			want.Store.Path = "/home/alice/.local/share/impact/impact.db"
			want.Server.Listen = "unix:/home/alice/.local/state/impact/impact.sock"
			want.Me.GitHub = config.StringList{"alice"}
			want.File = c.File
			got, err := c.Show()
			if err != nil {
				t.Fatal(err)
			}
			if w, _ := want.Show(); string(got) != string(w) {
				t.Errorf("got  %s\nwant %s", got, w)
			}
			if got := c.ConfiguredSources(); len(got) != 0 {
				t.Errorf("ConfiguredSources = %v, want none", got)
			}
		},
		"spec.yaml": func(t *testing.T, c *config.Config) {
			configtest.Eq(t, "me.github", c.Me.GitHub, config.StringList{"alice"})
			configtest.Eq(t, "timezone", c.Location().String(), "Europe/Berlin")
			configtest.Eq(t, "store.path", c.Store.Path, "/home/alice/.local/share/impact/impact.db")
			configtest.Eq(t, "github token", gh(c).Token.Value(), "ghp_SECRET_github_env")
			configtest.Eq(t, "github repos", gh(c).Repos, []string{"acme/search-api", "acme/checkout"})
			configtest.Eq(t, "github interval", gh(c).Interval.D(), 15*time.Minute)
			configtest.Eq(t, "workflows", ga(c).Workflows, []githubactions.Workflow{
				{Repo: "acme/search-api", Workflow: "ci.yml", Branch: "main"},
				{Repo: "acme/search-api", Workflow: "deploy.yml", Branch: "main", Deploys: true},
			})
			configtest.Eq(t, "datadog app key", dd(c).AppKey.Value(), "SECRET_dd_app_env")
			configtest.Eq(t, "datadog URL", dd(c).URL(), "https://api.datadoghq.com")
			configtest.Eq(t, "prometheus bearer", prom(c).BearerToken.Value(), "SECRET_prom_env")
			configtest.Eq(t, "pagerduty", *pd(c), pagerduty.Config{
				Token: "SECRET_pd_env", APIURL: "https://api.pagerduty.com", Services: []string{"PSEARCH1"},
				UserID: "PALICE1", Interval: config.Duration(time.Hour),
			})
			configtest.Eq(t, "metrics", c.Metrics, []config.Metric{{
				ID: "search-p99", Name: "search API p99 latency", Source: "datadog",
				Query: "p99:trace.http.request.duration{service:search-api,env:prod}",
				Unit:  "ms", Better: "lower", Repos: []string{"acme/search-api"},
				Paths: []string{"internal/query/**"}, Category: "performance",
			}})
			configtest.Eq(t, "drafter", c.Drafter, config.DefaultDrafterConfig)
			configtest.Eq(t, "smtp password", c.Digest.SMTP.Password.Value(), "SECRET_smtp_env")
			configtest.Eq(t, "sources", sorted(c.ConfiguredSources()), []string{"datadog", "github", "github_actions", "pagerduty", "prometheus"})
		},
		"file-secrets.yaml": func(t *testing.T, c *config.Config) {
			configtest.Eq(t, "server token", c.Server.Token.Value(), "SECRET_server_from_file")
			configtest.Eq(t, "github token", gh(c).Token.Value(), "ghp_SECRET_from_file")
			configtest.Eq(t, "datadog api key (CRLF trimmed)", dd(c).APIKey.Value(), "SECRET_dd_api_from_file")
			configtest.Eq(t, "datadog app key (no newline)", dd(c).AppKey.Value(), "SECRET_dd_app_from_file")
			configtest.Eq(t, "prometheus url", prom(c).URL, "http://prometheus.internal:9090")
			configtest.Eq(t, "prometheus password", prom(c).BasicAuth.Password.Value(), "SECRET_prom_from_file")
			configtest.Eq(t, "pagerduty token", pd(c).Token.Value(), "SECRET_pd_from_file")
			configtest.Eq(t, "smtp password", c.Digest.SMTP.Password.Value(), "SECRET_smtp_from_file")
			configtest.Eq(t, "digest.to", c.Digest.To, []string{"alice@example.com"})
			configtest.Eq(t, "digest.from defaults to me.email", c.Digest.From, "alice@example.com")
		},
		"env.yaml": func(t *testing.T, c *config.Config) {
			configtest.Eq(t, "me.github", c.Me.GitHub, config.StringList{"alice"})
			configtest.Eq(t, "timezone default", c.Me.Timezone, "America/New_York")
			configtest.Eq(t, "store.path", c.Store.Path, "/var/lib/impact/impact.db")
			configtest.Eq(t, "github token", gh(c).Token.Value(), "ghp_SECRET_github_env")
			configtest.Eq(t, "repos", gh(c).Repos, []string{"acme/search-api"})
			configtest.Eq(t, "interval", gh(c).Interval.D(), 5*time.Minute)
			configtest.Eq(t, "escaped query", c.Metrics[0].Query, `label_replace(up, "x", "${1}", "", "")`)
		},
		"loopback.yaml": func(t *testing.T, c *config.Config) {
			configtest.Eq(t, "IsMe", c.IsMe("alice-work") && c.IsMe("@ALICE") && !c.IsMe("bob"), true)
			network, addr := c.Server.Network()
			configtest.Eq(t, "listen", network+" "+addr, "unix /tmp/impact.sock")
			configtest.Eq(t, "github api_url", gh(c).APIURL, "http://127.0.0.1:8081/")
			configtest.Eq(t, "actions api_url from github", ga(c).APIURL, "http://127.0.0.1:8081/")
			configtest.Eq(t, "actions interval default", ga(c).Interval.D(), 30*time.Minute)
			configtest.Eq(t, "workflow branch default", ga(c).Workflows[0].Branch, "main")
			configtest.Eq(t, "datadog api_url", dd(c).URL(), "http://localhost:8082")
			configtest.Eq(t, "pagerduty api_url", pd(c).APIURL, "http://[::1]:8083")
			configtest.Eq(t, "category default", c.Metrics[0].Category, "performance")
			configtest.Eq(t, "datadog metrics", len(c.MetricsFor("datadog")), 1)
			configtest.Eq(t, "prometheus metrics", len(c.MetricsFor("prometheus")), 0)
		},
		"anchors.yaml": func(t *testing.T, c *config.Config) {
			configtest.Eq(t, "workflows", ga(c).Workflows, []githubactions.Workflow{
				{Repo: "acme/search-api", Workflow: "ci.yml", Branch: "develop"},
				{Repo: "acme/search-api", Workflow: "deploy.yml", Branch: "develop", Deploys: true},
			})
			configtest.Eq(t, "token inherited", ga(c).Token.Value(), "ghp_SECRET_github_env")
			configtest.Eq(t, "metric 2", c.Metrics[1], config.Metric{
				ID: "search-p50", Source: "datadog", Query: "p50:trace.http.request.duration{service:search-api}",
				Unit: "ms", Better: "lower", Repos: []string{"acme/search-api", "acme/checkout"},
				Paths: []string{"internal/query/", "**/*.sql"}, Category: "database",
			})
			configtest.Eq(t, "drafter", c.Drafter, config.DrafterConfig{
				Window: config.Duration(14 * 24 * time.Hour), Settle: config.Duration(36 * time.Hour), MinChange: 0.05, Alpha: 0.05,
			})
		},
	}
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name := range checks {
		if !slices.Contains(files, filepath.Join("testdata/good", name)) {
			t.Errorf("check for missing file %s", name)
		}
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, err := config.LoadWith(file, testOptions(nil))
			if err != nil {
				t.Fatalf("config.LoadWith: %v", err)
			}
			if c.File != file {
				t.Errorf("File = %q, want %q", c.File, file)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate after load: %v", err)
			}
			if check := checks[filepath.Base(file)]; check != nil {
				check(t, c)
			}
			out, err := c.Show()
			if err != nil {
				t.Fatalf("Show: %v", err)
			}
			configtest.AssertNoSecrets(t, "Show", string(out))
			configtest.AssertNoSecrets(t, "fmt", fmt.Sprintf("%v %+v %#v", c, c, c))
			configtest.AssertNoSecrets(t, "fmt", fmtAllVerbs(c, *c, struct{ C *config.Config }{c}, &c.Sources, &c.Server, &c.Digest, &c.Digest.SMTP,
				gh(c), ga(c), dd(c), prom(c), pd(c)))
			if p := prom(c); p != nil && p.BasicAuth != nil {
				configtest.AssertNoSecrets(t, "fmt", fmtAllVerbs(p.BasicAuth, *p.BasicAuth, p.BasicAuth.Password))
			}
		})
	}
}

// fmtAllVerbs prints each value with every verb, including ones that do
// not fit (fmt then prints "%!s(*T=…)").
func fmtAllVerbs(vs ...any) string {
	var b strings.Builder
	for _, v := range vs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%e", "%10.3s", "%U"} {
			b.WriteString(fmt.Sprintf(verb, v) + "\n")
		}
	}
	return b.String()
}

// readWant returns the "# want: " lines at the top of a bad config.
func readWant(t *testing.T, data []byte) string {
	t.Helper()
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# want: ")
		if !ok {
			break
		}
		want = append(want, line)
	}
	if len(want) == 0 {
		t.Fatal("no '# want: ' lines at the top of the file")
	}
	return strings.Join(want, "\n")
}

func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("only %d bad configs", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(readWant(t, data), "{metric sources}", metricSources())
			c, err := config.ParseWith(data, filepath.Base(file), testOptions(configtest.ReadFile))
			if err == nil {
				t.Fatalf("no error; want\n%s", want)
			}
			if c != nil {
				t.Errorf("config returned with an error")
			}
			var verr *config.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error is %T, want *config.ValidationError", err)
			}
			if got := err.Error(); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			if len(verr.Problems) != strings.Count(want, "\n")+1 {
				t.Errorf("%d problems for %d lines", len(verr.Problems), strings.Count(want, "\n")+1)
			}
			for _, p := range verr.Problems {
				if p.File != filepath.Base(file) || p.Line < 1 {
					t.Errorf("problem without file:line: %#v", p)
				}
			}
			configtest.AssertNoSecrets(t, "error", err.Error())
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a password from a URL: %s", err)
			}
		})
	}
}

func TestExample(t *testing.T) {
	ex := all.Registry().Example()
	c, err := config.ParseWith([]byte(ex), "example.yaml", testOptions(configtest.ReadFile))
	if err != nil {
		t.Fatalf("config.Example does not load:\n%v", err)
	}
	configtest.Eq(t, "sources", sorted(c.ConfiguredSources()), sorted(all.Registry().Names()))
	if len(c.Metrics) == 0 || c.Digest.SMTP.Password.Value() != "SECRET_smtp_env" {
		t.Errorf("example lacks metrics or digest: %+v", c)
	}
	// Every key of the spec's example is explained in the example.
	spec, err := os.ReadFile("testdata/good/spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(spec)) {
		key, _, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || strings.HasPrefix(key, "#") || strings.ContainsAny(key, " {") {
			continue
		}
		key = strings.TrimPrefix(key, "- ")
		if !strings.Contains(ex, key+":") {
			t.Errorf("example lacks key %q", key)
		}
	}
	if n := strings.Count(ex, "#"); n < 40 {
		t.Errorf("example has only %d comments", n)
	}
}

func TestPartialSectionsKeepDefaults(t *testing.T) {
	c, err := config.ParseWith([]byte(`
me: {github: alice}
drafter: {window: 3d}
digest: {smtp: {host: localhost}}
sources:
  datadog: {api_key: k, app_key: k, interval: 2h}
`), "p.yaml", testOptions(configtest.ReadFile))
	if err != nil {
		t.Fatal(err)
	}
	configtest.Eq(t, "drafter", c.Drafter, config.DrafterConfig{Window: config.Duration(72 * time.Hour), Settle: config.Duration(24 * time.Hour), MinChange: 0.1, Alpha: 0.01})
	configtest.Eq(t, "smtp", c.Digest.SMTP, config.SMTPConfig{Host: "localhost", Port: 587, TLS: "starttls"})
	configtest.Eq(t, "schedule", c.Digest.Schedule, "0 9 * * MON")
	configtest.Eq(t, "datadog", *dd(c), datadog.Config{APIKey: "k", AppKey: "k", Site: "datadoghq.com", Interval: config.Duration(2 * time.Hour)})
}

func dd(c *config.Config) *datadog.Config { return config.SourceAs[datadog.Config](c, datadog.Name) }

func prom(c *config.Config) *prometheus.Config {
	return config.SourceAs[prometheus.Config](c, prometheus.Name)
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// metricSources lists the registered sources that take metrics, as the
// loader's messages do ("a, b or c"): other helpers register sources too.
func metricSources() string {
	var names []string
	for _, st := range all.Registry().Types() {
		if st.Metrics {
			names = append(names, st.Name)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func gh(c *config.Config) *github.Config { return config.SourceAs[github.Config](c, github.Name) }

func ga(c *config.Config) *githubactions.Config {
	return config.SourceAs[githubactions.Config](c, githubactions.Name)
}

func pd(c *config.Config) *pagerduty.Config {
	return config.SourceAs[pagerduty.Config](c, pagerduty.Name)
}
