package render

import (
	"bytes"
	"encoding/json"
	"testing"
)

var indentCases = []string{
	`null`, `true`, `0`, `-1.5e-7`, `""`, `"a\"b\\"`, `"\\"`, `"{[,:]}"`,
	`{}`, `[]`, `[[]]`, `[{}]`, `{"a":{}}`, `{"a":[]}`, `[1,2,3]`, `[[],[1],{}]`,
	`{"a":1,"b":[true,false,null],"c":{"d":"e\u2028\n\"","f":[{"g":[]}]}}`,
	`{"text":"Cut p99 from 1.8 s to 210 ms (−88%) <b>&</b>","before":1800,"change":-0.88,"prs":[]}`,
}

// TestAppendIndent checks appendIndent against json.Indent.
func TestAppendIndent(t *testing.T) {
	for _, src := range indentCases {
		for _, p := range []struct{ prefix, indent string }{{"", "  "}, {"        ", "  "}, {"\t", "\t"}} {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(src), p.prefix, p.indent); err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if got := appendIndent(nil, []byte(src), p.prefix, p.indent); string(got) != want.String() {
				t.Errorf("appendIndent(%s, %q, %q) =\n%s\nwant\n%s", src, p.prefix, p.indent, got, want.String())
			}
		}
	}
}

// FuzzAppendIndent asserts that appendIndent indents any compact JSON (as
// json.Marshal writes it) the way json.Indent does.
func FuzzAppendIndent(f *testing.F) {
	for _, src := range indentCases {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if !json.Valid(src) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, src); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "        ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndent(nil, compact.Bytes(), "        ", "  "); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendIndent(%s) =\n%s\nwant\n%s", compact.Bytes(), got, want.Bytes())
		}
	})
}
