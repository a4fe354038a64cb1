package pagerduty

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

func pdAnalyticsPost(t *testing.T, url, body string) (int, pdAnalyticsResponse, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/analytics/raw/incidents", strings.NewReader(body))
	req.Header.Set("Authorization", "Token token=x")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	json.NewDecoder(resp.Body).Decode(&raw)
	var out pdAnalyticsResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, out, string(raw)
}

// TestPagerDutyAnalytics: the resolved incidents of the range and services,
// in created_at order with cursor pagination, as documented; 403 and lag
// options; bad requests answer 400.
func TestPagerDutyAnalytics(t *testing.T) {
	w := pdWorld()
	counter := &collectorstest.Counter{}
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{Counter: counter}))
	defer srv.Close()
	rng := fmt.Sprintf(`"created_at_start": %q, "created_at_end": %q`, pdEnd.Add(-60*time.Hour).Format(time.RFC3339), pdEnd.Format(time.RFC3339))

	code, resp, raw := pdAnalyticsPost(t, srv.URL, `{"filters": {`+rng+`, "service_ids": ["PSEARCH1"]}, "limit": 1, "order": "asc", "order_by": "created_at", "time_zone": "Etc/UTC"}`)
	if code != 200 || len(resp.Data) != 1 || resp.Data[0].ID != "QRES001" || !resp.More || *resp.Last != "QRES001" {
		t.Fatalf("%d %s", code, raw)
	}
	d := resp.Data[0]
	if d.CreatedAt != pdEnd.Add(-50*time.Hour).Format("2006-01-02T15:04:05") || *d.SecondsToFirstAck != 360 ||
		strings.Join(d.AssignedUserIDs, ",") != "PALICE1,PBOB001" || strings.Join(d.AcknowledgedUserIDs, ",") != "PALICE1" ||
		*d.SecondsToResolve != 3600 || d.Status != "resolved" || !strings.Contains(raw, `"total_interruptions\""`) {
		t.Errorf("%s", raw)
	}
	code, resp, raw = pdAnalyticsPost(t, srv.URL, `{"filters": {`+rng+`, "service_ids": ["PSEARCH1"]}, "limit": 1, "order": "asc", "starting_after": "QRES001"}`)
	if code != 200 || len(resp.Data) != 1 || resp.Data[0].ID != "QRES002" || resp.More || d.SecondsToFirstAck == nil ||
		resp.Data[0].SecondsToFirstAck != nil || len(resp.Data[0].AssignedUserIDs) != 0 {
		t.Fatalf("%d %s", code, raw)
	}
	// Open incidents and other services are not there.
	code, resp, raw = pdAnalyticsPost(t, srv.URL, `{"filters": {`+rng+`, "service_ids": ["PCHECK1"]}, "limit": 1000}`)
	if code != 200 || len(resp.Data) != 0 || resp.More {
		t.Errorf("%d %s", code, raw)
	}
	for _, bad := range []string{
		`{"filters": {` + rng + `}, "limit": 1001}`,
		`{"filters": {}, "limit": 10}`,
		`{"filters": {"created_at_start": "2024-01-01T00:00:00Z", "created_at_end": "2026-01-01T00:00:00Z"}}`,
		`{"filters": {` + rng + `}, "starting_after": "NOPE"}`,
		`not json`,
	} {
		if code, _, raw := pdAnalyticsPost(t, srv.URL, bad); code != 400 || !strings.Contains(raw, "2001") {
			t.Errorf("%s: %d %s", bad, code, raw)
		}
	}
	if n := counter.Snapshot()[collectorstest.CountKey{Vendor: "pagerduty", Pattern: "POST /analytics/raw/incidents", Status: 200}]; n != 3 {
		t.Errorf("counted %d", n)
	}

	denied := httptest.NewServer(NewFakeWith(w, collectorstest.FakeOptions{}, FakeOptions{AnalyticsStatus: 403}))
	defer denied.Close()
	if code, _, raw := pdAnalyticsPost(t, denied.URL, `{"filters": {`+rng+`}}`); code != 403 || !strings.Contains(raw, "2010") {
		t.Errorf("%d %s", code, raw)
	}
	// QRES002 resolved 1.5 hours before now: not there with a 2-hour lag.
	lag := httptest.NewServer(NewFakeWith(w, collectorstest.FakeOptions{}, FakeOptions{AnalyticsLag: 2 * time.Hour}))
	defer lag.Close()
	if code, resp, raw := pdAnalyticsPost(t, lag.URL, `{"filters": {`+rng+`}, "order": "asc"}`); code != 200 || len(resp.Data) != 1 || resp.Data[0].ID != "QRES001" {
		t.Errorf("%d %s", code, raw)
	}
}

// TestPagerDutyAnalyticsPages: 2,500 incidents come in three pages of
// 1,000, each once.
func TestPagerDutyAnalyticsPages(t *testing.T) {
	w := &world.World{Start: pdEnd.Add(-100 * 24 * time.Hour), End: pdEnd, Services: []string{"PSEARCH1"}}
	for i := range 2500 {
		at := pdEnd.Add(-time.Duration(2500-i) * time.Hour / 2)
		w.Incidents = append(w.Incidents, model.Incident{ID: fmt.Sprintf("Q%05d", i), Service: "PSEARCH1", CreatedAt: at, ResolvedAt: at.Add(time.Minute)})
	}
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		sa := ""
		if after != "" {
			sa = fmt.Sprintf(`, "starting_after": %q`, after)
		}
		code, resp, raw := pdAnalyticsPost(t, srv.URL, fmt.Sprintf(`{"filters": {"created_at_start": %q, "created_at_end": %q}, "limit": 1000, "order": "asc"%s}`,
			w.Start.Format(time.RFC3339), pdEnd.Format(time.RFC3339), sa))
		if code != 200 {
			t.Fatalf("%d %s", code, raw)
		}
		pages++
		for _, d := range resp.Data {
			if seen[d.ID] {
				t.Fatalf("%s twice", d.ID)
			}
			seen[d.ID] = true
		}
		if !resp.More {
			break
		}
		after = *resp.Last
	}
	if pages != 3 || len(seen) != 2500 {
		t.Errorf("%d pages, %d incidents", pages, len(seen))
	}
}
