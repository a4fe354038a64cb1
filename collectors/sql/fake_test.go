package sqlsource_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/collectors/collectorstest"
	sqlsource "github.com/impact-dev/impact/collectors/sql"
	"github.com/impact-dev/impact/config"
)

const mysqlDSN = "impact_ro:my-s3cret-pw@tcp(db.example.com:3306)/shop"

func fakeCollector(t *testing.T, fake *sqlsource.Fake, driverName string, ms ...config.Metric) *sqlsource.Collector {
	t.Helper()
	for i := range ms {
		ms[i].Source = "sql"
	}
	cfg := sqlsource.Config{Databases: []sqlsource.Database{{Name: "shop", Driver: driverName, DSN: mysqlDSN}}}
	c, err := sqlsource.New(cfg, ms, sqlsource.Options{Connect: func(sqlsource.Database) (driver.Connector, error) { return fake, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMySQLStatements: what the collector sends a MySQL database — the
// read-only transaction, the timeout, ? placeholders in order — checked
// against the fake (CI runs no MySQL server).
func TestMySQLStatements(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)
	var gotArgs []driver.Value
	fake := &sqlsource.Fake{Answer: func(q string, args []driver.Value) ([]string, [][]driver.Value, error) {
		gotArgs = args
		from := args[0].(time.Time)
		return []string{"h", "n"}, [][]driver.Value{
			{[]byte(from.Format("2006-01-02 15:04:05")), []byte("12.5")},
			{[]byte(from.Add(time.Hour).Format("2006-01-02 15:04:05")), nil},
		}, nil
	}}
	c := fakeCollector(t, fake, "mysql", config.Metric{ID: "m", Query: "SELECT DATE_FORMAT(t, '%Y-%m-%d %H:00:00'), SUM(x) FROM o WHERE t >= $from AND t < $to AND t <> $from GROUP BY 1"})
	sink := &collectorstest.Sink{}
	if err := c.Collect(context.Background(), collectors.Run{Since: now.Add(-3 * time.Hour), Backfill: true, Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"BEGIN READ ONLY",
		"SET SESSION time_zone = '+00:00'",
		"SET SESSION max_execution_time = 30000",
		"SELECT DATE_FORMAT(t, '%Y-%m-%d %H:00:00'), SUM(x) FROM o WHERE t >= ? AND t < ? AND t <> ? GROUP BY 1",
		"ROLLBACK",
	}
	if got := fake.Statements(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(gotArgs) != 3 || !gotArgs[0].(time.Time).Equal(now.Add(-3*time.Hour).Truncate(time.Hour)) {
		t.Errorf("args %v", gotArgs)
	}
	got := sink.Samples("m")
	if len(got) != 1 || got[0].Value != 12.5 {
		t.Errorf("samples %v, want one 12.5 (the NULL bucket skipped)", got)
	}
}

func TestQueryShapes(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)
	hour := now.Truncate(time.Hour)
	tests := []struct {
		name    string
		query   string
		cols    []string
		rows    [][]driver.Value
		err     error
		want    []float64
		wantErr string
	}{
		{"scalar", "SELECT count(*) FROM t", []string{"count"}, [][]driver.Value{{int64(42)}}, nil, []float64{42}, ""},
		{"scalar numeric text", "SELECT sum(x) FROM t", []string{"sum"}, [][]driver.Value{{"1234.5"}}, nil, []float64{1234.5}, ""},
		{"scalar NULL", "SELECT max(x) FROM t", []string{"max"}, [][]driver.Value{{nil}}, nil, nil, ""},
		{"scalar no row", "SELECT x FROM t WHERE false", []string{"x"}, nil, nil, nil, ""},
		{"scalar two rows", "SELECT x FROM t", []string{"x"}, [][]driver.Value{{int64(1)}, {int64(2)}}, nil, nil, "returns one row"},
		{"scalar three columns", "SELECT a, b, c FROM t", []string{"a", "b", "c"}, [][]driver.Value{{int64(1), int64(2), int64(3)}}, nil, nil, "1 column (the value) or 2"},
		{"bucket off the hour", "SELECT t, v FROM x WHERE t >= $from AND t < $to", []string{"t", "v"}, [][]driver.Value{{hour.Add(-90 * time.Minute), 1.0}}, nil, nil, "not on the hour"},
		{"bucket one column", "SELECT v FROM x WHERE t >= $from AND t < $to", []string{"v"}, [][]driver.Value{{1.0}}, nil, nil, "returns 2 columns"},
		{"bucket unix seconds", "SELECT t, v FROM x WHERE t >= $from AND t < $to", []string{"t", "v"}, [][]driver.Value{{hour.Add(-time.Hour).Unix(), 7.0}}, nil, []float64{7}, ""},
		{"driver error echoing the DSN", "SELECT 1", nil, nil, errors.New("Error 1045: Access denied for " + mysqlDSN + " (using password: my-s3cret-pw)"), nil, "Access denied"},
		{"a write refused by the server", "SELECT f()", nil, nil, &mysql.MySQLError{Number: 1792, Message: "Cannot execute statement in a READ ONLY transaction."}, nil, "refused: the query tried to write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &sqlsource.Fake{Answer: func(string, []driver.Value) ([]string, [][]driver.Value, error) {
				return tt.cols, tt.rows, tt.err
			}}
			c := fakeCollector(t, fake, "mysql", config.Metric{ID: "m", Query: tt.query})
			sink := &collectorstest.Sink{}
			err := c.Collect(context.Background(), collectors.Run{Since: hour.Add(-2 * time.Hour), Now: now, Sink: sink})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("the error shows the DSN: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []float64
			for _, s := range sink.Samples("m") {
				got = append(got, s.Value)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
				t.Errorf("samples %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReplaceInRegistry: the demo's way in — the registry's sql source
// replaced by one whose Connect opens a fake — builds a collector from a
// parsed config that queries the fake, in the source's place.
func TestReplaceInRegistry(t *testing.T) {
	fake := &sqlsource.Fake{Answer: func(string, []driver.Value) ([]string, [][]driver.Value, error) {
		return []string{"n"}, [][]driver.Value{{int64(7)}}, nil
	}}
	r := all.Registry()
	names := strings.Join(r.Names(), ",")
	r.Replace(sqlsource.SourceWith(sqlsource.Options{Connect: func(sqlsource.Database) (driver.Connector, error) { return fake, nil }}))
	if got := strings.Join(r.Names(), ","); got != names {
		t.Errorf("order %s, want %s", got, names)
	}
	cfg, err := r.Parse([]byte(`me: {github: alice}
sources:
  github: {token: t, repos: [acme/a]}
  sql:
    databases: [{name: shop, driver: mysql, dsn: "ro:pw@tcp(db.invalid:3306)/shop"}]
metrics:
  - {id: n, source: sql, unit: count, better: higher, query: "SELECT COUNT(*) FROM orders"}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.Build(cfg, collectors.Env{}, "sql")
	if err != nil {
		t.Fatal(err)
	}
	sink := &collectorstest.Sink{}
	if err := cs[0].Collect(context.Background(), collectors.Run{Now: time.Now(), Sink: sink}); err != nil {
		t.Fatal(err)
	}
	if got := sink.Samples("n"); len(got) != 1 || got[0].Value != 7 {
		t.Errorf("samples %v, want 7 from the fake", got)
	}
}
