package demo

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/collectors/all"
	sqlsource "github.com/impact-dev/impact/collectors/sql"
	"github.com/impact-dev/impact/internal/world"
)

// demoDSN names the demo's orders database in the config; it is never
// dialled: the registry's sql source opens demoDatabase instead.
const demoDSN = "postgres://impact_ro@orders-db.demo.invalid:5432/orders"

// registry is every built-in source, with the sql source's drivers
// replaced by an in-memory database answering from w: the collector's own
// path (the statement check, the read-only transaction and its timeout,
// $from/$to binding, scanning, the range-poll loop) runs unchanged, only
// the database is made up.
func registry(w *world.World) *collectors.Registry {
	r := all.Registry()
	db := demoDatabase(w)
	r.Replace(sqlsource.SourceWith(sqlsource.Options{
		Connect: func(sqlsource.Database) (driver.Connector, error) { return db, nil },
	}))
	return r
}

// demoDatabase answers each of the world's sql metrics' queries, as the
// collector binds them for PostgreSQL, with the metric's hourly series in
// [$from, $to): rows of (hour, value).
func demoDatabase(w *world.World) *sqlsource.Fake {
	byQuery := map[string]string{}
	for _, m := range w.Metrics {
		if m.Source != sqlsource.Name {
			continue
		}
		st, err := sqlsource.ParseStatement(m.Query, sqlsource.Postgres)
		if err != nil {
			continue // the collector refuses it before asking
		}
		q, _ := st.SQL(sqlsource.Postgres, nil, nil)
		byQuery[q] = m.ID
	}
	return &sqlsource.Fake{Answer: func(q string, args []driver.Value) ([]string, [][]driver.Value, error) {
		id, ok := byQuery[q]
		if !ok {
			return nil, nil, fmt.Errorf("demo database: no table answers %q", q)
		}
		if len(args) != 2 {
			return nil, nil, errors.New("demo database: want $from and $to")
		}
		from, ok1 := args[0].(time.Time)
		to, ok2 := args[1].(time.Time)
		if !ok1 || !ok2 {
			return nil, nil, errors.New("demo database: $from and $to must be times")
		}
		var rows [][]driver.Value
		for _, s := range w.Series[id] {
			if !s.Time.Before(from) && s.Time.Before(to) {
				rows = append(rows, []driver.Value{s.Time, s.Value})
			}
		}
		return []string{"date_trunc", "avg"}, rows, nil
	}}
}
