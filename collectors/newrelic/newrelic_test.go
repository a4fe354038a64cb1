package newrelic_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/newrelic"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

const key = "NRAK-TESTKEY0000000000000000000"

// wave is the fake's series: a value per hour.
func wave(_ string, from, to time.Time) ([]model.Sample, bool) {
	var out []model.Sample
	for t := from.Truncate(time.Hour); t.Before(to); t = t.Add(time.Hour) {
		out = append(out, model.Sample{Time: t, Value: 200 + 50*math.Sin(float64(t.Unix())/86400)})
	}
	return out, true
}

func setup(t *testing.T, fault func(*http.Request) int) (*newrelic.Fake, *newrelic.Collector) {
	t.Helper()
	fake := &newrelic.Fake{Key: key, AccountID: 42, Series: wave, Fault: fault}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client := collectors.NewHTTPClient(collectors.HTTPOptions{
		Vendor: "newrelic",
		Sleep:  func(<-chan struct{}, time.Duration) bool { return true },
	})
	c, err := newrelic.New(newrelic.Config{APIKey: key, AccountID: 42, APIURL: srv.URL + "/graphql"},
		[]config.Metric{{ID: "checkout-p95", Source: "newrelic", Query: "SELECT percentile(duration, 95) FROM Transaction"}},
		newrelic.Options{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func TestBackfillAndIncremental(t *testing.T) {
	fake, c := setup(t, nil)
	sink := &collectorstest.Sink{}
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)
	since := now.Add(-40 * 24 * time.Hour)
	if err := c.Collect(context.Background(), collectors.Run{Since: since, Backfill: true, Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	// 40 days of whole hours, up to the open hour: 3 chunks of ≤ 15 days.
	if got := fake.Requests(); got != 3 {
		t.Errorf("backfill requests = %d, want 3 (40 days / 15-day chunks)", got)
	}
	got := sink.Samples("checkout-p95")
	wantN := int(now.Truncate(time.Hour).Sub(since.Truncate(time.Hour)) / time.Hour)
	if len(got) != wantN {
		t.Fatalf("stored %d samples, want %d", len(got), wantN)
	}
	want, _ := wave("", got[0].Time, got[0].Time.Add(time.Hour))
	if got[0].Value != want[0].Value {
		t.Errorf("first sample %v, want %v", got[0].Value, want[0].Value)
	}
	if last := got[len(got)-1].Time; !last.Equal(now.Truncate(time.Hour).Add(-time.Hour)) {
		t.Errorf("last sample at %v, want the last complete hour", last)
	}

	tests := []struct {
		name string
		now  time.Time
		want int // requests
	}{
		{"same hour asks nothing", now.Add(20 * time.Minute), 0},
		{"next hour asks once", now.Add(time.Hour), 1},
	}
	for _, tt := range tests {
		before := fake.Requests()
		if err := c.Collect(context.Background(), collectors.Run{Now: tt.now, Sink: sink}); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := fake.Requests() - before; got != tt.want {
			t.Errorf("%s: %d requests, want %d", tt.name, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)
	var n atomic.Int32
	tests := []struct {
		name    string
		fault   func(*http.Request) int
		wantErr string
	}{
		{"429 twice then served", func(*http.Request) int {
			if n.Add(1) <= 2 {
				return http.StatusTooManyRequests
			}
			return 0
		}, ""},
		{"malformed body", func(*http.Request) int { return -1 }, "malformed response"},
		{"server error", func(*http.Request) int { return http.StatusBadRequest }, "400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := setup(t, tt.fault)
			err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-48 * time.Hour), Backfill: true, Now: now, Sink: &collectorstest.Sink{}})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestBadKey(t *testing.T) {
	fake := &newrelic.Fake{Key: key, AccountID: 42, Series: wave}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := newrelic.New(newrelic.Config{APIKey: "NRAK-WRONG-SECRET", AccountID: 42, APIURL: srv.URL + "/graphql"},
		[]config.Metric{{ID: "m", Source: "newrelic", Query: "SELECT count(*) FROM Transaction"}}, newrelic.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	err = c.Collect(context.Background(), collectors.Run{Since: now.Add(-24 * time.Hour), Now: now, Sink: &collectorstest.Sink{}})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "api_key") {
		t.Fatalf("err = %v, want a 401 naming api_key", err)
	}
	if strings.Contains(err.Error(), "WRONG-SECRET") {
		t.Fatal("the key leaked into the error")
	}
}

// TestDocumentedResults decodes the documented TIMESERIES shapes
// (testdata/SOURCES.md).
func TestDocumentedResults(t *testing.T) {
	for _, f := range []string{"testdata/timeseries_percentile.json", "testdata/timeseries_count.json"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Data struct {
				Actor struct {
					Account struct {
						NRQL struct {
							Results []map[string]json.RawMessage `json:"results"`
						} `json:"nrql"`
					} `json:"account"`
				} `json:"actor"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		ss, err := newrelic.Samples(r.Data.Actor.Account.NRQL.Results)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(ss) == 0 {
			t.Fatalf("%s: no samples", f)
		}
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr, endpoint string
	}{
		{"us default", "api_key: k\naccount_id: 1\n", "", "https://api.newrelic.com/graphql"},
		{"eu", "api_key: k\naccount_id: 1\nregion: EU\n", "", "https://api.eu.newrelic.com/graphql"},
		{"bad region", "api_key: k\naccount_id: 1\nregion: mars\n", `c.yaml:7: sources.newrelic.region: unknown value "mars"`, ""},
		{"no account", "api_key: k\n", "sources.newrelic.account_id: required", ""},
		{"unknown key", "api_key: k\naccount_id: 1\nacount: 2\n", `c.yaml:7: sources.newrelic: unknown key "acount"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "me: {github: alice}\nsources:\n  github: {token: t, repos: [acme/a]}\n  newrelic:\n" + indent(tt.yaml, "    ")
			cfg, err := config.ParseWith([]byte(doc), "c.yaml", config.LoadOptions{Sources: []config.SourceType{github.Source().Config, newrelic.Source().Config}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := config.SourceAs[newrelic.Config](cfg, "newrelic").Endpoint(); got != tt.endpoint {
				t.Errorf("endpoint %q, want %q", got, tt.endpoint)
			}
		})
	}
}

func TestMetricQueryRules(t *testing.T) {
	doc := `me: {github: alice}
sources:
  newrelic: {api_key: k, account_id: 1}
metrics:
  - {id: a, source: newrelic, unit: ms, better: lower, query: "SELECT average(duration) FROM Transaction SINCE 1 week ago"}
  - {id: b, source: newrelic, unit: ms, better: lower, query: "SELECT average(duration) FROM Transaction FACET appName"}
  - {id: c, source: newrelic, unit: ms, better: lower, query: "SELECT average(duration) FROM Transaction"}
`
	_, err := config.ParseWith([]byte(doc), "c.yaml", config.LoadOptions{Sources: []config.SourceType{github.Source().Config, newrelic.Source().Config}})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"c.yaml:5: metrics[0].query: leave out SINCE", "c.yaml:6: metrics[1].query: leave out FACET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "metrics[2]") {
		t.Errorf("metrics[2] is fine:\n%v", err)
	}
}

func indent(s, p string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = p + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}
