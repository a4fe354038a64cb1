package config

import (
	"errors"
	"strings"
)

// checkGlob checks a path pattern (a metric's paths, docs.paths globs)
// with the check c was loaded with: the matcher is internal/glob, which
// config cannot import (it imports nothing of the project), so the
// collectors registry passes glob.Check as LoadOptions.CheckPattern.
// Without one, only an empty pattern is refused.
func (c *Config) checkGlob(pattern string) error {
	if c.checkPattern != nil {
		return c.checkPattern(pattern)
	}
	if strings.Trim(strings.TrimPrefix(pattern, "./"), "/") == "" {
		return errors.New("empty pattern")
	}
	return nil
}
