package config

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/config/configtest"
)

// testOptions uses configtest's fake environment and home, and the real
// file system unless readFile is given.
func testOptions(readFile func(string) ([]byte, error)) LoadOptions {
	return LoadOptions{LookupEnv: configtest.LookupEnv, ReadFile: readFile, UserHomeDir: configtest.Home}
}

func TestLoadErrors(t *testing.T) {
	_, err := LoadWith("/nonexistent/config.yaml", testOptions(configtest.ReadFile))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
	_, err = Parse([]byte("me: {github: alice}\n---\nme: {github: bob}\n"), "two.yaml")
	configtest.Eq(t, "two documents", fmt.Sprint(err), `two.yaml:2: only one YAML document is allowed (found a second "---")`)
	_, err = Parse([]byte("- a\n- b\n"), "list.yaml")
	configtest.Eq(t, "not a mapping", fmt.Sprint(err), `list.yaml:1: expected a mapping, got a list`)
}

func TestValidateInCode(t *testing.T) {
	c := Default()
	c.Me.GitHub = StringList{"alice"}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults plus me.github: %v", err)
	}
	c.Sources.Set("a", &testSource{})
	c.Drafter.Alpha = 0
	c.Metrics = []Metric{{ID: "m", Source: "b", Query: "q", Unit: "ms", Better: "lower", Category: "api"}}
	configtest.Eq(t, "problems", fmt.Sprint(c.Validate()), strings.Join([]string{
		"sources.a.token: required (or token_file)",
		`metrics[0].source: unknown source "b" (want a)`,
		"drafter.alpha: must be between 0 and 0.5, e.g. 0.01",
	}, "\n"))
	if got := c.PollInterval("a"); got != time.Hour {
		t.Errorf("PollInterval of a source without one = %v, want an hour", got)
	}
}

func TestDefault(t *testing.T) {
	a := Default()
	a.Drafter.Window = 0
	a.Me.GitHub = append(a.Me.GitHub, "x")
	b := Default()
	if b.Drafter.Window != Duration(7*24*time.Hour) || len(b.Me.GitHub) != 0 {
		t.Errorf("Default shares state: %+v", b)
	}
	if DefaultConfig.Drafter.Window != Duration(7*24*time.Hour) {
		t.Errorf("DefaultConfig changed")
	}
	if l := b.Server.Listen; !strings.HasPrefix(l, "unix:/") || !strings.HasSuffix(l, "/impact/impact.sock") {
		t.Errorf("listen = %q, want the default unix socket", l)
	}
	configtest.Eq(t, "schedule", b.Digest.Schedule, "0 9 * * MON")
	configtest.Eq(t, "smtp", b.Digest.SMTP, SMTPConfig{Port: 587, TLS: "starttls"})
	configtest.Eq(t, "location", b.Location(), time.UTC)
}

func TestFind(t *testing.T) {
	home := func() (string, error) { return "/home/alice", nil }
	noHome := func() (string, error) { return "", errors.New("no home") }
	tests := []struct {
		flag string
		env  map[string]string
		home func() (string, error)
		want string
	}{
		{"/etc/impact.yaml", map[string]string{"IMPACT_CONFIG": "/x.yaml"}, home, "/etc/impact.yaml"},
		{"", map[string]string{"IMPACT_CONFIG": "/x.yaml", "XDG_CONFIG_HOME": "/xdg"}, home, "/x.yaml"},
		{"", map[string]string{"XDG_CONFIG_HOME": "/xdg"}, home, "/xdg/impact/config.yaml"},
		{"", map[string]string{"XDG_CONFIG_HOME": "relative"}, home, "/home/alice/.config/impact/config.yaml"},
		{"", nil, home, "/home/alice/.config/impact/config.yaml"},
		{"", nil, noHome, "~/.config/impact/config.yaml"},
	}
	for _, tt := range tests {
		got := find(tt.flag, func(k string) string { return tt.env[k] }, tt.home)
		if got != tt.want {
			t.Errorf("find(%q, %v) = %q, want %q", tt.flag, tt.env, got, tt.want)
		}
	}
	t.Setenv("IMPACT_CONFIG", "/from/env.yaml")
	configtest.Eq(t, "Find", Find(""), "/from/env.yaml")
}

func TestExpandEnv(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"A": "1", "EMPTY": ""}[k]
		return v, ok
	}
	tests := []struct {
		in, want string
		unset    []string
		err      bool
	}{
		{"plain $HOME and $", "plain $HOME and $", nil, false},
		{"${A}-${A}", "1-1", nil, false},
		{"${EMPTY}", "", nil, false},
		{"${B}/${C}", "/", []string{"B", "C"}, false},
		{"${B:-def}", "def", nil, false},
		{"${EMPTY:-def}", "def", nil, false},
		{"${A:-def}", "1", nil, false},
		{"$${A} ${A}", "${A} 1", nil, false},
		{"${A", "", nil, true},
		{"${1A}", "", nil, true},
		{"${}", "", nil, true},
	}
	for _, tt := range tests {
		got, unset, err := expandEnv(tt.in, env)
		if (err != nil) != tt.err || got != tt.want || !slices.Equal(unset, tt.unset) {
			t.Errorf("expandEnv(%q) = %q, %v, %v; want %q, %v, err %v", tt.in, got, unset, err, tt.want, tt.unset, tt.err)
		}
	}
}

// TestAliasBomb: a "billion laughs" file fails fast instead of exploding.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("me: {github: alice}\nx0: &a0 [a, a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("metrics: [{repos: *a8, paths: *a8}]\nsources: {github: {repos: *a8}}\n")
	start := time.Now()
	_, err := ParseWith([]byte(b.String()), "bomb.yaml", testOptions(configtest.ReadFile))
	if err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestSecretValues(t *testing.T) {
	c := &Config{
		Server: ServerConfig{Token: "server-token"},
		Digest: DigestConfig{SMTP: SMTPConfig{Password: "smtp-pass"}},
	}
	c.Sources.Set("a", &testSource{Token: "a-token", Auth: &testAuth{Username: "u", Password: "a-pass"}})
	c.Sources.Set("b", &testSource{Token: "b-token"})
	got := strings.Join(c.SecretValues(), ",")
	for _, want := range []string{"server-token", "a-token", "a-pass", "b-token", "smtp-pass"} {
		if !strings.Contains(got, want) {
			t.Errorf("SecretValues() = %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, ",u,") || strings.HasPrefix(got, "u,") {
		t.Errorf("SecretValues() = %q holds a user name", got)
	}
}

// testSource is a registered source's config, as a source package
// declares it (config knows no real source).
type testSource struct {
	Token    Secret    `yaml:"token"`
	Auth     *testAuth `yaml:"auth"`
	Interval Duration  `yaml:"interval"`
}

type testAuth struct {
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
}

func (s *testSource) Check(c *Check)              { c.Secret("token", s.Token, false) }
func (s *testSource) PollInterval() time.Duration { return s.Interval.D() }
