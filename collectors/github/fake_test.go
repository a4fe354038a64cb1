package github_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/internal/world"
)

var testEnd = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

var demo = sync.OnceValue(func() *world.World { return world.Demo(testEnd) })

// pullItem is the part of a list item the tests look at.
type pullItem struct {
	Number   int        `json:"number"`
	State    string     `json:"state"`
	Title    string     `json:"title"`
	HTMLURL  string     `json:"html_url"`
	URL      string     `json:"url"`
	Created  time.Time  `json:"created_at"`
	Updated  time.Time  `json:"updated_at"`
	Closed   *time.Time `json:"closed_at"`
	Merged   *time.Time `json:"merged_at"`
	MergeSHA string     `json:"merge_commit_sha"`
	Draft    bool       `json:"draft"`
	User     struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
		Type  string `json:"type"`
	} `json:"user"`
	Base struct {
		Ref  string `json:"ref"`
		Repo struct {
			FullName string `json:"full_name"`
		} `json:"repo"`
	} `json:"base"`
	Head struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	} `json:"head"`
}

func get(t *testing.T, rawURL string, hdr ...string) (*http.Response, []byte) {
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

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="(\w+)"`)

func links(h string) map[string]string {
	out := map[string]string{}
	for _, m := range linkRE.FindAllStringSubmatch(h, -1) {
		out[m[2]] = m[1]
	}
	return out
}

func pageOf(t *testing.T, u string) int {
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(pu.Query().Get("page"))
	return n
}

// repoPRs counts the merged and closed-unmerged PRs of repo.
func repoPRs(w *world.World, repo string) (merged, closed int) {
	for _, p := range w.PRs {
		if p.Repo == repo {
			merged++
		}
	}
	for _, p := range w.ClosedUnmerged {
		if p.Repo == repo {
			closed++
		}
	}
	return
}

func TestGitHubListPaging(t *testing.T) {
	w := demo()
	srv := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	for _, tc := range []struct {
		repo    string
		perPage string
		want    int // items per full page
	}{
		{"acme/search-api", "", 30},
		{"acme/search-api", "10", 10},
		{"acme/checkout", "7", 7},
		{"acme/platform", "100", 100},
		{"acme/platform", "250", 100},
		{"acme/checkout", "1", 1},
	} {
		t.Run(tc.repo+"/"+tc.perPage, func(t *testing.T) {
			merged, closed := repoPRs(w, tc.repo)
			total := merged + closed
			lastPage := (total + tc.want - 1) / tc.want
			next := srv.URL + "/repos/" + tc.repo + "/pulls?state=closed&sort=updated&direction=desc"
			if tc.perPage != "" {
				next += "&per_page=" + tc.perPage
			}
			var all []pullItem
			for page := 1; next != ""; page++ {
				resp, body := get(t, next, "Authorization", "Bearer x")
				if resp.StatusCode != 200 {
					t.Fatalf("page %d: %d %s", page, resp.StatusCode, body)
				}
				var items []pullItem
				if err := json.Unmarshal(body, &items); err != nil {
					t.Fatal(err)
				}
				if page < lastPage && len(items) != tc.want {
					t.Errorf("page %d has %d items, want %d", page, len(items), tc.want)
				}
				all = append(all, items...)
				l := links(resp.Header.Get("Link"))
				if lastPage == 1 {
					if len(l) != 0 {
						t.Errorf("single page has Link %q", resp.Header.Get("Link"))
					}
				} else {
					if page < lastPage && (pageOf(t, l["next"]) != page+1 || pageOf(t, l["last"]) != lastPage) {
						t.Errorf("page %d: Link %q", page, resp.Header.Get("Link"))
					}
					if page == lastPage && (l["next"] != "" || l["last"] != "") {
						t.Errorf("last page has next/last: %q", resp.Header.Get("Link"))
					}
					if page > 1 && (pageOf(t, l["prev"]) != page-1 || pageOf(t, l["first"]) != 1) {
						t.Errorf("page %d: Link %q", page, resp.Header.Get("Link"))
					}
					if page == 1 && (l["prev"] != "" || l["first"] != "") {
						t.Errorf("first page has prev/first")
					}
					if n := l["next"]; n != "" && (!strings.HasPrefix(n, srv.URL+"/repos/"+tc.repo+"/pulls?") || !strings.Contains(n, "state=closed")) {
						t.Errorf("next link %q lost the request", n)
					}
				}
				next = l["next"]
				if page > 100 {
					t.Fatal("runaway paging")
				}
			}
			if len(all) != total {
				t.Fatalf("got %d PRs, want %d", len(all), total)
			}
			nMerged := 0
			seen := map[int]bool{}
			for i, p := range all {
				if seen[p.Number] {
					t.Errorf("#%d twice", p.Number)
				}
				seen[p.Number] = true
				if i > 0 && p.Updated.After(all[i-1].Updated) {
					t.Errorf("not sorted by updated desc at %d", i)
				}
				if p.State != "closed" || p.Closed == nil || p.Draft || p.Base.Ref != "main" || p.Base.Repo.FullName != tc.repo || p.Head.SHA == "" || p.User.Login == "" || p.User.ID == 0 {
					t.Errorf("bad item %+v", p)
				}
				if p.HTMLURL != "https://github.com/"+tc.repo+"/pull/"+strconv.Itoa(p.Number) || !strings.HasPrefix(p.URL, srv.URL+"/repos/") {
					t.Errorf("urls %s %s", p.HTMLURL, p.URL)
				}
				if p.Merged != nil {
					nMerged++
					if !p.Merged.Equal(*p.Closed) || p.Updated.Sub(*p.Merged) <= 0 || p.Updated.Sub(*p.Merged) > 15*time.Minute {
						t.Errorf("#%d times: merged %v closed %v updated %v", p.Number, p.Merged, p.Closed, p.Updated)
					}
				}
				if p.Created.After(w.End) {
					t.Errorf("#%d created after End", p.Number)
				}
			}
			if nMerged != merged {
				t.Errorf("%d merged, want %d", nMerged, merged)
			}
		})
	}
}

func TestGitHubListVariants(t *testing.T) {
	w := demo()
	srv := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	merged, closed := repoPRs(w, "acme/checkout")
	list := func(q string) (int, []pullItem, http.Header) {
		resp, body := get(t, srv.URL+"/repos/acme/checkout/pulls?per_page=100&"+q)
		var items []pullItem
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(body, &items); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, items, resp.Header
	}
	sorted := func(items []pullItem, key func(pullItem) time.Time, desc bool) bool {
		return slices.IsSortedFunc(items, func(a, b pullItem) int {
			c := key(a).Compare(key(b))
			if desc {
				return -c
			}
			return c
		})
	}
	upd := func(p pullItem) time.Time { return p.Updated }
	cre := func(p pullItem) time.Time { return p.Created }
	for _, tc := range []struct {
		q      string
		status int
		n      int
		key    func(pullItem) time.Time
		desc   bool
	}{
		{"", 200, 0, nil, false}, // default state=open: the world has none
		{"state=open", 200, 0, nil, false},
		{"state=closed", 200, merged + closed, cre, true}, // default sort created, desc
		{"state=all&sort=created&direction=asc", 200, merged + closed, cre, false},
		{"state=closed&sort=updated", 200, merged + closed, upd, false}, // direction defaults to asc
		{"state=closed&sort=updated&direction=desc", 200, merged + closed, upd, true},
		{"state=closed&base=main", 200, merged + closed, cre, true},
		{"state=closed&base=release", 200, 0, nil, false},
		{"state=bogus", 422, 0, nil, false},
		{"state=closed&direction=sideways", 422, 0, nil, false},
		{"state=closed&page=99", 200, 0, nil, false},
	} {
		status, items, _ := list(tc.q)
		if status != tc.status || len(items) != tc.n {
			t.Errorf("%q: status %d, %d items; want %d, %d", tc.q, status, len(items), tc.status, tc.n)
			continue
		}
		if tc.key != nil && !sorted(items, tc.key, tc.desc) {
			t.Errorf("%q: wrong order", tc.q)
		}
	}

	// Closed-unmerged PRs are listed with merged_at null.
	_, items, _ := list("state=closed")
	var unmerged []string
	for _, p := range items {
		if p.Merged == nil {
			unmerged = append(unmerged, p.Title)
		}
	}
	if len(unmerged) != closed || closed == 0 {
		t.Errorf("unmerged listed: %v", unmerged)
	}
}

func TestGitHubNotFound(t *testing.T) {
	srv := httptest.NewServer(github.NewFake(demo(), collectorstest.FakeOptions{}))
	defer srv.Close()
	for _, path := range []string{
		"/repos/acme/nope/pulls?state=closed",
		"/repos/other/search-api/pulls",
		"/repos/acme/search-api/pulls/999999",
		"/repos/acme/search-api/pulls/abc/files",
		"/repos/acme/nope/pulls/1234/files",
		"/users/alice",
	} {
		resp, body := get(t, srv.URL+path)
		if resp.StatusCode != 404 || string(body) != `{"documentation_url":"https://docs.github.com/rest","message":"Not Found"}` {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if resp.Header.Get("X-RateLimit-Limit") == "" {
			t.Errorf("%s: no rate-limit headers", path)
		}
	}
	// GitHub repo names are case-insensitive.
	if resp, _ := get(t, srv.URL+"/repos/ACME/Search-API/pulls?state=closed"); resp.StatusCode != 200 {
		t.Errorf("case-insensitive repo: %d", resp.StatusCode)
	}
}

func TestGitHubFiles(t *testing.T) {
	w := demo()
	srv := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	type file struct {
		SHA       string `json:"sha"`
		Filename  string `json:"filename"`
		Status    string `json:"status"`
		Additions int    `json:"additions"`
		Deletions int    `json:"deletions"`
		Changes   int    `json:"changes"`
		BlobURL   string `json:"blob_url"`
		Patch     string `json:"patch"`
	}
	base := srv.URL + "/repos/acme/search-api/pulls/1234/files"
	resp, body := get(t, base)
	var files []file
	if err := json.Unmarshal(body, &files); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	names := []string{}
	for _, f := range files {
		names = append(names, f.Filename)
		if f.Changes != f.Additions+f.Deletions || len(f.SHA) != 40 || !strings.HasPrefix(f.BlobURL, "https://github.com/acme/search-api/blob/") {
			t.Errorf("bad file %+v", f)
		}
	}
	if !slices.Contains(names, "internal/query/builder.go") || files[0].Patch == "" {
		t.Errorf("ES PR files %v", names)
	}
	p, _ := w.PR("acme/search-api#1234")
	if !slices.Equal(names, p.Files) {
		t.Errorf("files %v, world %v", names, p.Files)
	}

	// Paging: 5 files, 2 a page.
	var paged []string
	next := base + "?per_page=2"
	for pages := 0; next != ""; pages++ {
		resp, body := get(t, next)
		var fs []file
		json.Unmarshal(body, &fs)
		for _, f := range fs {
			paged = append(paged, f.Filename)
		}
		next = links(resp.Header.Get("Link"))["next"]
		if pages > 10 {
			t.Fatal("runaway")
		}
	}
	if !slices.Equal(paged, names) {
		t.Errorf("paged %v", paged)
	}

	// Every PR has files, also the closed-unmerged ones.
	for _, p := range append(slices.Clone(w.PRs), w.ClosedUnmerged...) {
		resp, body := get(t, srv.URL+"/repos/"+p.Repo+"/pulls/"+strconv.Itoa(p.Number)+"/files?per_page=100")
		var fs []file
		if json.Unmarshal(body, &fs); resp.StatusCode != 200 || len(fs) != len(p.Files) || len(fs) == 0 {
			t.Errorf("%s: %d, %d files", p.Key(), resp.StatusCode, len(fs))
		}
	}
}

func TestGitHubRateLimitAndETag(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(github.NewFake(demo(), collectorstest.FakeOptions{RateLimit: 3, Now: func() time.Time { return now }}))
	defer srv.Close()
	u := srv.URL + "/repos/acme/platform/pulls?state=closed&per_page=5"
	resp, _ := get(t, u)
	h := resp.Header
	if h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != "2" || h.Get("X-RateLimit-Used") != "1" ||
		h.Get("X-RateLimit-Resource") != "core" || h.Get("X-RateLimit-Reset") != strconv.FormatInt(now.Add(time.Hour).Unix(), 10) {
		t.Errorf("rate headers %v", h)
	}
	tag := h.Get("ETag")
	if !strings.HasPrefix(tag, `W/"`) {
		t.Fatalf("ETag %q", tag)
	}
	// A conditional request answers 304 and costs nothing.
	resp, body := get(t, u, "If-None-Match", tag)
	if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("conditional: %d remaining %s", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
	// A different page has a different ETag.
	resp, _ = get(t, u+"&page=2", "If-None-Match", tag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == tag || resp.Header.Get("X-RateLimit-Remaining") != "1" {
		t.Errorf("page 2: %d %s", resp.StatusCode, resp.Header.Get("ETag"))
	}
	get(t, u+"&page=3")
	resp, body = get(t, u)
	if resp.StatusCode != 403 || resp.Header.Get("X-RateLimit-Remaining") != "0" || !strings.Contains(string(body), "API rate limit exceeded") {
		t.Errorf("exhausted: %d %s %s", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), body)
	}
	// The budget comes back after the reset.
	now = now.Add(time.Hour)
	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Errorf("after reset: %d", resp.StatusCode)
	}
}

// TestGitHubClient reads everything through go-github, as the collector
// does.
func TestGitHubClient(t *testing.T) {
	w := demo()
	counter := &collectorstest.Counter{}
	srv := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{Counter: counter}))
	defer srv.Close()
	c := gh.NewClient(nil).WithAuthToken("demo")
	base, _ := url.Parse(srv.URL + "/")
	c.BaseURL = base
	ctx := context.Background()

	for _, repo := range w.Repos {
		owner, name, _ := strings.Cut(repo, "/")
		opt := &gh.PullRequestListOptions{State: "closed", Sort: "updated", Direction: "desc", ListOptions: gh.ListOptions{PerPage: 20}}
		var merged, unmerged int
		pages := 0
		for {
			prs, resp, err := c.PullRequests.List(ctx, owner, name, opt)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if resp.Rate.Limit != 5000 || resp.Rate.Remaining <= 0 || resp.Rate.Reset.IsZero() {
				t.Errorf("rate %+v", resp.Rate)
			}
			for _, p := range prs {
				if p.MergedAt == nil {
					unmerged++
					continue
				}
				merged++
				key := repo + "#" + strconv.Itoa(p.GetNumber())
				wp, ok := w.PR(key)
				if !ok || wp.Title != p.GetTitle() || wp.Author != p.GetUser().GetLogin() || !wp.MergedAt.Equal(p.GetMergedAt().Time) ||
					wp.URL != p.GetHTMLURL() || wp.MergeSHA != p.GetMergeCommitSHA() || p.GetBase().GetRepo().GetFullName() != repo {
					t.Errorf("%s: %+v", key, p)
				}
			}
			if resp.NextPage == 0 {
				if resp.LastPage != 0 {
					t.Errorf("last page says LastPage %d", resp.LastPage)
				}
				break
			}
			if resp.LastPage == 0 || resp.NextPage != pages+1 {
				t.Errorf("page %d: next %d last %d", pages, resp.NextPage, resp.LastPage)
			}
			opt.Page = resp.NextPage
		}
		wm, wc := repoPRs(w, repo)
		if merged != wm || unmerged != wc {
			t.Errorf("%s: %d merged %d unmerged, want %d %d", repo, merged, unmerged, wm, wc)
		}
	}

	files, _, err := c.PullRequests.ListFiles(ctx, "acme", "search-api", 1234, &gh.ListOptions{PerPage: 100})
	if err != nil || len(files) == 0 || files[0].GetFilename() != "internal/query/builder.go" || files[0].GetAdditions() == 0 {
		t.Errorf("files %v %v", files, err)
	}
	pr, _, err := c.PullRequests.Get(ctx, "acme", "checkout", prNumber(t, w, "fix(payments): retry idempotent calls on 503"))
	if err != nil || !pr.GetMerged() || pr.GetUser().GetLogin() != "alice" || pr.GetChangedFiles() != 3 || pr.GetMergedBy().GetLogin() == "" {
		t.Errorf("get %v %v", pr, err)
	}
	_, _, err = c.PullRequests.List(ctx, "acme", "nope", nil)
	var er *gh.ErrorResponse
	if !asErr(err, &er) || er.Response.StatusCode != 404 || er.Message != "Not Found" {
		t.Errorf("unknown repo: %v", err)
	}

	if n := counter.Count("GET /repos/{owner}/{repo}/pulls"); n < len(w.Repos)+1 {
		t.Errorf("counted %d list requests", n)
	}
	if counter.Snapshot()[collectorstest.CountKey{Vendor: "github", Pattern: "GET /repos/{owner}/{repo}/pulls", Status: 404}] != 1 {
		t.Errorf("counter: %s", counter)
	}
	if counter.Count("GET /repos/{owner}/{repo}/pulls/{number}/files") != 1 || counter.Count("GET /repos/{owner}/{repo}/pulls/{number}") != 1 {
		t.Errorf("counter: %s", counter)
	}
}

func prNumber(t *testing.T, w *world.World, title string) int {
	for _, p := range w.PRs {
		if p.Title == title {
			return p.Number
		}
	}
	t.Fatalf("no PR %q", title)
	return 0
}

func asErr(err error, target **gh.ErrorResponse) bool {
	e, ok := err.(*gh.ErrorResponse)
	if ok {
		*target = e
	}
	return ok
}

func TestCounterConcurrentAndLatency(t *testing.T) {
	counter := &collectorstest.Counter{}
	o := collectorstest.FakeOptions{Counter: counter, Latency: 20 * time.Millisecond}
	ghSrv := httptest.NewServer(github.NewFake(demo(), o))
	defer ghSrv.Close()
	ddSrv := httptest.NewServer(datadog.NewFake(demo(), o))
	defer ddSrv.Close()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				get(t, ghSrv.URL+"/repos/acme/checkout/pulls?state=closed&page="+strconv.Itoa(i%3+1))
			} else {
				get(t, ddSrv.URL+"/api/v1/query?from=0&to=1&query=x", "DD-API-KEY", "k", "DD-APPLICATION-KEY", "a")
			}
		}()
	}
	wg.Wait()
	// The fakes count a request once its handler returns, which can be just
	// after the client has its answer: Close waits for every handler.
	ghSrv.Close()
	ddSrv.Close()
	if time.Since(start) < 20*time.Millisecond {
		t.Errorf("latency not applied")
	}
	if counter.Total() != 40 || counter.Count("GET /repos/{owner}/{repo}/pulls") != 20 || counter.Count("GET /api/v1/query") != 20 {
		t.Errorf("counter:\n%s", counter)
	}
	snap := counter.Snapshot()
	if snap[collectorstest.CountKey{Vendor: "datadog", Pattern: "GET /api/v1/query", Status: 200}] != 20 || snap[collectorstest.CountKey{Vendor: "github", Pattern: "GET /repos/{owner}/{repo}/pulls", Status: 200}] != 20 {
		t.Errorf("counter:\n%s", counter)
	}
}

func TestFault(t *testing.T) {
	counter := &collectorstest.Counter{}
	n := 0
	var mu sync.Mutex
	srv := httptest.NewServer(github.NewFake(demo(), collectorstest.FakeOptions{Counter: counter, Fault: func(r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return 0
	}}))
	defer srv.Close()
	resp, _ := get(t, srv.URL+"/repos/acme/checkout/pulls?state=closed")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("fault: %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv.URL+"/repos/acme/checkout/pulls?state=closed"); resp.StatusCode != 200 {
		t.Errorf("after fault: %d", resp.StatusCode)
	}
	if counter.Snapshot()[collectorstest.CountKey{Vendor: "github", Pattern: "GET /repos/{owner}/{repo}/pulls", Status: 503}] != 1 {
		t.Errorf("counter:\n%s", counter)
	}
}
