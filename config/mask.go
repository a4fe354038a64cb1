package config

import (
	"fmt"
	"io"
	"strconv"
)

// Secrets must not leak through fmt, whatever the verb. Secret's String and
// GoString cover %v, %s and %#v, but fmt prints a pointer given a verb it
// does not fit (%s, %q, %d on a *github.Config inside another struct) as
// "%!s(*T=&{…})" with every method switched off, which would print the
// secrets inside raw. So Secret formats itself for every verb, and each
// struct that holds a secret, directly or below, formats its pointer
// itself: the same output as fmt's, with the methods kept on.

// Format prints the mask for every verb.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// FormatPointer is what a source's config type that holds a secret
// implements Format with (on its pointer), so fmt never prints the secret
// raw: func (c *Config) Format(f fmt.State, verb rune) { config.FormatPointer(f, verb, c) }.
func FormatPointer[T any](f fmt.State, verb rune, p *T) { formatPtr(f, verb, p) }

// formatPtr prints p as fmt prints a pointer to a struct, "&{…}", except
// that the fields keep their own formatting (and so their masking).
func formatPtr[T any](f fmt.State, verb rune, p *T) {
	switch {
	case verb == 'p':
		fmt.Fprintf(f, fmt.FormatString(f, verb), p) // %p is never passed to Format again
	case p == nil && verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "(%T)(nil)", p)
	case p == nil:
		_, _ = io.WriteString(f, "<nil>")
	default:
		// T itself has no Format method (only *T has), so this is fmt's
		// own struct printing.
		_, _ = io.WriteString(f, "&")
		fmt.Fprintf(f, fmt.FormatString(f, verb), *p)
	}
}

// Format prints the config like fmt would, with secrets masked.
func (c *Config) Format(f fmt.State, verb rune) { formatPtr(f, verb, c) }

// Format prints s like fmt would, with secrets masked.
func (s *ServerConfig) Format(f fmt.State, verb rune) { formatPtr(f, verb, s) }

// Format prints s like fmt would, with secrets masked.
func (s *Sources) Format(f fmt.State, verb rune) { formatPtr(f, verb, s) }

// Format prints d like fmt would, with secrets masked.
func (d *DigestConfig) Format(f fmt.State, verb rune) { formatPtr(f, verb, d) }

// Format prints s like fmt would, with secrets masked.
func (s *SMTPConfig) Format(f fmt.State, verb rune) { formatPtr(f, verb, s) }
