package github

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

const searchAPI = "acme/search-api"

const day = 24 * time.Hour

// addSearchAPI gives acme/search-api nine closed PRs, three pages of three
// (newest update first):
//
//	page 1: #3370 (pull_get.json's values: merged 2025-11-19T17:43:18Z, updated a second later)
//	        #107 closed unmerged, #106 merged (bob)
//	page 2: #105 merged, #104 closed unmerged, #103 merged
//	page 3: #31 (pull_get_merged_2023.json's: merged in 2012, updated 6 days ago),
//	        #102 merged, #101 merged and updated 100 days ago (before Since)
func addSearchAPI(t *testing.T, f *fakeGitHub) {
	old := fixturePR(t, "pull_get_merged_2023.json")
	old.updated = T.Add(-6 * day)
	f.add(searchAPI,
		fixturePR(t, "pull_get.json"),
		prSpec{number: 107, author: "carol", updated: T.Add(-20 * time.Hour)},
		prSpec{number: 106, author: "bob", updated: T.Add(-1 * day), merged: T.Add(-1 * day)},
		prSpec{number: 105, author: "alice", title: "feat(search): move query building off the request path", updated: T.Add(-2 * day), merged: T.Add(-2*day - time.Hour)},
		prSpec{number: 104, author: "dave", updated: T.Add(-3 * day)},
		prSpec{number: 103, author: "alice", updated: T.Add(-5 * day), merged: T.Add(-5 * day)},
		old,
		prSpec{number: 102, author: "alice", updated: T.Add(-10 * day), merged: T.Add(-10 * day)},
		prSpec{number: 101, author: "alice", updated: T.Add(-100 * day), merged: T.Add(-100 * day)},
	)
}

var firstRun = []int{102, 103, 105, 106, 3370}

func TestPagination(t *testing.T) {
	for _, prefix := range []string{"", "/api/v3"} { // api.github.com, GitHub Enterprise
		t.Run("prefix="+prefix, func(t *testing.T) {
			f := newFake(t, prefix)
			addSearchAPI(t, f)
			h := newHarness(t, f, setup{})
			if err := h.collect(context.Background(), T); err != nil {
				t.Fatal(err)
			}
			// Three pages by the Link headers; page 3 reaches Since.
			if got := f.listPages(searchAPI); !slices.Equal(got, []int{1, 2, 3}) {
				t.Errorf("pages %v, want [1 2 3]", got)
			}
			// Closed-unmerged (#107, #104), merged before Since (#31) and
			// updated before Since (#101) are not stored.
			if got := h.sink.numbers(searchAPI); !slices.Equal(got, firstRun) {
				t.Errorf("stored %v, want %v", got, firstRun)
			}
			if h.sink.commits() != 3 {
				t.Errorf("%d commits, want one per page (3)", h.sink.commits())
			}
			// The fixture PR maps field by field.
			got, _ := h.sink.pr(searchAPI + "#3370")
			want := model.PR{
				Repo: searchAPI, Number: 3370, Title: "Bump actions/setup-python from 5 to 6",
				URL: "https://github.com/PyGithub/PyGithub/pull/3370", Author: "dependabot[bot]",
				MergedAt: time.Date(2025, 11, 19, 17, 43, 18, 0, time.UTC),
				MergeSHA: "1f5f434b321e963171a27c13c1137cedb54cc4d0", Base: "main",
			}
			if !prEqual(got, want) {
				t.Errorf("PR\n got %+v\nwant %+v", got, want)
			}
			if got.MergedAt.Location() != time.UTC {
				t.Errorf("MergedAt not UTC: %v", got.MergedAt)
			}
			p105, _ := h.sink.pr(searchAPI + "#105")
			if p105.Author != "alice" || p105.URL != "https://github.com/acme/search-api/pull/105" || !p105.MergedAt.Equal(T.Add(-2*day-time.Hour)) || p105.FilesFetched {
				t.Errorf("#105 = %+v", p105)
			}
			// The cursor is the newest updated_at, once the walk is complete.
			if c := h.sink.cursor(searchAPI); !complete(t, c, "2025-11-19T17:43:19Z", 3370) {
				t.Errorf("cursor %s", c)
			}
			for _, r := range f.requests() {
				if r.UA != "impact/test" || r.Auth != "Bearer "+testToken {
					t.Errorf("request %s: User-Agent %q, Authorization %q", r.Path, r.UA, r.Auth)
				}
			}
			// The shared client read the fake's X-RateLimit-* headers (one
			// request of 5000 spent per page, reset an hour after the first)
			// and counted the answers.
			limit, remaining, reset, known := h.budget.Snapshot()
			if !known || limit != 5000 || remaining != 4997 || !reset.Equal(T.Add(time.Hour)) {
				t.Errorf("budget %d/%d reset %v known %v", remaining, limit, reset, known)
			}
			if n := h.stats.Count(Name, 200); n != 3 {
				t.Errorf("stats: %d answers 200, want 3", n)
			}
			if total, done := h.prog.Counts(); total != done || total < 3 {
				t.Errorf("progress %d/%d", done, total)
			}
		})
	}
}

// complete reports whether c is the cursor of a finished walk: the newest
// updated_at, the PRs updated at exactly that time and page 1's ETag.
func complete(t *testing.T, c, updatedAt string, seen ...int) bool {
	t.Helper()
	var got cursor
	if err := json.Unmarshal([]byte(c), &got); err != nil {
		t.Fatalf("cursor %s: %v", c, err)
	}
	at, _ := time.Parse(time.RFC3339, updatedAt)
	return got.UpdatedAt.Equal(at) && slices.Equal(got.Seen, seen) && got.ETag != "" && got.Walk == nil
}

// The recorded answers, replayed as GitHub sent them: a list page of
// pull_get.json's merged PR and pulls_list.json's open one, with
// raw/pulls_list.meta.json's headers, and pull_files_small.json for the
// merged PR's files. The merged PR maps field by field (the open one is
// skipped), its files are the recorded ones, the shared client reads the
// recorded X-RateLimit-* headers, and the cursor keeps the recorded ETag.
func TestRecordedAnswers(t *testing.T) {
	f := newFake(t, "")
	var list []json.RawMessage
	readJSON(t, "pulls_list.json", &list)
	page, _ := json.Marshal(append([]json.RawMessage{readFile(t, "pull_get.json")}, list...))
	f.fail = func(_ int, r seenReq) *failure {
		switch r.Path {
		case "/repos/" + searchAPI + "/pulls":
			return &failure{status: 200, header: metaHeaders(t, "pulls_list"), body: string(page)}
		case "/repos/" + searchAPI + "/pulls/3370/files":
			return &failure{status: 200, header: metaHeaders(t, "pull_files_small"), body: string(readFile(t, "pull_files_small.json"))}
		}
		t.Errorf("unexpected request %s", r.Path)
		return nil
	}
	h := newHarness(t, f, setup{})
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	got, _ := h.sink.pr(searchAPI + "#3370")
	want := model.PR{
		Repo: searchAPI, Number: 3370, Title: "Bump actions/setup-python from 5 to 6",
		URL: "https://github.com/PyGithub/PyGithub/pull/3370", Author: "dependabot[bot]",
		MergedAt: time.Date(2025, 11, 19, 17, 43, 18, 0, time.UTC),
		MergeSHA: "1f5f434b321e963171a27c13c1137cedb54cc4d0", Base: "main",
	}
	if !prEqual(got, want) || got.MergedAt.Location() != time.UTC {
		t.Errorf("PR\n got %+v\nwant %+v", got, want)
	}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, []int{3370}) {
		t.Errorf("stored %v, want the merged PR only", got)
	}
	limit, remaining, reset, known := h.budget.Snapshot()
	if !known || limit != 5000 || remaining != 4955 || reset.Unix() != 1581246203 {
		t.Errorf("budget %d/%d reset %v known %v", remaining, limit, reset, known)
	}
	if c := storedCursor(t, h.sink, searchAPI); c.ETag != `W/"58debf75745afdbf060e311364326085"` || !slices.Equal(c.Seen, []int{3370}) {
		t.Errorf("cursor %s, want the recorded ETag", h.sink.cursor(searchAPI))
	}

	// With its files: the recorded file list (its headers, from 2013, have
	// no X-RateLimit-Reset).
	h = newHarness(t, f, setup{needFiles: func(string) bool { return true }})
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	got, _ = h.sink.pr(searchAPI + "#3370")
	want.Files, want.FilesFetched = []string{"lib/octokit/configuration.rb", "lib/octokit/connection.rb", "lib/octokit/repository.rb"}, true
	if !prEqual(got, want) {
		t.Errorf("PR\n got %+v\nwant %+v", got, want)
	}
	if _, remaining, _, _ := h.budget.Snapshot(); remaining != 4990 {
		t.Errorf("budget %d left, want the recorded 4990", remaining)
	}
}

func prEqual(a, b model.PR) bool {
	return a.Repo == b.Repo && a.Number == b.Number && a.Title == b.Title && a.URL == b.URL && a.Author == b.Author &&
		a.MergedAt.Equal(b.MergedAt) && a.MergeSHA == b.MergeSHA && a.Base == b.Base &&
		slices.Equal(a.Files, b.Files) && a.FilesFetched == b.FilesFetched
}

func TestIncremental(t *testing.T) {
	f := newFakeWith(t, "", 5)
	addSearchAPI(t, f)
	h := newHarness(t, f, setup{})
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	n := len(f.requests())
	before := h.sink.commits()

	// Nothing new, from a server that ignores If-None-Match: one request,
	// one commit (no PRs: the newest is stored already; the same cursor).
	if err := h.collect(context.Background(), T.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := f.listPages(searchAPI)[n:]; !slices.Equal(got, []int{1}) {
		t.Errorf("quiet poll read pages %v, want [1]", got)
	}
	if h.sink.commits() != before+1 {
		t.Errorf("%d commits for a quiet poll", h.sink.commits()-before)
	}

	// A new merge, and a comment on a stored PR: the poll reads page 1 only.
	f.add(searchAPI, prSpec{number: 108, author: "alice", updated: T.Add(20 * time.Minute), merged: T.Add(20 * time.Minute)})
	f.touch(searchAPI, 103, T.Add(25*time.Minute))
	n = len(f.requests())
	if err := h.collect(context.Background(), T.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var pages []int
	for _, r := range f.requests()[n:] {
		pages = append(pages, r.Page)
	}
	if !slices.Equal(pages, []int{1}) {
		t.Errorf("poll read pages %v, want [1]", pages)
	}
	want := append(slices.Clone(firstRun), 108)
	slices.Sort(want)
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if c := h.sink.cursor(searchAPI); !complete(t, c, "2025-11-20T12:25:00Z", 103) {
		t.Errorf("cursor %s", c)
	}
}

func TestBackfillReadsFurther(t *testing.T) {
	f := newFake(t, "")
	addSearchAPI(t, f)
	h := newHarness(t, f, setup{})
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	run := collectors.Run{Since: T.Add(-200 * day), Backfill: true, Now: T, Sink: h.sink, Progress: h.prog}
	if err := h.c.Collect(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	// #101 (updated 100 days ago) is now in range; #31 was merged in 2012.
	want := []int{101, 102, 103, 105, 106, 3370}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if c := h.sink.cursor(searchAPI); !complete(t, c, "2025-11-19T17:43:19Z", 3370) {
		t.Errorf("cursor %s", c)
	}
}

func TestFilesOnlyWhenNeeded(t *testing.T) {
	f := newFake(t, "")
	addSearchAPI(t, f)
	const checkout = "acme/checkout"
	f.add(checkout, prSpec{number: 7, author: "alice", updated: T.Add(-time.Hour), merged: T.Add(-time.Hour)})
	f.setFiles(checkout, 7, "cmd/main.go")
	// Five files: two pages of three.
	f.setFiles(searchAPI, 105, "internal/query/build.go", "internal/query/build_test.go", "internal/query/cache.go", "README.md", "go.sum")
	f.setFiles(searchAPI, 104, "never/asked.go") // closed unmerged
	need := NeedFilesFor([]config.Metric{
		{ID: "search-p99", Repos: []string{"Acme/Search-API"}, Paths: []string{"internal/query/**"}},
		{ID: "checkout-errors", Repos: []string{checkout}},
	})
	h := newHarness(t, f, setup{repos: []string{searchAPI, checkout}, needFiles: need})
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	p, _ := h.sink.pr(searchAPI + "#105")
	if want := []string{"internal/query/build.go", "internal/query/build_test.go", "internal/query/cache.go", "README.md", "go.sum"}; !slices.Equal(p.Files, want) || !p.FilesFetched {
		t.Errorf("#105 files %v fetched %v, want %v", p.Files, p.FilesFetched, want)
	}
	p, _ = h.sink.pr(searchAPI + "#106")
	if len(p.Files) != 0 || !p.FilesFetched {
		t.Errorf("#106 (no files) = %v fetched %v, want fetched and empty", p.Files, p.FilesFetched)
	}
	p, _ = h.sink.pr(checkout + "#7")
	if len(p.Files) != 0 || p.FilesFetched {
		t.Errorf("checkout#7 files %v fetched %v, want not fetched", p.Files, p.FilesFetched)
	}
	var wantReqs []string
	for _, n := range []string{"3370", "106", "105", "105", "103", "102"} {
		wantReqs = append(wantReqs, "/repos/acme/search-api/pulls/"+n+"/files")
	}
	got := f.fileRequests()
	for i := range got {
		got[i], _, _ = strings.Cut(got[i], "?")
	}
	if !slices.Equal(got, wantReqs) {
		t.Errorf("file requests\n got %v\nwant %v", got, wantReqs)
	}
}

func TestFilesNotFoundKeepsPR(t *testing.T) {
	f := newFake(t, "")
	addSearchAPI(t, f)
	f.fail = func(_ int, r seenReq) *failure {
		if r.Path == "/repos/acme/search-api/pulls/106/files" {
			return &failure{status: 404, header: http.Header{"Content-Type": {"application/json"}}, body: `{"message":"Not Found"}`}
		}
		return nil
	}
	h := newHarness(t, f, setup{needFiles: func(string) bool { return true }})
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	if p, ok := h.sink.pr(searchAPI + "#106"); !ok || p.FilesFetched {
		t.Errorf("#106 = %+v, %v; want stored without files", p, ok)
	}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, firstRun) {
		t.Errorf("stored %v", got)
	}
}

// Failures the shared transport retries: the collector sees none of them.
func TestRetried(t *testing.T) {
	secondary := string(readFile(t, "error_403_secondary_rate_limit.json"))
	tests := []struct {
		name   string
		fail   map[int]*failure // by request number
		sleeps func([]time.Duration) bool
	}{
		{
			name: "429 with Retry-After on page 2",
			fail: map[int]*failure{1: {status: 429, header: http.Header{"Retry-After": {"17"}, "Content-Type": {"application/json"}},
				body: `{"message":"API rate limit exceeded"}`}},
			sleeps: func(d []time.Duration) bool { return slices.Equal(d, []time.Duration{17 * time.Second}) },
		},
		{
			name: "5xx burst",
			fail: map[int]*failure{
				0: {status: 502, body: "<html>Bad Gateway</html>"},
				1: {status: 503, body: `{"message":"Service Unavailable"}`},
				2: {status: 500, body: `{"message":"Server Error"}`},
			},
			sleeps: func(d []time.Duration) bool { return len(d) == 3 && d[0] < 2*time.Second },
		},
		{
			name:   "secondary rate limit 403 (fixture, Retry-After: 60)",
			fail:   map[int]*failure{0: {status: 403, header: metaHeaders(t, "error_403_secondary_rate_limit"), body: secondary}},
			sleeps: func(d []time.Duration) bool { return slices.Equal(d, []time.Duration{time.Minute}) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, "")
			addSearchAPI(t, f)
			f.fail = func(n int, _ seenReq) *failure { return tt.fail[n] }
			h := newHarness(t, f, setup{})
			if err := h.collect(context.Background(), T); err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if got := h.sink.numbers(searchAPI); !slices.Equal(got, firstRun) {
				t.Errorf("stored %v, want %v", got, firstRun)
			}
			if d := h.sl.All(); !tt.sleeps(d) {
				t.Errorf("sleeps %v", d)
			}
			if got, want := len(f.requests()), 3+len(tt.fail); got != want {
				t.Errorf("%d requests, want %d", got, want)
			}
		})
	}
}

// Failures that end the walk: a one-line error naming source, repo and
// status; the pages before stay stored; the other repo is collected.
func TestFailures(t *testing.T) {
	primary := string(readFile(t, "error_403_primary_rate_limit.json"))
	const checkout = "acme/checkout"
	tests := []struct {
		name       string
		maxRetries int
		fail       *failure // answers every request for page 2 of search-api
		want       string   // the whole error
		wantPrefix string   // or its start
		status     int
		// blocked: the other repo is not read either (the budget is shared).
		blocked bool
	}{
		{
			name: "401 revoked token",
			fail: &failure{status: 401, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
				body: `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`},
			want:   "github: list pulls acme/search-api: 401 Bad credentials",
			status: 401,
		},
		{
			name: "404 repo gone",
			fail: &failure{status: 404, header: http.Header{"Content-Type": {"application/json"}},
				body: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/pulls/pulls#list-pull-requests"}`},
			want:   "github: list pulls acme/search-api: 404 Not Found",
			status: 404,
		},
		{
			name:       "5xx until retries run out",
			maxRetries: 2,
			fail:       &failure{status: 503, body: "<html>unicorn</html>"},
			want:       "github: list pulls acme/search-api: 503 Service Unavailable after 3 attempts",
			status:     503,
		},
		{
			name: "primary limit resetting in an hour",
			fail: &failure{status: 403, header: http.Header{"X-RateLimit-Limit": {"5000"}, "X-RateLimit-Remaining": {"0"},
				"X-RateLimit-Reset": {epochIn(time.Hour + 30*time.Second)}, "Content-Type": {"application/json"}}, body: primary},
			wantPrefix: "github: list pulls acme/search-api: 403 Forbidden: rate limit exhausted until reset: must wait 1h0m",
			status:     403,
			blocked:    true,
		},
		{
			name:       "malformed JSON",
			fail:       &failure{status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `[{"number": 105, "title": "x", `},
			wantPrefix: "github: list pulls acme/search-api: malformed response (page 2): ",
		},
		{
			name:       "HTML instead of JSON",
			fail:       &failure{status: 200, header: http.Header{"Content-Type": {"text/html"}}, body: "<html>Sign in</html>"},
			wantPrefix: "github: list pulls acme/search-api: malformed response (page 2): invalid character '<'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, "")
			addSearchAPI(t, f)
			f.add(checkout, prSpec{number: 7, author: "alice", updated: T.Add(-time.Hour), merged: T.Add(-time.Hour)})
			broken := true
			f.fail = func(_ int, r seenReq) *failure {
				if broken && r.Path == "/repos/acme/search-api/pulls" && r.Page == 2 {
					return tt.fail
				}
				return nil
			}
			h := newHarness(t, f, setup{repos: []string{searchAPI, checkout}, maxRetries: tt.maxRetries})
			err := h.collect(context.Background(), T)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if tt.blocked {
				first, rest, _ := strings.Cut(msg, "; ")
				if !strings.HasPrefix(rest, "github: list pulls acme/checkout: rate-limit budget exhausted (0 of 5000 left): must wait 1h0m") {
					t.Errorf("checkout error %q", rest)
				}
				msg = first
			}
			if tt.want != "" && msg != tt.want {
				t.Errorf("error\n got %q\nwant %q", msg, tt.want)
			}
			if tt.wantPrefix != "" && !strings.HasPrefix(msg, tt.wantPrefix) {
				t.Errorf("error\n got %q\nwant prefix %q", msg, tt.wantPrefix)
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, testToken) || strings.Contains(msg, "127.0.0.1") {
				t.Errorf("error is not one clean line: %q", msg)
			}
			var ge *Error
			if !errors.As(err, &ge) || ge.StatusCode() != tt.status {
				t.Errorf("errors.As *Error: %+v, status want %d", ge, tt.status)
			}
			// Page 1 stays stored, with the walk's position.
			if got := h.sink.numbers(searchAPI); !slices.Equal(got, []int{106, 3370}) {
				t.Errorf("stored %v, want page 1's [106 3370]", got)
			}
			if c := h.sink.cursor(searchAPI); !strings.Contains(c, `"page":1`) || strings.Contains(c, `"updated_at"`) {
				t.Errorf("cursor %s, want an unfinished walk at page 1 and no updated_at", c)
			}
			// The other repo is collected, unless the rate limit is spent.
			if got := h.sink.numbers(checkout); !tt.blocked && !slices.Equal(got, []int{7}) {
				t.Errorf("checkout stored %v", got)
			}
			if tt.blocked {
				for _, r := range f.requests() {
					if strings.Contains(r.Path, "checkout") {
						t.Errorf("requested %s with the budget spent", r.Path)
					}
				}
			}

			// Fixed: the next run resumes at page 1 (the last committed)
			// and completes; nothing is lost.
			broken = false
			h.budget = &collectors.Budget{} // an hour later, as far as the budget goes
			h.c = h.collector(t, setup{repos: []string{searchAPI, checkout}})
			n := len(f.listPages(searchAPI))
			if err := h.collect(context.Background(), T.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got := f.listPages(searchAPI)[n:]; !slices.Equal(got, []int{1, 2, 3}) {
				t.Errorf("resumed with pages %v, want [1 2 3]", got)
			}
			if got := h.sink.numbers(searchAPI); !slices.Equal(got, firstRun) {
				t.Errorf("stored %v, want %v", got, firstRun)
			}
			if c := h.sink.cursor(searchAPI); !complete(t, c, "2025-11-19T17:43:19Z", 3370) {
				t.Errorf("cursor %s", c)
			}
		})
	}
}

func epochIn(d time.Duration) string {
	return strconv.FormatInt(time.Now().Add(d).Unix(), 10)
}

// An interrupted walk resumes where it stopped, taking in the PRs updated
// meanwhile (they move to the top), without re-reading from page 1.
func TestResumeAfterInterruption(t *testing.T) {
	f := newFake(t, "")
	addSearchAPI(t, f)
	broken := true
	f.fail = func(_ int, r seenReq) *failure {
		if broken && r.Page == 3 {
			return &failure{status: 401, body: `{"message":"Bad credentials"}`}
		}
		return nil
	}
	h := newHarness(t, f, setup{})
	if err := h.collect(context.Background(), T); err == nil {
		t.Fatal("no error")
	}
	if c := h.sink.cursor(searchAPI); !strings.Contains(c, `"page":2`) {
		t.Fatalf("cursor %s, want a walk at page 2", c)
	}
	// Meanwhile: two merges, and a comment on #106 (already stored).
	f.add(searchAPI,
		prSpec{number: 110, author: "bob", updated: T.Add(time.Hour), merged: T.Add(time.Hour)},
		prSpec{number: 109, author: "alice", updated: T.Add(50 * time.Minute), merged: T.Add(50 * time.Minute)})
	f.touch(searchAPI, 106, T.Add(70*time.Minute))
	broken = false
	n := len(f.listPages(searchAPI))
	if err := h.collect(context.Background(), T.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// List now: [106 110 109] [3370 107 105] [104 103 31] [102 101].
	// Page 1 for what moved to the top (stops at #3370 on page 2), then
	// page 2 again (the last committed; read once, cached), then on.
	if got := f.listPages(searchAPI)[n:]; !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("resumed with pages %v, want [1 2 3 4]", got)
	}
	want := []int{102, 103, 105, 106, 109, 110, 3370}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if c := h.sink.cursor(searchAPI); !complete(t, c, "2025-11-20T13:10:00Z", 106) {
		t.Errorf("cursor %s", c)
	}
}

// When PRs leave the closed list (reopened) above the interrupted walk's
// position, unread PRs move up past the page the walk would resume at; the
// walk notices and reads again from page 1 rather than skip them.
func TestResumeWhenListShrank(t *testing.T) {
	f := newFake(t, "")
	// [10 9 8] [7 6 5] [4 3 2] [1]; 9..6 closed unmerged.
	for n := 10; n >= 1; n-- {
		s := prSpec{number: n, author: "alice", updated: T.Add(-time.Duration(11-n) * time.Hour)}
		if n > 5 && n < 10 {
			s.author = "bob"
		} else {
			s.merged = s.updated
		}
		f.add(searchAPI, s)
	}
	broken := true
	f.fail = func(_ int, r seenReq) *failure {
		if broken && r.Page == 3 {
			return &failure{status: 500}
		}
		return nil
	}
	h := newHarness(t, f, setup{maxRetries: -1})
	if err := h.collect(context.Background(), T); err == nil {
		t.Fatal("no error")
	}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, []int{5, 10}) {
		t.Fatalf("stored %v", got)
	}
	// #9..#6 reopened: [10 5 4] [3 2 1]. Resuming at page 2 would skip #4.
	f.remove(searchAPI, 9, 8, 7, 6)
	broken = false
	n := len(f.listPages(searchAPI))
	if err := h.collect(context.Background(), T.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := f.listPages(searchAPI)[n:]; !slices.Equal(got, []int{1, 2, 2}) {
		t.Errorf("pages %v, want [1 2 2] (top, check page 2, restart from the cached page 1)", got)
	}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, []int{1, 2, 3, 4, 5, 10}) {
		t.Errorf("stored %v, want all merged PRs", got)
	}
}

// go-github refuses calls locally after an answer with
// X-RateLimit-Remaining: 0; the collector waits for the reset and goes on.
func TestBudgetSpentOnSuccess(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a real rate-limit reset (≤3s)")
	}
	f := newFake(t, "")
	addSearchAPI(t, f)
	// X-RateLimit-Reset is whole epoch seconds: two seconds ahead keeps the
	// reset in the future however late in its second the test starts and
	// however slowly a loaded machine reaches the second request.
	reset := time.Now().Add(2 * time.Second).Unix()
	f.headers = func(n int, _ seenReq) http.Header {
		if n != 0 {
			return nil
		}
		// Page 1 as usual, but it spent the budget.
		return http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(reset, 10)}}
	}
	h := newHarness(t, f, setup{})
	var waited []time.Duration
	h.c.opt.Sleep = func(done <-chan struct{}, d time.Duration) bool {
		waited = append(waited, d)
		return collectors.SleepTimer(done, d)
	}
	if err := h.collect(context.Background(), T); err != nil {
		t.Fatal(err)
	}
	if len(waited) != 1 || waited[0] > 4*time.Second {
		t.Errorf("collector waited %v, want once until the reset", waited)
	}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, firstRun) {
		t.Errorf("stored %v", got)
	}
}

func TestContextCanceled(t *testing.T) {
	f := newFake(t, "")
	addSearchAPI(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.fail = func(_ int, r seenReq) *failure {
		if r.Page == 2 {
			cancel()
			return &failure{status: 503}
		}
		return nil
	}
	h := newHarness(t, f, setup{repos: []string{searchAPI, "acme/checkout"}})
	err := h.collect(ctx, T)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := h.sink.numbers(searchAPI); !slices.Equal(got, []int{106, 3370}) {
		t.Errorf("stored %v, want page 1 kept", got)
	}
	for _, r := range f.requests() {
		if strings.Contains(r.Path, "checkout") {
			t.Errorf("requested %s after the cancel", r.Path)
		}
	}
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		src  Config
		want string
	}{
		{Config{Repos: []string{"acme"}}, `github: repo "acme": want owner/name`},
		{Config{Repos: []string{"acme/x/y"}}, `github: repo "acme/x/y": want owner/name`},
		{Config{}, "github: no repos configured"},
		{Config{APIURL: "ghe.example.com", Repos: []string{"a/b"}}, `github: api_url "ghe.example.com" is not an http(s) URL`},
		{Config{APIURL: "https://alice:s3cret@ghe.example.com/api/v3/", Repos: []string{"a/b"}},
			`github: api_url "https://alice:xxxxx@ghe.example.com/api/v3/" must not carry credentials, a query or a fragment (put the token in token:)`},
	} {
		_, err := New(tt.src, Options{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) = %v, want %s", tt.src, err, tt.want)
		}
	}
	c, err := New(Config{APIURL: "https://ghe.example.com/api/v3", Repos: []string{"a/b", "A/B"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.client().BaseURL.String(); got != "https://ghe.example.com/api/v3/" {
		t.Errorf("BaseURL %s", got)
	}
	if len(c.repos) != 1 || c.Name() != "github" {
		t.Errorf("repos %v name %s", c.repos, c.Name())
	}
	var _ collectors.Collector = c
}
