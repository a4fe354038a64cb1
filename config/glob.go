package config

import (
	"errors"
	"path"
	"strings"
)

// checkGlob reports whether pattern is a valid path pattern (a metric's
// paths, docs.paths globs). The matcher itself is internal/glob, which the
// drafter uses too; config imports nothing of the project, so it checks the
// syntax here (values_test.go checks both agree).
func checkGlob(pattern string) error {
	p := strings.TrimPrefix(strings.TrimPrefix(pattern, "./"), "/")
	if p == "" {
		return errors.New("empty pattern")
	}
	for _, s := range strings.Split(p, "/") {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return errors.New("syntax error in pattern")
		}
	}
	return nil
}
