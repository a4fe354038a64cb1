package cmdutil

import (
	"fmt"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
)

// ParseTime reads a --since/--until value: a duration back from now ("90d",
// "12h", "1y"), a date ("2026-01-31", midnight UTC) or an RFC 3339 time.
// The flag name is used in the error.
func ParseTime(flag, v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if strings.HasSuffix(v, "y") {
		var n int
		if _, err := fmt.Sscanf(v, "%dy", &n); err == nil && fmt.Sprintf("%dy", n) == v && n > 0 {
			return now.AddDate(-n, 0, 0).UTC(), nil
		}
	}
	if d, err := config.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, UsageError("--%s %q: must be a positive duration", flag, v)
		}
		return now.Add(-d).UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, UsageError("--%s %q: want a duration like 90d or 1y, a date like 2026-01-31, or an RFC 3339 time", flag, v)
}
