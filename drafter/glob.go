package drafter

import (
	"path"
	"strings"
)

// MatchPath is the default matcher for a metric's `paths`: a slash-separated
// glob where "**" matches any number of directories (including none), and
// "*", "?" and "[…]" match within one path element. A pattern without
// wildcards also matches everything below it ("internal/query" matches
// "internal/query/build.go"). Leading "./" and "/" are ignored.
func MatchPath(pattern, p string) bool {
	pattern = strings.TrimPrefix(strings.TrimPrefix(pattern, "./"), "/")
	p = strings.TrimPrefix(strings.TrimPrefix(p, "./"), "/")
	if pattern == "" {
		return false
	}
	if !strings.ContainsAny(pattern, "*?[") {
		dir := strings.TrimSuffix(pattern, "/")
		return p == dir || strings.HasPrefix(p, dir+"/")
	}
	if strings.HasSuffix(pattern, "/") {
		pattern += "**"
	}
	return matchSegs(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 1 && pat[1] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 1 {
				return true
			}
			for i := 0; i <= len(segs); i++ {
				if matchSegs(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], segs[0]); err != nil || !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}
