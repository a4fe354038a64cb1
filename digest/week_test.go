package digest

import (
	"testing"
	"time"
)

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	return loc
}

func TestWeek(t *testing.T) {
	loc := berlin(t)
	w, err := ParseWeek("2026-W48", loc)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Start(); !got.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, loc)) {
		t.Errorf("Start = %v", got)
	}
	if got := w.End(); !got.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, loc)) {
		t.Errorf("End = %v", got)
	}
	if w.String() != "2026-W48" || w.Span() != "Nov 23 – 29, 2026" {
		t.Errorf("String, Span = %q, %q", w.String(), w.Span())
	}
	if w.Prev().String() != "2026-W47" || w.Next().String() != "2026-W49" {
		t.Errorf("Prev, Next = %s, %s", w.Prev(), w.Next())
	}
	// Sunday 23:30 in Berlin is still W48; Monday 00:00 is W49.
	if got := WeekOf(time.Date(2026, 11, 29, 22, 30, 0, 0, time.UTC), loc).String(); got != "2026-W48" {
		t.Errorf("WeekOf(Sunday 23:30 CET) = %s", got)
	}
	if got := WeekOf(time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC), loc).String(); got != "2026-W49" {
		t.Errorf("WeekOf(Monday 00:00 CET) = %s", got)
	}
	if got := LastCompleteWeek(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), loc).String(); got != "2026-W48" {
		t.Errorf("LastCompleteWeek(Monday 9:00) = %s", got)
	}

	// Year boundaries: 2026 has a week 53, 2027 does not; Jan 1 2027 is
	// in 2026-W53.
	w53, err := ParseWeek("2026-W53", loc)
	if err != nil {
		t.Fatal(err)
	}
	if w53.Span() != "Dec 28, 2026 – Jan 3, 2027" || w53.Next().String() != "2027-W01" {
		t.Errorf("2026-W53: %s, next %s", w53.Span(), w53.Next())
	}
	if got := WeekOf(time.Date(2027, 1, 1, 12, 0, 0, 0, loc), loc).String(); got != "2026-W53" {
		t.Errorf("WeekOf(2027-01-01) = %s", got)
	}
	if _, err := ParseWeek("2027-W53", loc); err == nil {
		t.Error("2027-W53 accepted")
	}

	// A week with the end of daylight saving time is 169 hours long.
	dst, _ := ParseWeek("2026-W43", loc)
	if h := dst.End().Sub(dst.Start()).Hours(); h != 169 {
		t.Errorf("2026-W43 is %v hours", h)
	}

	for _, bad := range []string{"", "2026-48", "2026-W0", "2026-W54", "W48", "2026-W48\n", "26-W48", "2026-W4８"} {
		if _, err := ParseWeek(bad, loc); err == nil {
			t.Errorf("ParseWeek(%q) accepted", bad)
		}
	}
	if w, err := ParseWeek("2026-w5", nil); err != nil || w.String() != "2026-W05" || w.Loc != time.UTC {
		t.Errorf("ParseWeek(2026-w5) = %v, %v", w, err)
	}
}
