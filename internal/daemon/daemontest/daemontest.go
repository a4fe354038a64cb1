// Package daemontest holds what the daemon's tests and benchmarks share:
// a longer built-in world, fake vendor servers for it, and a config file
// pointing impact at them.
package daemontest

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/internal/world/worldconfig"
)

// World returns world.Demo(end) stretched to days (a multiple of 90 or
// not): earlier 90-day copies of the demo are laid end to end before it,
// their PR numbers moved up by 10000 per copy so keys stay unique, and the
// result is cut to [end-days, end).
func World(end time.Time, days int) *world.World {
	end = end.UTC().Truncate(time.Hour)
	w := world.Demo(end)
	if days <= 90 {
		return w
	}
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	out := *w
	out.Start = start
	out.Series = map[string][]model.Sample{}
	out.Info = map[string]world.PRInfo{}
	out.PRs, out.ClosedUnmerged = nil, nil
	out.Shifts, out.Expect = nil, nil
	for k := 0; ; k++ {
		segEnd := end.Add(-time.Duration(k) * 90 * 24 * time.Hour)
		if !segEnd.After(start) {
			break
		}
		seg := w
		if k > 0 {
			seg = world.Demo(segEnd)
		}
		in := func(t time.Time) bool { return !t.Before(start) && t.Before(segEnd) }
		for id, ss := range seg.Series {
			for _, s := range ss {
				if in(s.Time) {
					out.Series[id] = append(out.Series[id], s)
				}
			}
		}
		move := func(prs []model.PR, dst *[]model.PR) {
			for _, p := range prs {
				info := seg.Info[p.Key()]
				if k > 0 && p.MergedAt.IsZero() && !in(info.ClosedAt) {
					continue
				}
				if k > 0 && !p.MergedAt.IsZero() && !in(p.MergedAt) {
					continue
				}
				p.Number += 10000 * k
				p.URL = fmt.Sprintf("https://github.com/%s/pull/%d", p.Repo, p.Number)
				out.Info[p.Key()] = info
				*dst = append(*dst, p)
			}
		}
		move(seg.PRs, &out.PRs)
		move(seg.ClosedUnmerged, &out.ClosedUnmerged)
		if k == 0 {
			out.Shifts, out.Expect = w.Shifts, w.Expect
		}
	}
	for id, ss := range out.Series {
		sortSamples(ss)
		out.Series[id] = ss
	}
	sortPRs(out.PRs)
	return &out
}

func sortSamples(ss []model.Sample) {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && ss[j].Time.Before(ss[j-1].Time); j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

func sortPRs(ps []model.PR) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].MergedAt.Before(ps[j-1].MergedAt); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// Vendors are fake GitHub and Datadog servers serving a world.
type Vendors struct {
	World   *world.World
	GitHub  *httptest.Server
	Datadog *httptest.Server
	Counter *collectorstest.Counter
}

// StartVendors serves w on two loopback servers with the same options.
func StartVendors(w *world.World, o collectorstest.FakeOptions) *Vendors {
	return StartVendorsWith(w, o, o)
}

// StartVendorsWith serves w with options per vendor (a slow Datadog and a
// quick GitHub, say); the counters are shared when only gh sets one.
func StartVendorsWith(w *world.World, gh, dd collectorstest.FakeOptions) *Vendors {
	if gh.Counter == nil {
		gh.Counter = &collectorstest.Counter{}
	}
	if dd.Counter == nil {
		dd.Counter = gh.Counter
	}
	if gh.RateLimit == 0 {
		gh.RateLimit = -1
	}
	if dd.RateLimit == 0 {
		dd.RateLimit = -1
	}
	return &Vendors{
		World:   w,
		GitHub:  httptest.NewServer(github.NewFake(w, gh, githubactions.FakeRoutes)),
		Datadog: httptest.NewServer(datadog.NewFake(w, dd)),
		Counter: gh.Counter,
	}
}

// Close stops both servers.
func (v *Vendors) Close() {
	v.GitHub.CloseClientConnections()
	v.Datadog.CloseClientConnections()
	v.GitHub.Close()
	v.Datadog.Close()
}

// ConfigOptions say where the daemon keeps its store and listens, and how
// often it polls.
type ConfigOptions struct {
	Store    string
	Listen   string
	Interval time.Duration // both sources; default 1h
	// GitHubInterval overrides Interval for GitHub when set.
	GitHubInterval time.Duration
	// Token is server.token; a TCP Listen gets Token (DefaultToken when
	// empty) unless NoToken is set, as every TCP listen needs one.
	Token   string
	NoToken bool
}

// DefaultToken is server.token of a config with a TCP listen and no Token.
const DefaultToken = "daemontest-api-token"

// ConfigYAML returns a config file for the vendors.
func (v *Vendors) ConfigYAML(o ConfigOptions) []byte {
	cfg := worldconfig.Default(v.World, v.GitHub.URL+"/", v.Datadog.URL)
	iv := o.Interval
	if iv == 0 {
		iv = time.Hour
	}
	ghIv := iv
	if o.GitHubInterval > 0 {
		ghIv = o.GitHubInterval
	}
	var metrics []map[string]any
	for _, m := range cfg.Metrics {
		e := map[string]any{
			"id": m.ID, "name": m.Name, "source": m.Source, "query": m.Query,
			"unit": m.Unit, "better": m.Better, "category": m.Category,
		}
		if len(m.Repos) > 0 {
			e["repos"] = m.Repos
		}
		if len(m.Paths) > 0 {
			e["paths"] = m.Paths
		}
		metrics = append(metrics, e)
	}
	server := map[string]any{"listen": o.Listen}
	if o.Token == "" && !o.NoToken && o.Listen != "" && !strings.HasPrefix(o.Listen, "unix:") {
		o.Token = DefaultToken
	}
	if o.Token != "" {
		server["token"] = o.Token
	}
	doc := map[string]any{
		"me":     map[string]any{"github": []string(cfg.Me.GitHub), "name": cfg.Me.Name, "email": cfg.Me.Email, "timezone": "UTC"},
		"store":  map[string]any{"path": o.Store},
		"server": server,
		"sources": map[string]any{
			"github": map[string]any{
				"token": "fake-github-token", "api_url": config.SourceAs[github.Config](cfg, github.Name).APIURL,
				"repos": config.SourceAs[github.Config](cfg, github.Name).Repos, "interval": dur(ghIv),
			},
			"datadog": map[string]any{
				"api_key": "fake-dd-api-key", "app_key": "fake-dd-app-key",
				"api_url": config.SourceAs[datadog.Config](cfg, datadog.Name).APIURL, "interval": dur(iv),
			},
		},
		"metrics": metrics,
		"drafter": map[string]any{"window": "7d", "settle": "1d", "min_change": "10%", "alpha": 0.01},
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

func dur(d time.Duration) string { return config.FormatDuration(d) }

// WriteConfig writes ConfigYAML to path (mode 0600).
func (v *Vendors) WriteConfig(path string, o ConfigOptions) error {
	return os.WriteFile(path, v.ConfigYAML(o), 0o600)
}
