package githubactions

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/internal/model"
)

// FakeRoutes mounts the GitHub Actions endpoints on the fake GitHub, the
// one fake of the vendor (tests, demo, benchmarks):
//
//	github.NewFake(w, o, githubactions.FakeRoutes)
//
// They answer in the shapes of /work/shared/fixtures/vendor/github/
// actions_runs*.json, actions_run.json and actions_run_timing.json
// (go-github v60 reads them; testdata/SOURCES.md):
//
//	GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs   workflow: file name (ci.yml) or numeric id; branch, event, status, created, head_sha, actor, per_page (≤100, default 30), page
//	GET /repos/{owner}/{repo}/actions/runs                        the same filters, every workflow of the repo
//	GET /repos/{owner}/{repo}/actions/runs/{run_id}
//	GET /repos/{owner}/{repo}/actions/runs/{run_id}/timing        {"billable": {...}, "run_duration_ms": ...}
//
// They serve world.CIRuns of world.Workflows (a run of a workflow the world
// does not list gets one made up), newest first, as they stood at the view
// time: min(FakeOptions.Now(), World.End), or World.End when Now is
// nil. So a test that moves its clock sees runs appear, start and finish: a
// run created after the view time does not exist yet; one whose
// run_started_at is after it is "queued"; one still running is
// "in_progress" (conclusion null); the rest are "completed" with the
// world's conclusion (success when empty). A world run whose Status is not
// "completed" keeps that status (queued, waiting, ...) however late the
// view.
//
// As on GitHub, updated_at is normally when the run ended (run_started_at
// + run_duration_ms: so in actions_run.json and actions_run_timing.json),
// but about one completed run in a hundred had it moved 60–180 days later
// (GitHub touches old runs, e.g. to add a deprecation annotation; seen in
// the fixtures: created 2022-12-24, updated_at 2024-01-29) — once the view
// time has passed that moment. /timing always has the true wall time.
//
// The created qualifier takes GitHub's search forms: 2026-01-02 (that UTC
// day), >=, >, <=, < and a..b (either end may be *), each with a date or a
// date-time (2026-01-02T15:04:05Z, an offset, or no zone for UTC). As on
// GitHub, a query with any of actor, branch, check_suite_id, created,
// event, head_sha or status reaches only its first 1,000 runs:
// total_count still counts them all, but Link stops at the page holding
// the 1,000th run and later pages are empty. A bad created or status
// value is a 422.
//
// Responses carry the same ETag / 304 (free) / X-RateLimit-* / Link
// handling as the pull request endpoints; an exhausted budget answers 403.
// They share the fake's rate-limit budget, faults and counting with the
// pull request endpoints. Unknown repos, workflows and runs get GitHub's
// 404.
func FakeRoutes(g *github.FakeServer, mux *http.ServeMux) {
	a := newActions(g)
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs", a.listWorkflow)
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", a.listRepo)
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{run_id}", a.get)
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{run_id}/timing", a.timing)
}

// actionsResultCap is how many runs one filtered listing reaches.
const actionsResultCap = 1000

type actions struct {
	g      *github.FakeServer
	byRepo map[string][]*actWorkflow // lower-case owner/repo
	runs   map[int64]*actRun
	bySHA  map[string]model.PR // merge SHA → PR, for display titles
	first  time.Time           // the first run's creation
}

type actWorkflow struct {
	repo string // as the world spells it
	file string // ci.yml
	id   int64
	name string    // CI
	runs []*actRun // newest first
}

type actRun struct {
	r      model.CIRun
	wf     *actWorkflow
	number int
}

// actState is a run as it stood at the view time.
type actState struct {
	status, conclusion string
	started, updated   time.Time
	elapsed            time.Duration // for /timing; 0 while queued
}

func newActions(g *github.FakeServer) *actions {
	a := &actions{g: g, byRepo: map[string][]*actWorkflow{}, runs: map[int64]*actRun{}, bySHA: map[string]model.PR{}}
	w := g.World()
	for _, p := range w.PRs {
		if p.MergeSHA != "" {
			a.bySHA[p.MergeSHA] = p
		}
	}
	add := func(repo, wf string) *actWorkflow {
		wf = strings.TrimSpace(wf)
		if x := a.find(repo, wf); x != nil {
			return x
		}
		x := &actWorkflow{repo: repo}
		if id, err := strconv.ParseInt(wf, 10, 64); err == nil && id > 0 {
			x.id, x.file = id, fmt.Sprintf("workflow-%d.yml", id)
		} else {
			x.file = path.Base(wf)
			x.id = collectorstest.StableID("workflow/"+strings.ToLower(repo)+"/"+x.file, 10_000_000)
		}
		x.name = workflowName(x.file)
		k := strings.ToLower(repo)
		a.byRepo[k] = append(a.byRepo[k], x)
		return x
	}
	for _, wf := range w.Workflows {
		add(wf.Repo, wf.Workflow)
	}
	for i, r := range w.CIRuns {
		x := add(r.Repo, r.Workflow)
		if r.RunID <= 0 {
			r.RunID = collectorstest.StableID(fmt.Sprintf("run/%s/%s/%d", r.Repo, r.Workflow, i), 4_000_000_000)
		}
		if _, dup := a.runs[r.RunID]; dup {
			continue // the world should not do this; first one wins
		}
		r.CreatedAt, r.StartedAt = r.CreatedAt.UTC().Truncate(time.Second), r.StartedAt.UTC().Truncate(time.Second)
		r.Duration = r.Duration.Truncate(time.Second)
		if a.first.IsZero() || r.CreatedAt.Before(a.first) {
			a.first = r.CreatedAt
		}
		ar := &actRun{r: r, wf: x}
		x.runs = append(x.runs, ar)
		a.runs[r.RunID] = ar
	}
	for _, wfs := range a.byRepo {
		for _, x := range wfs {
			slices.SortFunc(x.runs, func(p, q *actRun) int {
				return cmp.Or(p.r.CreatedAt.Compare(q.r.CreatedAt), cmp.Compare(p.r.RunID, q.r.RunID))
			})
			for i, ar := range x.runs {
				ar.number = i + 1
			}
			slices.Reverse(x.runs)
		}
	}
	return a
}

// find returns repo's workflow named by file name or id.
func (a *actions) find(repo, wf string) *actWorkflow {
	for _, x := range a.byRepo[strings.ToLower(repo)] {
		if strings.EqualFold(x.file, path.Base(wf)) || strconv.FormatInt(x.id, 10) == wf {
			return x
		}
	}
	return nil
}

// workflowName makes a display name from a file name: ci.yml → "CI",
// deploy-prod.yaml → "Deploy Prod".
func workflowName(file string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(file, ".yml"), ".yaml")
	words := strings.FieldsFunc(base, func(r rune) bool { return r == '-' || r == '_' || r == '.' || r == ' ' })
	for i, wd := range words {
		if len(wd) <= 2 {
			words[i] = strings.ToUpper(wd)
		} else {
			rs := []rune(wd)
			rs[0] = unicode.ToUpper(rs[0])
			words[i] = string(rs)
		}
	}
	return cmp.Or(strings.Join(words, " "), file)
}

// view is the moment the endpoints show the runs at.
func (a *actions) view() time.Time {
	end := a.g.World().End
	if a.g.Options().Now == nil {
		if end.IsZero() {
			return time.Now()
		}
		return end
	}
	now := a.g.Options().Now()
	if !end.IsZero() && now.After(end) {
		return end
	}
	return now
}

// lateUpdate is how long after its end a run's updated_at was moved, or 0:
// about one run in a hundred, by 60 to 180 days.
func lateUpdate(r model.CIRun) time.Duration {
	if collectorstest.StableID("late/"+r.Key(), 0)%100 != 0 {
		return 0
	}
	return time.Duration(60+collectorstest.StableID("late-by/"+r.Key(), 0)%121) * 24 * time.Hour
}

func (a *actions) state(ar *actRun, v time.Time) (actState, bool) {
	r := ar.r
	if r.CreatedAt.After(v) {
		return actState{}, false
	}
	worldStatus := cmp.Or(r.Status, "completed")
	if r.StartedAt.IsZero() || r.StartedAt.After(v) {
		st := "queued"
		if worldStatus != "completed" && worldStatus != "in_progress" {
			st = worldStatus // waiting, requested, pending, action_required
		}
		// GitHub shows run_started_at = created_at until the run starts.
		return actState{status: st, started: r.CreatedAt, updated: r.CreatedAt}, true
	}
	end := r.StartedAt.Add(r.Duration)
	if worldStatus != "completed" || end.After(v) {
		st := "in_progress"
		if worldStatus != "completed" && worldStatus != "queued" {
			st = worldStatus
		}
		return actState{status: st, started: r.StartedAt, updated: r.StartedAt, elapsed: v.Sub(r.StartedAt)}, true
	}
	s := actState{
		status:     "completed",
		conclusion: cmp.Or(r.Conclusion, "success"),
		started:    r.StartedAt,
		updated:    end,
		elapsed:    r.Duration,
	}
	if late := lateUpdate(r); late > 0 && !end.Add(late).After(v) {
		s.updated = end.Add(late)
	}
	return s, true
}

// repoWorkflows answers 404 for a repo without workflows.
func (a *actions) repoWorkflows(rw http.ResponseWriter, r *http.Request) ([]*actWorkflow, bool) {
	wfs, ok := a.byRepo[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
	if !ok {
		a.g.Send(rw, r, http.StatusNotFound, github.FakeError("Not Found"), "")
	}
	return wfs, ok
}

func (a *actions) listWorkflow(rw http.ResponseWriter, r *http.Request) {
	if _, ok := a.repoWorkflows(rw, r); !ok {
		return
	}
	x := a.find(r.PathValue("owner")+"/"+r.PathValue("repo"), r.PathValue("workflow"))
	if x == nil {
		a.g.Send(rw, r, http.StatusNotFound, github.FakeError("Not Found"), "")
		return
	}
	a.serveList(rw, r, x.runs)
}

func (a *actions) listRepo(rw http.ResponseWriter, r *http.Request) {
	wfs, ok := a.repoWorkflows(rw, r)
	if !ok {
		return
	}
	var runs []*actRun
	for _, x := range wfs {
		runs = append(runs, x.runs...)
	}
	slices.SortFunc(runs, func(p, q *actRun) int {
		return cmp.Or(q.r.CreatedAt.Compare(p.r.CreatedAt), cmp.Compare(q.r.RunID, p.r.RunID))
	})
	a.serveList(rw, r, runs)
}

// actionsFilters are the parameters that make GitHub cap a listing at
// 1,000 results.
var actionsFilters = []string{"actor", "branch", "check_suite_id", "created", "event", "head_sha", "status"}

var runStatuses = []string{"completed", "action_required", "cancelled", "failure", "neutral", "skipped", "stale",
	"success", "timed_out", "in_progress", "queued", "requested", "waiting", "pending"}

func (a *actions) validationFailed(rw http.ResponseWriter, r *http.Request, field string) {
	a.g.Send(rw, r, http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            []map[string]string{{"resource": "WorkflowRun", "field": field, "code": "invalid"}},
		"documentation_url": "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow",
	}, "")
}

func (a *actions) serveList(rw http.ResponseWriter, r *http.Request, runs []*actRun) {
	q := r.URL.Query()
	var lo, hi time.Time
	if c := q.Get("created"); c != "" {
		var err error
		if lo, hi, err = parseCreated(c); err != nil {
			a.validationFailed(rw, r, "created")
			return
		}
	}
	status := q.Get("status")
	if status != "" && !slices.Contains(runStatuses, status) {
		a.validationFailed(rw, r, "status")
		return
	}
	type item struct {
		ar *actRun
		st actState
	}
	v := a.view()
	var sel []item
	for _, ar := range runs {
		st, ok := a.state(ar, v)
		if !ok {
			continue
		}
		c := ar.r.CreatedAt
		switch {
		case !lo.IsZero() && c.Before(lo), !hi.IsZero() && !c.Before(hi):
			continue
		case q.Get("branch") != "" && q.Get("branch") != ar.r.Branch:
			continue
		case q.Get("event") != "" && q.Get("event") != cmp.Or(ar.r.Event, "push"):
			continue
		case q.Get("head_sha") != "" && !strings.EqualFold(q.Get("head_sha"), ar.r.SHA):
			continue
		case q.Get("actor") != "" && !strings.EqualFold(q.Get("actor"), a.actor()):
			continue
		case status != "" && status != st.status && status != st.conclusion:
			continue
		}
		sel = append(sel, item{ar, st})
	}
	reach := len(sel)
	for _, f := range actionsFilters {
		if q.Get(f) != "" {
			reach = min(reach, actionsResultCap)
			break
		}
	}
	from, to, link := a.g.Paginate(r, reach)
	out := make([]ghRun, 0, to-from)
	for _, it := range sel[from:to] {
		out = append(out, a.runJSON(r, it.ar, it.st))
	}
	a.g.Send(rw, r, http.StatusOK, ghRunList{TotalCount: len(sel), WorkflowRuns: out}, link)
}

// run finds the run of the path, answering 404 when it is not there (yet).
func (a *actions) run(rw http.ResponseWriter, r *http.Request) (*actRun, actState, bool) {
	id, err := strconv.ParseInt(r.PathValue("run_id"), 10, 64)
	ar := a.runs[id]
	if err == nil && ar != nil && strings.EqualFold(ar.wf.repo, r.PathValue("owner")+"/"+r.PathValue("repo")) {
		if st, ok := a.state(ar, a.view()); ok {
			return ar, st, true
		}
	}
	a.g.Send(rw, r, http.StatusNotFound, github.FakeError("Not Found"), "")
	return nil, actState{}, false
}

func (a *actions) get(rw http.ResponseWriter, r *http.Request) {
	if ar, st, ok := a.run(rw, r); ok {
		a.g.Send(rw, r, http.StatusOK, a.runJSON(r, ar, st), "")
	}
}

func (a *actions) timing(rw http.ResponseWriter, r *http.Request) {
	ar, st, ok := a.run(rw, r)
	if !ok {
		return
	}
	out := ghRunTiming{Billable: map[string]ghBill{}}
	if st.status != "queued" {
		ms := st.elapsed.Milliseconds()
		out.RunDurationMS = &ms
	}
	if st.status == "completed" && st.elapsed > 0 {
		// Billable time: each job rounded up to whole minutes.
		jobs := 1 + int(collectorstest.StableID("jobs/"+ar.r.Key(), 0)%3)
		bill := ghBill{Jobs: jobs}
		for j := range jobs {
			d := st.elapsed.Milliseconds() / int64(jobs)
			bill.TotalMS += (d + 59_999) / 60_000 * 60_000
			bill.JobRuns = append(bill.JobRuns, ghJobRun{JobID: collectorstest.StableID(fmt.Sprintf("job/%s/%d", ar.r.Key(), j), 10_000_000_000), DurationMS: d})
		}
		out.Billable["UBUNTU"] = bill
	}
	a.g.Send(rw, r, http.StatusOK, out, "")
}

func (a *actions) actor() string { return cmp.Or(a.g.World().Me, "octocat") }

// parseCreated turns a created qualifier into the half-open span [lo, hi)
// it selects; a zero bound is open.
func parseCreated(s string) (lo, hi time.Time, err error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, ">="):
		lo, _, err = createdBound(s[2:])
	case strings.HasPrefix(s, "<="):
		_, hi, err = createdBound(s[2:])
	case strings.HasPrefix(s, ">"):
		_, lo, err = createdBound(s[1:])
	case strings.HasPrefix(s, "<"):
		hi, _, err = createdBound(s[1:])
	case strings.Contains(s, ".."):
		from, to, _ := strings.Cut(s, "..")
		if from != "*" {
			if lo, _, err = createdBound(from); err != nil {
				return
			}
		}
		if to != "*" {
			_, hi, err = createdBound(to)
		}
	default:
		lo, hi, err = createdBound(s)
	}
	if err == nil && !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
		err = errors.New("empty range")
	}
	return lo, hi, err
}

// createdBound parses a date or date-time: start is its first instant, end
// the first instant after it (the next day for a date, the next second or
// minute for a time).
func createdBound(s string) (start, end time.Time, err error) {
	// A "+" in an offset arrives as a space when the client did not escape it.
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "+")
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, t.AddDate(0, 0, 1), nil
	}
	for _, l := range []struct {
		layout string
		step   time.Duration
	}{{time.RFC3339, time.Second}, {"2006-01-02T15:04:05", time.Second}, {"2006-01-02T15:04Z07:00", time.Minute}, {"2006-01-02T15:04", time.Minute}} {
		if t, err := time.Parse(l.layout, s); err == nil {
			t = t.UTC()
			return t, t.Add(l.step), nil
		}
	}
	return time.Time{}, time.Time{}, fmt.Errorf("bad date %q", s)
}

// --- JSON shapes ------------------------------------------------------------

type ghRunList struct {
	TotalCount   int     `json:"total_count"`
	WorkflowRuns []ghRun `json:"workflow_runs"`
}

type ghCommitPerson struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type ghHeadCommit struct {
	ID        string         `json:"id"`
	TreeID    string         `json:"tree_id"`
	Message   string         `json:"message"`
	Timestamp time.Time      `json:"timestamp"`
	Author    ghCommitPerson `json:"author"`
	Committer ghCommitPerson `json:"committer"`
}

type ghRun struct {
	ID                  int64           `json:"id"`
	Name                string          `json:"name"`
	NodeID              string          `json:"node_id"`
	HeadBranch          string          `json:"head_branch"`
	HeadSHA             string          `json:"head_sha"`
	Path                string          `json:"path"`
	DisplayTitle        string          `json:"display_title"`
	RunNumber           int             `json:"run_number"`
	Event               string          `json:"event"`
	Status              string          `json:"status"`
	Conclusion          *string         `json:"conclusion"`
	WorkflowID          int64           `json:"workflow_id"`
	CheckSuiteID        int64           `json:"check_suite_id"`
	CheckSuiteNodeID    string          `json:"check_suite_node_id"`
	URL                 string          `json:"url"`
	HTMLURL             string          `json:"html_url"`
	PullRequests        []any           `json:"pull_requests"`
	CreatedAt           time.Time       `json:"created_at"`
	UpdatedAt           time.Time       `json:"updated_at"`
	Actor               github.FakeUser `json:"actor"`
	RunAttempt          int             `json:"run_attempt"`
	ReferencedWorkflows []any           `json:"referenced_workflows"`
	RunStartedAt        time.Time       `json:"run_started_at"`
	TriggeringActor     github.FakeUser `json:"triggering_actor"`
	JobsURL             string          `json:"jobs_url"`
	LogsURL             string          `json:"logs_url"`
	CheckSuiteURL       string          `json:"check_suite_url"`
	ArtifactsURL        string          `json:"artifacts_url"`
	CancelURL           string          `json:"cancel_url"`
	RerunURL            string          `json:"rerun_url"`
	PreviousAttemptURL  *string         `json:"previous_attempt_url"`
	WorkflowURL         string          `json:"workflow_url"`
	HeadCommit          ghHeadCommit    `json:"head_commit"`
	Repository          github.FakeRepo `json:"repository"`
	HeadRepository      github.FakeRepo `json:"head_repository"`
}

type ghJobRun struct {
	JobID      int64 `json:"job_id"`
	DurationMS int64 `json:"duration_ms"`
}

type ghBill struct {
	TotalMS int64      `json:"total_ms"`
	Jobs    int        `json:"jobs"`
	JobRuns []ghJobRun `json:"job_runs"`
}

type ghRunTiming struct {
	Billable      map[string]ghBill `json:"billable"`
	RunDurationMS *int64            `json:"run_duration_ms,omitempty"`
}

func (a *actions) runJSON(r *http.Request, ar *actRun, st actState) ghRun {
	base := collectorstest.BaseURL(r)
	run, wf := ar.r, ar.wf
	api := fmt.Sprintf("%s/repos/%s/actions/runs/%d", base, wf.repo, run.RunID)
	suite := collectorstest.StableID("suite/"+run.Key(), 10_000_000_000)
	attempt := max(run.Attempt, 1)
	var prev *string
	if attempt > 1 {
		s := fmt.Sprintf("%s/attempts/%d", api, attempt-1)
		prev = &s
	}
	var concl *string
	if st.conclusion != "" {
		c := st.conclusion
		concl = &c
	}
	title, author := "Update "+wf.file, a.actor()
	if p, ok := a.bySHA[run.SHA]; ok {
		title, author = p.Title, p.Author
	}
	msg := title
	if run.Event == "" || run.Event == "push" {
		if p, ok := a.bySHA[run.SHA]; ok {
			msg = fmt.Sprintf("Merge pull request #%d from %s\n\n%s", p.Number, author, p.Title)
		}
	}
	tree := sha256.Sum256([]byte("tree/" + run.SHA))
	person := ghCommitPerson{Name: author, Email: author + "@users.noreply.github.com"}
	repo := a.g.Repo(r, wf.repo)
	if a.g.World().Start.IsZero() {
		// A world made of runs only: date the repo before its first run.
		repo.CreatedAt = a.first.AddDate(-2, 0, 0)
	}
	actor := a.g.User(r, a.actor())
	return ghRun{
		ID:                  run.RunID,
		Name:                wf.name,
		NodeID:              "WFR_kwLO" + strconv.FormatInt(run.RunID, 36),
		HeadBranch:          run.Branch,
		HeadSHA:             run.SHA,
		Path:                ".github/workflows/" + wf.file,
		DisplayTitle:        title,
		RunNumber:           ar.number,
		Event:               cmp.Or(run.Event, "push"),
		Status:              st.status,
		Conclusion:          concl,
		WorkflowID:          wf.id,
		CheckSuiteID:        suite,
		CheckSuiteNodeID:    "CS_kwDO" + strconv.FormatInt(suite, 36),
		URL:                 api,
		HTMLURL:             fmt.Sprintf("https://github.com/%s/actions/runs/%d", wf.repo, run.RunID),
		PullRequests:        []any{},
		CreatedAt:           run.CreatedAt,
		UpdatedAt:           st.updated.UTC(),
		Actor:               actor,
		RunAttempt:          attempt,
		ReferencedWorkflows: []any{},
		RunStartedAt:        st.started.UTC(),
		TriggeringActor:     actor,
		JobsURL:             api + "/jobs",
		LogsURL:             api + "/logs",
		CheckSuiteURL:       fmt.Sprintf("%s/repos/%s/check-suites/%d", base, wf.repo, suite),
		ArtifactsURL:        api + "/artifacts",
		CancelURL:           api + "/cancel",
		RerunURL:            api + "/rerun",
		PreviousAttemptURL:  prev,
		WorkflowURL:         fmt.Sprintf("%s/repos/%s/actions/workflows/%d", base, wf.repo, wf.id),
		HeadCommit: ghHeadCommit{
			ID:        run.SHA,
			TreeID:    hex.EncodeToString(tree[:20]),
			Message:   msg,
			Timestamp: run.CreatedAt.Add(-time.Duration(5+collectorstest.StableID("commit/"+run.Key(), 0)%300) * time.Second),
			Author:    person,
			Committer: ghCommitPerson{Name: "GitHub", Email: "noreply@github.com"},
		},
		Repository:     repo,
		HeadRepository: repo,
	}
}
