package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	File string // the config file ("" when the config was built in code)
	Line int    // 1-based line in File; 0 when unknown
	Path string // the key at fault, e.g. "sources.github.token" or "metrics[2].unit"; "" for the whole file
	Msg  string // what is wrong; never contains a secret
}

// String formats the problem as "file:line: path: message", leaving out the
// parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		b.WriteString(p.File + ":" + strconv.Itoa(p.Line) + ": ")
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ValidationError lists every problem found in a configuration, in file
// order.
type ValidationError struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems for one file. It knows the line of every key
// that was decoded, and which keys already failed to decode so validation
// does not report the same mistake twice.
type problems struct {
	file  string
	lines map[string]int  // path → line of the key (or list entry)
	bad   map[string]bool // paths whose value failed to decode
	list  []Problem
}

func newProblems(file string) *problems {
	return &problems{file: file, lines: map[string]int{}, bad: map[string]bool{}}
}

// at records a problem at an explicit line.
func (ps *problems) at(line int, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// decodeErr records a problem with the value at path and marks path bad.
func (ps *problems) decodeErr(line int, path, format string, args ...any) {
	ps.bad[path] = true
	ps.at(line, path, format, args...)
}

// add records a validation problem at path, using the line of path (or of
// its closest ancestor present in the file). Problems under a path that
// already failed to decode are dropped: they would repeat that error.
func (ps *problems) add(path, format string, args ...any) {
	for p := path; ; p = parentPath(p) {
		if ps.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	ps.at(ps.lineOf(path), path, format, args...)
}

// lineOf is the line of path or of its nearest ancestor; 0 when the config
// did not come from a file.
func (ps *problems) lineOf(path string) int {
	for p := path; ; p = parentPath(p) {
		if l, ok := ps.lines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
	}
}

// err returns the collected problems as a *ValidationError sorted by line,
// or nil when there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool { return ps.list[i].Line < ps.list[j].Line })
	out := ps.list[:0]
	seen := map[Problem]bool{}
	for _, p := range ps.list {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return &ValidationError{Problems: out}
}

// parentPath strips the last element: "a.b[2].c" → "a.b[2]" → "a.b" → "a" → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// joinPath appends a key to a path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
