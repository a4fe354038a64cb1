package digest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	gomail "github.com/wneessen/go-mail"

	"github.com/impact-dev/impact/collectors/all"
	dg "github.com/impact-dev/impact/digest"
	"github.com/impact-dev/impact/internal/cmd/demo"
	digestcmd "github.com/impact-dev/impact/internal/cmd/digest"
	"github.com/impact-dev/impact/internal/cmd/root"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/store"
)

// demoEnd is the demo's "now": Saturday of 2026-W48.
var demoEnd = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

func factory(out, errOut *bytes.Buffer, now time.Time) *cmdutil.Factory {
	return &cmdutil.Factory{
		IO:         &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		LoadConfig: all.Registry().Load,
		Now:        func() time.Time { return now },
		Logger:     slog.New(slog.DiscardHandler),
		Getenv:     func(string) string { return "" },
	}
}

var demoOnce struct {
	sync.Once
	dir string
	err error
}

// TestMain removes the shared demo store.
func TestMain(m *testing.M) {
	code := m.Run()
	if demoOnce.dir != "" {
		os.RemoveAll(demoOnce.dir)
	}
	os.Exit(code)
}

// runDemo gives each test its own copy of a demo store (the demo runs once
// per test binary) and returns the path of the config the demo wrote.
func runDemo(t *testing.T) (cfgPath string) {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "impact-digest-test-")
		if err != nil {
			demoOnce.err = err
			return
		}
		demoOnce.dir = dir
		var out, errOut bytes.Buffer
		o := &demo.Options{Store: filepath.Join(dir, "demo.db"), End: demoEnd}
		if _, err := demo.Run(context.Background(), factory(&out, &errOut, demoEnd), o); err != nil {
			demoOnce.err = fmt.Errorf("demo: %v\n%s", err, errOut.String())
			return
		}
		digestFile := filepath.Join(dir, "impact-demo-digest.html")
		if !strings.Contains(out.String(), digestFile) {
			demoOnce.err = fmt.Errorf("the demo does not print the digest's path %s:\n%s", digestFile, out.String())
		} else if b, err := os.ReadFile(digestFile); err != nil || !bytes.Contains(b, []byte("Drafts to review")) {
			demoOnce.err = fmt.Errorf("the demo's digest file: %v", err)
		}
	})
	if demoOnce.err != nil {
		t.Fatal(demoOnce.err)
	}
	dir := t.TempDir()
	db, err := os.ReadFile(filepath.Join(demoOnce.dir, "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	yml, err := os.ReadFile(filepath.Join(demoOnce.dir, "demo.db.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	yml = bytes.ReplaceAll(yml, []byte(filepath.Join(demoOnce.dir, "demo.db")), []byte(filepath.Join(dir, "demo.db")))
	if err := os.WriteFile(filepath.Join(dir, "demo.db"), db, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath = filepath.Join(dir, "demo.db.yaml")
	if err := os.WriteFile(cfgPath, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

func run(t *testing.T, now time.Time, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = root.Main(context.Background(), factory(&out, &errOut, now), args)
	return out.String(), errOut.String(), code
}

func TestPreviewDemo(t *testing.T) {
	cfgPath := runDemo(t)
	html := filepath.Join(t.TempDir(), "digest.html")
	out, errOut, code := run(t, demoEnd, "--config", cfgPath, "digest", "preview", "--html", html)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{
		"impact — week 2026-W48 (Nov 23 – 29, 2026, so far)",
		"Moved Elasticsearch query construction off the request path, reducing search API p99 latency from 1.8 s to 210 ms (−88%).",
		"Batched Kafka writes",
		"accept:  impact --config " + cfgPath + " drafts accept c1b9d315",
		"Your PRs merged",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("preview lacks %q:\n%s", s, out)
		}
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	// One chart per draft to review: the demo's week has at least the three
	// original scenarios' drafts.
	m := regexp.MustCompile(`(\d+) drafts to review`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("preview does not say how many drafts wait:\n%s", out)
	}
	want, _ := strconv.Atoi(m[1])
	if want < 3 {
		t.Errorf("%d drafts to review, want at least 3", want)
	}
	// The demo's written config has no sources, so built-in PagerDuty and CI
	// series (derived from the sources' events at draft time) get no chart
	// here; the configured metrics' drafts (stored samples) all do.
	if n := bytes.Count(b, []byte(`src="data:image/png;base64,`)); n < 3 || n > want {
		t.Errorf("the HTML has %d embedded charts, want 3 to %d", n, want)
	}
	if !strings.Contains(errOut, "wrote the HTML digest of 2026-W48 to "+html) {
		t.Errorf("stderr: %q", errOut)
	}

	// An earlier week with nothing in it is one line.
	out, _, code = run(t, demoEnd, "--config", cfgPath, "digest", "preview", "--week", "2026-W20")
	if code != 0 || out != "Nothing moved in 2026-W20 (May 11 – 17, 2026): no new drafts, no shifts, no merged PRs, pages or CI runs.\n" {
		t.Errorf("empty week: exit %d, %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	cfgPath := runDemo(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"digest", "preview", "--week", "2026-48"}, `--week "2026-48": want an ISO week like 2026-W48`},
		{[]string{"digest", "preview", "--week", "2027-W53"}, "2027 has no week 53"},
		{[]string{"digest", "send", "--week", "next"}, "want an ISO week"},
		// The demo's config has no digest: section.
		{[]string{"digest", "send", "--week", "2026-W48"}, "digest: no recipients: set digest.to in " + cfgPath},
		{[]string{"digest", "send", "--week", "2026-W48", "--to", "a@example.com\nBcc: x@evil.example"}, "control characters"},
	} {
		out, errOut, code := run(t, demoEnd, append([]string{"--config", cfgPath}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and one line with %q", tc.args, code, errOut, out, tc.want)
		}
	}
}

// mailer records what it is asked to send and fails when told to.
type mailer struct {
	sent [][]byte
	fail error
}

func (m *mailer) Send(_ context.Context, msg *gomail.Msg) error {
	if m.fail != nil {
		return m.fail
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return err
	}
	m.sent = append(m.sent, b.Bytes())
	return nil
}

func (m *mailer) Addr() string { return "smtp.example.com:587" }

func TestSend(t *testing.T) {
	cfgPath := runDemo(t)
	// Give the demo's config a digest: section.
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, []byte("digest:\n  to: [alice@example.com]\n  from: impact@example.com\n  smtp: {host: smtp.example.com, port: 587, username: alice, password: hunter2}\n")...)
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath2 := cfgPath
	send := func(m *mailer, o digestcmd.SendOptions) (string, error) {
		var out, errOut bytes.Buffer
		f := factory(&out, &errOut, demoEnd)
		f.ConfigPath = &cfgPath2
		o.Mailer, o.BackOff = m, &backoff.ZeroBackOff{}
		err := digestcmd.RunSend(context.Background(), f, &o)
		return out.String(), err
	}

	// A failing server: one line naming it, exit 1, recorded.
	failing := &mailer{fail: errors.New("dial tcp: connection refused")}
	_, err = send(failing, digestcmd.SendOptions{Week: "2026-W48"})
	if err == nil || cmdutil.ExitCode(err) != 1 || err.Error() != "digest: smtp smtp.example.com:587: dial tcp: connection refused" {
		t.Fatalf("failing send: %v (exit %d)", err, cmdutil.ExitCode(err))
	}

	m := &mailer{}
	out, err := send(m, digestcmd.SendOptions{Week: "2026-W48"})
	if err != nil || len(m.sent) != 1 || !regexp.MustCompile(`Sent the digest of 2026-W48 to alice@example.com: "impact — week 2026-W48: \d+ drafts to review"`).MatchString(out) ||
		!strings.Contains(out, "attempt 5)") {
		t.Fatalf("send: %v, %q, %d messages", err, out, len(m.sent))
	}
	out, err = send(m, digestcmd.SendOptions{Week: "2026-W48"})
	if err != nil || len(m.sent) != 1 || !strings.Contains(out, "The digest of 2026-W48 was already sent") {
		t.Fatalf("second send: %v, %q, %d messages", err, out, len(m.sent))
	}
	out, err = send(m, digestcmd.SendOptions{Week: "2026-W20"})
	if err != nil || len(m.sent) != 1 || !strings.HasPrefix(out, "Nothing moved in 2026-W20") {
		t.Fatalf("empty week: %v, %q", err, out)
	}

	// The records, as `impact status` would show them.
	cfg, err := all.Registry().Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Digests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	line := digestcmd.StatusLine(recs, time.UTC)
	if !strings.HasPrefix(line, "digest  2026-W48 sent at ") || !strings.Contains(line, "after 5 attempts") {
		t.Errorf("status line = %q", line)
	}
	if len(recs) != 2 || recs[1].Week != "2026-W20" || recs[1].State != store.DigestSkipped {
		t.Errorf("records = %+v", recs)
	}
}

// The demo week's digest renders in Chromium. With IMPACT_UPDATE_DOCS=1 the
// screenshot is saved as docs/digest-demo.png.
func TestDemoDigestScreenshot(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("IMPACT_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is not installed (IMPACT_REQUIRE_CHROMIUM is set)")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium)")
	}
	cfgPath := runDemo(t)
	cfg, err := all.Registry().Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// As run from the demo's directory: short commands in the picture.
	r, _, err := digestcmd.Preview(context.Background(), cfg, st, dg.WeekOf(demoEnd, cfg.Location()), demoEnd,
		digestcmd.Analyzer(cfg, st, func() time.Time { return demoEnd }), "impact --config demo.db.yaml")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	html := filepath.Join(dir, "digest.html")
	if err := os.WriteFile(html, []byte(r.StandaloneHTML), 0o600); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "digest-demo.png")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=720,1700", "file://"+html)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil || len(data) < 30_000 {
		t.Fatalf("screenshot: %v, %d bytes", err, len(data))
	}
	if os.Getenv("IMPACT_UPDATE_DOCS") != "" {
		docs := filepath.Join("..", "..", "..", "docs")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, "digest-demo.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/digest-demo.png (%d bytes)", len(data))
	}
}
