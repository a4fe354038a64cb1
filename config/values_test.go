package config

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/impact-dev/impact/config/configtest"
	"github.com/impact-dev/impact/internal/glob"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		str  string // String of the result; "" means in
	}{
		{"7d", 7 * day, ""},
		{"1d", day, ""},
		{"90d", 90 * day, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"36h", 36 * time.Hour, "1d12h"},
		{"15m", 15 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"90m", 90 * time.Minute, "1h30m"},
		{"1h", time.Hour, ""},
		{"2w", 14 * day, "14d"},
		{"1.5d", 36 * time.Hour, "1d12h"},
		{"500ms", 500 * time.Millisecond, ""},
		{"1m30s", 90 * time.Second, ""},
		{"1h0m1s", time.Hour + time.Second, ""},
		{"0", 0, "0s"},
		{"0s", 0, ""},
		{"-1h", -time.Hour, ""},
		{" 2h ", 2 * time.Hour, "2h"},
		{"1d1h1m1s", day + time.Hour + time.Minute + time.Second, ""},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		want := tt.str
		if want == "" {
			want = tt.in
		}
		if s := Duration(got).String(); s != want {
			t.Errorf("Duration(%v).String() = %q, want %q", got, s, want)
		}
	}
	for _, in := range []string{"", "d", "7", "7x", "1.2.3d", "d7", "1d-2h", "--1h", "1e3d", "9999999999999d", "106751d24h", "1h 30m"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		in   string
		want Percent
		str  string
	}{
		{"10%", 0.10, "10%"},
		{"0.1", 0.10, "10%"},
		{"2.5%", 0.025, "2.5%"},
		{"7%", 0.07, "7%"},
		{" 12 % ", 0.12, "12%"},
		{"0", 0, "0%"},
		{"150%", 1.5, "150%"},
	}
	for _, tt := range tests {
		got, err := ParsePercent(tt.in)
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParsePercent(%q) = %v (%s), %v; want %v (%s)", tt.in, float64(got), got, err, float64(tt.want), tt.str)
		}
	}
	for _, in := range []string{"", "%", "ten%", "10%%", "NaN", "inf%", "0x"} {
		if got, err := ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q) = %v, want an error", in, got)
		}
	}
}

// TestYAMLMethods: the custom types also work with plain yaml.Unmarshal and
// yaml.Marshal, for packages that embed them in their own types.
func TestYAMLMethods(t *testing.T) {
	var v struct {
		D  Duration   `yaml:"d"`
		P  Percent    `yaml:"p"`
		L1 StringList `yaml:"l1"`
		L2 StringList `yaml:"l2"`
		S  Secret     `yaml:"s"`
	}
	if err := yaml.Unmarshal([]byte("d: 1d12h\np: 10%\nl1: alice\nl2: [a, b]\ns: hunter2\n"), &v); err != nil {
		t.Fatal(err)
	}
	configtest.Eq(t, "decoded", v.D.D(), 36*time.Hour)
	configtest.Eq(t, "percent", v.P, Percent(0.1))
	configtest.Eq(t, "scalar list", v.L1, StringList{"alice"})
	configtest.Eq(t, "list", v.L2, StringList{"a", "b"})
	configtest.Eq(t, "secret", v.S.Value(), "hunter2")
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	configtest.Eq(t, "marshalled", string(out), "d: 1d12h\np: 10%\nl1:\n    - alice\nl2:\n    - a\n    - b\ns: <secret>\n")
	j, err := json.Marshal(v.S)
	if err != nil {
		t.Fatal(err)
	}
	var back string
	if err := json.Unmarshal(j, &back); err != nil || back != "<secret>" {
		t.Errorf("JSON of a secret: %s", j)
	}

	for _, bad := range []string{"d: 7x", "d: [1]", "p: ten", "p: {}", "l1: {a: b}", "l2: [[a]]", "s: [x]"} {
		if err := yaml.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("yaml.Unmarshal(%q): no error", bad)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%c", "%10s", "%-8.3q"} {
		if out := fmt.Sprintf(f, s); strings.Contains(out, "hunter2") || strings.Contains(out, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("%s prints %q", f, out)
		}
	}
	configtest.Eq(t, "empty", Secret("").String(), "")
}

// TestCheckGlob: a pattern is checked by the check the config was loaded
// with (the registry passes internal/glob's, the one matcher), and the
// error names the key at fault; without one, only an empty pattern is
// refused.
func TestCheckGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		check   func(string) error
		want    string // "" = accepted
	}{
		{"internal/query", glob.Check, ""},
		{"**/*.sql", glob.Check, ""},
		{"[", glob.Check, `docs.paths[0].globs[0]: invalid pattern "[": syntax error in pattern`},
		{"a/[b/**", glob.Check, "syntax error in pattern"},
		{"/", glob.Check, "empty pattern"},
		{"[", nil, ""},
		{"./", nil, "empty pattern"},
	} {
		opts := testOptions(configtest.ReadFile)
		opts.CheckPattern = tc.check
		y := fmt.Sprintf("me: {github: alice}\ndocs:\n  paths:\n    - name: runbook\n      globs: [%q]\n", tc.pattern)
		_, err := ParseWith([]byte(y), "c.yaml", opts)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q (check %v): %v", tc.pattern, tc.check != nil, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q (check %v): %v, want %q", tc.pattern, tc.check != nil, err, tc.want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7d", "1d12h", "15m", "1.5d", "-2w", "0", "1h0m0.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil || d == math.MinInt64 {
			return
		}
		back, err := ParseDuration(Duration(d).String())
		if err != nil || back != d {
			t.Errorf("%q → %v → %q → %v, %v", s, int64(d), Duration(d).String(), int64(back), err)
		}
	})
}

// FuzzParse: no input makes loading panic, hang, or leak a secret.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../collectors/all/testdata/*/*.yaml") // the loader's test files, with sources
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(Example()))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("<<: {me: {github: x}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseWith(data, "fuzz.yaml", testOptions(configtest.ReadFile))
		if err != nil {
			if c != nil {
				t.Fatal("config and error")
			}
			for _, s := range []string{"ghp_SECRET_github_env", "SECRET_dd_api_env", "ghp_SECRET_github_file"} {
				if strings.Contains(err.Error(), s) && !strings.Contains(string(data), s) {
					t.Fatalf("error leaks %q: %v", s, err)
				}
			}
			return
		}
		if _, err := c.Show(); err != nil {
			t.Fatalf("Show: %v", err)
		}
		_ = fmt.Sprintf("%v %+v %#v", c, c, c)
	})
}

// TestCategoriesInjected: config knows no category; the loader accepts
// the ones it is given (the registry gives model.Categories), and any when
// given none.
func TestCategoriesInjected(t *testing.T) {
	doc := "me: {github: alice}\nsources:\n  a: {token: t}\nmetrics:\n" +
		"  - {id: m, source: a, query: q, unit: ms, better: lower, category: %s}\n" +
		"docs: {category: %s}\n"
	opts := LoadOptions{Sources: []SourceType{{Name: "a", Metrics: true, New: func() SourceConfig { return &testSource{} }}},
		LookupEnv: configtest.LookupEnv, UserHomeDir: configtest.Home}
	tests := []struct {
		name       string
		categories []string
		metric     string
		docs       string
		want       string // "" = ok
	}{
		{name: "known", categories: []string{"api", "speed"}, metric: "speed", docs: "api"},
		{name: "unknown", categories: []string{"api", "speed"}, metric: "slowness", docs: "ops", want: strings.Join([]string{
			`c.yaml:5: metrics[0].category: unknown category "slowness" (one of api, speed)`,
			`c.yaml:6: docs.category: "ops": want one of api, speed`,
		}, "\n")},
		{name: "none given: any", metric: "slowness", docs: "ops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			o.Categories = tt.categories
			c, err := ParseWith([]byte(fmt.Sprintf(doc, tt.metric, tt.docs)), "c.yaml", o)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Validate(); err != nil {
					t.Fatalf("Validate again: %v", err)
				}
				return
			}
			configtest.Eq(t, "problems", fmt.Sprint(err), tt.want)
		})
	}
	ex := ExampleWith(LoadOptions{Categories: []string{"api", "speed"}})
	if !strings.Contains(strings.ReplaceAll(ex, "\n# ", " "), "category (api or speed; default performance)") {
		t.Errorf("the example does not list the categories given:\n%s", ex)
	}
}
