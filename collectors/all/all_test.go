package all_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/config"
)

// TestEverySourceExample parses `impact config example` with every
// registered source's entry, every ${VAR} and <key>_file set to a
// recognisable secret, and checks that `config show` prints none of them.
func TestEverySourceExample(t *testing.T) {
	r := all.Registry()
	types := r.Types()
	if len(types) == 0 {
		t.Fatal("no source registered with Add")
	}
	opts := r.LoadOptions()
	opts.LookupEnv = func(name string) (string, bool) { return "s3cr3t-env-" + name, true }
	opts.ReadFile = func(name string) ([]byte, error) {
		if strings.HasPrefix(name, "/run/secrets/") {
			return []byte("postgres://ro:s3cr3t-file@db.example.com/orders\n"), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	opts.UserHomeDir = func() (string, error) { return "/home/alice", nil }
	example := r.Example()
	for _, st := range types {
		if st.Example == "" {
			t.Errorf("source %s has no sample config", st.Name)
			continue
		}
		if !strings.Contains(example, "\n  "+st.Name+":") {
			t.Errorf("config example lacks sources.%s", st.Name)
		}
	}
	cfg, err := config.ParseWith([]byte(example), "example.yaml", opts)
	if err != nil {
		var ve *config.ValidationError
		errors.As(err, &ve)
		t.Fatalf("the example does not parse:\n%v", err)
	}
	for _, st := range types {
		if cfg.Sources.Get(st.Name) == nil {
			t.Errorf("sources.%s not configured by the example", st.Name)
		}
	}
	if got := strings.Join(cfg.SecretValues(), ","); !strings.Contains(got, "s3cr3t-env-NEW_RELIC_API_KEY") {
		t.Errorf("SecretValues (the redaction list) lacks a registered source's secret: %q", got)
	}
	out, err := cfg.Show()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cr3t") {
		t.Fatalf("config show prints a secret:\n%s", out)
	}
	for _, st := range types {
		if !strings.Contains(string(out), "\n  "+st.Name+":") {
			t.Errorf("config show lacks sources.%s:\n%s", st.Name, out)
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, "s3cr3t") {
			t.Fatalf("fmt %s prints a secret: %s", verb, s)
		}
	}
	if !strings.Contains(string(out), "<secret>") {
		t.Error("config show masks nothing")
	}
}

// TestRegistryAnswers: the registry says which sources are configured and
// how often each polls.
func TestRegistryAnswers(t *testing.T) {
	r := all.Registry()
	doc := "me: {github: alice}\nsources:\n  github: {token: t, repos: [acme/a], interval: 15m}\n  newrelic: {api_key: k, account_id: 1, interval: 2h}\n"
	cfg, err := r.Parse([]byte(doc), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Configured(cfg), ","); got != "github,newrelic" {
		t.Errorf("configured %q", got)
	}
	if got := r.Interval(cfg, "newrelic").String(); got != "2h0m0s" {
		t.Errorf("newrelic interval %s", got)
	}
}
