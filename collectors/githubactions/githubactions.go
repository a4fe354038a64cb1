// Package githubactions collects the runs of the configured GitHub Actions
// workflows (sources.github_actions) from the GitHub or GitHub Enterprise
// REST API: one model.CIRun per run of the workflow on its branch, and, for
// a workflow marked `deploys: true`, one model.Deploy per successful run —
// the moment the commit went live. Only the configured workflows are read,
// each with
//
//	GET /repos/{owner}/{repo}/actions/workflows/{file or id}/runs?branch=B&created=Q&per_page=100&page=N
//
// (the request go-github's Actions.ListWorkflowRunsByFileName / ByID
// sends, built by hand so the first page can carry If-None-Match).
//
// # Reading a range: created windows, newest first
//
// GitHub lists runs newest first, and a filtered listing (branch, created,
// ...) reaches only its first 1,000 runs. A range is therefore read as a
// series of created windows, keyset-style: the first query is open-ended
// (created:>=D); when a query has handed out 1,000 runs and total_count
// says there are more (or says exactly 1,000, which a capped count would
// also say), the next query ends where the last run read was created
// (created:LO..DAY, that day included, or LO..DATE-TIME when more than a
// page of runs share the day) and so on down to the start of the range.
// Each window costs ⌈runs/100⌉ pages plus the runs it re-reads on the
// boundary day (deduplicated by id). A first run over a year of 3,000 runs
// costs 32 requests: one for today (whose ETag later polls reuse) and 31
// pages for the rest, against the 30 a cap-free listing would need.
//
// # Wall time
//
// A completed run's Duration is updated_at − run_started_at when that lies
// within Options.MaxWallTime (default 6 h): updated_at is when the run
// ended — unless GitHub touched the run later (it does: a run created
// 2022-12-24 shows updated_at 2024-01-29). When the difference is negative,
// longer than MaxWallTime or updated_at is missing, the collector asks
// GET .../actions/runs/{id}/timing for run_duration_ms instead — one
// request per such run, at most Options.MaxTimingRequests per workflow and
// poll (default 250). A run whose wall time cannot be learnt (timing
// budget spent, /timing answering 403/404/410/422, or no run_duration_ms)
// is stored with Duration 0, meaning unknown, and counted in a warning;
// consumers must skip Duration 0 (a real run is never that fast). A
// difference that is plausible but inflated (updated_at moved an hour after
// the run) cannot be told from a long run; that is the price of not paying
// a request per run. Queue time is CreatedAt → StartedAt; StartedAt is the
// start of the latest attempt, so it is only a queue time when Attempt is 1.
//
// A Deploy's Time is the run's completion, StartedAt + Duration (StartedAt
// when the duration is unknown), its SHA the run's head_sha.
//
// # The cursor
//
// One cursor per workflow, under the key "owner/repo/workflow" (with
// "@branch" appended when the branch is not main, "@*" for all branches):
//
//	{"through": "2026-03-04T09:50:00Z", "floor": "2026-03-01", "pending": [4711], "etag": "W/\"…\""}
//
// through: every run created at or before it is stored as it stood at that
// time — complete, or its id is in pending. It is the poll's start minus
// 10 minutes (clock skew), not the newest run seen.
//
// pending: runs stored while queued / in progress / waiting. They are
// re-read on later polls — from the listing when it covers them, else by
// GET .../actions/runs/{id} — until completed (or 45 days old, when GitHub
// has long given up on them; they are then dropped).
//
// floor: the UTC date the next incremental listing starts at
// (created:>=floor). It stays put while that listing fits on one page, so
// that its ETag stays valid, and moves up to through's date otherwise.
//
// etag: the ETag of that listing's first page. It is only kept when every
// pending run was on that page.
//
// An incremental poll asks for created:>=floor with If-None-Match: etag. A
// 304 — nothing was created or changed on that page, and no pending run
// lives elsewhere — ends the poll after one request, which does not count
// against the primary rate limit. Otherwise the listing is read (more
// pages and windows as needed); runs created and updated at or before
// through that are not pending are stored already and skipped (no commit,
// no /timing); the rest are converted. A run that was re-run shows a newer
// updated_at and is read again; re-runs of runs created before floor are
// not seen.
//
// A first run (no cursor) or a backfill (Run.Backfill with Run.Since
// before through) reads from Run.Since's date, or the whole history when
// Since is zero: first created:>=TODAY — the listing later polls ask for,
// whose ETag the cursor keeps — then the older days by windows.
//
// Each page is committed with its runs and deploys and, while a range is
// being read, the cursor carries its position:
//
//	"walk": {"lo": "2025-03-04", "hi": "2025-11-20", "through": "…", "full": true}
//
// (everything not yet read lies in lo..hi; through is what the walk will
// set). An interrupted walk resumes there, then the poll goes on as an
// incremental one: a kill -9 loses at most the page in flight.
package githubactions

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/internal/ghapi"
	"github.com/impact-dev/impact/internal/model"
)

// Name is the source name.
const Name = "github_actions"

// DefaultAPIURL is the public GitHub API.
const DefaultAPIURL = "https://api.github.com/"

// Defaults of Options.
const (
	DefaultMaxWallTime       = 6 * time.Hour
	DefaultMaxTimingRequests = 250
)

const (
	perPage = 100
	// resultCap is how many runs one filtered listing reaches.
	resultCap = 1000
	// settle keeps through behind the poll's start: clocks differ, and a
	// run may show up in listings a moment after its created_at.
	settle = 10 * time.Minute
	// pendingMaxAge: GitHub cancels queued runs after a day and expires
	// runs waiting for approval after 30 days; a run incomplete for longer
	// is not re-read any more.
	pendingMaxAge = 45 * 24 * time.Hour
	defaultBranch = "main"
)

// Options are the collector's dependencies.
type Options struct {
	// HTTPClient is the shared client (collectors.NewHTTPClient with Vendor
	// "github_actions"); default one with default options.
	HTTPClient *http.Client
	// Logger is used when Run.Logger is nil; default: discarded.
	Logger *slog.Logger
	// MaxWallTime is the longest updated_at − run_started_at taken as a
	// run's wall time without asking /timing; default 6h.
	MaxWallTime time.Duration
	// MaxTimingRequests bounds the /timing requests per workflow and poll;
	// 0 means the default (250), negative means never ask.
	MaxTimingRequests int
	// Sleep waits when go-github refuses a call locally because the rate
	// limit is spent; default collectors.SleepTimer. MaxWait bounds that
	// wait; default collectors.DefaultMaxWait.
	Sleep   func(ctxDone <-chan struct{}, d time.Duration) bool
	MaxWait time.Duration
}

// Collector collects workflow runs. It implements collectors.Collector.
type Collector struct {
	token     string
	baseURL   *url.URL
	workflows []workflow
	opt       Options
}

// workflow is one configured workflow.
type workflow struct {
	owner, name string
	repo        string // owner/name as configured
	wf          string // as configured: model.CIRun.Workflow
	ref         string // the path segment: file name or numeric id
	branch      string // "" for every branch
	deploys     bool
	key         string // cursor key
}

// String names the workflow in errors: "acme/search-api/ci.yml".
func (w workflow) String() string { return w.repo + "/" + w.wf }

// New checks the source config and returns its collector.
func New(src Config, opt Options) (*Collector, error) {
	api := strings.TrimSpace(src.APIURL)
	if api == "" {
		api = DefaultAPIURL
	}
	if !strings.HasSuffix(api, "/") {
		api += "/" // go-github refuses a BaseURL without it
	}
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: api_url %q is not an http(s) URL", Name, src.APIURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: api_url %q must not carry credentials, a query or a fragment (put the token in token:)", Name, u.Redacted())
	}
	if len(src.Workflows) == 0 {
		return nil, fmt.Errorf("%s: no workflows configured", Name)
	}
	c := &Collector{token: src.Token.Value(), baseURL: u, opt: opt}
	byKey := map[string]int{}
	for i, cw := range src.Workflows {
		owner, name, ok := strings.Cut(strings.TrimSpace(cw.Repo), "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("%s: workflows[%d]: repo %q: want owner/name", Name, i, cw.Repo)
		}
		wf := strings.TrimSpace(cw.Workflow)
		if wf == "" {
			return nil, fmt.Errorf("%s: workflows[%d] (%s): workflow is empty: want a file name (ci.yml) or id", Name, i, cw.Repo)
		}
		ref := wf
		if _, err := strconv.ParseInt(wf, 10, 64); err != nil {
			// The API takes the file name; accept .github/workflows/ci.yml.
			ref = path.Base(wf)
		}
		w := workflow{owner: owner, name: name, repo: owner + "/" + name, wf: wf, ref: ref,
			branch: strings.TrimSpace(cw.Branch), deploys: cw.Deploys}
		w.key = w.String()
		switch w.branch {
		case defaultBranch:
		case "":
			w.key += "@*"
		default:
			w.key += "@" + w.branch
		}
		if j, dup := byKey[strings.ToLower(w.key)]; dup {
			c.workflows[j].deploys = c.workflows[j].deploys || w.deploys
			continue
		}
		byKey[strings.ToLower(w.key)] = len(c.workflows)
		c.workflows = append(c.workflows, w)
	}
	if c.opt.HTTPClient == nil {
		c.opt.HTTPClient = collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true})
	}
	if c.opt.MaxWallTime <= 0 {
		c.opt.MaxWallTime = DefaultMaxWallTime
	}
	switch {
	case c.opt.MaxTimingRequests == 0:
		c.opt.MaxTimingRequests = DefaultMaxTimingRequests
	case c.opt.MaxTimingRequests < 0:
		c.opt.MaxTimingRequests = 0
	}
	if c.opt.Sleep == nil {
		c.opt.Sleep = collectors.SleepTimer
	}
	if c.opt.MaxWait <= 0 {
		c.opt.MaxWait = collectors.DefaultMaxWait
	}
	return c, nil
}

// Name is "github_actions".
func (c *Collector) Name() string { return Name }

// CursorKeys returns the cursor key of each configured workflow, in
// config order.
func (c *Collector) CursorKeys() []string {
	keys := make([]string, len(c.workflows))
	for i, w := range c.workflows {
		keys[i] = w.key
	}
	return keys
}

// client is a fresh go-github client per Collect: go-github remembers a
// secondary rate limit and refuses calls locally until it passes, which
// must not outlive the run that hit it.
func (c *Collector) client() *gh.Client {
	cl := gh.NewClient(c.opt.HTTPClient)
	if c.token != "" {
		cl = cl.WithAuthToken(c.token)
	}
	u := *c.baseURL
	cl.BaseURL = &u
	return cl
}

// Collect fetches the runs of every configured workflow. A workflow that
// fails does not stop the others; their errors are joined on one line,
// "; " between (errors.Is and errors.As see each).
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	run = run.WithDefaults(c.opt.Logger)
	log := run.Logger
	cl := c.client()
	var errs joined
	for _, w := range c.workflows {
		if err := ctx.Err(); err != nil {
			if len(errs) == 0 {
				errs = append(errs, fmt.Errorf("%s: %s: %w", Name, w, err))
			}
			break
		}
		p := &poller{c: c, gh: cl, run: run, wf: w, log: log.With("workflow", w.String()),
			timingLeft: c.opt.MaxTimingRequests}
		p.prog.Source, p.prog.Progress = Name, run.Progress
		if err := p.collect(ctx); err != nil {
			p.log.Debug("workflow failed", "err", err) // the caller reports the joined error
			errs = append(errs, err)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errs
}

// joined is the errors of several workflows on one line.
type joined []error

func (j joined) Error() string {
	s := make([]string, len(j))
	for i, e := range j {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func (j joined) Unwrap() []error { return j }

// cursor is the stored position of one workflow; see the package comment.
type cursor struct {
	Through time.Time `json:"through,omitzero"`
	Floor   string    `json:"floor,omitempty"`
	Pending []int64   `json:"pending,omitempty"`
	ETag    string    `json:"etag,omitempty"`
	Walk    *walk     `json:"walk,omitempty"`
}

// walk is a range being read, newest first.
type walk struct {
	// Lo is the first day of the range ("" for the whole history); Hi the
	// last day (or date-time) not read completely yet ("" while the
	// range's first, open-ended query has not got far).
	Lo string `json:"lo,omitempty"`
	Hi string `json:"hi,omitempty"`
	// Through is the cursor's through once the range is read.
	Through time.Time `json:"through"`
	// Full re-reads runs stored already (first run, backfill).
	Full bool `json:"full,omitempty"`
}

func (cur cursor) encode() []byte {
	b, err := json.Marshal(cur)
	if err != nil {
		panic(err) // times, strings and ints only
	}
	return b
}

// poller collects one workflow.
type poller struct {
	c   *Collector
	gh  *gh.Client
	run collectors.Run
	wf  workflow
	log *slog.Logger

	cur     cursor         // as stored
	full    bool           // convert runs stored already too
	pending map[int64]bool // runs not completed
	seen    map[int64]bool // runs read in this poll
	// the page in flight
	runs    []model.CIRun
	deploys []model.Deploy

	timingLeft int
	unknown    int // runs stored with an unknown wall time

	prog collectors.PageProgress // in requests
}

func (p *poller) collect(ctx context.Context) error {
	defer p.prog.Finish()
	raw, err := p.run.Sink.Cursor(ctx, Name, p.wf.key)
	if err != nil {
		return &Error{Source: Name, Op: "read cursor", Target: p.wf.String(), Err: err}
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &p.cur); err != nil {
			// A cursor this code cannot read: start as on a first run
			// rather than fail forever; runs are upserted.
			p.log.Warn("unreadable cursor, reading from Since", "cursor", string(raw), "err", err)
			p.cur = cursor{}
		}
	}
	defer func() {
		if p.unknown > 0 && p.c.opt.MaxTimingRequests == 0 {
			// /timing is off by configuration: expected, not a warning.
			p.log.Info("wall time unknown for some runs (updated_at moved after they ended); stored with duration 0",
				"runs", p.unknown)
		} else if p.unknown > 0 {
			p.log.Warn("wall time unknown for some runs: updated_at moved after they ended and /timing could not tell; stored with duration 0",
				"runs", p.unknown, "timing_budget", p.c.opt.MaxTimingRequests)
		}
	}()
	since := p.run.Since.UTC()
	backfill := p.run.Backfill
	if w := p.cur.Walk; w != nil && !w.Through.IsZero() {
		p.log.Info("resuming an interrupted walk", "lo", w.Lo, "hi", w.Hi)
		p.reset(w.Full)
		if _, err := p.walk(ctx, w, "", ""); err != nil {
			return err
		}
		if err := p.finish(ctx, w, nil); err != nil {
			return err
		}
		if w.Full && (w.Lo == "" || (!since.IsZero() && w.Lo <= day(since))) {
			backfill = false // that walk was this backfill
		}
	}
	full := p.cur.Through.IsZero() || (backfill && since.Before(p.cur.Through))
	return p.poll(ctx, full)
}

func (p *poller) reset(full bool) {
	p.full = full
	p.pending = map[int64]bool{}
	for _, id := range p.cur.Pending {
		p.pending[id] = true
	}
	p.seen = map[int64]bool{}
}

// poll reads what is new (or, when full, everything since Run.Since).
func (p *poller) poll(ctx context.Context, full bool) error {
	p.reset(full)
	target := p.run.Now.Add(-settle).UTC()
	w := &walk{Through: target, Full: full}
	var first, etag string
	if full {
		if !p.run.Since.IsZero() {
			w.Lo = day(p.run.Since)
		}
		first = max(w.Lo, day(target))
	} else {
		first = cmp.Or(p.cur.Floor, day(p.cur.Through))
		w.Lo = first
		if p.cur.Floor != "" {
			etag = p.cur.ETag
		}
	}
	q1, err := p.walk(ctx, w, first, etag)
	if err != nil {
		return err
	}
	if q1 != nil && q1.notModified {
		p.log.Debug("not modified", "created", ">="+first)
		return nil
	}
	return p.finish(ctx, w, q1)
}

// firstQuery describes the first page of a walk's first query.
type firstQuery struct {
	created     string
	notModified bool
	etag        string
	ids         map[int64]bool
	single      bool // the query fit on one page
}

// walk reads w's range newest first. A fresh walk starts with the
// open-ended query created:>=first (sending etag, if any); a resumed one
// (first == "") with w.Lo..w.Hi. It returns what the first query's first
// page said, nil when resuming.
func (p *poller) walk(ctx context.Context, w *walk, first, etag string) (*firstQuery, error) {
	var q1 *firstQuery
	hi := w.Hi
	isFirst := first != ""
	requests := 0
	for {
		lo := w.Lo
		if isFirst {
			lo = first
		}
		created := qualifier(lo, hi)
		var low time.Time // oldest created_at read by this query
		lowDay, onLowDay := "", 0
		n, total := 0, 0
		for page := 1; ; {
			if requests > 0 {
				// The previous page is done: store it with the position.
				if err := p.commit(ctx, p.walkCursor(w)); err != nil {
					return q1, err
				}
			}
			tag := ""
			if isFirst && page == 1 {
				tag = etag
			}
			runs, resp, notModified, err := p.list(ctx, created, page, tag)
			requests++
			if err != nil {
				return q1, err
			}
			if notModified {
				p.prog.DoneOne()
				return &firstQuery{created: created, notModified: true}, nil
			}
			if page == 1 {
				total = runs.GetTotalCount()
				if isFirst {
					q1 = &firstQuery{created: created, etag: resp.Header.Get("ETag"), ids: map[int64]bool{}, single: resp.NextPage == 0}
					for _, r := range runs.WorkflowRuns {
						q1.ids[r.GetID()] = true
					}
				}
				p.estimate(total, resp)
			}
			for _, r := range runs.WorkflowRuns {
				n++
				c := r.GetCreatedAt().Time.UTC()
				if !c.IsZero() {
					if low.IsZero() || c.Before(low) {
						low = c
					}
					switch d := day(c); {
					case d == lowDay:
						onLowDay++
					case lowDay == "" || d < lowDay:
						lowDay, onLowDay = d, 1
					}
				}
				if err := p.convert(ctx, r); err != nil {
					return q1, err
				}
			}
			p.prog.DoneOne()
			if !low.IsZero() {
				// Whatever this query has not handed out yet was created
				// at or before low.
				w.Hi = keyset(low, onLowDay, w.Hi)
			}
			if resp.NextPage == 0 || len(runs.WorkflowRuns) == 0 {
				break
			}
			page = resp.NextPage
		}
		switch {
		case n >= resultCap && (total > n || total == resultCap):
			// The listing stopped at its cap: go on below the oldest run
			// read.
			next := keyset(low, onLowDay, hi)
			if next == hi {
				return q1, &Error{Source: Name, Op: "list runs", Target: p.wf.String(),
					Err: fmt.Errorf("more than %d runs created at %s: cannot split the created range further", resultCap, low.Format(time.RFC3339))}
			}
			p.log.Debug("listing capped, next window", "created", created, "runs", n, "total", total, "next_hi", next)
			hi = next
		case isFirst && (w.Lo == "" || first > w.Lo):
			// The open-ended query is read; the older days remain.
			hi = dayBefore(first)
		default:
			return q1, nil
		}
		isFirst = false
		w.Hi = hi
	}
}

// keyset is the inclusive upper bound of a query that goes on below low:
// its day, or the very second when more than a page of runs share the day
// (so the next query does not re-read them all). It never returns a bound
// above prev (the current query's, "" when open).
func keyset(low time.Time, onLowDay int, prev string) string {
	b := day(low)
	if onLowDay > perPage || (prev != "" && !isDate(prev)) {
		b = low.UTC().Format(time.RFC3339)
	}
	if prev != "" && boundTime(b).After(boundTime(prev)) {
		return prev
	}
	if isDate(b) && prev == b {
		// No progress by day: go by the second.
		b = low.UTC().Format(time.RFC3339)
		if boundTime(b).After(boundTime(prev)) {
			return prev
		}
	}
	return b
}

// boundTime is the last instant an inclusive bound covers.
func boundTime(b string) time.Time {
	if isDate(b) {
		t, _ := time.Parse(time.DateOnly, b)
		return t.AddDate(0, 0, 1).Add(-time.Second)
	}
	t, _ := time.Parse(time.RFC3339, b)
	return t
}

func isDate(b string) bool { return len(b) == len(time.DateOnly) }

// day is t's UTC date.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func dayBefore(d string) string {
	t, _ := time.Parse(time.DateOnly, d)
	return t.AddDate(0, 0, -1).Format(time.DateOnly)
}

// qualifier is the created qualifier for lo..hi: both inclusive, lo a date
// or "", hi a date, a date-time or "" (open).
func qualifier(lo, hi string) string {
	switch {
	case lo == "" && hi == "":
		return ""
	case hi == "":
		return ">=" + lo
	case lo == "":
		return "<=" + hi
	}
	if !isDate(hi) {
		lo += "T00:00:00Z" // one form on both sides
	}
	return lo + ".." + hi
}

// walkCursor is the cursor stored while w is being read: the old through
// and floor (nothing newer is complete yet), the pending runs so far, and
// the position.
func (p *poller) walkCursor(w *walk) cursor {
	pos := *w
	return cursor{Through: p.cur.Through, Floor: p.cur.Floor, Pending: p.pendingIDs(), Walk: &pos}
}

func (p *poller) pendingIDs() []int64 {
	if len(p.pending) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(p.pending))
}

// finish re-reads the pending runs the walk did not list, and commits the
// last page with the new cursor.
func (p *poller) finish(ctx context.Context, w *walk, q1 *firstQuery) error {
	for _, id := range p.pendingIDs() {
		if p.seen[id] {
			continue
		}
		if err := p.reread(ctx, id); err != nil {
			return err
		}
	}
	next := cursor{Through: w.Through, Floor: day(w.Through), Pending: p.pendingIDs()}
	if q1 != nil && !w.Full && q1.single && w.Lo != "" {
		// The listing fit on one page: keep asking for the same one, so
		// its ETag stays useful.
		next.Floor = w.Lo
	}
	if q1 != nil && q1.created == ">="+next.Floor && q1.etag != "" {
		next.ETag = q1.etag
		for _, id := range next.Pending {
			if !q1.ids[id] {
				next.ETag = "" // a 304 would not vouch for this one
				break
			}
		}
	}
	if err := p.commit(ctx, next); err != nil {
		return err
	}
	p.cur = next
	return nil
}

// reread fetches one pending run the listing did not cover.
func (p *poller) reread(ctx context.Context, id int64) error {
	p.prog.Start()
	var r *gh.WorkflowRun
	_, err := ghapi.Call(ctx, p.c.opt.MaxWait, p.c.opt.Sleep, p.log, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		r, resp, err = p.gh.Actions.GetWorkflowRunByID(ctx, p.wf.owner, p.wf.name, id)
		return resp, err
	})
	p.prog.DoneOne()
	if err != nil {
		if s := ghapi.StatusCode(err); s == http.StatusNotFound || s == http.StatusGone {
			p.log.Info("pending run is gone; forgetting it", "run", id)
			delete(p.pending, id)
			return nil
		}
		return &Error{Source: Name, Op: "get run", Target: fmt.Sprintf("%s#%d", p.wf, id), Err: err}
	}
	return p.convert(ctx, r)
}

// convert adds r to the page in flight, unless it is stored already and
// unchanged, or was read before in this poll.
func (p *poller) convert(ctx context.Context, r *gh.WorkflowRun) error {
	id := r.GetID()
	if id <= 0 || p.seen[id] {
		return nil
	}
	p.seen[id] = true
	created := r.GetCreatedAt().Time.UTC()
	updated := r.GetUpdatedAt().Time.UTC()
	status := r.GetStatus()
	if !p.full && !p.cur.Through.IsZero() && !p.pending[id] && status == "completed" &&
		!created.After(p.cur.Through) && !updated.IsZero() && !updated.After(p.cur.Through) {
		return nil // stored as it is now
	}
	run := model.CIRun{
		Repo:       p.wf.repo,
		Workflow:   p.wf.wf,
		RunID:      id,
		Attempt:    r.GetRunAttempt(),
		Branch:     r.GetHeadBranch(),
		SHA:        r.GetHeadSHA(),
		Event:      r.GetEvent(),
		Status:     status,
		Conclusion: r.GetConclusion(),
		CreatedAt:  created,
		StartedAt:  r.GetRunStartedAt().Time.UTC(),
		Deploys:    p.wf.deploys,
	}
	if status != "completed" {
		if age := p.run.Now.Sub(created); !created.IsZero() && age > pendingMaxAge {
			p.log.Warn("run still not completed after 45 days; no longer re-read", "run", id, "status", status)
			delete(p.pending, id)
		} else {
			p.pending[id] = true
		}
		p.runs = append(p.runs, run)
		return nil
	}
	delete(p.pending, id)
	d, err := p.wallTime(ctx, r, run)
	if err != nil {
		return err
	}
	run.Duration = d
	p.runs = append(p.runs, run)
	if p.wf.deploys && run.Conclusion == "success" && (p.wf.branch == "" || run.Branch == p.wf.branch) {
		start := run.StartedAt
		if start.IsZero() {
			start = created
		}
		p.deploys = append(p.deploys, model.Deploy{Repo: run.Repo, Workflow: run.Workflow, RunID: id, SHA: run.SHA, Time: start.Add(d)})
	}
	return nil
}

// wallTime is a completed run's wall time; see the package comment. 0
// means unknown.
func (p *poller) wallTime(ctx context.Context, r *gh.WorkflowRun, run model.CIRun) (time.Duration, error) {
	start := run.StartedAt
	if start.IsZero() {
		start = run.CreatedAt
	}
	if u := r.GetUpdatedAt().Time; !u.IsZero() && !start.IsZero() {
		if d := u.Sub(start); d >= 0 && d <= p.c.opt.MaxWallTime {
			return d, nil
		}
	}
	if p.timingLeft <= 0 {
		p.unknown++
		return 0, nil
	}
	p.timingLeft--
	p.prog.Start()
	var usage *gh.WorkflowRunUsage
	_, err := ghapi.Call(ctx, p.c.opt.MaxWait, p.c.opt.Sleep, p.log, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		usage, resp, err = p.gh.Actions.GetWorkflowRunUsageByID(ctx, p.wf.owner, p.wf.name, run.RunID)
		return resp, err
	})
	p.prog.DoneOne()
	if err != nil {
		var er *gh.ErrorResponse
		if errors.As(err, &er) {
			switch ghapi.StatusCode(err) {
			case http.StatusForbidden:
				// Not a rate limit (the shared client retries those): the
				// token may not read timings. Do not ask again this poll.
				p.log.Warn("run timing not allowed; not asking again this poll", "run", run.RunID, "err", ghapi.Describe(err, 0))
				p.timingLeft = 0
				p.unknown++
				return 0, nil
			case http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity:
				p.log.Debug("run timing not available", "run", run.RunID, "err", ghapi.Describe(err, 0))
				p.unknown++
				return 0, nil
			}
		}
		return 0, &Error{Source: Name, Op: "run timing", Target: fmt.Sprintf("%s#%d", p.wf, run.RunID), Err: err}
	}
	if usage.RunDurationMS == nil || *usage.RunDurationMS < 0 {
		p.unknown++
		return 0, nil
	}
	return time.Duration(*usage.RunDurationMS) * time.Millisecond, nil
}

// commit stores the page in flight with cursor next.
func (p *poller) commit(ctx context.Context, next cursor) error {
	b := model.Batch{Source: Name, CIRuns: p.runs, Deploys: p.deploys, Cursors: map[string][]byte{p.wf.key: next.encode()}}
	if err := p.run.Sink.Commit(ctx, b); err != nil {
		return &Error{Source: Name, Op: "store", Target: p.wf.String(), Err: err}
	}
	p.runs, p.deploys = nil, nil
	return nil
}

// list reads one page of the workflow's runs on its branch, created as the
// qualifier says. With etag set, a 304 reports notModified.
func (p *poller) list(ctx context.Context, created string, page int, etag string) (runs *gh.WorkflowRuns, resp *gh.Response, notModified bool, err error) {
	p.prog.Start()
	q := url.Values{}
	if p.wf.branch != "" {
		q.Set("branch", p.wf.branch)
	}
	if created != "" {
		q.Set("created", created)
	}
	q.Set("per_page", strconv.Itoa(perPage))
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	u := fmt.Sprintf("repos/%s/%s/actions/workflows/%s/runs?%s",
		url.PathEscape(p.wf.owner), url.PathEscape(p.wf.name), url.PathEscape(p.wf.ref), q.Encode())
	runs = new(gh.WorkflowRuns)
	resp, err = ghapi.Call(ctx, p.c.opt.MaxWait, p.c.opt.Sleep, p.log, func() (*gh.Response, error) {
		req, err := p.gh.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		return p.gh.Do(ctx, req, runs)
	})
	if resp != nil && resp.StatusCode == http.StatusNotModified {
		// go-github reports a 304 as an *ErrorResponse: nothing new.
		return nil, resp, true, nil
	}
	if err != nil {
		return nil, nil, false, &Error{Source: Name, Op: "list runs", Target: p.wf.String(), Page: page, Err: err}
	}
	if err := checkRuns(runs, p.run.Now); err != nil {
		// A 200 that is not a page of runs must not pass for an empty
		// one: the cursor would move past every run not read.
		return nil, nil, false, &Error{Source: Name, Op: "list runs", Target: p.wf.String(), Page: page, Err: err}
	}
	if resp.NextPage != 0 && resp.NextPage <= page {
		return nil, nil, false, &Error{Source: Name, Op: "list runs", Target: p.wf.String(), Page: page,
			Err: fmt.Errorf("pagination loops: page %d links to page %d as the next", page, resp.NextPage)}
	}
	return runs, resp, false, nil
}

// checkRuns rejects a listing without the fields every page has, or with
// a run created in the future (the windows the walk reads, and so what it
// skips next, are built on created_at).
func checkRuns(runs *gh.WorkflowRuns, now time.Time) error {
	if runs.TotalCount == nil || runs.WorkflowRuns == nil {
		return errors.New("malformed response: no total_count or workflow_runs in the body")
	}
	for i, r := range runs.WorkflowRuns {
		if r.GetID() <= 0 || r.GetCreatedAt().IsZero() {
			return fmt.Errorf("malformed response: run %d of the page has no id or created_at", i)
		}
		if c := r.GetCreatedAt().Time; collectors.Future(c, now) {
			return fmt.Errorf("malformed response: run %d created in the future (%s)", r.GetID(), c.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// estimate announces the pages a query's total_count implies (at most
// the cap's worth), beyond those announced already.
func (p *poller) estimate(total int, resp *gh.Response) {
	pages := int64((min(total, resultCap) + perPage - 1) / perPage)
	if resp.LastPage > 0 {
		pages = max(pages, int64(resp.LastPage))
	}
	// The page in hand is announced, and so may be some not read yet.
	p.prog.Announce(pages - p.prog.Outstanding())
}

// Error is a failed GitHub call (ghapi.Error, shared with the other
// GitHub source): source, operation, target and what went wrong, on one line.
type Error = ghapi.Error
