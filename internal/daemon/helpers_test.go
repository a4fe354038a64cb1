package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/daemon/daemontest"
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

// bin is the impact binary the tests run, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "impact-daemon-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "impact")
	build := exec.Command("go", "build", "-o", bin, "github.com/impact-dev/impact/cmd/impact")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building impact: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one test's world: fake vendors, a config file, a store path and
// a free loopback address.
type env struct {
	t       *testing.T
	dir     string
	cfg     string
	store   string
	listen  string
	vendors *daemontest.Vendors
	opts    daemontest.ConfigOptions
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newEnv(t *testing.T, vo collectorstest.FakeOptions, co daemontest.ConfigOptions) *env {
	t.Helper()
	return newEnvWith(t, vo, vo, co)
}

func newEnvWith(t *testing.T, gh, dd collectorstest.FakeOptions, co daemontest.ConfigOptions) *env {
	t.Helper()
	dir := t.TempDir()
	w := daemontest.World(time.Now(), 90)
	v := daemontest.StartVendorsWith(w, gh, dd)
	t.Cleanup(v.Close)
	e := &env{t: t, dir: dir, cfg: filepath.Join(dir, "config.yaml"), store: filepath.Join(dir, "impact.db"), vendors: v}
	if co.Listen == "" {
		co.Listen = freeAddr(t)
	}
	if co.Token == "" && !co.NoToken {
		co.Token = daemontest.DefaultToken // every TCP listen needs one
	}
	co.Store = e.store
	e.listen = co.Listen
	e.opts = co
	e.writeConfig(co)
	return e
}

func (e *env) writeConfig(co daemontest.ConfigOptions) {
	e.t.Helper()
	if err := e.vendors.WriteConfig(e.cfg, co); err != nil {
		e.t.Fatal(err)
	}
}

// daemonProc is a running `impact serve`.
type daemonProc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error
}

// start runs `impact serve` (JSON logs at debug level to a buffer).
func (e *env) start(extra ...string) *daemonProc {
	e.t.Helper()
	args := append([]string{"--config", e.cfg, "serve", "--log-format", "json", "--log-level", "debug", "--start-jitter", "-1s"}, extra...)
	cmd := exec.Command(bin, args...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	p := &daemonProc{cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitReady waits until /readyz answers 200.
func (e *env) waitReady(p *daemonProc, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			e.t.Fatalf("daemon exited early (%v):\n%s", p.err, p.logs)
		default:
		}
		resp, err := httpClient.Get("http://" + e.listen + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("daemon not ready after %v:\n%s", timeout, p.logs)
}

// signal sends sig and waits for the exit, returning the exit code and
// how long it took.
func (p *daemonProc) stop(t *testing.T, sig syscall.Signal, timeout time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("daemon still running %v after %v:\n%s", timeout, sig, p.logs)
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

// cli runs an impact command with a deadline: a command that hangs fails
// the test.
func (e *env) cli(timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config", e.cfg}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Errorf("impact %s hung (killed after %v); stderr: %s", strings.Join(args, " "), timeout, errOut.String())
		return out.String(), errOut.String(), -1
	}
	code = 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// get fetches a path of the daemon's API.
func (e *env) get(path string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.listen+path, nil)
	if e.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+e.opts.Token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// statusRuns reads /v1/status's run records.
func (e *env) status() (map[string]struct {
	LastStart   time.Time `json:"last_start"`
	LastSuccess time.Time `json:"last_success"`
	LastError   string    `json:"last_error"`
}, bool) {
	code, body := e.get("/v1/status")
	if code != 200 {
		return nil, false
	}
	var s struct {
		Runs map[string]struct {
			LastStart   time.Time `json:"last_start"`
			LastSuccess time.Time `json:"last_success"`
			LastError   string    `json:"last_error"`
		} `json:"runs"`
	}
	if json.Unmarshal([]byte(body), &s) != nil {
		return nil, false
	}
	return s.Runs, true
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}
