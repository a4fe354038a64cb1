package hostile_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/honeycomb"
	"github.com/impact-dev/impact/collectors/newrelic"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/collectors/prometheus"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/app"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/internal/world/worldconfig"
	"github.com/impact-dev/impact/store"
)

// testCap is the response-size cap of the suite: above every honest answer
// of the fakes (a page of 100 PRs, 62 days of hourly points), far below the
// default, so the "huge body" row stays quick.
const testCap = 2 << 20

// farReset is 9999-12-31T23:59:59Z.
const farReset = "253402300799"

// source is one collector as the suite drives it. To add a source
// (newrelic, honeycomb, …), add an entry to sources(): its honest fake, how
// to configure it, which requests are its pages, and how to tamper with
// a page; every row that applies then runs against it.
type source struct {
	name string
	// fake serves the world as the vendor would.
	fake func(w *world.World) http.Handler
	// configure points cfg's source at url with the suite's credentials;
	// cfg starts as worldconfig.For with no source set.
	configure func(w *world.World, url string) *config.Config
	// secrets are the credentials configure set.
	secrets []string
	// page reports the requests that read the data (listings, queries),
	// as opposed to details, timings and the like.
	page func(r *http.Request) bool
	// missing is a 200 body without the fields a page must have.
	missing string
	// loop turns an honest page into one whose pagination leads back; nil
	// when the source has no pagination. loopRequest, if set, first
	// changes the request the honest fake answers.
	loop        func(r *http.Request, h http.Header, body []byte) []byte
	loopRequest func(r *http.Request)
	// future puts a timestamp of 9999-12-31 into an honest page.
	future func(body []byte) []byte
	// farReset answers a rate limit that resets in 9999.
	farReset func(h http.Header) int
	// stored counts what the store holds for the source.
	stored func(t *testing.T, st *store.Store, cfg *config.Config) string
}

const (
	ghToken      = "ghp_HOSTILEgithubTOKEN0123456789"
	actionsToken = "ghp_HOSTILEactionsTOKEN987654321"
	ddAPIKey     = "ddapiHOSTILEkey0123456789abcdef0"
	ddAppKey     = "ddappHOSTILEkey0123456789abcdef012345678"
	pdToken      = "pdHOSTILEtoken_y_NbAkKc66ryYTWUXYEu"
	nrKey        = "NRAK-HOSTILEnewrelicKEY0123456789"
	hnyKey       = "hcaikHOSTILEhoneycombKEY012345678"
	promToken    = "promHOSTILEbearer0123456789"
)

var (
	updatedAt = regexp.MustCompile(`"updated_at":"[^"]*"`)
	createdAt = regexp.MustCompile(`"created_at":"[^"]*"`)
)

func sources() []source {
	ghPages := func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/pulls") }
	ghLoop := func(r *http.Request, h http.Header, body []byte) []byte {
		// Every page says its next is page 1 again.
		u := *r.URL
		q := u.Query()
		q.Set("page", "1")
		u.RawQuery = q.Encode()
		h.Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next", <http://%s%s>; rel="last"`, r.Host, u.RequestURI(), r.Host, u.RequestURI()))
		return body
	}
	ghReset := func(h http.Header) int {
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", farReset)
		return http.StatusForbidden
	}
	return []source{
		{
			name: "github",
			fake: func(w *world.World) http.Handler {
				return github.NewFake(w, collectorstest.FakeOptions{RateLimit: -1}, githubactions.FakeRoutes)
			},
			configure: func(w *world.World, url string) *config.Config {
				cfg := worldconfig.For(w, world.URLs{GitHub: url + "/"})
				config.SourceAs[github.Config](cfg, github.Name).Token = ghToken
				return cfg
			},
			secrets: []string{ghToken},
			page:    ghPages,
			missing: `[{"title":"a pull request without number or updated_at"}]`,
			loop:    ghLoop,
			future: func(b []byte) []byte {
				return replaceFirst(updatedAt, b, `"updated_at":"9999-12-31T23:59:59Z"`)
			},
			farReset: ghReset,
			stored: func(t *testing.T, st *store.Store, _ *config.Config) string {
				prs, err := st.PRs(context.Background(), time.Time{}, time.Time{})
				must(t, err)
				return fmt.Sprintf("%d PRs", len(prs))
			},
		},
		{
			name: "github_actions",
			fake: func(w *world.World) http.Handler {
				return github.NewFake(w, collectorstest.FakeOptions{RateLimit: -1}, githubactions.FakeRoutes)
			},
			configure: func(w *world.World, url string) *config.Config {
				cfg := worldconfig.For(w, world.URLs{Actions: url + "/"})
				config.SourceAs[githubactions.Config](cfg, githubactions.Name).Token = actionsToken
				return cfg
			},
			secrets: []string{actionsToken},
			page:    func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/runs") },
			missing: `{"message":"a page without total_count and workflow_runs"}`,
			loop:    ghLoop,
			future: func(b []byte) []byte {
				return replaceFirst(createdAt, b, `"created_at":"9999-12-31T23:59:59Z"`)
			},
			farReset: ghReset,
			stored: func(t *testing.T, st *store.Store, _ *config.Config) string {
				runs, err := st.CIRuns(context.Background(), time.Time{}, time.Time{})
				must(t, err)
				deploys, err := st.Deploys(context.Background(), time.Time{}, time.Time{})
				must(t, err)
				return fmt.Sprintf("%d runs, %d deploys", len(runs), len(deploys))
			},
		},
		{
			name: "datadog",
			fake: func(w *world.World) http.Handler {
				return datadog.NewFake(w, collectorstest.FakeOptions{RateLimit: -1})
			},
			configure: func(w *world.World, url string) *config.Config {
				cfg := worldconfig.For(w, world.URLs{Datadog: url})
				dd := config.SourceAs[datadog.Config](cfg, datadog.Name)
				dd.APIKey, dd.AppKey = ddAPIKey, ddAppKey
				return cfg
			},
			secrets: []string{ddAPIKey, ddAppKey},
			page:    func(r *http.Request) bool { return r.URL.Path == "/api/v1/query" },
			missing: `{"status":"ok","res_type":"time_series"}`,
			future: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"pointlist":[`), []byte(`"pointlist":[[253402300799000.0,1.0],`), 1)
			},
			farReset: func(h http.Header) int {
				h.Set("X-RateLimit-Limit", "1600")
				h.Set("X-RateLimit-Remaining", "0")
				h.Set("X-RateLimit-Reset", "1000000000000")
				return http.StatusTooManyRequests
			},
			stored: samplesOf("datadog"),
		},
		{
			name: "prometheus",
			fake: func(w *world.World) http.Handler { return prometheus.NewFake(w, collectorstest.FakeOptions{}) },
			configure: func(w *world.World, url string) *config.Config {
				cfg := worldconfig.For(w, world.URLs{Prometheus: url})
				config.SourceAs[prometheus.Config](cfg, prometheus.Name).BearerToken = promToken
				return cfg
			},
			secrets: []string{promToken},
			page:    func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/query_range") },
			missing: `{"status":"success","data":{}}`,
			future: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"values":[`), []byte(`"values":[[253402300799,"1"],`), 1)
			},
			farReset: func(h http.Header) int {
				h.Set("Retry-After", "1000000000000")
				return http.StatusTooManyRequests
			},
			stored: samplesOf("prometheus"),
		},
		{
			name: "pagerduty",
			fake: func(w *world.World) http.Handler { return pagerduty.NewFake(w, collectorstest.FakeOptions{}) },
			configure: func(w *world.World, url string) *config.Config {
				cfg := worldconfig.For(w, world.URLs{PagerDuty: url})
				config.SourceAs[pagerduty.Config](cfg, pagerduty.Name).Token = pdToken
				return cfg
			},
			secrets: []string{pdToken},
			page:    func(r *http.Request) bool { return r.URL.Path == "/incidents" },
			missing: `{"limit":100,"offset":0,"more":false}`,
			// The first page again and again, always saying "more".
			loopRequest: func(r *http.Request) {
				q := r.URL.Query()
				q.Set("offset", "0")
				r.URL.RawQuery = q.Encode()
			},
			loop: func(r *http.Request, h http.Header, body []byte) []byte {
				return bytes.Replace(body, []byte(`"more":false`), []byte(`"more":true`), 1)
			},
			future: func(b []byte) []byte {
				return replaceFirst(createdAt, b, `"created_at":"9999-12-31T23:59:59Z"`)
			},
			farReset: func(h http.Header) int {
				h["ratelimit-limit"] = []string{"960"}
				h["ratelimit-remaining"] = []string{"0"}
				h["ratelimit-reset"] = []string{"1000000000000"}
				return http.StatusTooManyRequests
			},
			stored: func(t *testing.T, st *store.Store, _ *config.Config) string {
				incs, err := st.Incidents(context.Background(), time.Time{}, time.Time{})
				must(t, err)
				return fmt.Sprintf("%d incidents", len(incs))
			},
		},
		{
			name: "newrelic",
			fake: func(w *world.World) http.Handler {
				return &newrelic.Fake{Key: nrKey, AccountID: 4711, Series: func(_ string, from, to time.Time) ([]model.Sample, bool) {
					var ss []model.Sample
					for t := from.Truncate(time.Hour); t.Before(to) && t.Before(w.End); t = t.Add(time.Hour) {
						ss = append(ss, model.Sample{Time: t, Value: float64(t.Hour())})
					}
					return ss, true
				}}
			},
			configure: func(w *world.World, url string) *config.Config {
				cfg := worldconfig.For(w, world.URLs{})
				cfg.Sources.Set("newrelic", &newrelic.Config{APIKey: nrKey, AccountID: 4711, APIURL: url + "/graphql", Interval: config.Duration(time.Hour)})
				cfg.Metrics = []config.Metric{{ID: "nr-duration", Name: "duration", Source: "newrelic",
					Query: "SELECT average(duration) AS 'value' FROM Transaction", Unit: "ms", Better: "lower", Category: "performance"}}
				return cfg
			},
			secrets: []string{nrKey},
			page:    func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/graphql") },
			missing: `{"data":{"actor":{"account":{"nrql":{}}}}}`,
			future: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"results":[`), []byte(`"results":[{"beginTimeSeconds":253402300799,"endTimeSeconds":253402304399,"value":1},`), 1)
			},
			farReset: func(h http.Header) int {
				h.Set("Retry-After", "1000000000000")
				return http.StatusTooManyRequests
			},
			stored: samplesOf("newrelic"),
		},
		{
			name: "honeycomb",
			fake: func(w *world.World) http.Handler {
				return &honeycomb.Fake{Key: hnyKey, Series: func(_ string, _ honeycomb.Spec, from, to time.Time) []model.Sample {
					var ss []model.Sample
					for t := from.Truncate(time.Hour); t.Before(to) && t.Before(w.End); t = t.Add(time.Hour) {
						ss = append(ss, model.Sample{Time: t, Value: float64(t.Hour())})
					}
					return ss
				}}
			},
			configure: func(w *world.World, url string) *config.Config {
				cfg := worldconfig.For(w, world.URLs{})
				cfg.Sources.Set("honeycomb", &honeycomb.Config{APIKey: hnyKey, APIURL: url, Interval: config.Duration(time.Hour)})
				cfg.Metrics = []config.Metric{{ID: "hny-duration", Name: "duration", Source: "honeycomb", In: "checkout",
					Query: "P99(duration_ms) WHERE service.name = checkout", Unit: "ms", Better: "lower", Category: "performance"}}
				return cfg
			},
			secrets: []string{hnyKey},
			// Running a query and polling its result read the data.
			page:    func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/1/query_results/") },
			missing: `{"complete":true}`,
			future: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"series":[`), []byte(`"series":[{"data":{"P99(duration_ms)":1},"time":"9999-12-31T23:59:59Z"},`), 1)
			},
			farReset: func(h http.Header) int {
				h.Set("RateLimit", "limit=10, remaining=0, reset=1000000000000")
				return http.StatusTooManyRequests
			},
			stored: samplesOf("honeycomb"),
		},
	}
}

func samplesOf(src string) func(t *testing.T, st *store.Store, cfg *config.Config) string {
	return func(t *testing.T, st *store.Store, cfg *config.Config) string {
		var parts []string
		for _, m := range cfg.Metrics {
			if m.Source != src {
				continue
			}
			ss, err := st.Samples(context.Background(), m.ID, time.Time{}, time.Time{})
			must(t, err)
			for _, s := range ss {
				if s.Time.Year() > 3000 {
					t.Errorf("%s: a sample from the future is stored: %v", m.ID, s.Time)
				}
			}
			parts = append(parts, fmt.Sprintf("%s:%d", m.ID, len(ss)))
		}
		return strings.Join(parts, " ")
	}
}

func replaceFirst(re *regexp.Regexp, b []byte, with string) []byte {
	loc := re.FindIndex(b)
	if loc == nil {
		return b
	}
	return slices.Concat(b[:loc[0]], []byte(with), b[loc[1]:])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// behaviour is what a hostile vendor does to a page request; it returns
// false to leave the request to the honest fake.
type behaviour func(v *vendor, rw http.ResponseWriter, r *http.Request) bool

// vendor serves the honest fake, hostile while v.hostile is set, and
// records what reached "another host".
type vendor struct {
	src     source
	honest  http.Handler
	hostile atomic.Bool
	act     behaviour
	other   *httptest.Server // another host, plain http

	mu       sync.Mutex
	requests int // page requests while hostile
	stolen   []http.Header
}

func (v *vendor) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if v.hostile.Load() && v.src.page(r) {
		v.mu.Lock()
		v.requests++
		v.mu.Unlock()
		if v.act(v, rw, r) {
			return
		}
	}
	v.honest.ServeHTTP(rw, r)
}

// tamper serves the honest answer through f.
func (v *vendor) tamper(rw http.ResponseWriter, r *http.Request, f func(h http.Header, body []byte) []byte) {
	rec := httptest.NewRecorder()
	v.honest.ServeHTTP(rec, r)
	h := rec.Header()
	body := f(h, rec.Body.Bytes())
	for k, vs := range h {
		rw.Header()[k] = vs
	}
	rw.Header().Del("Content-Length")
	rw.Header().Del("ETag") // a tampered page must not be cached as the honest one
	rw.WriteHeader(rec.Code)
	rw.Write(body)
}

// row is one hostile behaviour and what must come of it.
type row struct {
	name string
	// applies reports whether the row makes sense for the source.
	applies func(s source) bool
	act     behaviour
	tls     bool // the vendor is served over https
	// wantErr is a fragment of the hostile poll's error; "" means the poll
	// may succeed (the vendor's lie is ignored, not fatal).
	wantErr func(s source) string
	// maxRequests bounds the page requests of the hostile poll; 0: no bound.
	maxRequests int
}

func rows() []row {
	always := func(source) bool { return true }
	redirect := func(v *vendor, rw http.ResponseWriter, r *http.Request) bool {
		http.Redirect(rw, r, v.other.URL+r.URL.RequestURI(), http.StatusFound)
		return true
	}
	redirectErr := func(s source) string {
		if s.name == "prometheus" {
			// It sends its token only to the configured host, so it may
			// follow the redirect; what it finds there is no answer.
			return "prometheus: "
		}
		return "refused a redirect"
	}
	return []row{
		{name: "redirect to another host", applies: always, act: redirect, wantErr: redirectErr},
		{name: "redirect from https to http", applies: always, act: redirect, tls: true, wantErr: redirectErr},
		{
			name: "huge body", applies: always,
			act: func(v *vendor, rw http.ResponseWriter, r *http.Request) bool {
				rw.Header().Set("Content-Type", "application/json")
				rw.WriteHeader(http.StatusOK)
				rw.(http.Flusher).Flush() // no Content-Length: the cap must hold while reading
				chunk := bytes.Repeat([]byte(" "), 64<<10)
				for i := 0; i < (testCap/len(chunk))+4; i++ {
					if _, err := rw.Write(chunk); err != nil {
						return true
					}
				}
				return true
			},
			wantErr: func(source) string { return "exceeds the limit of 2 MiB" },
		},
		{
			name: "looping pages", applies: func(s source) bool { return s.loop != nil },
			act: func(v *vendor, rw http.ResponseWriter, r *http.Request) bool {
				if v.src.loopRequest != nil {
					v.src.loopRequest(r)
				}
				v.tamper(rw, r, func(h http.Header, b []byte) []byte { return v.src.loop(r, h, b) })
				return true
			},
			wantErr:     func(source) string { return "pagination loops" },
			maxRequests: 2 * collectors.DefaultMaxRepeats,
		},
		{
			name: "200 without the page's fields", applies: always,
			act: func(v *vendor, rw http.ResponseWriter, r *http.Request) bool {
				rw.Header().Set("Content-Type", "application/json")
				io.WriteString(rw, v.src.missing)
				return true
			},
			wantErr: func(s source) string { return "malformed response" },
		},
		{
			name: "timestamps from the future", applies: always,
			act: func(v *vendor, rw http.ResponseWriter, r *http.Request) bool {
				v.tamper(rw, r, func(h http.Header, b []byte) []byte { return v.src.future(b) })
				return true
			},
			// Ignoring the lie (github, datadog, prometheus) or refusing
			// the page (actions, pagerduty) are both fine; the cursor and
			// the next poll are what is checked.
		},
		{
			name: "rate-limit reset in 9999", applies: always,
			act: func(v *vendor, rw http.ResponseWriter, r *http.Request) bool {
				code := v.src.farReset(rw.Header())
				rw.WriteHeader(code)
				io.WriteString(rw, `{"message":"API rate limit exceeded"}`)
				return true
			},
			wantErr:     func(s source) string { return "longer than the" },
			maxRequests: 1,
		},
		{
			name: "401 echoing the request", applies: always,
			act: func(v *vendor, rw http.ResponseWriter, r *http.Request) bool {
				var echo []string
				for k, vs := range r.Header {
					echo = append(echo, k+": "+strings.Join(vs, ","))
				}
				e := strings.Join(echo, "; ")
				rw.Header().Set("Content-Type", "application/json")
				rw.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(rw, `{"message":"Bad credentials: %[1]s","errors":[%[2]q],"error":{"message":"Unauthenticated: %[1]s","code":2006,"errors":[%[2]q]}}`,
					strings.ReplaceAll(e, `"`, `'`), e)
				return true
			},
			wantErr:     func(s source) string { return "401" },
			maxRequests: 1,
		},
	}
}

// TestHostileVendors runs every row against every source it applies to:
// a poll against the hostile vendor, then a poll against the honest one,
// which must store everything a poll of an honest vendor alone stores.
func TestHostileVendors(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Hour)
	w := world.Demo(end)
	for _, src := range sources() {
		want := baseline(t, w, src, end)
		for _, rw := range rows() {
			if !rw.applies(src) {
				continue
			}
			t.Run(src.name+"/"+rw.name, func(t *testing.T) {
				t.Parallel()
				check(t, w, src, rw, end, want)
			})
		}
	}
}

// baseline is what an honest poll stores.
func baseline(t *testing.T, w *world.World, src source, end time.Time) string {
	t.Helper()
	srv := httptest.NewServer(src.fake(w))
	defer srv.Close()
	cfg := src.configure(w, srv.URL)
	st := openStore(t)
	p := pipeline(cfg, st, end, nil, io.Discard)
	if _, err := p.Collect(context.Background(), app.CollectOptions{Source: src.name}); err != nil {
		t.Fatalf("%s: an honest poll failed: %v", src.name, err)
	}
	got := src.stored(t, st, cfg)
	if regexp.MustCompile(`(^|[ :])0( |$)`).MatchString(got) {
		t.Fatalf("%s: an honest poll stored %s: the world has nothing for this source", src.name, got)
	}
	return got
}

func check(t *testing.T, w *world.World, src source, rw row, end time.Time, want string) {
	v := &vendor{src: src, honest: src.fake(w), act: rw.act}
	v.other = httptest.NewServer(http.HandlerFunc(func(wr http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		v.stolen = append(v.stolen, r.Header.Clone())
		v.mu.Unlock()
		io.WriteString(wr, `{"stolen":true}`)
	}))
	defer v.other.Close()
	var srv *httptest.Server
	if rw.tls {
		srv = httptest.NewTLSServer(v)
	} else {
		srv = httptest.NewServer(v)
	}
	defer srv.Close()
	cfg := src.configure(w, srv.URL)
	st := openStore(t)
	var logs bytes.Buffer
	var base http.RoundTripper
	if rw.tls {
		base = srv.Client().Transport
	}
	p := pipeline(cfg, st, end, base, &logs)

	// 1. The hostile poll.
	v.hostile.Store(true)
	results, err := p.Collect(context.Background(), app.CollectOptions{Source: src.name})
	v.hostile.Store(false)
	if len(results) != 1 {
		t.Fatalf("%d results, err %v", len(results), err)
	}
	res := results[0]
	if want := rw.wantErr; want != nil {
		if res.Err == nil {
			t.Fatalf("the hostile poll succeeded, want an error with %q", want(src))
		}
		msg := res.Err.Error()
		if !strings.Contains(msg, want(src)) {
			t.Errorf("error %q does not say %q", msg, want(src))
		}
		if !strings.HasPrefix(msg, src.name+": ") || strings.Contains(msg, "\n") {
			t.Errorf("error %q is not one line naming %s", msg, src.name)
		}
	}
	t.Logf("hostile poll: %v", res.Err)
	v.mu.Lock()
	if rw.maxRequests > 0 && v.requests > rw.maxRequests {
		t.Errorf("%d page requests to the hostile vendor, want at most %d", v.requests, rw.maxRequests)
	}
	for _, h := range v.stolen {
		for _, s := range src.secrets {
			if strings.Contains(fmt.Sprint(h), s) {
				t.Errorf("a credential reached another host: %v", h)
			}
		}
	}
	v.mu.Unlock()

	// 2. Nothing secret in the error, the logs, the run record or the file.
	runs, err := st.Runs(context.Background())
	must(t, err)
	rec := fmt.Sprintf("%+v", runs[src.name])
	if rw.wantErr != nil && !strings.Contains(rec, "LastError:"+src.name) {
		t.Errorf("the run record does not hold the error: %s", rec)
	}
	for _, s := range src.secrets {
		for what, text := range map[string]string{"error": fmt.Sprint(res.Err), "logs": logs.String(), "run record": rec} {
			if strings.Contains(text, s) {
				t.Errorf("the %s holds a credential: %s", what, text)
			}
		}
	}
	file, err := os.ReadFile(p.Config.Store.Path)
	must(t, err)
	for _, s := range src.secrets {
		if bytes.Contains(file, []byte(s)) {
			t.Errorf("the store file holds a credential")
		}
	}
	// No cursor (JSON: "through":"…", "updated_at":"…") took the vendor's
	// 9999-12-31 (the run record's error may quote it).
	if bytes.Contains(file, []byte(`":"9999-12-31`)) {
		t.Errorf("the store holds a time from the future")
	}

	// 3. The next honest poll stores everything.
	if _, err := p.Collect(context.Background(), app.CollectOptions{Source: src.name}); err != nil {
		t.Fatalf("the honest poll after the hostile one failed: %v", err)
	}
	if got := src.stored(t, st, cfg); got != want {
		t.Errorf("after the hostile poll and an honest one: %s, want %s (as an honest poll alone)", got, want)
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "impact.db"), store.Options{Timeout: 5 * time.Second})
	must(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func pipeline(cfg *config.Config, st *store.Store, end time.Time, base http.RoundTripper, logs io.Writer) *app.Pipeline {
	cfg.Store.Path = st.Path()
	cfg.File = "(hostile test)"
	return &app.Pipeline{
		Config: cfg, Store: st, Registry: all.Registry(),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return end },
		HTTPOptions: func(o *collectors.HTTPOptions) {
			o.MaxResponseBytes = testCap
			o.Sleep = func(<-chan struct{}, time.Duration) bool { return true } // retries without waiting
			o.Stats = &collectors.Stats{}
			if base != nil {
				o.Base = base
			}
		},
	}
}

// TestConfiguredLimits: collect.max_response_bytes and collect.max_requests
// reach every source's client and poll.
func TestConfiguredLimits(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Hour)
	w := world.Demo(end)
	src := sources()[0] // github: three repos, pages of 100 PRs
	srv := httptest.NewServer(src.fake(w))
	defer srv.Close()
	for _, tt := range []struct {
		name    string
		collect config.CollectConfig
		want    string
	}{
		{"max_response_bytes", config.CollectConfig{MaxResponseBytes: 4096}, "exceeds the limit of 4 KiB (collect.max_response_bytes)"},
		{"max_requests", config.CollectConfig{MaxRequests: 2}, "more than 2 requests in one poll (collect.max_requests)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := src.configure(w, srv.URL)
			cfg.Collect = tt.collect
			p := pipeline(cfg, openStore(t), end, nil, io.Discard)
			p.HTTPOptions = nil // the config's limits, not the suite's
			_, err := p.Collect(context.Background(), app.CollectOptions{Source: src.name})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
