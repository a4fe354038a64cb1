package newrelic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Fake is a NerdGraph stand-in for tests, the demo and benchmarks: it
// answers the collector's NRQL TIMESERIES query in the documented shapes
// (testdata/SOURCES.md says where each comes from), including a bad key
// (401), the 366-bucket limit, 429 and malformed bodies on demand.
type Fake struct {
	// Key is the API key expected in the API-Key header.
	Key string
	// AccountID is the only account the key can read.
	AccountID int64
	// Series returns the hourly samples of a query (as configured, without
	// the clauses the collector adds) in [from, to); ok false answers a
	// syntax error.
	Series func(query string, from, to time.Time) (samples []model.Sample, ok bool)
	// Fault, if set, is asked before each request: a non-zero status is
	// answered with that status and NerdGraph's error body (429 with
	// Retry-After: 1); -1 answers 200 with a malformed body.
	Fault func(r *http.Request) int

	requests atomic.Int64
}

// Requests is how many requests the fake has received.
func (f *Fake) Requests() int { return int(f.requests.Load()) }

var nrqlRe = regexp.MustCompile(`^(?s)(.*) SINCE (\d+) UNTIL (\d+) TIMESERIES 1 hour$`)

func gqlError(rw http.ResponseWriter, status int, msg, class string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	e := map[string]any{"message": msg}
	if class != "" {
		e["extensions"] = map[string]string{"errorClass": class}
	}
	_ = json.NewEncoder(rw).Encode(map[string]any{"errors": []any{e}, "data": nil})
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/graphql") {
		http.NotFound(rw, r)
		return
	}
	if f.Fault != nil {
		switch st := f.Fault(r); {
		case st == -1:
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write([]byte(`{"data": {"actor": {"account": {"nrql": {"results": [{"beginTimeSeconds": 1`))
			return
		case st == http.StatusTooManyRequests:
			rw.Header().Set("Retry-After", "1")
			gqlError(rw, st, "Too many requests", "TOO_MANY_REQUESTS")
			return
		case st != 0:
			gqlError(rw, st, http.StatusText(st), "SERVER_ERROR")
			return
		}
	}
	if r.Header.Get("API-Key") != f.Key {
		// The shape newrelic-client-go recognises as a bad key.
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusUnauthorized)
		_, _ = rw.Write([]byte(`{"errors":[{"message":"Invalid API key","extensions":{"error_code":"BAD_API_KEY"}}]}`))
		return
	}
	var req struct {
		Query     string `json:"query"`
		Variables struct {
			AccountID int64  `json:"accountId"`
			NRQL      string `json:"nrql"`
		} `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		gqlError(rw, http.StatusBadRequest, "Could not parse the request body", "")
		return
	}
	if req.Variables.AccountID != f.AccountID {
		gqlError(rw, http.StatusOK, "Access denied to account "+strconv.FormatInt(req.Variables.AccountID, 10), "FORBIDDEN")
		return
	}
	m := nrqlRe.FindStringSubmatch(req.Variables.NRQL)
	if m == nil {
		gqlError(rw, http.StatusOK, "NRQL Syntax Error: expected SINCE … UNTIL … TIMESERIES 1 hour", "INVALID_INPUT")
		return
	}
	fromMs, _ := strconv.ParseInt(m[2], 10, 64)
	toMs, _ := strconv.ParseInt(m[3], 10, 64)
	from, to := time.UnixMilli(fromMs).UTC(), time.UnixMilli(toMs).UTC()
	if !from.Before(to) {
		gqlError(rw, http.StatusOK, "Your query's start time must be before its end time.", "INVALID_INPUT")
		return
	}
	if to.Sub(from) > 366*time.Hour {
		gqlError(rw, http.StatusOK, "TIMESERIES supports a maximum of 366 buckets", "INVALID_INPUT")
		return
	}
	samples, ok := f.Series(m[1], from, to)
	if !ok {
		gqlError(rw, http.StatusOK, "NRQL Syntax Error: Error at line 1 position 1", "INVALID_INPUT")
		return
	}
	byHour := map[int64]float64{}
	for _, s := range samples {
		byHour[s.Time.Truncate(time.Hour).Unix()] = s.Value
	}
	key, pct := valueKey(m[1])
	var results []map[string]any
	for t := from.Truncate(time.Hour); t.Before(to); t = t.Add(time.Hour) {
		b := map[string]any{"beginTimeSeconds": t.Unix(), "endTimeSeconds": t.Add(time.Hour).Unix()}
		var v any
		if x, ok := byHour[t.Unix()]; ok {
			v = x
		}
		if pct != "" && v != nil {
			v = map[string]any{pct: v}
		}
		b[key] = v
		results = append(results, b)
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(map[string]any{
		"data": map[string]any{"actor": map[string]any{"account": map[string]any{"nrql": map[string]any{"results": results}}}},
	})
}

var (
	aliasRe      = regexp.MustCompile(`(?i)\bAS\s+'([^']+)'`)
	percentileRe = regexp.MustCompile(`(?i)^SELECT\s+percentile\(\s*([A-Za-z0-9_.]+)\s*,\s*(\d+)\s*\)\s+FROM`)
)

// valueKey is the key NerdGraph gives a bucket's value: the alias, else
// "percentile.<attr>" holding {"<n>": v} for a bare percentile, else the
// function text (here "value").
func valueKey(q string) (key, pct string) {
	if m := aliasRe.FindStringSubmatch(q); m != nil {
		return m[1], ""
	}
	if m := percentileRe.FindStringSubmatch(strings.TrimSpace(q)); m != nil {
		return fmt.Sprintf("percentile.%s", m[1]), m[2]
	}
	return "value", ""
}
