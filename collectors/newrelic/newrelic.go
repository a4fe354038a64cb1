// Package newrelic collects the `metrics:` entries with `source: newrelic`:
// NRQL queries run through NerdGraph, New Relic's GraphQL API, at an hourly
// resolution.
//
// Each query is sent as written plus "SINCE <from> UNTIL <to> TIMESERIES 1
// hour" (epoch milliseconds), so NerdGraph returns one bucket per hour.
// TIMESERIES allows at most 366 buckets, so a range is read in chunks of
// MaxChunk (15 days, 360 buckets) through the shared range-poll loop
// (collectors.RangePoll): cursor, progress and per-chunk commit are the
// framework's.
//
// The requests go through the shared HTTP client (retries of 429 and 5xx,
// backoff, the credential and redirect rules), not newrelic-client-go: that
// client brings its own retrying HTTP stack (hashicorp/go-retryablehttp),
// logrus, and testify in a non-test package, for one GraphQL call.
package newrelic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// Name is the source name.
const Name = "newrelic"

const (
	// MaxChunk is the longest range one query covers: 360 hourly buckets,
	// under TIMESERIES' 366.
	MaxChunk = 15 * 24 * time.Hour
	// QueryTimeout is NerdGraph's nrql timeout argument, in seconds (its
	// default is 5; a Data Plus account allows up to 10 minutes).
	QueryTimeout = 60
	// maxBody bounds a response body.
	maxBody = 16 << 20
)

// gql is the NerdGraph query: one account, one NRQL. It is never
// modified.
var gql = fmt.Sprintf(`query($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql, timeout: %d) { results } } } }`, QueryTimeout)

// Options tune the collector.
type Options struct {
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Chunk is the range of one query; default MaxChunk.
	Chunk time.Duration
}

// Collector polls NerdGraph for the configured metrics.
type Collector struct {
	poll     collectors.RangePoll
	client   *http.Client
	endpoint string
	key      string
	account  int64
}

// New builds the collector for the metrics whose source is newrelic.
func New(cfg Config, metrics []config.Metric, o Options) (*Collector, error) {
	c := &Collector{client: o.HTTPClient, endpoint: cfg.Endpoint(), key: cfg.APIKey.Value(), account: cfg.AccountID}
	if c.client == nil {
		c.client = collectors.NewHTTPClient(collectors.HTTPOptions{Vendor: Name})
	}
	if cfg.AccountID <= 0 {
		return nil, errors.New("newrelic: account_id is not set")
	}
	chunk := o.Chunk
	if chunk == 0 {
		chunk = MaxChunk
	}
	if chunk > MaxChunk {
		return nil, fmt.Errorf("newrelic: chunk %v is over %v (366 hourly buckets)", chunk, MaxChunk)
	}
	c.poll = collectors.RangePoll{Source: Name, Chunk: chunk, Logger: o.Logger, Query: c.query}
	for _, m := range metrics {
		if m.Source != Name {
			continue
		}
		c.poll.Metrics = append(c.poll.Metrics, collectors.RangeMetric{ID: m.ID, Query: strings.TrimSpace(m.Query)})
	}
	return c, nil
}

// Name implements collectors.Collector.
func (c *Collector) Name() string { return Name }

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	return c.poll.Collect(ctx, run)
}

// NRQL is the query sent for m over [from, to).
func NRQL(query string, from, to time.Time) string {
	return fmt.Sprintf("%s SINCE %d UNTIL %d TIMESERIES 1 hour", strings.TrimSpace(query), from.UnixMilli(), to.UnixMilli())
}

// Error is a failed query.
type Error struct {
	Metric     string
	StatusCode int    // 0 when NerdGraph answered 200 with errors, or did not answer
	Class      string // extensions.errorClass (or error_code) of the first GraphQL error
	Msg        string
	Err        error
}

func (e *Error) Error() string { return "newrelic: query " + e.Metric + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

type request struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// GraphQLError is one entry of a NerdGraph "errors" list.
type GraphQLError struct {
	Message    string `json:"message"`
	Extensions struct {
		ErrorClass string `json:"errorClass,omitempty"`
		ErrorCode  string `json:"error_code,omitempty"`
	} `json:"extensions"`
}

type response struct {
	Data *struct {
		Actor *struct {
			Account *struct {
				NRQL *struct {
					Results []map[string]json.RawMessage `json:"results"`
				} `json:"nrql"`
			} `json:"account"`
		} `json:"actor"`
	} `json:"data"`
	Errors []GraphQLError `json:"errors"`
}

func (c *Collector) query(ctx context.Context, m collectors.RangeMetric, from, to time.Time) ([]model.Sample, error) {
	body, err := json.Marshal(request{Query: gql, Variables: map[string]any{"accountId": c.account, "nrql": NRQL(m.Query, from, to)}})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Metric: m.ID, Msg: err.Error(), Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("API-Key", c.key)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, &Error{Metric: m.ID, Msg: oneLine(err.Error(), 300), Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, &Error{Metric: m.ID, StatusCode: resp.StatusCode, Msg: "read response: " + err.Error(), Err: err}
	}
	if len(raw) > maxBody {
		return nil, &Error{Metric: m.ID, StatusCode: resp.StatusCode, Msg: fmt.Sprintf("response over %d MiB", maxBody>>20)}
	}
	var r response
	decErr := json.Unmarshal(raw, &r)
	if resp.StatusCode != http.StatusOK {
		msg := resp.Status
		e := &Error{Metric: m.ID, StatusCode: resp.StatusCode}
		if decErr == nil && len(r.Errors) > 0 {
			msg += ": " + oneLine(r.Errors[0].Message, 200)
			e.Class = class(r.Errors[0])
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			msg += " (check sources.newrelic.api_key: a User key with access to the account)"
		}
		e.Msg = msg
		return nil, e
	}
	if decErr != nil {
		return nil, &Error{Metric: m.ID, Msg: "malformed response: " + oneLine(decErr.Error(), 160), Err: decErr}
	}
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		msg := oneLine(e.Message, 200)
		if cl := class(e); cl != "" {
			msg = cl + ": " + msg
		}
		return nil, &Error{Metric: m.ID, Class: class(e), Msg: msg}
	}
	if r.Data == nil || r.Data.Actor == nil || r.Data.Actor.Account == nil || r.Data.Actor.Account.NRQL == nil {
		return nil, &Error{Metric: m.ID, Msg: "malformed response: no data.actor.account.nrql"}
	}
	if r.Data.Actor.Account.NRQL.Results == nil {
		// TIMESERIES always answers its buckets (null values when there is
		// no data): a body without results must not pass for "no data".
		return nil, &Error{Metric: m.ID, Msg: "malformed response: no data.actor.account.nrql.results"}
	}
	out, err := Samples(r.Data.Actor.Account.NRQL.Results)
	if err != nil {
		return nil, &Error{Metric: m.ID, Msg: err.Error(), Err: err}
	}
	return out, nil
}

func class(e GraphQLError) string {
	if e.Extensions.ErrorClass != "" {
		return e.Extensions.ErrorClass
	}
	return e.Extensions.ErrorCode
}

// Samples turns TIMESERIES results into samples at each bucket's
// beginTimeSeconds. A bucket holds one value: a number (count, average,
// an expression), or an object with one number (percentile → {"95": v});
// null buckets (no data) are skipped.
func Samples(results []map[string]json.RawMessage) ([]model.Sample, error) {
	out := make([]model.Sample, 0, len(results))
	for i, b := range results {
		var begin float64
		rawBegin, ok := b["beginTimeSeconds"]
		if !ok || json.Unmarshal(rawBegin, &begin) != nil {
			return nil, fmt.Errorf("result %d has no beginTimeSeconds: is TIMESERIES missing?", i)
		}
		var keys []string
		for k := range b {
			if k != "beginTimeSeconds" && k != "endTimeSeconds" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if len(keys) != 1 {
			return nil, fmt.Errorf("result %d has %d values (%s): select exactly one", i, len(keys), strings.Join(keys, ", "))
		}
		v, ok, err := number(b[keys[0]])
		if err != nil {
			return nil, fmt.Errorf("result %d: %s: %w", i, keys[0], err)
		}
		if !ok {
			continue
		}
		out = append(out, model.Sample{Time: time.Unix(int64(begin), 0).UTC(), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// number reads a bucket value: a number, null, or an object holding one
// number.
func number(raw json.RawMessage) (float64, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	if raw[0] == '{' {
		var obj map[string]*float64
		if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 {
			return 0, false, errors.New("want a number or an object with one number")
		}
		for _, v := range obj {
			if v == nil {
				return 0, false, nil
			}
			return finite(*v)
		}
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false, errors.New("not a number")
	}
	return finite(v)
}

func finite(v float64) (float64, bool, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, nil
	}
	return v, true, nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
