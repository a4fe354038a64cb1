package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

const testToken = "pd-test-token-0123456789"

// end is the world's end and the first poll's time.
var end = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// ---- clock -------------------------------------------------------------------

// clock is the fake time of a test: the fake PagerDuty's "now" and rate-limit
// clock, and the shared client's; waiting advances it.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Sleep(done <-chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return false
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return true
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// ---- sink --------------------------------------------------------------------

// memSink is an in-memory collectors.Sink that counts how often each
// incident was committed.
type memSink struct {
	mu        sync.Mutex
	cursors   map[string][]byte
	incidents map[string]model.Incident
	commits   map[string]int
	batches   int
	// failIn makes the failIn-th commit from now fail (once).
	failIn int
}

func newSink() *memSink {
	return &memSink{cursors: map[string][]byte{}, incidents: map[string]model.Incident{}, commits: map[string]int{}}
}

func (s *memSink) Cursor(_ context.Context, source, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cursors[source+"/"+key]), nil
}

func (s *memSink) Commit(_ context.Context, b model.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.Source != Name {
		return fmt.Errorf("batch source %q", b.Source)
	}
	if s.failIn > 0 {
		if s.failIn--; s.failIn == 0 {
			return errors.New("disk full")
		}
	}
	s.batches++
	for _, in := range b.Incidents {
		s.incidents[in.ID] = in
		s.commits[in.ID]++
	}
	for k, v := range b.Cursors {
		s.cursors[b.Source+"/"+k] = slices.Clone(v)
	}
	return nil
}

func (s *memSink) cursor(t *testing.T) Cursor {
	t.Helper()
	s.mu.Lock()
	raw := s.cursors[Name+"/"+CursorKey]
	s.mu.Unlock()
	var c Cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("cursor %s: %v", raw, err)
	}
	return c
}

func (s *memSink) snapshot() (map[string]model.Incident, map[string]int, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inc := make(map[string]model.Incident, len(s.incidents))
	for k, v := range s.incidents {
		inc[k] = v
	}
	com := make(map[string]int, len(s.commits))
	for k, v := range s.commits {
		com[k] = v
	}
	return inc, com, slices.Clone(s.cursors[Name+"/"+CursorKey])
}

func (s *memSink) resetCommits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.commits)
}

// ---- environment ---------------------------------------------------------------

// env is a fake PagerDuty for a world, the shared client pointed at it, and
// a sink. Requests can be recorded, faulted or answered by the test.
type env struct {
	t       *testing.T
	w       *world.World
	clk     *clock
	counter *collectorstest.Counter
	stats   *collectors.Stats
	srv     *httptest.Server
	sink    *memSink

	mu        sync.Mutex
	reqs      []*url.URL
	fault     func(r *http.Request) int
	intercept func(rw http.ResponseWriter, r *http.Request) bool
	servedCum map[string]int
}

// newEnv serves w; po (at most one) sets the fake's PagerDuty options.
func newEnv(t *testing.T, w *world.World, po ...FakeOptions) *env {
	t.Helper()
	e := &env{t: t, w: w, clk: &clock{t: w.End}, counter: &collectorstest.Counter{}, stats: &collectors.Stats{}, sink: newSink()}
	var pdo FakeOptions
	if len(po) > 0 {
		pdo = po[0]
	}
	fake := NewFakeWith(w, collectorstest.FakeOptions{Counter: e.counter, Now: e.clk.Now, Fault: func(r *http.Request) int {
		e.mu.Lock()
		f := e.fault
		e.mu.Unlock()
		if f != nil {
			return f(r)
		}
		return 0
	}}, pdo)
	e.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		u := *r.URL
		e.reqs = append(e.reqs, &u)
		ic := e.intercept
		e.mu.Unlock()
		if ic != nil && ic(rw, r) {
			return
		}
		fake.ServeHTTP(rw, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) setFault(f func(r *http.Request) int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fault = f
}

func (e *env) setIntercept(f func(rw http.ResponseWriter, r *http.Request) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.intercept = f
}

// requests returns the recorded request URLs and forgets them.
func (e *env) requests() []*url.URL {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.reqs
	e.reqs = nil
	return r
}

func (e *env) httpClient() *http.Client {
	return collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, Sleep: e.clk.Sleep, Now: e.clk.Now, Stats: e.stats})
}

func (e *env) collector(services []string, opt Options) *Collector {
	e.t.Helper()
	if opt.HTTPClient == nil {
		opt.HTTPClient = e.httpClient()
	}
	if services == nil {
		services = e.w.Services
	}
	c, err := New(Config{Token: testToken, APIURL: e.srv.URL, Services: services}, opt)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// collect runs c at the clock's time (unless run.Now is set) into the sink.
func (e *env) collect(c *Collector, run collectors.Run) error {
	if run.Now.IsZero() {
		run.Now = e.clk.Now()
	}
	run.Sink = e.sink
	return c.Collect(context.Background(), run)
}

// kind classifies a recorded request.
func kind(u *url.URL) string {
	switch {
	case u.Path == "/incidents":
		return "list"
	case u.Path == "/analytics/raw/incidents":
		return "analytics"
	case len(u.Path) > len("/log_entries") && u.Path[len(u.Path)-len("/log_entries"):] == "/log_entries":
		return "log"
	}
	return "get"
}

// served counts the fake's 200 answers by kind since the last call (a
// request retried after a 429 counts once).
func (e *env) served() map[string]int {
	cum := map[string]int{}
	for k, n := range e.counter.Snapshot() {
		if k.Status != http.StatusOK {
			continue
		}
		switch k.Pattern {
		case "GET /incidents":
			cum["list"] += n
		case "GET /incidents/{id}":
			cum["get"] += n
		case "GET /incidents/{id}/log_entries":
			cum["log"] += n
		case "POST /analytics/raw/incidents":
			cum["analytics"] += n
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for k, n := range cum {
		if d := n - e.servedCum[k]; d != 0 {
			out[k] = d
		}
	}
	e.servedCum = cum
	return out
}

func countKinds(reqs []*url.URL) map[string]int {
	out := map[string]int{}
	for _, u := range reqs {
		out[kind(u)]++
	}
	return out
}

// noAnalytics makes the fake answer 403 to the analytics endpoint, as for
// an account whose plan lacks it: the collector reads log entries.
var noAnalytics = FakeOptions{AnalyticsStatus: http.StatusForbidden}

// ---- worlds --------------------------------------------------------------------

var users = []string{"PALICE1", "PBOB001", "PCAROL1"}

// spread makes n incidents of the services, created evenly over [from, to);
// each is acknowledged after a few minutes (every fifth never is) and
// resolved 40 minutes after creation. tweak may change each.
func spread(prefix string, services []string, n int, from, to time.Time, tweak func(i int, in *model.Incident)) []model.Incident {
	out := make([]model.Incident, 0, n)
	step := to.Sub(from) / time.Duration(n)
	for i := range n {
		created := from.Add(step * time.Duration(i)).Truncate(time.Second)
		in := model.Incident{
			ID:         fmt.Sprintf("%s%06d", prefix, i),
			Service:    services[i%len(services)],
			Title:      fmt.Sprintf("Incident %s %d", prefix, i),
			Urgency:    []string{"high", "low"}[i%2],
			CreatedAt:  created,
			ResolvedAt: created.Add(40 * time.Minute),
			Assignees:  []string{users[i%len(users)]},
		}
		if i%5 != 4 {
			in.AcknowledgedAt = created.Add(time.Duration(2+i%7) * time.Minute)
		}
		if i%11 == 3 {
			in.Assignees = append(in.Assignees, users[(i+1)%len(users)])
		}
		if tweak != nil {
			tweak(i, &in)
		}
		out = append(out, in)
	}
	return out
}

func newWorld(services []string, incs ...[]model.Incident) *world.World {
	w := &world.World{Start: end.Add(-400 * day), End: end, Services: services, PagerDutyUser: "PALICE1"}
	for _, s := range incs {
		w.Incidents = append(w.Incidents, s...)
	}
	return w
}

// want is what the collector should store for in, read at now.
func want(in model.Incident, now time.Time) model.Incident {
	m := model.Incident{ID: in.ID, Service: in.Service, Title: in.Title, Urgency: in.Urgency,
		URL: FakeHTMLBase + "/incidents/" + in.ID, CreatedAt: in.CreatedAt, Status: "triggered"}
	if m.Urgency == "" {
		m.Urgency = "high"
	}
	if !in.AcknowledgedAt.IsZero() && !in.AcknowledgedAt.After(now) {
		m.Status = "acknowledged"
		m.AcknowledgedAt = in.AcknowledgedAt
	}
	if !in.ResolvedAt.IsZero() && !in.ResolvedAt.After(now) {
		m.Status = "resolved"
		m.ResolvedAt = in.ResolvedAt
	}
	if len(in.Assignees) > 0 {
		m.Assignees = slices.Sorted(slices.Values(in.Assignees))
		m.Assignees = slices.Compact(m.Assignees)
	}
	return m
}

// checkStored compares the sink with the world's incidents created in
// [from, to) as read at now, and reports incidents committed more than
// maxCommits times.
func checkStored(t *testing.T, s *memSink, incs []model.Incident, from, to, now time.Time, maxCommits int) {
	t.Helper()
	got, commits, _ := s.snapshot()
	n := 0
	for _, in := range incs {
		if in.CreatedAt.Before(from) || !in.CreatedAt.Before(to) {
			if _, ok := got[in.ID]; ok {
				t.Errorf("%s (created %s) stored, outside [%s, %s)", in.ID, in.CreatedAt, from, to)
			}
			continue
		}
		n++
		g, ok := got[in.ID]
		if !ok {
			if n < 20 {
				t.Errorf("%s (created %s) not stored", in.ID, in.CreatedAt)
			}
			continue
		}
		if w := want(in, now); !incidentEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", in.ID, g, w)
		}
		if maxCommits > 0 && commits[in.ID] > maxCommits {
			t.Errorf("%s committed %d times", in.ID, commits[in.ID])
		}
	}
	if len(got) != n {
		t.Errorf("stored %d incidents, want %d", len(got), n)
	}
}

func incidentEqual(a, b model.Incident) bool {
	return a.ID == b.ID && a.Service == b.Service && a.Title == b.Title && a.Urgency == b.Urgency &&
		a.Status == b.Status && a.URL == b.URL && a.CreatedAt.Equal(b.CreatedAt) &&
		a.AcknowledgedAt.Equal(b.AcknowledgedAt) && a.ResolvedAt.Equal(b.ResolvedAt) && slices.Equal(a.Assignees, b.Assignees)
}
