package prometheus

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	pmodel "github.com/prometheus/common/model"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

const (
	promLatency = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="search"}[1h])))`
	promGauge   = `impact_test_latency_ms{service="search", env="prod"}`
)

var promStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// promTestWorld has two Prometheus metrics and a Datadog one over 30 days
// of hourly samples; the gauge holds NaN at hour 5, +Inf at hour 6 and -Inf
// at hour 7.
var promTestWorld = sync.OnceValue(func() *world.World {
	end := promStart.Add(30 * 24 * time.Hour)
	w := &world.World{Start: promStart, End: end, Series: map[string][]model.Sample{}, Metrics: []config.Metric{
		{ID: "search-p99", Source: "prometheus", Query: promLatency, Unit: "s", Better: "lower"},
		{ID: "search-gauge", Source: "prometheus", Query: promGauge, Unit: "ms", Better: "lower"},
		{ID: "dd", Source: "datadog", Query: "avg:x{*}", Unit: "ms", Better: "lower"},
	}}
	for _, id := range []string{"search-p99", "search-gauge", "dd"} {
		var ss []model.Sample
		for i, t := 0, promStart; t.Before(end); i, t = i+1, t.Add(time.Hour) {
			ss = append(ss, model.Sample{Time: t, Value: promTestValue(id, i)})
		}
		w.Series[id] = ss
	}
	return w
})

func promTestValue(id string, i int) float64 {
	if id == "search-gauge" {
		switch i {
		case 5:
			return math.NaN()
		case 6:
			return math.Inf(1)
		case 7:
			return math.Inf(-1)
		}
		return 100 + float64(i%24) + 0.125
	}
	return 0.2 + float64(i)/1e4
}

func fakeGet(t *testing.T, rawURL string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

type promResp struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func promForm(query string, start, end time.Time, step string) url.Values {
	return url.Values{"query": {query}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}, "step": {step}}
}

// promDo sends form by GET (as a query string) or POST (as a body).
func promDo(t *testing.T, base, method string, form url.Values) (promResp, []byte, *http.Response) {
	t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		req, _ = http.NewRequest(method, base+"/api/v1/query_range", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, base+"/api/v1/query_range?"+form.Encode(), nil)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r promResp
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return r, body, resp
}

func TestPrometheusQueryRange(t *testing.T) {
	w := promTestWorld()
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	from, to := promStart.Add(24*time.Hour), promStart.Add(48*time.Hour)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		for _, step := range []string{"3600", "3600.0", "1h", "60m"} {
			r, body, resp := promDo(t, srv.URL, method, promForm(" "+strings.ReplaceAll(promLatency, " ", "  ")+"\n", from, to, step))
			if resp.StatusCode != 200 || r.Status != "success" || r.Data.ResultType != "matrix" || len(r.Data.Result) != 1 {
				t.Fatalf("%s step %s: %d %s", method, step, resp.StatusCode, body)
			}
			s := r.Data.Result[0]
			if len(s.Metric) != 0 || len(s.Values) != 25 {
				t.Fatalf("%s step %s: metric %v, %d values", method, step, s.Metric, len(s.Values))
			}
			for i, v := range s.Values {
				ts, ok1 := v[0].(float64)
				val, ok2 := v[1].(string)
				want := promTestValue("search-p99", 24+i)
				if !ok1 || !ok2 || int64(ts) != from.Add(time.Duration(i)*time.Hour).Unix() || val != strconv.FormatFloat(want, 'f', -1, 64) {
					t.Fatalf("%s step %s: value %d = %v, want [%d, %q]", method, step, i, v, from.Add(time.Duration(i)*time.Hour).Unix(), strconv.FormatFloat(want, 'f', -1, 64))
				}
			}
		}
	}
	// Whole-second timestamps are JSON integers, like Prometheus writes them.
	_, body, _ := promDo(t, srv.URL, http.MethodPost, promForm(promLatency, from, from, "3600"))
	if want := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[` + strconv.FormatInt(from.Unix(), 10) + `,"` + strconv.FormatFloat(promTestValue("search-p99", 24), 'f', -1, 64) + `"]]}]}}`; string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
}

func TestPrometheusEvaluationTimes(t *testing.T) {
	w := promTestWorld()
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	base := promStart.Add(10 * time.Hour)
	tests := []struct {
		name      string
		start     string
		end       time.Time
		step      string
		wantTimes []string // timestamps as written
		wantIdx   []int    // sample hour each evaluation finds
	}{
		{"aligned", strconv.FormatInt(base.Unix(), 10), base.Add(2 * time.Hour), "3600", []string{"1767261600", "1767265200", "1767268800"}, []int{10, 11, 12}},
		{"RFC 3339", base.Format(time.RFC3339), base.Add(2 * time.Hour), "1h", []string{"1767261600", "1767265200", "1767268800"}, []int{10, 11, 12}},
		{"within lookback", strconv.FormatInt(base.Add(3*time.Minute).Unix(), 10), base.Add(2 * time.Hour), "3600", []string{"1767261780", "1767265380"}, []int{10, 11}},
		{"fraction", strconv.FormatFloat(float64(base.Unix())+0.5, 'f', -1, 64), base.Add(2 * time.Hour), "3600", []string{"1767261600.500", "1767265200.500"}, []int{10, 11}},
		{"beyond lookback", strconv.FormatInt(base.Add(10*time.Minute).Unix(), 10), base.Add(2 * time.Hour), "3600", nil, nil},
		{"half-hour step", strconv.FormatInt(base.Unix(), 10), base.Add(2 * time.Hour), "30m", []string{"1767261600", "1767265200", "1767268800"}, []int{10, 11, 12}},
		{"before the data", strconv.FormatInt(promStart.Add(-5*time.Hour).Unix(), 10), promStart.Add(time.Hour), "3600", []string{"1767225600", "1767229200"}, []int{0, 1}},
		{"after the data", strconv.FormatInt(w.End.Unix(), 10), w.End.Add(3 * time.Hour), "3600", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"query": {promLatency}, "start": {tt.start}, "end": {strconv.FormatInt(tt.end.Unix(), 10)}, "step": {tt.step}}
			r, body, resp := promDo(t, srv.URL, http.MethodPost, form)
			if resp.StatusCode != 200 || r.Status != "success" {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if len(tt.wantTimes) == 0 {
				if len(r.Data.Result) != 0 || !strings.Contains(string(body), `"result":[]`) {
					t.Fatalf("want no series: %s", body)
				}
				return
			}
			var raw struct {
				Data struct {
					Result []struct {
						Values [][2]json.RawMessage `json:"values"`
					} `json:"result"`
				} `json:"data"`
			}
			json.Unmarshal(body, &raw)
			vals := raw.Data.Result[0].Values
			if len(vals) != len(tt.wantTimes) {
				t.Fatalf("%d values, want %d: %s", len(vals), len(tt.wantTimes), body)
			}
			for i, v := range vals {
				want := `"` + strconv.FormatFloat(promTestValue("search-p99", tt.wantIdx[i]), 'f', -1, 64) + `"`
				if string(v[0]) != tt.wantTimes[i] || string(v[1]) != want {
					t.Errorf("value %d = [%s, %s], want [%s, %s]", i, v[0], v[1], tt.wantTimes[i], want)
				}
			}
		})
	}
}

func TestPrometheusValuesAndLabels(t *testing.T) {
	w := promTestWorld()
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{}))
	defer srv.Close()
	r, body, _ := promDo(t, srv.URL, http.MethodGet, promForm(promGauge, promStart.Add(4*time.Hour), promStart.Add(8*time.Hour), "3600"))
	if len(r.Data.Result) != 1 {
		t.Fatalf("%s", body)
	}
	s := r.Data.Result[0]
	if len(s.Metric) != 3 || s.Metric["__name__"] != "impact_test_latency_ms" || s.Metric["service"] != "search" || s.Metric["env"] != "prod" {
		t.Errorf("labels %v", s.Metric)
	}
	var got []string
	for _, v := range s.Values {
		got = append(got, v[1].(string))
	}
	if want := []string{"104.125", "NaN", "+Inf", "-Inf", "108.125"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("values %v, want %v", got, want)
	}
	for q, want := range map[string]string{
		`up`:                   `{"__name__":"up"}`,
		`{job="x"}`:            `{"job":"x"}`,
		`up{job=~"x.*",a="b"}`: `{"__name__":"up","a":"b"}`,
		`sum(up)`:              `{}`,
		`up{a="q\"uote"}`:      `{"__name__":"up","a":"q\"uote"}`,
	} {
		if got := promLabels(q); got != want {
			t.Errorf("promLabels(%s) = %s, want %s", q, got, want)
		}
	}
}

func TestPrometheusUnknownQuery(t *testing.T) {
	srv := httptest.NewServer(NewFake(promTestWorld(), collectorstest.FakeOptions{}))
	defer srv.Close()
	for _, q := range []string{"avg:x{*}", `impact_test_latency_ms{service="checkout"}`, "up"} {
		r, body, resp := promDo(t, srv.URL, http.MethodPost, promForm(q, promStart, promStart.Add(time.Hour), "3600"))
		if resp.StatusCode != 200 || r.Status != "success" || r.Data.ResultType != "matrix" || len(r.Data.Result) != 0 || !strings.Contains(string(body), `"result":[]`) {
			t.Errorf("%q: %d %s", q, resp.StatusCode, body)
		}
	}
}

func TestPrometheusBadRequests(t *testing.T) {
	srv := httptest.NewServer(NewFake(promTestWorld(), collectorstest.FakeOptions{}))
	defer srv.Close()
	ok := promForm(promGauge, promStart, promStart.Add(time.Hour), "3600")
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range ok {
			f[key] = vs
		}
		if v == "<none>" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		form url.Values
		want string
	}{
		{with("start", "<none>"), `invalid parameter "start": cannot parse "" to a valid timestamp`},
		{with("start", "abc"), `invalid parameter "start": cannot parse "abc" to a valid timestamp`},
		{with("end", "NaN"), `invalid parameter "end": cannot parse "NaN" to a valid timestamp`},
		{with("end", strconv.FormatInt(promStart.Add(-time.Second).Unix(), 10)), `invalid parameter "end": end timestamp must not be before start time`},
		{with("step", "0"), `invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`},
		{with("step", "-1h"), `invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`},
		{with("step", "soon"), `invalid parameter "step": cannot parse "soon" to a valid duration`},
		{with("step", "0.1"), "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"},
		{with("query", "<none>"), "1:1: parse error: no expression found in input"},
		{with("query", "impact_test_latency_ms{"), "1:24: parse error: unexpected end of input inside braces"},
		{with("query", "rate(x[5m]"), "1:5: parse error: unclosed left parenthesis"},
		{with("query", "x)"), "1:2: parse error: unexpected right parenthesis ')'"},
		{with("query", `x{a="b}`), "1:5: parse error: unterminated quoted string"},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			r, body, resp := promDo(t, srv.URL, method, tt.form)
			if resp.StatusCode != 400 || r.Status != "error" || r.ErrorType != "bad_data" || r.Error != tt.want {
				t.Errorf("%s %v: %d %s\nwant %s", method, tt.form, resp.StatusCode, body, tt.want)
			}
		}
	}
	// PUT is not a route; unknown paths answer like Prometheus.
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api/v1/query_range", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, OPTIONS, POST" {
		t.Errorf("PUT: %v %v", resp, err)
	}
	if resp, body := fakeGet(t, srv.URL+"/api/v1/query"); resp.StatusCode != 404 || strings.TrimSpace(string(body)) != "404 page not found" {
		t.Errorf("unknown path: %d %s", resp.StatusCode, body)
	}
}

// TestPrometheusResolutionLimit: like Prometheus, 11,000 steps (11,001
// points) pass and one more is refused.
func TestPrometheusResolutionLimit(t *testing.T) {
	srv := httptest.NewServer(NewFake(promTestWorld(), collectorstest.FakeOptions{}))
	defer srv.Close()
	start := promStart.Add(-10_000 * time.Hour)
	r, body, resp := promDo(t, srv.URL, http.MethodPost, promForm(promLatency, start, start.Add(11_000*time.Hour), "3600"))
	if resp.StatusCode != 200 || r.Status != "success" || len(r.Data.Result) != 1 || len(r.Data.Result[0].Values) != 720 {
		t.Fatalf("11,000 steps: %d %.300s", resp.StatusCode, body)
	}
	_, body, resp = promDo(t, srv.URL, http.MethodPost, promForm(promLatency, start, start.Add(11_001*time.Hour), "3600"))
	want := `{"error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)","errorType":"bad_data","status":"error"}`
	if resp.StatusCode != 400 || string(body) != want {
		t.Errorf("11,001 steps: %d %s", resp.StatusCode, body)
	}
}

func TestPrometheusFaultAndCounter(t *testing.T) {
	counter := &collectorstest.Counter{}
	var mu sync.Mutex
	faults := []int{503, 401, 422, 500}
	srv := httptest.NewServer(NewFake(promTestWorld(), collectorstest.FakeOptions{Counter: counter, Fault: func(*http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if len(faults) == 0 {
			return 0
		}
		f := faults[0]
		faults = faults[1:]
		return f
	}}))
	defer srv.Close()
	form := promForm(promGauge, promStart, promStart.Add(time.Hour), "3600")
	r, _, resp := promDo(t, srv.URL, http.MethodPost, form)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || r.Status != "error" || r.ErrorType != "unavailable" {
		t.Errorf("503: %d %+v", resp.StatusCode, r)
	}
	_, body, resp := promDo(t, srv.URL, http.MethodPost, form)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || strings.TrimSpace(string(body)) != "Unauthorized" {
		t.Errorf("401: %d %s", resp.StatusCode, body)
	}
	if r, _, resp := promDo(t, srv.URL, http.MethodGet, form); resp.StatusCode != 422 || r.ErrorType != "execution" {
		t.Errorf("422: %d %+v", resp.StatusCode, r)
	}
	if r, _, resp := promDo(t, srv.URL, http.MethodGet, form); resp.StatusCode != 500 || r.ErrorType != "internal" {
		t.Errorf("500: %d %+v", resp.StatusCode, r)
	}
	if _, _, resp := promDo(t, srv.URL, http.MethodPost, form); resp.StatusCode != 200 {
		t.Errorf("after faults: %d", resp.StatusCode)
	}
	snap := counter.Snapshot()
	post, getP := "POST /api/v1/query_range", "GET /api/v1/query_range"
	if snap[collectorstest.CountKey{Vendor: "prometheus", Pattern: post, Status: 503}] != 1 || snap[collectorstest.CountKey{Vendor: "prometheus", Pattern: post, Status: 401}] != 1 || snap[collectorstest.CountKey{Vendor: "prometheus", Pattern: getP, Status: 422}] != 1 ||
		snap[collectorstest.CountKey{Vendor: "prometheus", Pattern: getP, Status: 500}] != 1 || snap[collectorstest.CountKey{Vendor: "prometheus", Pattern: post, Status: 200}] != 1 || counter.Total() != 5 {
		t.Errorf("counter:\n%s", counter)
	}
}

// TestPrometheusClient reads every Prometheus series through client_golang,
// as the collector does (it POSTs the form).
func TestPrometheusClient(t *testing.T) {
	w := promTestWorld()
	counter := &collectorstest.Counter{}
	srv := httptest.NewServer(NewFake(w, collectorstest.FakeOptions{Counter: counter}))
	defer srv.Close()
	c, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	papi := promv1.NewAPI(c)
	ctx := context.Background()
	for _, id := range []string{"search-p99", "search-gauge"} {
		m, _ := w.Metric(id)
		val, warnings, _, err := papi.QueryRange(ctx, m.Query, promv1.Range{Start: w.Start, End: w.End.Add(-time.Hour), Step: time.Hour})
		if err != nil || len(warnings) != 0 {
			t.Fatalf("%s: %v %v", id, err, warnings)
		}
		mat, ok := val.(pmodel.Matrix)
		if !ok || len(mat) != 1 || len(mat[0].Values) != len(w.Series[id]) {
			t.Fatalf("%s: %v", id, val)
		}
		for i, p := range mat[0].Values {
			s := w.Series[id][i]
			v := float64(p.Value)
			if !p.Timestamp.Time().Equal(s.Time) || !(v == s.Value || math.IsNaN(v) && math.IsNaN(s.Value)) {
				t.Fatalf("%s: point %d = %v, want %v", id, i, p, s)
			}
		}
	}
	// A parse error comes back as a client_golang API error.
	_, _, _, err = papi.QueryRange(ctx, "x{", promv1.Range{Start: w.Start, End: w.Start, Step: time.Hour})
	var pe *promv1.Error
	if !asPromErr(err, &pe) || pe.Type != promv1.ErrBadData || pe.Msg != "1:3: parse error: unexpected end of input inside braces" {
		t.Errorf("parse error: %v", err)
	}
	if n := counter.Count("POST /api/v1/query_range"); n != 3 || counter.Total() != 3 {
		t.Errorf("counter:\n%s", counter)
	}
}

func asPromErr(err error, target **promv1.Error) bool {
	e, ok := err.(*promv1.Error)
	if ok {
		*target = e
	}
	return ok
}
