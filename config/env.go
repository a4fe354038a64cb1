package config

import (
	"fmt"
	"strings"
)

// expandEnv replaces ${VAR} in s with the variable's value. ${VAR:-default}
// uses default when VAR is unset or empty, and $${ is a literal "${". Any
// other "$" is kept as is. unset lists variables that were referenced
// without a default and are not set; err reports a malformed reference.
func expandEnv(s string, lookup func(string) (string, bool)) (out string, unset []string, err error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", nil, fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
		}
		expr := s[i+2 : i+2+end]
		i += 2 + end + 1
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", nil, fmt.Errorf("invalid variable reference ${%s}: want ${NAME} or ${NAME:-default}", name)
		}
		val, ok := lookup(name)
		switch {
		case hasDef && (!ok || val == ""):
			val = def
		case !ok:
			unset = append(unset, name)
		}
		b.WriteString(val)
	}
	return b.String(), unset, nil
}

// validEnvName reports whether s is a shell-style variable name.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
