package root

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCollectRevokedCredentials: a vendor answering 401 to everything —
// three GitHub repos, three Datadog metrics — gives one line per source
// naming it and the HTTP status, then one summary line; no list again, no
// line per repository or metric, no secret, and one request per source.
func TestCollectRevokedCredentials(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		// Echo the credentials back, as some vendors do.
		io.WriteString(w, fmt.Sprintf(`{"message":"Bad credentials %s %s","errors":["Forbidden %s"]}`,
			r.Header.Get("Authorization"), r.Header.Get("DD-API-KEY"), r.Header.Get("DD-APPLICATION-KEY")))
	}))
	defer srv.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "impact.yaml")
	metric := func(id string) string {
		return "  - {id: " + id + ", name: " + id + ", source: datadog, query: \"avg:" + id + "{*}\", unit: ms, better: lower, repos: [acme/a]}\n"
	}
	doc := "me:\n  github: alice\nstore:\n  path: " + filepath.Join(dir, "impact.db") +
		"\nserver:\n  listen: unix:" + filepath.Join(dir, "s.sock") + "\n" +
		"sources:\n  github:\n    token: ghp_secret0123456789\n    api_url: " + srv.URL + "/\n    repos: [acme/a, acme/b, acme/c]\n" +
		"  datadog:\n    api_key: ddapi_secret0123456789\n    app_key: ddapp_secret0123456789\n    api_url: " + srv.URL + "\n" +
		"metrics:\n" + metric("m1") + metric("m2") + metric("m3")
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "--config", cfg, "collect", "--no-draft")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want one per source and a summary:\n%s", len(lines), errOut)
	}
	perSource := slices.Sorted(slices.Values(lines[:2])) // sources run in parallel
	for i, src := range []string{"datadog", "github"} {
		if !strings.HasPrefix(perSource[i], src+" ") || !strings.Contains(perSource[i], "401") {
			t.Errorf("line %q: want the %s source and its HTTP status", perSource[i], src)
		}
	}
	if lines[2] != "impact: 2 of 2 sources failed" {
		t.Errorf("summary %q", lines[2])
	}
	for _, secret := range []string{"ghp_secret0123456789", "ddapi_secret0123456789", "ddapp_secret0123456789"} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("a secret was printed: %s", errOut)
		}
	}
	if n := requests.Load(); n > 2 {
		t.Errorf("%d requests after the first 401s, want one per source", n)
	}
}
