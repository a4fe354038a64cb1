package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadOptions injects the outside world into loading, so tests need not
// touch the real environment or file system. Zero fields use the process's.
type LoadOptions struct {
	// LookupEnv resolves ${VAR}; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ReadFile reads the config file (Load) and <key>_file secrets;
	// default os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// UserHomeDir expands "~"; default os.UserHomeDir.
	UserHomeDir func() (string, error)
	// Sources are the registered sources' config types (the collectors
	// registry's Types); a `sources:` key that is neither one of them nor
	// a built-in field is an unknown key.
	Sources []SourceType
	// Categories are the categories `metrics[].category` and
	// `docs.category` may name, in the order messages list them (the
	// collectors registry passes model.Categories, the one list). Empty:
	// any category is accepted.
	Categories []string
	// CheckPattern checks a path pattern (`metrics[].paths`,
	// `docs.paths[].globs`) with the project's one matcher (the
	// collectors registry passes glob.Check). Nil: only an empty pattern
	// is refused.
	CheckPattern func(string) error
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.UserHomeDir == nil {
		o.UserHomeDir = os.UserHomeDir
	}
	return o
}

// Find resolves the config file path: flag when set, else $IMPACT_CONFIG,
// else $XDG_CONFIG_HOME/impact/config.yaml, else
// ~/.config/impact/config.yaml. The file need not exist.
func Find(flag string) string {
	return find(flag, os.Getenv, os.UserHomeDir)
}

func find(flag string, getenv func(string) string, home func() (string, error)) string {
	if flag != "" {
		return flag
	}
	if p := getenv("IMPACT_CONFIG"); p != "" {
		return p
	}
	// The XDG spec says a relative $XDG_CONFIG_HOME is invalid and ignored.
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "impact", "config.yaml")
	}
	h, err := home()
	if err != nil || h == "" {
		return filepath.Join("~", ".config", "impact", "config.yaml")
	}
	return filepath.Join(h, ".config", "impact", "config.yaml")
}

// Load reads, parses and validates the config file at path, using the
// process's environment. A missing file gives an error that wraps
// fs.ErrNotExist; a bad file gives a *ValidationError.
func Load(path string) (*Config, error) {
	return LoadWith(path, LoadOptions{})
}

// LoadWith is Load with the environment and file system injected.
func LoadWith(path string, opts LoadOptions) (*Config, error) {
	opts = opts.withDefaults()
	data, err := opts.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseWith(data, path, opts)
}

// Parse parses and validates a configuration; filename is used in error
// messages and to resolve relative <key>_file paths.
func Parse(data []byte, filename string) (*Config, error) {
	return ParseWith(data, filename, LoadOptions{})
}

// ParseWith is Parse with the environment and file system injected.
//
// On top of DefaultConfig it decodes the YAML strictly (unknown keys and
// wrong types are errors naming file:line), expands ${VAR} in values, reads
// <key>_file secrets, normalises (expands "~", trims or adds the trailing
// "/" of API URLs) and validates. Every problem found is reported in one
// *ValidationError; the returned config is nil then.
func ParseWith(data []byte, filename string, opts LoadOptions) (*Config, error) {
	opts = opts.withDefaults()
	ps := newProblems(filename)
	cfg := DefaultConfig
	d := &decoder{opts: opts, ps: ps, dir: filepath.Dir(filename)}
	d.decodeFile(data, &cfg)
	cfg.types, cfg.categories, cfg.checkPattern = opts.Sources, opts.Categories, opts.CheckPattern
	cfg.normalize(opts, ps.lines)
	cfg.validate(ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	cfg.File = filename
	return &cfg, nil
}

// maxNodes bounds the work of decoding, so that a file abusing YAML aliases
// (a "billion laughs") cannot make loading explode.
const maxNodes = 100_000

// decoder walks a yaml.Node tree into a Config by reflection, which gives
// line numbers, strict keys, ${VAR} expansion and <key>_file secrets, and
// lets it report every problem rather than stop at the first.
type decoder struct {
	opts  LoadOptions
	ps    *problems
	dir   string // directory of the config file, for relative _file paths
	nodes int
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeFile parses data as one YAML document and decodes it into cfg.
func (d *decoder) decodeFile(data []byte, cfg *Config) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.ps.lines[""] = 1 // an empty file: nothing set, validation explains what is missing
			return
		}
		d.syntaxErr(data, err)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.ps.decodeErr(extra.Line, "", "only one YAML document is allowed (found a second \"---\")")
		return
	} else if !errors.Is(err, io.EOF) {
		d.syntaxErr(data, err)
		return
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			d.ps.lines[""] = 1
			return
		}
		root = root.Content[0]
	}
	d.ps.lines[""] = max(root.Line, 1)
	d.decode(root, reflectValue(cfg), "")
}

// syntaxErr records a YAML syntax error. yaml's own "line N" is often the
// line where the enclosing block began (or the one before), so the line
// reported is the first line at which the text, cut there, fails the same
// way.
func (d *decoder) syntaxErr(data []byte, err error) {
	line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineErr.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if l := errorLine(data, msg); l > 0 {
		line = l
	}
	d.ps.decodeErr(max(line, 1), "", "invalid YAML: %s", msg)
}

// maxSearchBytes bounds the input errorLine searches (it parses the text
// about log2(lines) times).
const maxSearchBytes = 1 << 20

// errorLine returns the smallest number of lines of data that fail to parse
// with message msg, or 0.
func errorLine(data []byte, msg string) int {
	if len(data) > maxSearchBytes {
		return 0
	}
	lines := strings.SplitAfter(string(data), "\n")
	fails := func(k int) bool {
		_, m := parseError(strings.Join(lines[:k], ""))
		return m == msg
	}
	if !fails(len(lines)) {
		return 0
	}
	lo, hi := 1, len(lines) // invariant: fails(hi)
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

// parseError parses every document of text and returns the first error's
// line and message ("" when text parses).
func parseError(text string) (line int, msg string) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return 0, ""
		}
		if err != nil {
			if m := yamlLineErr.FindStringSubmatch(err.Error()); m != nil {
				line, _ = strconv.Atoi(m[1])
				return line, m[2]
			}
			return 0, strings.TrimPrefix(err.Error(), "yaml: ")
		}
	}
}
