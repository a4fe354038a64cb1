package glob

import (
	"strings"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"internal/query/**", "internal/query/build.go", true},
		{"internal/query/**", "internal/query/sub/dir/x.go", true},
		{"internal/query/**", "internal/query", true},
		{"internal/query/**", "internal/queryx/a.go", false},
		{"internal/query/**", "cmd/internal/query/a.go", false},
		{"internal/query/", "internal/query/a.go", true},
		// A pattern without wildcards is the path and everything below it
		// (the drafter's rule, now the only one).
		{"internal/query", "internal/query/build.go", true},
		{"internal/query", "internal/query", true},
		{"internal/query", "internal/queryx/a.go", false},
		{"/internal/*.go", "internal/a.go", true},
		{"internal/*.go", "internal/sub/a.go", false},
		{"**/*.sql", "migrations/001.sql", true},
		{"**/*.sql", "a/b/c/001.sql", true},
		{"**/*.sql", "001.sql", true},
		{"**/*.sql", "001.sql.bak", false},
		{"a/**/b/**/c", "a/b/c", true},
		{"a/**/b/**/c", "a/x/y/b/z/c", true},
		{"a/**/b/**/c", "a/x/y/z/c", false},
		{"**", "anything/at/all", true},
		{"cmd/*/main.go", "cmd/impact/main.go", true},
		{"cmd/*/main.go", "cmd/a/b/main.go", false},
		{"./api/**/handler_*.go", "api/v2/orders/handler_list.go", true},
		{"db/migration_??.sql", "db/migration_01.sql", true},
		{"db/migration_??.sql", "db/migration_1.sql", false},
		{"[a-c]/x", "b/x", true},
		{"[a-c]/x", "d/x", false},
		{"README.md", "README.md", true},
		{"README.md", "docs/README.md", false},
		{"", "a", false},
		{"[", "[", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		ok      bool
	}{
		{"", false}, {"[", false}, {"a/[b/**", false}, {`x\`, false},
		{"internal/query", true}, {"**/*.sql", true}, {"docs/", true},
	} {
		if err := Check(tt.pattern); (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok %v", tt.pattern, err, tt.ok)
		}
	}
}

func TestMatchIsLinear(t *testing.T) {
	pattern := strings.Repeat("**/a/", 30) + "b"
	path := strings.Repeat("a/", 500) + "c"
	start := time.Now()
	if Match(pattern, path) {
		t.Error("matched")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"internal/**", "**/*.sql", "a/[b", "x"} {
		f.Add(s, "internal/query/a.go")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if Match(pattern, name) && Check(pattern) != nil {
			t.Errorf("invalid pattern %q matched %q", pattern, name)
		}
	})
}
