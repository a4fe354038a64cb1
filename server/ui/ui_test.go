package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/store"
)

var fixedNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// fixtureDraft is a pending draft of metric id with its windows around
// shift, crediting one PR titled title.
func fixtureDraft(i int, metricID, metricName, title string, shift time.Time) model.Draft {
	text := fmt.Sprintf("Moved query building off the request path, reducing %s from 1.8 s to 210 ms (−88%%). (acme/search-api#%d)", metricName, 1000+i)
	live := shift.Add(-2 * time.Hour)
	return model.Draft{
		ID: fmt.Sprintf("d%07x", i), Status: model.StatusPending, Category: model.Categories[i%len(model.Categories)],
		Text: text, GeneratedText: text,
		Metric: model.MetricRef{ID: metricID, Name: metricName, Unit: "ms", Better: "lower"},
		Before: 1800, After: 210, Change: -0.883,
		BeforeWindow: model.Window{Start: live.Add(-7 * 24 * time.Hour), End: live},
		AfterWindow:  model.Window{Start: live.Add(24 * time.Hour), End: live.Add(8 * 24 * time.Hour)},
		ShiftAt:      shift, PValue: 1e-6, Confidence: model.ConfidenceHigh,
		PRs: []model.PRRef{{Repo: "acme/search-api", Number: 1000 + i, Title: title, URL: fmt.Sprintf("https://github.com/acme/search-api/pull/%d", 1000+i),
			Author: "alice", MergedAt: live.Add(-time.Hour), LiveAt: live}},
		Others:    []model.PRRef{},
		Evidence:  []string{"p99 fell from 1.8 s to 210 ms; Mann-Whitney p < 0.001."},
		CreatedAt: fixedNow.Add(-time.Hour),
	}
}

// fixture is a review page over a fresh store holding n pending drafts on
// one hourly series.
type fixture struct {
	st     *store.Store
	page   *Server
	h      http.Handler
	cookie *http.Cookie
	csrf   string
	drafts []model.Draft
}

func newFixture(tb testing.TB, n int, title, metricName string) *fixture {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(tb.TempDir(), "impact.db"), store.Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	shift := fixedNow.Add(-10 * 24 * time.Hour)
	var ss []model.Sample
	for t := shift.Add(-9 * 24 * time.Hour); t.Before(shift.Add(9 * 24 * time.Hour)); t = t.Add(time.Hour) {
		v := 1800.0
		if !t.Before(shift) {
			v = 210
		}
		ss = append(ss, model.Sample{Time: t, Value: v + float64(t.Hour()%5)*10})
	}
	if err := st.Commit(ctx, model.Batch{Source: "datadog", Samples: map[string][]model.Sample{"search-p99": ss}}); err != nil {
		tb.Fatal(err)
	}
	var ds []model.Draft
	for i := range n {
		ds = append(ds, fixtureDraft(i, "search-p99", metricName, title, shift.Add(-time.Duration(i)*time.Minute)))
	}
	if _, err := st.SaveDrafts(ctx, ds); err != nil {
		tb.Fatal(err)
	}
	cfg := config.Default()
	cfg.Me.Name = "Alice Example"
	sd := NewStoreData(st, func() *config.Config { return cfg }, func() time.Time { return fixedNow })
	page, err := New(Options{
		Backend: &backend.Local{Store: st, Config: cfg, Now: func() time.Time { return fixedNow }},
		Config:  func() *config.Config { return cfg },
		Series:  sd.Series,
		Explain: sd.Explain,
		Now:     func() time.Time { return fixedNow },
	})
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{st: st, page: page, h: page.Handler(), drafts: ds}
	f.login(tb)
	return f
}

// login follows a login link and keeps the session cookie and CSRF token.
func (f *fixture) login(tb testing.TB) {
	tb.Helper()
	link := f.page.LoginURL("http://127.0.0.1:7879")
	rec := f.do(httptest.NewRequest("GET", link, nil))
	if rec.Code != http.StatusSeeOther {
		tb.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieName {
			f.cookie = c
		}
	}
	if f.cookie == nil || !f.cookie.HttpOnly || f.cookie.SameSite != http.SameSiteStrictMode {
		tb.Fatalf("login cookie %+v: want HttpOnly, SameSite=Strict", f.cookie)
	}
	body := f.get(tb, "/").Body.String()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		tb.Fatal("no CSRF token in the inbox")
	}
	f.csrf = m[1]
}

func (f *fixture) do(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	if r.Host == "example.com" {
		r.Host = "127.0.0.1:7879"
	}
	f.h.ServeHTTP(rec, r)
	return rec
}

func (f *fixture) get(tb testing.TB, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://127.0.0.1:7879"+path, nil)
	r.AddCookie(f.cookie)
	return f.do(r)
}

func (f *fixture) post(path string, form url.Values, mod func(r *http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "http://127.0.0.1:7879"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(f.cookie)
	if mod != nil {
		mod(r)
	}
	return f.do(r)
}

func (f *fixture) status(tb testing.TB, id string) model.Draft {
	d, err := f.st.Draft(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// Requests without the session, with a wrong CSRF token, from another
// origin or to another host change nothing.
func TestRefusedRequestsChangeNothing(t *testing.T) {
	f := newFixture(t, 3, "Add cache", "search API p99 latency")
	id := f.drafts[0].ID
	good := url.Values{"csrf": {f.csrf}}
	for _, tc := range []struct {
		name string
		form url.Values
		mod  func(r *http.Request)
		want int
	}{
		{"no cookie", good, func(r *http.Request) { r.Header.Del("Cookie") }, http.StatusUnauthorized},
		{"forged cookie", good, func(r *http.Request) {
			r.Header.Del("Cookie")
			r.AddCookie(&http.Cookie{Name: cookieName, Value: "forged"})
		}, http.StatusUnauthorized},
		{"no csrf", url.Values{}, nil, http.StatusForbidden},
		{"wrong csrf", url.Values{"csrf": {f.csrf + "x"}}, nil, http.StatusForbidden},
		{"cross origin", good, func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, http.StatusForbidden},
		{"cross site", good, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"foreign host (DNS rebinding)", good, func(r *http.Request) { r.Host = "evil.example:7879" }, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, action := range []string{"accept", "reject", "edit"} {
				form := url.Values{}
				for k, v := range tc.form {
					form[k] = v
				}
				form.Set("text", "changed")
				form.Set("reason", "changed")
				rec := f.post("/drafts/"+id+"/"+action, form, tc.mod)
				if rec.Code != tc.want {
					t.Errorf("%s: %d, want %d", action, rec.Code, tc.want)
				}
			}
			if d := f.status(t, id); d.Status != model.StatusPending || d.Text != f.drafts[0].Text || d.Reason != "" {
				t.Errorf("the draft changed: %s %q %q", d.Status, d.Text, d.Reason)
			}
		})
	}
	// Nothing is readable without the session either.
	for _, p := range []string{"/", "/drafts/" + id, "/period", "/period.md", "/status"} {
		r := httptest.NewRequest("GET", "http://127.0.0.1:7879"+p, nil)
		rec := f.do(r)
		if rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), "search API") {
			t.Errorf("GET %s without a session: %d", p, rec.Code)
		}
	}
	// A link followed from another site (the digest in a webmail) arrives
	// without the Strict cookie: one same-origin reload, no data.
	r := httptest.NewRequest("GET", "http://127.0.0.1:7879/drafts/"+id, nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	if rec := f.do(r); rec.Code != 200 || !strings.Contains(rec.Body.String(), `http-equiv="refresh" content="0; url=/drafts/`+id+`"`) || strings.Contains(rec.Body.String(), "search API") {
		t.Errorf("cross-site navigation without the cookie: %d\n%s", rec.Code, rec.Body)
	}
	// A login link works once.
	link := f.page.LoginURL("http://127.0.0.1:7879")
	if rec := f.do(httptest.NewRequest("GET", link, nil)); rec.Code != http.StatusSeeOther {
		t.Fatalf("first use: %d", rec.Code)
	}
	if rec := f.do(httptest.NewRequest("GET", link, nil)); rec.Code != http.StatusUnauthorized {
		t.Errorf("second use of a login link: %d, want 401", rec.Code)
	}
	// Every answer forbids framing and foreign scripts.
	rec := f.get(t, "/")
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("the page answers with CORS headers")
	}
}

// Accept, reject with a reason, edit, undo: the store holds exactly those
// decisions.
func TestDecideAndUndo(t *testing.T) {
	f := newFixture(t, 4, "Add cache", "search API p99 latency")
	a, r, e := f.drafts[0].ID, f.drafts[1].ID, f.drafts[2].ID
	steps := []struct {
		path string
		form url.Values
	}{
		{"/drafts/" + a + "/accept", url.Values{}},
		{"/drafts/" + r + "/reject", url.Values{"reason": {"not my work"}}},
		{"/drafts/" + e + "/edit", url.Values{"text": {"Rewrote search, 1.8 s to 210 ms (−88%)."}, "then": {"accept"}}},
		{"/undo", url.Values{}},
	}
	for _, s := range steps {
		s.form.Set("csrf", f.csrf)
		if rec := f.post(s.path, s.form, nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("POST %s: %d %s", s.path, rec.Code, rec.Body)
		}
	}
	if d := f.status(t, a); d.Status != model.StatusAccepted {
		t.Errorf("accepted draft: %s", d.Status)
	}
	if d := f.status(t, r); d.Status != model.StatusRejected || d.Reason != "not my work" {
		t.Errorf("rejected draft: %s %q", d.Status, d.Reason)
	}
	if d := f.status(t, e); d.Status != model.StatusPending || d.Text != d.GeneratedText || d.DecidedAt != nil {
		t.Errorf("undone draft: %s %q", d.Status, d.Text)
	}
	body := f.get(t, "/drafts/"+a).Body.String()
	if !strings.Contains(body, "accepted") {
		t.Error("the draft page does not show the decision")
	}
}

func TestPeriodIsTheExportText(t *testing.T) {
	f := newFixture(t, 2, "Add cache", "search API p99 latency")
	for _, d := range f.drafts {
		if _, err := f.st.Decide(context.Background(), d.ID, model.StatusAccepted, "", "", fixedNow); err != nil {
			t.Fatal(err)
		}
	}
	rec := f.get(t, "/period.md?p=2026-H2")
	md := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(md, "# Alice Example — accomplishments (2026-07-01 – 2027-01-01)\n") ||
		!strings.Contains(md, "[acme/search-api#1000](https://github.com/acme/search-api/pull/1000)") {
		t.Errorf("period markdown (%d):\n%s", rec.Code, md)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="impact-2026-H2.md"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if rec := f.get(t, "/period?p=2026-H3"); rec.Code != http.StatusBadRequest {
		t.Errorf("a bad period: %d", rec.Code)
	}
	for _, tc := range []struct{ p, since, until string }{
		{"2026-H1", "2026-01-01", "2026-07-01"}, {"2026-q4", "2026-10-01", "2027-01-01"}, {"2025", "2025-01-01", "2026-01-01"},
	} {
		s, u, err := ParsePeriod(tc.p, time.UTC)
		if err != nil || day(s) != tc.since || day(u) != tc.until {
			t.Errorf("ParsePeriod(%s) = %s %s %v", tc.p, day(s), day(u), err)
		}
	}
}

func TestStatusPage(t *testing.T) {
	f := newFixture(t, 1, "Add cache", "search API p99 latency")
	rec := f.get(t, "/status")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Next digest: not configured") {
		t.Errorf("status page %d:\n%s", rec.Code, rec.Body)
	}
}

// hostile is text a PR author controls.
var hostile = []string{
	`<img src=x onerror=alert(1)>`,
	`"><script>alert(1)</script>`,
	"fix \u202egnp.exe\u202c now",
	`javascript:alert(1)`,
	`</textarea><svg onload=alert(1)>`,
	`{{.CSRF}} ' " & < >`,
}

// The page escapes collected text: no element, attribute or bidi override
// from a title or a metric name survives.
func FuzzPageEscapesCollectedText(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, h)
	}
	fx := newFixture(f, 0, "", "")
	f.Fuzz(func(t *testing.T, title, metric string) {
		d := fixtureDraft(1, "search-p99", metric, title, fixedNow.Add(-10*24*time.Hour))
		d.PRs[0].URL = title
		d.Others = []model.PRRef{d.PRs[0]}
		d.Evidence = []string{title}
		d.Category = metric
		v := fx.page.view(context.Background(), d, true)
		data := pageData{Title: "t", CSRF: "tok", Draft: &v, Groups: []groupView{{Category: clean(metric), Title: clean(metric), Drafts: []draftView{v}}}}
		for _, name := range []string{"inbox", "draft"} {
			var b strings.Builder
			if err := fx.page.tmpl.ExecuteTemplate(&b, name, data); err != nil {
				t.Fatal(err)
			}
			checkInert(t, b.String())
		}
	})
}

var (
	// A start tag and its attributes (quoted values consumed whole, so
	// escaped text inside them is not read as attributes).
	tagRe  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*/?>`)
	attrRe = regexp.MustCompile(`\s+([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?`)
	openRe = regexp.MustCompile(`<[a-zA-Z]`)
)

// checkInert fails when the HTML holds an element the templates do not
// write, an event handler attribute, a javascript: URL or a bidi control.
func checkInert(t *testing.T, html string) {
	t.Helper()
	allowed := map[string]bool{}
	for _, e := range strings.Fields("html head meta title link script body a header span nav div form input button kbd main dialog h1 h2 dl dt dd section article p strong bdi ul li details summary label textarea code svg rect line text polyline h3 ol table thead tbody tr th td caption pre datalist option") {
		allowed[e] = true
	}
	tags := tagRe.FindAllStringSubmatch(html, -1)
	if n := len(openRe.FindAllString(html, -1)); n != len(tags) {
		t.Fatalf("%d tag openings, %d well-formed start tags", n, len(tags))
	}
	for _, m := range tags {
		if !allowed[strings.ToLower(m[1])] {
			t.Fatalf("element <%s> in the page", m[1])
		}
		for _, a := range attrRe.FindAllStringSubmatch(m[2], -1) {
			if strings.HasPrefix(strings.ToLower(a[1]), "on") {
				t.Fatalf("event handler attribute %s in <%s>", a[1], m[1])
			}
		}
	}
	if strings.Count(html, "<script") != 1 {
		t.Fatalf("%d script elements, want the page's own", strings.Count(html, "<script"))
	}
	if strings.Contains(strings.ToLower(html), `href="javascript:`) {
		t.Fatal("javascript: link in the page")
	}
	for _, r := range html {
		if r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' {
			t.Fatalf("bidi control %U in the page", r)
		}
	}
}

func TestHostileTextIsInert(t *testing.T) {
	f := newFixture(t, 0, "", "")
	for _, h := range hostile {
		d := fixtureDraft(9, "search-p99", h, h, fixedNow.Add(-10*24*time.Hour))
		if _, err := f.st.SaveDrafts(context.Background(), []model.Draft{d}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/", "/drafts/" + d.ID} {
			rec := f.get(t, p)
			body, _ := io.ReadAll(rec.Body)
			checkInert(t, string(body))
		}
	}
}

// BenchmarkInbox500 renders the inbox with 500 pending drafts, charts
// included (the README quotes it; the goal is under 200 ms).
func BenchmarkInbox500(b *testing.B) {
	f := newFixture(b, 500, "Add a cache in front of the search index", "search API p99 latency")
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		rec := f.get(b, "/")
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size)/1e6, "MB/page")
}

// BenchmarkDecision is one decision's round trip: the POST, the store
// update (committed to disk) and the redirect (the goal is under 50 ms).
func BenchmarkDecision(b *testing.B) {
	f := newFixture(b, 500, "Add cache", "search API p99 latency")
	form := url.Values{"csrf": {f.csrf}}
	i := 0
	for b.Loop() {
		id := f.drafts[i%len(f.drafts)].ID
		i++
		if rec := f.post("/drafts/"+id+"/accept", form, nil); rec.Code != http.StatusSeeOther {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// A draft's kind is always visible; a manual win shows no made-up numbers.
func TestKindShown(t *testing.T) {
	f := newFixture(t, 1, "Add cache", "search API p99 latency")
	m := model.Draft{ID: "m0000001", Kind: model.KindManual, Status: model.StatusPending, Category: "leadership",
		Text: "Mentored two new engineers through their first on-call.", GeneratedText: "Mentored two new engineers through their first on-call.",
		ShiftAt: fixedNow.Add(-time.Hour), CreatedAt: fixedNow, PRs: []model.PRRef{}, Others: []model.PRRef{}, Evidence: []string{}}
	if _, err := f.st.SaveDrafts(context.Background(), []model.Draft{m}); err != nil {
		t.Fatal(err)
	}
	body := f.get(t, "/").Body.String()
	if !strings.Contains(body, `<span class="kind">manual</span></p>`) || !strings.Contains(body, `<span class="kind">impact</span> <span class="metric">`) {
		t.Errorf("the inbox does not show the kinds:\n%s", body)
	}
}
