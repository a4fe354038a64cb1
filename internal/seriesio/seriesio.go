// Package seriesio reads user-supplied metric series: a simple "time,value"
// CSV and the JSON format of the Turing Change Point Dataset (TCPD). It does
// no analysis; NaN marks a gap in the returned values.
package seriesio

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Series is a univariate series with its time labels as they appear in the
// source (TCPD times may be years, months or plain indices).
type Series struct {
	Name   string
	Times  []string
	Values []float64 // NaN = gap
}

// maxQuote bounds how much of an offending field goes into an error message.
const maxQuote = 40

func quote(s string) string {
	if len(s) > maxQuote {
		s = s[:maxQuote] + "…"
	}
	return strconv.Quote(s)
}

// ReadCSV reads "time,value" records. A header line is optional (the first
// record is taken as a header when neither field parses). Times may
// be RFC 3339, a date YYYY-MM-DD (UTC), "YYYY-MM-DD HH:MM:SS" (UTC) or unix
// seconds (integer or decimal). A blank value, NaN, NA or null is a gap and
// is returned as NaN. Errors are one line and name the input line, e.g.
// `line 7: bad value "abc"`.
func ReadCSV(r io.Reader) ([]time.Time, []float64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var ts []time.Time
	var vs []float64
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("line %d: %v", pe.Line, pe.Err)
			}
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		isFirst := first
		first = false
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // whitespace-only line
		}
		if len(rec) != 2 {
			return nil, nil, fmt.Errorf("line %d: want 2 fields (time,value), got %d", line, len(rec))
		}
		tf, vf := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		t, terr := ParseTime(tf)
		if terr != nil {
			if _, verr := strconv.ParseFloat(vf, 64); isFirst && verr != nil {
				continue // header, e.g. "time,value"
			}
			return nil, nil, fmt.Errorf("line %d: bad time %s", line, quote(tf))
		}
		v, ok := parseValue(vf)
		if !ok {
			return nil, nil, fmt.Errorf("line %d: bad value %s", line, quote(vf))
		}
		ts = append(ts, t)
		vs = append(vs, v)
	}
	return ts, vs, nil
}

// ParseTime parses RFC 3339, YYYY-MM-DD, "YYYY-MM-DD HH:MM:SS" (UTC) or unix
// seconds.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	if c := s[0]; c == '-' || c == '+' || (c >= '0' && c <= '9') {
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eExXpP_") {
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
				return time.Time{}, errors.New("unix time out of range")
			}
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

func parseValue(s string) (float64, bool) {
	switch strings.ToLower(s) {
	case "", "nan", "na", "null", "none":
		return math.NaN(), true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// tcpdFile mirrors the parts of a TCPD JSON file that we use.
type tcpdFile struct {
	Name string `json:"name"`
	NObs *int   `json:"n_obs"`
	NDim int    `json:"n_dim"`
	Time *struct {
		Index []json.RawMessage `json:"index"`
		Raw   []json.RawMessage `json:"raw"`
	} `json:"time"`
	Series []struct {
		Label string            `json:"label"`
		Type  string            `json:"type"`
		Raw   []json.RawMessage `json:"raw"`
	} `json:"series"`
}

// ReadTCPD reads a TCPD dataset file and returns its first series. Times are
// the "time.raw" labels when present, else the "time.index" values, else
// "0", "1", …. Null or non-numeric values ("NaN") become NaN gaps.
func ReadTCPD(r io.Reader) (Series, error) {
	var f tcpdFile
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return Series{}, fmt.Errorf("tcpd: %v", err)
	}
	if len(f.Series) == 0 {
		return Series{}, errors.New("tcpd: no series")
	}
	raw := f.Series[0].Raw
	n := len(raw)
	if f.NObs != nil && *f.NObs != n {
		return Series{}, fmt.Errorf("tcpd: n_obs is %d but series %q has %d values", *f.NObs, f.Series[0].Label, n)
	}
	s := Series{Name: f.Name, Values: make([]float64, n), Times: make([]string, n)}
	for i, m := range raw {
		v, err := tcpdValue(m)
		if err != nil {
			return Series{}, fmt.Errorf("tcpd: series %q value %d: %v", f.Series[0].Label, i, err)
		}
		s.Values[i] = v
	}
	var labels []json.RawMessage
	if f.Time != nil {
		switch {
		case len(f.Time.Raw) == n:
			labels = f.Time.Raw
		case len(f.Time.Index) == n:
			labels = f.Time.Index
		}
	}
	for i := range s.Times {
		if labels == nil {
			s.Times[i] = strconv.Itoa(i)
			continue
		}
		var str string
		if err := json.Unmarshal(labels[i], &str); err == nil {
			s.Times[i] = str
		} else {
			s.Times[i] = string(bytes.TrimSpace(labels[i]))
		}
	}
	return s, nil
}

func tcpdValue(m json.RawMessage) (float64, error) {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || string(m) == "null" {
		return math.NaN(), nil
	}
	var v float64
	if err := json.Unmarshal(m, &v); err == nil {
		return v, nil
	}
	var s string
	if err := json.Unmarshal(m, &s); err == nil {
		if v, ok := parseValue(strings.TrimSpace(s)); ok {
			return v, nil
		}
		return 0, fmt.Errorf("bad value %s", quote(s))
	}
	return 0, fmt.Errorf("bad value %s", quote(string(m)))
}
