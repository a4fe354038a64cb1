// Package glob is the project's one path matcher: a metric's `paths`, the
// documents of `docs.paths`, and the drafter's eligibility of a PR all
// match file paths with it. It imports nothing of the project, so both
// the pure drafter and the rest can use it.
package glob

import (
	"errors"
	"path"
	"strings"
)

// Match reports whether the slash-separated file path name (relative to
// the repository root, as GitHub lists a PR's files) matches pattern.
//
// A pattern is matched against the whole path, segment by segment:
//   - "**" as a whole segment matches zero or more segments
//     ("internal/**" matches everything under internal/, "**/*.sql" any .sql file);
//   - within a segment, "*" matches any run of characters except "/",
//     "?" one character, and "[a-z]" a class, as in path.Match;
//   - a leading "/" or "./" is ignored, and a trailing "/" means
//     everything below ("internal/query/" is "internal/query/**");
//   - a pattern without wildcards also matches everything below it
//     ("internal/query" matches internal/query/build.go).
//
// A malformed pattern matches nothing; Check rejects it.
func Match(pattern, name string) bool {
	ps := segments(pattern)
	if ps == nil {
		return false
	}
	ns := strings.Split(strings.TrimPrefix(strings.TrimPrefix(name, "./"), "/"), "/")
	// Wildcard matching with "**" as a star over segments; one backtrack
	// point suffices, so this is O(len(ps)·len(ns)).
	pi, ni := 0, 0
	starP, starN := -1, 0
	for ni < len(ns) {
		switch {
		case pi < len(ps) && ps[pi] == "**":
			starP, starN = pi, ni
			pi++
		case pi < len(ps) && matchSegment(ps[pi], ns[ni]):
			pi++
			ni++
		case starP >= 0:
			starN++
			pi, ni = starP+1, starN
		default:
			return false
		}
	}
	for pi < len(ps) && ps[pi] == "**" {
		pi++
	}
	return pi == len(ps)
}

// Check reports whether pattern is a valid pattern (nil) or why not.
func Check(pattern string) error {
	segs := segments(pattern)
	if segs == nil {
		return errors.New("empty pattern")
	}
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return errors.New("syntax error in pattern")
		}
	}
	return nil
}

func matchSegment(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// segments splits a normalised pattern into segments; nil for "". A
// trailing "/", or no wildcard at all, adds "**" (everything below).
func segments(pattern string) []string {
	p := strings.TrimPrefix(strings.TrimPrefix(pattern, "./"), "/")
	if p == "" {
		return nil
	}
	switch {
	case strings.HasSuffix(p, "/"):
		p += "**"
	case !strings.ContainsAny(p, `*?[\`):
		p += "/**"
	}
	return strings.Split(p, "/")
}
