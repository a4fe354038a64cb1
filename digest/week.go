package digest

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Week is an ISO 8601 week in a time zone (me.timezone): Monday 00:00 to
// the next Monday 00:00 local time.
type Week struct {
	Year, Num int
	Loc       *time.Location
}

var weekRe = regexp.MustCompile(`^([0-9]{4})-[Ww]([0-9]{1,2})$`)

// ParseWeek reads "2026-W48" (ISO year and week number) in loc (nil:
// UTC). Week 53 is accepted only in years that have one.
func ParseWeek(s string, loc *time.Location) (Week, error) {
	m := weekRe.FindStringSubmatch(s)
	if m == nil {
		return Week{}, fmt.Errorf("week %.30q: want an ISO week like 2026-W48", s)
	}
	y, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2])
	w := Week{Year: y, Num: n, Loc: loc}
	if w.Loc == nil {
		w.Loc = time.UTC
	}
	if n < 1 || n > 53 {
		return Week{}, fmt.Errorf("week %q: the week number must be from 1 to 53", s)
	}
	if yy, nn := w.Start().ISOWeek(); yy != y || nn != n {
		return Week{}, fmt.Errorf("week %q: %d has no week %d", s, y, n)
	}
	return w, nil
}

// WeekOf is the ISO week that contains t in loc (nil: UTC).
func WeekOf(t time.Time, loc *time.Location) Week {
	if loc == nil {
		loc = time.UTC
	}
	y, n := t.In(loc).ISOWeek()
	return Week{Year: y, Num: n, Loc: loc}
}

// LastCompleteWeek is the week before the one that contains now: the week
// `impact digest send` reports on by default.
func LastCompleteWeek(now time.Time, loc *time.Location) Week {
	return WeekOf(now, loc).Prev()
}

// String is the ISO form, "2026-W48"; it is also the digests bucket key.
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// IsZero reports whether w is the zero Week.
func (w Week) IsZero() bool { return w.Year == 0 && w.Num == 0 }

func (w Week) loc() *time.Location {
	if w.Loc == nil {
		return time.UTC
	}
	return w.Loc
}

// Start is Monday 00:00 of the week in its time zone.
func (w Week) Start() time.Time {
	// January 4th is always in week 1.
	jan4 := time.Date(w.Year, time.January, 4, 0, 0, 0, 0, w.loc())
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return time.Date(w.Year, time.January, 4-back+7*(w.Num-1), 0, 0, 0, 0, w.loc())
}

// End is the next Monday 00:00 (exclusive). A week with a daylight-saving
// change is 167 or 169 hours long.
func (w Week) End() time.Time {
	s := w.Start()
	return time.Date(s.Year(), s.Month(), s.Day()+7, 0, 0, 0, 0, w.loc())
}

// Contains reports whether t is in [Start, End).
func (w Week) Contains(t time.Time) bool {
	return !t.Before(w.Start()) && t.Before(w.End())
}

// Prev is the week before.
func (w Week) Prev() Week { return WeekOf(w.Start().AddDate(0, 0, -3), w.loc()) }

// Next is the week after.
func (w Week) Next() Week { return WeekOf(w.End().AddDate(0, 0, 3), w.loc()) }

// Span is the week's dates for people: "Nov 23 – 29, 2026",
// "Dec 28, 2026 – Jan 3, 2027".
func (w Week) Span() string {
	s, e := w.Start(), w.End().AddDate(0, 0, -1)
	switch {
	case s.Year() != e.Year():
		return s.Format("Jan 2, 2006") + " – " + e.Format("Jan 2, 2006")
	case s.Month() != e.Month():
		return s.Format("Jan 2") + " – " + e.Format("Jan 2, 2006")
	}
	return s.Format("Jan 2") + " – " + e.Format("2, 2006")
}
