package digest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"go/build"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	gomail "github.com/wneessen/go-mail"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

// ---- Mailpit ----

// mailpitBin finds the mailpit binary: on PATH, or where `go install`
// puts it. CI installs it (.ci/run); elsewhere the tests skip.
func mailpitBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(dir, "bin", "mailpit")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	const msg = "mailpit is not on PATH or in $(go env GOPATH)/bin; install it with: go install github.com/axllent/mailpit@v1.33.1"
	if os.Getenv("IMPACT_REQUIRE_MAILPIT") != "" {
		t.Fatal(msg + " (IMPACT_REQUIRE_MAILPIT is set)")
	}
	t.Skip(msg)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type mailpit struct {
	t    *testing.T
	smtp int    // SMTP port on 127.0.0.1
	api  string // http://127.0.0.1:port
}

// startMailpit runs mailpit on loopback ports with a database in a
// temporary directory, waits until it answers, and stops it when the test
// ends.
func startMailpit(t *testing.T, args ...string) *mailpit {
	t.Helper()
	bin := mailpitBin(t)
	dir := t.TempDir()
	m := &mailpit{t: t, smtp: freePort(t)}
	httpPort := freePort(t)
	m.api = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	cmd := exec.Command(bin, append([]string{
		"--smtp", fmt.Sprintf("127.0.0.1:%d", m.smtp),
		"--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(dir, "m.db"),
		"--disable-version-check", "--quiet",
	}, args...)...)
	var logBuf syncBuffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("mailpit log:\n%s", logBuf.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(m.api + "/api/v1/info")
		if err == nil {
			resp.Body.Close()
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", m.smtp), time.Second); err == nil {
				c.Close()
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start: %v\n%s", err, logBuf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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

func (m *mailpit) do(method, path string, body any, out any) {
	m.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.api+path, rd)
	if err != nil {
		m.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		m.t.Fatalf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		if p, ok := out.(*[]byte); ok {
			*p = data
			return
		}
		if err := json.Unmarshal(data, out); err != nil {
			m.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

type mpAddress struct{ Name, Address string }

type mpSummary struct {
	ID, MessageID, Subject, Username string
	From                             *mpAddress
	To, Cc, Bcc                      []mpAddress
}

type mpPart struct {
	PartID, FileName, ContentType, ContentID string
	Size                                     int
}

type mpMessage struct {
	mpSummary
	Date                time.Time
	Text, HTML          string
	Inline, Attachments []mpPart
}

func (m *mailpit) messages() []mpSummary {
	var out struct {
		Total    int
		Messages []mpSummary
	}
	m.do("GET", "/api/v1/messages", nil, &out)
	return out.Messages
}

func (m *mailpit) message(id string) mpMessage {
	var out mpMessage
	m.do("GET", "/api/v1/message/"+id, nil, &out)
	return out
}

func (m *mailpit) headers(id string) map[string][]string {
	out := map[string][]string{}
	m.do("GET", "/api/v1/message/"+id+"/headers", nil, &out)
	return out
}

func (m *mailpit) part(id, part string) []byte {
	var out []byte
	m.do("GET", "/api/v1/message/"+id+"/part/"+part, nil, &out)
	return out
}

func (m *mailpit) chaos(trigger string, code, probability int) {
	m.do("PUT", "/api/v1/chaos", map[string]any{trigger: map[string]int{"ErrorCode": code, "Probability": probability}}, nil)
}

func header(h map[string][]string, key string) []string {
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// ---- the sending side ----

// sendEnv is a store holding the fixture's week and the deps to send it.
type sendEnv struct {
	f    fixture
	path string
	st   *store.Store
	cfg  *config.Config
	now  time.Time
}

func newSendEnv(t *testing.T) *sendEnv {
	t.Helper()
	f := newFixture(t)
	e := &sendEnv{f: f, path: filepath.Join(t.TempDir(), "impact.db"), cfg: testConfig(f.loc), now: f.in.Now}
	e.open(t)
	ctx := context.Background()
	if _, err := e.st.SaveDrafts(ctx, f.in.Drafts); err != nil {
		t.Fatal(err)
	}
	b := model.Batch{Source: "test", Samples: f.in.Samples, PRs: f.in.GitHub.PRs, Incidents: f.in.PagerDuty.Incidents, CIRuns: f.in.CI.Runs}
	if err := e.st.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *sendEnv) open(t *testing.T) {
	t.Helper()
	st, err := store.Open(e.path, store.Options{Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	t.Cleanup(func() { _ = st.Close() })
}

func (e *sendEnv) deps(m Mailer) Deps {
	return Deps{
		Config: e.cfg, Store: e.st, Mailer: m,
		Now: func() time.Time { return e.now },
		Analyze: func(context.Context) (Analysis, error) {
			return Analysis{Result: drafter.Result{Regressions: e.f.in.Regressions, Unattributed: e.f.in.Unattributed}}, nil
		},
		BackOff: backoff.NewConstantBackOff(5 * time.Millisecond),
	}
}

func plainSMTP(port int) *SMTP {
	return &SMTP{Config: config.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none"}, Timeout: 5 * time.Second}
}

// mailerFunc adapts a function to Mailer.
type mailerFunc func(ctx context.Context, m *gomail.Msg) error

func (f mailerFunc) Send(ctx context.Context, m *gomail.Msg) error { return f(ctx, m) }

func (e *sendEnv) record(t *testing.T, week string) store.DigestRecord {
	t.Helper()
	rec, err := e.st.Digest(context.Background(), week)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// ---- the tests ----

func TestSendMailpit(t *testing.T) {
	mp := startMailpit(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--enable-chaos")
	ctx := context.Background()

	t.Run("the message", func(t *testing.T) {
		e := newSendEnv(t)
		smtp := plainSMTP(mp.smtp)
		smtp.Config.Username, smtp.Config.Password = "alice", config.Secret("s3cret")
		res, err := SendWeek(ctx, e.deps(smtp), SendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != OutcomeSent || res.Week.String() != "2026-W48" || res.Record.State != store.DigestSent || res.Record.Attempts != 1 {
			t.Fatalf("result = %+v", res)
		}
		msgs := mp.messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages in mailpit, want 1", len(msgs))
		}
		sum := msgs[0]
		if sum.Username != "alice" {
			t.Errorf("SMTP AUTH user = %q, want alice", sum.Username)
		}
		if sum.From == nil || sum.From.Address != "impact@example.com" {
			t.Errorf("From = %+v", sum.From)
		}
		var to []string
		for _, a := range sum.To {
			to = append(to, a.Address)
		}
		if strings.Join(to, ",") != "alice@example.com,alice2@example.com" || len(sum.Cc) != 0 || len(sum.Bcc) != 0 {
			t.Errorf("recipients To=%v Cc=%v Bcc=%v; want exactly the configured two", sum.To, sum.Cc, sum.Bcc)
		}
		if sum.Subject != "impact — week 2026-W48: 2 drafts to review" {
			t.Errorf("Subject = %q", sum.Subject)
		}
		if sum.MessageID != res.MessageID || !strings.HasPrefix(sum.MessageID, "impact-digest-2026-W48-") {
			t.Errorf("Message-ID = %q, want %q", sum.MessageID, res.MessageID)
		}

		h := mp.headers(sum.ID)
		if v := header(h, "Bcc"); v != nil {
			t.Errorf("Bcc header: %q", v)
		}
		for k := range h {
			if strings.Contains(strings.ToLower(k), "evil") {
				t.Errorf("injected header %q", k)
			}
		}
		if d := header(h, "Date"); len(d) != 1 {
			t.Errorf("Date headers: %q", d)
		} else if got, err := mail.ParseDate(d[0]); err != nil || !got.Equal(e.now) {
			t.Errorf("Date = %q (%v), want %v", d[0], err, e.now)
		}
		if v := header(h, "Message-Id"); len(v) != 1 || v[0] != "<"+res.MessageID+">" {
			t.Errorf("Message-ID header = %q", v)
		}
		if v := header(h, "From"); len(v) != 1 || !strings.Contains(v[0], "<impact@example.com>") {
			t.Errorf("From header = %q", v)
		}

		msg := mp.message(sum.ID)
		if !strings.Contains(msg.Text, "DRAFTS TO REVIEW") || !strings.Contains(msg.Text, "impact drafts accept d1a2b3c4") {
			t.Errorf("text alternative:\n%s", msg.Text)
		}
		if !strings.Contains(msg.HTML, "<h2") || !strings.Contains(msg.HTML, "impact drafts reject e5f6a7b8") {
			t.Errorf("HTML alternative missing:\n%.500s", msg.HTML)
		}
		if strings.Contains(msg.HTML, "<script") || !strings.Contains(msg.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Error("hostile title not escaped in the delivered HTML")
		}
		if strings.Contains(msg.Text, "\r\nBcc") {
			t.Error("hostile title broke a line in the delivered text")
		}
		// The charts: inline parts whose Content-IDs the HTML refers to.
		cids := regexp.MustCompile(`src="cid:([^"]+)"`).FindAllStringSubmatch(msg.HTML, -1)
		if len(msg.Inline) != 2 || len(cids) != 2 || len(msg.Attachments) != 0 {
			t.Fatalf("inline parts %+v, attachments %+v, cid refs %v", msg.Inline, msg.Attachments, cids)
		}
		for i, p := range msg.Inline {
			if strings.Trim(p.ContentID, "<>") != cids[i][1] {
				t.Errorf("inline part %d has Content-ID %q, the HTML refers to %q", i, p.ContentID, cids[i][1])
			}
			if p.ContentType != "image/png" {
				t.Errorf("inline part %d: %s", i, p.ContentType)
			}
			if data := mp.part(sum.ID, p.PartID); !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || len(data) < 2000 {
				t.Errorf("inline part %d is not a chart PNG (%d bytes)", i, len(data))
			}
		}

		// Once and only once: a restart (the store reopened, as a new
		// process would) and a second send add no message.
		if err := e.st.Close(); err != nil {
			t.Fatal(err)
		}
		e.open(t)
		res, err = SendWeek(ctx, e.deps(plainSMTP(mp.smtp)), SendOptions{})
		if err != nil || res.Outcome != OutcomeAlreadySent || res.Record.State != store.DigestSent {
			t.Fatalf("second send: %+v, %v", res, err)
		}
		if n := len(mp.messages()); n != 1 {
			t.Fatalf("%d messages after a restart and a second send, want 1", n)
		}
		// --force sends it again, on purpose.
		res, err = SendWeek(ctx, e.deps(plainSMTP(mp.smtp)), SendOptions{Force: true})
		if err != nil || res.Outcome != OutcomeSent || res.Record.Attempts != 2 {
			t.Fatalf("forced send: %+v, %v", res, err)
		}
		if n := len(mp.messages()); n != 2 {
			t.Fatalf("%d messages after --force, want 2", n)
		}
		mp.do("DELETE", "/api/v1/messages", nil, nil)
	})

	t.Run("crash mid-send is at most once", func(t *testing.T) {
		e := newSendEnv(t)
		// A process recorded "sending" and died before recording the
		// outcome.
		if _, err := e.st.ClaimDigest(ctx, "2026-W48", "x@example.com", nil, false); err != nil {
			t.Fatal(err)
		}
		_ = e.st.Close()
		e.open(t)
		res, err := SendWeek(ctx, e.deps(plainSMTP(mp.smtp)), SendOptions{})
		if err != nil || res.Outcome != OutcomeAlreadySent || res.Record.State != store.DigestSending {
			t.Fatalf("send after a crash: %+v, %v", res, err)
		}
		if n := len(mp.messages()); n != 0 {
			t.Fatalf("%d messages, want none", n)
		}
	})

	t.Run("a failed attempt is recorded and retried", func(t *testing.T) {
		e := newSendEnv(t)
		dead := plainSMTP(freePort(t)) // nothing listens there
		calls := 0
		m := mailerFunc(func(ctx context.Context, msg *gomail.Msg) error {
			calls++
			rec := e.record(t, "2026-W48")
			if rec.State != store.DigestSending || rec.Attempts != calls {
				t.Errorf("attempt %d started with record %+v; want sending, recorded before the SMTP transaction", calls, rec)
			}
			if calls == 1 {
				return dead.Send(ctx, msg)
			}
			t.Logf("first failure: %s", rec.LastError)
			if !strings.Contains(rec.LastError, "connection refused") {
				t.Errorf("the first failure was not recorded: %+v", rec)
			}
			return plainSMTP(mp.smtp).Send(ctx, msg)
		})
		res, err := SendWeek(ctx, e.deps(m), SendOptions{})
		if err != nil || res.Outcome != OutcomeSent || calls != 2 {
			t.Fatalf("send: %+v, %v (calls %d)", res, err, calls)
		}
		if rec := e.record(t, "2026-W48"); rec.State != store.DigestSent || rec.Attempts != 2 || rec.LastError != "" {
			t.Errorf("record = %+v", rec)
		}
		if n := len(mp.messages()); n != 1 {
			t.Fatalf("%d messages, want exactly 1", n)
		}
		mp.do("DELETE", "/api/v1/messages", nil, nil)
	})

	t.Run("a 451 from the server once", func(t *testing.T) {
		e := newSendEnv(t)
		calls := 0
		real := plainSMTP(mp.smtp)
		m := mailerFunc(func(ctx context.Context, msg *gomail.Msg) error {
			calls++
			if calls == 1 {
				mp.chaos("Recipient", 451, 100)
				defer mp.chaos("Recipient", 451, 0)
			}
			return real.Send(ctx, msg)
		})
		res, err := SendWeek(ctx, e.deps(m), SendOptions{})
		if err != nil || res.Outcome != OutcomeSent || calls != 2 {
			t.Fatalf("send: %+v, %v (calls %d)", res, err, calls)
		}
		if n := len(mp.messages()); n != 1 {
			t.Fatalf("%d messages, want exactly 1", n)
		}
		mp.do("DELETE", "/api/v1/messages", nil, nil)
	})

	t.Run("a permanent failure is not retried", func(t *testing.T) {
		e := newSendEnv(t)
		mp.chaos("Authentication", 535, 100)
		defer mp.chaos("Authentication", 535, 0)
		smtp := plainSMTP(mp.smtp)
		smtp.Config.Username, smtp.Config.Password = "alice", config.Secret("wrong")
		res, err := SendWeek(ctx, e.deps(smtp), SendOptions{})
		var se *SendError
		if !errors.As(err, &se) || se.Temporary {
			t.Fatalf("err = %v (%T), want a permanent *SendError", err, err)
		}
		t.Logf("error: %v", err)
		want := fmt.Sprintf("digest: smtp 127.0.0.1:%d: ", mp.smtp)
		if msg := err.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "535") || strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "wrong") {
			t.Errorf("error %q: want one line starting %q with the 535 and without the password", msg, want)
		}
		if res == nil || res.Record.State != store.DigestFailed || res.Record.Attempts != 1 || !strings.Contains(res.Record.LastError, "535") {
			t.Errorf("record = %+v", res)
		}
		if n := len(mp.messages()); n != 0 {
			t.Fatalf("%d messages, want none", n)
		}
		// The week can be retried later; it is "failed", not done.
		mp.chaos("Authentication", 535, 0)
		res, err = SendWeek(ctx, e.deps(smtp), SendOptions{})
		if err != nil || res.Outcome != OutcomeSent || res.Record.Attempts != 2 {
			t.Fatalf("retry later: %+v, %v", res, err)
		}
		mp.do("DELETE", "/api/v1/messages", nil, nil)
	})

	t.Run("STARTTLS is mandatory", func(t *testing.T) {
		e := newSendEnv(t)
		smtp := plainSMTP(mp.smtp)
		smtp.Config.TLS = "starttls"
		_, err := SendWeek(ctx, e.deps(smtp), SendOptions{})
		t.Logf("error: %v", err)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v, want a STARTTLS error", err)
		}
		if rec := e.record(t, "2026-W48"); rec.State != store.DigestFailed || rec.Attempts != 1 {
			t.Errorf("record = %+v (a TLS failure is not retried)", rec)
		}
		if n := len(mp.messages()); n != 0 {
			t.Fatalf("%d messages sent without TLS", n)
		}
	})

	t.Run("an empty week is skipped", func(t *testing.T) {
		e := newSendEnv(t)
		res, err := SendWeek(ctx, e.deps(plainSMTP(mp.smtp)), SendOptions{Week: e.f.week.Prev().Prev().Prev().Prev().Prev().Prev()})
		if err != nil || res.Outcome != OutcomeSkipped || res.Record.State != store.DigestSkipped || res.Record.Attempts != 0 {
			t.Fatalf("empty week: %+v, %v", res, err)
		}
		if n := len(mp.messages()); n != 0 {
			t.Fatalf("%d messages for an empty week", n)
		}
	})
}

func TestSendConfigErrors(t *testing.T) {
	e := newSendEnv(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		mod  func(c *config.Config)
		want string
	}{
		"no recipients": {func(c *config.Config) { c.Digest.To = nil }, "no recipients"},
		"no sender":     {func(c *config.Config) { c.Digest.From, c.Me.Email = "", "" }, "no sender"},
		"bad recipient": {func(c *config.Config) { c.Digest.To = []string{"a@example.com\r\nBcc: x@evil.example"} }, "control characters"},
		"no host":       {func(c *config.Config) { c.Digest.SMTP.Host = "" }, "digest.smtp.host is not set"},
		"plain remote":  {func(c *config.Config) { c.Digest.SMTP.Host, c.Digest.SMTP.TLS = "smtp.example.com", "none" }, "only allowed for localhost"},
	} {
		t.Run(name, func(t *testing.T) {
			e.cfg = testConfig(e.f.loc)
			e.cfg.Digest.SMTP.Host = "localhost"
			tc.mod(e.cfg)
			_, err := SendWeek(ctx, e.deps(nil), SendOptions{})
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrConfig with %q", err, tc.want)
			}
		})
	}
	if _, err := e.st.Digest(ctx, "2026-W48"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a config error recorded something: %v", err)
	}
	// The SMTP mailer refuses plain text to a remote host on its own too.
	s := &SMTP{Config: config.SMTPConfig{Host: "smtp.example.com", Port: 25, TLS: "none"}}
	if err := s.Send(ctx, gomail.NewMsg()); !errors.Is(err, ErrConfig) {
		t.Errorf("plain SMTP to a remote host: %v", err)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "[::1]", "127.1.2.3", "LOCALHOST."} {
		if !isLoopback(h) {
			t.Errorf("isLoopback(%q) = false", h)
		}
	}
	for _, h := range []string{"smtp.example.com", "10.0.0.1", "localhost.example.com", ""} {
		if isLoopback(h) {
			t.Errorf("isLoopback(%q) = true", h)
		}
	}
}

// TLS: STARTTLS and implicit TLS against Mailpit with a private CA, with
// SMTP AUTH over the encrypted connection; an untrusted certificate fails
// without retries.
func TestSendTLSMailpit(t *testing.T) {
	mailpitBin(t)
	certFile, keyFile, pool := selfSigned(t)
	ctx := context.Background()
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			flag := "--smtp-require-starttls"
			if mode == "tls" {
				flag = "--smtp-require-tls"
			}
			mp := startMailpit(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, flag, "--smtp-auth-accept-any")
			e := newSendEnv(t)
			smtp := &SMTP{Config: config.SMTPConfig{Host: "127.0.0.1", Port: mp.smtp, TLS: mode, Username: "alice", Password: "s3cret"},
				Timeout: 5 * time.Second}

			// Untrusted: the system roots do not know the test CA.
			_, err := SendWeek(ctx, e.deps(smtp), SendOptions{})
			var se *SendError
			t.Logf("error: %v", err)
			if !errors.As(err, &se) || se.Temporary || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("untrusted certificate: %v", err)
			}
			if rec := e.record(t, "2026-W48"); rec.State != store.DigestFailed || rec.Attempts != 1 {
				t.Errorf("record = %+v", rec)
			}

			smtp.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
			res, err := SendWeek(ctx, e.deps(smtp), SendOptions{})
			if err != nil || res.Outcome != OutcomeSent {
				t.Fatalf("send over %s: %+v, %v", mode, res, err)
			}
			msgs := mp.messages()
			if len(msgs) != 1 || msgs[0].Username != "alice" {
				t.Fatalf("messages = %+v", msgs)
			}
		})
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "impact test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}
