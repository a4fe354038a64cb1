package honeycomb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A metric's query is one calculation and optional filters, written either
// as text,
//
//	P99(duration_ms) WHERE service.name = checkout AND http.status_code >= 500
//
// or as a Honeycomb query specification in JSON (as the query builder's
// "Query JSON" shows it) holding only calculations (one), filters and
// filter_combination: the collector sets the time range and the hourly
// granularity itself, and a breakdown would give several series.

// Calculation is one entry of a query specification's calculations.
type Calculation struct {
	Op     string `json:"op"`
	Column string `json:"column,omitempty"`
}

// Name is the key Honeycomb gives the calculation in a result's series:
// COUNT, P99(duration_ms).
func (c Calculation) Name() string {
	if c.Column == "" {
		return c.Op
	}
	return c.Op + "(" + c.Column + ")"
}

// Filter is one entry of a query specification's filters.
type Filter struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Value  any    `json:"value,omitempty"`
}

// Spec is the part of a query specification a metric chooses.
type Spec struct {
	Calculations      []Calculation `json:"calculations"`
	Filters           []Filter      `json:"filters,omitempty"`
	FilterCombination string        `json:"filter_combination,omitempty"`
}

// Calculation ops: every op of the query specification but HEATMAP, which
// is no number.
var calcOps = []string{"COUNT", "CONCURRENCY", "SUM", "AVG", "COUNT_DISTINCT", "MAX", "MIN",
	"P001", "P01", "P05", "P10", "P20", "P25", "P50", "P75", "P80", "P90", "P95", "P99", "P999",
	"RATE_AVG", "RATE_SUM", "RATE_MAX"}

// Filter ops of the query specification.
var filterOps = []string{"=", "!=", ">", ">=", "<", "<=", "starts-with", "does-not-start-with",
	"ends-with", "does-not-end-with", "contains", "does-not-contain", "exists", "does-not-exist", "in", "not-in"}

// reservedKeys are spec keys the collector sets, or that would make several
// series.
var reservedKeys = map[string]string{
	"time_range":  "the collector sets the time range",
	"start_time":  "the collector sets the time range",
	"end_time":    "the collector sets the time range",
	"granularity": "the collector asks for hourly buckets",
	"breakdowns":  "a breakdown gives several series",
	"orders":      "it orders breakdowns, which a metric has none of",
	"limit":       "it limits breakdowns, which a metric has none of",
	"havings":     "it filters breakdowns, which a metric has none of",
}

// ParseQuery reads a metric's query (text or JSON) into a Spec with exactly
// one calculation.
func ParseQuery(q string) (Spec, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return Spec{}, errors.New("empty query")
	}
	var s Spec
	var err error
	if strings.HasPrefix(q, "{") {
		s, err = parseJSON(q)
	} else {
		s, err = parseText(q)
	}
	if err != nil {
		return Spec{}, err
	}
	return s, s.check()
}

func parseJSON(q string) (Spec, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(q), &keys); err != nil {
		return Spec{}, fmt.Errorf("not a JSON query specification: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	for _, k := range sortedKeys(keys) {
		if why, ok := reservedKeys[k]; ok {
			return Spec{}, fmt.Errorf("leave out %s: %s", k, why)
		}
	}
	var s Spec
	dec := json.NewDecoder(strings.NewReader(q))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("query specification: %s (want calculations, filters, filter_combination)", strings.TrimPrefix(err.Error(), "json: "))
	}
	for i := range s.Filters {
		s.Filters[i].Value = plainValue(s.Filters[i].Value)
	}
	if len(s.Calculations) == 0 {
		// Honeycomb counts when no calculation is given.
		s.Calculations = []Calculation{{Op: "COUNT"}}
	}
	return s, nil
}

// plainValue turns json.Number into int64 or float64, recursively.
func plainValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = plainValue(x[i])
		}
	}
	return v
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// check validates what either form produced.
func (s *Spec) check() error {
	if len(s.Calculations) != 1 {
		return fmt.Errorf("want one calculation, got %d: a metric is one series", len(s.Calculations))
	}
	c := &s.Calculations[0]
	c.Op = strings.ToUpper(strings.TrimSpace(c.Op))
	c.Column = strings.TrimSpace(c.Column)
	switch {
	case c.Op == "HEATMAP":
		return errors.New("HEATMAP is no number per hour: use a percentile (P50, P99, …) or AVG")
	case !slices.Contains(calcOps, c.Op):
		return fmt.Errorf("unknown calculation %q (one of %s)", c.Op, strings.Join(calcOps, ", "))
	case (c.Op == "COUNT" || c.Op == "CONCURRENCY") && c.Column != "":
		return fmt.Errorf("%s takes no column", c.Op)
	case c.Op != "COUNT" && c.Op != "CONCURRENCY" && c.Column == "":
		return fmt.Errorf("%s needs a column: %s(duration_ms)", c.Op, c.Op)
	}
	switch s.FilterCombination = strings.ToUpper(strings.TrimSpace(s.FilterCombination)); s.FilterCombination {
	case "", "AND", "OR":
	default:
		return fmt.Errorf("filter_combination %q: want AND or OR", s.FilterCombination)
	}
	if len(s.Filters) < 2 || s.FilterCombination == "AND" {
		s.FilterCombination = "" // AND is the default
	}
	for i, f := range s.Filters {
		f.Op = strings.ToLower(strings.TrimSpace(f.Op))
		f.Column = strings.TrimSpace(f.Column)
		if f.Column == "" {
			return fmt.Errorf("filter %d has no column", i+1)
		}
		if !slices.Contains(filterOps, f.Op) {
			return fmt.Errorf("filter on %s: unknown op %q (one of %s)", f.Column, f.Op, strings.Join(filterOps, ", "))
		}
		_, list := f.Value.([]any)
		switch {
		case f.Op == "exists" || f.Op == "does-not-exist":
			if f.Value != nil {
				return fmt.Errorf("filter on %s: %s takes no value", f.Column, f.Op)
			}
		case f.Op == "in" || f.Op == "not-in":
			if !list {
				return fmt.Errorf("filter on %s: %s takes a list: %s %s (a, b)", f.Column, f.Op, f.Column, f.Op)
			}
		case f.Value == nil:
			return fmt.Errorf("filter on %s: %s needs a value", f.Column, f.Op)
		case list:
			return fmt.Errorf("filter on %s: %s takes one value, not a list", f.Column, f.Op)
		}
		if !scalar(f.Value) {
			return fmt.Errorf("filter on %s: want a string, number or boolean value", f.Column)
		}
		s.Filters[i] = f
	}
	return nil
}

// scalar reports whether v is nil, a string, number or boolean, or a list
// of them.
func scalar(v any) bool {
	switch x := v.(type) {
	case nil, string, int64, float64, bool:
		return true
	case []any:
		for _, e := range x {
			if e == nil || !scalar(e) {
				return false
			}
			if _, nested := e.([]any); nested {
				return false
			}
		}
		return true
	}
	return false
}

// Canonical is the spec as JSON, the same for every way of writing the
// same query: it is what the cursor remembers the data was read with.
func (s Spec) Canonical() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // only strings, numbers, bools and lists of them
	return strings.TrimSpace(b.String())
}

// token is one lexeme of the text form.
type token struct {
	text   string
	quoted bool
}

func lex(q string) ([]token, error) {
	var out []token
	r := []rune(q)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(r) && r[j] != c; j++ {
				if r[j] == '\\' && j+1 < len(r) {
					j++
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unclosed quote %c", c)
			}
			out = append(out, token{text: b.String(), quoted: true})
			i = j + 1
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{text: string(c)})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			if i+1 < len(r) && r[i+1] == '=' {
				out = append(out, token{text: string(r[i : i+2])})
				i += 2
			} else if c == '!' {
				return nil, errors.New("lone '!': want !=")
			} else {
				out = append(out, token{text: string(c)})
				i++
			}
		default:
			j := i
			for j < len(r) && !strings.ContainsRune(" \t\n\r\"'(),=!<>", r[j]) {
				j++
			}
			out = append(out, token{text: string(r[i:j])})
			i = j
		}
	}
	return out, nil
}

func parseText(q string) (Spec, error) {
	toks, err := lex(q)
	if err != nil {
		return Spec{}, err
	}
	p := &textParser{toks: toks}
	var s Spec
	c, err := p.calculation()
	if err != nil {
		return Spec{}, err
	}
	s.Calculations = []Calculation{c}
	if p.done() {
		return s, nil
	}
	if t := p.next(); t.quoted || !strings.EqualFold(t.text, "WHERE") {
		return Spec{}, fmt.Errorf("after %s: want WHERE and filters, got %q", c.Name(), t.text)
	}
	for {
		f, err := p.filter()
		if err != nil {
			return Spec{}, err
		}
		s.Filters = append(s.Filters, f)
		if p.done() {
			return s, nil
		}
		t := p.next()
		comb := strings.ToUpper(t.text)
		if t.quoted || (comb != "AND" && comb != "OR") {
			return Spec{}, fmt.Errorf("after the filter on %s: want AND or OR, got %q", f.Column, t.text)
		}
		if s.FilterCombination != "" && s.FilterCombination != comb {
			return Spec{}, errors.New("mixes AND and OR: Honeycomb combines all filters one way (use the JSON form's filter_combination)")
		}
		s.FilterCombination = comb
	}
}

type textParser struct {
	toks []token
	i    int
}

func (p *textParser) done() bool { return p.i >= len(p.toks) }

func (p *textParser) next() token {
	if p.done() {
		return token{}
	}
	t := p.toks[p.i]
	p.i++
	return t
}

func (p *textParser) peek() token {
	if p.done() {
		return token{}
	}
	return p.toks[p.i]
}

func (p *textParser) calculation() (Calculation, error) {
	t := p.next()
	if t.text == "" || t.quoted {
		return Calculation{}, errors.New("want a calculation first: COUNT, P99(duration_ms), AVG(column), …")
	}
	c := Calculation{Op: strings.ToUpper(t.text)}
	if p.peek().text == "(" && !p.peek().quoted {
		p.next()
		col := p.next()
		if col.text == "" || (!col.quoted && strings.ContainsAny(col.text, "(),")) {
			return Calculation{}, fmt.Errorf("%s( needs a column", c.Op)
		}
		if cl := p.next(); cl.text != ")" || cl.quoted {
			return Calculation{}, fmt.Errorf("%s(%s: want )", c.Op, col.text)
		}
		c.Column = col.text
	}
	return c, nil
}

func (p *textParser) filter() (Filter, error) {
	col := p.next()
	if col.text == "" {
		return Filter{}, errors.New("WHERE needs a filter: column op value")
	}
	op := p.next()
	if op.text == "" || op.quoted {
		return Filter{}, fmt.Errorf("filter on %s: want an op (=, !=, >, starts-with, exists, in, …)", col.text)
	}
	f := Filter{Column: col.text, Op: strings.ToLower(op.text)}
	switch f.Op {
	case "exists", "does-not-exist":
		return f, nil
	case "in", "not-in":
		if t := p.next(); t.text != "(" || t.quoted {
			return Filter{}, fmt.Errorf("filter on %s: %s takes a list: (a, b)", f.Column, f.Op)
		}
		list := []any{}
		for {
			v := p.next()
			if v.text == "" && !v.quoted {
				return Filter{}, fmt.Errorf("filter on %s: unclosed list", f.Column)
			}
			list = append(list, value(v))
			sep := p.next()
			if sep.text == ")" && !sep.quoted {
				break
			}
			if sep.text != "," || sep.quoted {
				return Filter{}, fmt.Errorf("filter on %s: want , or ) in the list", f.Column)
			}
		}
		f.Value = list
		return f, nil
	}
	v := p.next()
	if v.text == "" && !v.quoted {
		return Filter{}, fmt.Errorf("filter on %s: %s needs a value", f.Column, f.Op)
	}
	if !v.quoted && strings.ContainsAny(v.text, "(),") {
		return Filter{}, fmt.Errorf("filter on %s: unexpected %q", f.Column, v.text)
	}
	f.Value = value(v)
	return f, nil
}

// value is a literal: a quoted string stays a string; a bare word is a
// number or a boolean when it reads as one.
func value(t token) any {
	if t.quoted {
		return t.text
	}
	if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(t.text, 64); err == nil && !strings.ContainsAny(t.text, "xXpP_") && strings.ToLower(t.text) != "nan" && !strings.Contains(strings.ToLower(t.text), "inf") {
		return f
	}
	switch strings.ToLower(t.text) {
	case "true":
		return true
	case "false":
		return false
	}
	return t.text
}
