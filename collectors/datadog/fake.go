package datadog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// NewFake is the fake Datadog: it serves the world's series in the shape
// of Datadog's v1 metrics query API (testdata/SOURCES.md says where each
// shape is from), for this collector's tests, the demo, the daemon tests,
// the hostile-vendor table and the benchmarks:
//
//	GET /api/v1/query?from=<epoch s>&to=<epoch s>&query=<q>
//
// The query is matched against the metrics' Query after removing whitespace
// and any trailing `.rollup(...)` the collector appended. The answer holds
// the hourly points with from ≤ t ≤ to as [ms, value] (in the recorded
// answers the first bucket is the first to start at or after from and the
// last the one holding `to`, which may be partial); a third of the timestamps are written as floats
// (1623846300000.0) and about one point in sixty has a null value, both
// deterministic, so a client must cope with either (FakeOptions change
// both). An unknown query answers status ok with no series. DD-API-KEY and
// DD-APPLICATION-KEY must be present (any value) or the answer is 403
// {"errors":["Forbidden"]}. Responses carry X-Ratelimit-Limit/-Period/
// -Remaining/-Reset (seconds until reset)/-Name; past the hourly budget
// (o.RateLimit, default 1600) the answer is 429.
func NewFake(w *world.World, o collectorstest.FakeOptions) *FakeServer {
	return NewFakeWith(w, o, FakeOptions{})
}

// FakeOptions are the fake Datadog's own options: answer forms Datadog
// sends that a client must read.
type FakeOptions struct {
	// Timestamps is "float" to write every timestamp as a float
	// (1623846300000.0, as in the 2021 recording), "int" to write them as
	// integers (the 2022 one); "" mixes them, a third floats.
	Timestamps string
	// ExtraMillis is added to every timestamp (a fraction of a second a
	// client must truncate).
	ExtraMillis float64
	// Nulls says which points of metric id are null at t: "value" ([t,
	// null]), "time" ([null, v]), "both" or "" (none); nil: about one value
	// in sixty (FakeNullAt).
	Nulls func(id string, t time.Time) string
	// Groups, when above 1, answers each query with that many series, as a
	// `by {host}` query is answered (tag_set host:web-1, host:web-2...);
	// series i holds the metric's values plus 10·i.
	Groups int
}

// NewFakeWith is NewFake with the fake Datadog's own options.
func NewFakeWith(w *world.World, o collectorstest.FakeOptions, do FakeOptions) *FakeServer {
	d := &FakeServer{w: w, o: o, do: do, lim: collectorstest.NewLimiter(o.RateLimit, 1600)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/query", d.query)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		collectorstest.WriteJSON(rw, http.StatusNotFound, ddErrors("Not found"))
	})
	d.h = collectorstest.Wrap("datadog", mux, o, func(rw http.ResponseWriter, code int) {
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			rw.Header().Set("Retry-After", "1")
		}
		collectorstest.WriteJSON(rw, code, ddErrors(http.StatusText(code)))
	})
	return d
}

// FakeServer is the fake Datadog, an http.Handler.
type FakeServer struct {
	h   http.Handler
	mu  sync.RWMutex // Update against the requests
	w   *world.World
	o   collectorstest.FakeOptions
	do  FakeOptions
	lim *collectorstest.Limiter
}

// ServeHTTP answers one request.
func (d *FakeServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	d.h.ServeHTTP(rw, r)
}

// Update changes the world between requests, as data arriving does (the
// still-open hour's value moving, a new hour): fn edits w.Series or
// w.Metrics.
func (d *FakeServer) Update(fn func(w *world.World)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn(d.w)
}

func ddErrors(msg ...string) map[string][]string { return map[string][]string{"errors": msg} }

var rollupSuffix = regexp.MustCompile(`\.rollup\([^()]*\)$`)

// FakeNormalizeQuery is how the fake matches a requested query to a metric:
// whitespace removed and trailing .rollup(...) calls stripped.
func FakeNormalizeQuery(q string) string {
	q = strings.Join(strings.Fields(q), "")
	for {
		s := rollupSuffix.ReplaceAllString(q, "")
		if s == q {
			return q
		}
		q = s
	}
}

func (d *FakeServer) query(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	if r.Header.Get("DD-API-KEY") == "" || r.Header.Get("DD-APPLICATION-KEY") == "" {
		collectorstest.WriteJSON(rw, http.StatusForbidden, map[string]any{
			"status": "error", "code": 403, "errors": []string{"Forbidden"},
			"statuspage": "http://status.datadoghq.com", "twitter": "http://twitter.com/datadogops", "email": "support@datadoghq.com",
		})
		return
	}
	now := d.o.Clock()
	limit, remaining, _, reset, ok := d.lim.Take(now, true)
	h.Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Period", "3600")
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset", strconv.Itoa(int(math.Ceil(reset.Sub(now).Seconds()))))
	h.Set("X-Ratelimit-Name", "query")
	if !ok {
		collectorstest.WriteJSON(rw, http.StatusTooManyRequests, ddErrors(fmt.Sprintf("Rate limit of %d requests in 3600 seconds reached. Please try again later.", limit)))
		return
	}

	q := r.URL.Query()
	query := q.Get("query")
	from, errF := epochSeconds(q.Get("from"))
	to, errT := epochSeconds(q.Get("to"))
	switch {
	case query == "":
		collectorstest.WriteJSON(rw, http.StatusBadRequest, ddErrors("The value provided for parameter 'query' is invalid"))
		return
	case errF != nil:
		collectorstest.WriteJSON(rw, http.StatusBadRequest, ddErrors("The value provided for parameter 'from' is invalid"))
		return
	case errT != nil:
		collectorstest.WriteJSON(rw, http.StatusBadRequest, ddErrors("The value provided for parameter 'to' is invalid"))
		return
	case from > to:
		collectorstest.WriteJSON(rw, http.StatusBadRequest, ddErrors("Invalid time range: 'from' must be before 'to'"))
		return
	}

	series, groupBy := "[]", "[]"
	if m, ok := d.metric(query); ok {
		var all []string
		for g := range max(d.do.Groups, 1) {
			if s, ok := d.seriesJSON(m, query, d.w.Series[m.ID], from, to, g); ok {
				all = append(all, s)
			}
		}
		if len(all) > 0 {
			series = "[" + strings.Join(all, ",") + "]"
		}
		if d.do.Groups > 1 {
			groupBy = `["host"]`
		}
	}
	resp := fmt.Sprintf(`{"status":"ok","resp_version":1,"res_type":"time_series","series":%s,"from_date":%d,"to_date":%d,"query":%s,"message":"","group_by":%s,"times":[],"values":[]}`,
		series, from*1000, to*1000, jsonString(query), groupBy)
	h.Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusOK)
	rw.Write([]byte(resp))
}

// epochSeconds parses an epoch in seconds; "1623846101.5" is accepted and
// truncated.
func epochSeconds(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("bad epoch %q", s)
	}
	return int64(f), nil
}

func (d *FakeServer) metric(query string) (config.Metric, bool) {
	nq := FakeNormalizeQuery(query)
	for _, m := range d.w.Metrics {
		if m.Source == "datadog" && FakeNormalizeQuery(m.Query) == nq {
			return m, true
		}
	}
	return config.Metric{}, false
}

// FakeNullAt reports whether the fake Datadog serves a null value for metric id
// at t (deterministic, about one hour in sixty).
func FakeNullAt(id string, t time.Time) bool {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", id, t.Unix())
	return h.Sum32()%60 == 0
}

// floatTS reports whether the timestamp of t is written as a float.
func floatTS(t time.Time) bool { return (t.Unix()/3600)%3 == 0 }

var queryParts = regexp.MustCompile(`^(?:(\w+):)?([\w.]+)\{([^}]*)\}`)

// seriesJSON renders group g's series object, or false when no point falls
// in [from, to].
func (d *FakeServer) seriesJSON(m config.Metric, query string, ss []model.Sample, from, to int64, g int) (string, bool) {
	var pts bytes.Buffer
	n := 0
	var first, last int64
	for _, s := range ss {
		sec := s.Time.Unix()
		if sec < from || sec > to {
			continue
		}
		ms := sec * 1000
		if n == 0 {
			first = ms
		}
		last = ms
		if n > 0 {
			pts.WriteByte(',')
		}
		n++
		null := ""
		switch {
		case d.do.Nulls != nil:
			null = d.do.Nulls(m.ID, s.Time)
		case FakeNullAt(m.ID, s.Time):
			null = "value"
		}
		ts := strconv.FormatFloat(float64(ms)+d.do.ExtraMillis, 'f', -1, 64)
		if !strings.Contains(ts, ".") && (d.do.Timestamps == "float" || d.do.Timestamps == "" && floatTS(s.Time)) {
			ts += ".0"
		}
		if d.do.Timestamps == "int" && d.do.ExtraMillis == 0 {
			ts = strconv.FormatInt(ms, 10)
		}
		if null == "time" || null == "both" {
			ts = "null"
		}
		pts.WriteByte('[')
		pts.WriteString(ts)
		pts.WriteByte(',')
		if null == "value" || null == "both" || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			pts.WriteString("null")
		} else {
			pts.WriteString(strconv.FormatFloat(s.Value+10*float64(g), 'f', -1, 64))
		}
		pts.WriteByte(']')
	}
	if n == 0 {
		return "", false
	}
	metric, scope, aggr := m.Query, "*", "null"
	if p := queryParts.FindStringSubmatch(strings.Join(strings.Fields(m.Query), "")); p != nil {
		metric, scope = p[2], cmp.Or(p[3], "*")
		if p[1] != "" {
			aggr = jsonString(p[1])
		}
	}
	tags := "[]"
	if scope != "*" {
		b, _ := json.Marshal(strings.Split(scope, ","))
		tags = string(b)
	}
	if d.do.Groups > 1 {
		host := fmt.Sprintf("host:web-%d", g+1)
		tags = jsonString(host)
		tags = "[" + tags + "]"
		if scope == "*" {
			scope = host
		} else {
			scope += "," + host
		}
	}
	return fmt.Sprintf(`{"metric":%s,"display_name":%s,"pointlist":[%s],"start":%d,"end":%d,"interval":3600,"length":%d,"scope":%s,"expression":%s,"unit":%s,"query_index":0,"aggr":%s,"tag_set":%s,"attributes":{}}`,
		jsonString(metric), jsonString(metric), pts.String(), first, last+3600*1000-1000, n,
		jsonString(scope), jsonString(strings.Join(strings.Fields(query), "")), unitJSON(m.Unit), aggr, tags), true
}

func unitJSON(u string) string {
	switch u {
	case "ms":
		return `[{"family":"time","scale_factor":0.001,"name":"millisecond","short_name":"ms","plural":"milliseconds","id":10},null]`
	case "s":
		return `[{"family":"time","scale_factor":1.0,"name":"second","short_name":"s","plural":"seconds","id":11},null]`
	case "min":
		return `[{"family":"time","scale_factor":60.0,"name":"minute","short_name":"min","plural":"minutes","id":12},null]`
	case "percent":
		return `[{"family":"percentage","scale_factor":1.0,"name":"percent","short_name":"%","plural":"percent","id":17},null]`
	case "rps":
		return `[{"family":"network","scale_factor":1.0,"name":"request","short_name":"req","plural":"requests","id":67},{"family":"time","scale_factor":1.0,"name":"second","short_name":"s","plural":"seconds","id":11}]`
	case "bytes":
		return `[{"family":"bytes","scale_factor":1.0,"name":"byte","short_name":"B","plural":"bytes","id":2},null]`
	}
	return "null"
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
