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
	"time"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// NewFake serves the world's series in the shape of Datadog's v1 metrics
// query API:
//
//	GET /api/v1/query?from=<epoch s>&to=<epoch s>&query=<q>
//
// The query is matched against the metrics' Query after removing whitespace
// and any trailing `.rollup(...)` the collector appended. The answer holds
// the hourly points with from ≤ t ≤ to as [ms, value]; a third of the
// timestamps are written as floats (1623846300000.0) and about one point in
// sixty has a null value, both deterministic, so a client must cope with
// either. An unknown query answers status ok with no series. DD-API-KEY and
// DD-APPLICATION-KEY must be present (any value) or the answer is 403
// {"errors":["Forbidden"]}. Responses carry X-Ratelimit-Limit/-Period/
// -Remaining/-Reset (seconds until reset)/-Name; past the hourly budget the
// answer is 429.
func NewFake(w *world.World, o collectorstest.FakeOptions) http.Handler {
	d := &ddServer{w: w, o: o, lim: collectorstest.NewLimiter(o.RateLimit, 1600)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/query", d.query)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		collectorstest.WriteJSON(rw, http.StatusNotFound, ddErrors("Not found"))
	})
	return collectorstest.Wrap("datadog", mux, o, func(rw http.ResponseWriter, code int) {
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			rw.Header().Set("Retry-After", "1")
		}
		collectorstest.WriteJSON(rw, code, ddErrors(http.StatusText(code)))
	})
}

type ddServer struct {
	w   *world.World
	o   collectorstest.FakeOptions
	lim *collectorstest.Limiter
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

func (d *ddServer) query(rw http.ResponseWriter, r *http.Request) {
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

	series := "[]"
	if m, ok := d.metric(query); ok {
		if s, ok := seriesJSON(m, query, d.w.Series[m.ID], from, to); ok {
			series = "[" + s + "]"
		}
	}
	resp := fmt.Sprintf(`{"status":"ok","resp_version":1,"res_type":"time_series","series":%s,"from_date":%d,"to_date":%d,"query":%s,"message":"","group_by":[],"times":[],"values":[]}`,
		series, from*1000, to*1000, jsonString(query))
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

func (d *ddServer) metric(query string) (config.Metric, bool) {
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

// seriesJSON renders one series object, or false when no point falls in
// [from, to].
func seriesJSON(m config.Metric, query string, ss []model.Sample, from, to int64) (string, bool) {
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
		pts.WriteByte('[')
		if floatTS(s.Time) {
			fmt.Fprintf(&pts, "%d.0", ms)
		} else {
			fmt.Fprintf(&pts, "%d", ms)
		}
		pts.WriteByte(',')
		if FakeNullAt(m.ID, s.Time) || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			pts.WriteString("null")
		} else {
			pts.WriteString(strconv.FormatFloat(s.Value, 'f', -1, 64))
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
