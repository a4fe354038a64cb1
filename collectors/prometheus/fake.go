package prometheus

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// FakeMaxResolution is Prometheus's cap on one query_range series:
// (end − start) / step may not exceed it, so at most FakeMaxResolution+1
// points per request.
const FakeMaxResolution = 11_000

// FakeLookback is the lookback delta of an instant evaluation: the fake
// answers at time t with the latest sample in (t − FakeLookback, t], as
// Prometheus does with its default --query.lookback-delta.
const FakeLookback = 5 * time.Minute

// NewFake serves the world's series in the shape of Prometheus's HTTP
// API v1 range queries:
//
//	GET  /api/v1/query_range?query=<q>&start=<t>&end=<t>&step=<d>
//	POST /api/v1/query_range   (the same parameters as a urlencoded form)
//
// client_golang POSTs the form first and only falls back to GET on 403, 405
// or 501, so both are served. start and end are unix seconds (fractions
// allowed) or RFC 3339; step is seconds (fractions allowed) or a Prometheus
// duration ("1h", "90s").
//
// The query is matched against the Query of the world's metrics whose
// Source is "prometheus", whitespace removed (FakeNormalizeQuery). As
// Prometheus does, the series is evaluated at start, start+step, … ≤ end;
// each evaluation takes the latest sample in (t − 5m, t] and there is no
// point where there is none, so querying at the hourly sample times
// (step-aligned start, step 1h) returns the samples themselves. Values are
// strings: "NaN", "+Inf" and "-Inf" when a sample holds one. The answer is
// {"status":"success","data":{"resultType":"matrix","result":[…]}}, with one
// series labelled from the query's selector, or none when the query is
// unknown or no sample falls in the range.
//
// Errors follow Prometheus: 400 {"status":"error","errorType":"bad_data",…}
// for a missing or unparsable parameter, end before start, a step ≤ 0, more
// than 11,000 steps ("exceeded maximum resolution of 11,000 points per
// timeseries…"), and queries with unbalanced brackets or quotes (a parse
// error naming the position). FakeOptions.Fault answers with a Prometheus error
// body (errorType bad_data for 400, execution for 422, unavailable for 503,
// timeout for 504, internal otherwise) except 401, 403, 407 and 429, which a
// Prometheus server never sends and which come from a proxy in front of it
// as plain text; 429 and 503 also carry Retry-After: 1. There is no
// authentication and no rate limit.
func NewFake(w *world.World, o collectorstest.FakeOptions) http.Handler {
	p := &promServer{w: w}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/query_range", p.queryRange)
	mux.HandleFunc("POST /api/v1/query_range", p.queryRange)
	mux.HandleFunc("/api/v1/query_range", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Allow", "GET, OPTIONS, POST")
		http.Error(rw, "Method Not Allowed", http.StatusMethodNotAllowed)
	})
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		http.Error(rw, "404 page not found", http.StatusNotFound)
	})
	return collectorstest.Wrap(Name, mux, o, func(rw http.ResponseWriter, code int) {
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			rw.Header().Set("Retry-After", "1")
		}
		switch code {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired, http.StatusTooManyRequests:
			http.Error(rw, http.StatusText(code), code)
			return
		}
		typ := "internal"
		switch code {
		case http.StatusBadRequest:
			typ = "bad_data"
		case http.StatusUnprocessableEntity:
			typ = "execution"
		case http.StatusServiceUnavailable:
			typ = "unavailable"
		case http.StatusGatewayTimeout:
			typ = "timeout"
		}
		promError(rw, code, typ, strings.ToLower(http.StatusText(code)))
	})
}

type promServer struct {
	w *world.World
}

func promError(rw http.ResponseWriter, status int, typ, msg string) {
	collectorstest.WriteJSON(rw, status, map[string]string{"status": "error", "errorType": typ, "error": msg})
}

func badData(rw http.ResponseWriter, format string, args ...any) {
	promError(rw, http.StatusBadRequest, "bad_data", fmt.Sprintf(format, args...))
}

// FakeNormalizeQuery is how the fake Prometheus matches a requested query to
// a metric: whitespace removed.
func FakeNormalizeQuery(q string) string { return strings.Join(strings.Fields(q), "") }

func (p *promServer) queryRange(rw http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badData(rw, "error parsing form values: %v", err)
		return
	}
	start, err := promTime(r.Form.Get("start"))
	if err != nil {
		badData(rw, "invalid parameter \"start\": %v", err)
		return
	}
	end, err := promTime(r.Form.Get("end"))
	if err != nil {
		badData(rw, "invalid parameter \"end\": %v", err)
		return
	}
	if end.Before(start) {
		badData(rw, "invalid parameter \"end\": end timestamp must not be before start time")
		return
	}
	step, err := promDuration(r.Form.Get("step"))
	if err != nil {
		badData(rw, "invalid parameter \"step\": %v", err)
		return
	}
	if step <= 0 {
		badData(rw, "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer")
		return
	}
	if end.Sub(start)/step > FakeMaxResolution {
		badData(rw, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
		return
	}
	query := r.Form.Get("query")
	if msg := promParseError(query); msg != "" {
		badData(rw, "%s", msg)
		return
	}

	result := "[]"
	if m, ok := p.metric(query); ok {
		if s, ok := promSeriesJSON(m, p.w.Series[m.ID], start, end, step); ok {
			result = "[" + s + "]"
		}
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusOK)
	fmt.Fprintf(rw, `{"status":"success","data":{"resultType":"matrix","result":%s}}`, result)
}

func (p *promServer) metric(query string) (config.Metric, bool) {
	nq := FakeNormalizeQuery(query)
	for _, m := range p.w.Metrics {
		if m.Source == Name && FakeNormalizeQuery(m.Query) == nq {
			return m, true
		}
	}
	return config.Metric{}, false
}

// promTime parses a timestamp as Prometheus does: unix seconds with an
// optional fraction, or RFC 3339.
func promTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// promDuration parses a step: seconds with an optional fraction, or a
// duration such as "1h" or "1h30m" (Go's syntax covers the common cases;
// "d", "w" and "y" are accepted too).
func promDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return time.Duration(math.Round(f*1000)) * time.Millisecond, nil
	}
	if d, ok := longDuration(s); ok {
		return d, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

var longDurationRE = regexp.MustCompile(`^(\d+)([dwy])$`)

func longDuration(s string) (time.Duration, bool) {
	m := longDurationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, true
}

// promParseError returns a Prometheus-like parse error for an empty query
// or one whose brackets or quotes do not balance, else "".
func promParseError(q string) string {
	if strings.TrimSpace(q) == "" {
		return "1:1: parse error: no expression found in input"
	}
	type open struct {
		c   byte
		pos int
	}
	var stack []open
	closer := map[byte]byte{')': '(', '}': '{', ']': '['}
	names := map[byte]string{'(': "parenthesis", '{': "brace", '[': "bracket"}
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch c {
		case '"', '\'', '`':
			j := i + 1
			for ; j < len(q) && q[j] != c; j++ {
				if q[j] == '\\' && c != '`' {
					j++
				}
			}
			if j >= len(q) {
				return fmt.Sprintf("1:%d: parse error: unterminated quoted string", i+1)
			}
			i = j
		case '(', '{', '[':
			stack = append(stack, open{c, i})
		case ')', '}', ']':
			if len(stack) == 0 || stack[len(stack)-1].c != closer[c] {
				return fmt.Sprintf("1:%d: parse error: unexpected right %s '%c'", i+1, names[closer[c]], c)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		if top.c == '{' {
			return fmt.Sprintf("1:%d: parse error: unexpected end of input inside braces", len(q)+1)
		}
		return fmt.Sprintf("1:%d: parse error: unclosed left %s", top.pos+1, names[top.c])
	}
	return ""
}

var promSelectorRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)?(?:\{(.*)\})?$`)
var promMatcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$`)

// promLabels are the labels Prometheus would report for a plain selector
// (`name{a="b"}`): the name as __name__ and the equality matchers. A query
// that is not a plain selector (a function, an aggregation) yields none.
func promLabels(query string) string {
	q := strings.TrimSpace(query)
	m := promSelectorRE.FindStringSubmatch(q)
	if m == nil || q == "" {
		return "{}"
	}
	var parts []string
	if m[1] != "" {
		parts = append(parts, jsonString("__name__")+":"+jsonString(m[1]))
	}
	if strings.TrimSpace(m[2]) != "" {
		for _, s := range strings.Split(m[2], ",") {
			mm := promMatcherRE.FindStringSubmatch(s)
			if mm == nil {
				continue // regex and negative matchers leave the label to the data
			}
			v, err := strconv.Unquote(`"` + mm[2] + `"`)
			if err != nil {
				v = mm[2]
			}
			parts = append(parts, jsonString(mm[1])+":"+jsonString(v))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// promSeriesJSON renders one matrix series evaluated at start + k·step ≤
// end, or false when no evaluation finds a sample.
func promSeriesJSON(m config.Metric, ss []model.Sample, start, end time.Time, step time.Duration) (string, bool) {
	var vals bytes.Buffer
	n := 0
	// ss is sorted by time: walk it alongside the evaluation times.
	j := 0
	for t := start; !t.After(end); t = t.Add(step) {
		for j < len(ss) && !ss[j].Time.After(t) {
			j++
		}
		// ss[j-1] is the latest sample at or before t.
		if j == 0 || !ss[j-1].Time.After(t.Add(-FakeLookback)) {
			continue
		}
		if n > 0 {
			vals.WriteByte(',')
		}
		n++
		fmt.Fprintf(&vals, "[%s,%q]", promTimestamp(t), promValue(ss[j-1].Value))
	}
	if n == 0 {
		return "", false
	}
	return fmt.Sprintf(`{"metric":%s,"values":[%s]}`, promLabels(m.Query), vals.String()), true
}

// promTimestamp writes unix seconds as Prometheus does: an integer, with a
// three-digit fraction when the time has milliseconds.
func promTimestamp(t time.Time) string {
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	if frac == 0 {
		return strconv.FormatInt(sec, 10)
	}
	return fmt.Sprintf("%d.%03d", sec, frac)
}

// promValue formats a sample value as Prometheus does.
func promValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
