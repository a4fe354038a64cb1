package github

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

const testToken = "ghp_test-token-0123456789"

// T is "now" in the tests; the fixture PR pull_get.json (PyGithub#3370) was
// merged the day before.
var T = time.Date(2025, 11, 20, 12, 0, 0, 0, time.UTC)

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metaHeaders returns the recorded response headers of a fixture, minus the
// ones that described the recorded transfer (gzip, chunking).
func metaHeaders(t *testing.T, name string) http.Header {
	t.Helper()
	var meta struct {
		Headers map[string]json.RawMessage `json:"response_headers"`
	}
	readJSON(t, filepath.Join("raw", name+".meta.json"), &meta)
	h := http.Header{}
	for k, raw := range meta.Headers {
		switch strings.ToLower(k) {
		case "content-encoding", "transfer-encoding", "content-length", "status", "connection":
			continue
		}
		var one string
		var many []string
		if json.Unmarshal(raw, &one) == nil {
			h.Add(k, one)
		} else if json.Unmarshal(raw, &many) == nil {
			for _, v := range many {
				h.Add(k, v)
			}
		}
	}
	return h
}

// prSpec describes a closed PR of a test repo.
type prSpec struct {
	number  int
	author  string
	title   string // default "Change <number>"
	updated time.Time
	merged  time.Time // zero: closed without merging
	// As a fixture has them; defaults otherwise.
	url, mergeSHA, base string
	created             time.Time
}

// fixturePR reads a recorded PR (pull_get.json, ...) as a spec, so the
// fake serves it with the recorded values.
func fixturePR(t *testing.T, name string) prSpec {
	t.Helper()
	var p struct {
		Number    int       `json:"number"`
		Title     string    `json:"title"`
		HTMLURL   string    `json:"html_url"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
		MergedAt  time.Time `json:"merged_at"`
		MergeSHA  string    `json:"merge_commit_sha"`
		User      struct {
			Login string `json:"login"`
		} `json:"user"`
		Base struct {
			Ref string `json:"ref"`
		} `json:"base"`
	}
	readJSON(t, name, &p)
	return prSpec{number: p.Number, author: p.User.Login, title: p.Title, updated: p.UpdatedAt, merged: p.MergedAt,
		url: p.HTMLURL, mergeSHA: p.MergeSHA, base: p.Base.Ref, created: p.CreatedAt}
}

// failure is a scripted answer replacing the fake's.
type failure struct {
	status int
	header http.Header
	body   string
}

type seenReq struct {
	Path        string
	Query       string
	Page        int
	UA          string
	Auth        string
	IfNoneMatch string
	Status      int // the answer's status
}

// fakeGitHub is the fake GitHub (NewFake) serving a world the test edits,
// behind a harness that logs every request, checks the token and the list
// parameters the collector must send, and can replace an answer with a
// scripted failure or add headers to it.
type fakeGitHub struct {
	t      *testing.T
	gh     *FakeServer
	prefix string // "" or "/api/v3" (GitHub Enterprise)

	mu   sync.Mutex
	reqs []seenReq                       // every request, in order
	fail func(n int, r seenReq) *failure // n counts requests from 0
	// headers adds to (or replaces) a normal answer's headers.
	headers func(n int, r seenReq) http.Header
	// conditional passes If-None-Match on to the fake, which answers a
	// match with 304 Not Modified as GitHub does; otherwise the harness
	// drops it, as a server that ignores it would.
	conditional bool
	srv         *httptest.Server
}

// newFake serves pages of three PRs.
func newFake(t *testing.T, prefix string) *fakeGitHub { return newFakeWith(t, prefix, 3) }

func newFakeWith(t *testing.T, prefix string, pageSize int) *fakeGitHub {
	t.Helper()
	w := &world.World{Start: T.AddDate(-1, 0, 0), End: T.AddDate(0, 1, 0), Me: "alice", Repos: []string{searchAPI, "acme/checkout"}, Info: map[string]world.PRInfo{}}
	f := &fakeGitHub{t: t, prefix: prefix, gh: NewFake(w, collectorstest.FakeOptions{PageSize: pageSize, Now: func() time.Time { return T }})}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) apiURL() string { return f.srv.URL + f.prefix + "/" }

func (f *fakeGitHub) add(repo string, specs ...prSpec) {
	f.gh.Update(func(w *world.World) {
		for _, s := range specs {
			p := model.PR{Repo: repo, Number: s.number, Title: cmp.Or(s.title, fmt.Sprintf("Change %d", s.number)),
				URL: cmp.Or(s.url, fmt.Sprintf("https://github.com/%s/pull/%d", repo, s.number)), Author: s.author,
				MergedAt: s.merged, Base: cmp.Or(s.base, "main")}
			in := world.PRInfo{CreatedAt: s.created, UpdatedAt: s.updated, ClosedAt: s.updated,
				HeadRef: fmt.Sprintf("change-%d", s.number), HeadSHA: fmt.Sprintf("%040x", 1<<32+s.number)}
			if in.CreatedAt.IsZero() {
				in.CreatedAt = s.updated.Add(-48 * time.Hour)
			}
			if s.merged.IsZero() {
				w.ClosedUnmerged = append(w.ClosedUnmerged, p)
			} else {
				p.MergeSHA = cmp.Or(s.mergeSHA, fmt.Sprintf("%040x", s.number))
				in.ClosedAt = s.merged
				w.PRs = append(w.PRs, p)
			}
			w.Info[p.Key()] = in
		}
	})
}

// remove drops PRs from the closed list (as reopening does).
func (f *fakeGitHub) remove(repo string, numbers ...int) {
	f.gh.Update(func(w *world.World) {
		gone := func(p model.PR) bool { return p.Repo == repo && slices.Contains(numbers, p.Number) }
		w.PRs = slices.DeleteFunc(w.PRs, gone)
		w.ClosedUnmerged = slices.DeleteFunc(w.ClosedUnmerged, gone)
	})
}

// touch sets a PR's updated_at, as a comment does.
func (f *fakeGitHub) touch(repo string, number int, at time.Time) {
	f.gh.Update(func(w *world.World) {
		key := model.PR{Repo: repo, Number: number}.Key()
		in := w.Info[key]
		in.UpdatedAt = at
		w.Info[key] = in
	})
}

func (f *fakeGitHub) setFiles(repo string, number int, names ...string) {
	f.gh.Update(func(w *world.World) {
		key := model.PR{Repo: repo, Number: number}.Key()
		in := w.Info[key]
		in.Files = nil
		for _, n := range names {
			in.Files = append(in.Files, world.File{Filename: n, Status: "modified", Additions: 3, Deletions: 1})
		}
		w.Info[key] = in
	})
}

func (f *fakeGitHub) requests() []seenReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// listPages returns the pages of the pull list requested, in order.
func (f *fakeGitHub) listPages(repo string) []int {
	var out []int
	for _, r := range f.requests() {
		if r.Path == "/repos/"+repo+"/pulls" {
			out = append(out, r.Page)
		}
	}
	return out
}

func (f *fakeGitHub) fileRequests() []string {
	var out []string
	for _, r := range f.requests() {
		if strings.HasSuffix(r.Path, "/files") {
			out = append(out, fmt.Sprintf("%s?page=%d", r.Path, r.Page))
		}
	}
	return out
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, f.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	page := 1
	if p := q.Get("page"); p != "" {
		page, _ = strconv.Atoi(p)
	}
	req := seenReq{Path: path, Query: r.URL.RawQuery, Page: page, UA: r.Header.Get("User-Agent"), Auth: r.Header.Get("Authorization"),
		IfNoneMatch: r.Header.Get("If-None-Match")}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	fail, headers := f.fail, f.headers
	f.mu.Unlock()
	var extra http.Header
	if headers != nil {
		extra = headers(n, req)
	}
	sw := &statusWriter{ResponseWriter: w, set: func(code int) {
		h := w.Header()
		if link := h.Get("Link"); link != "" && f.prefix != "" {
			// GitHub Enterprise links carry its /api/v3 prefix.
			h.Set("Link", strings.ReplaceAll(link, f.srv.URL+"/", f.srv.URL+f.prefix+"/"))
		}
		for k, vs := range extra {
			h[http.CanonicalHeaderKey(k)] = vs
		}
		f.mu.Lock()
		f.reqs[n].Status = code
		f.mu.Unlock()
	}}
	w = sw

	if fail != nil {
		if fl := fail(n, req); fl != nil {
			for k, vs := range fl.header {
				w.Header()[k] = vs
			}
			w.WriteHeader(fl.status)
			w.Write([]byte(fl.body))
			return
		}
	}
	if req.Auth != "Bearer "+testToken {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 4 && parts[0] == "repos" && parts[3] == "pulls":
		for k, want := range map[string]string{"state": "closed", "sort": "updated", "direction": "desc", "per_page": "100"} {
			if got := q.Get(k); got != want {
				f.t.Errorf("list pulls: %s=%q, want %q (query %s)", k, got, want, r.URL.RawQuery)
			}
		}
	case len(parts) == 6 && parts[0] == "repos" && parts[3] == "pulls" && parts[5] == "files":
		if got := q.Get("per_page"); got != "100" {
			f.t.Errorf("list files: per_page=%q, want 100", got)
		}
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	}
	r = r.Clone(r.Context())
	r.URL.Path = path
	if !f.conditional {
		r.Header.Del("If-None-Match")
	}
	f.gh.ServeHTTP(w, r)
}

// statusWriter records the status of an answer. It reports it (set) before
// the answer goes out, so a client never sees an answer whose status the
// harness has not recorded yet, and set may still change the headers.
type statusWriter struct {
	http.ResponseWriter
	status int
	set    func(int)
}

func (w *statusWriter) record(code int) {
	if w.status == 0 {
		w.status = code
		if w.set != nil {
			w.set(code)
		}
	}
}

func (w *statusWriter) WriteHeader(code int) {
	w.record(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.record(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// memSink is an in-memory collectors.Sink.
type memSink struct {
	mu      sync.Mutex
	prs     map[string]model.PR
	cursors map[string][]byte
	batches []model.Batch
}

func newSink() *memSink {
	return &memSink{prs: map[string]model.PR{}, cursors: map[string][]byte{}}
}

func (s *memSink) Cursor(_ context.Context, source, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.cursors[source+"\x00"+key]), nil
}

func (s *memSink) Commit(_ context.Context, b model.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range b.PRs {
		s.prs[p.Key()] = p
	}
	for k, v := range b.Cursors {
		s.cursors[b.Source+"\x00"+k] = bytes.Clone(v)
	}
	s.batches = append(s.batches, b)
	return nil
}

func (s *memSink) numbers(repo string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, p := range s.prs {
		if p.Repo == repo {
			out = append(out, p.Number)
		}
	}
	slices.Sort(out)
	return out
}

func (s *memSink) pr(key string) (model.PR, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prs[key]
	return p, ok
}

func (s *memSink) cursor(repo string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.cursors[Name+"\x00"+repo])
}

func (s *memSink) commits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.batches)
}

// harness is one collector against one fake server, with a fresh shared
// client (go-github and the transport keep rate-limit state).
type harness struct {
	f      *fakeGitHub
	c      *Collector
	sink   *memSink
	sl     *collectorstest.Sleeps
	prog   *collectorstest.Progress
	stats  *collectors.Stats
	budget *collectors.Budget
}

type setup struct {
	repos      []string
	needFiles  func(string) bool
	maxRetries int
}

func newHarness(t *testing.T, f *fakeGitHub, s setup) *harness {
	t.Helper()
	h := &harness{f: f, sink: newSink(), sl: &collectorstest.Sleeps{}, prog: &collectorstest.Progress{Source: Name}, stats: &collectors.Stats{}, budget: &collectors.Budget{}}
	h.c = h.collector(t, s)
	return h
}

func (h *harness) collector(t *testing.T, s setup) *Collector {
	t.Helper()
	if s.repos == nil {
		s.repos = []string{"acme/search-api"}
	}
	client := collectors.NewHTTPClient(collectors.HTTPOptions{
		Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true, UserAgent: "impact/test", MaxRetries: s.maxRetries, Sleep: h.sl.Sleep, Stats: h.stats, Budget: h.budget,
	})
	c, err := New(Config{Token: testToken, APIURL: h.f.apiURL(), Repos: s.repos},
		Options{HTTPClient: client, NeedFiles: s.needFiles, Sleep: h.sl.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *harness) collect(ctx context.Context, now time.Time) error {
	return h.c.Collect(ctx, collectors.Run{Since: now.Add(-90 * 24 * time.Hour), Now: now, Sink: h.sink, Progress: h.prog})
}
