package review

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/daemon"
)

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

func setup(t *testing.T) (*config.Config, *cmdutil.Factory, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "impact.yaml")
	yaml := "me: {github: alice}\nstore: {path: " + filepath.Join(dir, "impact.db") + "}\nserver: {listen: 127.0.0.1:1, token: review-test-token}\nui: {listen: 127.0.0.1:0}\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := all.Registry().Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.Listen = "127.0.0.1:0" // the daemon's API on a free port
	out := &syncBuffer{}
	f := &cmdutil.Factory{
		IO:         &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: io.Discard},
		ConfigPath: &cfgPath, LoadConfig: func(string) (*config.Config, error) { return cfg, nil },
		Now: time.Now, Logger: slog.New(slog.DiscardHandler), Getenv: func(string) string { return "" },
	}
	return cfg, f, out
}

// login follows the link and reads the inbox with the session it got.
func login(t *testing.T, link string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "No drafts wait for a decision") {
		t.Fatalf("after the login link: %d\n%s", resp.StatusCode, body)
	}
	// The link works once.
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the link's second use: %d", resp.StatusCode)
	}
}

var linkRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+/login\?token=[A-Za-z0-9_-]+`)

// Without a daemon, review serves the page itself until cancelled.
func TestReviewServesWithoutDaemon(t *testing.T) {
	_, f, out := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	links := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, f, &Options{NoBrowser: true, Idle: time.Minute, OnServing: func(l string) { links <- l }})
	}()
	var link string
	select {
	case link = <-links:
	case err := <-done:
		t.Fatalf("review: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("review did not start")
	}
	if !strings.Contains(out.String(), link) || !linkRe.MatchString(link) {
		t.Errorf("printed %q, link %q", out.String(), link)
	}
	login(t, link)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("review: %v", err)
	}
}

// With a daemon holding the store, review asks it for a link and exits.
func TestReviewAsksTheDaemon(t *testing.T) {
	cfg, f, out := setup(t)
	dctx, stop := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(dctx, cfg, daemon.Options{Logger: slog.New(slog.DiscardHandler), StartJitter: -1, Hangup: make(chan os.Signal),
			OnReady: func(a net.Addr) { ready <- a }})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()
	select {
	case a := <-ready:
		c := *cfg
		c.Server.Listen = a.String() // where this daemon listens
		f.LoadConfig = func(string) (*config.Config, error) { return &c, nil }
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	}
	if err := Run(context.Background(), f, &Options{NoBrowser: true}); err != nil {
		t.Fatalf("review: %v", err)
	}
	link := linkRe.FindString(out.String())
	if link == "" {
		t.Fatalf("no link in %q", out.String())
	}
	login(t, link)
}

// ui.listen off is a usage error.
func TestReviewOff(t *testing.T) {
	cfg, f, _ := setup(t)
	cfg.UI.Listen = "off"
	err := Run(context.Background(), f, &Options{NoBrowser: true})
	if cmdutil.ExitCode(err) != 2 || !strings.Contains(err.Error(), "ui.listen is off") {
		t.Errorf("got %v", err)
	}
}
