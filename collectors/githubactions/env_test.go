package githubactions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

const testToken = "ghp_test-token-0123456789"

// T is "now" in most tests: mid-morning, so "10 minutes ago" is the same
// UTC day.
var T = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// --- fixtures ---------------------------------------------------------------

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
	if err := json.Unmarshal(readFile(t, filepath.Join("raw", name+".meta.json")), &meta); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, raw := range meta.Headers {
		switch strings.ToLower(k) {
		case "content-encoding", "transfer-encoding", "content-length", "status", "connection":
			continue
		}
		var one string
		if json.Unmarshal(raw, &one) == nil {
			h.Add(k, one)
		}
	}
	return h
}

// --- the in-memory store ----------------------------------------------------

type memSink struct {
	mu      sync.Mutex
	cursors map[string][]byte
	runs    map[string]model.CIRun
	deploys map[string]model.Deploy
	commits int
	// failAt makes the commit with this number (from 1) fail, and every
	// later one while failAll is set.
	failAt  int
	failAll bool
}

func newSink() *memSink {
	return &memSink{cursors: map[string][]byte{}, runs: map[string]model.CIRun{}, deploys: map[string]model.Deploy{}}
}

func (s *memSink) Cursor(_ context.Context, source, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[source+"\x00"+key], nil
}

func (s *memSink) Commit(_ context.Context, b model.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
	if s.failAt > 0 && (s.commits == s.failAt || (s.failAll && s.commits > s.failAt)) {
		return fmt.Errorf("disk full")
	}
	if b.Source != Name {
		return fmt.Errorf("batch source %q", b.Source)
	}
	for _, r := range b.CIRuns {
		s.runs[r.Key()] = r
	}
	for _, d := range b.Deploys {
		s.deploys[d.Key()] = d
	}
	for k, v := range b.Cursors {
		s.cursors[b.Source+"\x00"+k] = v
	}
	return nil
}

func (s *memSink) cursor(t *testing.T, key string) cursor {
	t.Helper()
	s.mu.Lock()
	raw := s.cursors[Name+"\x00"+key]
	s.mu.Unlock()
	var c cursor
	if raw != nil {
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("cursor %s: %v", raw, err)
		}
	}
	return c
}

func (s *memSink) rawCursor(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.cursors[Name+"\x00"+key])
}

func (s *memSink) snapshot() (map[string]model.CIRun, map[string]model.Deploy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	runs := make(map[string]model.CIRun, len(s.runs))
	for k, v := range s.runs {
		runs[k] = v
	}
	deps := make(map[string]model.Deploy, len(s.deploys))
	for k, v := range s.deploys {
		deps[k] = v
	}
	return runs, deps
}

// progress checks that what was announced is done.
type progress struct {
	mu          sync.Mutex
	total, done int64
}

func (p *progress) Total(src string, n int64) {
	p.mu.Lock()
	p.total += n
	p.mu.Unlock()
}

func (p *progress) Done(src string, n int64) {
	p.mu.Lock()
	p.done += n
	p.mu.Unlock()
}

// --- the world ----------------------------------------------------------------

// wfGen describes the runs of one synthetic workflow: n on branch, evenly
// spread over [from, to), and other runs on feature branches between them.
type wfGen struct {
	repo, file string
	branch     string
	deploys    bool
	n, other   int
	from, to   time.Time
}

// gen returns the workflow's runs: queued 5–65 s, running 3–11 min, one in
// nine failing.
func (g wfGen) gen() []model.CIRun {
	base := int64(1_000_000_000) + int64(len(g.repo)*7919+len(g.file)*104729)%1000*1_000_000
	for _, c := range g.repo + "/" + g.file {
		base += int64(c) * 1_000_003
	}
	var out []model.CIRun
	add := func(i int, created time.Time, branch string) {
		id := base + int64(len(out))
		r := model.CIRun{
			Repo: g.repo, Workflow: g.file, RunID: id, Attempt: 1, Branch: branch,
			SHA: fmt.Sprintf("%040x", id), Event: "push", Status: "completed", Conclusion: "success",
			CreatedAt: created.Truncate(time.Second),
		}
		r.StartedAt = r.CreatedAt.Add(time.Duration(5+(i%7)*10) * time.Second)
		r.Duration = 3*time.Minute + time.Duration(i%11)*47*time.Second
		if i%9 == 4 {
			r.Conclusion = "failure"
		}
		out = append(out, r)
	}
	if g.n > 0 {
		step := g.to.Sub(g.from) / time.Duration(g.n)
		for i := range g.n {
			add(i, g.from.Add(step*time.Duration(i)+step/3), g.branch)
		}
	}
	if g.other > 0 {
		step := g.to.Sub(g.from) / time.Duration(g.other)
		for i := range g.other {
			add(i, g.from.Add(step*time.Duration(i)+step*2/3), fmt.Sprintf("feature/x-%d", i%5))
		}
	}
	return out
}

func (g wfGen) config() Workflow {
	return Workflow{Repo: g.repo, Workflow: g.file, Branch: g.branch, Deploys: g.deploys}
}

// newWorld builds a world of the generated workflows plus extra runs.
func newWorld(end time.Time, gens []wfGen, extra ...model.CIRun) *world.World {
	w := &world.World{End: end, Me: "alice"}
	for _, g := range gens {
		w.Workflows = append(w.Workflows, world.Workflow(g.config()))
		w.CIRuns = append(w.CIRuns, g.gen()...)
	}
	w.CIRuns = append(w.CIRuns, extra...)
	return w
}

// --- the fake GitHub, instrumented ------------------------------------------

// failure is a scripted answer replacing the fake's.
type failure struct {
	status int
	header http.Header
	body   string
}

type seenReq struct {
	Path      string
	Query     string
	Page      string
	INM       string // If-None-Match sent
	Status    int
	Remaining string // X-RateLimit-Remaining answered
}

type env struct {
	t       *testing.T
	w       *world.World
	srv     *httptest.Server
	counter *collectorstest.Counter
	stats   *collectors.Stats
	budget  *collectors.Budget
	sink    *memSink

	mu     sync.Mutex
	now    time.Time
	served int // requests since the start
	reqs   []*seenReq
	sleeps []time.Duration
	// inject, when set, may replace the answer to request n (from 0).
	inject func(n int, r *http.Request) *failure
}

func newEnv(t *testing.T, w *world.World) *env {
	t.Helper()
	e := &env{t: t, w: w, counter: &collectorstest.Counter{}, stats: &collectors.Stats{}, budget: &collectors.Budget{}, sink: newSink(), now: w.End}
	fake := github.NewFake(w, collectorstest.FakeOptions{Counter: e.counter, Now: e.clock}, FakeRoutes)
	e.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		seen := &seenReq{Path: r.URL.Path, Query: r.URL.RawQuery, Page: r.URL.Query().Get("page"), INM: r.Header.Get("If-None-Match")}
		e.mu.Lock()
		n := e.served
		e.served++
		inject := e.inject
		e.reqs = append(e.reqs, seen)
		e.mu.Unlock()
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization %q", got)
		}
		// The status is recorded before the client can see the answer.
		rec := &recorder{ResponseWriter: rw, onHeader: func(status int, h http.Header) {
			e.mu.Lock()
			seen.Status, seen.Remaining = status, h.Get("X-RateLimit-Remaining")
			e.mu.Unlock()
		}}
		if inject != nil {
			if f := inject(n, r); f != nil {
				for k, vs := range f.header {
					rw.Header()[k] = vs
				}
				if rw.Header().Get("Content-Type") == "" {
					rw.Header().Set("Content-Type", "application/json; charset=utf-8")
				}
				rec.WriteHeader(f.status)
				rec.Write([]byte(f.body))
				return
			}
		}
		fake.ServeHTTP(rec, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

type recorder struct {
	http.ResponseWriter
	status   int
	onHeader func(status int, h http.Header)
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.onHeader(code, r.Header())
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) setNow(t time.Time) {
	e.mu.Lock()
	e.now = t
	e.mu.Unlock()
}

// requests returns the requests seen since the last call.
func (e *env) requests() []seenReq {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]seenReq, len(e.reqs))
	for i, r := range e.reqs {
		out[i] = *r
	}
	e.reqs = nil
	return out
}

func (e *env) slept() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sleeps)
}

// httpClient is the shared client as the daemon builds it, with sleeps
// recorded instead of waited.
func (e *env) httpClient() *http.Client {
	return collectors.NewHTTPClient(collectors.HTTPOptions{
		Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true,
		Stats:  e.stats,
		Budget: e.budget,
		Now:    e.clock,
		Sleep: func(_ <-chan struct{}, d time.Duration) bool {
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.mu.Unlock()
			return true
		},
	})
}

func (e *env) collector(opt Options, wfs ...Workflow) *Collector {
	e.t.Helper()
	if opt.HTTPClient == nil {
		opt.HTTPClient = e.httpClient()
	}
	c, err := New(Config{Token: config.Secret(testToken), APIURL: e.srv.URL + "/", Workflows: wfs}, opt)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// collect runs one poll at the env's clock.
func (e *env) collect(c *Collector, since time.Time, backfill bool) error {
	p := &progress{}
	err := c.Collect(context.Background(), collectors.Run{Since: since, Backfill: backfill, Now: e.clock(), Sink: e.sink, Progress: p})
	if p.total != p.done {
		e.t.Errorf("progress: %d announced, %d done", p.total, p.done)
	}
	return err
}

// expected returns the runs of the world the collector should hold at
// view time v for the given workflows: on the branch, created by v.
// Completed ones carry their duration; the rest are pending.
func expected(w *world.World, v time.Time, wfs ...Workflow) map[string]model.CIRun {
	out := map[string]model.CIRun{}
	for _, r := range w.CIRuns {
		for _, wf := range wfs {
			if r.Repo != wf.Repo || r.Workflow != wf.Workflow || (wf.Branch != "" && r.Branch != wf.Branch) || r.CreatedAt.After(v) {
				continue
			}
			r.Deploys = wf.Deploys
			end := r.StartedAt.Add(r.Duration)
			switch {
			case r.StartedAt.After(v):
				r.Status, r.Conclusion, r.StartedAt, r.Duration = "queued", "", r.CreatedAt, 0
			case end.After(v):
				r.Status, r.Conclusion, r.Duration = "in_progress", "", 0
			}
			out[r.Key()] = r
		}
	}
	return out
}

// listReqs counts the requests whose path ends in suffix.
func countPath(reqs []seenReq, suffix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}
