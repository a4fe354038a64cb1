// Package prometheus collects the `metrics:` entries with `source:
// prometheus` through Prometheus's HTTP API (range queries,
// /api/v1/query_range) at an hourly step.
//
// Each configured query is evaluated at whole hours (UTC), so every poll
// hits the same timestamps and the store upserts instead of piling up
// near-duplicates. The poll loop is the shared one, collectors.RangePoll:
// long ranges are split into requests of Options.Chunk (default 10,000
// hours, about 416 days; Prometheus refuses a range of more than 11,000
// steps per series), oldest first, and each request's samples are committed
// together with the metric's cursor ({"through": RFC 3339, "query": q}); an
// interrupted backfill resumes at the first request it did not store, and a
// changed query is read again from Run.Since.
//
// The cursor names the first evaluation time the next poll reads. It never
// moves past the start of the still-open hour, the last whole hour at or
// before Run.Now: that point is stored by the poll that reads it (the last
// request of a poll evaluates it, one point more than its chunk) and read
// again by the next one, which overwrites it once late scrapes have arrived.
//
// NaN and ±Inf values are skipped. A query that returns several series is
// averaged per timestamp, with a warning (once per metric and run): the
// query should aggregate, e.g. with `sum by ()` or `histogram_quantile`.
// Warnings and infos the API returns are logged.
//
// # Querying a gauge scraped less often than the step
//
// An evaluation at time t sees the latest sample in (t − lookback, t], and
// Prometheus's default lookback delta is 5 minutes. Series scraped every
// 15–60 s (the usual case) are always found. A series written less often
// than every 5 minutes, e.g. hourly backfilled samples, is only found when
// its samples sit exactly on the step-aligned evaluation times; otherwise
// write the query as `last_over_time(x[1h])` or `avg_over_time(x[1h])`.
package prometheus

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	pmodel "github.com/prometheus/common/model"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// Name is the source name, used for Batch.Source, cursors and errors.
const Name = "prometheus"

const (
	// Step is the query resolution: the product stores hourly samples.
	Step = time.Hour
	// MaxPoints is the most evaluation times Prometheus accepts in one range
	// query ("exceeded maximum resolution of 11,000 points per
	// timeseries").
	MaxPoints = 11_000
	// MaxChunk is the largest accepted Options.Chunk: a request evaluates
	// each hour of its chunk, and the last of a poll also the open hour's
	// start, so 10,999 hours keep every request within MaxPoints.
	MaxChunk = (MaxPoints - 1) * Step
	// DefaultChunk is the range one request covers when Options.Chunk is
	// zero: 10,000 hours, about 416 days.
	DefaultChunk = 10_000 * Step
	// DefaultSince is how far back a first collection reaches when Run.Since
	// is zero.
	DefaultSince = 90 * 24 * time.Hour
)

// Options tune the collector.
type Options struct {
	// HTTPClient carries every request. Default:
	// collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: "prometheus"}),
	// which retries 5xx, 429 and network errors. The collector wraps its
	// transport to add the configured credentials.
	HTTPClient *http.Client
	// Logger receives warnings and progress notes when Run.Logger is nil.
	Logger *slog.Logger
	// Chunk is the time range of one request: a whole number of hours
	// between 1h and MaxChunk. Default DefaultChunk (10,000 hours).
	Chunk time.Duration
}

// Cursor is what the collector stores under each metric id: the range
// poll's cursor ({"through": RFC 3339, "query": q}). Through is the first
// evaluation time the next poll reads, always a whole hour; when the
// configured query changes, the metric is read again from Run.Since.
type Cursor = collectors.RangeCursor

// QueryError is a failed range query.
type QueryError struct {
	Metric string // metric id
	// StatusCode is the HTTP status of the answer; 0 when none came (a
	// transport error) or the body was malformed.
	StatusCode int
	// Type is Prometheus's errorType ("bad_data", "execution", …) when the
	// answer carried one.
	Type string
	Msg  string // one line, without the "prometheus: query_range <id>: " prefix
	Err  error  // underlying error, may be nil
}

func (e *QueryError) Error() string { return "prometheus: query_range " + e.Metric + ": " + e.Msg }
func (e *QueryError) Unwrap() error { return e.Err }

type metric struct {
	id    string
	query string
}

// Collector polls Prometheus for the configured metrics.
type Collector struct {
	api     promv1.API
	metrics []metric
	chunk   time.Duration
	log     *slog.Logger
}

var _ collectors.Collector = (*Collector)(nil)

// New builds the collector for the metrics whose Source is "prometheus";
// others are ignored. src.URL is the server's base URL (a path prefix, as
// behind a proxy, is kept). Credentials come from bearer_token or
// basic_auth, or from user:password in the URL when neither is set; they
// are sent only to the configured host and never appear in errors or logs.
func New(src Config, metrics []config.Metric, opt Options) (*Collector, error) {
	c := &Collector{chunk: opt.Chunk, log: opt.Logger}
	if c.chunk == 0 {
		c.chunk = DefaultChunk
	}
	if c.chunk < time.Hour || c.chunk > MaxChunk || c.chunk%time.Hour != 0 {
		return nil, fmt.Errorf("prometheus: chunk %v must be a whole number of hours between 1h and %v", opt.Chunk, MaxChunk)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}

	base, auth, err := parseURL(src)
	if err != nil {
		return nil, err
	}
	hc := opt.HTTPClient
	if hc == nil {
		hc = collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name})
	}
	rt := &roundTripper{base: hc.Transport, auth: auth, scheme: base.Scheme, host: base.Host}
	if rt.base == nil {
		rt.base = http.DefaultTransport
	}
	wrapped := *hc
	wrapped.Transport = rt
	client, err := api.NewClient(api.Config{Address: base.String(), Client: &wrapped})
	if err != nil {
		return nil, fmt.Errorf("prometheus: url %s: %v", base.Redacted(), err)
	}
	c.api = promv1.NewAPI(client)

	seen := map[string]bool{}
	for _, m := range metrics {
		if m.Source != Name {
			continue
		}
		if m.ID == "" {
			return nil, errors.New("prometheus: a metric has no id")
		}
		if seen[m.ID] {
			return nil, fmt.Errorf("prometheus: metric id %s is used twice", m.ID)
		}
		seen[m.ID] = true
		q := strings.TrimSpace(m.Query)
		if q == "" {
			return nil, fmt.Errorf("prometheus: metric %s has no query", m.ID)
		}
		c.metrics = append(c.metrics, metric{id: m.ID, query: q})
	}
	return c, nil
}

// parseURL checks src.URL and works out the Authorization header value.
func parseURL(src Config) (*url.URL, string, error) {
	raw := strings.TrimSpace(src.URL)
	if raw == "" {
		return nil, "", errors.New("prometheus: url is not set")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the URL, credentials included.
		return nil, "", errors.New("prometheus: url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, "", fmt.Errorf("prometheus: url %q: want http(s)://host[:port][/path]", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, "", fmt.Errorf("prometheus: url %q: must not carry a query or a fragment", u.Redacted())
	}
	token := src.BearerToken.Value()
	ba := src.BasicAuth
	if token != "" && ba != nil {
		return nil, "", errors.New("prometheus: set bearer_token or basic_auth, not both")
	}
	var auth string
	switch {
	case token != "":
		auth = "Bearer " + token
	case ba != nil:
		if ba.Username == "" {
			return nil, "", errors.New("prometheus: basic_auth.username is not set")
		}
		auth = basicAuth(ba.Username, ba.Password.Value())
	case u.User != nil:
		pw, _ := u.User.Password()
		auth = basicAuth(u.User.Username(), pw)
	}
	u.User = nil
	return u, auth, nil
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// roundTripper adds the credentials to requests for the configured host
// (never to a host a redirect leads to) and records the last answer's status
// for the error messages: client_golang only reports a status for 400 and 422.
type roundTripper struct {
	base         http.RoundTripper
	auth         string
	scheme, host string
}

type answerKey struct{}

// answer is the last HTTP answer seen for a query.
type answer struct {
	mu          sync.Mutex
	status      int
	contentType string
}

func (a *answer) get() (int, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status, a.contentType
}

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req
	if t.auth != "" && req.URL.Scheme == t.scheme && req.URL.Host == t.host {
		r = req.Clone(req.Context())
		r.Header.Set("Authorization", t.auth)
	}
	resp, err := t.base.RoundTrip(r)
	if a, ok := req.Context().Value(answerKey{}).(*answer); ok {
		a.mu.Lock()
		if resp != nil {
			a.status, a.contentType = resp.StatusCode, resp.Header.Get("Content-Type")
		} else {
			a.status, a.contentType = 0, ""
		}
		a.mu.Unlock()
	}
	return resp, err
}

// Name implements collectors.Collector.
func (c *Collector) Name() string { return Name }

// Collect reads every metric from its cursor (or Run.Since) to Run.Now
// through the range-poll loop (collectors.RangePoll: chunking, cursors,
// progress, per-chunk commits); Prometheus supplies only "query this metric
// between these times". The last request of a poll also evaluates the
// still-open hour's start, and the next poll evaluates it again. A failing
// metric does not stop the others; the errors are joined.
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	run = run.WithDefaults(c.log)
	log := run.Logger
	byID := make(map[string]metric, len(c.metrics))
	poll := collectors.RangePoll{Source: Name, Chunk: c.chunk, DefaultSince: DefaultSince, OpenHour: true, Logger: log}
	for _, m := range c.metrics {
		byID[m.id] = m
		poll.Metrics = append(poll.Metrics, collectors.RangeMetric{ID: m.id, Query: m.query})
	}
	warnedBy := map[string]*warned{} // each warning once per metric and run
	poll.Query = func(ctx context.Context, rm collectors.RangeMetric, from, to time.Time) ([]model.Sample, error) {
		m := byID[rm.ID]
		w := warnedBy[m.id]
		if w == nil {
			w = &warned{}
			warnedBy[m.id] = w
		}
		// The whole hours in [from, to): to is an hour boundary, or Run.Now
		// for the last request, whose open hour's start is evaluated too.
		first, last := from, to.Add(-time.Nanosecond).Truncate(time.Hour)
		samples, err := c.query(ctx, m, first, last, log, w)
		if err != nil {
			return nil, err
		}
		log.Debug("prometheus: range read", "metric", m.id, "first", first, "last", last, "samples", len(samples))
		return samples, nil
	}
	return poll.Collect(ctx, run)
}

// warned remembers what was logged for a metric during one run.
type warned struct {
	series, histograms bool
	msgs               map[string]bool
}

// once reports whether msg is new.
func (w *warned) once(msg string) bool {
	if w.msgs == nil {
		w.msgs = map[string]bool{}
	}
	if w.msgs[msg] {
		return false
	}
	w.msgs[msg] = true
	return true
}

// query evaluates m at every hour from first to last (both included) and
// returns its samples, in time order.
func (c *Collector) query(ctx context.Context, m metric, first, last time.Time, log *slog.Logger, w *warned) ([]model.Sample, error) {
	a := &answer{}
	qctx := context.WithValue(ctx, answerKey{}, a)
	val, warnings, infos, err := c.api.QueryRange(qctx, m.query, promv1.Range{Start: first, End: last, Step: Step})
	for _, s := range warnings {
		if w.once("w" + s) {
			log.Warn("prometheus: the server warned about a query", "metric", m.id, "warning", oneLine(s, 300))
		}
	}
	for _, s := range infos {
		if w.once("i" + s) {
			log.Info("prometheus: the server noted about a query", "metric", m.id, "info", oneLine(s, 300))
		}
	}
	if err != nil {
		status, ct := a.get()
		return nil, queryError(ctx, m, status, ct, err)
	}
	mat, ok := val.(pmodel.Matrix)
	if !ok {
		msg := "no result in the body"
		if val != nil {
			msg = fmt.Sprintf("result type %s, want matrix", val.Type())
		}
		return nil, &QueryError{Metric: m.id, Msg: "malformed response: " + msg}
	}
	samples, series, hist := points(mat, first, last)
	if series > 1 && !w.series {
		w.series = true
		log.Warn("prometheus: query returned several series; averaging them per timestamp (aggregate them in the query, e.g. with sum or avg)",
			"metric", m.id, "series", series)
	}
	if hist && !w.histograms {
		w.histograms = true
		log.Warn("prometheus: query returned native histograms, which are skipped (wrap it in histogram_quantile)", "metric", m.id)
	}
	return samples, nil
}

// points averages the float samples of all series per timestamp, skipping
// NaN and ±Inf and anything outside [first, last]. It also returns the
// number of series with float samples and whether any held histograms.
func points(mat pmodel.Matrix, first, last time.Time) (out []model.Sample, series int, hist bool) {
	type acc struct {
		sum float64
		n   int
	}
	byTime := map[int64]*acc{}
	lo, hi := first.UnixMilli(), last.UnixMilli()
	for _, s := range mat {
		if s == nil {
			continue
		}
		if len(s.Histograms) > 0 {
			hist = true
		}
		if len(s.Values) > 0 {
			series++
		}
		for _, p := range s.Values {
			v, ms := float64(p.Value), int64(p.Timestamp)
			if math.IsNaN(v) || math.IsInf(v, 0) || ms < lo || ms > hi {
				continue
			}
			a := byTime[ms]
			if a == nil {
				a = &acc{}
				byTime[ms] = a
			}
			a.sum += v
			a.n++
		}
	}
	out = make([]model.Sample, 0, len(byTime))
	for ms, a := range byTime {
		out = append(out, model.Sample{Time: time.UnixMilli(ms).UTC(), Value: a.sum / float64(a.n)})
	}
	slices.SortFunc(out, func(a, b model.Sample) int { return a.Time.Compare(b.Time) })
	return out, series, hist
}

// queryError turns what client_golang returned into a one-line QueryError
// naming the HTTP status. client_golang parses the body of 400 and 422
// answers (and of 2xx answers that say "status":"error") into an errorType
// and a message; other statuses only say "client error: 401" with the raw
// body as Detail; a 2xx body it cannot decode is a bad_response.
func queryError(ctx context.Context, m metric, status int, contentType string, err error) error {
	if ctx.Err() != nil {
		return &QueryError{Metric: m.id, Msg: ctx.Err().Error(), Err: ctx.Err()}
	}
	var pe *promv1.Error
	if errors.As(err, &pe) && status != 0 {
		generic := pe.Detail != "" || pe.Msg == fmt.Sprintf("client error: %d", status) ||
			pe.Msg == fmt.Sprintf("server error: %d", status) || pe.Msg == fmt.Sprintf("bad response code %d", status)
		switch {
		case status/100 == 2 && pe.Type == promv1.ErrBadResponse:
			if contentType == "" {
				contentType = "no content type"
			}
			msg := pe.Msg
			if i := strings.Index(msg, ", error found in"); i > 0 {
				msg = msg[:i] // jsoniter appends the bytes around the fault
			}
			return &QueryError{Metric: m.id, Msg: fmt.Sprintf("malformed response (%s, %s): %s", statusLine(status), contentType, oneLine(msg, 160)), Err: err}
		case generic:
			msg := statusLine(status)
			if d := detail(pe.Detail, contentType); d != "" && !strings.EqualFold(d, http.StatusText(status)) {
				msg += ": " + d
			}
			return &QueryError{Metric: m.id, StatusCode: status, Msg: msg, Err: err}
		default:
			// An API error: "400 bad_data: parse error at char 5: …".
			typ := string(pe.Type)
			if typ == "" {
				typ = "error"
			}
			return &QueryError{Metric: m.id, StatusCode: status, Type: string(pe.Type),
				Msg: fmt.Sprintf("%d %s: %s", status, typ, oneLine(pe.Msg, 300)), Err: err}
		}
	}
	// No answer: a transport error, possibly after the shared client's
	// retries ran out.
	var he *collectors.HTTPError
	if errors.As(err, &he) {
		return &QueryError{Metric: m.id, StatusCode: he.StatusCode, Msg: oneLine(he.Detail(), 300), Err: err}
	}
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	return &QueryError{Metric: m.id, Msg: strings.TrimPrefix(oneLine(inner.Error(), 300), Name+": "), Err: err}
}

func statusLine(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprintf("%d", code)
}

// detail is a short, one-line reason from an error body: the "error" of a
// JSON body, or a plain-text body; "" for HTML and anything long.
func detail(body, contentType string) string {
	body = strings.TrimSpace(body)
	if body == "" {
		return ""
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(body), &e) == nil {
		return oneLine(e.Error, 200)
	}
	if strings.HasPrefix(contentType, "text/plain") && len(body) <= 200 {
		return oneLine(body, 200)
	}
	return ""
}

// oneLine collapses whitespace and cuts s to at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
