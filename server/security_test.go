package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/daemonauth"
	"github.com/impact-dev/impact/server"
	"github.com/impact-dev/impact/store"
)

// TestSocketAndDirectoryModes: the socket is 0600 and its own directory
// (named impact, as the default's) 0700, whether Listen creates it or finds
// it too open.
func TestSocketAndDirectoryModes(t *testing.T) {
	for _, tt := range []struct {
		name    string
		prepare func(dir string) error
	}{
		{"created", func(string) error { return nil }},
		{"found too open", func(dir string) error { return os.Mkdir(dir, 0o755) }},
		{"found group-writable", func(dir string) error {
			if err := os.Mkdir(dir, 0o700); err != nil {
				return err
			}
			return os.Chmod(dir, 0o770)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run", "impact")
			if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := tt.prepare(dir); err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(dir, "impact.sock")
			ln, cleanup, err := server.Listen(context.Background(), config.ServerConfig{Listen: "unix:" + sock})
			if err != nil {
				t.Fatal(err)
			}
			defer cleanup()
			defer ln.Close()
			for path, want := range map[string]os.FileMode{sock: 0o600, dir: 0o700} {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
				}
			}
		})
	}
}

// TestDefaultListenIsAPrivateSocket: the listen address of a config that
// says nothing is a unix socket, which Listen serves with those modes.
func TestDefaultListenIsAPrivateSocket(t *testing.T) {
	run := t.TempDir()
	env := map[string]string{"XDG_RUNTIME_DIR": run}
	cfg, err := config.ParseWith([]byte("me: {github: alice}\n"), "c.yaml", config.LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(run, "impact", "impact.sock")
	if cfg.Server.Listen != "unix:"+sock {
		t.Fatalf("default server.listen = %q, want unix:%s", cfg.Server.Listen, sock)
	}
	if err := server.CheckListen(cfg.Server); err != nil {
		t.Fatal(err)
	}
	ln, cleanup, err := server.Listen(context.Background(), cfg.Server)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	defer ln.Close()
	for path, want := range map[string]os.FileMode{sock: 0o600, filepath.Dir(sock): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

// TestEveryTCPListenNeedsAToken: the daemon refuses to listen on any TCP
// address without a token, loopback included.
func TestEveryTCPListenNeedsAToken(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0", "0.0.0.0:0", ":0"} {
		if _, _, err := server.Listen(context.Background(), config.ServerConfig{Listen: listen}); err == nil || !strings.Contains(err.Error(), "without server.token") {
			t.Errorf("%s without a token: %v", listen, err)
		}
	}
	ln, cleanup, err := server.Listen(context.Background(), config.ServerConfig{Listen: "127.0.0.1:0", Token: "t0k"})
	if err != nil {
		t.Fatalf("loopback with a token: %v", err)
	}
	ln.Close()
	cleanup()
}

// tcpDaemon serves the API on loopback TCP with a token and the store's
// secret, and counts the requests that reach the handler.
func tcpDaemon(t *testing.T, st *store.Store, token string) (addr string, hits *atomic.Int64) {
	t.Helper()
	secret, err := daemonauth.Ensure(st.Path())
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Options{
		Backend:     &backend.Local{Store: st, KeepOpen: true},
		Info:        func() backend.Info { return backend.Info{Store: st.Path(), Version: "test"} },
		Token:       func() string { return token },
		CheckHost:   true,
		StoreSecret: secret,
	})
	hits = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), hits
}

// TestClientTrustsOnlyTheStoresDaemon: over TCP the client sends its token
// only after the daemon proved it holds the store; an impostor (another
// user's listener: it cannot read the store's secret) gets the challenge
// and nothing else, and its answers never reach the caller.
func TestClientTrustsOnlyTheStoresDaemon(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	const token = "tok-secret-123"

	t.Run("the real daemon", func(t *testing.T) {
		addr, _ := tcpDaemon(t, st, token)
		c := backend.NewClient(config.ServerConfig{Listen: addr, Token: token}, st.Path())
		defer c.Close()
		if ds, err := c.Drafts(ctx, store.DraftFilter{}); err != nil || len(ds) != 5 {
			t.Fatalf("drafts: %v (%d)", err, len(ds))
		}
	})

	impostors := map[string]func(nonce string) (int, string){
		"no hello":      func(string) (int, string) { return 404, `{"error":"no such endpoint","kind":"not_found"}` },
		"a wrong proof": func(string) (int, string) { return 200, `{"proof":"` + strings.Repeat("ab", 32) + `"}` },
		"the proof of another store's secret": func(nonce string) (int, string) {
			return 200, `{"proof":"` + daemonauth.Proof([]byte(strings.Repeat("x", 64)), nonce) + `"}`
		},
		"echoing the nonce": func(nonce string) (int, string) { return 200, `{"proof":"` + nonce + `"}` },
	}
	if _, err := daemonauth.Ensure(st.Path()); err != nil {
		t.Fatal(err)
	}
	for name, answer := range impostors {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			imp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == backend.PathHello {
					code, body := answer(r.URL.Query().Get("nonce"))
					w.WriteHeader(code)
					io.WriteString(w, body)
					return
				}
				io.WriteString(w, `[{"id":"fake0001","text":"Impostor's draft"}]`)
			}))
			defer imp.Close()
			c := backend.NewClient(config.ServerConfig{Listen: imp.Listener.Addr().String(), Token: token}, st.Path())
			defer c.Close()
			ds, err := c.Drafts(ctx, store.DraftFilter{})
			var ue *backend.UntrustedError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "could not prove it holds the store") {
				t.Errorf("err = %v, want a refusal", err)
			}
			if len(ds) != 0 {
				t.Errorf("the impostor's drafts reached the caller: %+v", ds)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range seen {
				if strings.Contains(s, token) || !strings.HasPrefix(s, "GET "+backend.PathHello+" ") {
					t.Errorf("the impostor received %q", s)
				}
			}
		})
	}

	t.Run("no secret to check against", func(t *testing.T) {
		addr, hits := tcpDaemon(t, st, token)
		other := filepath.Join(t.TempDir(), "other.db")
		c := backend.NewClient(config.ServerConfig{Listen: addr, Token: token}, other)
		defer c.Close()
		if _, err := c.Info(ctx); err == nil || !strings.Contains(err.Error(), "cannot check that it holds the store") {
			t.Errorf("err = %v", err)
		}
		if hits.Load() != 0 {
			t.Errorf("%d requests reached the daemon", hits.Load())
		}
	})
}

// TestClientRefusesAnotherUsersSocket: a unix socket whose listening
// process is not this user's is refused before a byte is sent. (CI has no
// second uid: the client is told to expect another one.)
func TestClientRefusesAnotherUsersSocket(t *testing.T) {
	st := testStore(t)
	var hits atomic.Int64
	sock := filepath.Join(t.TempDir(), "impact.sock")
	sc := config.ServerConfig{Listen: "unix:" + sock, Token: "tok-1"}
	ln, cleanup, err := server.Listen(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	h := server.New(server.Options{Backend: &backend.Local{Store: st, KeepOpen: true}, Token: func() string { return "tok-1" }})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); h.ServeHTTP(w, r) })}
	go srv.Serve(ln)
	defer srv.Close()

	c := backend.NewClient(sc, st.Path())
	defer c.Close()
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("this user's socket: %v", err)
	}
	c2 := backend.NewClient(sc, st.Path())
	defer c2.Close()
	c2.WantUID = os.Getuid() + 1
	_, err = c2.Status(context.Background())
	var ue *backend.UntrustedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), fmt.Sprintf("runs as uid %d, not as you", os.Getuid())) {
		t.Errorf("err = %v, want a refusal naming the uid", err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests reached the server, want 1 (the trusted client's)", hits.Load())
	}
}

// TestDigestRecipientsRefused: POST /v1/digest/send with a "to" outside
// digest.to is refused (403) before anything is sent or recorded.
func TestDigestRecipientsRefused(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	smtp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	var dials atomic.Int64
	go func() {
		for {
			c, err := smtp.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			c.Close()
		}
	}()
	host, port, _ := net.SplitHostPort(smtp.Addr().String())
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	yml := "me: {github: alice, email: alice@example.com}\nstore: {path: " + st.Path() + "}\n" +
		"digest: {to: [\"Alice <alice@example.com>\"], smtp: {host: " + host + ", port: " + port + ", tls: none}}\n"
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	be := &backend.Local{Store: st, KeepOpen: true, Now: func() time.Time { return t0 }, ConfigFunc: func() *config.Config { return cfg }}
	remote, sock := serveBackend(t, be, st.Path(), "", cfg.Digest.To...)
	for _, to := range [][]string{
		{"attacker@evil.example"},
		{"alice@example.com", "attacker@evil.example"},
		{"alice@example.com, attacker@evil.example"},
		{"Alice <ALICE@example.com.evil.example>"},
	} {
		_, err := remote.SendDigest(ctx, backend.DigestSendRequest{Week: "2026-W40", To: to, Force: true})
		var re *backend.RemoteError
		if !errors.As(err, &re) || re.Status != http.StatusForbidden || !strings.Contains(err.Error(), "is not in digest.to") {
			t.Errorf("to %q: %v, want 403 naming digest.to", to, err)
		}
	}
	if _, err := st.Digest(ctx, "2026-W40"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused send left a record: %v", err)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("the SMTP server was contacted %d times", n)
	}
	// A raw request says the same (the CLI is not the only client).
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"week":"2026-W40","to":["attacker@evil.example"],"force":true}`
	fmt.Fprintf(conn, "POST /v1/digest/send HTTP/1.1\r\nHost: impact.sock\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("raw request: %d, want 403", resp.StatusCode)
	}
}

// TestSlowBodyIsCut: a connection that promises a body and never sends it
// is answered 408 and closed once the body timeout passes; a large body is
// refused; a slow handler (a long collect) is not cut by those limits.
func TestSlowBodyIsCut(t *testing.T) {
	slow := make(chan error, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})
	mux.HandleFunc("POST /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(600 * time.Millisecond):
			slow <- nil
		case <-r.Context().Done():
			slow <- r.Context().Err()
		}
		io.WriteString(w, "done")
	})
	srv := server.NewHTTPServer(mux, server.HTTPOptions{BodyTimeout: 200 * time.Millisecond, ReadHeaderTimeout: 200 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	if srv.ReadHeaderTimeout <= 0 || srv.MaxHeaderBytes <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("limits missing: %+v", srv)
	}

	closedWithin := func(t *testing.T, req string, d time.Duration) string {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, req)
		c.SetReadDeadline(time.Now().Add(d))
		got, err := io.ReadAll(c) // returns at EOF: the server closed it
		if err != nil {
			t.Errorf("the connection is still open after %v: %v", d, err)
		}
		return string(got)
	}
	t.Run("body never comes", func(t *testing.T) {
		got := closedWithin(t, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":", 3*time.Second)
		if !strings.HasPrefix(got, "HTTP/1.1 408") {
			t.Errorf("answer %q, want 408", got)
		}
	})
	t.Run("headers never end", func(t *testing.T) {
		closedWithin(t, "POST /echo HTTP/1.1\r\nHost: x\r\n", 3*time.Second)
	})
	t.Run("too large", func(t *testing.T) {
		got := closedWithin(t, fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", server.MaxBodyBytes+1), 3*time.Second)
		if !strings.HasPrefix(got, "HTTP/1.1 413") {
			t.Errorf("answer %q, want 413", got)
		}
	})
	t.Run("a body in time", func(t *testing.T) {
		resp, err := http.Post("http://"+ln.Addr().String()+"/echo", "application/json", strings.NewReader(`{"ok":1}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != `{"ok":1}` {
			t.Errorf("echo %q", b)
		}
	})
	t.Run("a slow handler is not cut", func(t *testing.T) {
		resp, err := http.Post("http://"+ln.Addr().String()+"/slow", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := <-slow; err != nil {
			t.Errorf("the handler's context ended: %v", err)
		}
	})
}
