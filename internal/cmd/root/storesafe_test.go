package root

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impact-dev/impact/internal/storetest"
)

// storeConfig writes a config for the store at db (a unix socket for the
// API, no review page) and returns its path.
func storeConfig(t *testing.T, dir, db string) string {
	t.Helper()
	cfg := filepath.Join(dir, "impact.yaml")
	doc := "me:\n  github: alice\n  timezone: UTC\nstore:\n  path: " + db +
		"\nserver:\n  listen: unix:" + filepath.Join(dir, "impact.sock") + "\nui:\n  listen: 127.0.0.1:0\n" +
		"digest:\n  to: [bob@example.com]\n  from: impact@example.com\n  smtp:\n    host: 127.0.0.1\n    port: 1\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestStoreSafety, corrupt: every command that uses the store, serve
// included, answers a damaged store with one line naming it and the backup
// to restore from, and exit 3 — never a panic, never a new empty store.
//
// TestStoreSafety, read-only: the commands that only read never create a store
// or its directory, and work with read access alone.
//
// Both share one demo store (a demo run is the slow part).
func TestStoreSafety(t *testing.T) {
	demoDB := strings.TrimSuffix(demoStore(t), ".yaml")
	good, err := os.ReadFile(demoDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("corrupt", func(t *testing.T) { corruptStoreEveryCommand(t, good) })
	t.Run("read-only", func(t *testing.T) { readOnlyCommands(t, good) })
}

func corruptStoreEveryCommand(t *testing.T, good []byte) {
	commands := [][]string{
		{"drafts", "list"}, {"drafts", "show", "abcd"}, {"drafts", "accept", "abcd"}, {"drafts", "reject", "abcd"},
		{"drafts", "edit", "abcd"},
		{"wins", "list"}, {"wins", "add", "Led the thing", "--date", "2026-11-03"}, {"wins", "edit", "wabc", "--text", "x"}, {"wins", "rm", "wabc"},
		{"status"}, {"export"}, {"export", "--period", "2026-H2"}, {"explain", "github.prs_merged"},
		{"digest", "preview"}, {"digest", "send", "--week", "2026-W48"},
		{"collect"}, {"review", "--no-browser"}, {"store", "check"}, {"serve"},
	}
	for _, kind := range storetest.Kinds {
		t.Run(kind.Name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "impact.db")
			damaged := storetest.Corrupt(good, kind.Name, 0)
			backup := db + ".bak-daily-20261122"
			if err := os.WriteFile(backup, good, 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := storeConfig(t, dir, db)
			for _, args := range commands {
				if !kind.MustDetect && (args[0] == "serve" || args[0] == "review") {
					// Damage no check sees leaves a working store: these
					// would run until stopped.
					continue
				}
				if err := os.WriteFile(db, damaged, 0o600); err != nil {
					t.Fatal(err)
				}
				out, errOut, code := run(t, append([]string{"--config", cfg}, args...)...)
				line := strings.TrimSpace(errOut)
				if i := strings.LastIndex(line, "\n"); i >= 0 && args[0] == "serve" {
					line = line[i+1:] // serve logs before it fails
				}
				if code == 0 && !kind.MustDetect {
					continue // damage no check sees, in records this command does not read
				}
				if code != 3 || strings.Contains(line, "\n") || !strings.Contains(line, db+" is damaged") ||
					!strings.Contains(line, "restore from the backup at "+backup) {
					t.Errorf("%s: exit %d, stderr %q, stdout %.100q; want exit 3 and one line naming the store and its backup", strings.Join(args, " "), code, errOut, out)
				}
				if after, _ := os.ReadFile(db); string(after) != string(damaged) {
					t.Errorf("%s: the damaged file was changed", strings.Join(args, " "))
				}
			}
		})
	}
	// The damaged store restored, the commands work again.
	dir := t.TempDir()
	db := filepath.Join(dir, "impact.db")
	os.WriteFile(db, storetest.Corrupt(good, "zero-length", 0), 0o600)
	os.WriteFile(db+".bak-daily-20261122", good, 0o600)
	cfg := storeConfig(t, dir, db)
	if out, errOut, code := run(t, "--config", cfg, "store", "restore"); code != 0 || !strings.Contains(out, "restored "+db+" from "+db+".bak-daily-20261122") {
		t.Fatalf("restore: %d %s %s", code, out, errOut)
	}
	if out, errOut, code := run(t, "--config", cfg, "store", "check"); code != 0 || !strings.Contains(out, "ok (schema v") {
		t.Errorf("check after restore: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "--config", cfg, "drafts", "list"); code != 0 {
		t.Errorf("drafts list after restore: %d %s", code, errOut)
	}
}

func readOnlyCommands(t *testing.T, good []byte) {
	reads := [][]string{
		{"drafts", "list"}, {"drafts", "show", "abcd"}, {"status"}, {"export"}, {"explain", "github.prs_merged"},
		{"digest", "preview"}, {"wins", "list"}, {"store", "check"},
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "nowhere", "impact.db")
	cfg := storeConfig(t, dir, missing)
	for _, args := range reads {
		_, errOut, code := run(t, append([]string{"--config", cfg}, args...)...)
		if code != 1 || !strings.Contains(errOut, "no store at "+missing+`; run "impact collect" first`) {
			t.Errorf("%s on a wrong path: exit %d, %q", strings.Join(args, " "), code, errOut)
		}
		if _, err := os.Stat(filepath.Dir(missing)); err == nil {
			t.Fatalf("%s created %s", strings.Join(args, " "), filepath.Dir(missing))
		}
	}

	// Read access only: a 0400 file in a 0500 directory.
	roDir := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(roDir, 0o700)
	db := filepath.Join(roDir, "impact.db")
	os.WriteFile(db, good, 0o400)
	cfg = storeConfig(t, t.TempDir(), db)
	os.Chmod(roDir, 0o500)
	t.Cleanup(func() { os.Chmod(roDir, 0o700) })
	if os.Geteuid() == 0 {
		t.Log("running as root: permissions do not bind, only the no-write behaviour is checked")
	}
	for _, args := range reads {
		_, errOut, code := run(t, append([]string{"--config", cfg}, args...)...)
		switch {
		case args[0] == "drafts" && args[1] == "show":
			// An unknown id, found to be unknown in the store.
			if code != 1 || !strings.Contains(errOut, `draft "abcd" not found`) {
				t.Errorf("drafts show on a read-only store: exit %d, %q", code, errOut)
			}
		case args[0] == "explain":
			// The demo config names no metric: the series list comes from the store.
			if code != 2 || !strings.Contains(errOut, "unknown metric") {
				t.Errorf("explain on a read-only store: exit %d, %q", code, errOut)
			}
		case code != 0:
			t.Errorf("%s on a read-only store: exit %d, %q", strings.Join(args, " "), code, errOut)
		}
	}
	if after, _ := os.ReadFile(db); string(after) != string(good) {
		t.Errorf("a read-only command changed the store")
	}
	if ents, _ := os.ReadDir(roDir); len(ents) != 1 {
		t.Errorf("a read-only command wrote beside the store: %v", ents)
	}
}
