package github

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/world"
)

// storedCursor decodes the repo's cursor.
func storedCursor(t *testing.T, s *memSink, repo string) cursor {
	t.Helper()
	var c cursor
	if err := json.Unmarshal([]byte(s.cursor(repo)), &c); err != nil {
		t.Fatalf("cursor of %s: %v", repo, err)
	}
	return c
}

// remaining is the budget's X-RateLimit-Remaining as last read.
func (h *harness) remaining(t *testing.T) int {
	t.Helper()
	_, rem, _, known := h.budget.Snapshot()
	if !known {
		t.Fatal("no rate-limit headers read")
	}
	return rem
}

// An incremental poll sends page 1's ETag; a 304 ends the repo's poll after
// that one request, free of the primary rate limit, with nothing committed.
// A new merge changes page 1: one 200, and only the new PR is stored and
// has its files listed.
func TestConditionalPoll(t *testing.T) {
	f := newFake(t, "")
	f.conditional = true
	addSearchAPI(t, f)
	const checkout = "acme/checkout"
	f.add(checkout, prSpec{number: 7, author: "alice", updated: T.Add(-time.Hour), merged: T.Add(-time.Hour)})
	h := newHarness(t, f, setup{repos: []string{searchAPI, checkout}, needFiles: func(string) bool { return true }})
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.requests() {
		if r.IfNoneMatch != "" {
			t.Errorf("first run sent If-None-Match %q to %s", r.IfNoneMatch, r.Path)
		}
	}
	cur := storedCursor(t, h.sink, searchAPI)
	if cur.ETag == "" || cur.Walk != nil || !slices.Equal(cur.Seen, []int{3370}) {
		t.Fatalf("cursor %s, want a finished walk with page 1's ETag and seen [3370]", h.sink.cursor(searchAPI))
	}
	// The ETag is page 1's: the first request's answer.
	if first := f.requests()[0]; first.Page != 1 || first.Status != http.StatusOK {
		t.Fatalf("first request %+v", first)
	}
	before := map[string]string{searchAPI: h.sink.cursor(searchAPI), checkout: h.sink.cursor(checkout)}
	remaining := h.remaining(t)
	commits := h.sink.commits()

	// Nothing new: one request per repo, each a 304.
	n := len(f.requests())
	if err := h.collect(context.Background(), T.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	quiet := f.requests()[n:]
	if len(quiet) != 2 {
		t.Fatalf("quiet poll made %d requests, want one per repo: %+v", len(quiet), quiet)
	}
	for i, repo := range []string{searchAPI, checkout} {
		r := quiet[i]
		if r.Path != "/repos/"+repo+"/pulls" || r.Page != 1 || r.Status != http.StatusNotModified {
			t.Errorf("quiet poll request %d: %+v, want page 1 of %s answered 304", i, r, repo)
		}
		if want := storedCursor(t, h.sink, repo).ETag; r.IfNoneMatch != want || want == "" {
			t.Errorf("%s: If-None-Match %q, want the stored ETag %q", repo, r.IfNoneMatch, want)
		}
		if got := h.sink.cursor(repo); got != before[repo] {
			t.Errorf("%s: cursor moved on a 304: %s → %s", repo, before[repo], got)
		}
	}
	if got := h.remaining(t); got != remaining {
		t.Errorf("X-RateLimit-Remaining %d after the quiet poll, want %d (unchanged)", got, remaining)
	}
	if got := h.stats.Count(Name, http.StatusNotModified); got != 2 {
		t.Errorf("stats: %d answers 304, want 2", got)
	}
	if h.sink.commits() != commits {
		t.Errorf("quiet poll committed %d batches, want none", h.sink.commits()-commits)
	}
	if total, done := h.prog.Counts(); total != done {
		t.Errorf("progress %d/%d", done, total)
	}

	// A new merge in search-api: page 1 changed there, not in checkout.
	f.add(searchAPI, prSpec{number: 108, author: "alice", updated: T.Add(20 * time.Minute), merged: T.Add(20 * time.Minute)})
	f.setFiles(searchAPI, 108, "internal/query/build.go")
	n = len(f.requests())
	if err := h.collect(context.Background(), T.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range f.requests()[n:] {
		got = append(got, r.Path+" "+http.StatusText(r.Status))
	}
	want := []string{
		"/repos/acme/search-api/pulls OK",
		"/repos/acme/search-api/pulls/108/files OK",
		"/repos/acme/checkout/pulls Not Modified",
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
	if p, ok := h.sink.pr(searchAPI + "#108"); !ok || !slices.Equal(p.Files, []string{"internal/query/build.go"}) {
		t.Errorf("#108 = %+v, %v; want stored with its files", p, ok)
	}
	if got := h.remaining(t); got != remaining-2 {
		t.Errorf("X-RateLimit-Remaining %d, want %d (the list page and the files)", got, remaining-2)
	}
	cur2 := storedCursor(t, h.sink, searchAPI)
	if !cur2.UpdatedAt.Equal(T.Add(20*time.Minute)) || !slices.Equal(cur2.Seen, []int{108}) || cur2.ETag == "" || cur2.ETag == cur.ETag {
		t.Errorf("cursor %s, want #108's time, seen [108] and the new page 1's ETag", h.sink.cursor(searchAPI))
	}
}

// The newest PR, read again at the floor of every incremental poll, is not
// stored again nor its files listed again — also from a server that
// ignores If-None-Match. A PR updated in the same second, after that read,
// is still collected.
func TestNewestPRNotRefetched(t *testing.T) {
	f := newFake(t, "")
	addSearchAPI(t, f)
	h := newHarness(t, f, setup{needFiles: func(string) bool { return true }})
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	files := len(f.fileRequests())
	if err := h.collect(context.Background(), T.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := f.fileRequests()[files:]; len(got) != 0 {
		t.Errorf("quiet poll listed files again: %v", got)
	}
	for _, b := range h.sink.batches[len(h.sink.batches)-1:] {
		if len(b.PRs) != 0 {
			t.Errorf("quiet poll stored %d PRs again", len(b.PRs))
		}
	}

	// #111 merged in the very second #3370 was last updated, unseen so far.
	at := time.Date(2025, 11, 19, 17, 43, 19, 0, time.UTC)
	f.add(searchAPI, prSpec{number: 111, author: "alice", updated: at, merged: at})
	files = len(f.fileRequests())
	if err := h.collect(context.Background(), T.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := f.fileRequests()[files:]; len(got) != 1 || !strings.HasPrefix(got[0], "/repos/acme/search-api/pulls/111/files") {
		t.Errorf("file requests %v, want #111's only", got)
	}
	if _, ok := h.sink.pr(searchAPI + "#111"); !ok {
		t.Error("#111 not stored")
	}
	if c := storedCursor(t, h.sink, searchAPI); !c.UpdatedAt.Equal(at) || !slices.Equal(c.Seen, []int{111, 3370}) {
		t.Errorf("cursor %s, want seen [111 3370]", h.sink.cursor(searchAPI))
	}
}

// A backfill below the cursor, and a walk resumed after an interruption,
// send no If-None-Match: a 304 would only vouch for what is above the
// cursor.
func TestNoConditionalRequestWhenReadingDeeper(t *testing.T) {
	f := newFake(t, "")
	f.conditional = true
	addSearchAPI(t, f)
	broken := true
	f.fail = func(_ int, r seenReq) *failure {
		if broken && r.Page == 2 {
			return &failure{status: 401, body: `{"message":"Bad credentials"}`}
		}
		return nil
	}
	h := newHarness(t, f, setup{})
	if err := h.collect(context.Background(), T); err == nil {
		t.Fatal("no error")
	}
	if c := storedCursor(t, h.sink, searchAPI); c.ETag != "" || c.Walk == nil {
		t.Fatalf("cursor %s, want an unfinished walk without an ETag", h.sink.cursor(searchAPI))
	}
	broken = false
	n := len(f.requests())
	if err := h.collect(context.Background(), T.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.requests()[n:] {
		if r.IfNoneMatch != "" || r.Status != http.StatusOK {
			t.Errorf("resumed walk: %+v", r)
		}
	}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, firstRun) {
		t.Errorf("stored %v, want %v", got, firstRun)
	}
	if storedCursor(t, h.sink, searchAPI).ETag == "" {
		t.Errorf("cursor %s has no ETag after the walk finished", h.sink.cursor(searchAPI))
	}

	// Backfill from 200 days back: past the cursor, so page 1 is read
	// unconditionally and the walk goes down to #101.
	n = len(f.requests())
	run := collectors.Run{Since: T.Add(-200 * day), Backfill: true, Now: T.Add(2 * time.Minute), Sink: h.sink, Progress: h.prog}
	if err := h.c.Collect(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if got := f.listPages(searchAPI)[len(f.listPages(searchAPI))-3:]; !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("backfill read pages %v", got)
	}
	for _, r := range f.requests()[n:] {
		if r.IfNoneMatch != "" {
			t.Errorf("backfill sent If-None-Match: %+v", r)
		}
	}
	if got := h.sink.numbers(searchAPI); !slices.Contains(got, 101) {
		t.Errorf("stored %v, want #101 too", got)
	}

	// A backfill that does not reach below the cursor is an incremental
	// poll: conditional, and a 304.
	n = len(f.requests())
	run.Since, run.Now = T, T.Add(3*time.Minute)
	if err := h.c.Collect(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[n:]; len(got) != 1 || got[0].Status != http.StatusNotModified {
		t.Errorf("shallow backfill: %+v, want one 304", got)
	}
}

// Against the shared fake GitHub (NewFake) serving the demo
// world: a second poll with nothing new is one 304 per repo and leaves
// X-RateLimit-Remaining where it was.
func TestConditionalPollSharedFake(t *testing.T) {
	end := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := world.Demo(end)
	counter := &collectorstest.Counter{}
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{Counter: counter}))
	t.Cleanup(srv.Close)
	budget, stats := &collectors.Budget{}, &collectors.Stats{}
	client := collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, SecondaryRateLimit: true, Budget: budget, Stats: stats})
	c, err := New(Config{Token: "demo", APIURL: srv.URL, Repos: w.Repos},
		Options{HTTPClient: client, NeedFiles: NeedFilesFor(w.Metrics)})
	if err != nil {
		t.Fatal(err)
	}
	sink := newSink()
	if err := c.Collect(context.Background(), collectors.Run{Since: w.Start, Backfill: true, Now: end, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	if got, want := len(sink.prs), countMerged(w); got != want {
		t.Errorf("stored %d PRs, want %d", got, want)
	}
	_, remaining, _, _ := budget.Snapshot()
	// Counted by the client: the fake counts a request after answering it,
	// which may be after the client has gone on.
	total := 0
	for _, n := range stats.Responses() {
		total += int(n)
	}
	if err := c.Collect(context.Background(), collectors.Run{Since: w.Start, Now: end.Add(15 * time.Minute), Sink: sink}); err != nil {
		t.Fatal(err)
	}
	for _, n := range stats.Responses() {
		total -= int(n)
	}
	if -total != len(w.Repos) {
		t.Errorf("second poll made %d requests, want %d (one per repo)\n%v", -total, len(w.Repos), stats.Responses())
	}
	if n304 := stats.Count(Name, http.StatusNotModified); n304 != int64(len(w.Repos)) {
		t.Errorf("%d answers 304, want %d\n%v", n304, len(w.Repos), stats.Responses())
	}
	if counter.Count("GET /repos/{owner}/{repo}/pulls") == 0 {
		t.Errorf("the fake counted no list requests:\n%s", counter)
	}
	if _, after, _, _ := budget.Snapshot(); after != remaining {
		t.Errorf("X-RateLimit-Remaining %d → %d on a quiet poll", remaining, after)
	}
}

// countMerged counts the world's merged PRs that the fake lists (created and
// closed by End) merged since Start.
func countMerged(w *world.World) int {
	n := 0
	for _, p := range w.PRs {
		in := w.Info[p.Key()]
		if !p.MergedAt.Before(w.Start) && !in.ClosedAt.After(w.End) && !in.CreatedAt.After(w.End) {
			n++
		}
	}
	return n
}
