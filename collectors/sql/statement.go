package sqlsource

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Kind is what a metric's query returns.
type Kind int

const (
	// Scalar: no $from/$to; one row, sampled each poll. One column is the
	// value; two columns (a running total and a running count, e.g.
	// pg_stat_statements' total_exec_time and calls) give the mean between
	// two polls: Δtotal / Δcount.
	Scalar Kind = iota
	// Bucketed: uses $from and $to; returns (time, value) rows, one per
	// hour, so history can be backfilled.
	Bucketed
)

func (k Kind) String() string {
	if k == Bucketed {
		return "bucketed"
	}
	return "scalar"
}

// Statement is a metric's query, checked: one SELECT (or WITH … SELECT)
// statement that writes nothing.
type Statement struct {
	Kind Kind
	// text is the query with its trailing semicolon and space removed.
	text string
	// params are the byte offsets and names ("from", "to") of the
	// $from/$to parameters, in order.
	params []param
}

type param struct {
	at   int // offset of '$'
	name string
}

// Dialects.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
)

// writeWords are keywords a reading query has no use for; outside string
// literals, quoted identifiers and comments they refuse the query (a
// data-modifying CTE, SELECT … INTO, SELECT … FOR UPDATE, MySQL's INTO
// OUTFILE).
var writeWords = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "UPSERT": true,
	"TRUNCATE": true, "DROP": true, "ALTER": true, "CREATE": true, "GRANT": true,
	"REVOKE": true, "COPY": true, "INTO": true, "CALL": true, "LOCK": true,
	"VACUUM": true, "REINDEX": true, "CLUSTER": true, "REFRESH": true,
	"COMMIT": true, "ROLLBACK": true, "SAVEPOINT": true, "LOAD": true, "HANDLER": true,
}

// ParseStatement checks query for dialect (Postgres or MySQL): it must be
// one SELECT or WITH statement, without words that write, and without
// positional parameters other than $from and $to. The error is one line
// naming what is wrong.
func ParseStatement(query, dialect string) (Statement, error) {
	s := Statement{}
	src := query
	var first string
	end := -1 // offset of a top-level ';'
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\'' || (c == '"' && dialect == MySQL):
			j, err := skipQuoted(src, i, c, dialect == MySQL)
			if err != nil {
				return s, err
			}
			i = j
			continue
		case c == '"' || (c == '`' && dialect == MySQL):
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return s, fmt.Errorf("unterminated quoted identifier")
			}
			i += j + 2
			continue
		case c == '-' && strings.HasPrefix(src[i:], "--"), c == '#' && dialect == MySQL:
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				i = len(src)
			} else {
				i += j + 1
			}
			continue
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			if dialect == MySQL && (strings.HasPrefix(src[i:], "/*!") || strings.HasPrefix(src[i:], "/*M!")) {
				return s, fmt.Errorf("no MySQL executable comments (/*! … */): they run as code")
			}
			j, err := skipBlockComment(src, i, dialect == Postgres)
			if err != nil {
				return s, err
			}
			i = j
			continue
		case c == ';':
			if end < 0 {
				end = i
			}
			i++
			continue
		case c == '?' && dialect == MySQL:
			if end < 0 {
				return s, fmt.Errorf("no ? placeholders: use $from and $to")
			}
		case c == '$':
			if dialect == Postgres {
				if j, ok := dollarQuote(src, i); ok {
					if end >= 0 {
						return s, fmt.Errorf("one statement only (found text after ';')")
					}
					if j < 0 {
						return s, fmt.Errorf("unterminated dollar-quoted string")
					}
					i = j
					continue
				}
			}
			j := i + 1
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			name := src[i+1 : j]
			if end >= 0 {
				return s, fmt.Errorf("one statement only (found text after ';')")
			}
			switch {
			case name == "from" || name == "to":
				s.params = append(s.params, param{at: i, name: name})
			case name == "":
			case name[0] >= '0' && name[0] <= '9':
				return s, fmt.Errorf("no positional parameters ($%s): use $from and $to", name)
			default:
				return s, fmt.Errorf("unknown parameter $%s (the parameters are $from and $to)", name)
			}
			i = j
			continue
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			if end >= 0 {
				return s, fmt.Errorf("one statement only (found text after ';')")
			}
			w := strings.ToUpper(src[i:j])
			if w == "E" && dialect == Postgres && j < len(src) && src[j] == '\'' {
				// E'…': a string with backslash escapes.
				k, err := skipQuoted(src, j, '\'', true)
				if err != nil {
					return s, err
				}
				i = k
				continue
			}
			if first == "" {
				first = w
			}
			if writeWords[w] {
				if first == "SELECT" || first == "WITH" {
					return s, fmt.Errorf("%s is not allowed: the sql source only reads", w)
				}
			}
			i = j
			continue
		}
		if end >= 0 && !unicode.IsSpace(rune(c)) {
			return s, fmt.Errorf("one statement only (found text after ';')")
		}
		i++
	}
	switch first {
	case "SELECT", "WITH":
	case "":
		return s, fmt.Errorf("empty query")
	default:
		return s, fmt.Errorf("want one SELECT (or WITH … SELECT) statement, not %s: the sql source only reads", first)
	}
	if end < 0 {
		end = len(src)
	}
	s.text = strings.TrimRightFunc(src[:end], unicode.IsSpace)
	var from, to bool
	for _, p := range s.params {
		from = from || p.name == "from"
		to = to || p.name == "to"
	}
	switch {
	case from && to:
		s.Kind = Bucketed
	case from || to:
		return s, fmt.Errorf("a bucketed query uses both $from and $to (rows with time >= $from and < $to)")
	}
	return s, nil
}

// SQL is the statement for dialect with $from/$to bound: Postgres numbers
// them ($1 is from, $2 is to); MySQL takes one ? per use, in order.
func (s Statement) SQL(dialect string, from, to any) (string, []any) {
	if len(s.params) == 0 {
		return s.text, nil
	}
	var b strings.Builder
	var args []any
	last := 0
	for _, p := range s.params {
		b.WriteString(s.text[last:p.at])
		last = p.at + 1 + len(p.name)
		v := from
		n := 1
		if p.name == "to" {
			v, n = to, 2
		}
		if dialect == MySQL {
			b.WriteByte('?')
			args = append(args, v)
			continue
		}
		b.WriteString("$" + strconv.Itoa(n))
	}
	b.WriteString(s.text[last:])
	if dialect != MySQL {
		args = []any{from, to}
	}
	return b.String(), args
}

// skipQuoted returns the offset after the string literal starting at i.
// Doubled quotes escape a quote; so does a backslash when backslash is
// set (MySQL strings, Postgres E'…' strings).
func skipQuoted(src string, i int, q byte, backslash bool) (int, error) {
	j := i + 1
	for j < len(src) {
		switch {
		case backslash && src[j] == '\\':
			j += 2
			continue
		case src[j] == q:
			if j+1 < len(src) && src[j+1] == q {
				j += 2
				continue
			}
			return j + 1, nil
		}
		j++
	}
	return 0, fmt.Errorf("unterminated string literal")
}

// skipBlockComment returns the offset after the /* */ comment at i;
// Postgres nests them.
func skipBlockComment(src string, i int, nest bool) (int, error) {
	depth := 0
	j := i
	for j < len(src) {
		switch {
		case strings.HasPrefix(src[j:], "/*"):
			if depth == 0 || nest {
				depth++
			}
			j += 2
		case strings.HasPrefix(src[j:], "*/"):
			depth--
			j += 2
			if depth == 0 {
				return j, nil
			}
		default:
			j++
		}
	}
	return 0, fmt.Errorf("unterminated /* comment")
}

// dollarQuote reports whether a Postgres dollar-quoted string ($$…$$,
// $tag$…$tag$) starts at i, and the offset after it (-1: unterminated).
func dollarQuote(src string, i int) (int, bool) {
	j := i + 1
	for j < len(src) && isIdent(src[j]) && !(j == i+1 && src[j] >= '0' && src[j] <= '9') {
		j++
	}
	if j >= len(src) || src[j] != '$' {
		return 0, false
	}
	tag := src[i : j+1]
	k := strings.Index(src[j+1:], tag)
	if k < 0 {
		return -1, true // unterminated
	}
	return j + 1 + k + len(tag), true
}

func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func isIdent(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
