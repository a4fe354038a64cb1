// Package github collects the merged pull requests of the configured
// repositories (all authors: the drafter needs other people's PRs to judge
// attribution) from the GitHub or GitHub Enterprise REST API.
//
// # Walking and the cursor
//
// Each repository is read with
//
//	GET /repos/{owner}/{repo}/pulls?state=closed&sort=updated&direction=desc&per_page=100&page=N
//
// newest update first, down to a floor: the cursor's updated_at on an
// incremental poll, Run.Since on the first run or a backfill (or the cursor,
// when that is older: a backfill never leaves a gap). Closed PRs that were
// not merged are skipped, and so, on a first run or backfill, are PRs merged
// before Run.Since that were merely updated since (a late comment). Files
// are listed (GET .../pulls/{n}/files) only for repos where
// Options.NeedFiles says a metric needs them. Every page is committed as
// one batch — its merged PRs (upserted by "owner/repo#N", so reading one
// twice is harmless) and the repository's cursor — so a kill -9 loses at
// most the page in flight.
//
// The cursor (key: the repository "owner/name") is JSON:
//
//	{"updated_at": "2026-03-02T09:00:00Z", "seen": [1234], "etag": "W/\"…\""}
//
// updated_at is the newest updated_at of a walk that reached its floor:
// every merged PR updated at or after the floor and up to it is stored. It
// only moves when a walk completes, because pages run newest first: moving
// it to the first page's newest PR while older pages are still unread would
// skip them. seen lists the PRs updated at exactly updated_at that were
// read: the next poll's floor is updated_at itself (a PR updated later in
// the same second must not be missed), and those PRs are passed over — not
// stored again, their files not listed again.
//
// # Conditional requests
//
// etag is the ETag of the first page 1 this walk read. An incremental poll
// (the floor is updated_at) sends it as If-None-Match with page 1: any PR
// closed, merged or updated since moves to the top of the list and changes
// page 1, so a 304 Not Modified means there is nothing new — the poll ends
// there, with no commit, and GitHub does not count a 304 against the
// primary rate limit. A 200 is read as usual and its ETag kept. A first run,
// a backfill reaching below updated_at and a resumed walk send none.
//
// While a walk is unfinished the cursor also carries it (and no etag):
//
//	{"updated_at": "...", "walk": {"high": "...", "floor": "...", "page": 7, "low": "..."}}
//
// high is the newest updated_at the walk saw (at_high: the PRs updated at
// exactly that time), page the last page committed and low the updated_at
// of that page's last PR. An interrupted walk resumes:
// first it reads from page 1 the PRs updated after high (they moved to the
// top since), then it jumps back to page `page` — PRs being updated or
// closed only push unread PRs further down the list, so nothing unread can
// be above that page — and checks the page still starts above low; if the
// list changed in a way that breaks this (a PR reopened, say), it walks
// again from page 1. Either way nothing is skipped, and a long backfill
// interrupted late does not start over.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/internal/ghapi"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// Name is the source name.
const Name = "github"

// DefaultAPIURL is the public GitHub API.
const DefaultAPIURL = "https://api.github.com/"

const perPage = 100

// Options are the collector's dependencies.
type Options struct {
	// HTTPClient is the shared client (collectors.NewHTTPClient with Vendor
	// "github"); default one with default options.
	HTTPClient *http.Client
	// NeedFiles reports whether the files a PR touched are needed for a repo
	// (a metric on it sets `paths`); nil means never. See NeedFilesFor.
	NeedFiles func(repo string) bool
	// Logger is used when Run.Logger is nil; default: discarded.
	Logger *slog.Logger
	// Sleep waits when go-github refuses a call locally because the rate
	// limit is spent (it does not even reach the shared client then);
	// default collectors.SleepTimer. MaxWait bounds that wait; default
	// collectors.DefaultMaxWait.
	Sleep   func(ctxDone <-chan struct{}, d time.Duration) bool
	MaxWait time.Duration
	// Reviewers are the logins (me.github) whose reviews are collected
	// (reviews.go); none: reviews are not collected.
	Reviewers []string
}

// Collector collects merged PRs. It implements collectors.Collector.
type Collector struct {
	token   string
	baseURL *url.URL
	repos   []repo
	opt     Options
}

type repo struct{ owner, name string }

func (r repo) String() string { return r.owner + "/" + r.name }

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
		return nil, fmt.Errorf("github: api_url %q is not an http(s) URL", src.APIURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("github: api_url %q must not carry credentials, a query or a fragment (put the token in token:)", u.Redacted())
	}
	if len(src.Repos) == 0 {
		return nil, errors.New("github: no repos configured")
	}
	c := &Collector{token: src.Token.Value(), baseURL: u, opt: opt}
	seen := map[string]bool{}
	for _, s := range src.Repos {
		owner, name, ok := strings.Cut(strings.TrimSpace(s), "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("github: repo %q: want owner/name", s)
		}
		r := repo{owner, name}
		if seen[strings.ToLower(r.String())] {
			continue
		}
		seen[strings.ToLower(r.String())] = true
		c.repos = append(c.repos, r)
	}
	if c.opt.HTTPClient == nil {
		c.opt.HTTPClient = collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true})
	}
	if c.opt.NeedFiles == nil {
		c.opt.NeedFiles = func(string) bool { return false }
	}
	if c.opt.Sleep == nil {
		c.opt.Sleep = collectors.SleepTimer
	}
	if c.opt.MaxWait <= 0 {
		c.opt.MaxWait = collectors.DefaultMaxWait
	}
	return c, nil
}

// NeedFilesFor returns the NeedFiles of a config's metrics: true for a repo
// that a metric with `paths` lists (case-insensitively, as GitHub does).
func NeedFilesFor(metrics []config.Metric) func(repo string) bool {
	need := map[string]bool{}
	for _, m := range metrics {
		if len(m.Paths) == 0 {
			continue
		}
		for _, r := range m.Repos {
			need[strings.ToLower(r)] = true
		}
	}
	return func(repo string) bool { return need[strings.ToLower(repo)] }
}

// Name is "github".
func (c *Collector) Name() string { return Name }

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

// Collect fetches the merged PRs of every repo. A repo that fails does not
// stop the others; their errors are joined on one line, "; " between.
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	run = run.WithDefaults(c.opt.Logger)
	log := run.Logger // carries the run's attributes (source=...)
	cl := c.client()
	var errs []error
	for _, r := range c.repos {
		if err := ctx.Err(); err != nil {
			if len(errs) == 0 {
				errs = append(errs, fmt.Errorf("github: %s: %w", r, err))
			}
			break
		}
		w := &walker{c: c, gh: cl, run: run, repo: r, log: log.With("repo", r.String())}
		w.prog.Source, w.prog.Progress = Name, run.Progress
		if err := w.collect(ctx); err != nil {
			w.log.Debug("repo failed", "err", err) // the caller reports the joined error
			errs = append(errs, err)
			continue
		}
		for _, login := range c.opt.Reviewers {
			if login = strings.TrimSpace(login); login == "" {
				continue
			}
			if err := w.collectReviews(ctx, login); err != nil {
				w.log.Debug("reviews failed", "err", err)
				errs = append(errs, err)
				break
			}
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return joined(errs)
}

// joined is the errors of several repos on one line; errors.Is and
// errors.As see each.
type joined []error

func (j joined) Error() string {
	s := make([]string, len(j))
	for i, e := range j {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func (j joined) Unwrap() []error { return j }

// cursor is the stored position of one repo; see the package comment.
type cursor struct {
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Seen are the numbers of the PRs updated at exactly UpdatedAt that
	// were read, sorted.
	Seen []int `json:"seen,omitempty"`
	// ETag is the ETag of page 1 as the walk that set UpdatedAt first read
	// it; empty while a walk is unfinished.
	ETag string `json:"etag,omitempty"`
	Walk *walk  `json:"walk,omitempty"`
}

// walk is an unfinished walk down the list.
type walk struct {
	// High is the newest updated_at the walk has seen; AtHigh the PRs
	// updated at exactly that time.
	High   time.Time `json:"high,omitzero"`
	AtHigh []int     `json:"at_high,omitempty"`
	// Floor: the walk ends at the first PR updated before it (zero: the
	// whole history).
	Floor time.Time `json:"floor,omitzero"`
	// MergedAfter skips PRs merged before it (a first run or backfill wants
	// PRs merged since Run.Since, not old PRs that got a comment).
	MergedAfter time.Time `json:"merged_after,omitzero"`
	// Page is the last page committed, Low the updated_at of its last PR.
	Page int       `json:"page"`
	Low  time.Time `json:"low,omitzero"`
}

func (cur cursor) encode() []byte {
	b, err := json.Marshal(cur)
	if err != nil {
		panic(err) // times and ints only
	}
	return b
}

// walker collects one repo.
type walker struct {
	c    *Collector
	gh   *gh.Client
	run  collectors.Run
	repo repo
	log  *slog.Logger

	cur   cursor // as stored
	files bool
	// cache is the last page walkTop read, which walkFrom may need next.
	cache *fetched

	// incremental: the walk's floor is the stored updated_at, so the PRs
	// of cur.Seen are stored already and passed over.
	incremental bool
	// ifNoneMatch is sent with the next request for page 1 (once).
	ifNoneMatch string
	// etag is the ETag of the first page 1 read in this run; etagRead
	// says whether page 1 was read.
	etag     string
	etagRead bool

	prog collectors.PageProgress // in list pages

	warnedFuture bool
}

func (w *walker) collect(ctx context.Context) (err error) {
	defer w.prog.Finish()
	raw, err := w.run.Sink.Cursor(ctx, Name, w.repo.String())
	if err != nil {
		return fmt.Errorf("github: %s: read cursor: %w", w.repo, err)
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &w.cur); err != nil {
			// A cursor this code cannot read: start as on a first run
			// rather than fail forever; PRs are upserted.
			w.log.Warn("unreadable cursor, reading from Since", "cursor", string(raw), "err", err)
			w.cur = cursor{}
		}
	}
	w.files = w.c.opt.NeedFiles(w.repo.String())

	floor, mergedAfter := w.floor()
	wk := w.cur.Walk
	if wk == nil {
		w.incremental = !w.cur.UpdatedAt.IsZero() && floor.Equal(w.cur.UpdatedAt)
		if w.incremental {
			w.ifNoneMatch = w.cur.ETag
		}
		w.log.Debug("walk", "floor", floor, "conditional", w.ifNoneMatch != "")
		return w.walkFrom(ctx, &walk{Floor: floor, MergedAfter: mergedAfter}, 1, false)
	}
	// Resume an unfinished walk, going further down if this run asks for more.
	if floor.Before(wk.Floor) {
		wk.Floor, wk.MergedAfter = floor, mergedAfter
	}
	w.incremental = !w.cur.UpdatedAt.IsZero() && wk.Floor.Equal(w.cur.UpdatedAt)
	if wk.High.IsZero() || wk.Page < 1 {
		// Not a position this code wrote; walk again from the top.
		return w.walkFrom(ctx, wk, 1, false)
	}
	w.log.Info("resuming an interrupted walk", "page", wk.Page, "high", wk.High, "floor", wk.Floor)
	high, atHigh, err := w.walkTop(ctx, wk)
	if err != nil {
		return err
	}
	if high.After(wk.High) {
		wk.High, wk.AtHigh = high, atHigh
	}
	return w.walkFrom(ctx, wk, wk.Page, true)
}

// floor returns where a new walk ends, and which merge times it keeps.
func (w *walker) floor() (floor, mergedAfter time.Time) {
	since := w.run.Since.UTC()
	switch {
	case w.cur.UpdatedAt.IsZero():
		return since, since
	case w.run.Backfill && since.Before(w.cur.UpdatedAt):
		return since, since
	default:
		return w.cur.UpdatedAt, time.Time{}
	}
}

// walkTop reads, from page 1, the PRs updated after wk.High — those updated
// since the interrupted walk began — and commits them with the cursor
// unchanged, so that an interruption here repeats this step. It returns the
// newest updated_at seen and the PRs updated at exactly that time.
func (w *walker) walkTop(ctx context.Context, wk *walk) (high time.Time, atHigh []int, err error) {
	for page := 1; ; {
		prs, resp, _, err := w.list(ctx, page) // no If-None-Match: never 304
		if err != nil {
			return high, atHigh, err
		}
		var batch []*gh.PullRequest
		stop := false
		for _, pr := range prs {
			u := pr.GetUpdatedAt().Time
			if !u.After(wk.High) {
				stop = true
				break
			}
			if !w.future(pr) {
				high, atHigh = newest(high, atHigh, u, pr.GetNumber())
			}
			batch = append(batch, pr)
		}
		if err := w.commit(ctx, batch, wk, w.cur); err != nil {
			return high, atHigh, err
		}
		if stop || resp.NextPage == 0 {
			w.cache = &fetched{page, prs, resp}
			return high, atHigh, nil
		}
		page = resp.NextPage
	}
}

// future reports a PR updated after the run's Now plus the clock skew
// allowed (collectors.MaxClockSkew), and warns once per walk.
func (w *walker) future(pr *gh.PullRequest) bool {
	if !collectors.Future(pr.GetUpdatedAt().Time, w.run.Now) {
		return false
	}
	if !w.warnedFuture {
		w.warnedFuture = true
		w.log.Warn("a pull request is updated in the future; stored, but the cursor does not move past now",
			"pr", pr.GetNumber(), "updated_at", pr.GetUpdatedAt().Time)
	}
	return true
}

// newest folds PR number, updated at u, into the newest time seen and the
// PRs updated at exactly that time.
func newest(high time.Time, at []int, u time.Time, number int) (time.Time, []int) {
	switch {
	case u.After(high):
		return u, []int{number}
	case u.Equal(high) && !slices.Contains(at, number):
		return high, append(at, number)
	}
	return high, at
}

// walkFrom reads pages from page on until the floor or the end of the list,
// committing each with the walk's position. check asks to verify that page
// still starts above wk.Low (resuming); if not, the walk restarts at page 1.
func (w *walker) walkFrom(ctx context.Context, wk *walk, page int, check bool) error {
	first := true // first page of this walk from the top
	for {
		prs, resp, notModified, err := w.list(ctx, page)
		if err != nil {
			return err
		}
		if notModified {
			// Page 1 is as the last walk left it: nothing new.
			w.log.Debug("not modified")
			w.prog.DoneOne()
			return nil
		}
		if check {
			check = false
			if page > 1 && (len(prs) == 0 || !prs[0].GetUpdatedAt().Time.After(wk.Low)) {
				w.log.Info("pull list changed under the interrupted walk; walking again from page 1", "page", page)
				page, first = 1, true
				continue
			}
		}
		var batch []*gh.PullRequest
		done := false
		low := wk.Low
		for _, pr := range prs {
			u := pr.GetUpdatedAt().Time
			if !u.IsZero() {
				if u.Before(wk.Floor) {
					done = true
					break
				}
				if w.future(pr) {
					// Stored, but never the cursor: a 9999-12-31 updated_at
					// would make every later poll find nothing new.
					batch = append(batch, pr)
					continue
				}
				wk.High, wk.AtHigh = newest(wk.High, wk.AtHigh, u, pr.GetNumber())
				low = u
			}
			batch = append(batch, pr)
		}
		next := w.cur
		if done || resp.NextPage == 0 {
			switch {
			case wk.High.After(next.UpdatedAt):
				next.UpdatedAt, next.Seen = wk.High.UTC(), sortedSet(wk.AtHigh)
			case wk.High.Equal(next.UpdatedAt):
				next.Seen = sortedSet(slices.Concat(next.Seen, wk.AtHigh))
			}
			next.ETag = w.etag
			next.Walk = nil
		} else {
			wk.Page, wk.Low = page, low
			next.ETag = "" // a resumed walk sends no If-None-Match
			next.Walk = wk
		}
		if err := w.commit(ctx, batch, wk, next); err != nil {
			return err
		}
		w.cur = next
		if first && page == 1 && !done && len(prs) > 0 {
			w.estimate(resp, wk.High, low, wk.Floor)
		}
		if next.Walk == nil {
			return nil
		}
		page, first = resp.NextPage, false
	}
}

// sortedSet returns the distinct numbers of s, sorted (nil for none).
func sortedSet(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// stored reports whether p was read by the walk that set the cursor: an
// incremental walk re-reads the PRs updated at exactly the cursor's time
// (its floor), and passes over those the cursor lists as seen.
func (w *walker) stored(p *gh.PullRequest) bool {
	return w.incremental && p.GetUpdatedAt().Time.Equal(w.cur.UpdatedAt) && slices.Contains(w.cur.Seen, p.GetNumber())
}

// commit stores the merged PRs of batch with cursor next, in one batch.
func (w *walker) commit(ctx context.Context, batch []*gh.PullRequest, wk *walk, next cursor) error {
	var prs []model.PR
	for _, p := range batch {
		if p.MergedAt == nil {
			continue // closed without merging
		}
		if w.stored(p) {
			continue
		}
		merged := p.GetMergedAt().Time.UTC()
		if !wk.MergedAfter.IsZero() && merged.Before(wk.MergedAfter) {
			continue
		}
		pr := model.PR{
			Repo:     w.repo.String(),
			Number:   p.GetNumber(),
			Title:    p.GetTitle(),
			URL:      p.GetHTMLURL(),
			Author:   p.GetUser().GetLogin(),
			MergedAt: merged,
			MergeSHA: p.GetMergeCommitSHA(),
			// Opened: the start of DORA's lead time for changes.
			CreatedAt: p.GetCreatedAt().Time.UTC(),
			Base:      p.GetBase().GetRef(),
		}
		if w.files {
			files, err := w.listFiles(ctx, pr.Number)
			if err != nil {
				var er *gh.ErrorResponse
				if errors.As(err, &er) && er.Response != nil && (er.Response.StatusCode == http.StatusNotFound || er.Response.StatusCode == http.StatusUnprocessableEntity) {
					// This PR's files cannot be listed; keep the PR, say so.
					w.log.Warn("files not available", "pr", pr.Number, "err", err)
				} else {
					return err
				}
			} else {
				pr.Files, pr.FilesFetched = files, true
			}
		}
		prs = append(prs, pr)
	}
	b := model.Batch{Source: Name, PRs: prs, Cursors: map[string][]byte{w.repo.String(): next.encode()}}
	if err := w.run.Sink.Commit(ctx, b); err != nil {
		return fmt.Errorf("github: %s: store: %w", w.repo, err)
	}
	w.prog.DoneOne()
	return nil
}

type fetched struct {
	page int
	prs  []*gh.PullRequest
	resp *gh.Response
}

// list reads one page of the repo's closed PRs, newest update first: the
// request go-github's PullRequests.List sends, built by hand so that page 1
// can carry If-None-Match. notModified reports a 304 to it.
func (w *walker) list(ctx context.Context, page int) (prs []*gh.PullRequest, resp *gh.Response, notModified bool, err error) {
	if f := w.cache; f != nil && f.page == page {
		w.cache = nil
		return f.prs, f.resp, false, nil
	}
	w.prog.Start()
	tag := ""
	if page == 1 {
		tag, w.ifNoneMatch = w.ifNoneMatch, ""
	}
	q := url.Values{}
	q.Set("state", "closed")
	q.Set("sort", "updated")
	q.Set("direction", "desc")
	q.Set("per_page", strconv.Itoa(perPage))
	q.Set("page", strconv.Itoa(page))
	u := fmt.Sprintf("repos/%s/%s/pulls?%s", url.PathEscape(w.repo.owner), url.PathEscape(w.repo.name), q.Encode())
	resp, err = ghapi.Call(ctx, w.c.opt.MaxWait, w.c.opt.Sleep, w.log, func() (*gh.Response, error) {
		req, err := w.gh.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		if tag != "" {
			req.Header.Set("If-None-Match", tag)
		}
		prs = nil
		return w.gh.Do(ctx, req, &prs)
	})
	if tag != "" && resp != nil && resp.StatusCode == http.StatusNotModified {
		// go-github reports a 304 as an *ErrorResponse: here it is the
		// answer hoped for.
		return nil, resp, true, nil
	}
	if err != nil {
		return nil, nil, false, &Error{Source: Name, Op: "list pulls", Target: w.repo.String(), Page: page, Err: err}
	}
	if err := checkPulls(prs, page, resp.NextPage); err != nil {
		return nil, nil, false, &Error{Source: Name, Op: "list pulls", Target: w.repo.String(), Page: page, Err: err}
	}
	if page == 1 && !w.etagRead {
		w.etagRead, w.etag = true, resp.Header.Get("ETag")
	}
	return prs, resp, false, nil
}

// checkPulls rejects a page of the pull list that lacks what every PR has
// (a number, an updated_at: the walk and the cursor are built on them), or
// whose next page is not further down.
func checkPulls(prs []*gh.PullRequest, page, next int) error {
	for i, p := range prs {
		if p == nil || p.GetNumber() <= 0 || p.GetUpdatedAt().IsZero() {
			return fmt.Errorf("malformed response: pull %d of the page has no number or updated_at", i)
		}
	}
	if next != 0 && next <= page {
		return fmt.Errorf("pagination loops: page %d links to page %d as the next", page, next)
	}
	return nil
}

func (w *walker) listFiles(ctx context.Context, number int) ([]string, error) {
	var out []string
	opts := &gh.ListOptions{PerPage: perPage}
	for {
		var files []*gh.CommitFile
		resp, err := ghapi.Call(ctx, w.c.opt.MaxWait, w.c.opt.Sleep, w.log, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			files, resp, err = w.gh.PullRequests.ListFiles(ctx, w.repo.owner, w.repo.name, number, opts)
			return resp, err
		})
		if err != nil {
			return nil, &Error{Source: Name, Op: "list files", Target: fmt.Sprintf("%s#%d", w.repo, number), Page: opts.Page, Err: err}
		}
		for _, f := range files {
			out = append(out, f.GetFilename())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		if resp.NextPage <= max(opts.Page, 1) {
			return nil, &Error{Source: Name, Op: "list files", Target: fmt.Sprintf("%s#%d", w.repo, number), Page: opts.Page,
				Err: fmt.Errorf("pagination loops: page %d links to page %d as the next", max(opts.Page, 1), resp.NextPage)}
		}
		opts.Page = resp.NextPage
	}
}

// estimate announces the pages a walk from page 1 will likely need: the
// time down to the floor over the time the first page spans, at most the
// list's last page.
func (w *walker) estimate(resp *gh.Response, high, low, floor time.Time) {
	pages := int64(resp.LastPage)
	if pages <= 1 {
		return
	}
	if span := high.Sub(low); !floor.IsZero() && span > 0 {
		est := int64(high.Sub(floor)/span) + 1
		pages = min(pages, est)
	}
	// -1: the first page is announced and done already.
	w.prog.Announce(pages - w.prog.Outstanding() - 1)
}

// Error is a failed GitHub call (ghapi.Error, shared with the other
// GitHub source): source, operation, target and what went wrong, on one line.
type Error = ghapi.Error
