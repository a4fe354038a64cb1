// Package honeycomb collects the `metrics:` entries with `source:
// honeycomb` through Honeycomb's Query Data API, at an hourly resolution.
//
// A range is read in three steps, as the API documents: create a query
// (POST /1/queries/{dataset}) with the metric's calculation and filters,
// start_time, end_time and granularity 3600; run it (POST
// /1/query_results/{dataset}); poll the result (GET
// /1/query_results/{dataset}/{id}) until it is complete, within
// Options.PollTimeout. The series' hourly buckets become samples.
//
// The API's limits shape the poll (collectors.RangePoll does the
// chunking, cursor, progress and per-chunk commit):
//   - only the past 7 days can be queried (MaxAge): a backfill reaching
//     further starts 7 days back, and says so;
//   - a granularity must lie between range/1000 and range/10, so an
//     hourly query covers at least 10 hours (MinRange: an hourly poll
//     re-reads the last 10 hours, which overwrite themselves) and a 7-day
//     range (168 buckets) is one query (MaxChunk);
//   - creating query results is limited to 10 a minute (ResultsPerMinute):
//     the collector spaces them itself; other 429s and the RateLimit
//     header are the shared client's.
//
// So a backfill costs 3 requests per metric when results complete at the
// first poll: the minimum the API allows.
package honeycomb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// Name is the source name.
const Name = "honeycomb"

const (
	// Granularity is the bucket width asked for, in seconds.
	Granularity = 3600
	// MaxAge is how far back the Query Data API reads.
	MaxAge = 7 * 24 * time.Hour
	// MaxChunk is the longest range one query covers: everything the API
	// reads, 168 hourly buckets (the granularity allows up to 1,000).
	MaxChunk = MaxAge
	// MinRange is the shortest range an hourly query may cover: the
	// granularity may be at most a tenth of the range.
	MinRange = 10 * Granularity * time.Second
	// ResultsPerMinute is the documented limit on creating query results.
	ResultsPerMinute = 10
	// DefaultPollTimeout bounds the wait for one result to complete.
	DefaultPollTimeout = 3 * time.Minute
	// DefaultPollInterval is the first wait before polling a result; it
	// doubles up to maxPollInterval.
	DefaultPollInterval = 200 * time.Millisecond
	maxPollInterval     = 5 * time.Second
	// maxBody bounds a response body.
	maxBody = 16 << 20
)

// Options tune the collector.
type Options struct {
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Chunk is the range of one query; default MaxChunk, at least
	// MinRange.
	Chunk time.Duration
	// PollTimeout bounds the wait for a result; default DefaultPollTimeout.
	PollTimeout time.Duration
	// PollInterval is the first wait before polling a result; default
	// DefaultPollInterval.
	PollInterval time.Duration
	// Now and Sleep are the clock and the wait of the query-result pacing
	// and of polling; tests replace them. Defaults: time.Now,
	// collectors.SleepTimer.
	Now   func() time.Time
	Sleep func(done <-chan struct{}, d time.Duration) bool
}

// Collector polls Honeycomb for the configured metrics.
type Collector struct {
	poll     collectors.RangePoll
	client   *http.Client
	base     string
	key      string
	specs    map[string]metric
	timeout  time.Duration
	interval time.Duration
	now      func() time.Time
	sleep    func(<-chan struct{}, time.Duration) bool
	log      *slog.Logger

	mu      sync.Mutex
	created []time.Time // query results created in the last minute
}

type metric struct {
	dataset string
	spec    Spec
}

// New builds the collector for the metrics whose source is honeycomb.
func New(cfg Config, metrics []config.Metric, o Options) (*Collector, error) {
	c := &Collector{client: o.HTTPClient, base: cfg.Endpoint(), key: cfg.APIKey.Value(), specs: map[string]metric{},
		timeout: o.PollTimeout, interval: o.PollInterval, now: o.Now, sleep: o.Sleep, log: o.Logger}
	if c.client == nil {
		c.client = collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name, RateLimit: collectors.StructuredRateLimit("RateLimit")})
	}
	if c.timeout <= 0 {
		c.timeout = DefaultPollTimeout
	}
	if c.interval <= 0 {
		c.interval = DefaultPollInterval
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = collectors.SleepTimer
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	chunk := o.Chunk
	if chunk == 0 {
		chunk = MaxChunk
	}
	if chunk > MaxChunk || chunk < MinRange {
		return nil, fmt.Errorf("honeycomb: chunk %v is outside [%v, %v] (hourly buckets over at most 7 days)", chunk, MinRange, MaxChunk)
	}
	c.poll = collectors.RangePoll{Source: Name, Chunk: chunk, MinRange: MinRange, MaxAge: MaxAge,
		DefaultSince: MaxAge, Logger: o.Logger, Query: c.query}
	for _, m := range metrics {
		if m.Source != Name {
			continue
		}
		spec, err := ParseQuery(m.Query)
		if err != nil {
			return nil, fmt.Errorf("honeycomb: metric %s: query: %w", m.ID, err)
		}
		ds := strings.TrimSpace(m.In)
		if ds == "" {
			return nil, fmt.Errorf("honeycomb: metric %s: no dataset (in:)", m.ID)
		}
		c.specs[m.ID] = metric{dataset: ds, spec: spec}
		c.poll.Metrics = append(c.poll.Metrics, collectors.RangeMetric{ID: m.ID, Query: ds + " " + spec.Canonical()})
	}
	return c, nil
}

// Name implements collectors.Collector.
func (c *Collector) Name() string { return Name }

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	return c.poll.Collect(ctx, run)
}

// Error is a failed query.
type Error struct {
	Metric     string
	Step       string // "create query", "run query", "poll result"
	StatusCode int    // 0 when Honeycomb did not answer, or answered 2xx with a bad body
	Msg        string
	Err        error
}

func (e *Error) Error() string {
	return "honeycomb: query " + e.Metric + ": " + e.Step + ": " + e.Msg
}
func (e *Error) Unwrap() error { return e.Err }

// Problem is Honeycomb's error body: RFC 7807 with an "error" field.
type Problem struct {
	Status int    `json:"status"`
	Type   string `json:"type"`
	Title  string `json:"title"`
	Error  string `json:"error"`
	Detail string `json:"detail"`
	// TypeDetail lists field errors (validation).
	TypeDetail []struct {
		Code        string `json:"code"`
		Field       string `json:"field"`
		Description string `json:"description"`
	} `json:"type_detail"`
}

func (p Problem) message() string {
	msg := p.Error
	if msg == "" {
		msg = p.Title
	}
	for _, d := range p.TypeDetail {
		msg += "; " + strings.TrimSpace(d.Field+" "+d.Description)
	}
	if p.Detail != "" && p.Detail != msg {
		msg += " (" + p.Detail + ")"
	}
	return msg
}

// querySpec is the body of "create a query".
type querySpec struct {
	Spec
	Granularity int   `json:"granularity"`
	StartTime   int64 `json:"start_time"`
	EndTime     int64 `json:"end_time"`
}

// Result is a query result as GET /1/query_results/{dataset}/{id} answers.
type Result struct {
	ID       string `json:"id"`
	Complete bool   `json:"complete"`
	Data     *struct {
		Series []SeriesPoint `json:"series"`
	} `json:"data"`
}

// SeriesPoint is one bucket of a result's series.
type SeriesPoint struct {
	Time time.Time                  `json:"time"`
	Data map[string]json.RawMessage `json:"data"`
}

func (c *Collector) query(ctx context.Context, rm collectors.RangeMetric, from, to time.Time) ([]model.Sample, error) {
	m := c.specs[rm.ID]
	ds := url.PathEscape(m.dataset)
	fail := func(step string) func(status int, msg string, err error) *Error {
		return func(status int, msg string, err error) *Error {
			return &Error{Metric: rm.ID, Step: step, StatusCode: status, Msg: msg, Err: err}
		}
	}

	// 1. The query spec.
	var q struct {
		ID string `json:"id"`
	}
	// The last chunk of a backfill may be shorter than an hourly query
	// may cover: it starts earlier, re-reading hours already stored (the
	// range poll keeps only [from, to)).
	qfrom := from
	if to.Sub(from) < MinRange {
		qfrom = to.Add(-MinRange)
	}
	spec := querySpec{Spec: m.spec, Granularity: Granularity, StartTime: qfrom.Unix(), EndTime: to.Unix()}
	if err := c.do(ctx, http.MethodPost, "/1/queries/"+ds, spec, &q, fail("create query")); err != nil {
		return nil, err
	}
	if q.ID == "" {
		return nil, fail("create query")(0, "malformed response: no id", nil)
	}

	// 2. Run it (10 a minute).
	if err := c.pace(ctx); err != nil {
		return nil, fail("run query")(0, err.Error(), err)
	}
	var r Result
	if err := c.do(ctx, http.MethodPost, "/1/query_results/"+ds, map[string]any{"query_id": q.ID}, &r, fail("run query")); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, fail("run query")(0, "malformed response: no id", nil)
	}

	// 3. Poll until complete.
	pctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	wait := c.interval
	id := r.ID
	for !r.Complete {
		if !c.sleep(pctx.Done(), wait) {
			if ctx.Err() != nil {
				return nil, fail("poll result")(0, ctx.Err().Error(), ctx.Err())
			}
			return nil, fail("poll result")(0, fmt.Sprintf("result %s not complete after %v", id, c.timeout), context.DeadlineExceeded)
		}
		wait = min(2*wait, maxPollInterval)
		r = Result{}
		if err := c.do(pctx, http.MethodGet, "/1/query_results/"+ds+"/"+url.PathEscape(id), nil, &r, fail("poll result")); err != nil {
			if ctx.Err() == nil && pctx.Err() != nil {
				return nil, fail("poll result")(0, fmt.Sprintf("result %s not complete after %v", id, c.timeout), err)
			}
			return nil, err
		}
	}
	if r.Data == nil || r.Data.Series == nil {
		return nil, fail("poll result")(0, "malformed response: a complete result without data.series", nil)
	}
	out, err := Samples(r.Data.Series, m.spec.Calculations[0].Name())
	if err != nil {
		return nil, fail("poll result")(0, "malformed response: "+err.Error(), err)
	}
	return out, nil
}

// pace waits until creating another query result stays within
// ResultsPerMinute.
func (c *Collector) pace(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		now := c.now()
		kept := c.created[:0]
		for _, t := range c.created {
			if now.Sub(t) < time.Minute {
				kept = append(kept, t)
			}
		}
		c.created = kept
		if len(c.created) < ResultsPerMinute {
			c.created = append(c.created, now)
			return nil
		}
		d := c.created[0].Add(time.Minute).Sub(now)
		c.log.Debug("honeycomb: pacing query results (10 a minute)", "wait", d)
		if !c.sleep(ctx.Done(), d) {
			return fmt.Errorf("waiting to run a query: %w", ctx.Err())
		}
	}
}

// do sends one request with the key and decodes a 2xx answer into out.
func (c *Collector) do(ctx context.Context, method, path string, in, out any, fail func(int, string, error) *Error) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fail(0, err.Error(), err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fail(0, oneLine(err.Error(), 300), err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Honeycomb-Team", c.key)
	resp, err := c.client.Do(req)
	if err != nil {
		return fail(0, oneLine(err.Error(), 300), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fail(resp.StatusCode, "read response: "+oneLine(err.Error(), 300), err)
	}
	if len(raw) > maxBody {
		return fail(resp.StatusCode, fmt.Sprintf("response over %d MiB", maxBody>>20), nil)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := resp.Status
		var p Problem
		if json.Unmarshal(raw, &p) == nil {
			if s := oneLine(p.message(), 200); s != "" {
				msg += ": " + s
			}
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			msg += " (check sources.honeycomb.api_key: a key of the environment with the Run Queries and Manage Queries and Columns permissions)"
		case http.StatusNotFound:
			msg += " (check the metric's in: the dataset slug, or __all__)"
		}
		return fail(resp.StatusCode, msg, nil)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fail(0, "malformed response: "+oneLine(err.Error(), 160), err)
	}
	return nil
}

// Samples turns a result's series into samples at each bucket's time,
// reading the calculation's value (key, e.g. "P99(duration_ms)"); a bucket
// without it, or with null, has no data. A bucket holding exactly one
// other value is read as that value (the key as Honeycomb spells it).
func Samples(series []SeriesPoint, key string) ([]model.Sample, error) {
	out := make([]model.Sample, 0, len(series))
	for i, p := range series {
		if p.Time.IsZero() {
			return nil, fmt.Errorf("series[%d] has no time", i)
		}
		raw, ok := p.Data[key]
		if !ok && len(p.Data) == 1 {
			for _, v := range p.Data {
				raw, ok = v, true
			}
		}
		if !ok {
			continue
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("series[%d].data[%q] is not a number", i, key)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		out = append(out, model.Sample{Time: p.Time.UTC(), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
