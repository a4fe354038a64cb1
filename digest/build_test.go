package digest

import (
	"bytes"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
)

func TestBuild(t *testing.T) {
	f := newFixture(t)
	d := Build(f.in)

	if d.Partial {
		t.Error("a digest built after the week is not partial")
	}
	// Drafts: the two new pending ones, newest shift first; the older
	// pending one only counted; decided ones not listed.
	if len(d.Drafts) != 2 || d.Drafts[0].ID != "e5f6a7b8" || d.Drafts[1].ID != "d1a2b3c4" {
		t.Fatalf("drafts = %+v", d.Drafts)
	}
	if d.OlderPending != 1 {
		t.Errorf("OlderPending = %d, want 1", d.OlderPending)
	}
	it := d.Drafts[1]
	if it.Before != "1.8 s" || it.After != "210 ms" || it.Change != "−88%" {
		t.Errorf("before/after/change = %q %q %q", it.Before, it.After, it.Change)
	}
	if it.Accept != "impact drafts accept d1a2b3c4" || it.Reject != "impact drafts reject d1a2b3c4" {
		t.Errorf("commands = %q, %q", it.Accept, it.Reject)
	}
	if len(it.PRs) != 1 || it.PRs[0].Ref != "acme/search-api#1234" || it.PRs[0].URL != "https://github.com/acme/search-api/pull/1234" {
		t.Errorf("PRs = %+v", it.PRs)
	}
	if it.Chart == nil || len(it.Chart.Samples) < 100 || len(it.Chart.LiveAt) != 1 {
		t.Errorf("chart = %+v", it.Chart)
	}

	// Regressions and unattributed shifts are listed as such, only those
	// measured this week, and never as wins.
	if len(d.Regressions) != 1 || d.Regressions[0].Metric != "checkout p95 latency" {
		t.Fatalf("regressions = %+v", d.Regressions)
	}
	if len(d.Unattributed) != 1 || d.Unattributed[0].Metric != "platform DB p99 latency" {
		t.Fatalf("unattributed = %+v", d.Unattributed)
	}
	reg := d.Regressions[0].Sentence
	want := "checkout p95 latency rose from 320 ms to 449 ms (+40%) since Thu Nov 19, after acme/checkout#403 by @alice went live. This is worse, not a win: worth a look."
	if reg != want {
		t.Errorf("regression sentence\n got %q\nwant %q", reg, want)
	}
	winWords := regexp.MustCompile(`(?i)reduc|improv|increas|faster|saved|cut |boost|win[^g]`)
	if m := winWords.FindString(strings.ReplaceAll(reg, "not a win", "")); m != "" {
		t.Errorf("regression worded as a win (%q): %s", m, reg)
	}
	for _, dr := range d.Drafts {
		if dr.Metric == "checkout p95 latency" {
			t.Error("a regression is listed as a draft")
		}
	}
	un := d.Unattributed[0]
	if !strings.Contains(un.Sentence, "fell from 902 ms to 297 ms (−67%)") || !strings.Contains(un.Sentence, ": credited to @bob, whose acme/platform#2004 went live closest to it (the likeliest cause), not to you.") {
		t.Errorf("unattributed sentence = %q", un.Sentence)
	}
	if un.Cause.URL != "" {
		t.Errorf("a javascript: URL survived: %q", un.Cause.URL)
	}

	// The week in numbers.
	got := map[string]Number{}
	for _, n := range d.Numbers {
		got[n.Label] = n
	}
	check := func(label, value, note string) {
		t.Helper()
		n, ok := got[label]
		if !ok {
			t.Errorf("no %q line in %+v", label, d.Numbers)
			return
		}
		if n.Value != value || n.Note != note {
			t.Errorf("%s = %q (%q), want %q (%q)", label, n.Value, n.Note, value, note)
		}
	}
	check("Your PRs merged", "2", "of 3 merged in the watched repos")
	check("Reviews given", "n/a", "no reviews collected yet (github source with me.github)")
	check("Pages to you", "3", "median time to resolve 30 min, 1 still open")
	check("Incidents on the watched services", "4", "median time to resolve 40 min, 1 still open")
	check("CI median duration, acme/search-api/ci.yml", "10 min", "3 successful runs")
	if len(d.Numbers) != 5 {
		t.Errorf("numbers = %+v", d.Numbers)
	}

	// Accepted this half year (H2 2026), by competency in order.
	p := d.Period
	if p.Name != "H2 2026" || p.Total != 2 || !p.Start.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, f.loc)) ||
		len(p.ByCategory) != 2 || p.ByCategory[0].Category != "database" || p.ByCategory[1].Category != "performance" {
		t.Errorf("period = %+v", p)
	}

	if d.Empty() {
		t.Error("Empty")
	}
	if s := d.Subject(); s != "impact — week 2026-W48: 2 drafts to review" {
		t.Errorf("subject = %q", s)
	}
}

func TestBuildSourcesWithoutData(t *testing.T) {
	f := newFixture(t)
	f.in.GitHub, f.in.PagerDuty, f.in.CI = nil, nil, nil
	d := Build(f.in)
	if len(d.Numbers) != 0 {
		t.Errorf("numbers without any source = %+v", d.Numbers)
	}
	f.in.CI = &CIActivity{Workflows: []string{"acme/x/ci.yml"}}
	d = Build(f.in)
	if len(d.Numbers) != 1 || d.Numbers[0].Value != "n/a" {
		t.Errorf("CI without runs this week = %+v", d.Numbers)
	}
	n := 4
	f.in.GitHub = &GitHubActivity{Reviews: &n}
	if d = Build(f.in); d.Numbers[1].Label != "Reviews given" || d.Numbers[1].Value != "4" {
		t.Errorf("reviews = %+v", d.Numbers)
	}
}

func TestBuildEmptyWeek(t *testing.T) {
	loc := berlin(t)
	w, _ := ParseWeek("2026-W48", loc)
	old := mkDraft("0ld0ld00", searchP99, w.Start().AddDate(0, 0, -30), w.Start().AddDate(0, 0, -20), 900, 300, "Add index")
	d := Build(Input{
		Week:   w,
		Now:    w.End().Add(time.Hour),
		Drafts: []model.Draft{old},
		GitHub: &GitHubActivity{PRs: []model.PR{{Repo: "a/b", Number: 1, MergedAt: w.Start().Add(-time.Hour)}}},
		CI:     &CIActivity{},
	})
	if !d.Empty() {
		t.Fatalf("not empty: %+v", d)
	}
	text := Text(d)
	want := "Nothing moved in 2026-W48 (Nov 23 – 29, 2026): no new drafts, no shifts, no merged PRs, pages or CI runs.\n"
	if text != want {
		t.Errorf("empty week text\n got %q\nwant %q", text, want)
	}
	if d.Subject() != "impact — week 2026-W48: nothing moved" {
		t.Errorf("subject = %q", d.Subject())
	}
	r, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.HTML, "Nothing moved in 2026-W48") || strings.Contains(r.HTML, "Drafts to review") || strings.Contains(r.HTML, "Accepted this review period") {
		t.Errorf("empty week HTML:\n%s", r.HTML)
	}
	// The week so far says so.
	d = Build(Input{Week: w, Now: w.Start().Add(time.Hour)})
	if !d.Partial || !strings.Contains(Text(d), "so far") {
		t.Errorf("partial empty week: %q", Text(d))
	}
}

// Hostile text from PRs and the config is escaped in the HTML, kept on one
// line in the text, and never reaches a header.
func TestHostileText(t *testing.T) {
	f := newFixture(t)
	d := Build(f.in)
	r, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	for name, html := range map[string]string{"HTML": r.HTML, "standalone HTML": r.StandaloneHTML} {
		if strings.Contains(html, "<script") || strings.Contains(html, "alert(1)</") {
			t.Errorf("%s contains a raw script tag", name)
		}
		if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s does not show the escaped title", name)
		}
		if strings.Contains(html, "javascript:") {
			t.Errorf("%s links a javascript: URL", name)
		}
		if strings.Contains(html, "\r") {
			t.Errorf("%s contains CR", name)
		}
		if !strings.Contains(html, "&#34; Bcc: x@evil.example") {
			t.Errorf("%s: the CR/LF title is not one escaped line", name)
		}
	}
	if strings.Contains(r.Text, "\r") {
		t.Error("text contains CR")
	}
	for _, line := range strings.Split(r.Text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "Bcc:") {
			t.Errorf("text has a line starting with Bcc: %q", line)
		}
	}
	if !strings.Contains(r.Text, hostileScript+`" Bcc: x@evil.example`) {
		t.Error("text lost the hostile title instead of flattening it")
	}
	if strings.ContainsAny(r.Subject, "\r\n<>") || strings.Contains(r.Subject, "Bcc") || strings.Contains(r.Subject, "Elasticsearch") {
		t.Errorf("subject carries collected text: %q", r.Subject)
	}

	// The message's headers: exactly From, To, Subject, Message-ID, Date
	// as set; no Bcc; the recipients are the configured ones.
	to := []string{"alice@example.com", "Alice Two <alice2@example.com>"}
	msg, err := Message(r, "impact@example.com", to, MessageID(f.week, "impact@example.com", to), time.Date(2026, 11, 30, 9, 0, 0, 0, f.loc))
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := msg.WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(&raw)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" || m.Header.Get("Cc") != "" {
		t.Errorf("Bcc/Cc headers: %q %q", m.Header.Get("Bcc"), m.Header.Get("Cc"))
	}
	addrs, err := m.Header.AddressList("To")
	if err != nil || len(addrs) != 2 || addrs[0].Address != "alice@example.com" || addrs[1].Address != "alice2@example.com" {
		t.Errorf("To = %v (%v)", addrs, err)
	}
	var dec mime.WordDecoder
	if s, _ := dec.DecodeHeader(m.Header.Get("Subject")); s != "impact — week 2026-W48: 2 drafts to review" {
		t.Errorf("Subject = %q", s)
	}
	if got := m.Header.Get("Message-ID"); !regexp.MustCompile(`^<impact-digest-2026-W48-[0-9a-f]{12}@example\.com>$`).MatchString(got) {
		t.Errorf("Message-ID = %q", got)
	}
	if got, err := m.Header.Date(); err != nil || !got.Equal(time.Date(2026, 11, 30, 9, 0, 0, 0, f.loc)) {
		t.Errorf("Date = %v (%v)", got, err)
	}
	for k := range m.Header {
		if strings.EqualFold(k, "Bcc") || strings.Contains(strings.ToLower(k), "evil") {
			t.Errorf("injected header %q", k)
		}
	}
	// Recipients given with CR/LF are refused outright.
	if _, err := Message(r, "impact@example.com", []string{"a@example.com\r\nBcc: x@evil.example"}, "x@y", time.Now()); err == nil {
		t.Error("a recipient with CR/LF was accepted")
	}
	if _, err := Message(r, "impact@example.com\nBcc: x@evil.example", to, "x@y", time.Now()); err == nil {
		t.Error("a sender with LF was accepted")
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb":              "a b",
		"  a \t b  ":          "a b",
		"a\u2028b\u202eC":     "a b C",
		"x\x00y\x1b[31m":      "x y [31m",
		"plain":               "plain",
		"\r\nBcc: x@evil.org": "Bcc: x@evil.org",
	} {
		if got := oneLine(in, 100); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := oneLine("abcdef", 3); got != "abc…" {
		t.Errorf("cut = %q", got)
	}
}

func TestMessageIDStable(t *testing.T) {
	w := Week{Year: 2026, Num: 48}
	a := MessageID(w, "impact@example.com", []string{"b@example.com", "A@example.com"})
	b := MessageID(w, "Impact <impact@example.com>", []string{"a@example.com", "b@example.com"})
	c := MessageID(w, "impact@example.com", []string{"a@example.com"})
	if a != b || a == c {
		t.Errorf("message ids: %s %s %s", a, b, c)
	}
	if got := MessageID(w, "not an address", nil); !strings.HasSuffix(got, "@impact.localhost") {
		t.Errorf("fallback domain: %s", got)
	}
}

// Regressions never become drafts or wins, whatever the drafter's flags say.
func TestShiftFlagsRespected(t *testing.T) {
	f := newFixture(t)
	improvementAsRegression := f.in.Unattributed[0]
	f.in.Regressions = []drafter.Shift{improvementAsRegression} // Improvement: true
	regressionAsUnattributed := newFixture(t).in.Regressions[0]
	f.in.Unattributed = []drafter.Shift{regressionAsUnattributed} // Improvement: false
	d := Build(f.in)
	if len(d.Regressions) != 0 || len(d.Unattributed) != 0 {
		t.Errorf("mislabelled shifts listed: %+v %+v", d.Regressions, d.Unattributed)
	}
}

// With ui.public_url set, each draft links to its review page, in the HTML
// and in the text; without it, neither has a link.
func TestDraftLinksToReviewPage(t *testing.T) {
	for _, tc := range []struct{ base, want string }{
		{"https://impact.example.com/", "https://impact.example.com/drafts/d1a2b3c4"},
		{"http://127.0.0.1:7879", "http://127.0.0.1:7879/drafts/d1a2b3c4"},
		{"javascript:alert(1)", ""},
		{"", ""},
	} {
		f := newFixture(t)
		f.in.PageURL = tc.base
		r, err := Render(Build(f.in))
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string]string{"html": r.HTML, "text": r.Text} {
			has := strings.Contains(body, "/drafts/")
			if tc.want == "" && has || tc.want != "" && !strings.Contains(body, tc.want) {
				t.Errorf("%q: %s link missing or unexpected (want %q)", tc.base, name, tc.want)
			}
		}
	}
}
