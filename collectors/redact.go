package collectors

import (
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces a secret in vendor text.
const Redacted = "<redacted>"

// DefaultMaxErrorText is the longest vendor text (an error message, an
// error body) kept in an error, in runes; longer text is cut with "…".
const DefaultMaxErrorText = 300

// minSecretLen: shorter values are not redacted as secrets (they would
// mask ordinary words); config values that short are not real credentials.
const minSecretLen = 6

// credentialPattern matches what looks like a credential in vendor text,
// whatever its value: an Authorization header or its scheme (Bearer,
// Basic, PagerDuty's Token token=), Datadog's key headers, and
// key/token/password/secret fields of JSON, query strings and headers.
var credentialPattern = regexp.MustCompile(`(?i)` +
	`((?:authorization|proxy-authorization)["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token|digest)\s+)?(?:token=)?[^\s"',;}&]+` +
	`|\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}` +
	`|\b(token\s+token=)[^\s"',;}&]+` +
	`|((?:dd-api-key|dd-application-key|x-api-key|api[_-]?key|app(?:lication)?[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?token|token|secret|password|passwd|cookie|set-cookie)["']?\s*[:=]\s*["']?)[^\s"',;}&]+`)

// Redact returns s with every secret value in secrets, and everything that
// looks like a credential (an Authorization header, a Bearer token, an
// api_key=… field), replaced by "<redacted>". It is applied to every
// vendor text before it becomes an error, a log line or a stored status:
// a vendor may echo the request's headers in its answer.
func Redact(s string, secrets ...string) string {
	for _, sec := range sortedSecrets(secrets) {
		s = strings.ReplaceAll(s, sec, Redacted)
	}
	return credentialPattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := credentialPattern.FindStringSubmatch(m)
		for _, prefix := range sub[1:] {
			if prefix != "" {
				return prefix + Redacted
			}
		}
		return Redacted
	})
}

// sortedSecrets drops values too short to be secrets and puts longer ones
// first, so a secret containing another is replaced whole.
func sortedSecrets(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// OneLine folds whitespace (newlines included) to single spaces and cuts
// s to at most n runes, ending it with "…" when cut. n <= 0 means
// DefaultMaxErrorText.
func OneLine(s string, n int) string {
	if n <= 0 {
		n = DefaultMaxErrorText
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

// VendorText is how vendor-supplied text enters an error or a log: secrets
// and credential-looking fields redacted, on one line, at most
// DefaultMaxErrorText runes.
func VendorText(s string, secrets ...string) string {
	return OneLine(Redact(s, secrets...), DefaultMaxErrorText)
}
