package honeycomb

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Fake is a Honeycomb Query Data API stand-in for tests, the demo and
// benchmarks: it creates queries, runs them and answers their results in
// the documented shapes (testdata/SOURCES.md says where each comes from),
// with the documented limits: the 7-day reach, granularity between
// range/1000 and range/10, 10 query results a minute (429 with the
// RateLimit header and no Retry-After; successes carry no RateLimit, since
// the reference lists none for these endpoints), a bad key (401) and, on demand,
// results that stay incomplete, faults and malformed bodies.
type Fake struct {
	// Key is the API key expected in the X-Honeycomb-Team header.
	Key string
	// Datasets are the datasets the key's environment has; __all__ always
	// works. Empty: any dataset exists.
	Datasets []string
	// Series returns the hourly samples of a metric's spec (calculation
	// and filters as the collector sent them) over [from, to).
	Series func(dataset string, s Spec, from, to time.Time) []model.Sample
	// Pending is how many polls of a result answer "complete": false
	// before it completes; negative: it never completes.
	Pending int
	// Fault, if set, is asked before each request: a non-zero status is
	// answered with that status and Honeycomb's error body (429 with the
	// RateLimit header, reset in 1 s); -1 answers 200 with a malformed
	// body.
	Fault func(r *http.Request) int
	// Now is the fake's clock (the 7-day reach, the rate limit); default
	// time.Now.
	Now func() time.Time
	// Unlimited turns the 10-a-minute limit on query results off.
	Unlimited bool
	// Instant answers a result complete when it is created, as a query
	// that ran at once (the demo: no polling waits).
	Instant bool

	requests atomic.Int64
	mu       sync.Mutex
	queries  map[string]fakeQuery
	results  map[string]*fakeResult
	created  []time.Time
	nextID   int
}

type fakeQuery struct {
	dataset string
	spec    querySpec
}

type fakeResult struct {
	dataset string
	query   string
	polls   int
}

// Requests is how many requests the fake has received.
func (f *Fake) Requests() int { return int(f.requests.Load()) }

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// problem answers Honeycomb's RFC 7807 error body.
func problem(rw http.ResponseWriter, status int, kind, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]any{
		"status": status,
		"type":   "https://api.honeycomb.io/problems/" + kind,
		"title":  msg,
		"error":  msg,
	})
}

func reply(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if f.Fault != nil {
		switch st := f.Fault(r); {
		case st == -1:
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write([]byte(`{"id": "x", "complete": true, "data": {"series": [{"time": "2026-`))
			return
		case st == http.StatusTooManyRequests:
			rw.Header().Set("RateLimit", "limit=10, remaining=0, reset=1")
			rw.Header().Set("RateLimit-Policy", "10;w=60")
			problem(rw, st, "rate-limited", "You have exceeded your rate limit.")
			return
		case st != 0:
			problem(rw, st, "error", http.StatusText(st))
			return
		}
	}
	if r.Header.Get("X-Honeycomb-Team") != f.Key {
		problem(rw, http.StatusUnauthorized, "unauthorized", "unknown API key - check your credentials")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "1" && parts[1] == "queries" && r.Method == http.MethodPost:
		f.createQuery(rw, r, parts[2])
	case len(parts) == 3 && parts[0] == "1" && parts[1] == "query_results" && r.Method == http.MethodPost:
		f.createResult(rw, r, parts[2])
	case len(parts) == 4 && parts[0] == "1" && parts[1] == "query_results" && r.Method == http.MethodGet:
		f.getResult(rw, parts[2], parts[3])
	default:
		problem(rw, http.StatusNotFound, "not-found", "not found")
	}
}

func (f *Fake) knows(dataset string) bool {
	return dataset == Environment || len(f.Datasets) == 0 || slices.Contains(f.Datasets, dataset)
}

func (f *Fake) createQuery(rw http.ResponseWriter, r *http.Request, dataset string) {
	if !f.knows(dataset) {
		problem(rw, http.StatusNotFound, "not-found", "Dataset not found")
		return
	}
	var q querySpec
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&q); err != nil {
		problem(rw, http.StatusBadRequest, "validation-failed", "could not parse the query spec")
		return
	}
	for i := range q.Filters {
		q.Filters[i].Value = plainValue(q.Filters[i].Value)
	}
	if err := q.Spec.check(); err != nil {
		problem(rw, http.StatusBadRequest, "validation-failed", err.Error())
		return
	}
	span := q.EndTime - q.StartTime
	switch {
	case q.StartTime <= 0 || q.EndTime <= 0 || span <= 0:
		problem(rw, http.StatusBadRequest, "validation-failed", "start_time must be before end_time")
		return
	case q.Granularity < 1 || int64(q.Granularity)*10 > span || int64(q.Granularity)*1000 < span:
		problem(rw, http.StatusBadRequest, "validation-failed",
			fmt.Sprintf("granularity %d is invalid for a time range of %d seconds: valid values are %d to %d", q.Granularity, span, span/1000, span/10))
		return
	}
	f.mu.Lock()
	f.nextID++
	id := "q" + strconv.Itoa(f.nextID)
	if f.queries == nil {
		f.queries = map[string]fakeQuery{}
	}
	f.queries[id] = fakeQuery{dataset: dataset, spec: q}
	f.mu.Unlock()
	body := map[string]any{"id": id, "calculations": q.Calculations, "granularity": q.Granularity,
		"start_time": q.StartTime, "end_time": q.EndTime}
	if len(q.Filters) > 0 {
		body["filters"] = q.Filters
	}
	reply(rw, http.StatusOK, body)
}

func (f *Fake) createResult(rw http.ResponseWriter, r *http.Request, dataset string) {
	var req struct {
		QueryID string `json:"query_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.QueryID == "" {
		problem(rw, http.StatusBadRequest, "validation-failed", "query_id is required")
		return
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	kept := f.created[:0]
	for _, t := range f.created {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	f.created = kept
	if !f.Unlimited {
		remaining := ResultsPerMinute - len(f.created)
		reset := 60
		if len(f.created) > 0 {
			reset = int(f.created[0].Add(time.Minute).Sub(now).Seconds() + 0.999)
		}
		if remaining <= 0 {
			// The Query Data API's 429 carries no Retry-After.
			rw.Header().Set("RateLimit", fmt.Sprintf("limit=%d, remaining=0, reset=%d", ResultsPerMinute, reset))
			rw.Header().Set("RateLimit-Policy", fmt.Sprintf("%d;w=60", ResultsPerMinute))
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(rw).Encode(map[string]any{
				"status": 429, "type": "https://api.honeycomb.io/problems/rate-limited",
				"title": "You have exceeded your rate limit.", "error": "You have exceeded your rate limit.",
				"detail": "Please try again after " + f.created[0].Add(time.Minute).UTC().Format(time.RFC3339) + ".",
			})
			return
		}
	}
	q, ok := f.queries[req.QueryID]
	if !ok {
		problem(rw, http.StatusNotFound, "not-found", "Query not found")
		return
	}
	if q.dataset != dataset {
		problem(rw, http.StatusBadRequest, "validation-failed", "the dataset must be the one the query was created in")
		return
	}
	if time.Unix(q.spec.StartTime, 0).Before(now.Add(-MaxAge)) {
		problem(rw, http.StatusBadRequest, "validation-failed", "Query Results can only be created for events with timestamps within the past 7 days.")
		return
	}
	f.created = append(f.created, now)
	f.nextID++
	id := "r" + strconv.Itoa(f.nextID)
	if f.results == nil {
		f.results = map[string]*fakeResult{}
	}
	f.results[id] = &fakeResult{dataset: dataset, query: req.QueryID}
	if f.Instant {
		reply(rw, http.StatusCreated, f.complete(dataset, id, req.QueryID, q.spec))
		return
	}
	reply(rw, http.StatusCreated, map[string]any{"id": id, "query_id": req.QueryID, "complete": false,
		"links": links(dataset, id)})
}

func links(dataset, id string) map[string]string {
	return map[string]string{
		"query_url":       "https://ui.honeycomb.io/acme/environments/prod/datasets/" + dataset + "/result/" + id,
		"graph_image_url": "https://ui.honeycomb.io/acme/environments/prod/datasets/" + dataset + "/result/" + id + "/snapshot",
	}
}

func (f *Fake) getResult(rw http.ResponseWriter, dataset, id string) {
	f.mu.Lock()
	res, ok := f.results[id]
	var q fakeQuery
	if ok {
		res.polls++
		q = f.queries[res.query]
	}
	f.mu.Unlock()
	if !ok || res.dataset != dataset {
		problem(rw, http.StatusNotFound, "not-found", "Query result not found")
		return
	}
	if f.Pending < 0 || res.polls <= f.Pending {
		reply(rw, http.StatusOK, map[string]any{"id": id, "query_id": res.query, "complete": false, "links": links(dataset, id)})
		return
	}
	reply(rw, http.StatusOK, f.complete(dataset, id, res.query, q.spec))
}

// complete is the body of a complete result of query spec q.
func (f *Fake) complete(dataset, id, queryID string, q querySpec) map[string]any {
	from, to := time.Unix(q.StartTime, 0).UTC(), time.Unix(q.EndTime, 0).UTC()
	var samples []model.Sample
	if f.Series != nil {
		samples = f.Series(dataset, q.Spec, from, to)
	}
	step := time.Duration(q.Granularity) * time.Second
	byBucket := map[int64]float64{}
	for _, s := range samples {
		byBucket[s.Time.Truncate(step).Unix()] = s.Value
	}
	key := q.Calculations[0].Name()
	series := []map[string]any{}
	var total float64
	for t := from; t.Before(to); t = t.Add(step) {
		data := map[string]any{}
		if v, ok := byBucket[t.Unix()]; ok {
			data[key] = v
			total += v
		}
		series = append(series, map[string]any{"time": t.Format(time.RFC3339), "data": data})
	}
	return map[string]any{
		"id": id, "query_id": queryID, "complete": true,
		"data": map[string]any{
			"series":  series,
			"results": []any{map[string]any{"data": map[string]any{key: total}}},
		},
		"links": links(dataset, id),
	}
}
