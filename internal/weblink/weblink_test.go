package weblink

import (
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/config"
)

// The GitHub sources declare their API, so an Enterprise host's PRs link.
var (
	_ GitHubAPI = (*github.Config)(nil)
	_ GitHubAPI = (*githubactions.Config)(nil)
)

func TestPR(t *testing.T) {
	ghe := ForGitHub("https://ghe.example.com/api/v3/", "https://api.github.com/")
	for _, tt := range []struct {
		name  string
		hosts GitHubHosts
		in    string
		want  string
	}{
		{"github.com", GitHubHosts{}, "https://github.com/acme/api/pull/12", "https://github.com/acme/api/pull/12"},
		{"host case", GitHubHosts{}, "https://GitHub.com/acme/api/pull/12", "https://GitHub.com/acme/api/pull/12"},
		{"http", GitHubHosts{}, "http://github.com/a/b/pull/1", "http://github.com/a/b/pull/1"},
		{"javascript", GitHubHosts{}, "javascript:alert(document.cookie)", ""},
		{"JavaScript upper case", GitHubHosts{}, "JAVASCRIPT:alert(1)", ""},
		{"data", GitHubHosts{}, "data:text/html,<script>alert(1)</script>", ""},
		{"vbscript", GitHubHosts{}, "vbscript:msgbox(1)", ""},
		{"relative", GitHubHosts{}, "/acme/api/pull/1", ""},
		{"scheme-relative", GitHubHosts{}, "//evil.example/x", ""},
		{"another host", GitHubHosts{}, "https://evil.example/acme/api/pull/1", ""},
		{"a lookalike host", GitHubHosts{}, "https://github.com.evil.example/a", ""},
		{"credentials", GitHubHosts{}, "https://user:pw@github.com/a", ""},
		{"newline", GitHubHosts{}, "https://github.com/a\n[x](javascript:1)", ""},
		{"breaks out of the link", GitHubHosts{}, "https://github.com/a/b/pull/1)[x](javascript:alert(1))", "https://github.com/a/b/pull/1%29%5Bx%5D%28javascript:alert%281%29%29"},
		{"quotes and angle brackets", GitHubHosts{}, `https://github.com/a"onmouseover='x'<b>`, "https://github.com/a%22onmouseover=%27x%27%3Cb%3E"},
		{"space", GitHubHosts{}, "https://github.com/a b", "https://github.com/a%20b"},
		{"enterprise host", ghe, "https://ghe.example.com/acme/api/pull/3", "https://ghe.example.com/acme/api/pull/3"},
		{"enterprise host not configured", GitHubHosts{}, "https://ghe.example.com/acme/api/pull/3", ""},
	} {
		if got := tt.hosts.PR(tt.in); got != tt.want {
			t.Errorf("%s: PR(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestUserAndMarkdown(t *testing.T) {
	if got := User("https://wiki.example.com/pm/42"); got != "https://wiki.example.com/pm/42" {
		t.Errorf("User = %q", got)
	}
	for _, bad := range []string{"javascript:alert(1)", "data:,x", "ftp://x/y", "mailto:a@b"} {
		if got := User(bad); got != "" {
			t.Errorf("User(%q) = %q, want none", bad, got)
		}
	}
	if got := Markdown("a/b#1", ""); got != "a/b#1" {
		t.Errorf("no URL: %q", got)
	}
	if got := Markdown("a/b#1", "https://github.com/a/b/pull/1"); got != "[a/b#1](https://github.com/a/b/pull/1)" {
		t.Errorf("link: %q", got)
	}
}

func TestWebHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.github.com/":         "github.com",
		"https://ghe.example.com/api/v3/": "ghe.example.com",
		"https://api.acme.ghe.com":        "acme.ghe.com",
		"http://127.0.0.1:8081/":          "127.0.0.1",
		"::bad":                           "",
	} {
		if got := WebHost(in); got != want {
			t.Errorf("WebHost(%q) = %q, want %q", in, got, want)
		}
	}
	cfg := &config.Config{}
	cfg.Sources.Set("github", &fakeGitHub{api: "https://git.corp.example/api/v3/"})
	h := ForConfig(cfg)
	if !h.Allows("git.corp.example") || !h.Allows("github.com") || h.Allows("evil.example") || !ForConfig(nil).Allows("github.com") {
		t.Errorf("ForConfig: %+v", h)
	}
}

func FuzzPR(f *testing.F) {
	for _, s := range []string{"https://github.com/a/b/pull/1", "javascript:x", "https://github.com/a)b]c", "data:,x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u := GitHubHosts{}.PR(s)
		if u == "" {
			return
		}
		if !strings.HasPrefix(strings.ToLower(u), "https://") && !strings.HasPrefix(strings.ToLower(u), "http://") {
			t.Fatalf("PR(%q) = %q: not http(s)", s, u)
		}
		if strings.ContainsAny(u, "()[]<>\"' `\n\r\t\\") {
			t.Fatalf("PR(%q) = %q: could end a Markdown link", s, u)
		}
	})
}

// fakeGitHub is a source config that talks to a GitHub API.
type fakeGitHub struct{ api string }

func (f *fakeGitHub) Check(*config.Check)         {}
func (f *fakeGitHub) PollInterval() time.Duration { return time.Hour }
func (f *fakeGitHub) GitHubAPIURL() string        { return f.api }
