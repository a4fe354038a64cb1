package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/weblink"
)

func TestReview(t *testing.T) {
	at := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	d := func(id, kind, cat, metric string, change float64, repos ...string) model.Draft {
		x := model.Draft{ID: id, Kind: kind, Category: cat, Text: "did " + id, Metric: model.MetricRef{ID: metric}, Change: change, ShiftAt: at}
		for i, r := range repos {
			x.PRs = append(x.PRs, model.PRRef{Repo: r, Number: i + 1, URL: "https://github.com/" + r + "/pull/1"})
		}
		at = at.Add(-time.Hour) // later ids are older
		return x
	}
	ds := []model.Draft{
		d("m1", model.KindManual, "leadership", "", 0),
		d("a1", model.KindActivity, "leadership", "github.reviews_per_week", 0),
		d("p1", model.KindImpact, "performance", "search-p99", -0.88, "acme/a"),
		d("r1", model.KindImpact, "reliability", "pagerduty.pages_to_me", -0.79, "acme/a"),
		d("i1", model.KindImpact, "infrastructure", "ci.duration/x", -0.5, "acme/a", "acme/b"),
		d("x1", "", "api", "api-errors", -0.2, "acme/a"),
		d("m2", model.KindManual, "api", "", 0),
	}
	tests := []struct {
		level      string
		order      string // categories, then the ids of each
		highlights string
	}{
		{"", "api:x1,m2 performance:p1 reliability:r1 infrastructure:i1 leadership:a1,m1", ""},
		{"mid", "api:x1,m2 performance:p1 reliability:r1 infrastructure:i1 leadership:a1,m1", "p1,r1,x1"},
		{"senior", "reliability:r1 performance:p1 infrastructure:i1 api:x1,m2 leadership:a1,m1", "r1,p1,i1"},
		{"staff", "leadership:a1,m1 infrastructure:i1 reliability:r1 performance:p1 api:x1,m2", "a1,m1,i1"},
	}
	for _, tt := range tests {
		groups, hl := Review(ds, tt.level)
		var parts []string
		for _, g := range groups {
			var ids []string
			for _, x := range g.Drafts {
				ids = append(ids, x.ID)
			}
			parts = append(parts, g.Category+":"+strings.Join(ids, ","))
		}
		var hids []string
		for _, x := range hl {
			hids = append(hids, x.ID)
		}
		if got := strings.Join(parts, " "); got != tt.order {
			t.Errorf("level %q order:\n got %s\nwant %s", tt.level, got, tt.order)
		}
		if got := strings.Join(hids, ","); got != tt.highlights {
			t.Errorf("level %q highlights %s, want %s", tt.level, got, tt.highlights)
		}
		// A level never changes a statement.
		for _, g := range groups {
			for _, x := range g.Drafts {
				for _, o := range ds {
					if o.ID == x.ID && (o.Text != x.Text || o.Change != x.Change) {
						t.Errorf("level %q changed %s", tt.level, x.ID)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	groups, hl := Review(ds, "staff")
	if err := ReviewMarkdown(&buf, "T", "staff", groups, hl, weblink.GitHubHosts{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# T\n\n## Lead with (staff level)\n\n- did a1 _(activity)_\n", "## Technical leadership\n\n- did a1 _(activity)_\n- did m1 _(manual)_\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestUserLinks(t *testing.T) {
	for in, want := range map[string]string{
		"https://wiki.example.com/pm/42":        "https://wiki.example.com/pm/42",
		"https://x.example/a)b(c":               "https://x.example/a%29b%28c",
		"javascript:alert(1)":                   "",
		"https://user:pw@x.example/":            "",
		"ftp://x.example/":                      "",
		"https://x.example/](https://evil.test": "https://x.example/%5D%28https://evil.test",
	} {
		if got := weblink.User(in); got != want {
			t.Errorf("weblink.User(%q) = %q, want %q", in, got, want)
		}
	}
}
