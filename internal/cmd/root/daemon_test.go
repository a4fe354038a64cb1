package root

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/all"
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
	// The digest goes to a fake SMTP server; digest.to stays empty, so a
	// send without --to is the "no recipients" error.
	smtpPort, delivered := fakeSMTP(t)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	extra := "server:\n  listen: unix:" + sock + "\n" +
		"digest:\n  from: impact@example.com\n  smtp: {host: 127.0.0.1, port: " + strconv.Itoa(smtpPort) + ", tls: none}\n"
	if err := os.WriteFile(cfgPath, append(raw, []byte(extra)...), 0o600); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(t.TempDir(), "digest.html")
	out, _, _ := run(t, "--config", cfgPath, "drafts", "list", "-o", "json")
	var ds []map[string]any
	if err := json.Unmarshal([]byte(out), &ds); err != nil || len(ds) < 2 {
		t.Fatalf("demo drafts: %v %s", err, out)
	}
	id := ds[0]["id"].(string)
	winText := "Led the failover incident response: 4 teams, post-mortem with 12 action items"
	winID := store.WinID(winText, time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), demoEnd.Add(time.Hour))

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
		{"wins", "list"},
		{"wins", "add", winText, "--date", "2026-11-03", "--link", "https://wiki.example.com/pm/42", "--pr", "acme/search-api#1234"},
		{"wins", "add", winText, "--date", "2026-11-03"}, // the same instant: refused
		{"wins", "add", "Mentored two engineers", "--pr", "nope"},
		{"wins", "add", "Mentored two engineers", "--metric", "nope"},
		{"wins", "list"},
		{"wins", "list", "-o", "json"},
		{"wins", "edit", winID, "--category", "reliability", "--metric", "pagerduty.pages_to_me"},
		{"wins", "edit", winID[:5], "--text", "Led the failover incident response", "-o", "json"},
		{"drafts", "show", winID},
		{"drafts", "list", "--status", "all"},
		{"wins", "rm", id}, // a measured draft: refused
		{"wins", "edit", id, "--text", "x"},
		{"export", "--period", "2026-H2"},
		{"export", "--period", "2026-H2", "--level", "senior", "--status", "all"},
		{"export", "--period", "2026-H2", "--level", "staff", "-f", "json"},
		{"export", "--period", "2026-H2", "-f", "csv", "--status", "all"},
		{"export", "--period", "2026-H2", "--since", "30d"},
		{"export", "--period", "2026-H9"},
		{"export", "--level", "cto"},
		{"wins", "rm", winID},
		{"wins", "rm", winID},
		{"wins", "list"},
		{"status"},
		{"status", "-o", "json"},
		{"explain", "pagerduty.pages_to_me"}, // not configured here: see TestExplain for real answers
		{"explain", "nope", "-o", "json"},
		{"collect"},
		{"collect", "--source", "nope"},
		{"digest", "preview"},
		{"digest", "preview", "--week", "2026-W47"},
		{"digest", "preview", "--week", "2026-W48", "--html", html},
		{"digest", "preview", "--week", "2026-W20"},
		{"digest", "preview", "--week", "2026-48"},
		{"digest", "send", "--week", "2026-W48"}, // no recipients
		{"digest", "send", "--week", "2026-W48", "--to", "bob@example.com"},
		{"digest", "send", "--week", "2026-W48", "--to", "bob@example.com"}, // already sent
		{"digest", "send", "--week", "2026-W20", "--to", "bob@example.com"}, // empty: skipped
		{"status"},
		{"status", "-o", "json"},
		{"drafts", "reject", id, "--reason", "not mine"},
		{"drafts", "accept", id},
		{"drafts", "show", id, "-o", "json"},
	}
	type result struct {
		out, errOut string
		code        int
	}
	// The sends change the store: both rounds start from the same file.
	pristine, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	direct := make([]result, len(cmds))
	for i, c := range cmds {
		o, e, code := run(t, append([]string{"--config", cfgPath}, c...)...)
		direct[i] = result{o, e, code}
	}
	directHTML, err := os.ReadFile(html)
	if err != nil || len(directHTML) < 10_000 {
		t.Fatalf("digest preview --html: %v, %d bytes", err, len(directHTML))
	}
	os.Remove(html)
	if n := delivered(); n != 1 {
		t.Fatalf("the direct round delivered %d digests, want 1", n)
	}
	// The comparison is not of errors alone.
	for i, c := range cmds {
		if c[0] == "digest" && slices.Contains(c, "--to") && direct[i].code != 0 {
			t.Fatalf("impact %s: exit %d: %s", strings.Join(c, " "), direct[i].code, direct[i].errOut)
		}
	}
	// nth is the direct result of the nth (from 1) run of the command.
	nth := func(n int, args ...string) result {
		for i, c := range cmds {
			if slices.Equal(c, args) {
				if n--; n == 0 {
					return direct[i]
				}
			}
		}
		t.Fatalf("no run %d of %v", n, args)
		return result{}
	}
	toBob := []string{"digest", "send", "--week", "2026-W48", "--to", "bob@example.com"}
	for want, got := range map[string]string{
		"11 drafts to review":                            nth(1, "digest", "preview").out,
		"Sent the digest of 2026-W48 to bob@":            nth(1, toBob...).out,
		"The digest of 2026-W48 was already":             nth(2, toBob...).out,
		"Nothing moved in 2026-W20":                      nth(1, "digest", "send", "--week", "2026-W20", "--to", "bob@example.com").out,
		"\ndigest  2026-W48 sent at 2026-11-23":          nth(2, "status").out,
		`"digest": {`:                                    nth(2, "status", "-o", "json").out,
		"digest: no recipients":                          nth(1, "digest", "send", "--week", "2026-W48").errOut,
		"accepted " + id + " (was rejected: not mine): ": nth(1, "drafts", "accept", id).out,
		`"history": [`:                                   nth(1, "drafts", "show", id, "-o", "json").out,
		"added " + winID + " [leadership, 2026-11-03]":   nth(1, "wins", "add", winText, "--date", "2026-11-03", "--link", "https://wiki.example.com/pm/42", "--pr", "acme/search-api#1234").out,
		"already exists":                                 nth(1, "wins", "add", winText, "--date", "2026-11-03").errOut,
		"## Security & reliability\n\n- Led the failover incident response — [acme/search-api#1234](https://github.com/acme/search-api/pull/1234) [link](https://wiki.example.com/pm/42) _(manual)_": nth(1, "export", "--period", "2026-H2").out,
		"not a manual win": nth(1, "wins", "rm", id).errOut,
		"removed " + winID: nth(1, "wins", "rm", winID).out,
		"not found":        nth(2, "wins", "rm", winID).errOut,
		"Led the incident review of the checkout outage": nth(3, "wins", "list").out,
		"accepted  manual": nth(1, "drafts", "list", "--status", "all").out,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
	if err := os.WriteFile(db, pristine, 0o600); err != nil {
		t.Fatal(err)
	}

	// Hold the store and serve it, as `impact serve` does.
	cfg, err := all.Registry().Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, store.Options{Now: func() time.Time { return demoEnd.Add(time.Hour) }})
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
		// The daemon's digest.to: the API sends only there (this CLI's
		// config has none, so a plain send is "no recipients" on both sides).
		Recipients: func() []string { return []string{"Bob <bob@example.com>"} },
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

	if b, err := os.ReadFile(html); err != nil || string(b) != string(directHTML) {
		t.Errorf("digest preview --html through the daemon wrote %d bytes (%v), not the %d written directly", len(b), err, len(directHTML))
	}
	if n := delivered(); n != 2 {
		t.Errorf("%d digests delivered, want 2 (one per round)", n)
	}

	// The API mails no one outside digest.to, whatever --to says.
	if o, e, code := run(t, "--config", cfgPath, "digest", "send", "--week", "2026-W47", "--to", "eve@evil.example", "--force"); code == 0 || !strings.Contains(e, "eve@evil.example is not in digest.to") {
		t.Errorf("digest send to a stranger through the daemon: exit %d, %q %q", code, o, e)
	}
	if n := delivered(); n != 2 {
		t.Errorf("%d digests delivered after the refused send, want 2", n)
	}

	// Decisions through the daemon land in the store.
	o, e, code := run(t, "--config", cfgPath, "drafts", "accept", id, "--text", "Did the thing.")
	if code != 0 || o != "accepted "+id+" (was already accepted): Did the thing.\n" {
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

// fakeSMTP is a plain-text SMTP server on a loopback port that accepts
// every message; delivered counts them.
func fakeSMTP(t *testing.T) (port int, delivered func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				r := bufio.NewReader(c)
				fmt.Fprint(c, "220 fake ESMTP\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						fmt.Fprint(c, "250-fake\r\n250 8BITMIME\r\n")
					case cmd == "DATA":
						fmt.Fprint(c, "354 end with .\r\n")
						for line != ".\r\n" {
							if line, err = r.ReadString('\n'); err != nil {
								return
							}
						}
						n.Add(1)
						fmt.Fprint(c, "250 queued\r\n")
					case cmd == "QUIT":
						fmt.Fprint(c, "221 bye\r\n")
						return
					default:
						fmt.Fprint(c, "250 ok\r\n")
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, func() int { return int(n.Load()) }
}
