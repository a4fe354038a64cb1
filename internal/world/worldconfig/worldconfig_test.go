package worldconfig

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/world"
)

func TestDemoConfig(t *testing.T) {
	w := world.Demo(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	c := Default(w, "http://127.0.0.1:1234", "http://127.0.0.1:5678")
	dd := config.SourceAs[datadog.Config](c, datadog.Name)
	gh := config.SourceAs[github.Config](c, github.Name)
	if gh.APIURL != "http://127.0.0.1:1234/" || dd.APIURL != "http://127.0.0.1:5678" {
		t.Errorf("urls %q %q", gh.APIURL, dd.APIURL)
	}
	if !slices.Equal(c.Me.GitHub, []string{"alice"}) || c.Me.Timezone != "UTC" || c.Me.Name != "Alice Example" {
		t.Errorf("me %+v", c.Me)
	}
	if gh.Token.Value() != "demo" || dd.APIKey.Value() != "demo" || dd.AppKey.Value() != "demo" {
		t.Errorf("secrets")
	}
	if c.Drafter.Window.D() != 7*24*time.Hour || c.Drafter.Settle.D() != 24*time.Hour || c.Drafter.MinChange != 0.10 || c.Drafter.Alpha != 0.01 {
		t.Errorf("drafter %+v", c.Drafter)
	}
	if len(c.Metrics) != 8 || !slices.Equal(gh.Repos, w.Repos) {
		t.Errorf("metrics/repos")
	}
	c.Metrics[0].Repos[0] = "x"
	if w.Metrics[0].Repos[0] == "x" {
		t.Errorf("Config shares slices with the world")
	}
	for _, m := range c.Metrics {
		if m.Source != "datadog" || m.Query == "" || strings.Contains(m.Query, "rollup") {
			t.Errorf("metric %+v", m)
		}
	}
}
