package sqlsource_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/collectorstest"
	sqlsource "github.com/impact-dev/impact/collectors/sql"
	"github.com/impact-dev/impact/config"
)

// startMariaDB runs Debian's mariadbd (package mariadb-server) in a fresh
// directory on a free loopback port, without grant tables (any user and
// password is let in), and returns a DSN. CI does not install MariaDB (its
// package takes about a minute): the test skips there unless
// IMPACT_REQUIRE_MARIADB=1.
func startMariaDB(t *testing.T) string {
	t.Helper()
	server, err1 := exec.LookPath("mariadbd")
	if err1 != nil {
		server = "/usr/sbin/mariadbd"
	}
	install, err2 := exec.LookPath("mariadb-install-db")
	if _, err := os.Stat(server); err != nil || err2 != nil {
		if os.Getenv("IMPACT_REQUIRE_MARIADB") != "" {
			t.Fatal("IMPACT_REQUIRE_MARIADB is set but mariadbd or mariadb-install-db is missing (Debian package mariadb-server)")
		}
		t.Skip("no MariaDB server (Debian package mariadb-server); set IMPACT_REQUIRE_MARIADB=1 to fail instead")
	}
	base := ""
	if os.Geteuid() == 0 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "impact-mariadb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	user := []string{}
	if os.Geteuid() == 0 {
		user = []string{"--user=mysql"}
	}
	if out, err := exec.Command(install, append(args, user...)...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	port := freePort(t)
	cmd := exec.Command(server, append([]string{"--no-defaults", "--datadir=" + data, "--socket=" + filepath.Join(dir, "sock"),
		fmt.Sprintf("--port=%d", port), "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-name-resolve",
		"--pid-file=" + filepath.Join(dir, "pid"), "--log-error=" + filepath.Join(dir, "log")}, user...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	dsn := fmt.Sprintf("impact:maria-s3cret@tcp(127.0.0.1:%d)/", port)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for db.Ping() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("mariadbd did not answer within 60s:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return dsn
}

func TestMariaDB(t *testing.T) {
	root := startMariaDB(t)
	ctx := context.Background()
	admin, err := sql.Open("mysql", root+"?multiStatements=false")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(40*24*time.Hour + 20*time.Minute)
	for _, s := range []string{
		"CREATE DATABASE shop",
		"CREATE TABLE shop.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, created_at DATETIME NOT NULL)",
		"CREATE TABLE shop.audit (n INT)",
		"CREATE FUNCTION shop.bump() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO shop.audit VALUES (1); RETURN 1; END",
	} {
		if _, err := admin.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	// Two orders an hour (at :10 and :40) for 40 days.
	var vals []string
	for h := start; h.Before(now.Truncate(time.Hour)); h = h.Add(time.Hour) {
		for _, m := range []int{10, 40} {
			vals = append(vals, "('"+h.Add(time.Duration(m)*time.Minute).Format("2006-01-02 15:04:05")+"')")
		}
	}
	if _, err := admin.ExecContext(ctx, "INSERT INTO shop.orders (created_at) VALUES "+strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
	cfg := sqlsource.Config{
		Databases:        []sqlsource.Database{{Name: "shop", Driver: "mariadb", DSN: config.Secret(root + "shop")}},
		StatementTimeout: config.Duration(time.Second),
		MaxRows:          1000,
	}
	ms := []config.Metric{
		{ID: "orders-per-hour", Source: "sql", Query: "SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:00:00'), COUNT(*) FROM orders WHERE created_at >= $from AND created_at < $to GROUP BY 1"},
		{ID: "orders", Source: "sql", Query: "SELECT COUNT(*) FROM orders"},
	}
	c, err := sqlsource.New(cfg, ms, sqlsource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := &collectorstest.Sink{}
	if err := c.Collect(ctx, collectors.Run{Since: start, Backfill: true, Now: now, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	got := sink.Samples("orders-per-hour")
	if len(got) != 40*24 || got[0].Value != 2 || !got[0].Time.Equal(start) {
		t.Fatalf("bucketed: %d samples (first %v), want %d of 2 from %v", len(got), got[:min(1, len(got))], 40*24, start)
	}
	if s := sink.Samples("orders"); len(s) != 1 || s[0].Value != float64(len(vals)) {
		t.Fatalf("scalar: %v, want %d", s, len(vals))
	}

	// A write the text check cannot see is refused by the read-only
	// transaction (error 1792).
	c, err = sqlsource.New(cfg, []config.Metric{{ID: "sneaky", Source: "sql", Query: "SELECT bump()"}}, sqlsource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Collect(ctx, collectors.Run{Now: now, Sink: sink})
	if err == nil || !strings.Contains(err.Error(), "refused: the query tried to write") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("SELECT bump(): %v", err)
	}
	t.Logf("SELECT bump(): %v", err)
	var n int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.audit").Scan(&n); err != nil || n != 0 {
		t.Fatalf("audit rows %d (%v): the write went through", n, err)
	}
	// The statement timeout (MariaDB's max_statement_time).
	c, err = sqlsource.New(cfg, []config.Metric{{ID: "slow", Source: "sql", Query: "SELECT COUNT(*) FROM orders a, orders b, orders c"}}, sqlsource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	err = c.Collect(ctx, collectors.Run{Now: now, Sink: sink})
	if err == nil || time.Since(began) > 5*time.Second {
		t.Fatalf("a cross join of 3×%d rows with a 1s timeout: %v after %v", len(vals), err, time.Since(began))
	}
	t.Logf("timeout: %v after %v", err, time.Since(began).Round(time.Millisecond))
}
