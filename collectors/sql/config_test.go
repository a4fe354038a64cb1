package sqlsource_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/impact-dev/impact/collectors/github"
	sqlsource "github.com/impact-dev/impact/collectors/sql"
	"github.com/impact-dev/impact/config"
)

func parse(doc string) (*config.Config, error) {
	opts := config.LoadOptions{Sources: []config.SourceType{github.Source().Config, sqlsource.Source().Config}}
	opts.ReadFile = func(name string) ([]byte, error) {
		if name == "/run/secrets/orders-dsn" {
			return []byte("postgres://ro:file-s3cret@db.example.com/orders\n"), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return config.ParseWith([]byte("me: {github: alice}\nsources:\n  github: {token: t, repos: [acme/a]}\n"+doc), "c.yaml", opts)
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name, doc string
		wantErr   []string
	}{
		{"ok", `  sql:
    databases:
      - {name: orders, driver: postgres, dsn_file: /run/secrets/orders-dsn}
      - {name: shop, driver: MariaDB, dsn: "ro:pw@tcp(db:3306)/shop"}
metrics:
  - {id: a, source: sql, in: orders, unit: count, better: higher, query: "SELECT date_trunc('hour', t), count(*) FROM o WHERE t >= $from AND t < $to GROUP BY 1"}
  - {id: b, source: sql, in: shop, unit: count, better: higher, query: "SELECT COUNT(*) FROM orders"}
`, nil},
		{"one database: in is optional", `  sql:
    databases: [{name: orders, driver: postgres, dsn: "postgres://ro:pw@db/orders"}]
metrics:
  - {id: a, source: sql, unit: count, better: higher, query: "SELECT count(*) FROM o"}
`, nil},
		{"an UPDATE is refused at config check", `  sql:
    databases: [{name: orders, driver: postgres, dsn: "postgres://ro:pw@db/orders"}]
metrics:
  - {id: a, source: sql, unit: count, better: higher, query: "UPDATE orders SET total = 0"}
`, []string{"c.yaml:7: metrics[0].query: want one SELECT (or WITH … SELECT) statement, not UPDATE: the sql source only reads"}},
		{"problems", `  sql:
    databases:
      - {name: orders, driver: oracle, dsn: "x"}
      - {name: orders, driver: mysql, dsn: "ro:pw-s3cret@tcp(db:3306/shop"}
      - {name: pg, driver: postgres}
    max_rows: 0
metrics:
  - {id: a, source: sql, unit: count, better: higher, query: "SELECT 1"}
  - {id: b, source: sql, in: nope, unit: count, better: higher, query: "SELECT 1"}
`, []string{
			`c.yaml:6: sources.sql.databases[0].driver: unknown value "oracle"`,
			`c.yaml:7: sources.sql.databases[1].name: duplicate database name "orders"`,
			`sources.sql.databases[1].dsn: not a MySQL DSN`,
			`sources.sql.databases[2].dsn: required`,
			`sources.sql.max_rows: must be at least 720`,
			`c.yaml:11: metrics[0].in: required: which of sources.sql.databases`,
			`c.yaml:12: metrics[1].in: unknown database "nope"`,
		}},
		{"no databases", "  sql: {interval: 1h}\n", []string{"sources.sql.databases: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse(tt.doc)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				sc := config.SourceAs[sqlsource.Config](cfg, "sql")
				if sc.StatementTimeout.D() != 30*time.Second || sc.MaxRows != 10000 || sc.PollInterval() != time.Hour {
					t.Errorf("defaults: %+v", sc)
				}
				out, err := cfg.Show()
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(out), "pw") || strings.Contains(string(out), "s3cret") {
					t.Errorf("config show prints a DSN:\n%s", out)
				}
				return
			}
			if err == nil {
				t.Fatal("want errors")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
			t.Log(err)
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("an error shows a DSN:\n%v", err)
			}
		})
	}
}

// TestFmtMasksDSN: fmt never prints a DSN, whatever the verb, even for a
// pointer inside another struct (printed with its methods off).
func TestFmtMasksDSN(t *testing.T) {
	c := &sqlsource.Config{Databases: []sqlsource.Database{{Name: "orders", Driver: "postgres", DSN: "postgres://ro:s3cret-pw@db/orders"}}}
	d := &c.Databases[0]
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		for _, v := range []any{c, *c, d, *d, struct{ C *sqlsource.Config }{c}, struct{ D *sqlsource.Database }{d}} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, "s3cret") || strings.Contains(s, hexOf("s3cret")) {
				t.Errorf("fmt %s of %T prints the DSN: %s", verb, v, s)
			}
		}
	}
}

func hexOf(s string) string { return fmt.Sprintf("%x", s) }

func TestDelta(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := func(total, count float64) sqlsource.Reading {
		return sqlsource.Reading{Total: total, Count: count, At: at, Query: "q"}
	}
	tests := []struct {
		name      string
		prev, cur sqlsource.Reading
		want      float64
		ok        bool
		why       string
	}{
		{"mean of the new calls", r(1000, 100), r(1600, 120), 30, true, ""},
		{"no new calls", r(1000, 100), r(1000, 100), 0, false, "nothing counted"},
		{"reset: calls went down", r(1000, 100), r(50, 5), 0, false, "statistics reset"},
		{"reset: total went down", r(1000, 100), r(900, 150), 0, false, "statistics reset"},
		{"query changed", r(1000, 100), sqlsource.Reading{Total: 1600, Count: 120, Query: "other"}, 0, false, "query changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok, why := sqlsource.Delta(tt.prev, tt.cur)
			if v != tt.want || ok != tt.ok || !strings.Contains(why, tt.why) {
				t.Errorf("Delta = %v, %v, %q; want %v, %v, %q", v, ok, why, tt.want, tt.ok, tt.why)
			}
		})
	}
}
