// Package datadog collects the `metrics:` entries with `source: datadog` from
// Datadog's v1 metrics query API (GET /api/v1/query) at an hourly resolution.
//
// Every configured query is sent with `.rollup(avg, 3600)` appended (unless it
// already carries a `.rollup(`), so Datadog returns one point per hour. Long
// ranges are read in chunks, oldest first; each chunk's samples are committed
// together with the metric's cursor ({"through": RFC 3339}), so an interrupted
// backfill resumes at the first chunk it did not store. The cursor never moves
// past the start of the current, still-open hour: the next poll re-reads that
// hour and overwrites its partial value.
//
// Chunk size: Datadog returns at most 1500 points per series and coarsens the
// rollup when a query would return more. The default chunk, MaxChunk, is 62
// days: 1488 hourly points (1490 at most: the last chunk of a run may be up
// to an hour longer, and both ends may hold a point), the most whole days
// under that cap, so a year is 6 requests per series — the fewest the cap
// allows. Options.Chunk may lower it.
package datadog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// Name is the source name, used for Batch.Source, cursors and errors.
const Name = "datadog"

const (
	// DefaultChunk is the range one request covers when Options.Chunk is zero:
	// MaxChunk.
	DefaultChunk = MaxChunk
	// MaxChunk is the largest accepted Options.Chunk: 1488 hourly points, under
	// the 1500 points per series Datadog returns before coarsening the rollup.
	MaxChunk = 62 * 24 * time.Hour
	// DefaultSince is how far back a first collection reaches when Run.Since
	// is zero.
	DefaultSince = 90 * 24 * time.Hour

	// RollupSuffix is appended to every query that has no rollup of its own.
	RollupSuffix = ".rollup(avg, 3600)"

	// DefaultSite is used when the config names no site.
	DefaultSite = "datadoghq.com"
)

// Options tune the collector.
type Options struct {
	// HTTPClient carries every request. Default:
	// collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: "datadog"}),
	// which retries 5xx and 429; the Datadog client's own retry stays off.
	HTTPClient *http.Client
	// Logger receives warnings and progress notes when Run.Logger is nil.
	Logger *slog.Logger
	// Chunk is the time range of one request: a whole number of hours
	// between 1h and MaxChunk. Default DefaultChunk (62 days).
	Chunk time.Duration
}

// Cursor is what the collector stores under each metric id: the range
// poll's cursor ({"through": RFC 3339, "query": q}).
type Cursor = collectors.RangeCursor

// QueryError is a failed query: the HTTP status when the API answered,
// else the transport error.
type QueryError struct {
	Metric     string // metric id
	StatusCode int    // 0 when there was no HTTP answer or the body was malformed
	Msg        string // one line, without the "datadog: query <id>: " prefix
	Err        error  // underlying error, may be nil
}

func (e *QueryError) Error() string { return "datadog: query " + e.Metric + ": " + e.Msg }
func (e *QueryError) Unwrap() error { return e.Err }

type metric struct {
	id    string
	query string // sent to the API, rollup included
}

// Collector polls Datadog for the configured metrics.
type Collector struct {
	api     *datadog.APIClient
	keys    map[string]datadog.APIKey
	index   int
	vars    map[string]string
	metrics []metric
	chunk   time.Duration
	log     *slog.Logger
}

var _ collectors.Collector = (*Collector)(nil)

// New builds the collector for the metrics whose Source is "datadog"; others
// are ignored.
func New(src Config, metrics []config.Metric, opt Options) (*Collector, error) {
	c := &Collector{chunk: opt.Chunk, log: opt.Logger}
	if c.chunk == 0 {
		c.chunk = DefaultChunk
	}
	if c.chunk < time.Hour || c.chunk > MaxChunk || c.chunk%time.Hour != 0 {
		return nil, fmt.Errorf("datadog: chunk %v must be a whole number of hours between 1h and %v", opt.Chunk, MaxChunk)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if src.APIKey.Value() == "" {
		return nil, errors.New("datadog: api_key is not set")
	}
	if src.AppKey.Value() == "" {
		return nil, errors.New("datadog: app_key is not set")
	}
	c.keys = map[string]datadog.APIKey{
		"apiKeyAuth": {Key: src.APIKey.Value()},
		"appKeyAuth": {Key: src.AppKey.Value()},
	}

	cfg := datadog.NewConfiguration()
	cfg.RetryConfiguration.EnableRetry = false // our transport retries
	cfg.HTTPClient = opt.HTTPClient
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: RateLimit})
	}

	if strings.TrimSpace(src.APIURL) != "" {
		name, scheme, err := parseAPIURL(src.APIURL)
		if err != nil {
			return nil, err
		}
		c.index = 1 // "{protocol}://{name}"
		c.vars = map[string]string{"protocol": scheme, "name": name}
	} else {
		site := normalizeSite(src.Site)
		c.vars = map[string]string{"site": site}
		c.index = 0 // "https://{subdomain}.{site}", site from a fixed list
		if !slices.Contains(cfg.Servers[0].Variables["site"].EnumValues, site) {
			// A site the pinned client does not list yet: server 2 takes any
			// Datadog deployment under the same URL template.
			c.index = 2
		}
	}
	c.api = datadog.NewAPIClient(cfg)

	for _, m := range metrics {
		if m.Source != Name {
			continue
		}
		if m.ID == "" {
			return nil, errors.New("datadog: a metric has no id")
		}
		if strings.TrimSpace(m.Query) == "" {
			return nil, fmt.Errorf("datadog: metric %s has no query", m.ID)
		}
		c.metrics = append(c.metrics, metric{id: m.ID, query: RollupQuery(m.Query)})
	}
	return c, nil
}

// parseAPIURL turns api_url into server 1's variables. A path prefix (a
// proxy mounted under /datadog) is kept as part of the name.
func parseAPIURL(raw string) (name, scheme string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", "", fmt.Errorf("datadog: api_url %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", "", fmt.Errorf("datadog: api_url %q: want http(s)://host[:port][/path]", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("datadog: api_url %q: must not carry credentials, a query or a fragment", u.Redacted())
	}
	return u.Host + strings.TrimRight(u.EscapedPath(), "/"), u.Scheme, nil
}

// normalizeSite accepts "datadoghq.eu", and also the forms users paste from
// their browser ("app.datadoghq.eu", "https://app.datadoghq.eu/").
func normalizeSite(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "https://")
	s = strings.TrimSuffix(s, "/")
	s = strings.TrimPrefix(s, "app.")
	s = strings.TrimPrefix(s, "api.")
	if s == "" {
		return DefaultSite
	}
	return s
}

// RollupQuery returns the query as sent to Datadog: q with RollupSuffix
// appended unless q already has a rollup.
func RollupQuery(q string) string {
	q = strings.TrimSpace(q)
	if strings.Contains(q, ".rollup(") {
		return q
	}
	return q + RollupSuffix
}

// Name implements collectors.Collector.
func (c *Collector) Name() string { return Name }

type chunk struct{ from, to time.Time }

// Collect reads every metric from its cursor (or Run.Since) to Run.Now
// through the range-poll loop (collectors.RangePoll: chunking, cursors,
// progress, per-chunk commits); Datadog supplies only "query this metric
// between these times". The still-open hour is read too, and read again,
// final, by the first poll after it closes. A failing metric does not stop
// the others; the errors are joined.
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	run = run.WithDefaults(c.log)
	log := run.Logger
	byID := make(map[string]metric, len(c.metrics))
	poll := collectors.RangePoll{Source: Name, Chunk: c.chunk, DefaultSince: DefaultSince, OpenHour: true, Logger: log}
	for _, m := range c.metrics {
		byID[m.id] = m
		poll.Metrics = append(poll.Metrics, collectors.RangeMetric{ID: m.id, Query: m.query})
	}
	// Each warning once per metric and run.
	warnedSeries, warnedInterval := map[string]bool{}, map[string]bool{}
	poll.Query = func(ctx context.Context, rm collectors.RangeMetric, from, to time.Time) ([]model.Sample, error) {
		m := byID[rm.ID]
		samples, sh, err := c.query(ctx, m, chunk{from, to})
		if err != nil {
			return nil, err
		}
		if sh.series > 1 && !warnedSeries[m.id] {
			warnedSeries[m.id] = true
			log.Warn("datadog: query returned several series; averaging them per timestamp (drop the `by {…}` grouping from the query)",
				"metric", m.id, "series", sh.series)
		}
		if sh.interval > 3600 && !warnedInterval[m.id] {
			warnedInterval[m.id] = true
			log.Warn("datadog: points are coarser than hourly; the query's own rollup or the chunk size is too large",
				"metric", m.id, "interval_seconds", sh.interval)
		}
		log.Debug("datadog: chunk read", "metric", m.id, "from", from, "to", to, "samples", len(samples))
		return samples, nil
	}
	return poll.Collect(ctx, run)
}

func (c *Collector) reqContext(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, datadog.ContextAPIKeys, c.keys)
	ctx = context.WithValue(ctx, datadog.ContextServerIndex, c.index)
	return context.WithValue(ctx, datadog.ContextServerVariables, c.vars)
}

// query reads one chunk and returns its hourly samples, in time order.
//
// The request is the one datadogV1.MetricsApi.QueryMetrics sends (same
// server, keys, headers and HTTP client), but the body is decoded once, into
// only the fields used here: the generated MetricsQueryResponse decodes each
// body twice and each series twice more (the second time into maps of
// json.Number for additionalProperties), half of a backfill's CPU.
func (c *Collector) query(ctx context.Context, m metric, ch chunk) ([]model.Sample, shape, error) {
	body, hr, err := c.get(c.reqContext(ctx), ch.from.Unix(), ch.to.Unix(), m.query)
	if err != nil {
		return nil, shape{}, queryError(ctx, m, hr, err)
	}
	resp, err := decodeResponse(body)
	var oe datadog.GenericOpenAPIError
	switch {
	case errors.As(err, &oe):
		return nil, shape{}, queryError(ctx, m, hr, err)
	case err != nil:
		return nil, shape{}, &QueryError{Metric: m.id, Msg: "malformed response: " + err.Error(), Err: err}
	}
	samples, sh, err := points(resp, ch)
	var re reportedError
	switch {
	case errors.As(err, &re):
		return nil, sh, &QueryError{Metric: m.id, StatusCode: hr.StatusCode, Msg: hr.Status + " with error: " + string(re), Err: err}
	case err != nil:
		return nil, sh, &QueryError{Metric: m.id, Msg: "malformed response: " + err.Error(), Err: err}
	}
	return samples, sh, nil
}

// get sends GET /api/v1/query as the generated client does and returns the
// body of a 2xx answer. A non-2xx answer is a datadog.GenericOpenAPIError
// carrying the body, as the generated client returns it.
func (c *Collector) get(ctx context.Context, from, to int64, query string) ([]byte, *http.Response, error) {
	base, err := c.api.Cfg.ServerURLWithContext(ctx, "v1.MetricsApi.QueryMetrics")
	if err != nil {
		return nil, nil, datadog.GenericOpenAPIError{ErrorMessage: err.Error()}
	}
	headers := map[string]string{"Accept": "application/json"}
	datadog.SetAuthKeys(ctx, &headers,
		[2]string{"apiKeyAuth", "DD-API-KEY"},
		[2]string{"appKeyAuth", "DD-APPLICATION-KEY"},
	)
	params := url.Values{}
	params.Add("from", datadog.ParameterToString(from, ""))
	params.Add("to", datadog.ParameterToString(to, ""))
	params.Add("query", datadog.ParameterToString(query, ""))
	req, err := c.api.PrepareRequest(ctx, base+"/api/v1/query", http.MethodGet, nil, headers, params, url.Values{}, nil)
	if err != nil {
		return nil, nil, err
	}
	hr, err := c.api.CallAPI(req)
	if err != nil || hr == nil {
		return nil, hr, err
	}
	body, err := datadog.ReadBody(hr)
	if err != nil {
		return nil, hr, err
	}
	if hr.StatusCode >= 300 {
		return nil, hr, datadog.GenericOpenAPIError{ErrorBody: body, ErrorMessage: hr.Status}
	}
	return body, hr, nil
}

// queryResponse is the part of a v1 query response the collector reads.
type queryResponse struct {
	Status *string       `json:"status"`
	Error  *string       `json:"error"`
	Series []querySeries `json:"series"`
}

type querySeries struct {
	Interval  int64        `json:"interval"`
	Pointlist [][]*float64 `json:"pointlist"`
}

// decodeResponse decodes a 2xx body in one pass. A body that is not JSON is
// a datadog.GenericOpenAPIError, as from the generated client (queryError
// names the status and content type); JSON of the wrong shape names the
// series at fault when it is one.
func decodeResponse(body []byte) (queryResponse, error) {
	var resp queryResponse
	if len(body) == 0 {
		return resp, nil // "no status and no series"
	}
	err := json.Unmarshal(body, &resp)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return resp, nil
	case errors.As(err, &te) && strings.HasPrefix(te.Field, "series."):
		return resp, fmt.Errorf("series %d does not match the schema", badSeries(body))
	case errors.As(err, &te):
		return resp, errors.New("body does not match the v1 query response schema")
	}
	return resp, datadog.GenericOpenAPIError{ErrorBody: body, ErrorMessage: err.Error()}
}

// badSeries is the index of the first series that does not decode; only
// called on the error path.
func badSeries(body []byte) int {
	var raw struct {
		Series []json.RawMessage `json:"series"`
	}
	_ = json.Unmarshal(body, &raw)
	for i, s := range raw.Series {
		if json.Unmarshal(s, new(querySeries)) != nil {
			return i
		}
	}
	return 0
}

func queryError(ctx context.Context, m metric, hr *http.Response, err error) error {
	if ctx.Err() != nil {
		return &QueryError{Metric: m.id, Msg: ctx.Err().Error(), Err: ctx.Err()}
	}
	var oe datadog.GenericOpenAPIError
	isOE := errors.As(err, &oe)
	var re *collectors.RedirectError
	var tl *collectors.ResponseTooLargeError
	switch {
	case errors.As(err, &re), errors.As(err, &tl):
		// A redirect refused (the response is the 3xx), a body over the cap.
		msg, _ := collectors.TransportDetail(err)
		code := 0
		if hr != nil {
			code = hr.StatusCode
			msg = hr.Status + ": " + msg
		}
		return &QueryError{Metric: m.id, StatusCode: code, Msg: msg, Err: err}
	case hr != nil && hr.StatusCode >= 300:
		msg := hr.Status
		if msg == "" {
			msg = fmt.Sprintf("%d %s", hr.StatusCode, http.StatusText(hr.StatusCode))
		}
		if isOE {
			if d := firstError(oe.ErrorBody); d != "" && !strings.EqualFold(d, http.StatusText(hr.StatusCode)) {
				msg += ": " + d
			}
		}
		return &QueryError{Metric: m.id, StatusCode: hr.StatusCode, Msg: msg, Err: err}
	case hr != nil:
		// The API answered 2xx but the client could not decode the body.
		ct := hr.Header.Get("Content-Type")
		if ct == "" {
			ct = "no content type"
		}
		return &QueryError{Metric: m.id, Msg: fmt.Sprintf("malformed response (%s, %s): %s", hr.Status, ct, oneLine(err.Error(), 160)), Err: err}
	}
	// No answer: a transport error, possibly after our client's retries.
	if d, ok := collectors.TransportDetail(err); ok {
		return &QueryError{Metric: m.id, Msg: d, Err: err}
	}
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	msg := strings.TrimPrefix(oneLine(inner.Error(), 300), Name+": ")
	return &QueryError{Metric: m.id, Msg: msg, Err: err}
}

// firstError is the first message of a Datadog error body
// ({"errors": ["..."]}), on one line and short, or "".
func firstError(body []byte) string {
	var e struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(e.Errors[0], &s) != nil {
		s = string(e.Errors[0])
	}
	return oneLine(s, 200)
}

// oneLine collapses whitespace and cuts s to at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

// points turns a response into hourly samples within [ch.from, ch.to): null
// points are skipped; several series are averaged per timestamp.
func points(resp queryResponse, ch chunk) ([]model.Sample, shape, error) {
	var sh shape
	if resp.Status == nil && resp.Series == nil {
		return nil, sh, errors.New("no status and no series in the body")
	}
	status, msg := deref(resp.Status), deref(resp.Error)
	if status == "error" || msg != "" {
		if msg == "" {
			msg = "status " + status
		}
		return nil, sh, reportedError(oneLine(msg, 200))
	}
	if resp.Series == nil {
		// Datadog always sends "series" (empty when there is no data): an
		// answer without it says nothing about the chunk, and taking it
		// for "no data" would move the cursor past data never read.
		return nil, sh, errors.New("no series in the body")
	}
	type acc struct {
		sum float64
		n   int
	}
	byTime := map[int64]*acc{}
	for i, s := range resp.Series {
		sh.interval = max(sh.interval, s.Interval)
		for j, p := range s.Pointlist {
			if len(p) != 2 {
				return nil, sh, fmt.Errorf("series %d point %d has %d elements, want [time, value]", i, j, len(p))
			}
			if p[0] == nil || p[1] == nil {
				continue // no data in this interval
			}
			ms, v := *p[0], *p[1]
			if math.IsNaN(ms) || math.IsInf(ms, 0) || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			t := time.UnixMilli(int64(ms)).Truncate(time.Second).UTC()
			// Outside [from, to) is a partial bucket another chunk (or the
			// next poll) reads in full.
			if t.Before(ch.from) || !t.Before(ch.to) {
				continue
			}
			a := byTime[t.Unix()]
			if a == nil {
				a = &acc{}
				byTime[t.Unix()] = a
			}
			a.sum += v
			a.n++
		}
	}
	out := make([]model.Sample, 0, len(byTime))
	for sec, a := range byTime {
		out = append(out, model.Sample{Time: time.Unix(sec, 0).UTC(), Value: a.sum / float64(a.n)})
	}
	slices.SortFunc(out, func(a, b model.Sample) int { return a.Time.Compare(b.Time) })
	sh.series = len(resp.Series)
	return out, sh, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// reportedError is an error the API put in a 2xx body (status "error").
type reportedError string

func (e reportedError) Error() string { return string(e) }

// shape is what a response says about itself beyond its points.
type shape struct {
	series   int   // number of series
	interval int64 // largest point interval, seconds
}
