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

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/server"
	"github.com/impact-dev/impact/store"
)

// TestSameOutputThroughDaemon: while another process holds the store and
// serves the API (here: this test, with the daemon's handler), every
// command prints exactly what it prints on the store directly — data,
// errors and exit codes.
func TestSameOutputThroughDaemon(t *testing.T) {
	demoCfg := demoStore(t)
	db := strings.TrimSuffix(demoCfg, ".yaml")
	sock := filepath.Join(t.TempDir(), "impact.sock")
	raw, err := os.ReadFile(demoCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, append(raw, []byte("server:\n  listen: unix:"+sock+"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, _ := run(t, "--config", cfgPath, "drafts", "list", "-o", "json")
	var ds []map[string]any
	if err := json.Unmarshal([]byte(out), &ds); err != nil || len(ds) < 2 {
		t.Fatalf("demo drafts: %v %s", err, out)
	}
	id := ds[0]["id"].(string)

	cmds := [][]string{
		{"drafts", "list"},
		{"drafts", "list", "-o", "json"},
		{"drafts", "list", "--status", "all", "-o", "markdown"},
		{"drafts", "list", "--status", "accepted"},
		{"drafts", "list", "--category", "performance", "--since", "60d", "-o", "json"},
		{"drafts", "show", id},
		{"drafts", "show", id[:5], "-o", "json"},
		{"drafts", "show", "ffffffff"},
		{"drafts", "accept", "ffffffff", "eeeeeeee"},
		{"export"},
		{"export", "-f", "json", "--status", "all"},
		{"export", "-f", "csv", "--since", "30d", "--status", "pending"},
		{"status"},
		{"status", "-o", "json"},
		{"collect"},
		{"collect", "--source", "nope"},
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

	// Hold the store and serve it, as `impact serve` does.
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, cleanup, err := server.Listen(context.Background(), cfg.Server)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: server.New(server.Options{
		Backend: &backend.Local{Store: st, Config: cfg, KeepOpen: true, Now: func() time.Time { return demoEnd.Add(time.Hour) }},
		Info:    func() backend.Info { return backend.Info{Store: st.Path()} },
	})}
	go srv.Serve(ln)
	stopServer := func() { srv.Close(); cleanup() }
	defer stopServer()

	for i, c := range cmds {
		o, e, code := run(t, append([]string{"--config", cfgPath}, c...)...)
		d := direct[i]
		if o != d.out || e != d.errOut || code != d.code {
			t.Errorf("impact %s differs through the daemon:\n--- store (exit %d)\n%s%s--- daemon (exit %d)\n%s%s",
				strings.Join(c, " "), d.code, d.out, d.errOut, code, o, e)
		}
	}

	// Decisions through the daemon land in the store.
	o, e, code := run(t, "--config", cfgPath, "drafts", "accept", id, "--text", "Did the thing.")
	if code != 0 || o != "accepted "+id+": Did the thing.\n" {
		t.Errorf("accept through the daemon: %d %q %q", code, o, e)
	}
	d, err := st.Draft(context.Background(), id)
	if err != nil || d.Status != "accepted" || d.Text != "Did the thing." {
		t.Errorf("the store did not get the decision: %v %+v", err, d)
	}

	// The store held and no daemon: a one-line error that says so.
	stopServer()
	start := time.Now()
	_, e, code = run(t, "--config", cfgPath, "drafts", "list")
	if code != 1 || !strings.Contains(e, "is held by another process and no daemon answers at unix:"+sock) ||
		strings.Count(strings.TrimSpace(e), "\n") > 0 {
		t.Errorf("held store, no daemon: exit %d, %q", code, e)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("giving up took %v", took)
	}
	st.Close()
	if _, e, code := run(t, "--config", cfgPath, "drafts", "show", id); code != 0 {
		t.Errorf("store free again: %d %s", code, e)
	}
}
