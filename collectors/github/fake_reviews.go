package github

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/world"
)

// The review endpoints of the fake GitHub, in the shapes GitHub documents
// (sources in collectors/github/testdata/SOURCES.md):
//
//	GET /search/issues?q=is:pr repo:o/r reviewed-by:login updated:>=T&sort=updated&order=asc
//	    {total_count, incomplete_results, items: [issue with pull_request]}
//	GET /repos/{o}/{r}/pulls/{n}/reviews     [review]; a deleted reviewer is user: null
//	GET /repos/{o}/{r}/pulls/{n}/comments    [review comment] with pull_request_review_id
//	GET /repos/{o}/{r}/issues/{n}/events     [issue event]: review_requested (requested_reviewer), closed, merged
//
// Only the qualifiers above are understood; anything else in q is a 422,
// as GitHub answers a query it cannot parse.
func addReviews(mux *http.ServeMux, g *FakeServer) {
	mux.HandleFunc("GET /search/issues", g.searchIssues)
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/reviews", g.reviews)
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/comments", g.reviewComments)
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/events", g.issueEvents)
}

// issueEvents serves a PR's review_requested events (one per reviewer
// whose review has a RequestedAt), then its closed and merged events.
func (g *FakeServer) issueEvents(rw http.ResponseWriter, r *http.Request) {
	e, ok := g.find(rw, r)
	if !ok {
		return
	}
	base := collectorstest.BaseURL(r)
	var out []map[string]any
	seen := map[string]bool{}
	event := func(kind string, at time.Time, extra map[string]any) {
		id := collectorstest.StableID(fmt.Sprintf("%s/%s/%d/%d", e.pr.Key(), kind, at.Unix(), len(out)), 9_000_000_000)
		m := map[string]any{
			"id": id, "node_id": "RRE_lADO" + strconv.FormatInt(id, 36),
			"url":   fmt.Sprintf("%s/repos/%s/issues/events/%d", base, e.pr.Repo, id),
			"actor": g.User(r, cmp.Or(e.pr.Author, "ghost")), "event": kind, "commit_id": nil, "commit_url": nil,
			"created_at": at.UTC(), "performed_via_github_app": nil,
		}
		for k, v := range extra {
			m[k] = v
		}
		out = append(out, m)
	}
	for _, rv := range g.prReviews(e.pr.Repo, e.pr.Number) {
		if rv.Reviewer == "" || rv.RequestedAt.IsZero() || seen[rv.Reviewer] {
			continue
		}
		seen[rv.Reviewer] = true
		event("review_requested", rv.RequestedAt, map[string]any{"review_requester": g.User(r, cmp.Or(e.pr.Author, "ghost")), "requested_reviewer": g.User(r, rv.Reviewer)})
	}
	event("closed", e.info.ClosedAt, nil)
	if e.merged {
		event("merged", e.pr.MergedAt, map[string]any{"commit_id": e.pr.MergeSHA})
	}
	slices.SortStableFunc(out, func(a, b map[string]any) int { return a["created_at"].(time.Time).Compare(b["created_at"].(time.Time)) })
	lo, hi, link := g.Paginate(r, len(out))
	g.Send(rw, r, http.StatusOK, out[lo:hi], link)
}

func (g *FakeServer) prReviews(repo string, number int) []world.Review {
	var out []world.Review
	for _, rv := range g.w.Reviews {
		if strings.EqualFold(rv.Repo, repo) && rv.Number == number && !rv.SubmittedAt.After(g.w.End) {
			out = append(out, rv)
		}
	}
	slices.SortStableFunc(out, func(a, b world.Review) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	return out
}

// searchCap is how many results of a query the search API serves.
const searchCap = 1000

func (g *FakeServer) searchIssues(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var repo, reviewer string
	var since time.Time
	invalid := func(why string) {
		g.Send(rw, r, http.StatusUnprocessableEntity, map[string]any{
			"message":           "Validation Failed",
			"errors":            []map[string]string{{"message": why, "resource": "Search", "field": "q", "code": "invalid"}},
			"documentation_url": ghDocs + "/search/search#search-issues-and-pull-requests",
		}, "")
	}
	for _, tok := range strings.Fields(q.Get("q")) {
		k, v, _ := strings.Cut(tok, ":")
		switch k {
		case "is", "type":
			if v != "pr" && v != "pull-request" {
				invalid("only is:pr is served")
				return
			}
		case "repo":
			repo = v
		case "reviewed-by":
			reviewer = v
		case "updated":
			t, err := time.Parse(time.RFC3339, strings.TrimPrefix(v, ">="))
			if err != nil || !strings.HasPrefix(v, ">=") {
				invalid("updated: want >=YYYY-MM-DDTHH:MM:SSZ")
				return
			}
			since = t
		default:
			invalid("unsupported qualifier " + k)
			return
		}
	}
	if repo == "" || reviewer == "" {
		invalid("repo: and reviewed-by: are required")
		return
	}
	var sel []ghEntry
	for _, e := range g.byRepo[strings.ToLower(repo)] {
		if e.info.UpdatedAt.Before(since) {
			continue
		}
		for _, rv := range g.prReviews(e.pr.Repo, e.pr.Number) {
			if rv.Reviewer != "" && strings.EqualFold(rv.Reviewer, reviewer) {
				sel = append(sel, e)
				break
			}
		}
	}
	desc := q.Get("order") != "asc"
	slices.SortStableFunc(sel, func(a, b ghEntry) int {
		c := cmp.Or(a.info.UpdatedAt.Compare(b.info.UpdatedAt), cmp.Compare(a.pr.Number, b.pr.Number))
		if desc {
			c = -c
		}
		return c
	})
	// Search serves the first 1,000 results only: a page past them is a
	// 422, and the links stop at the page that holds the 1,000th.
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = 30 // as paginate
	}
	per = min(per, 100)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	if (page-1)*per >= searchCap {
		g.Send(rw, r, http.StatusUnprocessableEntity, map[string]any{
			"message":           "Only the first 1000 search results are available",
			"documentation_url": ghDocs + "/search/search",
		}, "")
		return
	}
	lo, hi, link := g.Paginate(r, min(len(sel), searchCap))
	items := make([]map[string]any, 0, hi-lo)
	for _, e := range sel[lo:hi] {
		pull := g.pull(r, e)
		var user any = pull.User
		if e.pr.Author == "" {
			user = nil
		}
		items = append(items, map[string]any{
			"url":                pull.IssueURL,
			"repository_url":     collectorstest.BaseURL(r) + "/repos/" + e.pr.Repo,
			"labels_url":         pull.IssueURL + "/labels{/name}",
			"comments_url":       pull.IssueURL + "/comments",
			"events_url":         pull.IssueURL + "/events",
			"html_url":           pull.HTMLURL,
			"id":                 collectorstest.StableID("issue/"+e.pr.Key(), 1_500_000_000),
			"node_id":            pull.NodeID,
			"number":             e.pr.Number,
			"title":              e.pr.Title,
			"user":               user,
			"labels":             pull.Labels,
			"state":              "closed",
			"locked":             false,
			"assignee":           nil,
			"assignees":          []any{},
			"milestone":          nil,
			"comments":           int(collectorstest.StableID(e.pr.Key(), 0) % 4),
			"created_at":         e.info.CreatedAt,
			"updated_at":         e.info.UpdatedAt,
			"closed_at":          e.info.ClosedAt,
			"author_association": pull.AuthorAssociation,
			"draft":              false,
			"pull_request": map[string]any{
				"url": pull.URL, "html_url": pull.HTMLURL, "diff_url": pull.DiffURL, "patch_url": pull.PatchURL,
				"merged_at": pull.MergedAt,
			},
			"body":  e.info.Body,
			"score": 1.0,
		})
	}
	g.Send(rw, r, http.StatusOK, map[string]any{"total_count": len(sel), "incomplete_results": false, "items": items}, link)
}

func (g *FakeServer) reviews(rw http.ResponseWriter, r *http.Request) {
	e, ok := g.find(rw, r)
	if !ok {
		return
	}
	rs := g.prReviews(e.pr.Repo, e.pr.Number)
	lo, hi, link := g.Paginate(r, len(rs))
	base := collectorstest.BaseURL(r)
	out := make([]map[string]any, 0, hi-lo)
	for _, rv := range rs[lo:hi] {
		var user any
		if rv.Reviewer != "" {
			user = g.User(r, rv.Reviewer)
		}
		html := fmt.Sprintf("%s#pullrequestreview-%d", e.pr.URL, rv.ID)
		out = append(out, map[string]any{
			"id":                 rv.ID,
			"node_id":            "PRR_kwDO" + strconv.FormatInt(rv.ID, 36),
			"user":               user,
			"body":               "",
			"state":              rv.State,
			"html_url":           html,
			"pull_request_url":   fmt.Sprintf("%s/repos/%s/pulls/%d", base, e.pr.Repo, e.pr.Number),
			"author_association": "MEMBER",
			"_links": map[string]any{
				"html":         map[string]string{"href": html},
				"pull_request": map[string]string{"href": fmt.Sprintf("%s/repos/%s/pulls/%d", base, e.pr.Repo, e.pr.Number)},
			},
			"submitted_at": rv.SubmittedAt.UTC(),
			"commit_id":    e.info.HeadSHA,
		})
	}
	g.Send(rw, r, http.StatusOK, out, link)
}

func (g *FakeServer) reviewComments(rw http.ResponseWriter, r *http.Request) {
	e, ok := g.find(rw, r)
	if !ok {
		return
	}
	type comment struct {
		rv world.Review
		i  int
	}
	var cs []comment
	for _, rv := range g.prReviews(e.pr.Repo, e.pr.Number) {
		for i := range rv.Comments {
			cs = append(cs, comment{rv, i})
		}
	}
	lo, hi, link := g.Paginate(r, len(cs))
	base := collectorstest.BaseURL(r)
	out := make([]map[string]any, 0, hi-lo)
	path := "README.md"
	if len(e.info.Files) > 0 {
		path = e.info.Files[0].Filename
	}
	for _, c := range cs[lo:hi] {
		id := c.rv.ID*10 + int64(c.i)
		var user any
		if c.rv.Reviewer != "" {
			user = g.User(r, c.rv.Reviewer)
		}
		out = append(out, map[string]any{
			"url":                    fmt.Sprintf("%s/repos/%s/pulls/comments/%d", base, e.pr.Repo, id),
			"pull_request_review_id": c.rv.ID,
			"id":                     id,
			"node_id":                "PRRC_kwDO" + strconv.FormatInt(id, 36),
			"diff_hunk":              "@@ -1,3 +1,4 @@",
			"path":                   path,
			"commit_id":              e.info.HeadSHA,
			"original_commit_id":     e.info.HeadSHA,
			"user":                   user,
			"body":                   "nit",
			"created_at":             c.rv.SubmittedAt.UTC(),
			"updated_at":             c.rv.SubmittedAt.UTC(),
			"html_url":               fmt.Sprintf("%s#discussion_r%d", e.pr.URL, id),
			"pull_request_url":       fmt.Sprintf("%s/repos/%s/pulls/%d", base, e.pr.Repo, e.pr.Number),
			"author_association":     "MEMBER",
			"line":                   1 + c.i,
			"side":                   "RIGHT",
		})
	}
	g.Send(rw, r, http.StatusOK, out, link)
}
