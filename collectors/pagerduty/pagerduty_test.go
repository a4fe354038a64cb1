package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/model"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureServer serves the documented examples: the incident list (one
// resolved incident, `more: true` with limit 1, so an empty second page
// follows) and its log entries.
func fixtureServer(t *testing.T, incidents []byte) (*httptest.Server, *[]*http.Request) {
	t.Helper()
	logs := readFixture(t, "incident_log_entries.json")
	var mu sync.Mutex
	var reqs []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r.Clone(context.Background()))
		mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/incidents" && r.URL.Query().Get("offset") == "":
			rw.Write(incidents)
		case r.URL.Path == "/incidents":
			fmt.Fprintf(rw, `{"incidents":[],"limit":1,"offset":%s,"more":false,"total":null}`, r.URL.Query().Get("offset"))
		case r.URL.Path == "/incidents/PT4KHLK/log_entries":
			rw.Write(logs)
		default:
			rw.WriteHeader(http.StatusNotFound)
			rw.Write([]byte(`{"error":{"message":"Not Found","code":2100}}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs
}

// TestDocumentedIncident parses PagerDuty's documented incident example, as
// listed and as it would look while acknowledged.
func TestDocumentedIncident(t *testing.T) {
	doc := readFixture(t, "incidents.json")
	acked := func() []byte {
		var v map[string]any
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatal(err)
		}
		in := v["incidents"].([]any)[0].(map[string]any)
		in["status"] = "acknowledged"
		in["resolved_at"] = nil
		in["acknowledgements"] = []any{
			map[string]any{"at": "2015-10-06T14:35:00-07:00", "acknowledger": map[string]any{"id": "PXPGF42", "type": "user_reference"}},
			map[string]any{"at": "2015-10-06T21:33:10.250Z", "acknowledger": map[string]any{"id": "PB7CC2Z", "type": "user_reference"}},
			map[string]any{"at": "2015-10-06T21:31:00Z", "acknowledger": map[string]any{"id": "PSVC001", "type": "service_reference"}},
		}
		in["assignments"] = []any{map[string]any{"at": "2015-10-06T21:30:42Z", "assignee": map[string]any{"id": "PXPGF42", "type": "user_reference"}}}
		b, _ := json.Marshal(v)
		return b
	}()
	created := time.Date(2015, 10, 6, 21, 30, 42, 0, time.UTC)
	base := model.Incident{ID: "PT4KHLK", Service: "PIJ90N7", Title: "The server is on fire.", Urgency: "high",
		URL: "https://subdomain.pagerduty.com/incidents/PT4KHLK", CreatedAt: created}
	for _, tc := range []struct {
		name string
		body []byte
		want model.Incident
		logs int // log-entry reads expected
	}{
		{"resolved", doc, func() model.Incident {
			m := base
			m.Status, m.ResolvedAt = "resolved", time.Date(2015, 10, 6, 21, 38, 23, 0, time.UTC)
			return m // the log holds only the trigger: no acknowledgement, no assignee
		}(), 1},
		{"acknowledged", acked, func() model.Incident {
			m := base
			m.Status = "acknowledged"
			m.AcknowledgedAt = time.Date(2015, 10, 6, 21, 31, 0, 0, time.UTC) // by a service: still the first acknowledgement
			m.Assignees = []string{"PB7CC2Z", "PXPGF42"}
			return m
		}(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, reqs := fixtureServer(t, tc.body)
			c, err := New(Config{Token: testToken, APIURL: srv.URL + "/", Services: []string{"PIJ90N7"}},
				Options{HTTPClient: collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit, Stats: &collectors.Stats{}})})
			if err != nil {
				t.Fatal(err)
			}
			sink := newSink()
			now := time.Date(2015, 11, 1, 0, 0, 0, 0, time.UTC)
			if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-60 * day), Now: now, Sink: sink}); err != nil {
				t.Fatal(err)
			}
			got := sink.incidents["PT4KHLK"]
			if !incidentEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			logs := 0
			for i, r := range *reqs {
				if r.Header.Get("Authorization") != "Token token="+testToken {
					t.Errorf("request %d: Authorization %q", i, r.Header.Get("Authorization"))
				}
				if strings.HasSuffix(r.URL.Path, "/log_entries") {
					logs++
				}
			}
			if logs != tc.logs {
				t.Errorf("%d log-entry reads, want %d", logs, tc.logs)
			}
			first := (*reqs)[0]
			q := first.URL.Query()
			if first.URL.Path != "/incidents" || q.Get("limit") != "100" || q.Get("time_zone") != "UTC" ||
				q.Get("sort_by") != "created_at:asc" || q.Get("total") != "true" || !slices.Equal(q["service_ids[]"], []string{"PIJ90N7"}) ||
				q.Get("since") != "2015-09-02T00:00:00Z" || q.Get("until") != "2015-11-01T00:00:00Z" {
				t.Errorf("first request: %s", first.URL)
			}
			// limit 1 and more: true → the next page starts at offset 1.
			var offsets []string
			for _, r := range *reqs {
				if r.URL.Path == "/incidents" {
					offsets = append(offsets, r.URL.Query().Get("offset"))
				}
			}
			if !slices.Equal(offsets, []string{"", "1"}) {
				t.Errorf("list offsets %q", offsets)
			}
		})
	}
}

// TestFakeShape checks the fake PagerDuty serves every field of the
// documented incident example.
func TestFakeShape(t *testing.T) {
	var doc struct {
		Incidents []map[string]json.RawMessage `json:"incidents"`
	}
	var top map[string]json.RawMessage
	raw := readFixture(t, "incidents.json")
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &top)
	w := newWorld([]string{"PSEARCH1"}, spread("Q", []string{"PSEARCH1"}, 3, end.Add(-3*day), end.Add(-day), nil))
	e := newEnv(t, w)
	req, _ := http.NewRequest("GET", e.srv.URL+"/incidents?total=true", nil)
	req.Header.Set("Authorization", "Token token=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Incidents []map[string]json.RawMessage `json:"incidents"`
	}
	var gotTop map[string]json.RawMessage
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	json.Unmarshal(buf.Bytes(), &got)
	json.Unmarshal(buf.Bytes(), &gotTop)
	if len(got.Incidents) != 3 {
		t.Fatalf("fake listed %d incidents: %s", len(got.Incidents), buf.String())
	}
	for k := range doc.Incidents[0] {
		if _, ok := got.Incidents[0][k]; !ok {
			t.Errorf("fake incident lacks %q", k)
		}
	}
	for k := range top {
		if _, ok := gotTop[k]; !ok {
			t.Errorf("fake list lacks %q", k)
		}
	}
	for _, h := range []string{"Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestParseTime(t *testing.T) {
	utc := func(s string) time.Time { tt, _ := time.Parse(time.RFC3339Nano, s); return tt.UTC() }
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2015-10-06T21:30:42Z", want: utc("2015-10-06T21:30:42Z")},
		{in: "2015-10-06T21:30:42.123Z", want: utc("2015-10-06T21:30:42.123Z")},
		{in: "2015-10-06T14:30:42-07:00", want: utc("2015-10-06T21:30:42Z")},
		{in: "2015-10-06T23:30:42.5+02:00", want: utc("2015-10-06T21:30:42.5Z")},
		{in: "2015-10-06T14:30:42-0700", want: utc("2015-10-06T21:30:42Z")},
		{in: "2023-05-31T10:05:00", want: utc("2023-05-31T10:05:00Z")},
		{in: " 2015-10-06T21:30:42Z ", want: utc("2015-10-06T21:30:42Z")},
		{in: "", bad: true},
		{in: "yesterday", bad: true},
		{in: "1444167042", bad: true},
	} {
		got, err := parseTime(tc.in)
		if tc.bad != (err != nil) || !got.Equal(tc.want) || (err == nil && got.Location() != time.UTC) {
			t.Errorf("parseTime(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// TestBackfill collects two services' incidents over 60 days, pages of 100,
// with every status, and checks what is stored, the cursor and the requests.
func TestBackfill(t *testing.T) {
	services := []string{"PCHECK1", "PSEARCH1"}
	incs := spread("Q", services, 530, end.Add(-60*day), end.Add(-30*time.Minute), func(i int, in *model.Incident) {
		if i%40 == 7 {
			in.ResolvedAt = time.Time{} // still open: acknowledged or triggered
		}
	})
	e := newEnv(t, newWorld(services, incs))
	c := e.collector(nil, Options{})
	prog := &collectorstest.Progress{}
	since := end.Add(-90 * day)
	if err := e.collect(c, collectors.Run{Since: since, Progress: prog}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, incs, since, end, end, 1)
	cur := e.sink.cursor(t)
	if !cur.Through.Equal(end.Add(-Settle)) || !slices.Equal(cur.Services, services) || cur.Catchup != nil {
		t.Errorf("cursor %+v", cur)
	}
	var wantOpen []string
	resolved := 0
	for _, in := range incs {
		if want(in, end).Status != "resolved" {
			wantOpen = append(wantOpen, in.ID)
		} else {
			resolved++
		}
	}
	var open []string
	for _, r := range cur.Open {
		open = append(open, r.ID)
	}
	if len(wantOpen) == 0 || !slices.Equal(open, wantOpen) {
		t.Errorf("open %v, want %v", open, wantOpen)
	}
	k := countKinds(e.requests())
	if k["list"] != 6 || k["analytics"] != 1 || k["log"] != 0 || k["get"] != 0 {
		t.Errorf("requests %v, want 6 list pages and 1 analytics page for %d resolved incidents", k, resolved)
	}
	if total, done := prog.Counts(); total != done || done != int64(k["list"]+k["analytics"]) {
		t.Errorf("progress total %d done %d, requests %d", total, done, k["list"]+k["analytics"])
	}
}

// TestOffsetCap: 12,000 incidents in a year, 11,000 of them in three weeks,
// so one 180-day window holds more than the 10,000 PagerDuty pages through.
// Every incident is stored exactly once and the fake never answers 400.
func TestOffsetCap(t *testing.T) {
	if testing.Short() {
		t.Skip("12,000 incidents")
	}
	services := []string{"PCHECK1", "PSEARCH1"}
	burstFrom := end.Add(-200 * day)
	// Three incidents share each second of the burst, so the listing moves
	// on from a second some of whose incidents are already read.
	// The storm's incidents resolved themselves, unacknowledged and
	// unassigned (which also keeps their log entries short).
	burst := spread("B", services, 11_000, burstFrom, burstFrom.Add(21*day), func(i int, in *model.Incident) {
		in.CreatedAt = burstFrom.Add(time.Duration(i/3) * 157 * time.Second)
		in.ResolvedAt = in.CreatedAt.Add(30 * time.Minute)
		in.AcknowledgedAt = time.Time{}
		in.Assignees = nil
	})
	rest := spread("R", services, 1_000, end.Add(-365*day), end.Add(-day), nil)
	all := slices.Concat(burst, rest)
	e := newEnv(t, newWorld(services, all))
	c := e.collector(nil, Options{Concurrency: 16})
	since := end.Add(-365 * day)
	if err := e.collect(c, collectors.Run{Since: since, Backfill: true}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, all, since, end, end, 1)
	reqs := e.requests()
	k := countKinds(reqs)
	capHit, movedOn := false, false
	for _, u := range reqs {
		if kind(u) != "list" {
			continue
		}
		q := u.Query()
		off, _ := strconv.Atoi(q.Get("offset"))
		lim, _ := strconv.Atoi(q.Get("limit"))
		if off+lim > MaxOffset {
			t.Errorf("request past the offset cap: %s", u)
		}
		if off == MaxOffset-PageLimit {
			capHit = true
		}
		if s, _ := time.Parse(time.RFC3339, q.Get("since")); capHit && q.Get("offset") == "" && s.After(burstFrom) && s.Before(burstFrom.Add(21*day)) {
			movedOn = true
		}
	}
	if !capHit || !movedOn {
		t.Errorf("offset cap reached %v, listing moved on %v", capHit, movedOn)
	}
	for key, n := range e.counter.Snapshot() {
		if key.Status != http.StatusOK && key.Status != http.StatusTooManyRequests {
			t.Errorf("%d answers %v", n, key)
		}
	}
	k = e.served()
	// 12,000 analytics records at 1,000 a page, in two 180-day windows.
	if k["log"] != 0 || k["analytics"] > 14 {
		t.Errorf("%d log reads and %d analytics pages for %d incidents", k["log"], k["analytics"], len(all))
	}
	// 120 full pages; +2 windows' part-filled last pages, +1 page re-read
	// where the listing moved on.
	if k["list"] > 124 {
		t.Errorf("%d list requests for 12,000 incidents", k["list"])
	}
	t.Logf("served: %d list pages, %d analytics pages", k["list"], k["analytics"])
}

// TestRequestBudget: 2 services × 2,000 incidents in a year. The listing
// plus one analytics pass per window (PagerDuty shows no acknowledgement
// or assignee on a resolved incident) stay within 1.1× of the minimum
// pages (100 incidents a list page, 1,000 an analytics page); what is
// stored is what the log-entry path (an account without analytics) stores;
// a following poll with nothing new costs one request.
func TestRequestBudget(t *testing.T) {
	services := []string{"PCHECK1", "PSEARCH1"}
	incs := spread("Q", services, 4_000, end.Add(-365*day), end.Add(-day), nil)
	since := end.Add(-365 * day)

	// The log-entry path, for comparison.
	slow := newEnv(t, newWorld(services, incs), noAnalytics)
	if err := slow.collect(slow.collector(nil, Options{}), collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, slow.sink, incs, since, end, end, 1)
	if k := slow.served(); k["log"] != len(incs) || k["analytics"] != 0 {
		t.Errorf("without analytics: requests %v, want %d log reads", k, len(incs))
	}

	e := newEnv(t, newWorld(services, incs))
	c := e.collector(nil, Options{})
	if err := e.collect(c, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, incs, since, end, end, 1)
	fast, _, _ := e.sink.snapshot()
	slowGot, _, _ := slow.sink.snapshot()
	for id, g := range slowGot {
		if f, ok := fast[id]; !ok || !incidentEqual(f, g) {
			t.Errorf("%s: analytics path stored %+v, log-entry path %+v", id, f, g)
		}
	}
	attempts := len(e.requests())
	k := e.served()
	minPages := (len(incs) + PageLimit - 1) / PageLimit
	minAnalytics := (len(incs) + AnalyticsLimit - 1) / AnalyticsLimit
	if got := k["list"] + k["analytics"]; float64(got) > 1.1*float64(minPages+minAnalytics) {
		t.Errorf("%d list + %d analytics requests, minimum %d + %d", k["list"], k["analytics"], minPages, minAnalytics)
	}
	if k["log"] != 0 || k["get"] != 0 || k["analytics"] == 0 {
		t.Errorf("requests %v, want no log reads and no GET", k)
	}
	t.Logf("first poll: %d list pages (minimum %d), %d analytics pages (minimum %d); %d attempts (429s retried: %d)",
		k["list"], minPages, k["analytics"], minAnalytics, attempts, attempts-k["list"]-k["analytics"])

	e.clk.Set(end.Add(time.Hour))
	e.sink.resetCommits()
	if err := e.collect(c, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	k = e.served()
	if k["list"] != 1 || k["log"] != 0 || k["get"] != 0 || k["analytics"] != 0 {
		t.Errorf("second poll requests %v, want one list", k)
	}
	if _, commits, _ := e.sink.snapshot(); len(commits) != 0 {
		t.Errorf("second poll committed %d incidents again", len(commits))
	}
}

// TestWindows: a 400-day backfill is listed in windows of at most 180 days
// (the fake refuses more than 6 months), oldest first.
func TestWindows(t *testing.T) {
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 120, end.Add(-399*day), end.Add(-day), nil)
	for _, tc := range []struct {
		window time.Duration
		lists  int
	}{{0, 3}, {30 * day, 14}, {MaxWindow, 3}} {
		t.Run(fmt.Sprint(tc.window), func(t *testing.T) {
			e := newEnv(t, newWorld(services, incs))
			c := e.collector(nil, Options{Window: tc.window})
			since := end.Add(-400 * day)
			if err := e.collect(c, collectors.Run{Since: since}); err != nil {
				t.Fatal(err)
			}
			checkStored(t, e.sink, incs, since, end, end, 1)
			var prevUntil time.Time
			lists := 0
			for _, u := range e.requests() {
				if kind(u) != "list" {
					continue
				}
				lists++
				s, err1 := time.Parse(time.RFC3339, u.Query().Get("since"))
				un, err2 := time.Parse(time.RFC3339, u.Query().Get("until"))
				if err1 != nil || err2 != nil || un.Sub(s) > MaxWindow || (!prevUntil.IsZero() && !s.Equal(prevUntil)) {
					t.Errorf("window %s .. %s after %s", s, un, prevUntil)
				}
				prevUntil = un
			}
			if lists != tc.lists || !prevUntil.Equal(end) {
				t.Errorf("%d windows ending %s, want %d ending %s", lists, prevUntil, tc.lists, end)
			}
			for key, n := range e.counter.Snapshot() {
				if key.Status != http.StatusOK && key.Status != http.StatusTooManyRequests {
					t.Errorf("%d answers %v", n, key)
				}
			}
		})
	}
}

// TestIncremental: the second poll lists only what is new (the last minutes
// of the first poll again, skipping what is already stored).
func TestIncremental(t *testing.T) {
	t.Run("analytics", func(t *testing.T) { testIncremental(t, true) })
	t.Run("log entries", func(t *testing.T) { testIncremental(t, false) })
}

func testIncremental(t *testing.T, analytics bool) {
	services := []string{"PSEARCH1"}
	t1, t2 := end, end.Add(time.Hour)
	old := spread("A", services, 40, end.Add(-20*day), end.Add(-2*time.Hour), nil)
	// Created a minute before the first poll and resolved before it: the
	// second poll lists it again but must not store or read it again.
	quick := model.Incident{ID: "QUICK01", Service: "PSEARCH1", Title: "flap", Urgency: "low",
		CreatedAt: t1.Add(-time.Minute), AcknowledgedAt: t1.Add(-50 * time.Second), ResolvedAt: t1.Add(-30 * time.Second), Assignees: []string{"PALICE1"}}
	fresh := spread("N", services, 5, t1.Add(time.Minute), t1.Add(50*time.Minute), func(i int, in *model.Incident) {
		if i >= 3 {
			in.ResolvedAt = t2.Add(time.Hour) // still open at t2
		} else {
			in.ResolvedAt = in.CreatedAt.Add(3 * time.Minute)
			in.AcknowledgedAt = in.CreatedAt.Add(time.Minute)
		}
	})
	all := slices.Concat(old, []model.Incident{quick}, fresh)
	var po FakeOptions
	if !analytics {
		po = noAnalytics
	}
	e := newEnv(t, newWorld(services, all), po)
	c := e.collector(nil, Options{})
	since := end.Add(-30 * day)
	if err := e.collect(c, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, all, since, t1, t1, 1)
	e.requests()

	e.clk.Set(t2)
	e.sink.resetCommits()
	if err := e.collect(c, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, all, since, t2, t2, 1)
	_, commits, _ := e.sink.snapshot()
	var committed []string
	for id := range commits {
		committed = append(committed, id)
	}
	slices.Sort(committed)
	if want := []string{"N000000", "N000001", "N000002", "N000003", "N000004"}; !slices.Equal(committed, want) {
		t.Errorf("second poll committed %v, want %v", committed, want)
	}
	reqs := e.requests()
	k := countKinds(reqs)
	wantLog, wantAn := 3, 0
	if analytics {
		wantLog, wantAn = 0, 1
	}
	if k["list"] != 1 || k["log"] != wantLog || k["analytics"] != wantAn || k["get"] != 0 {
		t.Errorf("second poll requests %v", k)
	}
	if s := reqs[0].Query().Get("since"); s != t1.Add(-Settle).Format(time.RFC3339) {
		t.Errorf("second poll since %s", s)
	}
	cur := e.sink.cursor(t)
	if !cur.Through.Equal(t2.Add(-Settle)) || len(cur.Open) != 2 {
		t.Errorf("cursor %+v", cur)
	}
}

// TestOpenReread: open incidents are read again on later polls until they
// resolve — one GET each when there are at most two, else one listing of
// the open ones plus a GET for each that left it — then dropped from the
// cursor.
func TestOpenReread(t *testing.T) {
	services := []string{"PCHECK1", "PSEARCH1"}
	t1, t2, t3 := end, end.Add(3*time.Hour), end.Add(6*time.Hour)
	for _, tc := range []struct {
		name              string
		open              int // open at t1
		resolveByT2       int // of which resolved by t2
		lists, gets, logs int // requests of the second poll (without analytics)
		analytics         bool
	}{
		{"one", 1, 1, 1, 1, 1, false},
		{"two", 2, 1, 1, 2, 1, false},
		{"five", 5, 3, 2, 3, 3, false},
		{"one/analytics", 1, 1, 1, 1, 1, true},
		{"two/analytics", 2, 1, 1, 2, 1, true},
		{"five/analytics", 5, 3, 2, 3, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := spread("A", services, 30, end.Add(-10*day), end.Add(-day), nil)
			open := spread("O", services, tc.open, end.Add(-5*day), end.Add(-time.Hour), func(i int, in *model.Incident) {
				switch {
				case i < tc.resolveByT2:
					in.ResolvedAt = t1.Add(time.Hour + time.Duration(i)*time.Minute)
				default:
					in.ResolvedAt = t2.Add(time.Hour)
				}
				if i%2 == 0 {
					in.AcknowledgedAt = in.CreatedAt.Add(10 * time.Minute) // acknowledged at t1
				} else {
					in.AcknowledgedAt = t1.Add(30 * time.Minute) // acknowledged between polls
				}
			})
			all := slices.Concat(old, open)
			var po FakeOptions
			if !tc.analytics {
				po = noAnalytics
			}
			e := newEnv(t, newWorld(services, all), po)
			c := e.collector(nil, Options{})
			since := end.Add(-30 * day)
			if err := e.collect(c, collectors.Run{Since: since}); err != nil {
				t.Fatal(err)
			}
			checkStored(t, e.sink, all, since, t1, t1, 1)
			if cur := e.sink.cursor(t); len(cur.Open) != tc.open {
				t.Fatalf("open after the first poll: %+v", cur.Open)
			}
			e.requests()

			e.clk.Set(t2)
			if err := e.collect(c, collectors.Run{Since: since}); err != nil {
				t.Fatal(err)
			}
			checkStored(t, e.sink, all, since, t2, t2, 0)
			k := countKinds(e.requests())
			// +1 list: the main listing from the cursor to t2.
			// With analytics: one page instead of the log reads.
			logs, an := tc.logs, 0
			if tc.analytics {
				logs, an = 0, 1
			}
			if k["list"] != tc.lists || k["get"] != tc.gets || k["log"] != logs || k["analytics"] != an {
				t.Errorf("second poll requests %v, want %d list, %d get, %d log, %d analytics", k, tc.lists, tc.gets, logs, an)
			}
			if cur := e.sink.cursor(t); len(cur.Open) != tc.open-tc.resolveByT2 {
				t.Errorf("open after the second poll: %+v", cur.Open)
			}

			e.clk.Set(t3)
			if err := e.collect(c, collectors.Run{Since: since}); err != nil {
				t.Fatal(err)
			}
			checkStored(t, e.sink, all, since, t3, t3, 0)
			if cur := e.sink.cursor(t); len(cur.Open) != 0 {
				t.Errorf("open after the third poll: %+v", cur.Open)
			}
		})
	}
}

// TestOpenGone: an open incident that no longer exists (404) is forgotten.
func TestOpenGone(t *testing.T) {
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 3, end.Add(-3*day), end.Add(-day), func(i int, in *model.Incident) {
		in.ResolvedAt = time.Time{}
	})
	e := newEnv(t, newWorld(services, incs))
	c := e.collector(nil, Options{})
	if err := e.collect(c, collectors.Run{Since: end.Add(-10 * day)}); err != nil {
		t.Fatal(err)
	}
	// Two of the three vanish (merged away, say).
	e.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/incidents/Q000000" || r.URL.Path == "/incidents/Q000001" {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusNotFound)
			rw.Write([]byte(`{"error":{"message":"Not Found","code":2100}}`))
			return true
		}
		if r.URL.Path == "/incidents" && len(r.URL.Query()["statuses[]"]) > 0 {
			rw.Header().Set("Content-Type", "application/json")
			rw.Write([]byte(`{"incidents":[],"limit":100,"offset":0,"more":false,"total":null}`))
			return true
		}
		return false
	})
	e.clk.Set(end.Add(time.Hour))
	if err := e.collect(c, collectors.Run{}); err != nil {
		t.Fatal(err)
	}
	cur := e.sink.cursor(t)
	if len(cur.Open) != 1 || cur.Open[0].ID != "Q000002" {
		t.Errorf("open %+v", cur.Open)
	}
}

// TestNewService: a service added to the config is read from Run.Since on
// its own; the others are not read again.
func TestNewService(t *testing.T) {
	a := spread("A", []string{"PAAAAA1"}, 50, end.Add(-20*day), end.Add(-day), nil)
	b := spread("B", []string{"PBBBBB1"}, 150, end.Add(-20*day), end.Add(90*time.Minute), nil)
	e := newEnv(t, newWorld([]string{"PAAAAA1", "PBBBBB1"}, a, b))
	since := end.Add(-30 * day)
	if err := e.collect(e.collector([]string{"PAAAAA1"}, Options{}), collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, a, since, end, end, 1)
	e.requests()

	t2 := end.Add(2 * time.Hour)
	e.clk.Set(t2)
	e.sink.failIn = 2 // interrupt the catch-up after its first page
	c := e.collector([]string{"PBBBBB1", "PAAAAA1"}, Options{})
	if err := e.collect(c, collectors.Run{Since: since}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err %v", err)
	}
	cur := e.sink.cursor(t)
	if cur.Catchup == nil || !slices.Equal(cur.Catchup.Services, []string{"PBBBBB1"}) || !slices.Equal(cur.Services, []string{"PAAAAA1"}) {
		t.Fatalf("cursor during the catch-up %+v", cur)
	}
	if err := e.collect(c, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, slices.Concat(a, b), since, t2, t2, 0)
	_, commits, _ := e.sink.snapshot()
	for _, in := range a {
		if commits[in.ID] != 1 {
			t.Errorf("%s committed %d times", in.ID, commits[in.ID])
		}
	}
	cur = e.sink.cursor(t)
	if cur.Catchup != nil || !slices.Equal(cur.Services, []string{"PAAAAA1", "PBBBBB1"}) || !cur.Through.Equal(t2.Add(-Settle)) {
		t.Errorf("cursor %+v", cur)
	}
	for _, u := range e.requests() {
		if kind(u) == "list" && u.Query().Get("since") == since.Format(time.RFC3339) && !slices.Equal(u.Query()["service_ids[]"], []string{"PBBBBB1"}) {
			t.Errorf("catch-up listed %v", u.Query()["service_ids[]"])
		}
	}
}

// TestResume: a commit that fails stops the run; the next one resumes from
// the last committed page.
func TestResume(t *testing.T) {
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 450, end.Add(-60*day), end.Add(-day), nil)
	e := newEnv(t, newWorld(services, incs))
	c := e.collector(nil, Options{})
	e.sink.failIn = 3
	since := end.Add(-90 * day)
	if err := e.collect(c, collectors.Run{Since: since}); err == nil || err.Error() != "pagerduty: store incidents: disk full" {
		t.Fatalf("err %v", err)
	}
	stored, _, _ := e.sink.snapshot()
	if len(stored) != 200 {
		t.Fatalf("%d stored before the failure", len(stored))
	}
	e.requests()
	if err := e.collect(c, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, incs, since, end, end, 2)
	k := countKinds(e.requests())
	if k["list"] != 3 || k["log"] > 250+2 {
		t.Errorf("resumed run requests %v", k)
	}
}

// TestRateLimited: a 429 with PagerDuty's headers (no Retry-After) is
// waited out for ratelimit-reset seconds, then retried.
func TestRateLimited(t *testing.T) {
	body := readFixture(t, "error_429.json")
	var meta struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"response_headers"`
	}
	if err := json.Unmarshal(readFixture(t, "raw/error_429.meta.json"), &meta); err != nil {
		t.Fatal(err)
	}
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 20, end.Add(-5*day), end.Add(-day), nil)
	for _, reset := range []string{meta.Headers["ratelimit-reset"], "30"} {
		t.Run("reset="+reset, func(t *testing.T) {
			e := newEnv(t, newWorld(services, incs))
			n := 0
			e.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/incidents" {
					return false
				}
				if n++; n > 1 {
					return false
				}
				for k, v := range meta.Headers {
					rw.Header()[k] = []string{v} // lower-case, as PagerDuty sends them
				}
				rw.Header()["ratelimit-reset"] = []string{reset}
				rw.WriteHeader(meta.Status)
				rw.Write(body)
				return true
			})
			c := e.collector(nil, Options{})
			if err := e.collect(c, collectors.Run{Since: end.Add(-10 * day)}); err != nil {
				t.Fatal(err)
			}
			checkStored(t, e.sink, incs, end.Add(-10*day), end, end, 1)
			secs, _ := strconv.Atoi(reset)
			wantWait := time.Duration(secs)*time.Second + time.Second // + the client's 1s clock slack
			if s := e.clk.Sleeps(); len(s) != 1 || s[0] != wantWait {
				t.Errorf("waits %v, want one of %v", s, wantWait)
			}
			if e.stats.Count(Name, 429) != 1 {
				t.Errorf("429s: %d", e.stats.Count(Name, 429))
			}
		})
	}
}

// TestServerErrors: a burst of 5xx is retried with backoff; a longer one
// fails the run with one line, and what was stored stays.
func TestServerErrors(t *testing.T) {
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 150, end.Add(-10*day), end.Add(-day), nil)
	for _, tc := range []struct {
		name    string
		status  int
		burst   int
		wantErr string
	}{
		{"500 x3", 500, 3, ""},
		{"503 x5", 503, 5, ""},
		{"502 x6", 502, 6, "pagerduty: list incidents: 502 Bad Gateway after 6 attempts"},
		{"503 forever", 503, 1000, "pagerduty: list incidents: 503 Service Unavailable after 6 attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, newWorld(services, incs))
			c := e.collector(nil, Options{})
			var mu sync.Mutex
			n := 0
			// The burst hits the second page of the listing.
			e.setFault(func(r *http.Request) int {
				if r.URL.Path != "/incidents" || r.URL.Query().Get("offset") != "100" {
					return 0
				}
				mu.Lock()
				defer mu.Unlock()
				if n++; n <= tc.burst {
					return tc.status
				}
				return 0
			})
			err := e.collect(c, collectors.Run{Since: end.Add(-30 * day)})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkStored(t, e.sink, incs, end.Add(-30*day), end, end, 1)
				if len(e.clk.Sleeps()) != tc.burst {
					t.Errorf("waits %v", e.clk.Sleeps())
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err %v, want %s", err, tc.wantErr)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.StatusCode != tc.status {
				t.Errorf("error %#v", err)
			}
			stored, _, _ := e.sink.snapshot()
			if len(stored) != 100 {
				t.Errorf("%d incidents stored, want the first page's 100", len(stored))
			}
		})
	}
}

// TestUnauthorized: a revoked token fails with one line naming the source
// and the status; what earlier polls stored, and the cursor, stay.
func TestUnauthorized(t *testing.T) {
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 30, end.Add(-10*day), end.Add(-day), nil)
	e := newEnv(t, newWorld(services, incs))
	c := e.collector(nil, Options{})
	if err := e.collect(c, collectors.Run{Since: end.Add(-30 * day)}); err != nil {
		t.Fatal(err)
	}
	before, _, cur := e.sink.snapshot()
	e.setFault(func(r *http.Request) int { return http.StatusUnauthorized })
	e.clk.Set(end.Add(time.Hour))
	err := e.collect(c, collectors.Run{})
	const want = "pagerduty: list incidents: 401 Unauthorized: Unauthenticated"
	if err == nil || err.Error() != want {
		t.Fatalf("err %v, want %s", err, want)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.StatusCode != 401 {
		t.Errorf("error %#v", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Error("token in the error")
	}
	after, _, cur2 := e.sink.snapshot()
	if len(after) != len(before) || !bytes.Equal(cur, cur2) {
		t.Errorf("stored data changed: %d → %d incidents, cursor %s → %s", len(before), len(after), cur, cur2)
	}
	if len(e.clk.Sleeps()) != 0 {
		t.Errorf("a 401 was retried: %v", e.clk.Sleeps())
	}

	// Without a token the fake answers 401 itself.
	e.setFault(nil)
	req, _ := http.NewRequest("GET", e.srv.URL+"/incidents", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no Authorization: %d", resp.StatusCode)
	}
}

// TestErrors: 4xx answers and malformed bodies end the run with one line.
func TestErrors(t *testing.T) {
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 150, end.Add(-10*day), end.Add(-day), nil)
	page := func(s string) func(rw http.ResponseWriter, r *http.Request) bool {
		return func(rw http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/incidents" || r.URL.Query().Get("offset") != "100" {
				return false
			}
			ct, body, _ := strings.Cut(s, "\n")
			rw.Header().Set("Content-Type", ct)
			rw.Write([]byte(body))
			return true
		}
	}
	status := func(code int, ct, body string) func(rw http.ResponseWriter, r *http.Request) bool {
		return func(rw http.ResponseWriter, r *http.Request) bool {
			rw.Header().Set("Content-Type", ct)
			rw.WriteHeader(code)
			rw.Write([]byte(body))
			return true
		}
	}
	for _, tc := range []struct {
		name      string
		intercept func(rw http.ResponseWriter, r *http.Request) bool
		want      string // error prefix
		stored    int
	}{
		{"html", page("text/html\n<html><body>Bad gateway</body></html>"),
			"pagerduty: list incidents: malformed response: invalid character '<'", 100},
		{"truncated", page(`application/json` + "\n" + `{"incidents":[{"id":"X1","created_at":"2026-03-01T00:00:00Z"`),
			"pagerduty: list incidents: malformed response: unexpected end of JSON input", 100},
		{"wrong type", page(`application/json` + "\n" + `{"incidents":"none","more":false}`),
			"pagerduty: list incidents: malformed response: json: cannot unmarshal string", 100},
		{"empty page says more", page(`application/json` + "\n" + `{"incidents":[],"limit":100,"offset":100,"more":true}`),
			"pagerduty: list incidents: malformed response: an empty page at offset 100 says there are more", 100},
		{"bad created_at", page(`application/json` + "\n" + `{"incidents":[{"id":"X1","created_at":"last tuesday","service":{"id":"PSEARCH1"}}],"limit":100,"offset":100,"more":false}`),
			`pagerduty: list incidents: malformed response: incident "X1": created_at "last tuesday"`, 100},
		{"no service", page(`application/json` + "\n" + `{"incidents":[{"id":"X1","created_at":"2026-03-01T00:00:00Z"}],"limit":100,"offset":100,"more":false}`),
			"pagerduty: list incidents: malformed response: incident X1 has no service", 100},
		{"400", status(400, "application/json", `{"error":{"message":"Invalid Input Provided","code":2001,"errors":["Invalid service ids: PNOPE"]}}`),
			"pagerduty: list incidents: 400 Bad Request: Invalid Input Provided: Invalid service ids: PNOPE", 0},
		{"403", status(403, "application/json", `{"error":{"message":"Access Denied","code":2010}}`),
			"pagerduty: list incidents: 403 Forbidden: Access Denied", 0},
		{"404 not JSON", status(404, "text/html", `<h1>Not Found</h1>`),
			"pagerduty: list incidents: 404 Not Found", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, newWorld(services, incs))
			e.setIntercept(tc.intercept)
			err := e.collect(e.collector(nil, Options{}), collectors.Run{Since: end.Add(-30 * day)})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v\nwant %s…", err, tc.want)
			}
			stored, _, _ := e.sink.snapshot()
			if len(stored) != tc.stored {
				t.Errorf("%d stored, want %d", len(stored), tc.stored)
			}
		})
	}
}

// TestLogEntryErrors: a failing log-entry read fails the page (nothing of
// it is stored); an incident whose log is gone is stored without details.
func TestLogEntryErrors(t *testing.T) {
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 10, end.Add(-10*day), end.Add(-day), nil)
	e := newEnv(t, newWorld(services, incs), noAnalytics)
	e.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/incidents/Q000003/log_entries":
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusForbidden)
			rw.Write([]byte(`{"error":{"message":"Access Denied","code":2010}}`))
			return true
		}
		return false
	})
	err := e.collect(e.collector(nil, Options{}), collectors.Run{Since: end.Add(-30 * day)})
	if err == nil || err.Error() != "pagerduty: list log entries of Q000003: 403 Forbidden: Access Denied" {
		t.Fatalf("err %v", err)
	}
	if stored, _, _ := e.sink.snapshot(); len(stored) != 0 {
		t.Errorf("%d stored", len(stored))
	}

	e.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/incidents/Q000003/log_entries" {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusNotFound)
			rw.Write([]byte(`{"error":{"message":"Not Found","code":2100}}`))
			return true
		}
		return false
	})
	if err := e.collect(e.collector(nil, Options{}), collectors.Run{Since: end.Add(-30 * day)}); err != nil {
		t.Fatal(err)
	}
	stored, _, _ := e.sink.snapshot()
	got := stored["Q000003"]
	if got.Status != "resolved" || !got.AcknowledgedAt.IsZero() || got.Assignees != nil || got.ResolvedAt.IsZero() {
		t.Errorf("Q000003 %+v", got)
	}
	if len(stored) != 10 {
		t.Errorf("%d stored", len(stored))
	}
}

// TestUnsorted: should PagerDuty ever ignore sort_by, a window too full for
// the offset cap is split in halves; nothing is lost.
func TestUnsorted(t *testing.T) {
	if testing.Short() {
		t.Skip("10,400 incidents")
	}
	services := []string{"PSEARCH1"}
	incs := spread("Q", services, 10_400, end.Add(-100*day), end.Add(-day), func(i int, in *model.Incident) {
		if i%100 != 0 { // short log entries, for speed
			in.AcknowledgedAt, in.Assignees = time.Time{}, nil
		}
	})
	e := newEnv(t, newWorld(services, incs), noAnalytics)
	fake := NewFake(e.w, collectorstest.FakeOptions{Now: e.clk.Now})
	e.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/incidents" {
			return false
		}
		q := r.URL.Query()
		q.Set("sort_by", "created_at:desc")
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = q.Encode()
		fake.ServeHTTP(rw, r2)
		return true
	})
	since := end.Add(-150 * day)
	if err := e.collect(e.collector(nil, Options{Concurrency: 8}), collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, incs, since, end, end, 1)
	lists := countKinds(e.requests())["list"]
	k := e.served() // the list answers come from the reversing fake
	if k["log"] != len(incs) {
		t.Errorf("%d log reads for %d incidents", k["log"], len(incs))
	}
	t.Logf("list requests %d (100 up to the cap, then two halves re-read), log reads %d", lists, k["log"])
}

// TestCanceled: a canceled context ends the run with the context's error.
func TestCanceled(t *testing.T) {
	services := []string{"PSEARCH1"}
	e := newEnv(t, newWorld(services, spread("Q", services, 300, end.Add(-10*day), end.Add(-day), nil)))
	ctx, cancel := context.WithCancel(context.Background())
	e.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("offset") == "100" {
			cancel()
		}
		return false
	})
	prog := &collectorstest.Progress{}
	err := e.collector(nil, Options{}).Collect(ctx, collectors.Run{Since: end.Add(-30 * day), Now: end, Sink: e.sink, Progress: prog})
	if err == nil || !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "pagerduty: ") {
		t.Fatalf("err %v", err)
	}
	if total, done := prog.Counts(); total != done {
		t.Errorf("progress %d of %d", done, total)
	}
}

func TestNew(t *testing.T) {
	ok := Config{Token: "t", Services: []string{"P1"}}
	for _, tc := range []struct {
		name string
		src  func(s Config) Config
		opt  Options
		want string
	}{
		{"ok", func(s Config) Config { return s }, Options{}, ""},
		{"eu", func(s Config) Config {
			s.APIURL = "https://api.eu.pagerduty.com/"
			return s
		}, Options{}, ""},
		{"no token", func(s Config) Config { s.Token = " "; return s }, Options{}, "pagerduty: token is not set"},
		{"no services", func(s Config) Config { s.Services = nil; return s }, Options{}, "pagerduty: no services configured"},
		{"empty service", func(s Config) Config { s.Services = []string{"P1", ""}; return s }, Options{}, "pagerduty: a service id is empty"},
		{"bad url", func(s Config) Config { s.APIURL = "api.pagerduty.com"; return s }, Options{}, `pagerduty: api_url "api.pagerduty.com" is not an http(s) URL`},
		{"credentials", func(s Config) Config {
			s.APIURL = "https://u:p@api.pagerduty.com"
			return s
		}, Options{}, "must not carry credentials"},
		{"window too long", func(s Config) Config { return s }, Options{Window: 200 * day}, "pagerduty: window 4800h0m0s must be between"},
		{"window too short", func(s Config) Config { return s }, Options{Window: time.Minute}, "must be between"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.src(ok), tc.opt)
			if tc.want == "" {
				if err != nil || c.Name() != "pagerduty" {
					t.Fatalf("%v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %s", err, tc.want)
			}
		})
	}
	c, _ := New(Config{Token: "t", Services: []string{"P2", "P1", "P2", " P3 "}}, Options{})
	if !slices.Equal(c.Services(), []string{"P1", "P2", "P3"}) {
		t.Errorf("services %v", c.Services())
	}
}

// TestTrailingSlash: api_url with a trailing slash still reaches /incidents.
func TestTrailingSlash(t *testing.T) {
	services := []string{"PSEARCH1"}
	e := newEnv(t, newWorld(services, spread("Q", services, 3, end.Add(-3*day), end.Add(-day), nil)))
	c, err := New(Config{Token: testToken, APIURL: e.srv.URL + "/", Services: services}, Options{HTTPClient: e.httpClient()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.collect(c, collectors.Run{Since: end.Add(-10 * day)}); err != nil {
		t.Fatal(err)
	}
	for _, u := range e.requests() {
		if strings.HasPrefix(u.Path, "//") {
			t.Errorf("request to %s", u.Path)
		}
	}
}
