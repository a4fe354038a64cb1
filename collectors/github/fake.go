package github

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

const ghDocs = "https://docs.github.com/rest"

// NewFake is the fake GitHub: it serves the world's pull requests in the
// shape of GitHub's REST API (v3, as go-github v60 reads it), for this
// collector's tests, the demo, the daemon tests, the hostile-vendor table
// and the benchmarks (testdata/SOURCES.md says where the shapes come from):
//
//	GET /repos/{owner}/{repo}/pulls                  state (open|closed|all; default open), sort (created|updated|popularity|long-running), direction, base, per_page (≤100, default 30), page
//	GET /repos/{owner}/{repo}/pulls/{number}
//	GET /repos/{owner}/{repo}/pulls/{number}/files   per_page, page
//	GET /rate_limit
//	GET /search/issues                               q (is:pr repo: reviewed-by: updated:>=), sort=updated, order, per_page, page
//	GET /repos/{owner}/{repo}/pulls/{number}/reviews   per_page, page
//	GET /repos/{owner}/{repo}/pulls/{number}/comments  per_page, page
//
// Only PRs created and closed by world.End exist; the world has no open
// PRs, so state=open lists none. Closed-unmerged PRs are listed with
// merged_at null. Responses carry Link (next/last/first/prev), ETag (a
// matching If-None-Match gets 304 and costs nothing) and the
// X-RateLimit-* headers (o.RateLimit an hour, default 5000); when the
// budget is spent the answer is GitHub's 403 "API rate limit exceeded".
// Authorization is accepted and not checked. Unknown repos and PRs get
// GitHub's 404 body.
//
// more mounts other sources' endpoints of the same API on the same server
// and budget: githubactions.FakeRoutes adds the Actions runs.
func NewFake(w *world.World, o collectorstest.FakeOptions, more ...FakeRoutes) *FakeServer {
	g := &FakeServer{w: w, o: o, lim: collectorstest.NewLimiter(o.RateLimit, 5000)}
	g.index()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls", g.list)
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", g.get)
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/files", g.files)
	mux.HandleFunc("GET /rate_limit", g.rateLimit)
	addReviews(mux, g) // fake_reviews.go: search reviewed-by, reviews, review comments
	for _, m := range more {
		m(g, mux)
	}
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		g.Send(rw, r, http.StatusNotFound, FakeError("Not Found"), "")
	})
	g.h = collectorstest.Wrap("github", mux, o, func(rw http.ResponseWriter, code int) {
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			rw.Header().Set("Retry-After", "1")
		}
		collectorstest.WriteJSON(rw, code, FakeError(http.StatusText(code)))
	})
	return g
}

// index files the world's closed PRs by repo: only those created and
// closed by world.End exist.
func (g *FakeServer) index() {
	w := g.w
	g.byRepo = map[string][]ghEntry{}
	add := func(p model.PR, merged bool) {
		in := w.Info[p.Key()]
		if in.CreatedAt.After(w.End) || in.ClosedAt.After(w.End) {
			return
		}
		repo := strings.ToLower(p.Repo)
		g.byRepo[repo] = append(g.byRepo[repo], ghEntry{pr: p, info: in, merged: merged})
	}
	for _, p := range w.PRs {
		add(p, true)
	}
	for _, p := range w.ClosedUnmerged {
		add(p, false)
	}
}

// ServeHTTP answers one request.
func (g *FakeServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	g.h.ServeHTTP(rw, r)
}

// Update changes the world between requests, as time passing does on
// GitHub (a PR merged, reopened, commented on, its files pushed): fn edits
// w.PRs, w.ClosedUnmerged, w.Info, w.Repos or w.Reviews, and the pull
// request and review endpoints serve the result. (The Actions runs a
// FakeRoutes indexed when mounted stay as they were.)
func (g *FakeServer) Update(fn func(w *world.World)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g.w)
	g.index()
}

// FakeRoutes mounts more endpoints of GitHub's API on the fake GitHub's
// mux; they answer through s.Send, so they share its headers, ETags and
// rate-limit budget.
type FakeRoutes func(s *FakeServer, mux *http.ServeMux)

// FakeServer is the fake GitHub, an http.Handler; FakeRoutes mount on it.
type FakeServer struct {
	h      http.Handler
	mu     sync.RWMutex // Update against the requests
	w      *world.World
	o      collectorstest.FakeOptions
	lim    *collectorstest.Limiter
	byRepo map[string][]ghEntry // lower-case owner/repo
	reqID  atomic.Int64
}

// World is the world the fake serves.
func (g *FakeServer) World() *world.World { return g.w }

// Options are the options the fake was made with.
func (g *FakeServer) Options() collectorstest.FakeOptions { return g.o }

type ghEntry struct {
	pr     model.PR
	info   world.PRInfo
	merged bool
}

// FakeError is GitHub's error body.
func FakeError(msg string) map[string]string {
	return map[string]string{"message": msg, "documentation_url": ghDocs}
}

// Send writes v as GitHub does: JSON, ETag, rate-limit headers, and 304 for
// a matching If-None-Match. link is the Link header ("" for none).
func (g *FakeServer) Send(rw http.ResponseWriter, r *http.Request, status int, v any, link string) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("FA4E:%X:%X", collectorstest.StableID(r.URL.Path, 0)&0xFFFFF, g.reqID.Add(1)))
	h.Set("Access-Control-Expose-Headers", "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset")
	tag := collectorstest.ETag(body)
	if status == http.StatusOK {
		h.Set("ETag", tag)
		h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
		h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding")
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, tag) {
			g.rateHeaders(h, false)
			rw.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if !g.rateHeaders(h, true) {
		h.Del("ETag")
		h.Del("Cache-Control")
		body, _ = json.Marshal(map[string]string{
			"message":           "API rate limit exceeded for user ID 1000001. If you reach out to GitHub Support for help, please include the request ID.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
		})
		status = http.StatusForbidden
	} else if link != "" {
		h.Set("Link", link)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(status)
	rw.Write(body)
}

// rateHeaders sets the X-RateLimit-* headers, spending one request when
// spend; it reports false when the budget was exhausted.
func (g *FakeServer) rateHeaders(h http.Header, spend bool) bool {
	limit, remaining, used, reset, ok := g.lim.Take(g.o.Clock(), spend)
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Resource", "core")
	return ok
}

func etagMatch(inm, tag string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, c := range strings.Split(inm, ",") {
		if strings.TrimSpace(c) == "*" || strip(c) == strip(tag) {
			return true
		}
	}
	return false
}

func (g *FakeServer) repo(rw http.ResponseWriter, r *http.Request) (string, []ghEntry, bool) {
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	for _, name := range g.w.Repos {
		if strings.EqualFold(name, full) {
			return name, g.byRepo[strings.ToLower(name)], true
		}
	}
	g.Send(rw, r, http.StatusNotFound, FakeError("Not Found"), "")
	return "", nil, false
}

func (g *FakeServer) list(rw http.ResponseWriter, r *http.Request) {
	_, entries, ok := g.repo(rw, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	state := cmp.Or(q.Get("state"), "open")
	sortBy := cmp.Or(q.Get("sort"), "created")
	dir := q.Get("direction")
	if dir == "" {
		dir = "asc"
		if sortBy == "created" {
			dir = "desc"
		}
	}
	if !slices.Contains([]string{"open", "closed", "all"}, state) ||
		!slices.Contains([]string{"created", "updated", "popularity", "long-running"}, sortBy) ||
		(dir != "asc" && dir != "desc") {
		g.Send(rw, r, http.StatusUnprocessableEntity, map[string]any{
			"message":           "Validation Failed",
			"errors":            []map[string]string{{"resource": "Issue", "code": "invalid"}},
			"documentation_url": ghDocs + "/pulls/pulls#list-pull-requests",
		}, "")
		return
	}
	var sel []ghEntry
	if state != "open" {
		for _, e := range entries {
			if base := q.Get("base"); base != "" && base != e.pr.Base {
				continue
			}
			sel = append(sel, e)
		}
	}
	key := func(e ghEntry) time.Time {
		switch sortBy {
		case "created":
			return e.info.CreatedAt
		case "long-running":
			return e.info.CreatedAt // oldest first when asc; close enough
		}
		return e.info.UpdatedAt
	}
	slices.SortStableFunc(sel, func(a, b ghEntry) int {
		c := key(a).Compare(key(b))
		if c == 0 {
			c = cmp.Compare(a.pr.Number, b.pr.Number)
		}
		if dir == "desc" {
			c = -c
		}
		return c
	})
	lo, hi, link := g.Paginate(r, len(sel))
	out := make([]ghPull, 0, hi-lo)
	for _, e := range sel[lo:hi] {
		out = append(out, g.pull(r, e))
	}
	g.Send(rw, r, http.StatusOK, out, link)
}

func (g *FakeServer) find(rw http.ResponseWriter, r *http.Request) (ghEntry, bool) {
	_, entries, ok := g.repo(rw, r)
	if !ok {
		return ghEntry{}, false
	}
	n, err := strconv.Atoi(r.PathValue("number"))
	if err == nil {
		for _, e := range entries {
			if e.pr.Number == n {
				return e, true
			}
		}
	}
	g.Send(rw, r, http.StatusNotFound, FakeError("Not Found"), "")
	return ghEntry{}, false
}

func (g *FakeServer) get(rw http.ResponseWriter, r *http.Request) {
	e, ok := g.find(rw, r)
	if !ok {
		return
	}
	adds, dels := 0, 0
	for _, f := range e.info.Files {
		adds += f.Additions
		dels += f.Deletions
	}
	full := ghPullFull{ghPull: g.pull(r, e), Merged: e.merged, Comments: int(collectorstest.StableID(e.pr.Key(), 0) % 4),
		ReviewComments: int(collectorstest.StableID(e.pr.Key()+"rc", 0) % 6), MaintainerCanModify: false,
		Commits: 1 + int(collectorstest.StableID(e.pr.Key()+"c", 0)%5), Additions: adds, Deletions: dels, ChangedFiles: len(e.info.Files),
		MergeableState: "unknown", Rebaseable: nil}
	if e.merged {
		by := "bob"
		if e.pr.Author == "bob" {
			by = "carol"
		}
		if strings.HasSuffix(e.pr.Author, "[bot]") {
			by = "dave"
		}
		u := g.User(r, by)
		full.MergedBy = &u
	}
	g.Send(rw, r, http.StatusOK, full, "")
}

func (g *FakeServer) files(rw http.ResponseWriter, r *http.Request) {
	e, ok := g.find(rw, r)
	if !ok {
		return
	}
	lo, hi, link := g.Paginate(r, len(e.info.Files))
	base := collectorstest.BaseURL(r)
	out := make([]ghFile, 0, hi-lo)
	for _, f := range e.info.Files[lo:hi] {
		sum := sha256.Sum256([]byte(e.pr.Key() + "/" + f.Filename))
		esc := (&url.URL{Path: f.Filename}).EscapedPath()
		gf := ghFile{
			SHA:         hex.EncodeToString(sum[:20]),
			Filename:    f.Filename,
			Status:      f.Status,
			Additions:   f.Additions,
			Deletions:   f.Deletions,
			Changes:     f.Additions + f.Deletions,
			BlobURL:     fmt.Sprintf("https://github.com/%s/blob/%s/%s", e.pr.Repo, e.info.HeadSHA, esc),
			RawURL:      fmt.Sprintf("https://github.com/%s/raw/%s/%s", e.pr.Repo, e.info.HeadSHA, esc),
			ContentsURL: fmt.Sprintf("%s/repos/%s/contents/%s?ref=%s", base, e.pr.Repo, esc, e.info.HeadSHA),
			Patch:       f.Patch,
		}
		if f.Status == "removed" {
			gf.SHA = "0000000000000000000000000000000000000000"
		}
		out = append(out, gf)
	}
	g.Send(rw, r, http.StatusOK, out, link)
}

func (g *FakeServer) rateLimit(rw http.ResponseWriter, r *http.Request) {
	// Reading the rate limit does not spend it.
	limit, remaining, used, reset, _ := g.lim.Take(g.o.Clock(), false)
	core := map[string]any{"limit": limit, "remaining": remaining, "reset": reset.Unix(), "used": used, "resource": "core"}
	search := map[string]any{"limit": 30, "remaining": 30, "reset": g.o.Clock().Add(time.Minute).Unix(), "used": 0, "resource": "search"}
	body, _ := json.Marshal(map[string]any{"resources": map[string]any{"core": core, "search": search}, "rate": core})
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Write(body)
}

// Paginate applies per_page (default 30, max 100, or FakeOptions.PageSize
// when smaller) and page (from 1) to n items and returns the slice bounds
// and the Link header.
func (g *FakeServer) Paginate(r *http.Request, n int) (lo, hi int, link string) {
	q := r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = 30
	}
	per = min(per, 100)
	if g.o.PageSize > 0 {
		per = min(per, g.o.PageSize)
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	last := max(1, (n+per-1)/per)
	lo = min(n, (page-1)*per)
	hi = min(n, lo+per)
	if n == 0 || (page == 1 && last == 1) {
		return lo, hi, ""
	}
	mk := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, collectorstest.BaseURL(r), r.URL.Path, q.Encode(), rel)
	}
	var parts []string
	if page > 1 {
		parts = append(parts, mk(min(page-1, last), "prev"))
	}
	if page < last {
		parts = append(parts, mk(page+1, "next"), mk(last, "last"))
	}
	if page > 1 {
		parts = append(parts, mk(1, "first"))
	}
	return lo, hi, strings.Join(parts, ", ")
}

// --- JSON shapes ------------------------------------------------------------

// FakeUser is GitHub's simple user object.
type FakeUser struct {
	Login        string `json:"login"`
	ID           int64  `json:"id"`
	NodeID       string `json:"node_id"`
	AvatarURL    string `json:"avatar_url"`
	GravatarID   string `json:"gravatar_id"`
	URL          string `json:"url"`
	HTMLURL      string `json:"html_url"`
	FollowersURL string `json:"followers_url"`
	ReposURL     string `json:"repos_url"`
	Type         string `json:"type"`
	UserViewType string `json:"user_view_type"`
	SiteAdmin    bool   `json:"site_admin"`
}

// FakeRepo is GitHub's repository object as a pull request's base and head carry it.
type FakeRepo struct {
	ID            int64     `json:"id"`
	NodeID        string    `json:"node_id"`
	Name          string    `json:"name"`
	FullName      string    `json:"full_name"`
	Private       bool      `json:"private"`
	Owner         FakeUser  `json:"owner"`
	HTMLURL       string    `json:"html_url"`
	Description   *string   `json:"description"`
	Fork          bool      `json:"fork"`
	URL           string    `json:"url"`
	PullsURL      string    `json:"pulls_url"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	PushedAt      time.Time `json:"pushed_at"`
	Language      string    `json:"language"`
	Archived      bool      `json:"archived"`
	Disabled      bool      `json:"disabled"`
	Visibility    string    `json:"visibility"`
	DefaultBranch string    `json:"default_branch"`
}

type ghRef struct {
	Label string   `json:"label"`
	Ref   string   `json:"ref"`
	SHA   string   `json:"sha"`
	User  FakeUser `json:"user"`
	Repo  FakeRepo `json:"repo"`
}

type ghHref struct {
	Href string `json:"href"`
}

type ghLabel struct {
	ID          int64  `json:"id"`
	NodeID      string `json:"node_id"`
	URL         string `json:"url"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Default     bool   `json:"default"`
	Description string `json:"description"`
}

type ghPull struct {
	URL                string            `json:"url"`
	ID                 int64             `json:"id"`
	NodeID             string            `json:"node_id"`
	HTMLURL            string            `json:"html_url"`
	DiffURL            string            `json:"diff_url"`
	PatchURL           string            `json:"patch_url"`
	IssueURL           string            `json:"issue_url"`
	Number             int               `json:"number"`
	State              string            `json:"state"`
	Locked             bool              `json:"locked"`
	Title              string            `json:"title"`
	User               FakeUser          `json:"user"`
	Body               string            `json:"body"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	ClosedAt           *time.Time        `json:"closed_at"`
	MergedAt           *time.Time        `json:"merged_at"`
	MergeCommitSHA     string            `json:"merge_commit_sha"`
	Assignee           *FakeUser         `json:"assignee"`
	Assignees          []FakeUser        `json:"assignees"`
	RequestedReviewers []FakeUser        `json:"requested_reviewers"`
	RequestedTeams     []any             `json:"requested_teams"`
	Labels             []ghLabel         `json:"labels"`
	Milestone          any               `json:"milestone"`
	Draft              bool              `json:"draft"`
	CommitsURL         string            `json:"commits_url"`
	ReviewCommentsURL  string            `json:"review_comments_url"`
	ReviewCommentURL   string            `json:"review_comment_url"`
	CommentsURL        string            `json:"comments_url"`
	StatusesURL        string            `json:"statuses_url"`
	Head               ghRef             `json:"head"`
	Base               ghRef             `json:"base"`
	Links              map[string]ghHref `json:"_links"`
	AuthorAssociation  string            `json:"author_association"`
	AutoMerge          any               `json:"auto_merge"`
	ActiveLockReason   *string           `json:"active_lock_reason"`
}

// ghPullFull is the single-PR shape: the list item plus merge details.
type ghPullFull struct {
	ghPull
	Merged              bool      `json:"merged"`
	Mergeable           *bool     `json:"mergeable"`
	Rebaseable          *bool     `json:"rebaseable"`
	MergeableState      string    `json:"mergeable_state"`
	MergedBy            *FakeUser `json:"merged_by"`
	Comments            int       `json:"comments"`
	ReviewComments      int       `json:"review_comments"`
	MaintainerCanModify bool      `json:"maintainer_can_modify"`
	Commits             int       `json:"commits"`
	Additions           int       `json:"additions"`
	Deletions           int       `json:"deletions"`
	ChangedFiles        int       `json:"changed_files"`
}

type ghFile struct {
	SHA         string `json:"sha"`
	Filename    string `json:"filename"`
	Status      string `json:"status"`
	Additions   int    `json:"additions"`
	Deletions   int    `json:"deletions"`
	Changes     int    `json:"changes"`
	BlobURL     string `json:"blob_url"`
	RawURL      string `json:"raw_url"`
	ContentsURL string `json:"contents_url"`
	Patch       string `json:"patch,omitempty"`
}

// User is login's user object.
func (g *FakeServer) User(r *http.Request, login string) FakeUser {
	base := collectorstest.BaseURL(r)
	typ := "User"
	id := collectorstest.StableID("user/"+login, 1_000_000)
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
		if login == "dependabot[bot]" {
			id = 49699333
		}
	}
	if login == "acme" {
		typ = "Organization"
	}
	esc := url.PathEscape(login)
	return FakeUser{
		Login:        login,
		ID:           id,
		NodeID:       "MDQ6VXNlcj" + strconv.FormatInt(id, 36),
		AvatarURL:    fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		URL:          base + "/users/" + esc,
		HTMLURL:      "https://github.com/" + esc,
		FollowersURL: base + "/users/" + esc + "/followers",
		ReposURL:     base + "/users/" + esc + "/repos",
		Type:         typ,
		UserViewType: "public",
	}
}

// Repo is the repository object of full ("owner/name").
func (g *FakeServer) Repo(r *http.Request, full string) FakeRepo {
	base := collectorstest.BaseURL(r)
	owner, name, _ := strings.Cut(full, "/")
	created := g.w.Start.AddDate(-2, 0, 0)
	return FakeRepo{
		ID:            collectorstest.StableID("repo/"+full, 100_000_000),
		NodeID:        "R_kgDO" + strconv.FormatInt(collectorstest.StableID("repo/"+full, 0), 36),
		Name:          name,
		FullName:      full,
		Private:       true,
		Owner:         g.User(r, owner),
		HTMLURL:       "https://github.com/" + full,
		URL:           base + "/repos/" + full,
		PullsURL:      base + "/repos/" + full + "/pulls{/number}",
		CreatedAt:     created,
		UpdatedAt:     g.w.End.Add(-3 * time.Hour),
		PushedAt:      g.w.End.Add(-2 * time.Hour),
		Language:      "Go",
		Visibility:    "private",
		DefaultBranch: "main",
	}
}

func (g *FakeServer) pull(r *http.Request, e ghEntry) ghPull {
	base := collectorstest.BaseURL(r)
	p, in := e.pr, e.info
	api := fmt.Sprintf("%s/repos/%s/pulls/%d", base, p.Repo, p.Number)
	issue := fmt.Sprintf("%s/repos/%s/issues/%d", base, p.Repo, p.Number)
	closed := in.ClosedAt
	var merged *time.Time
	mergeSHA := p.MergeSHA
	if e.merged {
		m := p.MergedAt
		merged = &m
	} else {
		// GitHub keeps the test-merge commit of an unmerged PR.
		sum := sha256.Sum256([]byte(p.Key() + "/test-merge"))
		mergeSHA = hex.EncodeToString(sum[:20])
	}
	repo := g.Repo(r, p.Repo)
	owner, _, _ := strings.Cut(p.Repo, "/")
	baseSum := sha256.Sum256([]byte(p.Key() + "/base"))
	assoc := "MEMBER"
	var labels []ghLabel
	if strings.HasSuffix(p.Author, "[bot]") {
		assoc = "NONE"
		for _, l := range []string{"dependencies", "go"} {
			id := collectorstest.StableID("label/"+p.Repo+"/"+l, 1_000_000_000)
			labels = append(labels, ghLabel{ID: id, NodeID: "LA_kwDO" + strconv.FormatInt(id, 36),
				URL: base + "/repos/" + p.Repo + "/labels/" + l, Name: l, Color: "0366d6",
				Description: "Pull requests that update a dependency file"})
		}
	}
	if labels == nil {
		labels = []ghLabel{}
	}
	return ghPull{
		URL:                api,
		ID:                 collectorstest.StableID("pr/"+p.Key(), 1_500_000_000),
		NodeID:             "PR_kwDO" + strconv.FormatInt(collectorstest.StableID("pr/"+p.Key(), 0), 36),
		HTMLURL:            p.URL,
		DiffURL:            p.URL + ".diff",
		PatchURL:           p.URL + ".patch",
		IssueURL:           issue,
		Number:             p.Number,
		State:              "closed",
		Title:              p.Title,
		User:               g.User(r, p.Author),
		Body:               in.Body,
		CreatedAt:          in.CreatedAt,
		UpdatedAt:          in.UpdatedAt,
		ClosedAt:           &closed,
		MergedAt:           merged,
		MergeCommitSHA:     mergeSHA,
		Assignees:          []FakeUser{},
		RequestedReviewers: []FakeUser{},
		RequestedTeams:     []any{},
		Labels:             labels,
		CommitsURL:         api + "/commits",
		ReviewCommentsURL:  api + "/comments",
		ReviewCommentURL:   base + "/repos/" + p.Repo + "/pulls/comments{/number}",
		CommentsURL:        issue + "/comments",
		StatusesURL:        base + "/repos/" + p.Repo + "/statuses/" + in.HeadSHA,
		Head: ghRef{Label: p.Author + ":" + in.HeadRef, Ref: in.HeadRef, SHA: in.HeadSHA,
			User: g.User(r, p.Author), Repo: repo},
		Base: ghRef{Label: owner + ":" + cmp.Or(p.Base, "main"), Ref: cmp.Or(p.Base, "main"),
			SHA: hex.EncodeToString(baseSum[:20]), User: g.User(r, owner), Repo: repo},
		Links: map[string]ghHref{
			"self":            {api},
			"html":            {p.URL},
			"issue":           {issue},
			"comments":        {issue + "/comments"},
			"review_comments": {api + "/comments"},
			"review_comment":  {base + "/repos/" + p.Repo + "/pulls/comments{/number}"},
			"commits":         {api + "/commits"},
			"statuses":        {base + "/repos/" + p.Repo + "/statuses/" + in.HeadSHA},
		},
		AuthorAssociation: assoc,
	}
}
