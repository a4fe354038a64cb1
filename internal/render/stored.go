package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// exportCompact turns src, exactly what json.Marshal writes for a
// model.Draft, into what the export encodes for the same draft before it
// indents it — json.Encoder with HTML escaping off, of Drafts' copy of it —
// without decoding it, and appends that to dst. It also returns the
// draft's category. The two encodings differ in two ways only:
//
//   - json.Marshal escapes <, > and & in strings as \u003c, \u003e and
//     \u0026; the export writes them as they are. json.Marshal writes no
//     other escape with those digits (a backslash is \\), so each such
//     escape in a string is one of those characters;
//   - json.Marshal writes each byte of a string that is not UTF-8 as
//     \ufffd; decoded, that is the rune U+FFFD, which an encoder writes as
//     it is (json.Marshal writes the rune itself as it is too, so \ufffd
//     is only ever such a byte);
//   - Drafts gives nil prs, others and evidence as empty lists: the draft's
//     own "prs": null is "prs": [].
//
// Anything else (a different field order, a field left over, another
// Go's encoding) is the caller's to rule out: store.Store.CanonicalDrafts.
// TestExportCompact and FuzzExportCompact hold it to the decoding path.
func exportCompact(dst, src []byte) ([]byte, string, error) {
	if len(src) < 2 || src[0] != '{' {
		return dst, "", errors.New("draft: not a JSON object")
	}
	var (
		depth     int
		expectKey bool
		key       []byte // the draft's field whose value is being read
		category  string
	)
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '"':
			start := len(dst)
			j, q := i+1, -1 // q: the first quote at or after j
			dst = append(dst, '"')
			for {
				if q < j {
					k := bytes.IndexByte(src[j:], '"')
					if k < 0 {
						return dst, "", errors.New("draft: a string does not end")
					}
					q = j + k
				}
				b := bytes.IndexByte(src[j:q], '\\')
				if b < 0 {
					dst = append(dst, src[j:q+1]...)
					j = q + 1
					break
				}
				// An escape: copied as it is but for \u003c, \u003e,
				// \u0026 and \ufffd.
				dst = append(dst, src[j:j+b]...)
				j += b
				if j+1 >= len(src) {
					return dst, "", errors.New("draft: a string ends in a backslash")
				}
				if j+6 <= len(src) && src[j+1] == 'u' {
					if ch := exportUnescape(src[j+2 : j+6]); ch != "" {
						dst = append(dst, ch...)
						j += 6
						continue
					}
				}
				dst = append(dst, src[j], src[j+1])
				j += 2
			}
			str := dst[start:]
			switch {
			case depth == 1 && expectKey:
				key, expectKey = src[i+1:j-1], false
			case depth == 1 && string(key) == "category":
				if bytes.IndexByte(str, '\\') < 0 {
					category = string(str[1 : len(str)-1])
				} else if err := json.Unmarshal(str, &category); err != nil {
					return dst, "", fmt.Errorf("draft: category: %w", err)
				}
			}
			i = j
		case '{', '[':
			depth++
			expectKey = c == '{' && depth == 1
			dst = append(dst, c)
			i++
		case '}', ']':
			depth--
			dst = append(dst, c)
			i++
		case ',':
			expectKey = depth == 1
			dst = append(dst, c)
			i++
		case ':':
			dst = append(dst, c)
			i++
		default:
			// A number or a literal: up to the next punctuation.
			j := i + 1
			for j < len(src) {
				if b := src[j]; b == ',' || b == '}' || b == ']' || b == ':' {
					break
				}
				j++
			}
			if depth == 1 && string(src[i:j]) == "null" {
				switch string(key) {
				case "prs", "others", "evidence":
					dst = append(dst, '[', ']')
					i = j
					continue
				}
			}
			dst = append(dst, src[i:j]...)
			i = j
		}
		if depth < 0 || depth == 0 && i < len(src) {
			return dst, "", errors.New("draft: not one JSON object")
		}
	}
	if depth != 0 {
		return dst, "", errors.New("draft: the object does not end")
	}
	return dst, category, nil
}

// exportUnescape is what the escape \uXXXX (XXXX being hex) that json.Marshal
// wrote stands for in the export, or "" when the export writes the escape
// too.
func exportUnescape(hex []byte) string {
	switch string(hex) {
	case "003c":
		return "<"
	case "003e":
		return ">"
	case "0026":
		return "&"
	case "fffd":
		return "\uFFFD"
	}
	return ""
}
