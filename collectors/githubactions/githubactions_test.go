package githubactions

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/internal/model"
)

const repo = "acme/search-api"

func diffRuns(t *testing.T, got, want map[string]model.CIRun) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing run %s (created %s)", k, w.CreatedAt)
		case g != w:
			t.Errorf("run %s:\n got %+v\nwant %+v", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected run %s", k)
		}
	}
}

// TestFixtures reads the recorded GitHub payloads through go-github: a
// listing, Link pagination (per_page=1 recordings), a single run, /timing.
func TestFixtures(t *testing.T) {
	type answer struct {
		file, meta string
		status     int
	}
	type tc struct {
		name    string
		wf      Workflow
		now     time.Time
		since   time.Time
		cursor  *cursor
		routes  map[string]answer // "path?page" → answer
		edit    func(name string, body []byte) []byte
		want    []model.CIRun
		deploys []model.Deploy
		reqs    int
	}
	created := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	cases := []tc{{
		name:  "listing with updated_at 13 months after the run; /timing unavailable",
		wf:    Workflow{Repo: "PyGithub/PyGithub", Workflow: "ci.yml", Branch: "patch-1"},
		now:   created("2022-12-24T12:00:00Z"),
		since: created("2022-12-24T00:00:00Z"),
		routes: map[string]answer{
			"/repos/PyGithub/PyGithub/actions/workflows/ci.yml/runs?":  {"actions_runs.json", "actions_runs", 200},
			"/repos/PyGithub/PyGithub/actions/runs/3770390952/timing?": {status: 404},
		},
		want: []model.CIRun{{Repo: "PyGithub/PyGithub", Workflow: "ci.yml", RunID: 3770390952, Attempt: 1, Branch: "patch-1",
			SHA: "84e26cfaa0eede8179f34272f03afa28d76a07a7", Event: "pull_request", Status: "completed", Conclusion: "success",
			CreatedAt: created("2022-12-24T07:29:12Z"), StartedAt: created("2022-12-24T07:29:12Z"),
			Duration: 0}}, // updated_at 2024-01-29: not 400 days; unknown
		reqs: 2,
	}, {
		name:  "pagination by the recorded Link headers",
		wf:    Workflow{Repo: "octo/test", Workflow: "workflow.yml", Branch: "main", Deploys: true},
		now:   created("2022-09-22T23:30:00Z"),
		since: created("2022-09-22T00:00:00Z"),
		routes: map[string]answer{
			"/repos/octo/test/actions/workflows/workflow.yml/runs?":  {"actions_runs_page1.json", "actions_runs_page1", 200},
			"/repos/octo/test/actions/workflows/workflow.yml/runs?2": {"actions_runs_page2.json", "actions_runs_page2", 200},
			"/repos/octo/test/actions/workflows/workflow.yml/runs?3": {"actions_runs_page3.json", "actions_runs_page3", 200},
		},
		want: []model.CIRun{
			{Repo: "octo/test", Workflow: "workflow.yml", RunID: 3109327341, Attempt: 1, Branch: "main",
				Event: "workflow_dispatch", Status: "completed", Conclusion: "success", CreatedAt: created("2022-09-22T23:06:16Z"),
				StartedAt: created("2022-09-22T23:06:16Z"), Duration: 18 * time.Second, Deploys: true},
			{Repo: "octo/test", Workflow: "workflow.yml", RunID: 3109327220, Attempt: 1, Branch: "main",
				Event: "workflow_dispatch", Status: "completed", Conclusion: "success", CreatedAt: created("2022-09-22T23:06:15Z"),
				StartedAt: created("2022-09-22T23:06:15Z"), Duration: 13 * time.Second, Deploys: true},
			{Repo: "octo/test", Workflow: "workflow.yml", RunID: 3109325726, Attempt: 1, Branch: "main",
				Event: "workflow_dispatch", Status: "completed", Conclusion: "success", CreatedAt: created("2022-09-22T23:05:57Z"),
				StartedAt: created("2022-09-22T23:05:57Z"), Duration: 12 * time.Second, Deploys: true},
		},
		reqs: 3,
	}, {
		name: "pending run re-read by id; updated_at moved, /timing has the wall time",
		wf:   Workflow{Repo: "PyGithub/PyGithub", Workflow: "ci.yml", Branch: "feat/workflow-run", Deploys: true},
		now:  created("2023-01-13T13:20:00Z"),
		cursor: &cursor{Through: created("2023-01-13T12:00:00Z"), Floor: "2023-01-13",
			Pending: []int64{3881497935}},
		routes: map[string]answer{
			"/repos/PyGithub/PyGithub/actions/workflows/ci.yml/runs?":  {status: 200}, // empty listing
			"/repos/PyGithub/PyGithub/actions/runs/3881497935?":        {"actions_run.json", "actions_run", 200},
			"/repos/PyGithub/PyGithub/actions/runs/3881497935/timing?": {"actions_run_timing.json", "actions_run_timing", 200},
		},
		edit: func(name string, body []byte) []byte {
			if name != "actions_run.json" {
				return body
			}
			return []byte(strings.Replace(string(body), `"updated_at":"2023-01-10T08:28:20Z"`, `"updated_at":"2024-01-29T23:29:45Z"`, 1))
		},
		want: []model.CIRun{{Repo: "PyGithub/PyGithub", Workflow: "ci.yml", RunID: 3881497935, Attempt: 1, Branch: "feat/workflow-run",
			SHA: "c6e5cac67a58a4eb11f1f28567a77a6e2cc8ee98", Event: "pull_request", Status: "completed", Conclusion: "success",
			CreatedAt: created("2023-01-10T08:24:19Z"), StartedAt: created("2023-01-10T08:24:19Z"), Duration: 241 * time.Second, Deploys: true}},
		deploys: []model.Deploy{{Repo: "PyGithub/PyGithub", Workflow: "ci.yml", RunID: 3881497935, SHA: "c6e5cac67a58a4eb11f1f28567a77a6e2cc8ee98",
			Time: created("2023-01-10T08:28:20Z")}},
		reqs: 3,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				key := r.URL.Path + "?" + r.URL.Query().Get("page")
				mu.Lock()
				seen = append(seen, r.URL.Path+"?"+r.URL.RawQuery)
				mu.Unlock()
				a, ok := c.routes[key]
				if !ok {
					t.Errorf("unexpected request %s", r.URL)
					a = answer{status: 404}
				}
				if q := r.URL.Query(); strings.HasSuffix(r.URL.Path, "/runs") && (q.Get("branch") != c.wf.Branch || q.Get("per_page") != "100") {
					t.Errorf("query %s", r.URL.RawQuery)
				}
				if a.meta != "" {
					for k, vs := range metaHeaders(t, a.meta) {
						rw.Header()[k] = vs
					}
				}
				rw.Header().Set("Content-Type", "application/json; charset=utf-8")
				rw.WriteHeader(a.status)
				switch {
				case a.file != "":
					body := readFile(t, a.file)
					if c.edit != nil {
						body = c.edit(a.file, body)
					}
					rw.Write(body)
				case a.status == 404:
					rw.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`))
				default:
					rw.Write([]byte(`{"total_count":0,"workflow_runs":[]}`))
				}
			}))
			defer srv.Close()
			col, err := New(Config{Token: testToken, APIURL: srv.URL, Workflows: []Workflow{c.wf}},
				Options{HTTPClient: collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true, Stats: &collectors.Stats{}})})
			if err != nil {
				t.Fatal(err)
			}
			sink := newSink()
			if c.cursor != nil {
				sink.cursors[Name+"\x00"+col.CursorKeys()[0]] = c.cursor.encode()
			}
			err = col.Collect(t.Context(), collectors.Run{Since: c.since, Now: c.now, Sink: sink})
			if err != nil {
				t.Fatal(err)
			}
			runs, deps := sink.snapshot()
			want := map[string]model.CIRun{}
			for _, r := range c.want {
				if r.SHA == "" {
					r.SHA = runs[r.Key()].SHA // the page fixtures' SHAs are not the point
				}
				want[r.Key()] = r
			}
			diffRuns(t, runs, want)
			if len(deps) != len(c.deploys) && !(c.deploys == nil && len(deps) == 3) {
				t.Errorf("deploys %v", deps)
			}
			for _, d := range c.deploys {
				if deps[d.Key()] != d {
					t.Errorf("deploy %+v, want %+v", deps[d.Key()], d)
				}
			}
			if len(seen) != c.reqs {
				t.Errorf("%d requests, want %d:\n%s", len(seen), c.reqs, strings.Join(seen, "\n"))
			}
			cur := sink.cursor(t, col.CursorKeys()[0])
			if len(cur.Pending) != 0 || cur.Walk != nil || cur.Through.IsZero() {
				t.Errorf("cursor %s", sink.rawCursor(col.CursorKeys()[0]))
			}
		})
	}
}

// TestBackfill: fields of every run, the branch filter, deploys, and that
// only the configured workflows are asked for.
func TestBackfill(t *testing.T) {
	from := T.Add(-20 * 24 * time.Hour)
	ci := wfGen{repo: repo, file: "ci.yml", branch: "main", n: 150, other: 40, from: from, to: T.Add(-time.Hour)}
	deploy := wfGen{repo: repo, file: "deploy.yml", branch: "main", deploys: true, n: 30, other: 5, from: from, to: T.Add(-time.Hour)}
	lint := wfGen{repo: repo, file: "lint.yml", branch: "main", n: 50, from: from, to: T}
	e := newEnv(t, newWorld(T, []wfGen{ci, deploy, lint}))
	c := e.collector(Options{}, ci.config(), deploy.config())
	if err := e.collect(c, T.Add(-30*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	runs, deps := e.sink.snapshot()
	want := expected(e.w, T, ci.config(), deploy.config())
	if len(want) != 180 {
		t.Fatalf("test world: %d runs", len(want))
	}
	diffRuns(t, runs, want)

	// A deploy per successful deploy.yml run, at its completion.
	nDeploys := 0
	for _, r := range want {
		if r.Workflow != "deploy.yml" || r.Conclusion != "success" {
			continue
		}
		nDeploys++
		d := deps[fmt.Sprintf("%s/deploy.yml/%d", repo, r.RunID)]
		if d.SHA != r.SHA || !d.Time.Equal(r.StartedAt.Add(r.Duration)) || d.Repo != repo || d.Workflow != "deploy.yml" {
			t.Errorf("deploy of run %d: %+v; run started %s for %s", r.RunID, d, r.StartedAt, r.Duration)
		}
	}
	if nDeploys == 0 || len(deps) != nDeploys {
		t.Errorf("%d deploys, want %d", len(deps), nDeploys)
	}

	reqs := e.requests()
	for _, r := range reqs {
		if strings.Contains(r.Path, "lint.yml") || !strings.Contains(r.Path, "/actions/workflows/") {
			t.Errorf("request %s?%s", r.Path, r.Query)
		}
		if q, _ := url.ParseQuery(r.Query); q.Get("branch") != "main" || q.Get("per_page") != "100" {
			t.Errorf("query %s", r.Query)
		}
	}
	// Today's runs, then the rest: ci.yml has 2 pages of them.
	if len(reqs) != 5 {
		t.Errorf("%d requests:\n%v", len(reqs), reqs)
	}
	if n := e.counter.Count("GET /repos/{owner}/{repo}/actions/runs/{run_id}/timing"); n != 0 {
		t.Errorf("%d timing requests", n)
	}
	for _, key := range c.CursorKeys() {
		cur := e.sink.cursor(t, key)
		if !cur.Through.Equal(T.Add(-settle)) || cur.Floor != "2026-03-04" || cur.ETag == "" || cur.Walk != nil || len(cur.Pending) != 0 {
			t.Errorf("cursor %s: %s", key, e.sink.rawCursor(key))
		}
	}
}

// TestYearOfRuns: 3 workflows × 3,000 runs in a year, more than the 1,000
// one listing reaches, are collected completely in close to the minimum
// number of pages; runs whose updated_at moved months later get their
// wall time from /timing, once each.
func TestYearOfRuns(t *testing.T) {
	from := T.Add(-365 * 24 * time.Hour)
	var gens []wfGen
	for _, f := range []string{"ci.yml", "deploy.yml", "e2e.yml"} {
		gens = append(gens, wfGen{repo: repo, file: f, branch: "main", deploys: f == "deploy.yml", n: 3000, from: from, to: T.Add(-time.Hour)})
	}
	e := newEnv(t, newWorld(T, gens))
	var cfgs []Workflow
	for _, g := range gens {
		cfgs = append(cfgs, g.config())
	}
	c := e.collector(Options{}, cfgs...)
	if err := e.collect(c, T.Add(-366*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	runs, _ := e.sink.snapshot()
	want := expected(e.w, T, cfgs...)
	if len(want) != 9000 {
		t.Fatalf("test world: %d runs", len(want))
	}
	diffRuns(t, runs, want) // exact durations, late updated_at or not

	reqs := e.requests()
	lists, timings, other := 0, map[string]int{}, 0
	for _, r := range reqs {
		switch {
		case strings.HasSuffix(r.Path, "/runs"):
			lists++
		case strings.HasSuffix(r.Path, "/timing"):
			timings[r.Path]++
		default:
			other++
		}
	}
	const minPages = 3 * 3000 / perPage
	t.Logf("%d list requests for %d runs (minimum %d pages); %d /timing requests; %d other", lists, len(runs), minPages, len(timings), other)
	// Per workflow: 1 page for today (whose ETag later polls use), then
	// windows of 1,000 runs with a few re-read on each boundary day.
	if lists > int(math.Ceil(1.1*minPages)) {
		t.Errorf("%d list requests, more than 1.1 × %d", lists, minPages)
	}
	if other != 0 {
		t.Errorf("%d other requests", other)
	}
	// /timing: each run with an implausible updated_at exactly once, and
	// no other run.
	late := 0
	for path, n := range timings {
		if n != 1 {
			t.Errorf("%s asked %d times", path, n)
		}
		var id int64
		fmt.Sscanf(path[strings.LastIndex(path[:len(path)-len("/timing")], "/")+1:], "%d", &id)
		raw := getRun(t, e.srv.URL, id)
		if gap := raw.UpdatedAt.Sub(raw.RunStartedAt); gap < 30*24*time.Hour {
			t.Errorf("run %d: /timing asked though updated_at − run_started_at = %s", id, gap)
		}
		late++
	}
	if late == 0 {
		t.Error("the fake served no run with a late updated_at")
	}
	if late > DefaultMaxTimingRequests {
		t.Errorf("%d late runs: beyond the timing budget", late)
	}
	// And the capped listings were split by created ranges.
	split := 0
	for _, r := range reqs {
		if q, _ := url.ParseQuery(r.Query); strings.Contains(q.Get("created"), "..") {
			split++
		}
	}
	if split == 0 {
		t.Error("no created range queries")
	}
}

type rawRun struct {
	UpdatedAt    time.Time `json:"updated_at"`
	RunStartedAt time.Time `json:"run_started_at"`
}

func getRun(t *testing.T, base string, id int64) rawRun {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/repos/%s/actions/runs/%d", base, repo, id), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r rawRun
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLateUpdatedAtWithoutTiming: with /timing disallowed, a run whose
// updated_at moved months later is stored with an unknown (0) duration,
// never months.
func TestLateUpdatedAtWithoutTiming(t *testing.T) {
	g := wfGen{repo: repo, file: "ci.yml", branch: "main", n: 2000, from: T.Add(-365 * 24 * time.Hour), to: T.Add(-time.Hour)}
	e := newEnv(t, newWorld(T, []wfGen{g}))
	c := e.collector(Options{MaxTimingRequests: -1}, g.config())
	if err := e.collect(c, T.Add(-366*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	runs, _ := e.sink.snapshot()
	want := expected(e.w, T, g.config())
	unknown := 0
	for k, r := range runs {
		w := want[k]
		switch r.Duration {
		case w.Duration:
		case 0:
			unknown++
			raw := getRun(t, e.srv.URL, r.RunID)
			if raw.UpdatedAt.Sub(raw.RunStartedAt) < 30*24*time.Hour {
				t.Errorf("run %d: unknown duration though updated_at is plausible", r.RunID)
			}
		default:
			t.Errorf("run %d: duration %s, want %s", r.RunID, r.Duration, w.Duration)
		}
	}
	if unknown == 0 {
		t.Error("no run with a late updated_at")
	}
	if n := countPath(e.requests(), "/timing"); n != 0 {
		t.Errorf("%d timing requests", n)
	}
}

// TestQueuedRunReRead: a run queued at one poll is stored as such, kept in
// the cursor, and completed (with its deploy) by a later poll.
func TestQueuedRunReRead(t *testing.T) {
	g := wfGen{repo: repo, file: "deploy.yml", branch: "main", deploys: true, n: 20, from: T.Add(-5 * 24 * time.Hour), to: T.Add(-time.Hour)}
	late := model.CIRun{Repo: repo, Workflow: "deploy.yml", RunID: 777, Attempt: 1, Branch: "main", SHA: strings.Repeat("ab", 20),
		Event: "push", Status: "completed", Conclusion: "success", CreatedAt: T.Add(-5 * time.Minute), StartedAt: T.Add(2 * time.Minute), Duration: 8 * time.Minute}
	e := newEnv(t, newWorld(T.Add(3*time.Hour), []wfGen{g}, late))
	e.setNow(T)
	c := e.collector(Options{}, g.config())
	key := c.CursorKeys()[0]
	if err := e.collect(c, T.Add(-7*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	runs, deps := e.sink.snapshot()
	diffRuns(t, runs, expected(e.w, T, g.config()))
	r := runs[late.Key()]
	if r.Status != "queued" || r.Duration != 0 {
		t.Errorf("queued run: %+v", r)
	}
	if _, ok := deps[late.Key()]; ok {
		t.Error("deploy of a queued run")
	}
	if cur := e.sink.cursor(t, key); len(cur.Pending) != 1 || cur.Pending[0] != 777 || cur.ETag == "" {
		t.Errorf("cursor %s", e.sink.rawCursor(key))
	}
	e.requests()

	// Still running: re-read, still pending.
	e.setNow(T.Add(5 * time.Minute))
	if err := e.collect(c, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	if runs, _ := e.sink.snapshot(); runs[late.Key()].Status != "in_progress" {
		t.Errorf("running: %+v", runs[late.Key()])
	}
	// Finished.
	e.setNow(T.Add(30 * time.Minute))
	if err := e.collect(c, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	runs, deps = e.sink.snapshot()
	diffRuns(t, runs, expected(e.w, T.Add(30*time.Minute), g.config()))
	if d := deps[late.Key()]; !d.Time.Equal(T.Add(10*time.Minute)) || d.SHA != late.SHA {
		t.Errorf("deploy %+v", d)
	}
	cur := e.sink.cursor(t, key)
	if len(cur.Pending) != 0 || cur.ETag == "" || cur.Floor != "2026-03-04" {
		t.Errorf("cursor %s", e.sink.rawCursor(key))
	}
	reqs := e.requests()
	if len(reqs) != 2 || countPath(reqs, "/runs") != 2 {
		t.Errorf("requests %v", reqs)
	}
}

// TestPendingBeyondListing: a run waiting (for approval, say) while the
// listing moved on is re-read by id.
func TestPendingBeyondListing(t *testing.T) {
	g := wfGen{repo: repo, file: "deploy.yml", branch: "main", deploys: true, n: 250, from: T.Add(-3 * 24 * time.Hour), to: T.Add(-time.Hour)}
	waiting := model.CIRun{Repo: repo, Workflow: "deploy.yml", RunID: 555, Attempt: 1, Branch: "main", SHA: strings.Repeat("cd", 20),
		Event: "push", Status: "completed", Conclusion: "success", CreatedAt: T.Add(-80 * time.Hour), StartedAt: T.Add(time.Hour), Duration: 10 * time.Minute}
	e := newEnv(t, newWorld(T.Add(3*time.Hour), []wfGen{g}, waiting))
	e.setNow(T)
	c := e.collector(Options{}, g.config())
	key := c.CursorKeys()[0]
	if err := e.collect(c, T.Add(-4*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	cur := e.sink.cursor(t, key)
	if len(cur.Pending) != 1 || cur.ETag != "" {
		// The listing of today does not hold the waiting run: a 304 on it
		// would not vouch for it.
		t.Errorf("cursor %s", e.sink.rawCursor(key))
	}
	e.requests()
	e.setNow(T.Add(2 * time.Hour))
	if err := e.collect(c, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	runs, deps := e.sink.snapshot()
	if r := runs[waiting.Key()]; r.Status != "completed" || r.Duration != 10*time.Minute {
		t.Errorf("waiting run: %+v", r)
	}
	if d := deps[waiting.Key()]; !d.Time.Equal(T.Add(time.Hour + 10*time.Minute)) {
		t.Errorf("deploy %+v", d)
	}
	reqs := e.requests()
	if len(reqs) != 2 || countPath(reqs, "/actions/runs/555") != 1 {
		t.Errorf("requests %v", reqs)
	}
	if cur := e.sink.cursor(t, key); len(cur.Pending) != 0 || cur.ETag == "" {
		t.Errorf("cursor %s", e.sink.rawCursor(key))
	}
}

// TestNotModified: a poll with nothing new costs one conditional request
// per workflow, answered 304, and no primary rate-limit budget.
func TestNotModified(t *testing.T) {
	var gens []wfGen
	var cfgs []Workflow
	for _, f := range []string{"ci.yml", "deploy.yml", "e2e.yml"} {
		g := wfGen{repo: repo, file: f, branch: "main", n: 300, other: 30, from: T.Add(-30 * 24 * time.Hour), to: T.Add(-time.Hour)}
		gens = append(gens, g)
		cfgs = append(cfgs, g.config())
	}
	fresh := model.CIRun{Repo: repo, Workflow: "ci.yml", RunID: 999, Attempt: 1, Branch: "main", SHA: strings.Repeat("ef", 20),
		Event: "push", Status: "completed", Conclusion: "success", CreatedAt: T.Add(time.Hour), StartedAt: T.Add(time.Hour + 10*time.Second), Duration: 4 * time.Minute}
	e := newEnv(t, newWorld(T.Add(3*time.Hour), gens, fresh))
	e.setNow(T)
	c := e.collector(Options{}, cfgs...)
	if err := e.collect(c, T.Add(-40*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	first := e.requests()
	_, before, _, _ := e.budget.Snapshot()
	runsBefore, _ := e.sink.snapshot()
	commits := e.sink.commits

	e.setNow(T.Add(30 * time.Minute))
	if err := e.collect(c, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	reqs := e.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3:\n%v", len(reqs), reqs)
	}
	last := first[len(first)-1].Remaining
	for _, r := range reqs {
		if r.Status != http.StatusNotModified || r.INM == "" || r.Remaining != last {
			t.Errorf("request %+v; remaining before %s", r, last)
		}
	}
	if _, after, _, _ := e.budget.Snapshot(); after != before {
		t.Errorf("budget remaining %d → %d", before, after)
	}
	if e.sink.commits != commits {
		t.Errorf("%d commits for nothing new", e.sink.commits-commits)
	}
	if e.stats.Count(Name, http.StatusNotModified) != 3 {
		t.Errorf("stats: %v", e.stats.Responses())
	}

	// A new run on ci.yml: one 200 there, 304s elsewhere.
	e.setNow(T.Add(2 * time.Hour))
	if err := e.collect(c, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	reqs = e.requests()
	statuses := map[int]int{}
	for _, r := range reqs {
		statuses[r.Status]++
	}
	if len(reqs) != 3 || statuses[200] != 1 || statuses[304] != 2 {
		t.Errorf("requests %v", reqs)
	}
	runs, _ := e.sink.snapshot()
	if len(runs) != len(runsBefore)+1 || runs[fresh.Key()].Duration != 4*time.Minute {
		t.Errorf("%d runs, then %d; fresh %+v", len(runsBefore), len(runs), runs[fresh.Key()])
	}
}

// TestErrors: answers the shared client retries, and ones that end a
// workflow's poll with a one-line error while the others go on.
func TestErrors(t *testing.T) {
	ci := wfGen{repo: repo, file: "ci.yml", branch: "main", n: 250, from: T.Add(-10 * 24 * time.Hour), to: T.Add(-time.Hour)}
	deploy := wfGen{repo: repo, file: "deploy.yml", branch: "main", deploys: true, n: 40, from: T.Add(-10 * 24 * time.Hour), to: T.Add(-time.Hour)}
	secondary := func(t *testing.T) *failure {
		return &failure{status: 403, header: metaHeaders(t, "error_403_secondary_rate_limit"), body: string(readFile(t, "error_403_secondary_rate_limit.json"))}
	}
	jsonErr := func(status int, msg string) *failure {
		return &failure{status: status, body: fmt.Sprintf(`{"message":%q,"documentation_url":"https://docs.github.com/rest"}`, msg)}
	}
	isCI := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/ci.yml/") }
	type tc struct {
		name   string
		extra  []Workflow
		prime  bool // a successful poll first
		inject func(t *testing.T, n int, r *http.Request) *failure
		err    string // "" for success; else the exact error, or a prefix ending in "…"
		sleeps []time.Duration
		check  func(t *testing.T, e *env)
	}
	cases := []tc{{
		name: "secondary rate limit 403 with Retry-After is retried",
		inject: func(t *testing.T, n int, r *http.Request) *failure {
			if n == 0 {
				return secondary(t)
			}
			return nil
		},
		sleeps: []time.Duration{60 * time.Second},
	}, {
		name: "plain 429 is retried",
		inject: func(t *testing.T, n int, r *http.Request) *failure {
			if n == 1 {
				return jsonErr(429, "Too Many Requests")
			}
			return nil
		},
		sleeps: []time.Duration{-1}, // a backoff
	}, {
		name: "5xx burst is retried",
		inject: func(t *testing.T, n int, r *http.Request) *failure {
			switch n {
			case 0:
				return &failure{status: 502, header: http.Header{"Content-Type": {"text/html"}}, body: "<html>Bad Gateway</html>"}
			case 1:
				return jsonErr(503, "Service Unavailable")
			case 2:
				return &failure{status: 500, body: ""}
			}
			return nil
		},
		sleeps: []time.Duration{-1, -1, -1},
	}, {
		name: "5xx without end",
		inject: func(t *testing.T, n int, r *http.Request) *failure {
			if isCI(r) {
				return jsonErr(503, "Service Unavailable")
			}
			return nil
		},
		err:    "github_actions: list runs acme/search-api/ci.yml: 503 Service Unavailable after 6 attempts",
		sleeps: []time.Duration{-1, -1, -1, -1, -1},
	}, {
		name:  "401 after a good poll: one line per workflow, data kept",
		prime: true,
		inject: func(t *testing.T, n int, r *http.Request) *failure {
			return jsonErr(401, "Bad credentials")
		},
		err: "github_actions: list runs acme/search-api/ci.yml: 401 Bad credentials; github_actions: list runs acme/search-api/deploy.yml: 401 Bad credentials",
	}, {
		name:  "unknown workflow: 404 for it, the others collected",
		extra: []Workflow{{Repo: repo, Workflow: "missing.yml", Branch: "main"}},
		err:   "github_actions: list runs acme/search-api/missing.yml: 404 Not Found",
	}, {
		name: "malformed page 2: page 1 kept, the next poll resumes",
		inject: func(t *testing.T, n int, r *http.Request) *failure {
			if isCI(r) && r.URL.Query().Get("page") == "2" {
				return &failure{status: 200, body: `{"total_count":250,"workflow_runs":[{"id":1,"name":"CI"`}
			}
			return nil
		},
		err: "github_actions: list runs acme/search-api/ci.yml: malformed response (page 2): unexpected EOF",
		check: func(t *testing.T, e *env) {
			cur := e.sink.cursor(t, "acme/search-api/ci.yml")
			runs, _ := e.sink.snapshot()
			ciRuns := 0
			for _, r := range runs {
				if r.Workflow == "ci.yml" {
					ciRuns++
				}
			}
			if cur.Walk == nil || ciRuns < 100 || ciRuns == 250 {
				t.Errorf("after the failure: %d ci runs, cursor %s", ciRuns, e.sink.rawCursor("acme/search-api/ci.yml"))
			}
		},
	}, {
		name: "malformed run timing is an error for that workflow only",
		inject: func(t *testing.T, n int, r *http.Request) *failure {
			if isCI(r) && n == 0 {
				// A run whose updated_at moved: /timing is asked.
				return &failure{status: 200, body: `{"total_count":1,"workflow_runs":[{"id":42,"status":"completed","conclusion":"success","head_branch":"main",` +
					`"created_at":"2026-03-04T09:00:00Z","run_started_at":"2026-03-04T09:00:05Z","updated_at":"2026-09-01T00:00:00Z"}]}`}
			}
			if strings.HasSuffix(r.URL.Path, "/runs/42/timing") {
				return &failure{status: 200, body: `{"billable":{},"run_duration_ms":"soon"}`}
			}
			return nil
		},
		err: "github_actions: run timing acme/search-api/ci.yml#42: malformed response: json: cannot unmarshal string into Go struct field WorkflowRunUsage.run_duration_ms of type int64",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, newWorld(T, []wfGen{ci, deploy}))
			col := e.collector(Options{}, append([]Workflow{ci.config(), deploy.config()}, c.extra...)...)
			if c.prime {
				if err := e.collect(col, T.Add(-30*24*time.Hour), false); err != nil {
					t.Fatal(err)
				}
				e.setNow(T.Add(time.Hour))
				e.requests()
			}
			primedRuns, _ := e.sink.snapshot()
			primedCursors := map[string]string{}
			for _, k := range col.CursorKeys() {
				primedCursors[k] = e.sink.rawCursor(k)
			}
			e.requests()
			e.mu.Lock()
			base := e.served
			e.inject = func(n int, r *http.Request) *failure {
				if c.inject == nil {
					return nil
				}
				return c.inject(t, n-base, r)
			}
			e.mu.Unlock()
			err := e.collect(col, T.Add(-30*24*time.Hour), false)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("error: %v", err)
			case c.err != "" && (err == nil || err.Error() != c.err):
				t.Fatalf("error:\n got %v\nwant %s", err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error on several lines: %q", err)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Error("token in error")
			}
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Errorf("no *Error in %v", err)
				}
			}
			slept := e.slept()
			if len(slept) != len(c.sleeps) {
				t.Errorf("slept %v, want %v", slept, c.sleeps)
			} else {
				for i, d := range c.sleeps {
					if d >= 0 && slept[i] != d {
						t.Errorf("sleep %d: %s, want %s", i, slept[i], d)
					}
				}
			}
			runs, _ := e.sink.snapshot()
			switch {
			case c.prime:
				// Nothing lost, nothing moved.
				if len(runs) != len(primedRuns) {
					t.Errorf("%d runs, had %d", len(runs), len(primedRuns))
				}
				for k, v := range primedCursors {
					if e.sink.rawCursor(k) != v {
						t.Errorf("cursor %s moved: %s → %s", k, v, e.sink.rawCursor(k))
					}
				}
			case c.err == "":
				diffRuns(t, runs, expected(e.w, T, ci.config(), deploy.config()))
			default:
				// The other workflow is complete.
				want := expected(e.w, T, deploy.config())
				for k := range want {
					if _, ok := runs[k]; !ok {
						t.Errorf("deploy.yml run %s missing", k)
						break
					}
				}
			}
			if c.check != nil {
				c.check(t, e)
			}
			// Whatever went wrong, a later clean poll completes the data.
			e.mu.Lock()
			e.inject = nil
			e.mu.Unlock()
			col = e.collector(Options{}, ci.config(), deploy.config())
			if err := e.collect(col, T.Add(-30*24*time.Hour), false); err != nil {
				t.Fatal(err)
			}
			runs, _ = e.sink.snapshot()
			delete(runs, "acme/search-api/ci.yml/42")
			diffRuns(t, runs, expected(e.w, e.clock(), ci.config(), deploy.config()))
		})
	}
}

// TestResume: a poll interrupted by a failing store resumes where it
// stopped instead of reading everything again.
func TestResume(t *testing.T) {
	g := wfGen{repo: repo, file: "ci.yml", branch: "main", n: 2500, from: T.Add(-200 * 24 * time.Hour), to: T.Add(-time.Hour)}
	e := newEnv(t, newWorld(T, []wfGen{g}))
	c := e.collector(Options{MaxTimingRequests: -1}, g.config())
	e.sink.failAt = 15
	err := e.collect(c, T.Add(-365*24*time.Hour), false)
	if err == nil || err.Error() != "github_actions: store acme/search-api/ci.yml: disk full" {
		t.Fatalf("error %v", err)
	}
	firstReqs := len(e.requests())
	cur := e.sink.cursor(t, "acme/search-api/ci.yml")
	if cur.Walk == nil || cur.Walk.Hi == "" || !cur.Through.IsZero() {
		t.Fatalf("cursor after the failure: %s", e.sink.rawCursor("acme/search-api/ci.yml"))
	}
	e.sink.failAt = 0
	e.setNow(T.Add(time.Hour))
	if err := e.collect(c, T.Add(-365*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	secondReqs := len(e.requests())
	runs, _ := e.sink.snapshot()
	want := expected(e.w, T, g.config())
	for k, r := range runs {
		if w := want[k]; r.Duration == 0 && w.Duration != 0 {
			r.Duration = w.Duration // late updated_at, timing not asked
			runs[k] = r
		}
	}
	diffRuns(t, runs, want)
	// 25 pages in all, and a few for the windows and the resumed poll.
	t.Logf("requests: %d before the failure, %d after", firstReqs, secondReqs)
	if firstReqs+secondReqs > 25+6 {
		t.Errorf("%d + %d requests", firstReqs, secondReqs)
	}
	if cur := e.sink.cursor(t, "acme/search-api/ci.yml"); cur.Walk != nil || cur.ETag == "" || !cur.Through.Equal(T.Add(time.Hour-settle)) {
		t.Errorf("final cursor %s", e.sink.rawCursor("acme/search-api/ci.yml"))
	}
}

// TestBackfillRereads: a backfill reads again from Since although the
// cursor is further along; a normal poll does not.
func TestBackfillRereads(t *testing.T) {
	g := wfGen{repo: repo, file: "ci.yml", branch: "main", n: 120, from: T.Add(-20 * 24 * time.Hour), to: T.Add(-time.Hour)}
	e := newEnv(t, newWorld(T.Add(time.Hour), []wfGen{g}))
	e.setNow(T)
	c := e.collector(Options{}, g.config())
	if err := e.collect(c, T.Add(-5*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	// From the start of Since's (UTC) day.
	want := expected(e.w, T, g.config())
	for k, r := range want {
		if r.CreatedAt.Before(time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)) {
			delete(want, k)
		}
	}
	runs, _ := e.sink.snapshot()
	diffRuns(t, runs, want)
	e.setNow(T.Add(time.Hour))
	if err := e.collect(c, T.Add(-30*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if runs, _ := e.sink.snapshot(); len(runs) != len(want) {
		t.Errorf("a normal poll read back: %d runs", len(runs))
	}
	if err := e.collect(c, T.Add(-30*24*time.Hour), true); err != nil {
		t.Fatal(err)
	}
	runs, _ = e.sink.snapshot()
	diffRuns(t, runs, expected(e.w, T.Add(time.Hour), g.config()))
}

// TestWorkflowByIDAndAllBranches: a numeric workflow is asked for by id;
// branch "" reads every branch (and a deploy on any branch counts).
func TestWorkflowByIDAndAllBranches(t *testing.T) {
	g := wfGen{repo: repo, file: "4242", branch: "main", deploys: true, n: 30, other: 10, from: T.Add(-3 * 24 * time.Hour), to: T.Add(-time.Hour)}
	e := newEnv(t, newWorld(T, []wfGen{g}))
	cfg := g.config()
	cfg.Branch = ""
	c := e.collector(Options{}, cfg)
	if got := c.CursorKeys(); len(got) != 1 || got[0] != "acme/search-api/4242@*" {
		t.Errorf("keys %v", got)
	}
	if err := e.collect(c, T.Add(-5*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	runs, deps := e.sink.snapshot()
	diffRuns(t, runs, expected(e.w, T, cfg))
	if len(runs) != 40 || len(deps) < 30 {
		t.Errorf("%d runs, %d deploys", len(runs), len(deps))
	}
	for _, r := range e.requests() {
		if r.Path != "/repos/acme/search-api/actions/workflows/4242/runs" || strings.Contains(r.Query, "branch") {
			t.Errorf("request %s?%s", r.Path, r.Query)
		}
	}
}

func TestNew(t *testing.T) {
	wf := []Workflow{{Repo: repo, Workflow: "ci.yml", Branch: "main"}}
	for _, c := range []struct {
		src Config
		err string
	}{
		{Config{APIURL: "ftp://x/", Workflows: wf}, `github_actions: api_url "ftp://x/" is not an http(s) URL`},
		{Config{APIURL: "https://user:pw@ghe.example.com/api/v3/", Workflows: wf}, `github_actions: api_url "https://user:xxxxx@ghe.example.com/api/v3/" must not carry credentials, a query or a fragment (put the token in token:)`},
		{Config{}, "github_actions: no workflows configured"},
		{Config{Workflows: []Workflow{{Repo: "acme", Workflow: "ci.yml"}}}, `github_actions: workflows[0]: repo "acme": want owner/name`},
		{Config{Workflows: []Workflow{{Repo: repo, Workflow: " "}}}, "github_actions: workflows[0] (acme/search-api): workflow is empty: want a file name (ci.yml) or id"},
	} {
		if _, err := New(c.src, Options{}); err == nil || err.Error() != c.err {
			t.Errorf("error %v, want %s", err, c.err)
		}
	}
	c, err := New(Config{Workflows: []Workflow{
		{Repo: repo, Workflow: "ci.yml", Branch: "main"},
		{Repo: repo, Workflow: ".github/workflows/deploy.yml", Branch: "main", Deploys: true},
		{Repo: repo, Workflow: "ci.yml", Branch: "main", Deploys: true}, // duplicate: merged
		{Repo: repo, Workflow: "ci.yml", Branch: "release"},
	}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme/search-api/ci.yml", "acme/search-api/.github/workflows/deploy.yml", "acme/search-api/ci.yml@release"}
	if got := c.CursorKeys(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("keys %v", got)
	}
	if c.Name() != Name || c.baseURL.String() != DefaultAPIURL || c.workflows[1].ref != "deploy.yml" || !c.workflows[0].deploys ||
		c.opt.MaxWallTime != DefaultMaxWallTime || c.opt.MaxTimingRequests != DefaultMaxTimingRequests {
		t.Errorf("collector %+v", c)
	}
}

func TestKeyset(t *testing.T) {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	for _, c := range []struct {
		low  string
		on   int
		prev string
		want string
	}{
		{"2026-02-10T08:00:00Z", 5, "", "2026-02-10"},
		{"2026-02-10T08:00:00Z", 5, "2026-02-20", "2026-02-10"},
		{"2026-02-10T08:00:00Z", 500, "2026-02-20", "2026-02-10T08:00:00Z"},
		{"2026-02-10T08:00:00Z", 5, "2026-02-10", "2026-02-10T08:00:00Z"},           // no progress by day
		{"2026-02-10T08:00:00Z", 5, "2026-02-10T09:00:00Z", "2026-02-10T08:00:00Z"}, // by the second already
		{"2026-02-10T08:00:00Z", 5, "2026-02-10T08:00:00Z", "2026-02-10T08:00:00Z"}, // stuck: the caller stops
		{"2026-02-12T08:00:00Z", 5, "2026-02-10", "2026-02-10"},                     // never above prev
	} {
		if got := keyset(at(c.low), c.on, c.prev); got != c.want {
			t.Errorf("keyset(%s, %d, %q) = %q, want %q", c.low, c.on, c.prev, got, c.want)
		}
	}
	for _, c := range []struct{ lo, hi, want string }{
		{"", "", ""}, {"2026-01-01", "", ">=2026-01-01"}, {"", "2026-01-31", "<=2026-01-31"},
		{"2026-01-01", "2026-01-31", "2026-01-01..2026-01-31"},
		{"2026-01-01", "2026-01-31T10:00:00Z", "2026-01-01T00:00:00Z..2026-01-31T10:00:00Z"},
	} {
		if got := qualifier(c.lo, c.hi); got != c.want {
			t.Errorf("qualifier(%q, %q) = %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}

// TestDenseDays: when more than 1,000 runs share a day the windows go by
// the second; exactly 1,000 costs one more (empty-ish) query, since a
// capped total_count would say 1,000 too.
func TestDenseDays(t *testing.T) {
	yesterday := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		n        int
		maxLists int
	}{
		{"1,500 runs in one day", 1500, 1 + 15 + 2},
		{"exactly 1,000 runs", 1000, 1 + 10 + 1},
		{"999 runs", 999, 1 + 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := wfGen{repo: repo, file: "ci.yml", branch: "main", n: c.n, from: yesterday, to: yesterday.Add(20 * time.Hour)}
			e := newEnv(t, newWorld(T, []wfGen{g}))
			col := e.collector(Options{}, g.config())
			if err := e.collect(col, T.Add(-3*24*time.Hour), false); err != nil {
				t.Fatal(err)
			}
			runs, _ := e.sink.snapshot()
			diffRuns(t, runs, expected(e.w, T, g.config()))
			reqs := e.requests()
			var qs []string
			for _, r := range reqs {
				q, _ := url.ParseQuery(r.Query)
				qs = append(qs, q.Get("created")+" p"+q.Get("page"))
			}
			t.Logf("%d requests: %v", len(reqs), qs)
			if len(reqs) > c.maxLists {
				t.Errorf("%d requests, want ≤ %d", len(reqs), c.maxLists)
			}
		})
	}
}

// TestTimingForbidden: a token that may not read timings is asked once per
// poll; the runs are kept with an unknown duration.
func TestTimingForbidden(t *testing.T) {
	g := wfGen{repo: repo, file: "ci.yml", branch: "main", n: 2000, from: T.Add(-365 * 24 * time.Hour), to: T.Add(-time.Hour)}
	e := newEnv(t, newWorld(T, []wfGen{g}))
	e.inject = func(n int, r *http.Request) *failure {
		if strings.HasSuffix(r.URL.Path, "/timing") {
			return &failure{status: 403, body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/actions/workflow-runs#get-workflow-run-usage"}`}
		}
		return nil
	}
	c := e.collector(Options{}, g.config())
	if err := e.collect(c, T.Add(-366*24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if n := countPath(e.requests(), "/timing"); n != 1 {
		t.Errorf("%d timing requests", n)
	}
	runs, _ := e.sink.snapshot()
	want := expected(e.w, T, g.config())
	unknown := 0
	for k, r := range runs {
		if r.Duration == 0 {
			unknown++
			continue
		}
		if r.Duration != want[k].Duration {
			t.Errorf("run %s: %s", k, r.Duration)
		}
	}
	if unknown == 0 || len(runs) != len(want) {
		t.Errorf("%d runs, %d unknown", len(runs), unknown)
	}
}
