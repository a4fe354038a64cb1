// Package period names review periods — half-years (2026-H2), quarters
// (2026-Q3) and years (2026) — and finds the one a time falls in. Periods
// start at midnight in the user's time zone (me.timezone). It is pure: no
// I/O, no clock.
package period

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// Lengths of a review period (config review.period).
const (
	Half    = "half"
	Quarter = "quarter"
	Year    = "year"
)

// Parse reads "2026-H2", "2026-Q3" or "2026" (case-insensitive) as a
// period in loc (nil is UTC).
func Parse(name string, loc *time.Location) (model.Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	n := strings.ToUpper(strings.TrimSpace(name))
	bad := fmt.Errorf("period %q: want a half-year like 2026-H2, a quarter like 2026-Q3 or a year like 2026", name)
	ys, rest, hasRest := strings.Cut(n, "-")
	year, err := strconv.Atoi(ys)
	if err != nil || len(ys) != 4 || year < 1970 {
		return model.Period{}, bad
	}
	if !hasRest {
		return span(year, 1, 12, strconv.Itoa(year), loc), nil
	}
	if len(rest) != 2 {
		return model.Period{}, bad
	}
	k, err := strconv.Atoi(rest[1:])
	if err != nil {
		return model.Period{}, bad
	}
	switch {
	case rest[0] == 'H' && (k == 1 || k == 2):
		return span(year, (k-1)*6+1, 6, fmt.Sprintf("%d-H%d", year, k), loc), nil
	case rest[0] == 'Q' && k >= 1 && k <= 4:
		return span(year, (k-1)*3+1, 3, fmt.Sprintf("%d-Q%d", year, k), loc), nil
	}
	return model.Period{}, bad
}

func span(year, month, months int, name string, loc *time.Location) model.Period {
	start := time.Date(year, time.Month(month), 1, 0, 0, 0, 0, loc)
	return model.Period{Name: name, Start: start.UTC(), End: start.AddDate(0, months, 0).UTC()}
}

// Of returns the period of the given length ("half", "quarter", "year";
// "" is half) that t falls in, in loc.
func Of(t time.Time, length string, loc *time.Location) model.Period {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	y, m := lt.Year(), int(lt.Month())
	switch length {
	case Quarter:
		q := (m-1)/3 + 1
		return span(y, (q-1)*3+1, 3, fmt.Sprintf("%d-Q%d", y, q), loc)
	case Year:
		return span(y, 1, 12, strconv.Itoa(y), loc)
	}
	h := (m-1)/6 + 1
	return span(y, (h-1)*6+1, 6, fmt.Sprintf("%d-H%d", y, h), loc)
}

// Label is how a statement names the period: "H2 2026", "Q3 2026", "2026".
func Label(p model.Period) string {
	y, k, ok := strings.Cut(p.Name, "-")
	if !ok {
		return p.Name
	}
	return k + " " + y
}
