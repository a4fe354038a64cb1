package github

// Reviews given: the reviews (and their inline review comments) that `me`
// submitted on the watched repositories.
//
// # Endpoints, and why
//
// GitHub has no repository-wide list of reviews: reviews hang off each pull
// request (GET /repos/{o}/{r}/pulls/{n}/reviews). Asking every PR updated
// since the cursor would spend one request per PR of the whole team, most of
// which I never reviewed. The search API narrows that down first:
//
//	GET /search/issues?q=is:pr repo:{o}/{r} reviewed-by:{login} updated:>={cursor}&sort=updated&order=asc&per_page=100
//
// lists only the PRs I reviewed, oldest update first (search serves the
// first 1,000 results of a query: past them the search starts again from
// the cursor); then, per such PR,
//
//	GET /repos/{o}/{r}/pulls/{n}/reviews?per_page=100      my reviews (submitted_at, state)
//	GET /repos/{o}/{r}/issues/{n}/events?per_page=100      when my review was requested
//	GET /repos/{o}/{r}/pulls/{n}/comments?per_page=100     inline comments, counted per review
//
// Search has its own budget (30 requests a minute), separate from the 5,000
// an hour the rest uses; one search page covers 100 reviewed PRs. A PR
// reviewed twice is read again when it is updated, and reviews are upserted
// by id, so reading twice is harmless.
//
// # Cursor
//
// Per repository and login, key "reviews:{o}/{r}:{login}", JSON
// {"updated_at": "..."}: the updated_at of the last PR of the last page
// committed. Pages run oldest update first, so every PR updated before it
// was read; the next search starts at it (>=, so a PR updated in the same
// second is not missed). It never moves past now plus the allowed clock
// skew. A first run or backfill starts at Run.Since.
//
// A deleted account is GitHub's "ghost" user or a null user: a review by
// one is never mine; a PR whose author was deleted is credited to "ghost".

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/internal/ghapi"
	"github.com/impact-dev/impact/internal/model"
)

// GhostLogin is who GitHub shows for a deleted account.
const GhostLogin = "ghost"

// searchMaxPages is how many pages of 100 the search API serves (the
// first 1,000 results).
const searchMaxPages = 10

type reviewCursor struct {
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func reviewCursorKey(r repo, login string) string {
	return "reviews:" + r.String() + ":" + strings.ToLower(login)
}

// collectReviews reads the reviews login gave on r since the cursor.
func (w *walker) collectReviews(ctx context.Context, login string) error {
	key := reviewCursorKey(w.repo, login)
	raw, err := w.run.Sink.Cursor(ctx, Name, key)
	if err != nil {
		return fmt.Errorf("github: %s: read cursor: %w", w.repo, err)
	}
	var cur reviewCursor
	if len(raw) > 0 && json.Unmarshal(raw, &cur) != nil {
		w.log.Warn("unreadable reviews cursor, reading from Since", "cursor", string(raw))
		cur = reviewCursor{}
	}
	floor := cur.UpdatedAt
	if floor.IsZero() || (w.run.Backfill && w.run.Since.Before(floor)) {
		floor = w.run.Since.UTC()
	}
	query := func(floor time.Time) string {
		q := fmt.Sprintf("is:pr repo:%s reviewed-by:%s", w.repo, login)
		if !floor.IsZero() {
			q += " updated:>=" + floor.UTC().Format("2006-01-02T15:04:05Z")
		}
		return q
	}
	q := query(floor)
	for page := 1; ; {
		res, resp, err := w.search(ctx, q, page)
		if err != nil {
			return err
		}
		next := cur
		var reviews []model.Review
		for _, is := range res.Issues {
			if is.PullRequestLinks == nil {
				continue // an issue, not a PR (search said is:pr; be sure)
			}
			rs, err := w.prReviews(ctx, is, login)
			if err != nil {
				return err
			}
			reviews = append(reviews, rs...)
			if u := is.GetUpdatedAt().Time.UTC(); u.After(next.UpdatedAt) && !collectors.Future(u, w.run.Now) {
				next.UpdatedAt = u
			}
		}
		enc, _ := json.Marshal(next)
		b := model.Batch{Source: Name, Reviews: reviews, Cursors: map[string][]byte{key: enc}}
		if err := w.run.Sink.Commit(ctx, b); err != nil {
			return fmt.Errorf("github: %s: store: %w", w.repo, err)
		}
		cur = next
		// At the last page search serves, its links stop (or point past
		// it) while total_count says more PRs match.
		capped := page >= searchMaxPages && res.GetTotal() > page*perPage
		if resp.NextPage == 0 && !capped {
			return nil
		}
		if resp.NextPage > searchMaxPages || capped {
			// Search serves the first 1,000 results only: ask again from
			// the cursor (pages run oldest update first).
			if !cur.UpdatedAt.After(floor) {
				return &Error{Source: Name, Op: "search reviewed pulls", Target: w.repo.String(), Page: page,
					Err: fmt.Errorf("more than %d PRs updated at %s; cannot page past the search API's limit", searchMaxPages*perPage, floor.Format(time.RFC3339))}
			}
			floor, q, page = cur.UpdatedAt, query(cur.UpdatedAt), 1
			continue
		}
		if resp.NextPage <= page {
			return &Error{Source: Name, Op: "search reviewed pulls", Target: w.repo.String(), Page: page,
				Err: fmt.Errorf("pagination loops: page %d links to page %d as the next", page, resp.NextPage)}
		}
		page = resp.NextPage
	}
}

// search reads one page of the PRs login reviewed.
func (w *walker) search(ctx context.Context, q string, page int) (*gh.IssuesSearchResult, *gh.Response, error) {
	var res *gh.IssuesSearchResult
	opts := &gh.SearchOptions{Sort: "updated", Order: "asc", ListOptions: gh.ListOptions{PerPage: perPage, Page: page}}
	resp, err := ghapi.Call(ctx, w.c.opt.MaxWait, w.c.opt.Sleep, w.log, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		res, resp, err = w.gh.Search.Issues(ctx, q, opts)
		return resp, err
	})
	if err != nil {
		return nil, nil, &Error{Source: Name, Op: "search reviewed pulls", Target: w.repo.String(), Page: page, Err: err}
	}
	if res == nil {
		return nil, nil, &Error{Source: Name, Op: "search reviewed pulls", Target: w.repo.String(), Page: page, Err: fmt.Errorf("malformed response: no body")}
	}
	for i, is := range res.Issues {
		if is == nil || is.GetNumber() <= 0 || is.GetUpdatedAt().IsZero() {
			return nil, nil, &Error{Source: Name, Op: "search reviewed pulls", Target: w.repo.String(), Page: page,
				Err: fmt.Errorf("malformed response: item %d has no number or updated_at", i)}
		}
	}
	return res, resp, nil
}

// prReviews lists login's reviews of one PR, with their inline comments
// counted.
func (w *walker) prReviews(ctx context.Context, is *gh.Issue, login string) ([]model.Review, error) {
	n := is.GetNumber()
	target := fmt.Sprintf("%s#%d", w.repo, n)
	author := is.GetUser().GetLogin()
	if author == "" {
		author = GhostLogin
	}
	var mine []model.Review
	err := w.pages(ctx, "list reviews", target, fmt.Sprintf("repos/%s/%s/pulls/%d/reviews", url.PathEscape(w.repo.owner), url.PathEscape(w.repo.name), n),
		func() any { return &[]*gh.PullRequestReview{} }, func(v any) error {
			for _, r := range *v.(*[]*gh.PullRequestReview) {
				if r == nil || r.GetID() <= 0 {
					return fmt.Errorf("malformed response: a review has no id")
				}
				who := r.GetUser().GetLogin()
				if who == "" || !strings.EqualFold(who, login) || r.SubmittedAt == nil || strings.EqualFold(r.GetState(), "PENDING") {
					continue // someone else's, a deleted account's, or not submitted
				}
				mine = append(mine, model.Review{
					Repo: w.repo.String(), Number: n, ID: r.GetID(), Reviewer: who, State: r.GetState(),
					SubmittedAt: r.GetSubmittedAt().Time.UTC(), PRAuthor: author, PRCreatedAt: is.GetCreatedAt().Time.UTC(),
					URL: r.GetHTMLURL(),
				})
			}
			return nil
		})
	if err != nil || len(mine) == 0 {
		return mine, err
	}
	// When was I asked? The earliest review_requested event naming me.
	var asked time.Time
	err = w.pages(ctx, "list issue events", target, fmt.Sprintf("repos/%s/%s/issues/%d/events", url.PathEscape(w.repo.owner), url.PathEscape(w.repo.name), n),
		func() any { return &[]*gh.IssueEvent{} }, func(v any) error {
			for _, e := range *v.(*[]*gh.IssueEvent) {
				if e == nil || e.GetEvent() != "review_requested" || !strings.EqualFold(e.GetRequestedReviewer().GetLogin(), login) {
					continue
				}
				if t := e.GetCreatedAt().Time.UTC(); !t.IsZero() && (asked.IsZero() || t.Before(asked)) {
					asked = t
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for i := range mine {
		mine[i].RequestedAt = asked
	}
	byID := map[int64]int{}
	for i, r := range mine {
		byID[r.ID] = i
	}
	err = w.pages(ctx, "list review comments", target, fmt.Sprintf("repos/%s/%s/pulls/%d/comments", url.PathEscape(w.repo.owner), url.PathEscape(w.repo.name), n),
		func() any { return &[]*gh.PullRequestComment{} }, func(v any) error {
			for _, c := range *v.(*[]*gh.PullRequestComment) {
				if c == nil {
					continue
				}
				if i, ok := byID[c.GetPullRequestReviewID()]; ok && strings.EqualFold(c.GetUser().GetLogin(), login) {
					mine[i].Comments++
				}
			}
			return nil
		})
	return mine, err
}

// pages GETs every page of a list endpoint (100 a page), decoding each into
// a fresh value from mk and handing it to fn.
func (w *walker) pages(ctx context.Context, op, target, path string, mk func() any, fn func(any) error) error {
	for page := 1; ; {
		v := mk()
		u := path + "?per_page=" + strconv.Itoa(perPage) + "&page=" + strconv.Itoa(page)
		resp, err := ghapi.Call(ctx, w.c.opt.MaxWait, w.c.opt.Sleep, w.log, func() (*gh.Response, error) {
			req, err := w.gh.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			return w.gh.Do(ctx, req, v)
		})
		if err != nil {
			return &Error{Source: Name, Op: op, Target: target, Page: page, Err: err}
		}
		if err := fn(v); err != nil {
			return &Error{Source: Name, Op: op, Target: target, Page: page, Err: err}
		}
		if resp.NextPage == 0 {
			return nil
		}
		if resp.NextPage <= page {
			return &Error{Source: Name, Op: op, Target: target, Page: page, Err: fmt.Errorf("pagination loops: page %d links to page %d as the next", page, resp.NextPage)}
		}
		page = resp.NextPage
	}
}
