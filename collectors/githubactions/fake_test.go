package githubactions

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

var actEnd = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// actWorld has acme/search-api ci.yml (n runs on main, one every 2 h back
// from actEnd, every fourth on a feature branch instead) and deploy.yml
// (20 runs), plus the runs given.
func actWorld(n int, extra ...model.CIRun) *world.World {
	w := &world.World{End: actEnd, Me: "alice", Repos: []string{"acme/search-api"},
		Workflows: []world.Workflow{
			{Repo: "acme/search-api", Workflow: "ci.yml", Branch: "main"},
			{Repo: "acme/search-api", Workflow: "deploy.yml", Branch: "main", Deploys: true},
		}}
	mk := func(wf string, i int, id int64) model.CIRun {
		created := actEnd.Add(-time.Duration(i+1) * 2 * time.Hour)
		branch := "main"
		if wf == "ci.yml" && i%4 == 3 {
			branch = "feature/x"
		}
		concl := "success"
		if i%5 == 2 {
			concl = "failure"
		}
		return model.CIRun{Repo: "acme/search-api", Workflow: wf, RunID: id, Attempt: 1, Branch: branch,
			SHA: fmt.Sprintf("%040x", id), Event: "push", Status: "completed", Conclusion: concl,
			CreatedAt: created, StartedAt: created.Add(30 * time.Second), Duration: time.Duration(4+i%6) * time.Minute}
	}
	for i := range n {
		w.CIRuns = append(w.CIRuns, mk("ci.yml", i, 5_000_000_000+int64(i)))
	}
	for i := range 20 {
		w.CIRuns = append(w.CIRuns, mk("deploy.yml", i, 6_000_000_000+int64(i)))
	}
	w.CIRuns = append(w.CIRuns, extra...)
	return w
}

func actGet(t *testing.T, rawURL string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

type actList struct {
	TotalCount   int              `json:"total_count"`
	WorkflowRuns []map[string]any `json:"workflow_runs"`
}

func actListing(t *testing.T, base, query string) (actList, *http.Response) {
	t.Helper()
	resp, body := actGet(t, base+"/repos/acme/search-api/actions/workflows/ci.yml/runs?"+query)
	var l actList
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	return l, resp
}

func ids(l actList) []int64 {
	var out []int64
	for _, r := range l.WorkflowRuns {
		out = append(out, int64(r["id"].(float64)))
	}
	return out
}

// TestActionsShape: a served run has every field of the recorded
// actions_run.json (PyGithub WorkflowRun.setUp) and go-github reads it.
func TestActionsShape(t *testing.T) {
	srv := httptest.NewServer(github.NewFake(actWorld(10), collectorstest.FakeOptions{}, FakeRoutes))
	defer srv.Close()
	// The top-level keys of /work/shared/fixtures/vendor/github/actions_run.json.
	fixtureKeys := []string{"actor", "artifacts_url", "cancel_url", "check_suite_id", "check_suite_node_id", "check_suite_url",
		"conclusion", "created_at", "display_title", "event", "head_branch", "head_commit", "head_repository", "head_sha",
		"html_url", "id", "jobs_url", "logs_url", "name", "node_id", "path", "previous_attempt_url", "pull_requests",
		"referenced_workflows", "repository", "rerun_url", "run_attempt", "run_number", "run_started_at", "status",
		"triggering_actor", "updated_at", "url", "workflow_id", "workflow_url"}
	resp, body := actGet(t, srv.URL+"/repos/acme/search-api/actions/runs/5000000000")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if strings.Join(keys, " ") != strings.Join(fixtureKeys, " ") {
		t.Errorf("keys\n got %v\nwant %v", keys, fixtureKeys)
	}

	c := gh.NewClient(nil)
	c.BaseURL, _ = url.Parse(srv.URL + "/")
	runs, gr, err := c.Actions.ListWorkflowRunsByFileName(t.Context(), "acme", "search-api", "ci.yml",
		&gh.ListWorkflowRunsOptions{Branch: "main", Created: ">=2026-03-03", ListOptions: gh.ListOptions{PerPage: 3}})
	if err != nil {
		t.Fatal(err)
	}
	// 10 runs every 2 h back from 08:00 on the 4th; 2 on a branch.
	if runs.GetTotalCount() != 8 || len(runs.WorkflowRuns) != 3 || gr.NextPage != 2 || gr.LastPage != 3 {
		t.Fatalf("total %d, %d runs, next %d last %d", runs.GetTotalCount(), len(runs.WorkflowRuns), gr.NextPage, gr.LastPage)
	}
	r := runs.WorkflowRuns[0]
	if r.GetID() != 5_000_000_000 || r.GetHeadBranch() != "main" || r.GetHeadSHA() != fmt.Sprintf("%040x", 5_000_000_000) ||
		r.GetStatus() != "completed" || r.GetConclusion() != "success" || r.GetRunAttempt() != 1 || r.GetEvent() != "push" ||
		r.GetName() != "CI" || r.GetRunNumber() != 10 ||
		!r.GetCreatedAt().Time.Equal(actEnd.Add(-2*time.Hour)) || !r.GetRunStartedAt().Time.Equal(actEnd.Add(-2*time.Hour+30*time.Second)) ||
		!r.GetUpdatedAt().Time.Equal(actEnd.Add(-2*time.Hour+30*time.Second+4*time.Minute)) {
		t.Errorf("run %+v", r)
	}
	u, _, err := c.Actions.GetWorkflowRunUsageByID(t.Context(), "acme", "search-api", r.GetID())
	if err != nil || u.GetRunDurationMS() != 240_000 || (*u.Billable)["UBUNTU"].GetTotalMS() < 240_000 {
		t.Errorf("timing %+v %v", u, err)
	}
	// By numeric id too.
	byID, _, err := c.Actions.ListWorkflowRunsByID(t.Context(), "acme", "search-api", r.GetWorkflowID(), &gh.ListWorkflowRunsOptions{Branch: "main"})
	if err != nil || byID.GetTotalCount() != 8 {
		t.Errorf("by id: %v %v", byID.GetTotalCount(), err)
	}
}

func TestActionsFilters(t *testing.T) {
	w := actWorld(100)
	srv := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{}, FakeRoutes))
	defer srv.Close()
	count := func(branch string, from, to time.Time) int {
		n := 0
		for _, r := range w.CIRuns {
			if r.Workflow == "ci.yml" && (branch == "" || r.Branch == branch) && !r.CreatedAt.Before(from) && r.CreatedAt.Before(to) {
				n++
			}
		}
		return n
	}
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	far := actEnd.AddDate(1, 0, 0)
	for _, c := range []struct {
		query string
		want  int
	}{
		{"", count("", time.Time{}, far)},
		{"branch=main", count("main", time.Time{}, far)},
		{"branch=feature/x", count("feature/x", time.Time{}, far)},
		{"branch=nope", 0},
		{"created=" + url.QueryEscape(">=2026-03-02"), count("", day(2), far)},
		{"created=" + url.QueryEscape(">2026-03-02"), count("", day(3), far)},
		{"created=" + url.QueryEscape("<=2026-03-02"), count("", time.Time{}, day(3))},
		{"created=" + url.QueryEscape("<2026-03-02"), count("", time.Time{}, day(2))},
		{"created=2026-03-02", count("", day(2), day(3))},
		{"created=2026-02-25..2026-03-01", count("", day(25).AddDate(0, -1, 0), day(2))},
		{"created=" + url.QueryEscape("*..2026-03-01"), count("", time.Time{}, day(2))},
		{"created=" + url.QueryEscape("2026-03-01..*"), count("", day(1), far)},
		{"created=2026-03-01T00:00:00Z..2026-03-02T12:00:00Z", count("", day(1), day(2).Add(12*time.Hour+time.Second))},
		{"created=" + url.QueryEscape(">=2026-03-02T12:00:00+02:00"), count("", day(2).Add(10*time.Hour), far)},
		{"created=" + url.QueryEscape(">=2026-03-02T12:00:00 02:00"), count("", day(2).Add(10*time.Hour), far)}, // unescaped +
		{"status=failure", 20},
		{"status=completed", 100},
		{"status=in_progress", 0},
		{"event=push&branch=main", count("main", time.Time{}, far)},
		{"event=pull_request", 0},
	} {
		l, resp := actListing(t, srv.URL, c.query+"&per_page=100")
		if resp.StatusCode != 200 || l.TotalCount != c.want {
			t.Errorf("%s: %d, total %d, want %d", c.query, resp.StatusCode, l.TotalCount, c.want)
		}
		// Newest first.
		for i := 1; i < len(l.WorkflowRuns); i++ {
			if l.WorkflowRuns[i-1]["created_at"].(string) < l.WorkflowRuns[i]["created_at"].(string) {
				t.Errorf("%s: not newest first", c.query)
				break
			}
		}
	}
	for _, q := range []string{"created=yesterday", "created=2026-13-01", "created=2026-03-02..2026-03-01", "status=done"} {
		resp, body := actGet(t, srv.URL+"/repos/acme/search-api/actions/workflows/ci.yml/runs?"+q)
		if resp.StatusCode != 422 || !strings.Contains(string(body), "Validation Failed") {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	// The repo-wide listing holds both workflows.
	resp, body := actGet(t, srv.URL+"/repos/acme/search-api/actions/runs?per_page=1")
	var l actList
	json.Unmarshal(body, &l)
	if resp.StatusCode != 200 || l.TotalCount != 120 {
		t.Errorf("repo runs: %d total %d", resp.StatusCode, l.TotalCount)
	}
}

// TestActionsCap: a filtered listing reaches 1,000 runs; total_count
// still counts them all.
func TestActionsCap(t *testing.T) {
	srv := httptest.NewServer(github.NewFake(actWorld(1600), collectorstest.FakeOptions{}, FakeRoutes))
	defer srv.Close()
	l, resp := actListing(t, srv.URL, "branch=main&per_page=100")
	if l.TotalCount != 1200 || len(l.WorkflowRuns) != 100 {
		t.Fatalf("total %d, %d runs", l.TotalCount, len(l.WorkflowRuns))
	}
	if last := pageOfLink(t, resp.Header.Get("Link"), "last"); last != 10 {
		t.Errorf("last page %d; Link %s", last, resp.Header.Get("Link"))
	}
	l, resp = actListing(t, srv.URL, "branch=main&per_page=100&page=10")
	if len(l.WorkflowRuns) != 100 || pageOfLink(t, resp.Header.Get("Link"), "next") != 0 {
		t.Errorf("page 10: %d runs, Link %s", len(l.WorkflowRuns), resp.Header.Get("Link"))
	}
	thousandth := l.WorkflowRuns[99]["created_at"].(string)
	if l, _ = actListing(t, srv.URL, "branch=main&per_page=100&page=11"); len(l.WorkflowRuns) != 0 || l.TotalCount != 1200 {
		t.Errorf("page 11: %d runs, total %d", len(l.WorkflowRuns), l.TotalCount)
	}
	// Without a filter every page is reachable.
	if l, _ = actListing(t, srv.URL, "per_page=100&page=16"); len(l.WorkflowRuns) != 100 {
		t.Errorf("unfiltered page 16: %d runs", len(l.WorkflowRuns))
	}
	// A created range from the 1,000th run down reaches the rest.
	l, _ = actListing(t, srv.URL, "branch=main&per_page=100&created="+url.QueryEscape("<="+thousandth))
	if l.TotalCount != 201 || ids(l)[0] == 0 {
		t.Errorf("from the 1,000th run down: %d", l.TotalCount)
	}
}

func pageOfLink(t *testing.T, link, rel string) int {
	t.Helper()
	for _, part := range strings.Split(link, ",") {
		if strings.Contains(part, `rel="`+rel+`"`) {
			u, err := url.Parse(strings.Trim(strings.TrimSpace(strings.Split(part, ";")[0]), "<>"))
			if err != nil {
				t.Fatal(err)
			}
			n, _ := strconv.Atoi(u.Query().Get("page"))
			return n
		}
	}
	return 0
}

// TestActionsClockAndETag: runs appear, start and finish as the clock
// moves; an unchanged page answers 304 for free.
func TestActionsClockAndETag(t *testing.T) {
	run := model.CIRun{Repo: "acme/search-api", Workflow: "ci.yml", RunID: 77, Attempt: 2, Branch: "main", SHA: strings.Repeat("a", 40),
		Event: "push", Status: "completed", Conclusion: "cancelled",
		CreatedAt: actEnd.Add(-30 * time.Minute), StartedAt: actEnd.Add(-20 * time.Minute), Duration: 15 * time.Minute}
	w := actWorld(10, run)
	var mu sync.Mutex
	now := actEnd.Add(-40 * time.Minute)
	srv := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{RateLimit: 100, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}, FakeRoutes))
	defer srv.Close()
	at := func(d time.Duration) {
		mu.Lock()
		now = actEnd.Add(d)
		mu.Unlock()
	}
	u := srv.URL + "/repos/acme/search-api/actions/runs/77"
	if resp, _ := actGet(t, u); resp.StatusCode != 404 {
		t.Errorf("before creation: %d", resp.StatusCode)
	}
	type state struct {
		Status     string  `json:"status"`
		Conclusion *string `json:"conclusion"`
		Started    string  `json:"run_started_at"`
		Updated    string  `json:"updated_at"`
		Attempt    int     `json:"run_attempt"`
		Prev       *string `json:"previous_attempt_url"`
	}
	read := func() state {
		resp, body := actGet(t, u)
		var s state
		if resp.StatusCode != 200 || json.Unmarshal(body, &s) != nil {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		return s
	}
	ts := func(d time.Duration) string { return actEnd.Add(d).Format(time.RFC3339) }
	at(-25 * time.Minute)
	if s := read(); s.Status != "queued" || s.Conclusion != nil || s.Started != ts(-30*time.Minute) || s.Attempt != 2 || s.Prev == nil {
		t.Errorf("queued: %+v", s)
	}
	at(-10 * time.Minute)
	if s := read(); s.Status != "in_progress" || s.Conclusion != nil || s.Started != ts(-20*time.Minute) {
		t.Errorf("running: %+v", s)
	}
	_, body := actGet(t, u+"/timing")
	if !strings.Contains(string(body), `"run_duration_ms":600000`) {
		t.Errorf("timing while running: %s", body)
	}
	// ETag: 304 while nothing changes, without spending.
	list := srv.URL + "/repos/acme/search-api/actions/workflows/ci.yml/runs?branch=main&created=%3E%3D2026-03-04"
	resp, _ := actGet(t, list)
	tag, rem := resp.Header.Get("ETag"), resp.Header.Get("X-RateLimit-Remaining")
	resp, body = actGet(t, list, "If-None-Match", tag)
	if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("X-RateLimit-Remaining") != rem {
		t.Errorf("conditional: %d remaining %s → %s", resp.StatusCode, rem, resp.Header.Get("X-RateLimit-Remaining"))
	}
	at(0)
	if s := read(); s.Status != "completed" || s.Conclusion == nil || *s.Conclusion != "cancelled" || s.Updated != ts(-5*time.Minute) {
		t.Errorf("done: %+v", s)
	}
	if resp, _ := actGet(t, list, "If-None-Match", tag); resp.StatusCode != 200 || resp.Header.Get("ETag") == tag {
		t.Errorf("after completion: %d", resp.StatusCode)
	}
	// The view never goes past World.End.
	at(time.Hour)
	if resp, _ := actGet(t, list, "If-None-Match", tag); resp.StatusCode != 200 {
		t.Errorf("after End: %d", resp.StatusCode)
	}
}

// TestActionsLateUpdatedAt: about one old run in a hundred shows an
// updated_at months after it ended; /timing keeps the true wall time.
func TestActionsLateUpdatedAt(t *testing.T) {
	w := actWorld(3000) // 250 days
	srv := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{RateLimit: -1}, FakeRoutes))
	defer srv.Close()
	late := 0
	for page := 1; page <= 30; page++ {
		l, _ := actListing(t, srv.URL, fmt.Sprintf("per_page=100&page=%d", page))
		for _, r := range l.WorkflowRuns {
			started, _ := time.Parse(time.RFC3339, r["run_started_at"].(string))
			updated, _ := time.Parse(time.RFC3339, r["updated_at"].(string))
			gap := updated.Sub(started)
			if gap <= time.Hour {
				continue
			}
			late++
			if gap < 60*24*time.Hour || gap > 181*24*time.Hour || updated.After(actEnd) {
				t.Errorf("run %v: updated_at %s after its start", r["id"], gap)
			}
			_, body := actGet(t, fmt.Sprintf("%s/repos/acme/search-api/actions/runs/%.0f/timing", srv.URL, r["id"]))
			var tm struct {
				MS int64 `json:"run_duration_ms"`
			}
			json.Unmarshal(body, &tm)
			if tm.MS <= 0 || tm.MS > int64(time.Hour/time.Millisecond) {
				t.Errorf("run %v: timing %s", r["id"], body)
			}
		}
	}
	if late < 5 || late > 60 {
		t.Errorf("%d late runs of 3000", late)
	}
}

func TestActionsNotFound(t *testing.T) {
	srv := httptest.NewServer(github.NewFake(actWorld(5), collectorstest.FakeOptions{}, FakeRoutes))
	defer srv.Close()
	for _, p := range []string{
		"/repos/acme/nope/actions/workflows/ci.yml/runs",
		"/repos/acme/search-api/actions/workflows/nope.yml/runs",
		"/repos/acme/search-api/actions/runs/123",
		"/repos/acme/search-api/actions/runs/abc/timing",
		"/repos/acme/other/actions/runs/5000000000", // a run of another repo
	} {
		resp, body := actGet(t, srv.URL+p)
		if resp.StatusCode != 404 || !strings.Contains(string(body), `"message":"Not Found"`) {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
}

// TestActionsFaultsAndBudget: the Actions routes share the fake GitHub's
// faults, counting per route and hourly budget.
func TestActionsFaultsAndBudget(t *testing.T) {
	counter := &collectorstest.Counter{}
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(github.NewFake(actWorld(5), collectorstest.FakeOptions{Counter: counter, RateLimit: 2, Fault: func(r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			return http.StatusTooManyRequests
		}
		return 0
	}}, FakeRoutes))
	defer srv.Close()
	u := srv.URL + "/repos/acme/search-api/actions/workflows/deploy.yml/runs"
	resp, _ := actGet(t, u)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("fault: %d", resp.StatusCode)
	}
	if resp, _ := actGet(t, u); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != "1" {
		t.Errorf("after the fault: %d %s", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
	actGet(t, u+"?page=2")
	if resp, body := actGet(t, u); resp.StatusCode != 403 || !strings.Contains(string(body), "API rate limit exceeded") {
		t.Errorf("budget spent: %d %s", resp.StatusCode, body)
	}
	pattern := "GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs"
	snap := counter.Snapshot()
	if snap[collectorstest.CountKey{Vendor: "github", Pattern: pattern, Status: 429}] != 1 || snap[collectorstest.CountKey{Vendor: "github", Pattern: pattern, Status: 200}] != 2 || snap[collectorstest.CountKey{Vendor: "github", Pattern: pattern, Status: 403}] != 1 {
		t.Errorf("counter:\n%s", counter)
	}
}

func TestParseCreated(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	for _, c := range []struct {
		in     string
		lo, hi string
		bad    bool
	}{
		{in: ">=2026-01-02", lo: "2026-01-02T00:00:00Z"},
		{in: ">2026-01-02", lo: "2026-01-03T00:00:00Z"},
		{in: "<=2026-01-02", hi: "2026-01-03T00:00:00Z"},
		{in: "<2026-01-02", hi: "2026-01-02T00:00:00Z"},
		{in: "2026-01-02", lo: "2026-01-02T00:00:00Z", hi: "2026-01-03T00:00:00Z"},
		{in: "2026-01-02..2026-01-05", lo: "2026-01-02T00:00:00Z", hi: "2026-01-06T00:00:00Z"},
		{in: "2026-01-02T00:00:00Z..2026-01-05T10:00:00Z", lo: "2026-01-02T00:00:00Z", hi: "2026-01-05T10:00:01Z"},
		{in: "*..2026-01-05", hi: "2026-01-06T00:00:00Z"},
		{in: "2026-01-02..*", lo: "2026-01-02T00:00:00Z"},
		{in: ">=2026-01-02T10:00", lo: "2026-01-02T10:00:00Z"},
		{in: "<=2026-01-02T10:00:00-05:00", hi: "2026-01-02T15:00:01Z"},
		{in: "2026-01-05..2026-01-02", bad: true},
		{in: ">=", bad: true},
		{in: "last week", bad: true},
	} {
		lo, hi, err := parseCreated(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q: no error", c.in)
			}
			continue
		}
		if err != nil || !lo.Equal(d(c.lo)) || !hi.Equal(d(c.hi)) {
			t.Errorf("%q: [%s, %s) %v; want [%s, %s)", c.in, lo, hi, err, c.lo, c.hi)
		}
	}
}
