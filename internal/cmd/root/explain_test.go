package root

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/server"
	"github.com/impact-dev/impact/store"
)

// TestExplain: `impact explain` on the demo store, with the demo's
// metrics, workflows and PagerDuty services configured (their sources
// unreachable: explain reads only the store), gives every verdict on the
// series that has it, and prints the same directly and through the daemon.
func TestExplain(t *testing.T) {
	demoCfg := demoStore(t)
	db := strings.TrimSuffix(demoCfg, ".yaml")
	sock := filepath.Join(t.TempDir(), "impact.sock")
	raw, err := os.ReadFile(demoCfg)
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	dw := world.Demo(demoEnd)
	var metrics []map[string]any
	for _, m := range dw.Metrics {
		if m.Source != "datadog" {
			continue
		}
		metrics = append(metrics, map[string]any{"id": m.ID, "name": m.Name, "source": m.Source, "query": m.Query,
			"unit": m.Unit, "better": m.Better, "repos": m.Repos, "paths": m.Paths, "category": m.Category})
	}
	doc["metrics"] = metrics
	var workflows []map[string]any
	for _, wf := range dw.Workflows {
		workflows = append(workflows, map[string]any{"repo": wf.Repo, "workflow": wf.Workflow, "branch": wf.Branch, "deploys": wf.Deploys})
	}
	doc["sources"] = map[string]any{
		"datadog":        map[string]any{"api_key": "demo", "app_key": "demo", "api_url": "http://127.0.0.1:1"},
		"github_actions": map[string]any{"token": "demo", "api_url": "http://127.0.0.1:1/", "workflows": workflows},
		"pagerduty":      map[string]any{"token": "demo", "api_url": "http://127.0.0.1:1", "services": dw.Services, "user_id": dw.PagerDutyUser},
	}
	doc["server"] = map[string]any{"listen": "unix:" + sock}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}

	cmds := [][]string{
		{"explain", "search-p99"},
		{"explain", "search-p99", "-o", "json"},
		{"explain", "ingest-throughput"},
		{"explain", "ingest-throughput", "-o", "json"},
		{"explain", "platform-db-p99"},
		{"explain", "checkout-p95", "--at", "2026-10-15"},
		{"explain", "search-p99", "--at", "2026-01-01"},
		{"explain", "pagerduty.pages_to_me"},
		{"explain", "nope"},
		{"explain"},
		{"explain", "search-p99", "--at", "yesterday"},
		{"explain", "search-p99", "-o", "csv"},
		{"explain", "checkout-p95"},
		{"explain", "search-throughput"},
		{"explain", "fraud-check-p99", "-o", "json"},
		{"explain", "dora.time_to_restore/acme/search-api"},
	}
	type result struct {
		out, errOut string
		code        int
	}
	direct := make([]result, len(cmds))
	for i, c := range cmds {
		o, e, code := run(t, append([]string{"--config", cfgPath}, c...)...)
		direct[i] = result{o, e, code}
	}
	// What the direct answers must say.
	if r := direct[0]; r.code != 0 || !strings.Contains(r.out, "search API p99 latency (search-p99)") || !strings.Contains(r.out, "— drafted ") ||
		!strings.Contains(r.out, "candidates: acme/search-api#") {
		t.Errorf("explain search-p99: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	var ex drafter.Explanation
	if err := json.Unmarshal([]byte(direct[1].out), &ex); err != nil || ex.Metric.ID != "search-p99" || len(ex.Findings) == 0 {
		t.Fatalf("explain -o json: %v %s", err, direct[1].out)
	}
	drafted := false
	for _, f := range ex.Findings {
		if f.Verdict == "" || f.Reason == "" || f.ToleranceSeconds <= 0 {
			t.Errorf("finding without verdict, reason or tolerance: %+v", f)
		}
		if f.Verdict == drafter.VerdictDrafted {
			drafted = true
			if _, e, code := run(t, "--config", cfgPath, "drafts", "show", f.DraftID); code != 0 {
				t.Errorf("drafted %s, but drafts show says: %s", f.DraftID, e)
			}
		}
	}
	if testing.Verbose() {
		t.Logf("\n%s\n%s", direct[0].out, direct[2].out)
	}
	if !drafted {
		t.Errorf("no drafted finding on search-p99: %s", direct[1].out)
	}
	if r := direct[4]; !strings.Contains(r.out, "— credited to @bob") {
		t.Errorf("platform-db-p99: want the shift credited to @bob:\n%s%s", r.out, r.errOut)
	}
	// Every verdict a user asks "why not?" about, on the series that has it.
	for i, want := range map[int]string{
		0:  "— too small\n",
		4:  "— credited to @bob\n",
		12: "— regression\n",
		13: "— drift, not a step\n",
		15: "— too little data\n",
	} {
		if r := direct[i]; r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("impact %s: exit %d, want %q in:\n%s%s", strings.Join(cmds[i], " "), r.code, want, r.out, r.errOut)
		}
	}
	var reverted drafter.Explanation
	if err := json.Unmarshal([]byte(direct[14].out), &reverted); err != nil || len(reverted.Findings) == 0 ||
		reverted.Findings[0].Verdict != drafter.VerdictNotSustained || !strings.Contains(reverted.Findings[0].Reason, "reverted") {
		t.Errorf("fraud-check-p99: want the reverted win first, not sustained: %v %s", err, direct[14].out)
	} else if c := reverted.Findings[0].Candidates; len(c) == 0 || !c[0].Mine || c[0].Role != drafter.RoleLikeliest {
		t.Errorf("fraud-check-p99: nothing drafted, so my PR is the likeliest cause, not credited: %+v", c)
	}
	if r := direct[6]; r.code != 0 || !strings.Contains(r.out, "0 shifts found near 2026-01-01") {
		t.Errorf("--at far from any shift: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	for i, want := range map[int]string{8: `unknown metric "nope"`, 9: "explain takes one metric id", 10: "--at", 11: "csv"} {
		if r := direct[i]; r.code != 2 || !strings.Contains(r.errOut, want) || strings.Count(strings.TrimSpace(r.errOut), "\n") > 0 {
			t.Errorf("impact %s: exit %d, %q (want 2 and %q)", strings.Join(cmds[i], " "), r.code, r.errOut, want)
		}
	}

	// The same through the daemon.
	cfg, err := all.Registry().Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, store.Options{Now: func() time.Time { return demoEnd.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ln, cleanup, err := server.Listen(context.Background(), cfg.Server)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: server.New(server.Options{
		Backend: &backend.Local{Store: st, Config: cfg, KeepOpen: true, Now: func() time.Time { return demoEnd.Add(time.Hour) }},
		Info:    func() backend.Info { return backend.Info{Store: st.Path()} },
	})}
	go srv.Serve(ln)
	defer func() { srv.Close(); cleanup() }()
	for i, c := range cmds {
		o, e, code := run(t, append([]string{"--config", cfgPath}, c...)...)
		d := direct[i]
		if o != d.out || e != d.errOut || code != d.code {
			t.Errorf("impact %s differs through the daemon:\n--- store (exit %d)\n%s%s--- daemon (exit %d)\n%s%s",
				strings.Join(c, " "), d.code, d.out, d.errOut, code, o, e)
		}
	}
}
