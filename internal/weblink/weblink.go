// Package weblink is the one rule for the links the product renders
// (Markdown exports, the digest, the review page): a link is built only from
// an absolute http(s) URL without credentials, re-encoded so that it cannot
// end a Markdown link or an HTML attribute early ("(", ")", "[", "]", "<",
// ">", quotes, backquotes and spaces are percent-escaped). A PR's URL must
// also be on a GitHub web host the config names: github.com, or the web
// host of sources.github's (or github_actions') api_url. Anything else
// (javascript:, data:, another host) is shown as plain text, never linked.
package weblink

import (
	"net/url"
	"slices"
	"strings"

	"github.com/impact-dev/impact/config"
)

// GitHubHosts are the hosts PR links may point at. The zero value allows
// github.com only.
type GitHubHosts struct {
	hosts []string // lower case, besides github.com
}

// ForGitHub allows github.com and the web host of each GitHub API URL
// (https://api.github.com/ → github.com; https://ghe.example.com/api/v3/ →
// ghe.example.com; https://api.acme.ghe.com → acme.ghe.com).
func ForGitHub(apiURLs ...string) GitHubHosts {
	var h GitHubHosts
	for _, a := range apiURLs {
		if host := WebHost(a); host != "" && host != "github.com" && !slices.Contains(h.hosts, host) {
			h.hosts = append(h.hosts, host)
		}
	}
	return h
}

// GitHubAPI is a source config that talks to a GitHub API (sources.github
// and sources.github_actions): the PRs it finds link to that API's web host.
type GitHubAPI interface {
	GitHubAPIURL() string
}

// ForConfig allows github.com and the web hosts of the configured sources'
// GitHub API URLs.
func ForConfig(cfg *config.Config) GitHubHosts {
	if cfg == nil {
		return GitHubHosts{}
	}
	var apis []string
	for _, name := range cfg.ConfiguredSources() {
		if g, ok := cfg.Sources.Get(name).(GitHubAPI); ok {
			apis = append(apis, g.GitHubAPIURL())
		}
	}
	return ForGitHub(apis...)
}

// WebHost is the web host of a GitHub API URL ("" when it does not parse).
func WebHost(apiURL string) string {
	u, err := url.Parse(strings.TrimSpace(apiURL))
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if rest, ok := strings.CutPrefix(host, "api."); ok && strings.Contains(rest, ".") {
		return rest
	}
	return host
}

// Allows reports whether host (a URL's hostname) is one PR links may
// point at.
func (h GitHubHosts) Allows(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "github.com" || slices.Contains(h.hosts, host)
}

// PR returns a PR's URL fit for a link, or "" when it must be shown as
// text (not http(s), or not on an allowed host).
func (h GitHubHosts) PR(raw string) string {
	return clean(raw, h.Allows)
}

// User returns a URL the user gave (a manual win's link) fit for a link:
// any http(s) host, or "".
func User(raw string) string {
	return clean(raw, func(string) bool { return true })
}

// escaper percent-escapes what could end a Markdown link or an HTML
// attribute.
var escaper = strings.NewReplacer("(", "%28", ")", "%29", "[", "%5B", "]", "%5D", " ", "%20",
	"<", "%3C", ">", "%3E", "`", "%60", "\"", "%22", "'", "%27", "\\", "%5C")

func clean(raw string, allow func(host string) bool) string {
	s := strings.TrimSpace(raw)
	if strings.ContainsAny(s, "\x00\r\n\t") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	if !allow(u.Hostname()) {
		return ""
	}
	return escaper.Replace(u.String())
}

// Markdown is a Markdown link to u with label (already escaped as Markdown
// text), or label alone when u is "".
func Markdown(label, u string) string {
	if u == "" {
		return label
	}
	return "[" + label + "](" + u + ")"
}
