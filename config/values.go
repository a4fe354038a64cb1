package config

import (
	"encoding/json"
	"time"
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

// Duration is a time.Duration that also accepts days ("7d", "1d12h").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Percent is a fraction written as "10%" (0.10) in YAML.
type Percent float64

// StringList accepts a single string or a list of strings.
type StringList []string
