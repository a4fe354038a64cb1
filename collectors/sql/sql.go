// Package sqlsource collects the `metrics:` entries with `source: sql`:
// queries run against your own PostgreSQL or MySQL/MariaDB databases
// through database/sql (pgx, go-sql-driver/mysql).
//
// A query using $from and $to is bucketed: it returns (time, value) rows,
// one per hour, read through the shared range-poll loop
// (collectors.RangePoll) so history is backfilled in chunks. A query
// without them is scalar: sampled once per poll, for numbers that exist
// only now (a table's size, a row count); a scalar query returning two
// columns (a running total and a running count, like pg_stat_statements'
// total_exec_time and calls) stores the mean between two polls, keeping
// the previous reading in the source's cursor.
//
// Every query runs in a read-only transaction with a statement timeout and
// a row cap, after a check that it is one SELECT (or WITH … SELECT)
// statement that writes nothing.
package sqlsource

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/model"
)

// Name is the source name.
const Name = "sql"

// MaxChunk is the range one bucketed query covers: 30 days, 720 hourly rows.
const MaxChunk = 30 * 24 * time.Hour

// Options tune the collector.
type Options struct {
	Logger *slog.Logger
	// Connect, if set, opens a database instead of the pgx and MySQL
	// drivers (the demo's in-memory fake, tests).
	Connect func(d Database) (driver.Connector, error)
	// Chunk is the range of one bucketed query; default MaxChunk.
	Chunk time.Duration
}

// Collector runs the configured queries.
type Collector struct {
	cfg     Config
	opts    Options
	log     *slog.Logger
	chunk   time.Duration
	metrics map[string]metric // by id
	ranged  []collectors.RangeMetric
	scalars []string // ids, in config order
	secrets []string
}

type metric struct {
	id   string
	db   Database
	stmt Statement
}

// New builds the collector for the metrics whose source is sql. A query
// that is not one reading statement is refused here, before anything runs.
func New(cfg Config, metrics []config.Metric, o Options) (*Collector, error) {
	c := &Collector{cfg: cfg, opts: o, log: o.Logger, chunk: o.Chunk, metrics: map[string]metric{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.chunk == 0 {
		c.chunk = MaxChunk
	}
	if c.cfg.StatementTimeout <= 0 {
		c.cfg.StatementTimeout = config.Duration(DefaultStatementTimeout)
	}
	if c.cfg.MaxRows <= 0 {
		c.cfg.MaxRows = DefaultMaxRows
	}
	for _, d := range cfg.Databases {
		c.secrets = append(c.secrets, secretsOf(d)...)
	}
	for _, m := range metrics {
		if m.Source != Name {
			continue
		}
		d, ok := cfg.Database(strings.TrimSpace(m.In))
		if !ok {
			return nil, fmt.Errorf("sql: metric %s: no database %q in sources.sql.databases", m.ID, m.In)
		}
		dialect, ok := driverAliases[d.Driver]
		if !ok {
			return nil, fmt.Errorf("sql: database %s: unknown driver %q", d.Name, d.Driver)
		}
		d.Driver = dialect
		st, err := ParseStatement(strings.TrimSpace(m.Query), dialect)
		if err != nil {
			return nil, fmt.Errorf("sql: metric %s: refused: %w", m.ID, err)
		}
		c.metrics[m.ID] = metric{id: m.ID, db: d, stmt: st}
		if st.Kind == Bucketed {
			// The cursor's query names the database too: moving a metric
			// to another database reads its history again.
			c.ranged = append(c.ranged, collectors.RangeMetric{ID: m.ID, Query: d.Name + ": " + st.text})
		} else {
			c.scalars = append(c.scalars, m.ID)
		}
	}
	return c, nil
}

// secretsOf are the strings of d an error must never show: the DSN and
// the password inside it.
func secretsOf(d Database) []string {
	dsn := d.DSN.Value()
	out := []string{dsn}
	switch driverAliases[d.Driver] {
	case Postgres:
		if pc, err := pgx.ParseConfig(dsn); err == nil && pc.Password != "" {
			out = append(out, pc.Password)
		}
	case MySQL:
		if mc, err := mysql.ParseDSN(dsn); err == nil && mc.Passwd != "" {
			out = append(out, mc.Passwd)
		}
	}
	return out
}

// Name implements collectors.Collector.
func (c *Collector) Name() string { return Name }

// Error is a failed query. Its text never holds the DSN or its password.
type Error struct {
	Metric   string
	Database string
	Msg      string
	Err      error
}

func (e *Error) Error() string {
	return "sql: " + e.Database + ": metric " + e.Metric + ": " + e.Msg
}
func (e *Error) Unwrap() error { return e.Err }

func (c *Collector) fail(m metric, msg string, err error) error {
	if err != nil {
		msg += ": " + err.Error()
	}
	return &Error{Metric: m.id, Database: m.db.Name, Msg: collectors.VendorText(msg, c.secrets...), Err: redacted{err, c.secrets}}
}

// redacted keeps an error's identity for errors.Is/As while its text is
// redacted.
type redacted struct {
	err     error
	secrets []string
}

func (r redacted) Error() string {
	if r.err == nil {
		return ""
	}
	return collectors.Redact(r.err.Error(), r.secrets...)
}
func (r redacted) Unwrap() error { return r.err }

// pools holds the databases opened during one Collect; they are closed at
// its end (polls are hourly: no connection stays open between them).
type pools struct {
	c   *Collector
	dbs map[string]*sql.DB
}

func (p *pools) get(m metric) (*sql.DB, error) {
	if db, ok := p.dbs[m.db.Name]; ok {
		return db, nil
	}
	var conn driver.Connector
	var err error
	switch {
	case p.c.opts.Connect != nil:
		conn, err = p.c.opts.Connect(m.db)
	case m.db.Driver == Postgres:
		var pc *pgx.ConnConfig
		if pc, err = pgx.ParseConfig(m.db.DSN.Value()); err == nil {
			conn = stdlib.GetConnector(*pc)
		}
	case m.db.Driver == MySQL:
		var mc *mysql.Config
		if mc, err = mysql.ParseDSN(m.db.DSN.Value()); err == nil {
			conn, err = mysql.NewConnector(mc)
		}
	default:
		err = fmt.Errorf("unknown driver %q", m.db.Driver)
	}
	if err != nil {
		return nil, p.c.fail(m, "open (check sources.sql.databases dsn)", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	p.dbs[m.db.Name] = db
	return db, nil
}

func (p *pools) close() {
	for _, db := range p.dbs {
		_ = db.Close()
	}
}

// Collect implements collectors.Collector: the bucketed metrics through
// the range-poll loop, then one reading of each scalar metric.
func (c *Collector) Collect(ctx context.Context, run collectors.Run) error {
	if run.Sink == nil {
		return errors.New("sql: no sink")
	}
	run = run.WithDefaults(c.log)
	p := &pools{c: c, dbs: map[string]*sql.DB{}}
	defer p.close()
	var errs []error
	if len(c.ranged) > 0 {
		poll := collectors.RangePoll{
			Source:  Name,
			Chunk:   c.chunk,
			Metrics: c.ranged,
			Logger:  run.Logger,
			Query: func(ctx context.Context, rm collectors.RangeMetric, from, to time.Time) ([]model.Sample, error) {
				return c.bucketed(ctx, p, c.metrics[rm.ID], from, to)
			},
		}
		if err := poll.Collect(ctx, run); err != nil {
			errs = append(errs, err)
		}
	}
	if run.Backfill && len(c.scalars) > 0 {
		run.Logger.Info("sql: scalar metrics have no history to backfill: sampled now, their baseline starts here", "metrics", len(c.scalars))
	}
	run.Progress.Total(Name, int64(len(c.scalars)))
	for _, id := range c.scalars {
		if err := c.scalar(ctx, p, run, c.metrics[id]); err != nil {
			errs = append(errs, err)
		}
		run.Progress.Done(Name, 1)
	}
	return errors.Join(errs...)
}

// readOnly runs fn in a read-only transaction with the statement timeout
// set on the server; the transaction is always rolled back.
func (c *Collector) readOnly(ctx context.Context, p *pools, m metric, fn func(ctx context.Context, tx *sql.Tx) error) error {
	db, err := p.get(m)
	if err != nil {
		return err
	}
	timeout := c.cfg.StatementTimeout.D()
	// The client-side deadline leaves the server's timeout room to answer
	// first, with its clearer message.
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return c.fail(m, "begin a read-only transaction", err)
	}
	defer func() { _ = tx.Rollback() }()
	ms := strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
	switch m.db.Driver {
	case Postgres:
		// UTC: date_trunc buckets and timestamps read back are in the
		// session's time zone, which may be half an hour off UTC.
		for _, s := range []string{"SET TRANSACTION READ ONLY", "SET LOCAL statement_timeout = " + ms, "SET LOCAL TimeZone = 'UTC'"} {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return c.fail(m, s, err)
			}
		}
	case MySQL:
		// UTC, as for Postgres (an offset needs no time zone tables).
		if _, err := tx.ExecContext(ctx, "SET SESSION time_zone = '+00:00'"); err != nil {
			return c.fail(m, "set the session time zone to UTC", err)
		}
		// MySQL's max_execution_time (ms); MariaDB's max_statement_time (s).
		if _, err := tx.ExecContext(ctx, "SET SESSION max_execution_time = "+ms); err != nil {
			secs := strconv.FormatFloat(max(timeout.Seconds(), 0.001), 'f', 3, 64)
			if _, err2 := tx.ExecContext(ctx, "SET SESSION max_statement_time = "+secs); err2 != nil {
				return c.fail(m, "set a statement timeout", errors.Join(err, err2))
			}
		}
	}
	if err := fn(ctx, tx); err != nil {
		if isReadOnlyViolation(err) {
			return c.fail(m, "refused: the query tried to write (the transaction is read-only)", err)
		}
		var e *Error
		if errors.As(err, &e) {
			return err
		}
		return c.fail(m, "query", err)
	}
	return nil
}

// isReadOnlyViolation: Postgres SQLSTATE 25006
// (read_only_sql_transaction), MySQL error 1792
// (ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION).
func isReadOnlyViolation(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1792 {
		return true
	}
	var sc interface{ SQLState() string }
	if errors.As(err, &sc) && sc.SQLState() == "25006" {
		return true
	}
	return false
}

// bucketed reads m over [from, to): rows of (time, value).
func (c *Collector) bucketed(ctx context.Context, p *pools, m metric, from, to time.Time) ([]model.Sample, error) {
	var out []model.Sample
	err := c.readOnly(ctx, p, m, func(ctx context.Context, tx *sql.Tx) error {
		q, args := m.stmt.SQL(m.db.Driver, from.UTC(), to.UTC())
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		if len(cols) != 2 {
			return c.fail(m, fmt.Sprintf("a bucketed query returns 2 columns (time, value), got %d", len(cols)), nil)
		}
		n := 0
		for rows.Next() {
			n++
			if n > c.cfg.MaxRows {
				return c.fail(m, fmt.Sprintf("more than %d rows (max_rows): return one row per hour between $from and $to", c.cfg.MaxRows), nil)
			}
			var at any
			var v sql.NullFloat64
			if err := rows.Scan(&at, &v); err != nil {
				return c.fail(m, fmt.Sprintf("row %d", n), err)
			}
			t, err := asTime(at)
			if err != nil {
				return c.fail(m, fmt.Sprintf("row %d: first column", n), err)
			}
			if !t.Equal(t.Truncate(time.Hour)) {
				return c.fail(m, fmt.Sprintf("row %d: time %s is not on the hour: bucket by hour (date_trunc('hour', …))", n, t.Format(time.RFC3339)), nil)
			}
			if !v.Valid || math.IsNaN(v.Float64) || math.IsInf(v.Float64, 0) {
				continue
			}
			out = append(out, model.Sample{Time: t, Value: v.Float64})
		}
		return rows.Err()
	})
	return out, err
}

// asTime reads a bucket's time: a timestamp, text in a common layout
// (MySQL without parseTime), or Unix seconds. Times without a zone are
// UTC.
func asTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case int64:
		return time.Unix(x, 0).UTC(), nil
	case float64:
		return time.Unix(int64(x), 0).UTC(), nil
	case []byte:
		return parseTime(string(x))
	case string:
		return parseTime(x)
	case nil:
		return time.Time{}, errors.New("NULL")
	}
	return time.Time{}, fmt.Errorf("not a time (%T)", v)
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not a time: %q", collectors.OneLine(s, 40))
}

// Reading is a delta metric's previous reading, kept as its cursor.
type Reading struct {
	Total float64   `json:"total"`
	Count float64   `json:"count"`
	At    time.Time `json:"at"`
	// Query is the query (and database) the reading was taken with; a
	// change restarts the baseline.
	Query string `json:"query"`
}

// scalar reads m once and stores its sample at the hour of run.Now: the
// value itself, or for a two-column query the mean since the previous
// reading.
func (c *Collector) scalar(ctx context.Context, p *pools, run collectors.Run, m metric) error {
	var vals []sql.NullFloat64
	err := c.readOnly(ctx, p, m, func(ctx context.Context, tx *sql.Tx) error {
		q, args := m.stmt.SQL(m.db.Driver, nil, nil)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		if len(cols) != 1 && len(cols) != 2 {
			return c.fail(m, fmt.Sprintf("a scalar query returns 1 column (the value) or 2 (a running total and count), got %d", len(cols)), nil)
		}
		n := 0
		for rows.Next() {
			n++
			if n > 1 {
				return c.fail(m, "a scalar query returns one row (aggregate with sum(), count(), …)", nil)
			}
			vals = make([]sql.NullFloat64, len(cols))
			dest := make([]any, len(cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := rows.Scan(dest...); err != nil {
				return c.fail(m, "row 1", err)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	at := run.Now.UTC()
	hour := at.Truncate(time.Hour)
	b := model.Batch{Source: Name}
	switch {
	case len(vals) == 1:
		if vals[0].Valid && finite(vals[0].Float64) {
			b.Samples = map[string][]model.Sample{m.id: {{Time: hour, Value: vals[0].Float64}}}
		}
	case len(vals) == 2:
		if !vals[0].Valid || !vals[1].Valid || !finite(vals[0].Float64) || !finite(vals[1].Float64) {
			run.Logger.Info("sql: no reading yet (NULL total or count)", "metric", m.id)
			return nil
		}
		cur := Reading{Total: vals[0].Float64, Count: vals[1].Float64, At: at, Query: m.db.Name + ": " + m.stmt.text}
		v, ok, why := c.delta(ctx, run, m, cur)
		if why != "" {
			run.Logger.Info("sql: "+why, "metric", m.id)
		}
		if ok {
			b.Samples = map[string][]model.Sample{m.id: {{Time: hour, Value: v}}}
		}
		raw, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		b.Cursors = map[string][]byte{m.id: raw}
	default:
		run.Logger.Info("sql: the query returned no row", "metric", m.id)
		return nil
	}
	if b.Samples == nil && b.Cursors == nil {
		return nil
	}
	if err := run.Sink.Commit(ctx, b); err != nil {
		return fmt.Errorf("sql: store %s: %w", m.id, err)
	}
	return nil
}

// delta is the mean per count since the previous reading, if there is a
// comparable one; why says why not.
func (c *Collector) delta(ctx context.Context, run collectors.Run, m metric, cur Reading) (float64, bool, string) {
	raw, err := run.Sink.Cursor(ctx, Name, m.id)
	if err != nil {
		return 0, false, "previous reading unreadable: " + err.Error()
	}
	if raw == nil {
		return 0, false, "first reading: baseline recorded, the mean starts at the next poll"
	}
	var prev Reading
	if err := json.Unmarshal(raw, &prev); err != nil || prev.At.IsZero() {
		return 0, false, "previous reading unreadable: baseline recorded again"
	}
	return Delta(prev, cur)
}

// Delta is the mean of the running total per count between two readings:
// (cur.Total - prev.Total) / (cur.Count - prev.Count). There is none when
// the query changed, when the counters went down (statistics reset, server
// restart: cur becomes the new baseline), or when nothing was counted in
// between; why says which.
func Delta(prev, cur Reading) (v float64, ok bool, why string) {
	switch {
	case prev.Query != cur.Query:
		return 0, false, "query changed: baseline recorded again"
	case cur.Count < prev.Count || cur.Total < prev.Total:
		return 0, false, "counters went down (statistics reset): baseline recorded again"
	case cur.Count == prev.Count:
		return 0, false, "nothing counted since the previous reading"
	}
	return (cur.Total - prev.Total) / (cur.Count - prev.Count), true, ""
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
