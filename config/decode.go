package config

import (
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

var (
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[Duration]()
	percentType  = reflect.TypeFor[Percent]()
	sourcesType  = reflect.TypeFor[Sources]()
)

func reflectValue(cfg *Config) reflect.Value { return reflect.ValueOf(cfg).Elem() }

// structField is one YAML key of a struct.
type structField struct {
	key    string
	index  int
	secret bool // a Secret, which may also be given as <key>_file
}

// structInfo lists a struct's YAML keys in declaration order.
type structInfo struct {
	fields []structField
	byKey  map[string]structField
}

var structInfos sync.Map // reflect.Type → *structInfo

func infoOf(t reflect.Type) *structInfo {
	if v, ok := structInfos.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byKey: map[string]structField{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "-" {
			continue
		}
		if key == "" {
			key = strings.ToLower(sf.Name)
		}
		f := structField{key: key, index: i, secret: sf.Type == secretType}
		info.fields = append(info.fields, f)
		info.byKey[key] = f
	}
	v, _ := structInfos.LoadOrStore(t, info)
	return v.(*structInfo)
}

// resolve follows aliases to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// spend counts work against maxNodes and reports whether decoding may go on.
func (d *decoder) spend(n int, line int) bool {
	d.nodes += n
	if d.nodes <= maxNodes {
		return true
	}
	if d.nodes-n <= maxNodes { // report once
		d.ps.decodeErr(line, "", "the file is too large once aliases are expanded (over %d values)", maxNodes)
	}
	return false
}

// decode decodes n into v; path names v in problems.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if n == nil || !d.spend(1, n.Line) {
		return
	}
	switch v.Type() {
	case durationType:
		if text, shown, ok := d.scalar(n, path, "a duration such as 15m or 7d"); ok {
			dur, err := ParseDuration(text)
			if err != nil {
				d.fail(n, path, "invalid duration %s (use e.g. 15m, 1h30m, 7d)", shown)
				return
			}
			v.SetInt(int64(dur))
		}
		return
	case percentType:
		if text, shown, ok := d.scalar(n, path, "a percentage such as 10%"); ok {
			p, err := ParsePercent(text)
			if err != nil {
				d.fail(n, path, "invalid percentage %s (use e.g. 10%% or 0.1)", shown)
				return
			}
			v.SetFloat(float64(p))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Pointer:
		if n.Kind != yaml.MappingNode && !isNull(n) {
			d.fail(n, path, "expected a mapping, got %s", kindName(n))
			return
		}
		// A source that appears in the file is configured, even when its
		// body is empty: validation then says what it lacks.
		if v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(defaultFor(v.Type().Elem()))
			v.Set(p)
		}
		d.decode(n, v.Elem(), path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String:
		if text, _, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(text)
		}
	case reflect.Bool:
		if text, shown, ok := d.scalar(n, path, "true or false"); ok {
			b, valid := parseBool(text)
			if !valid {
				d.fail(n, path, "invalid boolean %s (use true or false)", shown)
				return
			}
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int64:
		if text, shown, ok := d.scalar(n, path, "an integer"); ok {
			i, err := strconv.ParseInt(strings.TrimSpace(text), 0, v.Type().Bits())
			if err != nil {
				d.fail(n, path, "invalid integer %s", shown)
				return
			}
			v.SetInt(i)
		}
	case reflect.Float64:
		if text, shown, ok := d.scalar(n, path, "a number"); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				d.fail(n, path, "invalid number %s", shown)
				return
			}
			v.SetFloat(f)
		}
	default:
		// Only reachable if types.go gains a field of a new kind.
		d.fail(n, path, "cannot decode into %s", v.Type())
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag }

// scalar returns the text of a scalar node with ${VAR} expanded, and the
// node's text as written, quoted, for messages (never the expanded value,
// which may come from a secret). ok is false when the node is null (the
// default stays) or a problem was recorded.
func (d *decoder) scalar(n *yaml.Node, path, want string) (text, shown string, ok bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected %s, got %s", want, kindName(n))
		return "", "", false
	}
	if isNull(n) {
		return "", "", false
	}
	out, unset, err := expandEnv(n.Value, d.opts.LookupEnv)
	if err != nil {
		d.fail(n, path, "%v", err)
		return "", "", false
	}
	if len(unset) > 0 {
		for _, name := range unset {
			d.fail(n, path, "environment variable %s is not set", name)
		}
		return "", "", false
	}
	return out, strconv.Quote(n.Value), true
}

// parseBool accepts YAML 1.2 and 1.1 spellings of booleans.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "y":
		return true, true
	case "false", "no", "off", "n":
		return false, true
	}
	return false, false
}

// decodeSlice decodes a sequence; a list of strings also accepts a single
// scalar, and null empties the list.
func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	et := v.Type().Elem()
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		if et.Kind() != reflect.String {
			d.fail(n, path, "expected a list, got %s", kindName(n))
			return
		}
		if text, _, ok := d.scalar(n, path, "a string"); ok {
			s := reflect.MakeSlice(v.Type(), 1, 1)
			s.Index(0).SetString(text)
			v.Set(s)
		}
		return
	case yaml.SequenceNode:
	default:
		want := "a list"
		if et.Kind() == reflect.String {
			want = "a string or a list of strings"
		}
		d.fail(n, path, "expected %s, got %s", want, kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		ep := indexPath(path, i)
		d.ps.lines[ep] = c.Line
		e := defaultFor(et)
		d.decode(c, e, ep)
		s.Index(i).Set(e)
	}
	v.Set(s)
}

// pair is one key: value of a mapping.
type pair struct {
	key  string
	k, v *yaml.Node
}

// pairs lists a mapping's entries with YAML merge keys (<<) applied:
// explicit keys win over merged ones, and earlier merges over later ones.
// Repeated keys and non-string keys are problems.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	if !d.spend(len(n.Content)/2, n.Line) {
		return nil
	}
	var explicit, merged []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = appendNew(merged, d.mergePairs(v, path))
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.ps.at(k.Line, path, "a key must be a string, not %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.ps.at(k.Line, joinPath(path, k.Value), "key %q is repeated (first set at line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		explicit = append(explicit, pair{key: k.Value, k: k, v: v})
	}
	for _, p := range merged {
		if _, ok := seen[p.key]; !ok {
			explicit = append(explicit, p)
		}
	}
	return explicit
}

// mergePairs returns the entries a merge key brings in.
func (d *decoder) mergePairs(v *yaml.Node, path string) []pair {
	v = resolve(v)
	if v == nil {
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for _, c := range v.Content {
			c = resolve(c)
			if c == nil {
				continue
			}
			if c.Kind == yaml.MappingNode {
				out = appendNew(out, d.pairs(c, path))
				continue
			}
			d.ps.at(c.Line, path, "a merge (<<) takes a mapping or a list of mappings")
		}
		return out
	}
	d.ps.at(v.Line, path, "a merge (<<) takes a mapping or a list of mappings")
	return nil
}

// appendNew appends the pairs of add whose keys dst does not have yet.
func appendNew(dst, add []pair) []pair {
	for _, p := range add {
		dup := false
		for _, q := range dst {
			if q.key == p.key {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, p)
		}
	}
	return dst
}

// decodeStruct decodes a mapping into a struct, strictly: every key must be
// a field, or <secret>_file for a Secret field.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	info := infoOf(v.Type())
	direct := map[string]int{}   // secret key → line, set inline
	fromFile := map[string]int{} // secret key → line, set by <key>_file
	for _, p := range d.pairs(n, path) {
		if f, ok := info.byKey[p.key]; ok {
			fp := joinPath(path, p.key)
			d.ps.lines[fp] = p.k.Line
			d.decode(p.v, v.Field(f.index), fp)
			if f.secret {
				direct[f.key] = p.k.Line
			}
			continue
		}
		if base, ok := strings.CutSuffix(p.key, "_file"); ok {
			if f, ok := info.byKey[base]; ok {
				if f.secret {
					sp, fp := joinPath(path, base), joinPath(path, p.key)
					if _, set := d.ps.lines[sp]; !set {
						d.ps.lines[sp] = p.k.Line
					}
					d.ps.lines[fp] = p.k.Line
					d.readSecretFile(p.v, v.Field(f.index), fp, sp)
					fromFile[f.key] = p.k.Line
					continue
				}
				d.ps.at(p.k.Line, path, "unknown key %q (%q is not a secret, so it cannot be read from a file)", p.key, base)
				continue
			}
		}
		if v.Type() == sourcesType {
			if t, ok := sourceTypeFor(d.opts.Sources, p.key); ok {
				fp := joinPath(path, p.key)
				d.ps.lines[fp] = p.k.Line
				d.decodeRegistered(t, p.v, v, fp)
				continue
			}
		}
		d.unknownKey(info, p, path, v.Type())
	}
	for _, f := range info.fields {
		fl, okf := fromFile[f.key]
		dl, okd := direct[f.key]
		if okf && okd {
			d.ps.decodeErr(max(fl, dl), joinPath(path, f.key), "both %q and %q are set; use one", f.key, f.key+"_file")
		}
	}
}

// unknownKey reports a key the struct does not have, with a suggestion
// when one is close.
func (d *decoder) unknownKey(info *structInfo, p pair, path string, t reflect.Type) {
	best, bestDist := "", 3
	var all [][]string
	for _, f := range info.fields {
		cands := []string{f.key}
		if f.secret {
			cands = append(cands, f.key+"_file")
		}
		all = append(all, cands)
	}
	if t == sourcesType {
		for _, st := range d.opts.Sources {
			all = append(all, []string{st.Name})
		}
	}
	for _, cands := range all {
		for _, c := range cands {
			if dist := levenshtein(p.key, c); dist < bestDist && dist < len(c) {
				best, bestDist = c, dist
			}
		}
	}
	if best != "" {
		d.ps.at(p.k.Line, path, "unknown key %q (did you mean %q?)", p.key, best)
		return
	}
	d.ps.at(p.k.Line, path, "unknown key %q", p.key)
}

// readSecretFile sets v to the contents of the file named by n, without its
// trailing newline. filePath names the <key>_file key, secretPath the secret.
func (d *decoder) readSecretFile(n *yaml.Node, v reflect.Value, filePath, secretPath string) {
	n = resolve(n)
	if n == nil {
		return
	}
	name, _, ok := d.scalar(n, filePath, "a file path")
	if !ok {
		d.ps.bad[secretPath] = true
		return
	}
	if name == "" {
		d.fail(n, filePath, "empty file path")
		d.ps.bad[secretPath] = true
		return
	}
	name = expandHome(name, d.opts.UserHomeDir)
	if !filepath.IsAbs(name) && !strings.HasPrefix(name, "~") {
		name = filepath.Join(d.dir, name)
	}
	data, err := d.opts.ReadFile(name)
	if err != nil {
		d.fail(n, filePath, "cannot read secret: %v", err)
		d.ps.bad[secretPath] = true
		return
	}
	v.SetString(strings.TrimRight(string(data), "\r\n"))
}

// expandHome replaces a leading "~" (alone or before a "/") with the home
// directory. Paths are left alone when the home directory is unknown.
func expandHome(p string, home func() (string, error)) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	h, err := home()
	if err != nil || h == "" {
		return p
	}
	return filepath.Join(h, p[1:])
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// fail records a problem with the value n at path, at the line of its key
// when known (a block value starts on the line after its key).
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	line, ok := d.ps.lines[path]
	if !ok {
		line = n.Line
	}
	d.ps.decodeErr(line, path, format, args...)
}
