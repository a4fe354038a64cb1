package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

var testEnd = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

var demo = sync.OnceValue(func() *world.World { return world.Demo(testEnd) })

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

var pdEnd = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// pdWorld has one incident in each state at pdEnd, and one not yet created.
func pdWorld() *world.World {
	at := func(h float64) time.Time { return pdEnd.Add(time.Duration(h * float64(time.Hour))) }
	return &world.World{
		Start: pdEnd.Add(-90 * 24 * time.Hour), End: pdEnd,
		Services: []string{"PSEARCH1", "PCHECK1"}, PagerDutyUser: "PALICE1",
		Incidents: []model.Incident{
			{ID: "QRES001", Service: "PSEARCH1", Title: "search p99 high", Urgency: "high", CreatedAt: at(-50),
				AcknowledgedAt: at(-49.9), ResolvedAt: at(-49), Assignees: []string{"PALICE1", "PBOB001"}},
			{ID: "QACK001", Service: "PCHECK1", Title: "checkout errors", Urgency: "low", CreatedAt: at(-3),
				AcknowledgedAt: at(-2.5), ResolvedAt: at(5), Assignees: []string{"PBOB001"}},
			{ID: "QTRG001", Service: "PSEARCH1", Title: "disk full", CreatedAt: at(-1), Assignees: []string{"PALICE1"}},
			{ID: "QRES002", Service: "PSEARCH1", Title: "flap", Urgency: "low", CreatedAt: at(-2), ResolvedAt: at(-1.5)},
			{ID: "QFUT001", Service: "PSEARCH1", Title: "later", CreatedAt: at(2)},
		},
	}
}

func pdServe(t *testing.T, w *world.World, o collectorstest.FakeOptions) (*httptest.Server, *pd.Client) {
	t.Helper()
	srv := httptest.NewServer(NewFake(w, o))
	t.Cleanup(srv.Close)
	c := pd.NewClient("token", pd.WithAPIEndpoint(srv.URL))
	c.HTTPClient = srv.Client()
	return srv, c
}

func pdTime(t *testing.T, s string) time.Time {
	t.Helper()
	tt, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tt
}

func TestPagerDutyClient(t *testing.T) {
	_, c := pdServe(t, pdWorld(), collectorstest.FakeOptions{})
	ctx := context.Background()
	since := pdEnd.Add(-30 * 24 * time.Hour).Format(time.RFC3339)
	until := pdEnd.Format(time.RFC3339)

	all, err := c.ListIncidentsWithContext(ctx, pd.ListIncidentsOptions{Since: since, Until: until, Limit: 100, Total: true, TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range all.Incidents {
		ids = append(ids, in.ID)
	}
	if !slices.Equal(ids, []string{"QRES001", "QACK001", "QRES002", "QTRG001"}) || all.Total != 4 || all.More {
		t.Fatalf("listed %v total %d more %v", ids, all.Total, all.More)
	}
	byID := map[string]pd.Incident{}
	for _, in := range all.Incidents {
		byID[in.ID] = in
	}

	res := byID["QRES001"]
	if res.Status != "resolved" || len(res.Acknowledgements) != 0 || len(res.Assignments) != 0 ||
		res.ResolvedAt != "2026-03-02T09:00:00Z" || res.LastStatusChangeAt != res.ResolvedAt ||
		res.Service.ID != "PSEARCH1" || res.Urgency != "high" || res.Title != "search p99 high" ||
		res.HTMLURL != FakeHTMLBase+"/incidents/QRES001" || res.IncidentNumber != 1 {
		t.Errorf("resolved incident %+v", res)
	}
	ack := byID["QACK001"]
	if ack.Status != "acknowledged" || len(ack.Acknowledgements) != 1 || ack.Acknowledgements[0].At != "2026-03-04T07:30:00Z" ||
		ack.Acknowledgements[0].Acknowledger.ID != "PBOB001" || len(ack.Assignments) != 1 || ack.Assignments[0].Assignee.ID != "PBOB001" ||
		ack.ResolvedAt != "" || ack.Urgency != "low" {
		t.Errorf("acknowledged incident %+v", ack)
	}
	trg := byID["QTRG001"]
	if trg.Status != "triggered" || len(trg.Acknowledgements) != 0 || len(trg.Assignments) != 1 || trg.Urgency != "high" {
		t.Errorf("triggered incident %+v", trg)
	}

	// Filters: service, status, sort.
	some, err := c.ListIncidentsWithContext(ctx, pd.ListIncidentsOptions{Since: since, Until: until, ServiceIDs: []string{"PSEARCH1"},
		Statuses: []string{"triggered", "acknowledged"}, SortBy: "created_at:desc"})
	if err != nil || len(some.Incidents) != 1 || some.Incidents[0].ID != "QTRG001" {
		t.Errorf("filtered: %+v %v", some, err)
	}
	desc, err := c.ListIncidentsWithContext(ctx, pd.ListIncidentsOptions{Since: since, Until: until, SortBy: "created_at:desc"})
	if err != nil || len(desc.Incidents) != 4 || desc.Incidents[0].ID != "QTRG001" {
		t.Errorf("desc: %+v %v", desc, err)
	}

	// Paging: limit 3, then offset 3.
	p1, err := c.ListIncidentsWithContext(ctx, pd.ListIncidentsOptions{Since: since, Until: until, Limit: 3})
	if err != nil || len(p1.Incidents) != 3 || !p1.More || p1.Limit != 3 || p1.Total != 0 {
		t.Fatalf("page 1: %+v %v", p1.APIListObject, err)
	}
	p2, err := c.ListIncidentsWithContext(ctx, pd.ListIncidentsOptions{Since: since, Until: until, Limit: 3, Offset: 3})
	if err != nil || len(p2.Incidents) != 1 || p2.More || p2.Offset != 3 || p2.Incidents[0].ID != "QTRG001" {
		t.Fatalf("page 2: %+v %v", p2, err)
	}

	// One incident; one not created yet.
	got, err := c.GetIncidentWithContext(ctx, "QACK001")
	if err != nil || got.ID != "QACK001" || got.Status != "acknowledged" {
		t.Errorf("get: %+v %v", got, err)
	}
	var ae pd.APIError
	if _, err := c.GetIncidentWithContext(ctx, "QFUT001"); !errors.As(err, &ae) || !ae.NotFound() {
		t.Errorf("future incident: %v", err)
	}

	// Log entries of a resolved incident: the first acknowledgement and the
	// assignees are there, newest first.
	logs, err := c.ListIncidentLogEntriesWithContext(ctx, "QRES001", pd.ListIncidentLogEntriesOptions{Limit: 100, TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range logs.LogEntries {
		types = append(types, e.Type)
		switch e.Type {
		case "acknowledge_log_entry":
			if e.CreatedAt != "2026-03-02T08:06:00Z" || e.Agent.ID != "PALICE1" || e.Agent.Type != "user_reference" {
				t.Errorf("ack entry %+v", e)
			}
		case "assign_log_entry":
			if len(e.Assignees) != 2 || e.Assignees[0].ID != "PALICE1" || e.Assignees[1].ID != "PBOB001" {
				t.Errorf("assign entry %+v", e)
			}
		}
		if e.Incident.ID != "QRES001" {
			t.Errorf("entry of %q", e.Incident.ID)
		}
	}
	want := []string{"resolve_log_entry", "acknowledge_log_entry", "notify_log_entry", "notify_log_entry", "assign_log_entry", "trigger_log_entry"}
	if !slices.Equal(types, want) {
		t.Errorf("log entry types %v, want %v", types, want)
	}
	over, err := c.ListIncidentLogEntriesWithContext(ctx, "QRES001", pd.ListIncidentLogEntriesOptions{IsOverview: true})
	if err != nil || len(over.LogEntries) != 4 {
		t.Errorf("overview: %d entries, %v", len(over.LogEntries), err)
	}
	// Acknowledged, not yet resolved: no resolve entry.
	logs, err = c.ListIncidentLogEntriesWithContext(ctx, "QACK001", pd.ListIncidentLogEntriesOptions{})
	if err != nil || logs.LogEntries[0].Type != "acknowledge_log_entry" {
		t.Errorf("QACK001 log: %+v %v", logs, err)
	}
}

// TestPagerDutyClock: the status follows collectorstest.FakeOptions.Now.
func TestPagerDutyClock(t *testing.T) {
	var mu sync.Mutex
	now := pdEnd
	_, c := pdServe(t, pdWorld(), collectorstest.FakeOptions{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	get := func(id string) string {
		in, err := c.GetIncidentWithContext(context.Background(), id)
		if err != nil {
			return err.Error()
		}
		return in.Status
	}
	if s := get("QACK001"); s != "acknowledged" {
		t.Errorf("at end: %s", s)
	}
	mu.Lock()
	now = pdEnd.Add(6 * time.Hour)
	mu.Unlock()
	if s := get("QACK001"); s != "resolved" {
		t.Errorf("later: %s", s)
	}
	if s := get("QFUT001"); s != "triggered" {
		t.Errorf("future, later: %s", s)
	}
}

func TestPagerDutyBadRequests(t *testing.T) {
	srv, _ := pdServe(t, pdWorld(), collectorstest.FakeOptions{})
	for _, tc := range []struct {
		query  string
		status int
		msg    string
	}{
		{"since=2025-01-01T00:00:00Z&until=2025-07-02T00:00:00Z", 400, "6 months"},
		{"since=2025-01-01T00:00:00Z&until=2025-07-01T00:00:00Z", 200, ""},
		{"since=2025-09-01T00:00:00Z&until=2026-03-01T00:00:00Z", 200, ""}, // 181 days, one 6-month span
		{"since=2026-03-01T00:00:00Z&until=2026-02-01T00:00:00Z", 400, "before until"},
		{"offset=9900&limit=100", 200, ""},
		{"offset=9901&limit=100", 400, "10000"},
		{"offset=9990", 400, "10000"}, // default limit 25
		{"offset=-1", 400, "Offset"},
		{"limit=0", 400, "Limit"},
		{"statuses[]=open", 400, "Statuses"},
		{"sort_by=title", 400, "Sort"},
		{"time_zone=Mars/Olympus", 400, "zone"},
		{"since=yesterday", 400, "Since"},
		{"date_range=all&since=2000-01-01T00:00:00Z", 200, ""},
	} {
		resp, body := pdRaw(t, srv.URL+"/incidents?"+tc.query, "Token token=x")
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s", tc.query, resp.StatusCode, body)
			continue
		}
		if tc.status == 400 {
			var e pdErrorBody
			if json.Unmarshal(body, &e) != nil || e.Error.Code != 2001 || e.Error.Message != "Invalid Input Provided" ||
				len(e.Error.Errors) != 1 || !strings.Contains(e.Error.Errors[0], tc.msg) {
				t.Errorf("%s: body %s", tc.query, body)
			}
		}
	}
	// A limit above 100 is cut to 100.
	_, body := pdRaw(t, srv.URL+"/incidents?limit=500", "Token token=x")
	var l struct{ Limit int }
	if json.Unmarshal(body, &l); l.Limit != 100 {
		t.Errorf("limit 500 → %d", l.Limit)
	}
	// Unknown routes and incidents: PagerDuty's 404.
	for _, path := range []string{"/services", "/incidents/NOPE", "/incidents/NOPE/log_entries"} {
		resp, body := pdRaw(t, srv.URL+path, "Token token=x")
		if resp.StatusCode != 404 || !strings.Contains(string(body), `"code":2100`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func pdRaw(t *testing.T, rawURL, auth string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// TestPagerDutyTimeZone: times come in the requested zone, with offsets.
func TestPagerDutyTimeZone(t *testing.T) {
	srv, _ := pdServe(t, pdWorld(), collectorstest.FakeOptions{})
	_, body := pdRaw(t, srv.URL+"/incidents/QRES001?time_zone=America/New_York", "Token token=x")
	var v struct {
		Incident struct {
			CreatedAt  string `json:"created_at"`
			ResolvedAt string `json:"resolved_at"`
		} `json:"incident"`
	}
	json.Unmarshal(body, &v)
	if v.Incident.CreatedAt != "2026-03-02T03:00:00-05:00" || !pdTime(t, v.Incident.ResolvedAt).Equal(pdEnd.Add(-49*time.Hour)) {
		t.Errorf("%s", body)
	}
	// since without an offset is read in the requested zone.
	_, body = pdRaw(t, srv.URL+"/incidents?time_zone=America/New_York&since=2026-03-02T03:00:00&until=2026-03-02T03:00:01", "Token token=x")
	if !strings.Contains(string(body), `"QRES001"`) {
		t.Errorf("zone-less since: %s", body)
	}
}

func TestPagerDutyAuthAndRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := pdEnd
	counter := &collectorstest.Counter{}
	srv, _ := pdServe(t, pdWorld(), collectorstest.FakeOptions{Counter: counter, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	for _, auth := range []string{"", "Token token=", "Basic abc", "token"} {
		resp, body := pdRaw(t, srv.URL+"/incidents", auth)
		if resp.StatusCode != 401 || string(body) != `{"error":{"message":"Unauthenticated","code":2006}}` {
			t.Errorf("auth %q: %d %s", auth, resp.StatusCode, body)
		}
	}
	resp, _ := pdRaw(t, srv.URL+"/incidents", "Bearer oauth-token")
	if resp.StatusCode != 200 {
		t.Errorf("OAuth: %d", resp.StatusCode)
	}
	for i := 2; i <= FakeRateLimit; i++ {
		resp, _ = pdRaw(t, srv.URL+"/incidents/QRES001", "Token token=x")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if resp.Header.Get("Ratelimit-Remaining") != "0" || resp.Header.Get("Ratelimit-Limit") != "960" || resp.Header.Get("Ratelimit-Reset") != "60" {
		t.Errorf("last allowed: %v", resp.Header)
	}
	resp, body := pdRaw(t, srv.URL+"/incidents", "Token token=x")
	if resp.StatusCode != 429 || string(body) != `{"error":{"message":"Rate Limit Exceeded","code":2020}}` ||
		resp.Header.Get("Retry-After") != "" || resp.Header.Get("Ratelimit-Remaining") != "0" {
		t.Errorf("over the limit: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	resp, _ = pdRaw(t, srv.URL+"/incidents", "Token token=x")
	if resp.StatusCode != 200 || resp.Header.Get("Ratelimit-Remaining") != strconv.Itoa(FakeRateLimit-1) {
		t.Errorf("next minute: %d %v", resp.StatusCode, resp.Header)
	}
	snap := counter.Snapshot()
	if snap[collectorstest.CountKey{Vendor: "pagerduty", Pattern: "GET /incidents", Status: 429}] != 1 || snap[collectorstest.CountKey{Vendor: "pagerduty", Pattern: "GET /incidents", Status: 401}] != 4 ||
		snap[collectorstest.CountKey{Vendor: "pagerduty", Pattern: "GET /incidents/{id}", Status: 200}] != FakeRateLimit-1 {
		t.Errorf("counter:\n%s", counter)
	}
}

func TestPagerDutyFault(t *testing.T) {
	var mu sync.Mutex
	code := 0
	srv, c := pdServe(t, pdWorld(), collectorstest.FakeOptions{Fault: func(r *http.Request) int { mu.Lock(); defer mu.Unlock(); return code }})
	set := func(n int) { mu.Lock(); code = n; mu.Unlock() }
	for _, tc := range []struct {
		code       int
		body       string
		retryAfter string
		reset      string
	}{
		{429, `{"error":{"message":"Rate Limit Exceeded","code":2020}}`, "", "1"},
		{503, `{"error":{"message":"Service Unavailable","code":2000}}`, "1", ""},
		{500, `{"error":{"message":"Internal Error","code":2000}}`, "", ""},
		{401, `{"error":{"message":"Unauthenticated","code":2006}}`, "", ""},
	} {
		set(tc.code)
		resp, body := pdRaw(t, srv.URL+"/incidents", "Token token=x")
		if resp.StatusCode != tc.code || string(body) != tc.body || resp.Header.Get("Retry-After") != tc.retryAfter ||
			resp.Header.Get("Ratelimit-Reset") != tc.reset {
			t.Errorf("fault %d: %d %v %s", tc.code, resp.StatusCode, resp.Header, body)
		}
	}
	// go-pagerduty reads the faults as APIErrors.
	set(429)
	_, err := c.ListIncidentsWithContext(context.Background(), pd.ListIncidentsOptions{})
	var ae pd.APIError
	if !errors.As(err, &ae) || !ae.RateLimited() || ae.APIError.ErrorObject.Code != 2020 {
		t.Errorf("429 as %v", err)
	}
	set(0)
	if resp, _ := pdRaw(t, srv.URL+"/incidents", "Token token=x"); resp.StatusCode != 200 {
		t.Errorf("after the faults: %d", resp.StatusCode)
	}
}

// TestPagerDutyDemo: the demo world is served as it stands (its incidents,
// if any, all listed once over windows of six months at most).
func TestPagerDutyDemo(t *testing.T) {
	w := demo()
	_, c := pdServe(t, w, collectorstest.FakeOptions{})
	want := 0
	for _, in := range w.Incidents {
		if !in.CreatedAt.After(w.End) {
			want++
		}
	}
	got := 0
	for from := w.End.AddDate(-2, 0, 0); from.Before(w.End); from = from.AddDate(0, 6, 0) {
		until := from.AddDate(0, 6, 0)
		if until.After(w.End) {
			until = w.End.Add(time.Second)
		}
		for offset := uint(0); ; offset += 100 {
			resp, err := c.ListIncidentsWithContext(context.Background(), pd.ListIncidentsOptions{
				Since: from.Format(time.RFC3339), Until: until.Format(time.RFC3339), Limit: 100, Offset: offset})
			if err != nil {
				t.Fatal(err)
			}
			got += len(resp.Incidents)
			if !resp.More {
				break
			}
		}
	}
	if got != want {
		t.Errorf("listed %d of the demo's %d incidents", got, want)
	}
}
