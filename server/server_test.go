package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/config"
	dg "github.com/impact-dev/impact/digest"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/server"
	"github.com/impact-dev/impact/store"
)

var t0 = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func testStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "impact.db"), store.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var ds []model.Draft
	for i := range 5 {
		at := t0.Add(-time.Duration(i) * 48 * time.Hour)
		ds = append(ds, model.Draft{
			ID: fmt.Sprintf("%02d%06x", i, i*7919), Category: model.Categories[i%3],
			Text:          fmt.Sprintf("Made thing %d faster, reducing p99 from 1.8 s to 210 ms (−88%%). <b>&</b>", i),
			GeneratedText: fmt.Sprintf("Made thing %d faster", i),
			Metric:        model.MetricRef{ID: "m", Name: "m", Unit: "ms", Better: "lower"},
			Before:        1800, After: 210.5, Change: -0.8830001, ShiftAt: at, PValue: 0.000123, Confidence: "high",
			PRs: []model.PRRef{{Repo: "a/b", Number: i, Title: "t", URL: "https://x/y", Author: "alice", MergedAt: at, LiveAt: at}},
		})
	}
	if _, err := st.SaveDrafts(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	return st
}

// serve starts the API over st on a unix socket and returns a client.
func serve(t *testing.T, st *store.Store, token string) (*backend.Client, string) {
	t.Helper()
	return serveBackend(t, &backend.Local{Store: st, KeepOpen: true}, st.Path(), token)
}

// serveBackend starts the API over be on a unix socket and returns a client.
func serveBackend(t *testing.T, be backend.Backend, path, token string, recipients ...string) (*backend.Client, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "impact.sock")
	sc := config.ServerConfig{Listen: "unix:" + sock, Token: config.Secret(token)}
	ln, cleanup, err := server.Listen(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h := server.New(server.Options{
		Backend:    be,
		Info:       func() backend.Info { return backend.Info{Store: path, Version: "test"} },
		Token:      func() string { return token },
		Gatherer:   reg,
		Registerer: reg,
		Now:        func() time.Time { return t0 },
		Recipients: func() []string { return recipients },
	})
	srv := server.NewHTTPServer(h, server.HTTPOptions{})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); cleanup() })
	c := backend.NewClient(sc, path)
	t.Cleanup(func() { c.Close() })
	return c, sock
}

// TestClientMatchesLocal: every Backend call answers the same through the
// API as on the store directly, errors included.
func TestClientMatchesLocal(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	local := &backend.Local{Store: st, KeepOpen: true}
	remote, sock := serve(t, st, "")

	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}

	for _, f := range []store.DraftFilter{
		{}, {Status: model.StatusPending}, {Category: "performance"},
		{Since: t0.Add(-100 * time.Hour)}, {Until: t0.Add(-50 * time.Hour), Since: t0.Add(-1000 * time.Hour)},
	} {
		lj, err1 := local.DraftsJSON(ctx, f)
		rj, err2 := remote.DraftsJSON(ctx, f)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if len(lj) != len(rj) {
			t.Fatalf("filter %+v: %d local, %d remote", f, len(lj), len(rj))
		}
		for i := range lj {
			if string(lj[i]) != string(rj[i]) {
				t.Errorf("filter %+v: draft %d differs:\n%s\n%s", f, i, lj[i], rj[i])
			}
		}
		ld, _ := local.Drafts(ctx, f)
		rd, _ := remote.Drafts(ctx, f)
		if !reflect.DeepEqual(ld, rd) {
			t.Errorf("filter %+v: decoded drafts differ", f)
		}
	}

	ld, _ := local.Draft(ctx, "0000")
	rd, err := remote.Draft(ctx, "0000")
	if err != nil || !reflect.DeepEqual(ld, rd) {
		t.Errorf("Draft: %v\n%+v\n%+v", err, ld, rd)
	}

	at := t0.Add(time.Hour)
	d, err := remote.Decide(ctx, "0100", model.StatusAccepted, "Edited.", "", at)
	if err != nil || d.Status != model.StatusAccepted || d.Text != "Edited." || !d.DecidedAt.Equal(at) {
		t.Errorf("accept: %v %+v", err, d)
	}
	d, err = remote.Decide(ctx, "0200", model.StatusRejected, "", "nope", at)
	if err != nil || d.Status != model.StatusRejected || d.Reason != "nope" {
		t.Errorf("reject: %v %+v", err, d)
	}
	d, err = remote.Decide(ctx, "0200", model.StatusAccepted, "", "", at.Add(time.Minute))
	if p, ok := d.Previous(); err != nil || !ok || p.Status != model.StatusRejected || p.Reason != "nope" || len(d.History) != 2 {
		t.Errorf("re-decide: %v %+v", err, d)
	}
	d, err = remote.Undo(ctx, "0200")
	if err != nil || d.Status != model.StatusRejected || d.Reason != "nope" || len(d.History) != 1 {
		t.Errorf("undo: %v %+v", err, d)
	}
	_, lerr := local.Undo(ctx, "0300")
	_, rerr := remote.Undo(ctx, "0300")
	if lerr == nil || rerr == nil || lerr.Error() != rerr.Error() || !errors.Is(rerr, store.ErrInvalid) {
		t.Errorf("undo of a pending draft: local %v, remote %v", lerr, rerr)
	}
	d, err = remote.EditText(ctx, "0300", "  New text.  ")
	if err != nil || d.Text != "New text." {
		t.Errorf("edit: %v %+v", err, d)
	}
	if got, _ := local.Draft(ctx, "0300"); got.Text != "New text." {
		t.Errorf("edit not in the store: %+v", got)
	}

	// Errors: the same text, the same sentinel.
	for _, id := range []string{"ffffffff", "0"} {
		_, lerr := local.Draft(ctx, id)
		_, rerr := remote.Draft(ctx, id)
		if lerr == nil || rerr == nil || lerr.Error() != rerr.Error() {
			t.Errorf("Draft(%q): local %v, remote %v", id, lerr, rerr)
		}
		for _, s := range []error{store.ErrNotFound, store.ErrAmbiguous, store.ErrInvalid} {
			if errors.Is(lerr, s) != errors.Is(rerr, s) {
				t.Errorf("Draft(%q): errors.Is(%v) differs", id, s)
			}
		}
	}
	_, lerr = local.EditText(ctx, "0000", " ")
	_, rerr = remote.EditText(ctx, "0000", " ")
	if lerr == nil || rerr == nil || lerr.Error() != rerr.Error() || !errors.Is(rerr, store.ErrInvalid) {
		t.Errorf("empty edit: local %v, remote %v", lerr, rerr)
	}

	ls, err1 := local.Status(ctx)
	rs, err2 := remote.Status(ctx)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(ls, rs) {
		t.Errorf("Status differs: %v %v\n%+v\n%+v", err1, err2, ls, rs)
	}

	info, err := remote.Info(ctx)
	if err != nil || info.Store != st.Path() {
		t.Errorf("Info: %v %+v", err, info)
	}
}

func rawGet(t *testing.T, sock, path string, hdr map[string]string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	req, _ := http.NewRequest("GET", "http://impact.sock"+path, nil)
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTokenAndBrowserGuards(t *testing.T) {
	st := testStore(t)
	remote, sock := serve(t, st, "tok-123")
	_ = remote

	// Without the token: 401 with a one-line JSON error; health is open.
	noTok := backend.NewClient(config.ServerConfig{Listen: "unix:" + sock}, "")
	defer noTok.Close()
	_, err := noTok.Drafts(context.Background(), store.DraftFilter{})
	var re *backend.RemoteError
	if !errors.As(err, &re) || re.Status != 401 || re.Kind != "unauthorized" {
		t.Errorf("no token: %v", err)
	}
	if code, _ := rawGet(t, sock, "/healthz", nil); code != 200 {
		t.Errorf("healthz without token: %d", code)
	}
	if code, _ := rawGet(t, sock, "/readyz", nil); code != 200 {
		t.Errorf("readyz without token: %d", code)
	}
	if code, _ := rawGet(t, sock, "/metrics", nil); code != 401 {
		t.Errorf("metrics without token: %d", code)
	}
	if code, body := rawGet(t, sock, "/metrics", map[string]string{"Authorization": "Bearer tok-123"}); code != 200 || !strings.Contains(body, "impact_api_requests_total") {
		t.Errorf("metrics with token: %d", code)
	}
	if code, _ := rawGet(t, sock, "/v1/drafts", map[string]string{"Authorization": "Bearer tok-1234"}); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	// With the token, right answers.
	withTok := backend.NewClient(config.ServerConfig{Listen: "unix:" + sock, Token: "tok-123"}, "")
	defer withTok.Close()
	if ds, err := withTok.Drafts(context.Background(), store.DraftFilter{}); err != nil || len(ds) != 5 {
		t.Errorf("with token: %v, %d drafts", err, len(ds))
	}
	// A web page cannot drive the API.
	if code, _ := rawGet(t, sock, "/v1/drafts", map[string]string{"Authorization": "Bearer tok-123", "Origin": "https://evil.example"}); code != 403 {
		t.Errorf("cross-origin request: %d, want 403", code)
	}
}

func TestHostCheck(t *testing.T) {
	st := testStore(t)
	h := server.New(server.Options{Backend: &backend.Local{Store: st, KeepOpen: true}, CheckHost: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	for host, want := range map[string]int{ln.Addr().String(): 200, "localhost:1": 200, "evil.example:80": 403, "[::1]:7": 200} {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/v1/drafts", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

func TestCheckListen(t *testing.T) {
	for _, tt := range []struct {
		listen, token string
		ok            bool
	}{
		{"127.0.0.1:7878", "", false}, // every local user can reach loopback
		{"localhost:7878", "", false},
		{"[::1]:7878", "", false},
		{"127.0.0.1:7878", "t", true},
		{"unix:/run/impact.sock", "", true},
		{"unix:relative.sock", "", false},
		{"0.0.0.0:7878", "", false},
		{":7878", "", false},
		{"192.0.2.10:7878", "", false},
		{"0.0.0.0:7878", "t", true},
	} {
		err := server.CheckListen(config.ServerConfig{Listen: tt.listen, Token: config.Secret(tt.token)})
		if (err == nil) != tt.ok {
			t.Errorf("%s token=%q: %v", tt.listen, tt.token, err)
		}
		if err != nil && !tt.ok && !strings.HasPrefix(tt.listen, "unix:") && !strings.Contains(err.Error(), "server.token") {
			t.Errorf("%s: the refusal does not say why: %v", tt.listen, err)
		}
	}
}

func TestUnixSocketStaleAndLive(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	sc := config.ServerConfig{Listen: "unix:" + sock}
	ln, cleanup, err := server.Listen(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// A live socket is not taken over.
	if _, _, err := server.Listen(context.Background(), sc); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("second listener on a live socket: %v", err)
	}
	ln.Close() // the file stays, as after a crash
	if _, err := os.Stat(sock); err != nil {
		t.Fatal(err)
	}
	ln2, cleanup2, err := server.Listen(context.Background(), sc)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln2.Close()
	cleanup2()
	cleanup()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("cleanup left the socket: %v", err)
	}
	// A regular file in the way is not removed.
	os.WriteFile(sock, []byte("x"), 0o600)
	if _, _, err := server.Listen(context.Background(), sc); err == nil {
		t.Error("listened over a regular file")
	}
}

func TestExportAndErrorsJSON(t *testing.T) {
	st := testStore(t)
	_, sock := serve(t, st, "")
	code, body := rawGet(t, sock, "/v1/export?status=all", nil)
	var doc server.ExportDocument
	if code != 200 || json.Unmarshal([]byte(body), &doc) != nil || len(doc.Groups) == 0 {
		t.Errorf("export: %d %s", code, body)
	}
	// Streamed, it is the document `impact export -f json` prints.
	ds, err := st.Drafts(context.Background(), store.DraftFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := server.ExportDocument{Status: "all", GeneratedAt: t0}
	want.SetDrafts(ds)
	var wb strings.Builder
	if err := render.JSON(&wb, want); err != nil {
		t.Fatal(err)
	}
	if body != wb.String() {
		t.Errorf("export:\n%s\nwant\n%s", body, wb.String())
	}
	code, body = rawGet(t, sock, "/v1/drafts/ffffffff", nil)
	var eb backend.ErrorBody
	if code != 404 || json.Unmarshal([]byte(body), &eb) != nil || eb.Kind != "not_found" || !strings.Contains(eb.Error, "ffffffff") {
		t.Errorf("unknown draft: %d %s", code, body)
	}
	code, _ = rawGet(t, sock, "/v1/drafts?since=yesterday", nil)
	if code != 400 {
		t.Errorf("bad since: %d", code)
	}
	code, _ = rawGet(t, sock, "/v1/nope", nil)
	if code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
}

// TestExportPeriodAndLevel: /v1/export takes what `impact export -f json`
// takes: a review period (in me.timezone) and a level.
func TestExportPeriodAndLevel(t *testing.T) {
	st := testStore(t)
	_, sock := serve(t, st, "")
	h2 := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		query       string
		code        int
		inH2, level string
	}{
		{"/v1/export?status=all&period=2026-H2&level=staff", 200, "yes", "staff"},
		{"/v1/export?status=all&period=2026-H1", 200, "no", ""},
		{"/v1/export?status=all&level=boss", 400, "", ""},
		{"/v1/export?status=all&period=2026-H3", 400, "", ""},
		{"/v1/export?status=all&period=2026-H2&since=2026-01-01T00:00:00Z", 400, "", ""},
	} {
		code, body := rawGet(t, sock, tt.query, nil)
		if code != tt.code {
			t.Errorf("%s: %d %s", tt.query, code, body)
			continue
		}
		if code != 200 {
			continue
		}
		var doc server.ExportDocument
		if err := json.Unmarshal([]byte(body), &doc); err != nil || doc.Period == nil || doc.Level != tt.level {
			t.Errorf("%s: %v %s", tt.query, err, body)
			continue
		}
		if (tt.level != "") != (doc.Highlights != nil) {
			t.Errorf("%s: highlights %v", tt.query, doc.Highlights)
		}
		n := 0
		for _, g := range doc.Groups {
			for _, d := range g.Drafts {
				n++
				if in := !d.ShiftAt.Before(h2); in != (tt.inH2 == "yes") {
					t.Errorf("%s: draft %s at %s", tt.query, d.ID, d.ShiftAt)
				}
			}
		}
		if want := tt.inH2 == "yes"; (n > 0) != want {
			t.Errorf("%s: %d drafts (every test draft is in 2026-H2)", tt.query, n)
		}
	}
}

// TestDigestThroughAPI: the digest's preview and send answer the same
// through the API as on the store, errors and their kinds included; the
// status carries the newest digest record.
func TestDigestThroughAPI(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	// No me.email and no digest.from: a send has no sender.
	yml := "me: {github: alice, timezone: Europe/Berlin}\nstore: {path: " + st.Path() + "}\n"
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := all.Registry().Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return t0 }
	local := &backend.Local{Store: st, KeepOpen: true, Now: now, Config: cfg}
	remote, _ := serveBackend(t, &backend.Local{Store: st, KeepOpen: true, Now: now, ConfigFunc: func() *config.Config { return cfg }}, st.Path(), "", "Bob <bob@example.com>")

	for _, req := range []backend.DigestPreviewRequest{
		{},
		{Week: "2026-W40", Command: "impact --config '/tmp/a b.yaml'", HTML: true},
		{Week: "2026-W39"},
		{Week: "2026-W20", HTML: true},
	} {
		lp, err1 := local.DigestPreview(ctx, req)
		rp, err2 := remote.DigestPreview(ctx, req)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(lp, rp) {
			t.Errorf("preview %+v: %v %v\n%+v\n%+v", req, err1, err2, lp, rp)
		}
		if (lp.HTML != "") != req.HTML || lp.Text == "" {
			t.Errorf("preview %+v: %d bytes of HTML, %d of text", req, len(lp.HTML), len(lp.Text))
		}
	}
	if p, _ := remote.DigestPreview(ctx, backend.DigestPreviewRequest{}); !strings.Contains(p.Text, "2026-W40") || p.Week != "2026-W40" {
		t.Errorf("the default week is not the current one (2026-W40): %q\n%s", p.Week, p.Text)
	}
	if p, _ := remote.DigestPreview(ctx, backend.DigestPreviewRequest{Week: "2026-W40", Command: "impact --config x.yaml"}); !strings.Contains(p.Text, "impact --config x.yaml drafts accept") {
		t.Errorf("the command prefix is not used:\n%s", p.Text)
	}

	// A bad week is the request's fault.
	_, lerr := local.DigestPreview(ctx, backend.DigestPreviewRequest{Week: "2026-99"})
	_, rerr := remote.DigestPreview(ctx, backend.DigestPreviewRequest{Week: "2026-99"})
	if lerr == nil || rerr == nil || lerr.Error() != rerr.Error() || !errors.Is(rerr, backend.ErrUsage) {
		t.Errorf("bad week: local %v, remote %v", lerr, rerr)
	}

	// An unconfigured digest: the same text, digest.ErrConfig on both sides.
	req := backend.DigestSendRequest{Week: "2026-W40", To: []string{"bob@example.com"}}
	_, lerr = local.SendDigest(ctx, req)
	_, rerr = remote.SendDigest(ctx, req)
	var re *backend.RemoteError
	if lerr == nil || rerr == nil || lerr.Error() != rerr.Error() || !errors.Is(lerr, dg.ErrConfig) || !errors.Is(rerr, dg.ErrConfig) ||
		!errors.As(rerr, &re) || re.Kind != "config" || re.Status != http.StatusBadRequest {
		t.Errorf("unconfigured send: local %v, remote %v", lerr, rerr)
	}
	if !strings.Contains(rerr.Error(), "no sender") || !strings.Contains(rerr.Error(), cfgPath) {
		t.Errorf("unconfigured send: %v", rerr)
	}
	if _, err := st.Digest(ctx, "2026-W40"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused send left a record: %v", err)
	}

	// The newest record is in the status, the same on both sides.
	for _, w := range []string{"2026-W38", "2026-W39"} {
		if _, err := st.RecordDigest(ctx, w, store.DigestFailed, "digest: smtp mail:587: refused"); err != nil {
			t.Fatal(err)
		}
	}
	ls, err1 := local.Status(ctx)
	rs, err2 := remote.Status(ctx)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(ls, rs) || ls.Digest == nil || ls.Digest.Week != "2026-W39" || ls.Digest.State != store.DigestFailed {
		t.Errorf("status: %v %v\n%+v\n%+v", err1, err2, ls.Digest, rs.Digest)
	}

	// Without a configuration the backend cannot build a digest.
	bare, _ := serve(t, st, "")
	if _, err := bare.DigestPreview(ctx, backend.DigestPreviewRequest{}); err == nil || !errors.Is(err, backend.ErrUsage) {
		t.Errorf("preview without a config: %v", err)
	}
}

func TestDigestErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		err    error
		kind   string
		status int
	}{
		{fmt.Errorf("%w: no sender", dg.ErrConfig), "config", 400},
		{&dg.SendError{Addr: "mail:587", Err: errors.New("refused")}, "unavailable", 502},
		{errors.Join(&dg.SendError{Addr: "mail:587", Err: errors.New("refused")}, errors.New("store")), "unavailable", 502},
	} {
		kind, status := backend.ErrorKind(tc.err)
		if kind != tc.kind || status != tc.status {
			t.Errorf("%v: %s %d, want %s %d", tc.err, kind, status, tc.kind, tc.status)
		}
	}
}
