package github

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// reviewWorld: 130 PRs on acme/x (more than one search page of 100), each
// reviewed by alice; PR 1 also has 105 reviews by dave (more than one
// page of reviews) and a second review by alice with 3 inline comments;
// PR 2's author is a deleted account (user null) and PR 3's is "ghost";
// PR 4 has a review by a deleted account (user null).
func reviewWorld(end time.Time) *world.World {
	w := &world.World{Start: end.Add(-60 * 24 * time.Hour), End: end, Me: "alice", Repos: []string{"acme/x"}, Info: map[string]world.PRInfo{}}
	var id int64 = 100
	authors := []string{"bob", "carol", "erin"}
	for n := 1; n <= 130; n++ {
		created := w.Start.Add(time.Duration(n) * 6 * time.Hour)
		author := authors[n%3]
		switch n {
		case 2:
			author = ""
		case 3:
			author = GhostLogin
		}
		p := model.PR{Repo: "acme/x", Number: n, Title: fmt.Sprintf("Change %d", n), URL: fmt.Sprintf("https://github.com/acme/x/pull/%d", n),
			Author: author, MergedAt: created.Add(5 * time.Hour), Base: "main"}
		w.PRs = append(w.PRs, p)
		w.Info[p.Key()] = world.PRInfo{CreatedAt: created, ClosedAt: p.MergedAt, UpdatedAt: p.MergedAt.Add(3 * time.Minute)}
		id++
		rv := world.Review{Repo: "acme/x", Number: n, ID: id, Reviewer: "alice", State: "APPROVED", SubmittedAt: created.Add(90 * time.Minute)}
		if n%2 == 0 {
			rv.RequestedAt = created.Add(30 * time.Minute) // asked half an hour after opening
		}
		w.Reviews = append(w.Reviews, rv)
	}
	for i := range 105 {
		id++
		w.Reviews = append(w.Reviews, world.Review{Repo: "acme/x", Number: 1, ID: id, Reviewer: "dave", State: "COMMENTED", SubmittedAt: w.Start.Add(7*time.Hour + time.Duration(i)*time.Second), Comments: 1})
	}
	id++
	w.Reviews = append(w.Reviews, world.Review{Repo: "acme/x", Number: 1, ID: id, Reviewer: "alice", State: "CHANGES_REQUESTED", SubmittedAt: w.Start.Add(8 * time.Hour), Comments: 3})
	id++
	w.Reviews = append(w.Reviews, world.Review{Repo: "acme/x", Number: 4, ID: id, Reviewer: "", State: "COMMENTED", SubmittedAt: w.Start.Add(25 * time.Hour), Comments: 2})
	return w
}

func TestReviewsGiven(t *testing.T) {
	end := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	w := reviewWorld(end)
	counter := &collectorstest.Counter{}
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{Counter: counter}))
	t.Cleanup(srv.Close)
	c, err := New(Config{Token: "t", APIURL: srv.URL, Repos: w.Repos},
		Options{HTTPClient: collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true}), Reviewers: []string{"Alice"}})
	if err != nil {
		t.Fatal(err)
	}
	sink := &collectorstest.Sink{}
	if err := c.Collect(context.Background(), collectors.Run{Since: w.Start, Backfill: true, Now: end, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	got := map[string]model.Review{}
	for _, b := range sink.Batches {
		for _, r := range b.Reviews {
			got[r.Key()] = r
		}
	}
	if len(got) != 131 {
		t.Fatalf("stored %d reviews, want 131 (130 PRs, PR 1 twice)", len(got))
	}
	authors := map[string]int{}
	for _, r := range got {
		if r.Reviewer != "alice" || r.Repo != "acme/x" || r.SubmittedAt.IsZero() || r.PRCreatedAt.IsZero() {
			t.Errorf("review %+v", r)
		}
		authors[r.PRAuthor]++
	}
	if authors[GhostLogin] != 2 || authors[""] != 0 {
		t.Errorf("authors %v: want the deleted account (null) and ghost both as %q", authors, GhostLogin)
	}
	var pr1 []model.Review
	for _, r := range got {
		if r.Number == 1 {
			pr1 = append(pr1, r)
		}
	}
	comments := 0
	for _, r := range pr1 {
		comments += r.Comments
	}
	if len(pr1) != 2 || comments != 3 {
		t.Errorf("PR 1: %d reviews with %d comments, want 2 with 3 (dave's 105 reviews and comments are not mine)", len(pr1), comments)
	}
	if n := counter.Count("GET /search/issues"); n != 2 {
		t.Errorf("%d search requests, want 2 (130 PRs, 100 a page)\n%s", n, counter)
	}
	asked := 0
	for _, r := range got {
		if !r.RequestedAt.IsZero() {
			asked++
			if r.RequestedAt != r.PRCreatedAt.Add(30*time.Minute) || r.WaitStart() != r.RequestedAt {
				t.Errorf("review %s requested at %s, PR opened %s", r.Key(), r.RequestedAt, r.PRCreatedAt)
			}
		} else if r.WaitStart() != r.PRCreatedAt {
			t.Errorf("unrequested review %s waits from %s", r.Key(), r.WaitStart())
		}
	}
	if asked != 65 { // alice's reviews of the 65 even PRs
		t.Errorf("%d reviews with a request time, want 65", asked)
	}
	if n := counter.Count("GET /repos/{owner}/{repo}/issues/{number}/events"); n != 130 {
		t.Errorf("%d issue-event requests, want 130 (one per reviewed PR)", n)
	}
	if n := counter.Count("GET /repos/{owner}/{repo}/pulls/{number}/reviews"); n != 131 {
		t.Errorf("%d review list requests, want 131 (PR 1 has two pages)", n)
	}

	// A second poll reads from the cursor: only the last PR again.
	before := counter.Count("GET /search/issues")
	sink.Batches = nil
	if err := c.Collect(context.Background(), collectors.Run{Since: w.Start, Now: end.Add(15 * time.Minute), Sink: sink}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range sink.Batches {
		n += len(b.Reviews)
	}
	if counter.Count("GET /search/issues")-before != 1 || n != 1 {
		t.Errorf("incremental poll: %d searches, %d reviews re-read; want 1 and 1", counter.Count("GET /search/issues")-before, n)
	}
}

// TestReviewsPastSearchCap: search serves the first 1,000 results of a
// query (a page past them is a 422, the links stop at page 10); with 1,050
// PRs reviewed the collector searches again from the newest update it
// stored and gets every one.
func TestReviewsPastSearchCap(t *testing.T) {
	if testing.Short() {
		t.Skip("1,050 PRs, three requests each")
	}
	end := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	w := &world.World{Start: end.Add(-120 * 24 * time.Hour), End: end, Me: "alice", Repos: []string{"acme/x"}, Info: map[string]world.PRInfo{}}
	const n = 1050
	for i := 1; i <= n; i++ {
		created := w.Start.Add(time.Duration(i) * 2 * time.Hour)
		p := model.PR{Repo: "acme/x", Number: i, Title: fmt.Sprintf("Change %d", i), URL: fmt.Sprintf("https://github.com/acme/x/pull/%d", i),
			Author: "bob", MergedAt: created.Add(time.Hour), Base: "main"}
		w.PRs = append(w.PRs, p)
		w.Info[p.Key()] = world.PRInfo{CreatedAt: created, ClosedAt: p.MergedAt, UpdatedAt: p.MergedAt.Add(time.Minute)}
		w.Reviews = append(w.Reviews, world.Review{Repo: "acme/x", Number: i, ID: int64(1000 + i), Reviewer: "alice", State: "APPROVED", SubmittedAt: created.Add(30 * time.Minute)})
	}
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	t.Cleanup(srv.Close)
	c, err := New(Config{Token: "t", APIURL: srv.URL, Repos: w.Repos},
		Options{HTTPClient: collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true}), Reviewers: []string{"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	sink := &collectorstest.Sink{}
	if err := c.Collect(context.Background(), collectors.Run{Since: w.Start, Backfill: true, Now: end, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for _, b := range sink.Batches {
		for _, r := range b.Reviews {
			got[r.Number] = true
		}
	}
	if len(got) != n {
		t.Errorf("stored reviews on %d PRs, want %d", len(got), n)
	}
}
