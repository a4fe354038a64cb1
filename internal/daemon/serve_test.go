package daemon_test

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/daemon/daemontest"
)

type draftJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

// TestServeConcurrentCLI runs CLI commands against a running daemon, some
// of them while a collection runs, and checks that none hangs, every one
// succeeds, and what they report is what the store holds afterwards.
func TestServeConcurrentCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, collectorstest.FakeOptions{Latency: 15 * time.Millisecond}, daemontest.ConfigOptions{Interval: time.Hour})
	p := e.start()
	e.waitReady(p, 10*time.Second)

	// The first poll backfills 90 days; the drafter follows.
	var drafts []draftJSON
	waitFor(t, 45*time.Second, "the first drafts", func() bool {
		out, _, code := e.cli(20*time.Second, "drafts", "list", "-o", "json")
		if code != 0 {
			return false
		}
		drafts = nil
		return json.Unmarshal([]byte(out), &drafts) == nil && len(drafts) >= 3
	})
	acceptID, rejectID := drafts[0].ID, drafts[1].ID

	const timeout = 30 * time.Second
	var wg sync.WaitGroup
	fail := func(format string, a ...any) { t.Errorf(format, a...) }
	// A backfill through the API, while the others read and decide.
	wg.Go(func() {
		_, errOut, code := e.cli(timeout, "collect", "--since", "60d")
		if code != 0 || !strings.Contains(errOut, "github") || !strings.Contains(errOut, "datadog") {
			fail("collect through the daemon: exit %d\n%s", code, errOut)
		}
	})
	for i := 0; i < 4; i++ {
		wg.Go(func() {
			for j := 0; j < 5; j++ {
				out, errOut, code := e.cli(timeout, "drafts", "list", "--status", "all", "-o", "json")
				var ds []draftJSON
				if code != 0 || json.Unmarshal([]byte(out), &ds) != nil || len(ds) < len(drafts) {
					fail("list during collect: exit %d, %d drafts, stderr %s", code, len(ds), errOut)
				}
			}
		})
	}
	wg.Go(func() {
		if _, errOut, code := e.cli(timeout, "drafts", "accept", acceptID, "--text", "Cut it by a lot."); code != 0 {
			fail("accept: %d %s", code, errOut)
		}
		out, _, _ := e.cli(timeout, "drafts", "show", acceptID, "-o", "json")
		var d draftJSON
		if json.Unmarshal([]byte(out), &d) != nil || d.Status != "accepted" || d.Text != "Cut it by a lot." {
			fail("accepted draft reads back as %+v", d)
		}
	})
	wg.Go(func() {
		if _, errOut, code := e.cli(timeout, "drafts", "reject", rejectID, "--reason", "not mine"); code != 0 {
			fail("reject: %d %s", code, errOut)
		}
	})
	wg.Go(func() {
		for _, args := range [][]string{{"status"}, {"status", "-o", "json"}, {"export", "-f", "json"}, {"export", "--status", "all", "-f", "csv"}} {
			if _, errOut, code := e.cli(timeout, args...); code != 0 {
				fail("%v: %d %s", args, code, errOut)
			}
		}
	})
	// An unknown id is still a one-line error with exit 1.
	wg.Go(func() {
		_, errOut, code := e.cli(timeout, "drafts", "show", "ffffffff")
		if code != 1 || !strings.Contains(errOut, `draft "ffffffff" not found`) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			fail("unknown draft through the daemon: exit %d, %q", code, errOut)
		}
	})
	wg.Wait()

	// The collect's drafter pass may still be running (it refreshes the
	// activity draft's as_of): wait until two reads a moment apart agree.
	var viaDaemon string
	waitFor(t, 30*time.Second, "the daemon's drafts to settle", func() bool {
		a, errOut, code := e.cli(timeout, "drafts", "list", "--status", "all", "-o", "json")
		if code != 0 {
			t.Fatalf("list: %s", errOut)
		}
		time.Sleep(500 * time.Millisecond)
		b, _, _ := e.cli(timeout, "drafts", "list", "--status", "all", "-o", "json")
		viaDaemon = b
		return a == b
	})
	if code, took := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("daemon exit %d after %v:\n%s", code, took, p.logs)
	}
	direct, errOut, code := e.cli(timeout, "drafts", "list", "--status", "all", "-o", "json")
	if code != 0 {
		t.Fatalf("list without daemon: %s", errOut)
	}
	if viaDaemon != direct {
		t.Errorf("the daemon and the store disagree:\nvia daemon: %s\nstore:      %s", viaDaemon, direct)
	}
	var all []draftJSON
	if err := json.Unmarshal([]byte(direct), &all); err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		switch d.ID {
		case acceptID:
			if d.Status != "accepted" || d.Text != "Cut it by a lot." {
				t.Errorf("accepted draft in the store: %+v", d)
			}
		case rejectID:
			if d.Status != "rejected" || d.Reason != "not mine" {
				t.Errorf("rejected draft in the store: %+v", d)
			}
		}
	}
	checkNoSecrets(t, p.logs.String())
}

// checkNoSecrets fails when the daemon's logs contain a configured secret.
func checkNoSecrets(t *testing.T, logs string) {
	t.Helper()
	for _, s := range []string{"fake-github-token", "fake-dd-api-key", "fake-dd-app-key", "s3cret-api-token"} {
		if strings.Contains(logs, s) {
			t.Errorf("the daemon logged the secret %q", s)
		}
	}
}

// TestSignals: SIGTERM in the middle of a collection exits 0 within 10 s;
// SIGHUP with a broken config keeps the daemon serving with the old one,
// and a good config is then picked up.
func TestSignals(t *testing.T) {
	t.Parallel()
	t.Run("SIGTERM mid-collection", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, collectorstest.FakeOptions{Latency: 300 * time.Millisecond}, daemontest.ConfigOptions{})
		p := e.start()
		e.waitReady(p, 10*time.Second)
		waitFor(t, 10*time.Second, "a vendor request in flight", func() bool { return e.vendors.Counter.Total() > 0 })
		// A CLI collect through the API is running too.
		cliDone := make(chan int, 1)
		go func() {
			_, _, code := e.cli(20*time.Second, "collect")
			cliDone <- code
		}()
		time.Sleep(400 * time.Millisecond)
		code, took := p.stop(t, syscall.SIGTERM, 10*time.Second)
		if code != 0 {
			t.Errorf("exit code %d after SIGTERM:\n%s", code, p.logs)
		}
		if took > 10*time.Second {
			t.Errorf("took %v to stop", took)
		}
		t.Logf("stopped in %v", took.Round(time.Millisecond))
		select {
		case c := <-cliDone:
			if c == 0 {
				t.Logf("the CLI collect finished before the daemon stopped")
			}
		case <-time.After(15 * time.Second):
			t.Errorf("the CLI collect hung after the daemon stopped")
		}
		// The store opens, without a daemon.
		if _, errOut, code := e.cli(10*time.Second, "status"); code != 0 {
			t.Errorf("status after stop: %d %s", code, errOut)
		}
	})
	t.Run("SIGHUP", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, collectorstest.FakeOptions{}, daemontest.ConfigOptions{Token: "s3cret-api-token"})
		p := e.start()
		e.waitReady(p, 10*time.Second)
		good, err := os.ReadFile(e.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(e.cfg, append(good, []byte("\nsurprise: [1\n")...), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the reload failure in the log", func() bool {
			return strings.Contains(p.logs.String(), "config reload failed; still running with the previous config")
		})
		if code, body := e.get("/readyz"); code != 200 {
			t.Fatalf("readyz after a bad reload: %d %s", code, body)
		}
		if code, body := e.get("/v1/status"); code != 200 {
			t.Fatalf("API after a bad reload: %d %s", code, body)
		}
		// Fix the config (and change an interval): the reload succeeds.
		co := e.opts
		co.GitHubInterval = 2 * time.Hour
		e.writeConfig(co)
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "a successful reload", func() bool {
			_, body := e.get("/metrics")
			return strings.Contains(body, `impact_config_reloads_total{result="success"} 1`) &&
				strings.Contains(body, `impact_config_reloads_total{result="failure"} 1`)
		})
		// Without the token the API refuses; the CLI sends it.
		if code, _ := httpGetNoAuth("http://" + e.listen + "/v1/status"); code != 401 {
			t.Errorf("no token: status %d, want 401", code)
		}
		if _, errOut, code := e.cli(10*time.Second, "drafts", "list", "--status", "all"); code != 0 {
			t.Errorf("CLI with token: %d %s", code, errOut)
		}
		if code, took := p.stop(t, syscall.SIGINT, 10*time.Second); code != 0 {
			t.Errorf("exit %d after SIGINT (%v)", code, took)
		}
		checkNoSecrets(t, p.logs.String())
	})
}

func httpGetNoAuth(url string) (int, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestRefusesTCPWithoutToken: every TCP listener, loopback included, needs
// server.token; without it serve refuses to start and says why.
func TestRefusesTCPWithoutToken(t *testing.T) {
	t.Parallel()
	port := strings.Split(freeAddr(t), ":")[1]
	for _, host := range []string{"0.0.0.0", "127.0.0.1"} {
		e := newEnv(t, collectorstest.FakeOptions{}, daemontest.ConfigOptions{Listen: host + ":" + port, NoToken: true})
		_, errOut, code := e.cli(10*time.Second, "serve")
		if code != 2 || !strings.Contains(errOut, "server.token") {
			t.Errorf("serve on %s without a token: exit %d, %q", host, code, errOut)
		}
	}
}
