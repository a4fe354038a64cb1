package period

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in         string
		loc        *time.Location
		name       string
		start, end string
		label      string
	}{
		{"2026-H2", nil, "2026-H2", "2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "H2 2026"},
		{"2026-h1", nil, "2026-H1", "2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z", "H1 2026"},
		{"2026-Q3", nil, "2026-Q3", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", "Q3 2026"},
		{"2026-Q4", berlin, "2026-Q4", "2026-09-30T22:00:00Z", "2026-12-31T23:00:00Z", "Q4 2026"},
		{"2026", nil, "2026", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026"},
		{"2026-H3", nil, "", "", "", ""},
		{"2026-Q0", nil, "", "", "", ""},
		{"26-H1", nil, "", "", "", ""},
		{"2026-H12", nil, "", "", "", ""},
		{"H2", nil, "", "", "", ""},
		{"", nil, "", "", "", ""},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in, tt.loc)
		if tt.name == "" {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want an error", tt.in, p)
			}
			continue
		}
		if err != nil || p.Name != tt.name || p.Start.Format(time.RFC3339) != tt.start || p.End.Format(time.RFC3339) != tt.end || Label(p) != tt.label {
			t.Errorf("Parse(%q) = %+v %q, %v", tt.in, p, Label(p), err)
		}
	}
}

func TestOf(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for length, want := range map[string]string{"": "2026-H2", Half: "2026-H2", Quarter: "2026-Q4", Year: "2026"} {
		if p := Of(at, length, nil); p.Name != want || at.Before(p.Start) || !at.Before(p.End) {
			t.Errorf("Of(%s) = %+v, want %s", length, p, want)
		}
	}
	// New Year's Eve in Berlin is already next year there.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if p := Of(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), Half, berlin); p.Name != "2027-H1" {
		t.Errorf("Berlin new year: %s", p.Name)
	}
}
