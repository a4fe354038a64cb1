package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Secret is a string that never prints itself: String, YAML and JSON all
// give "<secret>" (or "" when empty). Use Value to read it.
type Secret string

const secretMask = "<secret>"

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return secretMask
}

// GoString masks the secret in %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalYAML masks the secret.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON masks the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalYAML reads a secret from a scalar. The value never appears in
// the error.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a secret must be a string, not %s", n.Line, kindName(n))
	}
	if n.ShortTag() == nullTag {
		*s = ""
		return nil
	}
	*s = Secret(n.Value)
	return nil
}

// Duration is a time.Duration that also accepts days ("7d", "1d12h").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String prints the duration the way people write it: "7d", "1d12h",
// "15m", "1h30m", "500ms", "0s".
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// MarshalYAML prints the human form, e.g. "7d".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML accepts anything ParseDuration does.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration must be a string such as 15m or 7d, not %s", n.Line, kindName(n))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

const day = 24 * time.Hour

// ParseDuration parses a Go duration ("90m", "1h30m", "500ms") that may also
// use days ("d", 24h) and weeks ("w", 7d): "7d", "1d12h", "90d", "1.5d".
// A leading sign is allowed, as in time.ParseDuration.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 15m, 1h30m, 7d)", orig)
	}
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return bad()
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	for s != "" {
		// A number: digits with at most one '.'.
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		num := s[:i]
		j := i
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		unit := s[i:j]
		s = s[j:]
		if num == "" || num == "." || unit == "" {
			return bad()
		}
		var part time.Duration
		switch unit {
		case "d", "w":
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return bad()
			}
			mult := float64(day)
			if unit == "w" {
				mult *= 7
			}
			v := f * mult
			if v >= math.MaxInt64 {
				return bad()
			}
			part = time.Duration(v)
		default:
			v, err := time.ParseDuration(num + unit)
			if err != nil {
				return bad()
			}
			part = v
		}
		if total > math.MaxInt64-part {
			return bad()
		}
		total += part
	}
	if neg {
		total = -total
	}
	return total, nil
}

// FormatDuration prints d with whole days as "d": 7d, 1d12h, 15m, 1h30m.
// ParseDuration reads it back to the same value.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d < 0 {
		if d == math.MinInt64 {
			return d.String()
		}
		return "-" + FormatDuration(-d)
	}
	var b strings.Builder
	if days := d / day; days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10))
		b.WriteByte('d')
		d %= day
		if d == 0 {
			return b.String()
		}
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	b.WriteString(s)
	return b.String()
}

// Percent is a fraction written as "10%" (0.10) in YAML.
type Percent float64

// ParsePercent reads "10%" as 0.10; a bare number is already a fraction
// ("0.1" is 0.10).
func ParsePercent(s string) (Percent, error) {
	t := strings.TrimSpace(s)
	div := 1.0
	if strings.HasSuffix(t, "%") {
		t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
		div = 100
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid percentage %q (use e.g. 10%% or 0.1)", s)
	}
	return Percent(f / div), nil
}

// String prints the percentage, e.g. "10%", "2.5%".
func (p Percent) String() string {
	return strconv.FormatFloat(float64(p)*100, 'g', 12, 64) + "%"
}

// MarshalYAML prints the human form, e.g. "10%".
func (p Percent) MarshalYAML() (any, error) { return p.String(), nil }

// UnmarshalYAML accepts anything ParsePercent does.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a percentage must be a scalar such as 10%%, not %s", n.Line, kindName(n))
	}
	v, err := ParsePercent(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*p = v
	return nil
}

// StringList accepts a single string or a list of strings.
type StringList []string

// UnmarshalYAML accepts a scalar (one element) or a sequence of scalars.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == nullTag {
			*l = nil
		} else {
			*l = StringList{n.Value}
		}
		return nil
	case yaml.SequenceNode:
		out := make(StringList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: expected a string, not %s", c.Line, kindName(c))
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return errors.New("expected a string or a list of strings")
}

const nullTag = "!!null"

// kindName describes a node for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == nullTag {
			return "null"
		}
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	return "nothing"
}
