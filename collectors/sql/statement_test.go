package sqlsource_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	sqlsource "github.com/impact-dev/impact/collectors/sql"
)

func TestParseStatement(t *testing.T) {
	tests := []struct {
		name, dialect, query string
		kind                 sqlsource.Kind
		wantErr              string // substring; "" = accepted
	}{
		{"scalar", sqlsource.Postgres, "SELECT count(*) FROM orders", sqlsource.Scalar, ""},
		{"trailing semicolon", sqlsource.Postgres, "select 1;  \n", sqlsource.Scalar, ""},
		{"with", sqlsource.Postgres, "WITH x AS (SELECT 1 AS n) SELECT n FROM x", sqlsource.Scalar, ""},
		{"bucketed", sqlsource.Postgres, "SELECT date_trunc('hour', t), count(*) FROM o WHERE t >= $from AND t < $to GROUP BY 1", sqlsource.Bucketed, ""},
		{"bucketed mysql", sqlsource.MySQL, "SELECT DATE_FORMAT(t, '%Y-%m-%d %H:00:00'), COUNT(*) FROM o WHERE t >= $from AND t < $to GROUP BY 1", sqlsource.Bucketed, ""},
		{"write words in strings and comments", sqlsource.Postgres, "SELECT 'UPDATE x; DROP TABLE y' AS \"delete\" -- insert\n/* truncate /* nested */ drop */ FROM t", sqlsource.Scalar, ""},
		{"updated_at is a column", sqlsource.Postgres, "SELECT max(updated_at) FROM t", sqlsource.Scalar, ""},
		{"$1 in a string", sqlsource.Postgres, "SELECT sum(calls) FROM pg_stat_statements WHERE query LIKE '%id = $1%'", sqlsource.Scalar, ""},
		{"dollar quote", sqlsource.Postgres, "SELECT $$ DELETE; $$, $q$ it's $q$", sqlsource.Scalar, ""},
		{"E string", sqlsource.Postgres, `SELECT E'it\'s; DROP' FROM t`, sqlsource.Scalar, ""},
		{"mysql backslash", sqlsource.MySQL, `SELECT 'a\'; DELETE FROM t' FROM t`, sqlsource.Scalar, ""},
		{"mysql hash comment", sqlsource.MySQL, "SELECT 1 # DELETE\n", sqlsource.Scalar, ""},

		{"update", sqlsource.Postgres, "UPDATE orders SET took_ms = 0", 0, "not UPDATE"},
		{"delete lowercase", sqlsource.Postgres, "  delete from orders", 0, "not DELETE"},
		{"data-modifying CTE", sqlsource.Postgres, "WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d", 0, "DELETE is not allowed"},
		{"select into", sqlsource.Postgres, "SELECT * INTO copy FROM t", 0, "INTO is not allowed"},
		{"into outfile", sqlsource.MySQL, "SELECT * FROM t INTO OUTFILE '/tmp/x'", 0, "INTO is not allowed"},
		{"for update", sqlsource.Postgres, "SELECT * FROM t FOR UPDATE", 0, "UPDATE is not allowed"},
		{"two statements", sqlsource.Postgres, "SELECT 1; DELETE FROM t", 0, "one statement only"},
		{"two selects", sqlsource.Postgres, "SELECT 1; SELECT 2", 0, "one statement only"},
		{"mysql executable comment", sqlsource.MySQL, "SELECT 1 /*! ; DELETE FROM t */", 0, "executable comments"},
		{"empty", sqlsource.Postgres, " -- nothing\n", 0, "empty query"},
		{"set", sqlsource.Postgres, "SET statement_timeout = 0", 0, "not SET"},
		{"positional", sqlsource.Postgres, "SELECT * FROM t WHERE id = $1", 0, "no positional parameters ($1)"},
		{"unknown param", sqlsource.Postgres, "SELECT * FROM t WHERE t > $since", 0, "unknown parameter $since"},
		{"only from", sqlsource.Postgres, "SELECT t, v FROM x WHERE t >= $from", 0, "both $from and $to"},
		{"mysql ?", sqlsource.MySQL, "SELECT * FROM t WHERE id = ?", 0, "no ? placeholders"},
		{"unterminated string", sqlsource.Postgres, "SELECT 'abc", 0, "unterminated string"},
		{"unterminated comment", sqlsource.Postgres, "SELECT 1 /* x", 0, "unterminated /* comment"},
		{"unterminated dollar", sqlsource.Postgres, "SELECT $a$ x", 0, "unterminated dollar-quoted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlsource.ParseStatement(tt.query, tt.dialect)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Kind != tt.kind {
				t.Errorf("kind %v, want %v", st.Kind, tt.kind)
			}
		})
	}
}

func TestStatementSQL(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	q := "SELECT t, v FROM x WHERE t >= $from AND t < $to AND t <> $from;"
	tests := []struct {
		dialect, want string
		args          []any
	}{
		{sqlsource.Postgres, "SELECT t, v FROM x WHERE t >= $1 AND t < $2 AND t <> $1", []any{from, to}},
		{sqlsource.MySQL, "SELECT t, v FROM x WHERE t >= ? AND t < ? AND t <> ?", []any{from, to, from}},
	}
	for _, tt := range tests {
		st, err := sqlsource.ParseStatement(q, tt.dialect)
		if err != nil {
			t.Fatal(err)
		}
		got, args := st.SQL(tt.dialect, from, to)
		if got != tt.want || !reflect.DeepEqual(args, tt.args) {
			t.Errorf("%s: %q %v, want %q %v", tt.dialect, got, args, tt.want, tt.args)
		}
	}
}

// FuzzParseStatement: the check never panics, and an accepted statement
// starts with SELECT or WITH and binds its parameters consistently.
func FuzzParseStatement(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT t, v FROM x WHERE t >= $from AND t < $to", "WITH a AS (SELECT 1) SELECT * FROM a;",
		"SELECT 'a''b' -- c\n", "SELECT $x$ $$ $x$", "SELECT E'\\''", "/* /* */ */ SELECT 1", "SELECT `a` # b",
		"UPDATE t SET a = 1", "SELECT 1; DROP TABLE t",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, q string, mysql bool) {
		dialect := sqlsource.Postgres
		if mysql {
			dialect = sqlsource.MySQL
		}
		st, err := sqlsource.ParseStatement(q, dialect)
		if err != nil {
			return
		}
		out, args := st.SQL(dialect, "F", "T")
		if st.Kind == sqlsource.Scalar && len(args) != 0 {
			t.Fatalf("scalar %q binds %v", q, args)
		}
		if st.Kind == sqlsource.Bucketed && len(args) < 2 {
			t.Fatalf("bucketed %q binds %v", q, args)
		}
		if mysql && strings.Count(out, "?") < len(args) {
			t.Fatalf("%q: %d args for %q", q, len(args), out)
		}
	})
}
