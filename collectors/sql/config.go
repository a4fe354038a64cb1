package sqlsource

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/impact-dev/impact/config"
)

// Defaults of `sources.sql:`.
const (
	DefaultStatementTimeout = 30 * time.Second
	DefaultMaxRows          = 10000
)

// Config is `sources.sql:`.
type Config struct {
	// Databases are the databases metrics query, by name (a metric's `in:`).
	Databases []Database `yaml:"databases"`
	// StatementTimeout bounds every query, on the server (statement_timeout,
	// max_execution_time) and in the client.
	StatementTimeout config.Duration `yaml:"statement_timeout"`
	// MaxRows is the most rows one query may return; more fails the metric.
	MaxRows  int             `yaml:"max_rows"`
	Interval config.Duration `yaml:"interval"`
}

// Database is one entry of `sources.sql.databases:`.
type Database struct {
	Name string `yaml:"name"`
	// Driver is postgres or mysql (MySQL and MariaDB).
	Driver string `yaml:"driver"`
	// DSN is the connection string: postgres://user:pass@host/db (or
	// key=value), user:pass@tcp(host:3306)/db. A secret: dsn_file reads it
	// from a file.
	DSN config.Secret `yaml:"dsn"`
}

// Format prints the config as fmt would, with the DSNs masked for every
// verb (fmt prints a pointer given a verb it does not fit with the methods
// off).
func (c *Config) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, c) }

// Format prints the database as fmt would, with the DSN masked.
func (d *Database) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, d) }

// Defaults is where a `sources.sql:` entry starts.
func Defaults() *Config {
	return &Config{
		StatementTimeout: config.Duration(DefaultStatementTimeout),
		MaxRows:          DefaultMaxRows,
		Interval:         config.Duration(time.Hour),
	}
}

// PollInterval implements config.SourceConfig.
func (c *Config) PollInterval() time.Duration { return c.Interval.D() }

// driverAliases map what a config may say to a dialect.
var driverAliases = map[string]string{
	"postgres": Postgres, "postgresql": Postgres, "pgx": Postgres,
	"mysql": MySQL, "mariadb": MySQL,
}

// Check implements config.SourceConfig.
func (c *Config) Check(ch *config.Check) {
	if len(c.Databases) == 0 {
		ch.Add("databases", "required: at least one database ({name, driver, dsn})")
	}
	seen := map[string]bool{}
	for i := range c.Databases {
		d := &c.Databases[i]
		key := config.Index("databases", i)
		d.Name = strings.TrimSpace(d.Name)
		d.Driver = strings.ToLower(strings.TrimSpace(d.Driver))
		switch {
		case d.Name == "":
			ch.Add(key+".name", "required: the name metrics give as `in:`")
		case seen[d.Name]:
			ch.Add(key+".name", "duplicate database name %q", d.Name)
		}
		seen[d.Name] = true
		dialect, ok := driverAliases[d.Driver]
		if !ok {
			ch.Add(key+".driver", "unknown value %q (one of postgres, mysql)", d.Driver)
		} else {
			d.Driver = dialect
		}
		ch.Secret(key+".dsn", d.DSN, false)
		if ok && d.DSN != "" {
			if msg := checkDSN(dialect, d.DSN.Value()); msg != "" {
				ch.Add(key+".dsn", "%s", msg)
			}
		}
	}
	ch.Positive("statement_timeout", c.StatementTimeout)
	if minRows := int(MaxChunk / time.Hour); c.MaxRows < minRows {
		ch.Add("max_rows", "must be at least %d: a bucketed query returns up to one row per hour of a 30-day chunk", minRows)
	}
	ch.Positive("interval", c.Interval)
}

// checkDSN says what is wrong with dsn without echoing it (the parsers'
// errors quote the string, password included).
func checkDSN(dialect, dsn string) string {
	switch dialect {
	case Postgres:
		if _, err := pgconn.ParseConfig(dsn); err != nil {
			return "not a PostgreSQL connection string (postgres://user:password@host:5432/db, or host=… user=… dbname=…)"
		}
	case MySQL:
		if _, err := mysql.ParseDSN(dsn); err != nil {
			return "not a MySQL DSN (user:password@tcp(host:3306)/db)"
		}
	}
	return ""
}

// Database returns the database named name ("" when there is only one),
// or false.
func (c *Config) Database(name string) (Database, bool) {
	if name == "" && len(c.Databases) == 1 {
		return c.Databases[0], true
	}
	for _, d := range c.Databases {
		if d.Name == name {
			return d, true
		}
	}
	return Database{}, false
}

// CheckMetric implements config.MetricChecker: the metric names one of the
// databases (`in:`, optional when there is one), and its query is one
// reading statement.
func (c *Config) CheckMetric(ch *config.Check, m config.Metric) {
	d, ok := c.Database(strings.TrimSpace(m.In))
	switch {
	case !ok && strings.TrimSpace(m.In) == "":
		ch.Add("in", "required: which of sources.sql.databases the query runs in (%s)", strings.Join(c.names(), ", "))
	case !ok:
		ch.Add("in", "unknown database %q (sources.sql.databases: %s)", m.In, strings.Join(c.names(), ", "))
	}
	q := strings.TrimSpace(m.Query)
	if q == "" {
		return // reported as required already
	}
	dialect := d.Driver
	if _, known := driverAliases[dialect]; !known {
		dialect = Postgres
	}
	if _, err := ParseStatement(q, driverAliases[dialect]); err != nil {
		ch.Add("query", "%s", err)
	}
}

func (c *Config) names() []string {
	out := make([]string, len(c.Databases))
	for i, d := range c.Databases {
		out[i] = d.Name
	}
	return out
}
