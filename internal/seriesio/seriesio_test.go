package seriesio

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadCSV(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	nan := math.NaN()
	tests := []struct {
		name    string
		in      string
		times   []time.Time
		values  []float64
		wantErr string
	}{
		{name: "header and dates", in: "time,value\n2024-03-01,1.5\n2024-03-02,2\n",
			times: []time.Time{day(1), day(2)}, values: []float64{1.5, 2}},
		{name: "no header", in: "2024-03-01,1\n2024-03-02,-3e2\n",
			times: []time.Time{day(1), day(2)}, values: []float64{1, -300}},
		{name: "rfc3339 with zone", in: "2024-03-01T10:00:00+02:00,7\n",
			times: []time.Time{time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)}, values: []float64{7}},
		{name: "unix seconds", in: "ts,latency_ms\n1709251200,3\n1709337600.5,4\n",
			times: []time.Time{day(1), day(2).Add(500 * time.Millisecond)}, values: []float64{3, 4}},
		{name: "gaps", in: "2024-03-01,\n2024-03-02,NaN\n2024-03-03, nan \n2024-03-04,null\n2024-03-05,5\n",
			times: []time.Time{day(1), day(2), day(3), day(4), day(5)}, values: []float64{nan, nan, nan, nan, 5}},
		{name: "CRLF, spaces, blank lines", in: "time, value\r\n\r\n 2024-03-01 , 1 \r\n2024-03-02,2\r\n",
			times: []time.Time{day(1), day(2)}, values: []float64{1, 2}},
		{name: "datetime with space", in: "2024-03-01 12:30:00,1\n",
			times: []time.Time{time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)}, values: []float64{1}},
		{name: "empty", in: "", times: nil, values: nil},
		{name: "header only", in: "time,value\n", times: nil, values: nil},
		{name: "bad value", in: "time,value\n2024-03-01,1\n2024-03-02,abc\n", wantErr: `line 3: bad value "abc"`},
		{name: "infinite value", in: "2024-03-01,inf\n", wantErr: `line 1: bad value "inf"`},
		{name: "bad time", in: "time,value\n2024-03-01,1\nyesterday,2\n", wantErr: `line 3: bad time "yesterday"`},
		{name: "bad time on first line with numeric value", in: "2024-13-01,2\n", wantErr: `line 1: bad time "2024-13-01"`},
		{name: "too few fields", in: "2024-03-01,1\n2024-03-02\n", wantErr: `line 2: want 2 fields (time,value), got 1`},
		{name: "too many fields", in: "2024-03-01,1,2\n", wantErr: `line 1: want 2 fields (time,value), got 3`},
		{name: "bad quoting", in: "2024-03-01,1\n\"2024-03-02,2\n", wantErr: "line 2:"},
		{name: "line numbers count blank lines", in: "time,value\n\n\n2024-03-01,x\n", wantErr: `line 4: bad value "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, vs, err := ReadCSV(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("multi-line error %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != len(tc.times) || len(vs) != len(tc.values) {
				t.Fatalf("got %v %v, want %v %v", ts, vs, tc.times, tc.values)
			}
			for i := range ts {
				if !ts[i].Equal(tc.times[i]) {
					t.Errorf("time %d = %v, want %v", i, ts[i], tc.times[i])
				}
				if !(vs[i] == tc.values[i] || math.IsNaN(vs[i]) && math.IsNaN(tc.values[i])) {
					t.Errorf("value %d = %v, want %v", i, vs[i], tc.values[i])
				}
			}
		})
	}
}

func TestReadCSVLongFieldQuotedInError(t *testing.T) {
	_, _, err := ReadCSV(strings.NewReader("2024-03-01," + strings.Repeat("x", 500) + "\n"))
	if err == nil || len(err.Error()) > 100 {
		t.Errorf("err = %v", err)
	}
}

const tcpdSample = `{
	"name": "demo",
	"longname": "Demo",
	"n_obs": 4,
	"n_dim": 2,
	"time": {"type": "string", "format": "%Y-%m", "index": [0, 1, 2, 3], "raw": ["2001-01", "2001-02", "2001-03", "2001-04"]},
	"series": [
		{"label": "a", "type": "float", "raw": [1.5, null, 3, -2e3]},
		{"label": "b", "type": "int", "raw": [9, 9, 9, 9]}
	]
}`

func TestReadTCPD(t *testing.T) {
	s, err := ReadTCPD(strings.NewReader(tcpdSample))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "demo" || strings.Join(s.Times, ",") != "2001-01,2001-02,2001-03,2001-04" {
		t.Errorf("got %+v", s)
	}
	want := []float64{1.5, math.NaN(), 3, -2000}
	for i, v := range s.Values {
		if !(v == want[i] || math.IsNaN(v) && math.IsNaN(want[i])) {
			t.Errorf("value %d = %v, want %v", i, v, want[i])
		}
	}

	// No raw times: the index is used; no time at all: 0, 1, ….
	s, err = ReadTCPD(strings.NewReader(`{"name":"x","n_obs":3,"time":{"index":[0,1,2]},"series":[{"label":"v","raw":[1,2,"NaN"]}]}`))
	if err != nil || strings.Join(s.Times, ",") != "0,1,2" || !math.IsNaN(s.Values[2]) {
		t.Errorf("index times: %+v, %v", s, err)
	}
	s, err = ReadTCPD(strings.NewReader(`{"series":[{"raw":[1,2]}]}`))
	if err != nil || strings.Join(s.Times, ",") != "0,1" {
		t.Errorf("no time: %+v, %v", s, err)
	}

	for _, bad := range []struct{ in, want string }{
		{`{`, "tcpd:"},
		{`{"name":"x","series":[]}`, "tcpd: no series"},
		{`{"n_obs":3,"series":[{"label":"v","raw":[1,2]}]}`, "tcpd: n_obs is 3"},
		{`{"series":[{"label":"v","raw":[1,{"a":1}]}]}`, `tcpd: series "v" value 1: bad value`},
		{`{"series":[{"label":"v","raw":[1,"abc"]}]}`, `tcpd: series "v" value 1: bad value "abc"`},
		{`[1,2]`, "tcpd:"},
	} {
		if _, err := ReadTCPD(strings.NewReader(bad.in)); err == nil || !strings.HasPrefix(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want prefix %q", bad.in, err, bad.want)
		}
	}
}

// TestReadTCPDRealFiles reads the benchmark files when they are present.
func TestReadTCPDRealFiles(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/bench/tcpd/data/*/*.json")
	if len(files) == 0 {
		t.Skip("TCPD data not available")
	}
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ReadTCPD(r)
		r.Close()
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(s.Values) < 10 || len(s.Times) != len(s.Values) || s.Name == "" {
			t.Errorf("%s: %d values, %d times, name %q", f, len(s.Values), len(s.Times), s.Name)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"time,value\n2024-03-01,1.5\n2024-03-02,\n",
		"1709251200,3\n1709337600.5,NaN\n",
		"2024-03-01T10:00:00Z,1\n\"a\",2\n",
		"x\n",
		"",
		"-99999999999999999999,1\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ts, vs, err := ReadCSV(strings.NewReader(in))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		if len(ts) != len(vs) {
			t.Errorf("%d times, %d values", len(ts), len(vs))
		}
		for _, v := range vs {
			if math.IsInf(v, 0) {
				t.Errorf("infinite value")
			}
		}
	})
}

func FuzzReadTCPD(f *testing.F) {
	f.Add(tcpdSample)
	f.Add(`{"series":[{"raw":[1,null,"NaN"]}]}`)
	f.Add(`{"n_obs":1,"time":{"raw":[1]},"series":[{"raw":[1e400]}]}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ReadTCPD(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(s.Times) != len(s.Values) {
			t.Errorf("%d times, %d values", len(s.Times), len(s.Values))
		}
	})
}
