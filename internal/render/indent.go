package render

import (
	"bytes"
	"slices"
)

// appendIndent appends to dst the compact JSON src as json.Indent would
// indent it with prefix and indent: each element on a line of its own,
// prefix then indent repeated once per level before it, a space after
// each colon, empty objects and arrays kept as {} and [].
//
// src must be valid JSON with no space outside strings, as json.Marshal
// writes it: nothing is checked, only strings (and their escapes) and
// brackets are followed. json.Indent checks every byte with its scanner,
// which made it most of an export's CPU. FuzzAppendIndent asserts that
// both agree.
func appendIndent(dst, src []byte, prefix, indent string) []byte {
	// Indenting about doubles a draft.
	dst = slices.Grow(dst, 2*len(src))
	// nl is a newline, the prefix and as many indents as the deepest
	// level so far: a line's start is a prefix of it.
	nl := append([]byte("\n"), prefix...)
	depth := 0
	newline := func(dst []byte) []byte {
		for n := 1 + len(prefix) + depth*len(indent); len(nl) < n; {
			nl = append(nl, indent...)
		}
		return append(dst, nl[:1+len(prefix)+depth*len(indent)]...)
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			// Copy the string whole: up to the first quote with an even
			// number of backslashes before it.
			j := i + 1
			for {
				k := bytes.IndexByte(src[j:], '"')
				if k < 0 {
					j = len(src) - 1
					break
				}
				j += k
				n := 0
				for p := j - 1; p > i && src[p] == '\\'; p-- {
					n++
				}
				if n%2 == 0 {
					break
				}
				j++
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				// Empty: kept on one line.
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			dst = newline(dst)
		case '}', ']':
			depth--
			dst = newline(dst)
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst)
		case ':':
			dst = append(dst, c, ' ')
		default:
			// A number or a literal: copied up to the next punctuation.
			j := i + 1
			for j < len(src) {
				if b := src[j]; b == ',' || b == '}' || b == ']' || b == ':' {
					break
				}
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		}
	}
	return dst
}
