package github

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/internal/model"
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

// obj is a JSON object from a fixture, edited per test.
type obj = map[string]any

func clone(t *testing.T, o obj) obj {
	t.Helper()
	b, _ := json.Marshal(o)
	var out obj
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// num is a PR object's number, whether decoded (float64) or set (int).
func num(o obj) int {
	switch n := o["number"].(type) {
	case float64:
		return int(n)
	case int:
		return n
	}
	panic("no number")
}

// prSpec describes a synthetic PR of the fake repo.
type prSpec struct {
	number  int
	author  string
	title   string
	updated time.Time
	merged  time.Time // zero: closed without merging
}

// fixtures holds the templates the fake server builds answers from.
type fixtures struct {
	listItem   obj   // pulls_list.json[0]: a real list item (open, unmerged)
	pullGet    obj   // pull_get.json: PyGithub/PyGithub#3370, merged
	pull2023   obj   // pull_get_merged_2023.json: PyGithub#31, merged in 2012
	files      []obj // pull_files_small.json
	listHeader http.Header
	fileHeader http.Header
}

func loadFixtures(t *testing.T) *fixtures {
	t.Helper()
	f := &fixtures{}
	var list []obj
	readJSON(t, "pulls_list.json", &list)
	f.listItem = list[0]
	readJSON(t, "pull_get.json", &f.pullGet)
	readJSON(t, "pull_get_merged_2023.json", &f.pull2023)
	readJSON(t, "pull_files_small.json", &f.files)
	f.listHeader = metaHeaders(t, "pulls_list")
	f.fileHeader = metaHeaders(t, "pull_files_small")
	return f
}

// pr builds a list item from the real list item template.
func (f *fixtures) pr(t *testing.T, repo string, s prSpec) obj {
	t.Helper()
	o := clone(t, f.listItem)
	o["number"] = s.number
	o["id"] = 1000000 + s.number
	o["title"] = s.title
	if s.title == "" {
		o["title"] = fmt.Sprintf("Change %d", s.number)
	}
	o["url"] = fmt.Sprintf("https://api.github.com/repos/%s/pulls/%d", repo, s.number)
	o["html_url"] = fmt.Sprintf("https://github.com/%s/pull/%d", repo, s.number)
	o["state"] = "closed"
	o["user"].(obj)["login"] = s.author
	o["created_at"] = ts(s.updated.Add(-48 * time.Hour))
	o["updated_at"] = ts(s.updated)
	o["closed_at"] = ts(s.updated)
	o["merged_at"] = nil
	if !s.merged.IsZero() {
		o["merged_at"] = ts(s.merged)
		o["closed_at"] = ts(s.merged)
		o["merge_commit_sha"] = fmt.Sprintf("%040x", s.number)
	}
	o["base"].(obj)["ref"] = "main"
	return o
}

// failure is a scripted answer replacing the normal one.
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

// fakeGitHub serves the two endpoints the collector uses, with Link headers,
// from PR objects built from the fixtures.
type fakeGitHub struct {
	t        *testing.T
	fx       *fixtures
	prefix   string // "" or "/api/v3" (GitHub Enterprise)
	pageSize int

	mu    sync.Mutex
	pulls map[string][]obj                // repo → PR objects
	files map[string][]obj                // "owner/repo#n" → file objects
	reqs  []seenReq                       // every request, in order
	fail  func(n int, r seenReq) *failure // n counts requests from 0
	// headers adds to (or replaces) a normal answer's headers.
	headers func(n int, r seenReq) http.Header
	// conditional makes the fake answer as GitHub does: a page's ETag is a
	// hash of its body, a matching If-None-Match gets 304 Not Modified,
	// and X-RateLimit-Remaining counts down from remaining with every
	// answer except a 304. Otherwise every page carries the recorded ETag
	// and rate-limit headers, and If-None-Match is ignored.
	conditional bool
	remaining   int
	srv         *httptest.Server
}

func newFake(t *testing.T, prefix string) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, fx: loadFixtures(t), prefix: prefix, pageSize: 3, remaining: 5000,
		pulls: map[string][]obj{}, files: map[string][]obj{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) apiURL() string { return f.srv.URL + f.prefix + "/" }

func (f *fakeGitHub) add(repo string, prs ...obj) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pulls[repo] = append(f.pulls[repo], prs...)
}

// remove drops PRs from the closed list (as reopening does).
func (f *fakeGitHub) remove(repo string, numbers ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pulls[repo] = slices.DeleteFunc(f.pulls[repo], func(o obj) bool {
		return slices.Contains(numbers, num(o))
	})
}

// touch sets a PR's updated_at, as a comment does.
func (f *fakeGitHub) touch(repo string, number int, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.pulls[repo] {
		if num(o) == number {
			o["updated_at"] = ts(at)
		}
	}
}

func (f *fakeGitHub) setFiles(repo string, number int, names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []obj
	for i, n := range names {
		o := clone(f.t, f.fx.files[i%len(f.fx.files)])
		o["filename"] = n
		out = append(out, o)
	}
	f.files[fmt.Sprintf("%s#%d", repo, number)] = out
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
	sw := &statusWriter{ResponseWriter: w, set: func(code int) {
		f.mu.Lock()
		f.reqs[n].Status = code
		f.mu.Unlock()
	}}
	w = sw
	defer func() {
		f.mu.Lock()
		f.reqs[n].Status = cmp.Or(sw.status, http.StatusOK)
		f.mu.Unlock()
	}()
	var extra http.Header
	if headers != nil {
		extra = headers(n, req)
	}

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
		repo := parts[1] + "/" + parts[2]
		for k, want := range map[string]string{"state": "closed", "sort": "updated", "direction": "desc", "per_page": "100"} {
			if got := q.Get(k); got != want {
				f.t.Errorf("list pulls: %s=%q, want %q (query %s)", k, got, want, r.URL.RawQuery)
			}
		}
		f.mu.Lock()
		items := slices.Clone(f.pulls[repo])
		f.mu.Unlock()
		sort.SliceStable(items, func(i, j int) bool {
			a, b := items[i]["updated_at"].(string), items[j]["updated_at"].(string)
			if a != b {
				return a > b
			}
			return num(items[i]) > num(items[j])
		})
		f.writePage(w, r, f.fx.listHeader, extra, items, page)
	case len(parts) == 6 && parts[0] == "repos" && parts[3] == "pulls" && parts[5] == "files":
		if got := q.Get("per_page"); got != "100" {
			f.t.Errorf("list files: per_page=%q, want 100", got)
		}
		f.mu.Lock()
		items := slices.Clone(f.files[parts[1]+"/"+parts[2]+"#"+parts[4]])
		f.mu.Unlock()
		f.writePage(w, r, f.fx.fileHeader, extra, items, page)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	}
}

// writePage answers one page of items with GitHub's Link header.
func (f *fakeGitHub) writePage(w http.ResponseWriter, r *http.Request, h, extra http.Header, items []obj, page int) {
	for k, vs := range h {
		w.Header()[k] = vs
	}
	for k, vs := range extra {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	last := (len(items) + f.pageSize - 1) / f.pageSize
	if last == 0 {
		last = 1
	}
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, f.srv.URL, r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((page-1)*f.pageSize, len(items))
	hi := min(lo+f.pageSize, len(items))
	body, err := json.Marshal(items[lo:hi])
	if err != nil {
		f.t.Error(err)
	}
	if lo == hi {
		body = []byte("[]")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if f.conditional {
		sum := sha256.Sum256(body)
		tag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		w.Header().Set("ETag", tag)
		f.mu.Lock()
		notModified := r.Header.Get("If-None-Match") == tag
		if !notModified {
			f.remaining--
		}
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(f.remaining))
		f.mu.Unlock()
		if notModified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Write(body)
}

// statusWriter records the status of an answer. It reports it (set) before
// the answer goes out, so a client never sees an answer whose status the
// fake has not recorded yet.
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

// sleeps records the shared transport's waits without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(done <-chan struct{}, d time.Duration) bool {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	select {
	case <-done:
		return false
	default:
		return true
	}
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

type countProgress struct {
	mu          sync.Mutex
	total, done int64
}

func (p *countProgress) Total(source string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if source == Name {
		p.total += n
	}
}

func (p *countProgress) Done(source string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if source == Name {
		p.done += n
	}
}

// harness is one collector against one fake server, with a fresh shared
// client (go-github and the transport keep rate-limit state).
type harness struct {
	f      *fakeGitHub
	c      *Collector
	sink   *memSink
	sl     *sleeps
	prog   *countProgress
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
	h := &harness{f: f, sink: newSink(), sl: &sleeps{}, prog: &countProgress{}, stats: &collectors.Stats{}, budget: &collectors.Budget{}}
	h.c = h.collector(t, s)
	return h
}

func (h *harness) collector(t *testing.T, s setup) *Collector {
	t.Helper()
	if s.repos == nil {
		s.repos = []string{"acme/search-api"}
	}
	client := collectors.NewHTTPClient(collectors.HTTPOptions{
		Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true, UserAgent: "impact/test", MaxRetries: s.maxRetries, Sleep: h.sl.sleep, Stats: h.stats, Budget: h.budget,
	})
	c, err := New(Config{Token: testToken, APIURL: h.f.apiURL(), Repos: s.repos},
		Options{HTTPClient: client, NeedFiles: s.needFiles, Sleep: h.sl.sleep})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *harness) collect(ctx context.Context, now time.Time) error {
	return h.c.Collect(ctx, collectors.Run{Since: now.Add(-90 * 24 * time.Hour), Now: now, Sink: h.sink, Progress: h.prog})
}
