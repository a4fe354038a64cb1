// Package prometheus collects the `metrics:` entries with `source:
// prometheus` through Prometheus's HTTP API (range queries,
// /api/v1/query_range) at an hourly step.
//
// Each configured query is evaluated at step-aligned times (multiples of the
// step since the Unix epoch, so every poll hits the same timestamps and the
// store upserts instead of piling up near-duplicates). Long ranges are split
// so one request returns at most Options.MaxPoints points per series
// (default 10,000; Prometheus refuses a range of more than 11,000 steps), so
// at the hourly step one request covers about 416 days. Each request's
// samples are committed together with the metric's cursor ({"through":
// RFC 3339, "query": q}); an interrupted backfill resumes at the first
// request it did not store, and a changed query is read again from
// Run.Since.
//
// The cursor names the first evaluation time the next poll reads. It never
// moves past the last complete step, floor(Run.Now/step)·step: that point is
// stored by the poll that reads it and read again by the next one, which
// overwrites it once late scrapes have arrived.
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
	// DefaultStep is the query resolution when Options.Step is zero.
	DefaultStep = time.Hour
	// DefaultMaxPoints is the most points one request asks for when
	// Options.MaxPoints is zero: 10,000 hourly points, about 416 days.
	DefaultMaxPoints = 10_000
	// MaxPoints is the largest accepted Options.MaxPoints: Prometheus
	// refuses a range query of more than 11,000 steps per series
	// ("exceeded maximum resolution of 11,000 points per timeseries").
	MaxPoints = 11_000
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
	// MaxPoints is the most evaluation times one request covers, between 1
	// and MaxPoints. Default DefaultMaxPoints.
	MaxPoints int
	// Step is the query resolution: a whole number of seconds, at least one.
	// Default DefaultStep (1h).
	Step time.Duration
}

// Cursor is what the collector stores under each metric id.
type Cursor struct {
	// Through is the first evaluation time the next poll reads; always a
	// multiple of the step.
	Through time.Time `json:"through"`
	// Query is the query the data was read with; when the configured query
	// changes, the metric is read again from Run.Since.
	Query string `json:"query,omitempty"`
}

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
	api       promv1.API
	metrics   []metric
	step      time.Duration
	maxPoints int
	log       *slog.Logger
}

var _ collectors.Collector = (*Collector)(nil)

// New builds the collector for the metrics whose Source is "prometheus";
// others are ignored. src.URL is the server's base URL (a path prefix, as
// behind a proxy, is kept). Credentials come from bearer_token or
// basic_auth, or from user:password in the URL when neither is set; they
// are sent only to the configured host and never appear in errors or logs.
func New(src Config, metrics []config.Metric, opt Options) (*Collector, error) {
	c := &Collector{step: opt.Step, maxPoints: opt.MaxPoints, log: opt.Logger}
	if c.step == 0 {
		c.step = DefaultStep
	}
	if c.step < time.Second || c.step%time.Second != 0 {
		return nil, fmt.Errorf("prometheus: step %v must be a whole number of seconds, at least 1s", opt.Step)
	}
	if c.maxPoints == 0 {
		c.maxPoints = DefaultMaxPoints
	}
	if c.maxPoints < 1 || c.maxPoints > MaxPoints {
		return nil, fmt.Errorf("prometheus: max points %d must be between 1 and %d", opt.MaxPoints, MaxPoints)
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

// chunk is one request: evaluation times first, first+step, …, last.
// next is the cursor after it.
type chunk struct{ first, last, next time.Time }

type plan struct {
	m      metric
	chunks []chunk
}

// Collect reads every metric from its cursor (or Run.Since) to Run.Now. A
// failing metric does not stop the others; the errors are joined.
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	if run.Sink == nil {
		return errors.New("prometheus: no sink")
	}
	run = run.WithDefaults(c.log)
	log, progress, now := run.Logger, run.Progress, run.Now
	through := c.align(now) // the last complete step

	var errs []error
	var plans []plan
	var total int64
	for _, m := range c.metrics {
		start, resumed, err := c.start(ctx, run, m, now, log)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if resumed && !start.Before(through) {
			// No step has completed since the last poll: the last one is
			// read again by the first poll after the next step closes. A
			// poll with nothing new costs no request.
			continue
		}
		p := plan{m: m, chunks: c.split(start, through)}
		total += int64(len(p.chunks))
		plans = append(plans, p)
	}
	progress.Total(Name, total)

	for i, p := range plans {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("prometheus: query_range %s: %w", p.m.id, err))
			progress.Done(Name, int64(len(p.chunks)))
		} else if err := c.collectMetric(ctx, run.Sink, progress, log, p); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			for _, rest := range plans[i+1:] {
				progress.Done(Name, int64(len(rest.chunks)))
			}
			break
		}
	}
	return errors.Join(errs...)
}

// align rounds t down to a multiple of the step since the Unix epoch.
func (c *Collector) align(t time.Time) time.Time {
	s := int64(c.step / time.Second)
	u := t.Unix()
	u -= ((u % s) + s) % s
	return time.Unix(u, 0).UTC()
}

// start is the first evaluation time of metric m: its cursor, unless this is
// a backfill, there is none, or the query changed since it was written.
func (c *Collector) start(ctx context.Context, run collectors.Run, m metric, now time.Time, log *slog.Logger) (start time.Time, resumed bool, err error) {
	since := run.Since
	if since.IsZero() {
		since = now.Add(-DefaultSince)
	}
	since = c.align(since)
	if run.Backfill {
		return since, false, nil
	}
	raw, err := run.Sink.Cursor(ctx, Name, m.id)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("prometheus: read cursor of %s: %w", m.id, err)
	}
	if raw == nil {
		return since, false, nil
	}
	var cur Cursor
	if err := json.Unmarshal(raw, &cur); err != nil || cur.Through.IsZero() {
		log.Warn("prometheus: unreadable cursor, reading again from since", "metric", m.id, "since", since)
		return since, false, nil
	}
	if cur.Query != "" && cur.Query != m.query {
		log.Info("prometheus: query changed, reading again from since", "metric", m.id, "since", since)
		return since, false, nil
	}
	return c.align(cur.Through), true, nil
}

// split cuts the evaluation times start, start+step, …, through into
// requests of at most maxPoints points, oldest first.
func (c *Collector) split(start, through time.Time) []chunk {
	if start.After(through) {
		return nil
	}
	span := time.Duration(c.maxPoints) * c.step
	var out []chunk
	for first := start; !first.After(through); first = first.Add(span) {
		last := first.Add(span - c.step)
		next := last.Add(c.step)
		if !last.Before(through) {
			// The last complete step is read again next time.
			last, next = through, through
		}
		out = append(out, chunk{first, last, next})
	}
	return out
}

func (c *Collector) collectMetric(ctx context.Context, sink collectors.Sink, progress collectors.Progress, log *slog.Logger, p plan) error {
	var w warned
	stored := 0
	for i, ch := range p.chunks {
		samples, err := c.query(ctx, p.m, ch, log, &w)
		if err != nil {
			progress.Done(Name, int64(len(p.chunks)-i)) // the bar still completes
			return err
		}
		cur, err := json.Marshal(Cursor{Through: ch.next, Query: p.m.query})
		if err != nil {
			return err
		}
		b := model.Batch{Source: Name, Cursors: map[string][]byte{p.m.id: cur}}
		if len(samples) > 0 {
			b.Samples = map[string][]model.Sample{p.m.id: samples}
		}
		if err := sink.Commit(ctx, b); err != nil {
			progress.Done(Name, int64(len(p.chunks)-i))
			return fmt.Errorf("prometheus: store %s: %w", p.m.id, err)
		}
		stored += len(samples)
		progress.Done(Name, 1)
		log.Debug("prometheus: chunk stored", "metric", p.m.id, "first", ch.first, "last", ch.last, "samples", len(samples))
	}
	if len(p.chunks) > 0 {
		log.Info("prometheus: collected", "metric", p.m.id, "requests", len(p.chunks), "samples", stored)
	}
	return nil
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

// query reads one chunk and returns its samples, in time order.
func (c *Collector) query(ctx context.Context, m metric, ch chunk, log *slog.Logger, w *warned) ([]model.Sample, error) {
	a := &answer{}
	qctx := context.WithValue(ctx, answerKey{}, a)
	val, warnings, infos, err := c.api.QueryRange(qctx, m.query, promv1.Range{Start: ch.first, End: ch.last, Step: c.step})
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
	samples, series, hist := points(mat, ch)
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
// NaN and ±Inf and anything outside the chunk. It also returns the number of
// series with float samples and whether any held histograms.
func points(mat pmodel.Matrix, ch chunk) (out []model.Sample, series int, hist bool) {
	type acc struct {
		sum float64
		n   int
	}
	byTime := map[int64]*acc{}
	lo, hi := ch.first.UnixMilli(), ch.last.UnixMilli()
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
