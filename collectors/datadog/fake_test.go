package datadog

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

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

type ddResp struct {
	Status   string `json:"status"`
	ResType  string `json:"res_type"`
	Query    string `json:"query"`
	FromDate int64  `json:"from_date"`
	ToDate   int64  `json:"to_date"`
	GroupBy  []any  `json:"group_by"`
	Message  string `json:"message"`
	Series   []struct {
		Metric      string         `json:"metric"`
		DisplayName string         `json:"display_name"`
		Pointlist   [][]*float64   `json:"pointlist"`
		Start       int64          `json:"start"`
		End         int64          `json:"end"`
		Interval    int64          `json:"interval"`
		Length      int            `json:"length"`
		Scope       string         `json:"scope"`
		Expression  string         `json:"expression"`
		Unit        []any          `json:"unit"`
		QueryIndex  int            `json:"query_index"`
		Aggr        *string        `json:"aggr"`
		TagSet      []string       `json:"tag_set"`
		Attributes  map[string]any `json:"attributes"`
	} `json:"series"`
	Errors []string `json:"errors"`
}

var keys = []string{"DD-API-KEY", "k", "DD-APPLICATION-KEY", "a"}

func ddQuery(t *testing.T, base, q string, from, to time.Time) (ddResp, []byte, int) {
	t.Helper()
	v := url.Values{"query": {q}, "from": {strconv.FormatInt(from.Unix(), 10)}, "to": {strconv.FormatInt(to.Unix(), 10)}}
	resp, body := get(t, base+"/api/v1/query?"+v.Encode(), keys...)
	var r ddResp
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return r, body, resp.StatusCode
}

func TestDatadogAuth(t *testing.T) {
	srv := httptest.NewServer(NewFake(demo(), collectorstest.FakeOptions{}))
	defer srv.Close()
	u := srv.URL + "/api/v1/query?from=0&to=3600&query=" + url.QueryEscape(demo().Metrics[0].Query)
	for _, hdr := range [][]string{nil, {"DD-API-KEY", "k"}, {"DD-APPLICATION-KEY", "a"}} {
		resp, body := get(t, u, hdr...)
		var r ddResp
		json.Unmarshal(body, &r)
		if resp.StatusCode != 403 || !slices.Equal(r.Errors, []string{"Forbidden"}) {
			t.Errorf("headers %v: %d %s", hdr, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, u, keys...); resp.StatusCode != 200 {
		t.Errorf("with keys: %d", resp.StatusCode)
	}
}

func TestDatadogQueryMatching(t *testing.T) {
	w := demo()
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	from, to := w.End.Add(-48*time.Hour), w.End
	for _, m := range w.Metrics {
		if m.Source != "datadog" {
			continue // served by the fake Prometheus
		}
		for _, q := range []string{
			m.Query,
			m.Query + ".rollup(avg, 3600)",
			m.Query + ".rollup(avg,3600)",
			" " + m.Query + " .rollup( avg , 3600 ) ",
			m.Query + ".rollup(max)",
		} {
			r, _, status := ddQuery(t, srv.URL, q, from, to)
			if status != 200 || r.Status != "ok" || r.ResType != "time_series" || len(r.Series) != 1 {
				t.Errorf("%s %q: %d %+v", m.ID, q, status, r)
				continue
			}
			s := r.Series[0]
			if s.Interval != 3600 || s.Length != len(s.Pointlist) || s.Length != 48 || r.Query != q ||
				r.FromDate != from.Unix()*1000 || r.ToDate != to.Unix()*1000 || s.Metric == "" || s.Scope == "" || s.QueryIndex != 0 {
				t.Errorf("%s %q: series %+v", m.ID, q, s)
			}
		}
	}
	for _, q := range []string{
		"avg:system.cpu.idle{*}",
		"p99:trace.http.request.duration{service:search-api,env:staging}",
		"p99:trace.http.request.duration{service:search-api,env:prod}.rollup(avg, 3600).as_count()",
	} {
		r, body, status := ddQuery(t, srv.URL, q, from, to)
		if status != 200 || r.Status != "ok" || r.Series == nil || len(r.Series) != 0 {
			t.Errorf("%q: %d %s", q, status, body)
		}
	}
	// Shape details of a known metric.
	r, body, _ := ddQuery(t, srv.URL, "p99:trace.http.request.duration{service:search-api,env:prod}.rollup(avg, 3600)", from, to)
	s := r.Series[0]
	if s.Metric != "trace.http.request.duration" || s.Scope != "service:search-api,env:prod" || s.Aggr == nil || *s.Aggr != "p99" ||
		!slices.Equal(s.TagSet, []string{"service:search-api", "env:prod"}) || len(s.Unit) != 2 || s.Unit[1] != nil {
		t.Errorf("shape: %s", body)
	}
}

func TestDatadogBadRequests(t *testing.T) {
	srv := httptest.NewServer(NewFake(demo(), collectorstest.FakeOptions{}))
	defer srv.Close()
	for _, q := range []string{
		"from=1&to=2",
		"query=x&to=2",
		"query=x&from=1",
		"query=x&from=abc&to=2",
		"query=x&from=5&to=2",
	} {
		resp, body := get(t, srv.URL+"/api/v1/query?"+q, keys...)
		var r ddResp
		json.Unmarshal(body, &r)
		if resp.StatusCode != 400 || len(r.Errors) != 1 {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
}

func TestDatadogRange(t *testing.T) {
	w := demo()
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	m := w.Metrics[0]
	truth := w.Series[m.ID]
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"inclusive both ends", w.End.Add(-10 * time.Hour), w.End.Add(-time.Hour), 10},
		{"unaligned", w.End.Add(-10*time.Hour + 30*time.Minute), w.End.Add(-90 * time.Minute), 8},
		{"one point", w.End.Add(-5 * time.Hour), w.End.Add(-5 * time.Hour), 1},
		{"inside one hour", w.End.Add(-5*time.Hour + time.Minute), w.End.Add(-4*time.Hour - time.Minute), 0},
		{"before start", w.Start.Add(-100 * time.Hour), w.Start.Add(-time.Hour), 0},
		{"straddles start", w.Start.Add(-100 * time.Hour), w.Start.Add(4 * time.Hour), 5},
		{"beyond end", w.End.Add(-2 * time.Hour), w.End.Add(100 * time.Hour), 2},
		{"everything", w.Start.Add(-time.Hour), w.End, len(truth)},
	} {
		r, _, status := ddQuery(t, srv.URL, m.Query+".rollup(avg, 3600)", tc.from, tc.to)
		if status != 200 {
			t.Fatalf("%s: %d", tc.name, status)
		}
		n := 0
		if len(r.Series) == 1 {
			n = len(r.Series[0].Pointlist)
		}
		if n != tc.want {
			t.Errorf("%s: %d points, want %d", tc.name, n, tc.want)
			continue
		}
		if n == 0 {
			continue
		}
		s := r.Series[0]
		for i, p := range s.Pointlist {
			ts := int64(*p[0])
			if ts < tc.from.Unix()*1000 || ts > tc.to.Unix()*1000 || ts%3600000 != 0 {
				t.Errorf("%s: point %d at %d outside range", tc.name, i, ts)
			}
			if i > 0 && ts != int64(*s.Pointlist[i-1][0])+3600000 {
				t.Errorf("%s: gap at %d", tc.name, i)
			}
		}
		if s.Start != int64(*s.Pointlist[0][0]) || s.End != int64(*s.Pointlist[n-1][0])+3599000 {
			t.Errorf("%s: start/end %d %d", tc.name, s.Start, s.End)
		}
	}
}

// TestDatadogValues: the served values are the world's truth, with a few
// deterministic nulls and a mix of integer and float timestamps.
func TestDatadogValues(t *testing.T) {
	w := demo()
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	for _, m := range w.Metrics {
		if m.Source != "datadog" {
			continue // served by the fake Prometheus
		}
		r, body, _ := ddQuery(t, srv.URL, m.Query+".rollup(avg, 3600)", w.Start, w.End)
		truth := w.Series[m.ID]
		pl := r.Series[0].Pointlist
		if len(pl) != len(truth) {
			t.Fatalf("%s: %d points, %d samples", m.ID, len(pl), len(truth))
		}
		nulls := 0
		for i, p := range pl {
			if p[1] == nil {
				nulls++
				if !FakeNullAt(m.ID, truth[i].Time) {
					t.Errorf("%s: unexpected null", m.ID)
				}
				continue
			}
			if *p[1] != truth[i].Value || int64(*p[0]) != truth[i].Time.UnixMilli() {
				t.Errorf("%s: point %d = %v,%v want %v", m.ID, i, *p[0], *p[1], truth[i])
			}
		}
		if nulls < 10 || nulls > len(pl)/20 {
			t.Errorf("%s: %d nulls in %d points", m.ID, nulls, len(pl))
		}
		text := string(body)
		if !strings.Contains(text, "000.0,") || !strings.Contains(text, ",null]") || !strings.Contains(text, `[`+strconv.FormatInt(truth[1].Time.UnixMilli(), 10)+`,`) &&
			!strings.Contains(text, `[`+strconv.FormatInt(truth[2].Time.UnixMilli(), 10)+`,`) {
			t.Errorf("%s: want float and integer timestamps and nulls", m.ID)
		}
	}
}

// TestDemoServedLevels is the end-to-end sanity of the demo world as the
// collector sees it: medians of the served (non-null) samples over the
// drafter's windows match the expected true levels within 3%.
func TestDemoServedLevels(t *testing.T) {
	for _, end := range []time.Time{testEnd, testEnd.AddDate(0, 0, 3).Add(7 * time.Hour), testEnd.AddDate(0, 0, 5)} {
		w := world.Demo(end)
		srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
		for _, e := range w.Expect {
			m, ok := w.Metric(e.Metric)
			if !ok || m.Source != "datadog" {
				continue // a built-in series (PagerDuty, CI) or a Prometheus metric
			}
			var first, last time.Time
			for _, k := range e.PRs {
				p, _ := w.PR(k)
				if first.IsZero() || p.MergedAt.Before(first) {
					first = p.MergedAt
				}
				if p.MergedAt.After(last) {
					last = p.MergedAt
				}
			}
			var shift world.Shift
			for _, s := range w.Shifts {
				if s.Metric == e.Metric {
					shift = s
				}
			}
			if d := shift.At.Sub(first); d < time.Hour || d > 6*time.Hour {
				t.Errorf("%s: first cause %v before the shift", e.Metric, d)
			}
			r, _, _ := ddQuery(t, srv.URL, m.Query+".rollup(avg, 3600)", w.Start, w.End)
			var served []model.Sample
			for _, p := range r.Series[0].Pointlist {
				if p[0] != nil && p[1] != nil {
					served = append(served, model.Sample{Time: time.UnixMilli(int64(*p[0])).UTC(), Value: *p[1]})
				}
			}
			before, nb := world.WindowMedian(served, first.Add(-7*24*time.Hour), first)
			after, na := world.WindowMedian(served, last.Add(24*time.Hour), last.Add(8*24*time.Hour))
			if nb < 150 || na < 150 {
				t.Errorf("%s: windows hold %d and %d served points", e.Metric, nb, na)
			}
			if math.Abs(before/e.Before-1) > 0.03 || math.Abs(after/e.After-1) > 0.03 {
				t.Errorf("%s: served medians %.4g → %.4g, expected %.4g → %.4g", e.Metric, before, after, e.Before, e.After)
			}
			if !last.Add(8 * 24 * time.Hour).Before(w.End) {
				t.Errorf("%s: after window incomplete", e.Metric)
			}
		}
		srv.Close()
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(NewFake(demo(), collectorstest.FakeOptions{RateLimit: 2, Now: func() time.Time { return now }}))
	defer srv.Close()
	u := srv.URL + "/api/v1/query?from=0&to=1&query=x"
	resp, _ := get(t, u, keys...)
	h := resp.Header
	if h.Get("X-Ratelimit-Limit") != "2" || h.Get("X-Ratelimit-Remaining") != "1" || h.Get("X-Ratelimit-Period") != "3600" ||
		h.Get("X-Ratelimit-Reset") != "3600" || h.Get("X-Ratelimit-Name") != "query" {
		t.Errorf("headers %v", h)
	}
	now = now.Add(10 * time.Minute)
	get(t, u, keys...)
	resp, body := get(t, u, keys...)
	if resp.StatusCode != 429 || resp.Header.Get("X-Ratelimit-Remaining") != "0" || resp.Header.Get("X-Ratelimit-Reset") != "3000" || !strings.Contains(string(body), `"errors"`) {
		t.Errorf("exhausted: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

// TestDatadogClient reads a series through datadog-api-client-go, as the
// collector does.
func TestDatadogClient(t *testing.T) {
	w := demo()
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.WithValue(context.Background(), datadog.ContextServerIndex, 1)
	ctx = context.WithValue(ctx, datadog.ContextServerVariables, map[string]string{"protocol": "http", "name": host})
	ctx = context.WithValue(ctx, datadog.ContextAPIKeys, map[string]datadog.APIKey{
		"apiKeyAuth": {Key: "demo"}, "appKeyAuth": {Key: "demo"},
	})
	api := datadogV1.NewMetricsApi(datadog.NewAPIClient(datadog.NewConfiguration()))
	for _, m := range w.Metrics {
		if m.Source != "datadog" {
			continue // served by the fake Prometheus
		}
		resp, _, err := api.QueryMetrics(ctx, w.Start.Unix(), w.End.Unix(), m.Query+".rollup(avg, 3600)")
		if err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		if resp.GetStatus() != "ok" || len(resp.Series) != 1 || len(resp.Series[0].Pointlist) != len(w.Series[m.ID]) {
			t.Fatalf("%s: %+v", m.ID, resp)
		}
		nulls := 0
		for _, p := range resp.Series[0].Pointlist {
			if p[1] == nil {
				nulls++
			}
		}
		if nulls == 0 || resp.Series[0].GetInterval() != 3600 {
			t.Errorf("%s: nulls %d", m.ID, nulls)
		}
	}
	// Without keys the client gets a 403.
	bare := context.WithValue(context.WithValue(context.Background(), datadog.ContextServerIndex, 1),
		datadog.ContextServerVariables, map[string]string{"protocol": "http", "name": host})
	if _, hr, err := api.QueryMetrics(bare, 0, 1, "x"); err == nil || hr == nil || hr.StatusCode != 403 {
		t.Errorf("no keys: %v", err)
	}
}
