package sqlsource_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	sqlsource "github.com/impact-dev/impact/collectors/sql"
	"github.com/impact-dev/impact/config"
)

// requireEnv, when set (CI sets it in .ci/run), turns the skip for a
// missing PostgreSQL into a failure.
const requireEnv = "IMPACT_REQUIRE_POSTGRES"

// pgBin finds Debian's PostgreSQL server binaries (the newest version), or
// $IMPACT_POSTGRES_BIN.
func pgBin() string {
	if d := os.Getenv("IMPACT_POSTGRES_BIN"); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	return ""
}

// startPostgres runs initdb and pg_ctl in a fresh directory on a free
// loopback port with pg_stat_statements loaded, and returns a DSN for a
// superuser of it. Its time zone is Asia/Kolkata (UTC+05:30): the
// collector's queries must bucket in UTC regardless. PostgreSQL refuses to run as root: as root, the server
// runs as the postgres user (runuser).
func startPostgres(t *testing.T) string {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		if os.Getenv(requireEnv) != "" {
			t.Fatalf("%s is set but no PostgreSQL server binaries are installed (/usr/lib/postgresql/*/bin; Debian package postgresql)", requireEnv)
		}
		t.Skip("no PostgreSQL server (Debian package postgresql); set " + requireEnv + "=1 to fail instead")
	}
	// Not t.TempDir: its parents are 0700 root's, which the postgres user
	// cannot enter; as root, not $TMPDIR either (it may be under /root).
	base := ""
	if os.Geteuid() == 0 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "impact-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var prefix []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		prefix = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) {
		t.Helper()
		argv := append(append(append([]string{}, prefix...), filepath.Join(bin, name)), args...)
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("%s: %v\n%s\n%s", name, err, out, log)
		}
	}
	data := filepath.Join(dir, "data")
	run("initdb", "-D", data, "-U", "impact", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	port := freePort(t)
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c shared_preload_libraries=pg_stat_statements -c fsync=off -c timezone=Asia/Kolkata", port)
	run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
	t.Cleanup(func() {
		argv := append(append(append([]string{}, prefix...), filepath.Join(bin, "pg_ctl")), "-D", data, "-m", "immediate", "-w", "stop")
		_ = exec.Command(argv[0], argv[1:]...).Run()
	})
	// trust: any password is accepted; one is in the DSN so that the
	// redaction is tested.
	return fmt.Sprintf("postgres://impact:pw-%d-s3cret@127.0.0.1:%d/postgres?sslmode=disable", port, port)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Hours of the fixture: orders from start, 3 per hour until shift, 7 per
// hour after.
var (
	pgStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	pgShift = pgStart.Add(40 * 24 * time.Hour)
	pgNow   = pgStart.Add(60*24*time.Hour + 30*time.Minute)
)

const fixture = `
CREATE EXTENSION pg_stat_statements;
CREATE TABLE orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, took_ms double precision NOT NULL);
INSERT INTO orders (created_at, took_ms)
SELECT h + (n * interval '1 minute'), 100 + n
FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') AS h,
     generate_series(1, CASE WHEN h < $3::timestamptz THEN 3 ELSE 7 END) AS n;
CREATE TABLE audit (n int);
CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS 'INSERT INTO audit VALUES (1) RETURNING n';
`

func TestPostgres(t *testing.T) {
	dsn := startPostgres(t)
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, stmt := range strings.Split(strings.TrimSpace(fixture), ";\n") {
		var args []any
		if strings.Contains(stmt, "$1") {
			args = []any{pgStart, pgNow.Truncate(time.Hour), pgShift}
		}
		if _, err := admin.ExecContext(ctx, stmt, args...); err != nil {
			t.Fatalf("fixture: %v\n%s", err, stmt)
		}
	}
	cfg := sqlsource.Config{
		Databases:        []sqlsource.Database{{Name: "orders", Driver: "postgres", DSN: config.Secret(dsn)}},
		StatementTimeout: config.Duration(5 * time.Second),
		MaxRows:          1000,
	}
	collect := func(t *testing.T, sink *collectorstest.Sink, now time.Time, backfill bool, ms ...config.Metric) error {
		t.Helper()
		for i := range ms {
			ms[i].Source, ms[i].In = "sql", "orders"
		}
		c, err := sqlsource.New(cfg, ms, sqlsource.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Collect(ctx, collectors.Run{Since: pgStart, Backfill: backfill, Now: now, Sink: sink})
	}

	t.Run("bucketed backfill", func(t *testing.T) {
		sink := &collectorstest.Sink{}
		m := config.Metric{ID: "orders-per-hour", Query: "SELECT date_trunc('hour', created_at), count(*) FROM orders WHERE created_at >= $from AND created_at < $to GROUP BY 1 ORDER BY 1"}
		if err := collect(t, sink, pgNow, true, m); err != nil {
			t.Fatal(err)
		}
		got := sink.Samples("orders-per-hour")
		if want := 60 * 24; len(got) != want {
			t.Fatalf("stored %d hourly samples, want %d", len(got), want)
		}
		for _, s := range got {
			want := 3.0
			if !s.Time.Before(pgShift) {
				want = 7
			}
			if s.Value != want {
				t.Fatalf("sample at %v = %v, want %v", s.Time, s.Value, want)
			}
		}
		// 60 days in 30-day chunks: 2 commits, each with its cursor.
		if n := len(sink.Batches); n != 2 {
			t.Errorf("%d commits, want 2 (one per 30-day chunk)", n)
		}
		// An hour later, only that hour is read.
		before := len(sink.Batches)
		if err := collect(t, sink, pgNow.Add(time.Hour), false, m); err != nil {
			t.Fatal(err)
		}
		if n := len(sink.Batches) - before; n != 1 {
			t.Errorf("incremental poll: %d commits, want 1", n)
		}
	})

	t.Run("scalar", func(t *testing.T) {
		sink := &collectorstest.Sink{}
		m := config.Metric{ID: "orders-count", Query: "SELECT count(*) FROM orders"}
		if err := collect(t, sink, pgNow, false, m); err != nil {
			t.Fatal(err)
		}
		got := sink.Samples("orders-count")
		want := float64(40*24*3 + 20*24*7)
		if len(got) != 1 || got[0].Value != want || !got[0].Time.Equal(pgNow.Truncate(time.Hour)) {
			t.Fatalf("samples %v, want one of %v at %v", got, want, pgNow.Truncate(time.Hour))
		}
	})

	t.Run("pg_stat_statements delta", func(t *testing.T) {
		const probe = "SELECT took_ms FROM orders WHERE id = $1"
		run := func(n int) {
			for i := 0; i < n; i++ {
				var v float64
				if err := admin.QueryRowContext(ctx, probe, i+1).Scan(&v); err != nil {
					t.Fatal(err)
				}
			}
		}
		stat := func() (total, calls float64) {
			t.Helper()
			if err := admin.QueryRowContext(ctx, "SELECT coalesce(sum(total_exec_time), 0), coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query = $1", probe).Scan(&total, &calls); err != nil {
				t.Fatal(err)
			}
			return
		}
		m := config.Metric{ID: "probe-mean-ms", Query: "SELECT sum(total_exec_time), sum(calls) FROM pg_stat_statements WHERE query = 'SELECT took_ms FROM orders WHERE id = $1'"}
		sink := &collectorstest.Sink{}
		run(5)
		// First poll: the baseline only.
		if err := collect(t, sink, pgNow, false, m); err != nil {
			t.Fatal(err)
		}
		if got := sink.Samples(m.ID); len(got) != 0 {
			t.Fatalf("first poll stored %v, want only the baseline", got)
		}
		t0, c0 := stat()
		run(20)
		t1, c1 := stat()
		if err := collect(t, sink, pgNow.Add(time.Hour), false, m); err != nil {
			t.Fatal(err)
		}
		got := sink.Samples(m.ID)
		if len(got) != 1 {
			t.Fatalf("second poll stored %v, want one mean", got)
		}
		if c1-c0 != 20 {
			t.Fatalf("calls went from %v to %v, want 20 more", c0, c1)
		}
		want := (t1 - t0) / (c1 - c0)
		// The poll's reading was taken just after stat(): the same counters.
		if diff := got[0].Value - want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("mean = %v ms, want (%v-%v)/(%v-%v) = %v", got[0].Value, t1, t0, c1, c0, want)
		}
		// A statistics reset: the counters go down, the baseline restarts.
		if _, err := admin.ExecContext(ctx, "SELECT pg_stat_statements_reset()"); err != nil {
			t.Fatal(err)
		}
		run(2)
		if err := collect(t, sink, pgNow.Add(2*time.Hour), false, m); err != nil {
			t.Fatal(err)
		}
		if got := sink.Samples(m.ID); len(got) != 1 {
			t.Errorf("after a reset: %v, want no new sample (baseline restarted)", got)
		}
		run(4)
		if err := collect(t, sink, pgNow.Add(3*time.Hour), false, m); err != nil {
			t.Fatal(err)
		}
		if got := sink.Samples(m.ID); len(got) != 2 || got[1].Value <= 0 {
			t.Errorf("after the new baseline: %v, want a second mean", got)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		count := func() int {
			var n int
			if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM audit").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// An UPDATE never reaches the server: New refuses it.
		_, err := sqlsource.New(cfg, []config.Metric{{ID: "w", Source: "sql", In: "orders", Query: "UPDATE orders SET took_ms = 0"}}, sqlsource.Options{})
		if err == nil || !strings.Contains(err.Error(), "not UPDATE") {
			t.Fatalf("New with an UPDATE: %v, want a refusal", err)
		}
		t.Logf("UPDATE: %v", err)
		var zeroed int
		if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM orders WHERE took_ms = 0").Scan(&zeroed); err != nil || zeroed != 0 {
			t.Fatalf("orders zeroed: %d (%v)", zeroed, err)
		}
		// A write the text check cannot see (a function that inserts) is
		// refused by the read-only transaction.
		sink := &collectorstest.Sink{}
		err = collect(t, sink, pgNow, false, config.Metric{ID: "sneaky", Query: "SELECT bump()"})
		if err == nil || !strings.Contains(err.Error(), "refused: the query tried to write") {
			t.Fatalf("SELECT bump(): %v, want the read-only refusal", err)
		}
		t.Logf("SELECT bump(): %v", err)
		if n := count(); n != 0 {
			t.Fatalf("audit has %d rows: the write went through", n)
		}
		// The statement timeout.
		cfg := cfg
		cfg.StatementTimeout = config.Duration(200 * time.Millisecond)
		c, err := sqlsource.New(cfg, []config.Metric{{ID: "slow", Source: "sql", In: "orders", Query: "SELECT 1 FROM pg_sleep(5)"}}, sqlsource.Options{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = c.Collect(ctx, collectors.Run{Now: pgNow, Sink: sink})
		if err == nil || !strings.Contains(err.Error(), "statement timeout") || time.Since(start) > 4*time.Second {
			t.Fatalf("pg_sleep(5) with a 200ms timeout: %v after %v", err, time.Since(start))
		}
		t.Logf("pg_sleep(5): %v", err)
		// The row cap.
		err = collect(t, sink, pgNow, true, config.Metric{ID: "rows2", Query: "SELECT date_trunc('hour', h), 1 FROM generate_series($from::timestamptz, $to::timestamptz, interval '1 minute') h"})
		if err == nil || !strings.Contains(err.Error(), "more than 1000 rows (max_rows)") {
			t.Fatalf("a query over max_rows: %v", err)
		}
		t.Logf("over max_rows: %v", err)
	})

	t.Run("errors never show the DSN", func(t *testing.T) {
		port := freePort(t)
		bad := fmt.Sprintf("postgres://impact:topsecret-pw@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port)
		cfg := cfg
		cfg.Databases = []sqlsource.Database{{Name: "orders", Driver: "postgres", DSN: config.Secret(bad)}}
		c, err := sqlsource.New(cfg, []config.Metric{{ID: "n", Source: "sql", In: "orders", Query: "SELECT 1"}}, sqlsource.Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Collect(ctx, collectors.Run{Now: pgNow, Sink: &collectorstest.Sink{}})
		if err == nil {
			t.Fatal("want a connection error")
		}
		var e *sqlsource.Error
		if !errors.As(err, &e) {
			t.Errorf("error %T is not a *sqlsource.Error", err)
		}
		t.Logf("bad port: %v", err)
		if s := err.Error(); strings.Contains(s, "topsecret") || !strings.Contains(s, "sql: orders: metric n") {
			t.Errorf("error text: %s", s)
		}
	})
}
