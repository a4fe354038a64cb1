package status

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// fake answers Status; every other Backend method is unused here.
type fake struct {
	backend.Backend
	s backend.Status
}

func (f *fake) Status(context.Context) (backend.Status, error) { return f.s, nil }
func (f *fake) Close() error                                   { return nil }

func runStatus(t *testing.T, s backend.Status, output string) string {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	yml := "me: {github: alice, timezone: Europe/Berlin}\nstore: {path: /tmp/x.db}\n" +
		"sources:\n  github: {token: t, repos: [acme/api]}\n"
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	f := &cmdutil.Factory{
		IO:         &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out},
		ConfigPath: &cfgPath,
		LoadConfig: all.Registry().Load,
		Now:        func() time.Time { return now },
		Logger:     slog.New(slog.DiscardHandler),
		Getenv:     func(string) string { return "" },
		NewBackend: func(*config.Config) (backend.Backend, error) { return &fake{s: s}, nil },
	}
	if err := Run(context.Background(), f, &Options{Output: output}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func sample() backend.Status {
	return backend.Status{
		Path: "/tmp/x.db",
		Stats: store.Stats{FileSize: 3 << 20, SchemaVersion: 1, Series: 7, Samples: 14904, PRs: 74, Deploys: 26, Incidents: 317, CIRuns: 756, Reviews: 31,
			Drafts: map[model.Status]int{model.StatusPending: 8, model.StatusAccepted: 2, model.StatusRejected: 1}},
		Runs: map[string]store.RunRecord{
			"github": {LastStart: now.Add(-5 * time.Minute), LastSuccess: now.Add(-4 * time.Minute), LastDuration: time.Minute,
				Samples: 0, Events: 74, RateLimitLimit: 5000, RateLimitRemaining: 4821, RateLimitReset: now.Add(37 * time.Minute)},
			"pagerduty": {LastStart: now.Add(-time.Hour), LastError: "pagerduty: 401 Unauthorized", ConsecutiveFailures: 3,
				LastDuration: 2 * time.Second, RateLimitLimit: 960, RateLimitRemaining: 0, RateLimitReset: now.Add(-time.Minute)},
			"prometheus": {LastStart: now.Add(-time.Hour), LastSuccess: now.Add(-time.Hour), Samples: 2160},
		},
		Digest: &store.DigestRecord{Week: "2026-W47", State: store.DigestFailed, Attempts: 4, LastError: "digest: smtp mail:587: refused",
			MessageID: "impact-digest-2026-W47-abc@example.com", UpdatedAt: now.Add(-24 * time.Hour)},
	}
}

func TestTable(t *testing.T) {
	out := runStatus(t, sample(), "table")
	for _, want := range []string{
		"store   /tmp/x.db (3.0 MiB, schema v1): 7 series, 14904 samples, 74 PRs, 26 deploys, 317 incidents, 756 CI runs, 31 reviews given; drafts: 8 pending, 2 accepted, 1 rejected\n",
		"digest  2026-W47 failed at 2026-11-22 11:00 CET after 4 attempts: digest: smtp mail:587: refused\n",
		"RATE LIMIT",
		"0 samples, 74 events",
		"4821/5000 left, resets in 37m0s",
		"0/960 left, reset 1m0s ago",
		"(3 failures in a row) pagerduty: 401 Unauthorized",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if line := lineOf(out, "prometheus"); !strings.Contains(line, "2160 samples, 0 events") || !strings.Contains(line, " - ") {
		t.Errorf("prometheus line: %q", line)
	}

	s := sample()
	s.Digest = nil
	if out := runStatus(t, s, "table"); !strings.Contains(out, "digest  not configured (digest.to is empty)\n") {
		t.Errorf("no digest:\n%s", out)
	}
}

func lineOf(out, prefix string) string {
	for l := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestJSON(t *testing.T) {
	var rep map[string]any
	if err := json.Unmarshal([]byte(runStatus(t, sample(), "json")), &rep); err != nil {
		t.Fatal(err)
	}
	st := rep["store"].(map[string]any)
	if st["incidents"] != 317.0 || st["ci_runs"] != 756.0 || st["deploys"] != 26.0 {
		t.Errorf("store: %v", st)
	}
	sources := map[string]map[string]any{}
	for _, s := range rep["sources"].([]any) {
		m := s.(map[string]any)
		sources[m["source"].(string)] = m
	}
	gh := sources["github"]
	if gh["configured"] != true || gh["last_events"] != 74.0 || gh["last_samples"] != 0.0 || gh["consecutive_failures"] != 0.0 {
		t.Errorf("github: %v", gh)
	}
	rl, _ := gh["rate_limit"].(map[string]any)
	if rl == nil || rl["limit"] != 5000.0 || rl["remaining"] != 4821.0 || rl["reset"] != "2026-11-23T10:37:00Z" {
		t.Errorf("github rate_limit: %v", gh["rate_limit"])
	}
	if pd := sources["pagerduty"]; pd["last_success"] != nil || pd["consecutive_failures"] != 3.0 || pd["rate_limit"].(map[string]any)["remaining"] != 0.0 {
		t.Errorf("pagerduty: %v", pd)
	}
	if v, ok := sources["prometheus"]["rate_limit"]; !ok || v != nil {
		t.Errorf("prometheus rate_limit: %v (present %v), want null", v, ok)
	}
	d, _ := rep["digest"].(map[string]any)
	if d == nil || d["week"] != "2026-W47" || d["state"] != "failed" || d["attempts"] != 4.0 ||
		d["last_error"] != "digest: smtp mail:587: refused" || d["updated_at"] != "2026-11-22T10:00:00Z" {
		t.Errorf("digest: %v", rep["digest"])
	}

	s := sample()
	s.Digest, s.Runs = nil, nil
	rep = nil
	if err := json.Unmarshal([]byte(runStatus(t, s, "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if v, ok := rep["digest"]; !ok || v != nil {
		t.Errorf("no digest: %v (present %v), want null", v, ok)
	}
	if srcs := rep["sources"].([]any); len(srcs) != 1 || srcs[0].(map[string]any)["rate_limit"] != nil {
		t.Errorf("never-run source: %v", srcs)
	}
}
