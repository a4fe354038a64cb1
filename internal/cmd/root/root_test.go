package root

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/internal/cmdutil"
)

var demoEnd = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// run executes the CLI in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{
		IO:         &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		LoadConfig: all.Registry().Load,
		Now:        func() time.Time { return demoEnd.Add(time.Hour) },
		Logger:     slog.New(slog.DiscardHandler),
		Getenv:     func(string) string { return "" },
	}
	code := Main(context.Background(), f, args)
	return out.String(), errOut.String(), code
}

// demoStore runs `impact demo --store` into a temp dir and returns the config path.
func demoStore(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "demo.db")
	if _, errOut, code := run(t, "demo", "--store", db); code != 0 {
		t.Fatalf("demo exit %d: %s", code, errOut)
	}
	return db + ".yaml"
}

func TestDraftsLifecycle(t *testing.T) {
	cfg := demoStore(t)
	out, errOut, code := run(t, "--config", cfg, "drafts", "list", "-o", "json")
	if code != 0 {
		t.Fatalf("list: %d %s", code, errOut)
	}
	var ds []map[string]any
	if err := json.Unmarshal([]byte(out), &ds); err != nil {
		t.Fatalf("list -o json is not JSON: %v\n%s", err, out)
	}
	if len(ds) < 3 {
		t.Fatalf("want ≥3 pending drafts, got %d", len(ds))
	}
	for _, field := range []string{"id", "status", "category", "text", "metric", "before", "after", "change",
		"before_window", "after_window", "p_value", "confidence", "prs", "created_at", "decided_at", "reason"} {
		if _, ok := ds[0][field]; !ok {
			t.Errorf("draft JSON lacks %q", field)
		}
	}
	m := ds[0]["metric"].(map[string]any)
	for _, field := range []string{"id", "name", "unit", "better"} {
		if _, ok := m[field]; !ok {
			t.Errorf("metric lacks %q", field)
		}
	}
	pr := ds[0]["prs"].([]any)[0].(map[string]any)
	for _, field := range []string{"repo", "number", "title", "url", "author", "merged_at"} {
		if _, ok := pr[field]; !ok {
			t.Errorf("pr lacks %q", field)
		}
	}
	if ds[0]["decided_at"] != nil {
		t.Errorf("pending draft has decided_at %v", ds[0]["decided_at"])
	}
	if _, err := time.Parse(time.RFC3339, ds[0]["created_at"].(string)); err != nil {
		t.Errorf("created_at not RFC 3339: %v", err)
	}

	acceptID, rejectID := ds[0]["id"].(string), ds[1]["id"].(string)
	edited := "Cut search p99 from 1.8 s to 210 ms by moving query construction off the request path."
	if _, errOut, code := run(t, "--config", cfg, "drafts", "accept", acceptID[:5], "--text", edited); code != 0 {
		t.Fatalf("accept: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "--config", cfg, "drafts", "reject", rejectID, "--reason", "not mine really"); code != 0 {
		t.Fatalf("reject: %d %s", code, errOut)
	}
	out, _, _ = run(t, "--config", cfg, "drafts", "show", acceptID, "-o", "json")
	var shown map[string]any
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	if shown["status"] != "accepted" || shown["text"] != edited || shown["decided_at"] == nil {
		t.Errorf("accepted draft: %v", shown)
	}

	// Drafting again over the same store (demo re-collects the same world)
	// must neither re-propose the rejected draft nor overwrite the accepted one.
	db := strings.TrimSuffix(cfg, ".yaml")
	if _, errOut, code := run(t, "demo", "--store", db); code != 0 {
		t.Fatalf("second demo: %s", errOut)
	}
	out, _, _ = run(t, "--config", cfg, "drafts", "list", "--status", "all", "-o", "json")
	var all []map[string]any
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != len(ds)+1 { // the pending drafts and the demo's manual win (accepted)
		t.Errorf("second run changed the number of drafts: %d (+1 manual win) → %d", len(ds), len(all))
	}
	for _, d := range all {
		switch d["id"] {
		case acceptID:
			if d["status"] != "accepted" || d["text"] != edited {
				t.Errorf("accepted draft overwritten: %v", d)
			}
		case rejectID:
			if d["status"] != "rejected" || d["reason"] != "not mine really" {
				t.Errorf("rejected draft re-proposed: %v", d)
			}
		}
	}

	// Export: accepted only by default, grouped by competency.
	out, _, code = run(t, "--config", cfg, "export", "-f", "json")
	if code != 0 {
		t.Fatal("export failed")
	}
	var doc struct {
		Groups []struct {
			Category string           `json:"category"`
			Title    string           `json:"title"`
			Drafts   []map[string]any `json:"drafts"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	// The accepted draft, and the manual win the demo records (accepted by
	// nature), in the leadership group after it.
	if len(doc.Groups) != 2 || len(doc.Groups[0].Drafts) != 1 || doc.Groups[0].Drafts[0]["id"] != acceptID ||
		doc.Groups[1].Category != "leadership" || len(doc.Groups[1].Drafts) != 1 || doc.Groups[1].Drafts[0]["kind"] != "manual" {
		t.Errorf("export: %s", out)
	}
	out, _, _ = run(t, "--config", cfg, "export", "-f", "csv", "--status", "all")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != len(all)+1 {
		t.Errorf("csv export: %v, %d rows", err, len(rows))
	}
	out, _, _ = run(t, "--config", cfg, "export")
	if !strings.Contains(out, "## ") || !strings.Contains(out, edited[:20]) {
		t.Errorf("markdown export:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	cfg := demoStore(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("me:\n  github: alice\n  nmae: typo\n"), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown draft", []string{"--config", cfg, "drafts", "show", "ffffffff"}, 1, `draft "ffffffff" not found`},
		{"accept unknown", []string{"--config", cfg, "drafts", "accept", "ffffffff"}, 1, `"ffffffff"`},
		{"bad output", []string{"--config", cfg, "drafts", "list", "-o", "yaml"}, 2, `unknown output format "yaml"`},
		{"bad status", []string{"--config", cfg, "drafts", "list", "--status", "done"}, 2, `--status "done"`},
		{"bad since", []string{"--config", cfg, "drafts", "list", "--since", "yesterday"}, 2, `--since "yesterday"`},
		{"bad config", []string{"--config", bad, "drafts", "list"}, 2, bad + `:3`},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml"), "drafts", "list"}, 2, "nope.yaml"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"drafts", "list", "--frob"}, 2, "unknown flag"},
		{"bad export format", []string{"--config", cfg, "export", "-f", "pdf"}, 2, `"pdf"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d containing %q", code, errOut, tt.code, tt.want)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 && tt.name != "bad config" {
				t.Errorf("error is not one line: %q", errOut)
			}
		})
	}
}

// TestUnknownSubcommands: a mistyped subcommand of any command group exits 2
// with one line on stderr naming it (and the nearest subcommand), never help
// on stdout with exit 0.
func TestUnknownSubcommands(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, `unknown command "nosuch" for "impact"`},
		{[]string{"statu"}, `did you mean "status"?`},
		{[]string{"config", "chek"}, `unknown command "chek" for "impact config"; did you mean "check"?`},
		{[]string{"drafts", "accpet"}, `did you mean "accept"?`},
		{[]string{"wins", "lst"}, `did you mean "list"?`},
		{[]string{"help", "nosuch"}, `unknown command "nosuch" for "impact"`},
		{[]string{"help", "drafts", "accpet"}, `did you mean "accept"?`},
	}
	// Every group of the tree, with a name nothing resembles.
	var groups func(c *cobra.Command)
	groups = func(c *cobra.Command) {
		if c.HasSubCommands() {
			path := strings.Fields(c.CommandPath())[1:]
			tests = append(tests, struct {
				args []string
				want string
			}{append(slices.Clone(path), "zzzzqqq"), `unknown command "zzzzqqq" for "` + c.CommandPath() + `"`})
		}
		for _, sub := range c.Commands() {
			groups(sub)
		}
	}
	groups(NewCmdRoot(&cmdutil.Factory{IO: &cmdutil.IOStreams{Out: io.Discard, ErrOut: io.Discard}}))
	if len(tests) < 9 {
		t.Fatalf("only %d cases: the walk found too few groups", len(tests))
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no stdout, stderr containing %q", code, out, errOut, tt.want)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("error is not one line: %q", errOut)
			}
		})
	}
	// A group alone still shows its help.
	if out, _, code := run(t, "drafts"); code != 0 || !strings.Contains(out, "accept") {
		t.Errorf("impact drafts: exit %d\n%s", code, out)
	}
	if out, _, code := run(t, "help", "drafts"); code != 0 || !strings.Contains(out, "accept") {
		t.Errorf("impact help drafts: exit %d\n%s", code, out)
	}
}

func TestVersionAndConfigExample(t *testing.T) {
	out, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "impact ") {
		t.Errorf("version: %d %q", code, out)
	}
	out, _, code = run(t, "config", "example")
	if code != 0 || !strings.Contains(out, "metrics:") {
		t.Errorf("config example: %d", code)
	}
}
