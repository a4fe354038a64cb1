package config

import (
	"errors"
	"path"
	"strings"
)

// MatchPath reports whether the slash-separated file path name (relative to
// the repository root, as GitHub lists a PR's files) matches pattern.
//
// A pattern is matched against the whole path, segment by segment:
//   - "**" as a whole segment matches zero or more segments
//     ("internal/**" matches everything under internal/, "**/*.sql" any .sql file);
//   - within a segment, "*" matches any run of characters except "/",
//     "?" one character, and "[a-z]" a class, as in path.Match;
//   - a leading "/" or "./" is ignored, and a trailing "/" means
//     everything below ("internal/query/" is "internal/query/**").
//
// A malformed pattern matches nothing; validation rejects it at load.
func MatchPath(pattern, name string) bool {
	ps := patternSegments(pattern)
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

func matchSegment(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// patternSegments splits a normalised pattern into segments; nil for "".
func patternSegments(pattern string) []string {
	p := strings.TrimPrefix(strings.TrimPrefix(pattern, "./"), "/")
	if p == "" {
		return nil
	}
	if strings.HasSuffix(p, "/") {
		p += "**"
	}
	return strings.Split(p, "/")
}

// checkGlob reports whether pattern is a valid MatchPath pattern.
func checkGlob(pattern string) error {
	segs := patternSegments(pattern)
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
