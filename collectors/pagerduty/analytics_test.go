package pagerduty

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/internal/model"
)

// TestDocumentedAnalytics: the documented example parses, and completes a
// resolved incident as documented.
func TestDocumentedAnalytics(t *testing.T) {
	var resp anResponse
	if err := json.Unmarshal(readFixture(t, "analytics_raw_incidents.json"), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 2 || !resp.More || resp.Last == nil || *resp.Last != "PCOOHCY" || resp.First == nil || *resp.First != "PYC0H08" {
		t.Fatalf("%+v", resp)
	}
	a := resp.Data[0]
	if a.ID != "PYC0H08" || a.ServiceID != "PPSCXAN" || !a.usable() || a.Urgency != "low" || a.Description != "The server is on fire!" {
		t.Errorf("%+v", a)
	}
	created, err := parseTime(a.CreatedAt)
	if err != nil || !created.Equal(time.Date(2023, 5, 31, 10, 5, 0, 0, time.UTC)) {
		t.Fatalf("created_at %q: %v %v", a.CreatedAt, created, err)
	}
	m := a.apply(model.Incident{ID: a.ID, Status: "resolved", CreatedAt: created})
	if !m.AcknowledgedAt.Equal(created.Add(5*time.Second)) || !m.ResolvedAt.Equal(time.Date(2023, 5, 31, 10, 15, 0, 0, time.UTC)) ||
		strings.Join(m.Assignees, ",") != "PA02301,PRJ4208" {
		t.Errorf("applied: %+v", m)
	}
	// The second example's resolved_at precedes its created_at: the
	// duration is used instead.
	b := resp.Data[1]
	created, _ = parseTime(b.CreatedAt)
	m = b.apply(model.Incident{ID: b.ID, Status: "resolved", CreatedAt: created})
	if !m.ResolvedAt.Equal(created.Add(2029*time.Second)) || !m.AcknowledgedAt.Equal(created.Add(48*time.Second)) {
		t.Errorf("applied: %+v", m)
	}
}

// TestAnalyticsRequest: the request carries the documented body and
// headers.
func TestAnalyticsRequest(t *testing.T) {
	services := []string{"PCHECK1", "PSEARCH1"}
	incs := spread("Q", services, 20, end.Add(-10*day), end.Add(-day), nil)
	e := newEnv(t, newWorld(services, incs))
	var got []*http.Request
	var bodies [][]byte
	e.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/analytics/raw/incidents" {
			var buf bytes.Buffer
			buf.ReadFrom(r.Body)
			r.Body.Close()
			got = append(got, r.Clone(r.Context()))
			bodies = append(bodies, buf.Bytes())
			r.Body = io.NopCloser(bytes.NewReader(buf.Bytes())) // the fake answers
		}
		return false
	})
	if err := e.collect(e.collector(nil, Options{}), collectors.Run{Since: end.Add(-30 * day)}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, incs, end.Add(-30*day), end, end, 1)
	if len(got) != 1 {
		t.Fatalf("%d analytics requests", len(got))
	}
	r := got[0]
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Token token="+testToken ||
		r.Header.Get("Accept") != "application/vnd.pagerduty+json;version=2" || r.Header.Get("X-EARLY-ACCESS") != "analytics-v2" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("request %s %v", r.Method, r.Header)
	}
	var body map[string]any
	if err := json.Unmarshal(bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	f, _ := body["filters"].(map[string]any)
	if f["created_at_start"] != end.Add(-30*day).Format(time.RFC3339) || f["created_at_end"] != end.Format(time.RFC3339) ||
		body["limit"] != float64(1000) || body["order"] != "asc" || body["order_by"] != "created_at" || body["time_zone"] != "Etc/UTC" {
		t.Errorf("body %s", bodies[0])
	}
}

// TestAnalyticsDenied: an account without analytics (403) gets the log
// entries of every resolved incident, the same incidents, one info line,
// and no analytics request on the next polls.
func TestAnalyticsDenied(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound} {
		services := []string{"PCHECK1", "PSEARCH1"}
		incs := spread("Q", services, 50, end.Add(-10*day), end.Add(-day), nil)
		e := newEnv(t, newWorld(services, incs), FakeOptions{AnalyticsStatus: status})
		var logs bytes.Buffer
		c := e.collector(nil, Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		since := end.Add(-30 * day)
		if err := e.collect(c, collectors.Run{Since: since}); err != nil {
			t.Fatal(err)
		}
		checkStored(t, e.sink, incs, since, end, end, 1)
		if k := countKinds(e.requests()); k["analytics"] != 1 || k["log"] != len(incs) {
			t.Errorf("%d: requests %v", status, k)
		}
		e.clk.Set(end.Add(time.Hour))
		if err := e.collect(c, collectors.Run{Since: since, Backfill: true}); err != nil {
			t.Fatal(err)
		}
		if k := countKinds(e.requests()); k["analytics"] != 0 {
			t.Errorf("%d: second poll requests %v", status, k)
		}
		if n := strings.Count(logs.String(), "analytics API is not available"); n != 1 {
			t.Errorf("%d: logged %d times:\n%s", status, n, logs.String())
		}
	}
}

// TestAnalyticsLag: incidents resolved shortly before a poll are not in
// the analytics data yet: they are stored resolved as listed, kept in the
// cursor's pending list, and completed on a later poll from analytics;
// one still missing PendingMax after its resolve is read from its log
// entries.
func TestAnalyticsLag(t *testing.T) {
	services := []string{"PCHECK1", "PSEARCH1"}
	old := spread("A", services, 30, end.Add(-10*day), end.Add(-day), nil)
	// Resolved 40 minutes after creation: 20 to 60 minutes before end.
	fresh := spread("F", services, 4, end.Add(-100*time.Minute), end.Add(-60*time.Minute), nil)
	all := append(old, fresh...)
	e := newEnv(t, newWorld(services, all), FakeOptions{AnalyticsLag: 90 * time.Minute})
	c := e.collector(nil, Options{})
	since := end.Add(-30 * day)
	if err := e.collect(c, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	got, _, _ := e.sink.snapshot()
	for _, in := range fresh {
		g := got[in.ID]
		if g.Status != "resolved" || !g.ResolvedAt.Equal(in.ResolvedAt) || !g.AcknowledgedAt.IsZero() || g.Assignees != nil {
			t.Errorf("%s stored %+v, want resolved without details yet", in.ID, g)
		}
	}
	for _, in := range old {
		if w := want(in, end); !incidentEqual(got[in.ID], w) {
			t.Errorf("%s:\n got %+v\nwant %+v", in.ID, got[in.ID], w)
		}
	}
	cur := e.sink.cursor(t)
	if len(cur.Pending) != len(fresh) {
		t.Fatalf("pending %+v", cur.Pending)
	}
	if k := countKinds(e.requests()); k["log"] != 0 || k["analytics"] != 1 {
		t.Errorf("first poll requests %v", k)
	}

	// An hour later analytics has them: one analytics page completes them.
	e.clk.Set(end.Add(time.Hour))
	e.sink.resetCommits()
	if err := e.collect(c, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e.sink, all, since, end.Add(time.Hour), end.Add(time.Hour), 1)
	if cur := e.sink.cursor(t); len(cur.Pending) != 0 {
		t.Errorf("pending after the second poll %+v", cur.Pending)
	}
	if k := countKinds(e.requests()); k["log"] != 0 || k["analytics"] != 1 || k["list"] != 1 {
		t.Errorf("second poll requests %v", k)
	}

	// Analytics that never catches up: after PendingMax, the log entries.
	e2 := newEnv(t, newWorld(services, all), FakeOptions{AnalyticsLag: 1000 * time.Hour})
	c2 := e2.collector(nil, Options{})
	if err := e2.collect(c2, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	if cur := e2.sink.cursor(t); len(cur.Pending) != len(fresh) {
		t.Fatalf("pending %+v", cur.Pending)
	}
	e2.requests()
	e2.clk.Set(end.Add(PendingMax))
	if err := e2.collect(c2, collectors.Run{Since: since}); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e2.sink, all, since, end, end.Add(PendingMax), 0)
	if cur := e2.sink.cursor(t); len(cur.Pending) != 0 {
		t.Errorf("pending %+v", cur.Pending)
	}
	if k := countKinds(e2.requests()); k["log"] != len(fresh) {
		t.Errorf("third poll requests %v", k)
	}
}
