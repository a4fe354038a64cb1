// Package configtest holds what the config loader's tests share: a fake
// environment, fake secret files and home directory, and checks that no
// secret leaks. The tests of config itself (no source registered) and of
// collectors/all (every registered source) both use it, so it imports
// nothing of the project (config's own tests could not import it
// otherwise).
package configtest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Env is the fake environment the tests parse with. Values that are
// secrets contain "SECRET" so tests can check none leaks.
var Env = map[string]string{
	"GITHUB_TOKEN":      "ghp_SECRET_github_env",
	"DD_API_KEY":        "SECRET_dd_api_env",
	"DD_APP_KEY":        "SECRET_dd_app_env",
	"PROM_TOKEN":        "SECRET_prom_env",
	"PAGERDUTY_TOKEN":   "SECRET_pd_env",
	"NEW_RELIC_API_KEY": "SECRET_nr_env",
	"HONEYCOMB_API_KEY": "SECRET_hny_env",
	"SMTP_PASSWORD":     "SECRET_smtp_env",
	"GH_LOGIN":          "alice",
	"ORG":               "acme",
	"POLL":              "5m",
	"DATA_DIR":          "/var/lib/impact",
}

// Files are the fake files behind <key>_file (ReadFile).
var Files = map[string]string{
	"/run/secrets/github_token": "ghp_SECRET_github_file\n",
	"/run/secrets/orders-dsn":   "postgres://ro:SECRET_orders_file@db.example.com/orders\n",
}

// LookupEnv reads Env, for config.LoadOptions.LookupEnv.
func LookupEnv(k string) (string, bool) { v, ok := Env[k]; return v, ok }

// ReadFile reads Files, for config.LoadOptions.ReadFile; any other name
// does not exist.
func ReadFile(name string) ([]byte, error) {
	if v, ok := Files[name]; ok {
		return []byte(v), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Home is alice's home directory, for config.LoadOptions.UserHomeDir.
func Home() (string, error) { return "/home/alice", nil }

// Secrets lists every secret the fake environment and files hold, and the
// contents of testdata/good/secrets/* of the package under test (the real
// files some test configs read).
func Secrets(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, v := range Env {
		if strings.Contains(v, "SECRET") {
			out = append(out, v)
		}
	}
	for _, v := range Files {
		out = append(out, strings.TrimSpace(v))
	}
	files, err := filepath.Glob("testdata/good/secrets/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(string(b)))
	}
	return out
}

// AssertNoSecrets fails the test when text (described by what) holds any
// of Secrets.
func AssertNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range Secrets(t) {
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret %q:\n%s", what, s, text)
		}
	}
}

// Eq fails the test when got and want print differently with %#v.
func Eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", want); g != w {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}
