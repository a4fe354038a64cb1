package sqlsource

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Fake is an in-memory database for Options.Connect: a database/sql
// driver that answers each query with Answer's rows. It parses no SQL; it
// does keep the collector's contract, refusing a query outside a
// read-only transaction. The demo world's database and the unit tests use
// it; the real-database behaviour is tested against PostgreSQL.
type Fake struct {
	// Answer returns the columns and rows of query run with args (after
	// $from/$to were bound), or an error.
	Answer func(query string, args []driver.Value) (cols []string, rows [][]driver.Value, err error)

	mu   sync.Mutex
	seen []string
}

// Statements lists every statement the fake received, in order ("BEGIN
// READ ONLY" for a read-only transaction).
func (f *Fake) Statements() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

func (f *Fake) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, s)
}

// Connect implements driver.Connector.
func (f *Fake) Connect(context.Context) (driver.Conn, error) { return &fakeConn{f: f}, nil }

// Driver implements driver.Connector.
func (f *Fake) Driver() driver.Driver { return fakeDriver{f} }

type fakeDriver struct{ f *Fake }

func (d fakeDriver) Open(string) (driver.Conn, error) { return &fakeConn{f: d.f}, nil }

type fakeConn struct {
	f        *Fake
	inTx     bool
	readOnly bool
}

func (c *fakeConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("fake database: prepared statements are not supported")
}
func (c *fakeConn) Close() error { return nil }
func (c *fakeConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *fakeConn) BeginTx(_ context.Context, o driver.TxOptions) (driver.Tx, error) {
	if o.ReadOnly {
		c.f.record("BEGIN READ ONLY")
	} else {
		c.f.record("BEGIN")
	}
	c.inTx, c.readOnly = true, o.ReadOnly
	return fakeTx{c}, nil
}

type fakeTx struct{ c *fakeConn }

func (t fakeTx) Commit() error   { t.c.f.record("COMMIT"); t.c.inTx = false; return nil }
func (t fakeTx) Rollback() error { t.c.f.record("ROLLBACK"); t.c.inTx = false; return nil }

func (c *fakeConn) ExecContext(_ context.Context, query string, _ []driver.NamedValue) (driver.Result, error) {
	c.f.record(query)
	if !strings.HasPrefix(strings.ToUpper(query), "SET ") {
		return nil, fmt.Errorf("fake database: only SET statements execute, not %q", query)
	}
	return driver.RowsAffected(0), nil
}

func (c *fakeConn) QueryContext(_ context.Context, query string, named []driver.NamedValue) (driver.Rows, error) {
	c.f.record(query)
	if !c.inTx || !c.readOnly {
		return nil, errors.New("fake database: queries run only in a read-only transaction")
	}
	if c.f.Answer == nil {
		return nil, errors.New("fake database: no answers")
	}
	args := make([]driver.Value, len(named))
	for i, n := range named {
		args[i] = n.Value
	}
	cols, rows, err := c.f.Answer(query, args)
	if err != nil {
		return nil, err
	}
	return &fakeRows{cols: cols, rows: rows}, nil
}

type fakeRows struct {
	cols []string
	rows [][]driver.Value
}

func (r *fakeRows) Columns() []string { return r.cols }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}
