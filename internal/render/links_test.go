package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/weblink"
)

// TestMarkdownLinks: the Markdown exports link a PR only to an http(s) URL
// on a configured GitHub host, escaped so it cannot end the link; anything
// else is plain text.
func TestMarkdownLinks(t *testing.T) {
	ghe := weblink.ForGitHub("https://ghe.example.com/api/v3/")
	for _, tt := range []struct {
		name  string
		url   string
		hosts weblink.GitHubHosts
		want  string
		not   []string
	}{
		{"github.com", "https://github.com/acme/api/pull/7", weblink.GitHubHosts{}, "[acme/api#7](https://github.com/acme/api/pull/7)", nil},
		{"javascript", "javascript:alert(document.cookie)", weblink.GitHubHosts{}, "— acme/api#7", []string{"javascript", "#7]("}},
		{"data", "data:text/html;base64,PHNjcmlwdD4=", weblink.GitHubHosts{}, "— acme/api#7", []string{"data:", "#7]("}},
		{"another host", "https://evil.example/acme/api/pull/7", weblink.GitHubHosts{}, "— acme/api#7", []string{"evil", "#7]("}},
		{"a ) that would end the link", "https://github.com/a/b/pull/7)[click](javascript:alert(1)", weblink.GitHubHosts{},
			"[acme/api#7](https://github.com/a/b/pull/7%29%5Bclick%5D%28javascript:alert%281%29)", []string{"](javascript"}},
		{"enterprise", "https://ghe.example.com/acme/api/pull/7", ghe, "[acme/api#7](https://ghe.example.com/acme/api/pull/7)", nil},
		{"enterprise host not configured", "https://ghe.example.com/acme/api/pull/7", weblink.GitHubHosts{}, "— acme/api#7", []string{"#7]("}},
	} {
		ds := []model.Draft{{
			ID: "d1", Status: model.StatusAccepted, Category: "performance", Text: "Cut p99 by half.",
			PRs:   []model.PRRef{{Repo: "acme/api", Number: 7, URL: tt.url}},
			Links: []string{"javascript:alert(2)", "https://wiki.example.com/pm)x"},
		}}
		var md, review bytes.Buffer
		if err := Markdown(&md, "T", ds, tt.hosts); err != nil {
			t.Fatal(err)
		}
		groups, _ := Review(ds, "")
		if err := ReviewMarkdown(&review, "T", "", groups, nil, tt.hosts); err != nil {
			t.Fatal(err)
		}
		for what, out := range map[string]string{"Markdown": md.String(), "ReviewMarkdown": review.String()} {
			if !strings.Contains(out, tt.want) {
				t.Errorf("%s %s: want %q in\n%s", tt.name, what, tt.want, out)
			}
			for _, n := range append(tt.not, "alert(2)") {
				if strings.Contains(out, n) {
					t.Errorf("%s %s: %q in\n%s", tt.name, what, n, out)
				}
			}
			if !strings.Contains(out, "[link](https://wiki.example.com/pm%29x)") {
				t.Errorf("%s %s: the manual win's link is not kept, escaped:\n%s", tt.name, what, out)
			}
		}
	}
}
