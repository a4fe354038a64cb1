package honeycomb_test

import (
	"strings"
	"testing"

	"github.com/impact-dev/impact/collectors/honeycomb"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name, q, want, wantErr string
	}{
		{"count", "COUNT", `{"calculations":[{"op":"COUNT"}]}`, ""},
		{"lower-case op", "p99(duration_ms)", `{"calculations":[{"op":"P99","column":"duration_ms"}]}`, ""},
		{"filters", `P99(duration_ms) WHERE service.name = checkout AND http.status_code >= 500 AND route starts-with "/api v2"`,
			`{"calculations":[{"op":"P99","column":"duration_ms"}],"filters":[{"column":"service.name","op":"=","value":"checkout"},{"column":"http.status_code","op":">=","value":500},{"column":"route","op":"starts-with","value":"/api v2"}]}`, ""},
		{"or, exists, in", `AVG(db.duration) where error exists or region in ('eu', us, 3)`,
			`{"calculations":[{"op":"AVG","column":"db.duration"}],"filters":[{"column":"error","op":"exists"},{"column":"region","op":"in","value":["eu","us",3]}],"filter_combination":"OR"}`, ""},
		{"quoted number stays a string", `COUNT WHERE code = "500"`, `{"calculations":[{"op":"COUNT"}],"filters":[{"column":"code","op":"=","value":"500"}]}`, ""},
		{"booleans and floats", `COUNT WHERE cached = false AND ratio < 0.5`, `{"calculations":[{"op":"COUNT"}],"filters":[{"column":"cached","op":"=","value":false},{"column":"ratio","op":"<","value":0.5}]}`, ""},
		{"json", `{"calculations":[{"op":"p95","column":"duration_ms"}],"filters":[{"column":"status","op":"!=","value":200}],"filter_combination":"AND"}`,
			`{"calculations":[{"op":"P95","column":"duration_ms"}],"filters":[{"column":"status","op":"!=","value":200}]}`, ""},
		{"json without calculations counts", `{"filters":[{"column":"error","op":"exists"}]}`, `{"calculations":[{"op":"COUNT"}],"filters":[{"column":"error","op":"exists"}]}`, ""},
		{"json time range", `{"calculations":[{"op":"COUNT"}],"time_range":7200}`, "", "leave out time_range"},
		{"json unknown key", `{"calculation":[{"op":"COUNT"}]}`, "", "unknown field"},
		{"json object value", `{"filters":[{"column":"a","op":"=","value":{"x":1}}]}`, "", "want a string, number or boolean"},
		{"two calculations", `{"calculations":[{"op":"COUNT"},{"op":"AVG","column":"x"}]}`, "", "want one calculation, got 2"},
		{"heatmap", "HEATMAP(duration_ms)", "", "HEATMAP is no number"},
		{"unknown op", "P98(duration_ms)", "", `unknown calculation "P98"`},
		{"column missing", "AVG", "", "AVG needs a column"},
		{"count with column", "COUNT(x)", "", "COUNT takes no column"},
		{"mixed combination", "COUNT WHERE a = 1 AND b = 2 OR c = 3", "", "mixes AND and OR"},
		{"no where", "COUNT service = x", "", "want WHERE"},
		{"value missing", "COUNT WHERE a =", "", "needs a value"},
		{"in without list", "COUNT WHERE a in b", "", "takes a list"},
		{"exists with value", `{"filters":[{"column":"a","op":"exists","value":1}]}`, "", "takes no value"},
		{"unclosed quote", `COUNT WHERE a = "x`, "", "unclosed quote"},
		{"unknown filter op", "COUNT WHERE a ~ b", "", "unknown op"},
		{"empty", "  ", "", "empty query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := honeycomb.ParseQuery(tt.q)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Canonical(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestTextAndJSONAgree: the two forms of one query read the same (the
// cursor keeps the canonical form).
func TestTextAndJSONAgree(t *testing.T) {
	a, err := honeycomb.ParseQuery(`P99(duration_ms) WHERE service.name = checkout AND status >= 500`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := honeycomb.ParseQuery(`{"calculations":[{"op":"P99","column":"duration_ms"}],"filters":[{"column":"service.name","op":"=","value":"checkout"},{"column":"status","op":">=","value":500}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if a.Canonical() != b.Canonical() {
		t.Errorf("%s\n!=\n%s", a.Canonical(), b.Canonical())
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"COUNT", "P99(duration_ms) WHERE a = 1 AND b in (x, 'y')", `{"calculations":[{"op":"AVG","column":"x"}]}`, `COUNT WHERE a = "x\"y"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		s, err := honeycomb.ParseQuery(q)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		// A parsed query reads back the same from its canonical form.
		again, err := honeycomb.ParseQuery(s.Canonical())
		if err != nil {
			t.Fatalf("canonical %s does not parse: %v", s.Canonical(), err)
		}
		if again.Canonical() != s.Canonical() {
			t.Fatalf("%s → %s", s.Canonical(), again.Canonical())
		}
	})
}
