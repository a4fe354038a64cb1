package datadog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
)

// generated decodes body with the generated client's model and converts it
// to what the collector reads: the reference decodeResponse must agree with.
func generated(body []byte) (queryResponse, bool) {
	var g datadogV1.MetricsQueryResponse
	if len(body) > 0 && json.Unmarshal(body, &g) != nil {
		return queryResponse{}, false
	}
	if g.UnparsedObject != nil {
		return queryResponse{}, false
	}
	out := queryResponse{Status: g.Status, Error: g.Error}
	if g.Series != nil {
		out.Series = []querySeries{}
	}
	for _, s := range g.Series {
		if s.UnparsedObject != nil {
			return queryResponse{}, false
		}
		out.Series = append(out.Series, querySeries{Interval: s.GetInterval(), Pointlist: s.Pointlist})
	}
	return out, true
}

func TestDecodeMatchesGeneratedClient(t *testing.T) {
	files, err := filepath.Glob("testdata/v1_query*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	bodies := map[string][]byte{"synthetic 62 days": synthBody(2, 62*24)}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies[f] = b
	}
	for _, extra := range []string{
		`{}`, `{"status":"ok"}`, `{"status":"error","error":"bad query"}`,
		`{"status":"ok","series":[{"pointlist":[[1772380800000,null],[null,2]],"interval":3600,"unit":[null,null]}]}`,
		`{"status":"ok","series":[],"extra":{"n":12345678901234567890}}`,
	} {
		bodies[extra] = []byte(extra)
	}
	for name, body := range bodies {
		t.Run(filepath.Base(name), func(t *testing.T) {
			want, ok := generated(body)
			if !ok {
				t.Fatal("the generated client does not decode the fixture")
			}
			got, err := decodeResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decodeResponse differs from the generated client:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// synthBody is a 2xx body with n series of hours points each.
func synthBody(n, hours int) []byte {
	var b strings.Builder
	b.WriteString(`{"status":"ok","res_type":"time_series","query":"q","from_date":1,"to_date":2,"group_by":[],"series":[`)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for s := range n {
		if s > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"aggr":"avg","display_name":"d","end":2,"expression":"e","interval":3600,"length":%d,"metric":"m","query_index":0,"scope":"s","start":1,"tag_set":[],"unit":[{"family":"time","name":"millisecond","plural":"milliseconds","scale_factor":0.001,"short_name":"ms"},null],"pointlist":[`, hours)
		for h := range hours {
			if h > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "[%d.0,%g]", start+int64(h)*3_600_000, 100+float64(h%97)/7)
		}
		b.WriteString("]}")
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// BenchmarkDecode compares one chunk's decoding (62 days, one series) with
// the generated client's. Run: go test -run '^$' -bench Decode -benchmem ./collectors/datadog
func BenchmarkDecode(b *testing.B) {
	body := synthBody(1, 62*24)
	b.Run("once", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := decodeResponse(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generated-client", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, ok := generated(body); !ok {
				b.Fatal("not decoded")
			}
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"status":"ok","series":[{"pointlist":[[1772380800000.0,1.5]]}]}`))
	f.Add([]byte(`{"status":"ok","series":"nope"}`))
	f.Add([]byte(`{"status":"ok","series":[{"pointlist":[[1,"x"]]}]}`))
	f.Add([]byte(``))
	ch := chunk{from: time.Unix(0, 0), to: time.Unix(1<<40, 0)}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := decodeResponse(body)
		if err != nil {
			return
		}
		_, _, _ = points(resp, ch) // must not panic
	})
}
