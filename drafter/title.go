package drafter

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fallbackVerb starts the action of a title that cannot be turned into one.
const fallbackVerb = "Shipped"

// PastTense turns a PR title into a past-tense action for a statement:
//
//	"feat(search): move ES query construction off the request path (#1234)"
//	  → "Moved ES query construction off the request path", true
//
// It strips conventional-commit prefixes ("feat:", "fix(search)!:"), area
// prefixes ("search-api: "), ticket ids ("[JIRA-123]", "ABC-42:", "#123"),
// trailing PR refs ("(#123)", "closes #12"), emoji and :shortcodes:, and
// trailing punctuation. Imperative ("Add"), third-person ("Adds") and gerund
// ("Adding") forms become past tense ("Added"); past forms are kept;
// "Faster X" becomes "Made X faster" and noun phrases with a clear head
// become actions ("Search latency improvements" → "Improved search
// latency", "Fix for X" → "Fixed X", "HTTP/2 support" → "Added HTTP/2
// support"). A noun phrase after "fix:" or "feat:" becomes "Fixed …" or
// "Added …".
//
// When the title cannot be turned into an action ("WIP", "Release 1.2.3", a
// bare noun phrase), it returns "Shipped <cleaned title>" and ok=false; an
// empty title gives "Shipped a change". The result is one line of valid
// UTF-8 without control characters; it is not truncated.
func PastTense(title string) (action string, ok bool) {
	clean, ctype := cleanTitle(title)
	if clean == "" {
		return fallbackVerb + " a change", false
	}
	if a, ok := pastAction(clean, ctype); ok {
		// The statement carries the measured figure; a claim from the
		// title ("by 80%") would contradict it.
		if c := reClaim.ReplaceAllString(a, ""); strings.ContainsRune(c, ' ') {
			a = c
		}
		return upperFirst(a), true
	}
	return fallbackVerb + " " + lowerFirstWord(clean), false
}

// CleanTitle returns a PR title without prefixes, ticket ids, PR refs and
// emoji, on one line — the form evidence and fallbacks quote.
func CleanTitle(title string) string {
	c, _ := cleanTitle(title)
	return c
}

var (
	reShortcode   = regexp.MustCompile(`(^|\s):[a-z0-9_+\-]{1,40}:(\s|$)`)
	reLeadBracket = regexp.MustCompile(`^\[[^\]]{0,40}\]\s*[:\-|]?\s*`)
	reLeadParenTk = regexp.MustCompile(`^\((?:[A-Za-z][A-Za-z0-9]*-\d+|#\d+)\)\s*[:\-|]?\s*`)
	reLeadHash    = regexp.MustCompile(`^#\d+\b\s*[:\-|]?\s*`)
	reLeadTicketP = regexp.MustCompile(`^[A-Z][A-Z0-9]+-\d+\s*(?:[:|]|\s-|\s–|\s—)\s*`)
	reLeadTicketS = regexp.MustCompile(`^[A-Z][A-Z0-9]+-\d{2,}\s+`)
	reConvention  = regexp.MustCompile(`^([A-Za-z][\w./-]{0,30})(\([^)]{0,40}\))?!?:\s+`)
	reLeadWIP     = regexp.MustCompile(`(?i)^(?:wip|draft|do not merge|dnm)\b\s*[:\-|]?\s+`)
	reTrailRefs   = regexp.MustCompile(`\s*[(\[]\s*#\d+(?:\s*,\s*#\d+)*\s*[)\]]$`)
	reTrailTicket = regexp.MustCompile(`\s*(?:[(\[][A-Z][A-Z0-9]+-\d+[)\]]|\s[-|–—:]\s*[A-Z][A-Z0-9]+-\d+)$`)
	reTrailCloses = regexp.MustCompile(`(?i)[,;]?\s*\(?\b(?:closes|closed|fixes|fixed|resolves|resolved|refs|ref|see|close|resolve|part of)\b:?\s+(?:[\w.-]+/[\w.-]+)?#\d+\)?$`)
	reTrailHash   = regexp.MustCompile(`\s+#\d+$`)
	reTrailTag    = regexp.MustCompile(`\s*\[[^\]]{1,20}\]$`)
	reClaim       = regexp.MustCompile(`(?i)\s+by\s+(?:~|about\s+|over\s+|up\s+to\s+)?\d+(?:\.\d+)?\s*(?:%|x|×|times)(?:\s+faster|\s+slower)?`)
	reVersion     = regexp.MustCompile(`^[vV]?\d+(?:\.\d+)+(?:[-+.][\w.]+)?$`)
)

// cleanTitle sanitises a title and strips decorations. ctype is the
// lower-cased conventional-commit type, if any ("fix", "feat").
func cleanTitle(title string) (clean, ctype string) {
	s := cleanLine(title)
	s = stripEmoji(s)
	for i := 0; i < 8; i++ {
		prev := s
		s = reShortcode.ReplaceAllString(s, " ")
		s = strings.TrimSpace(s)
		for _, re := range []*regexp.Regexp{reLeadBracket, reLeadParenTk, reLeadHash, reLeadTicketP, reLeadTicketS, reLeadWIP} {
			if loc := re.FindStringIndex(s); loc != nil && loc[1] < len(s) {
				s = s[loc[1]:]
			}
		}
		if m := reConvention.FindStringSubmatchIndex(s); m != nil && m[1] < len(s) {
			if ctype == "" {
				ctype = strings.ToLower(s[m[2]:m[3]])
			}
			s = s[m[1]:]
		}
		for _, re := range []*regexp.Regexp{reTrailRefs, reTrailTicket, reTrailCloses, reTrailHash, reTrailTag} {
			// Keep a ref that is the title's object ("Fix #123").
			if loc := re.FindStringIndex(s); loc != nil && loc[0] > 0 && strings.ContainsRune(strings.TrimSpace(s[:loc[0]]), ' ') {
				s = s[:loc[0]]
			}
		}
		s = strings.TrimRightFunc(s, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(".,;:!-–—|", r)
		})
		s = strings.TrimLeftFunc(s, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—|", r)
		})
		s = unquote(s)
		if s == prev {
			break
		}
	}
	return s, ctype
}

// unquote removes quotes around the whole title.
func unquote(s string) string {
	for _, q := range [][2]string{{`"`, `"`}, {"'", "'"}, {"`", "`"}, {"“", "”"}} {
		if len(s) > 2 && strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) &&
			!strings.Contains(s[len(q[0]):len(s)-len(q[1])], q[0]) {
			return strings.TrimSpace(s[len(q[0]) : len(s)-len(q[1])])
		}
	}
	return s
}

// cleanLine makes untrusted text one line of valid UTF-8: invalid bytes
// dropped, control and format characters (bidi overrides, zero-width
// spaces) removed, whitespace collapsed.
func cleanLine(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r),
			r >= 0xFFF0 && r <= 0xFFFF: // specials, including U+FFFD
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// stripEmoji removes emoji and their modifiers.
func stripEmoji(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.Is(unicode.So, r) && r != '©' && r != '®' && r != '™' && r != '°',
			r >= 0xFE00 && r <= 0xFE0F,   // variation selectors
			r >= 0x1F3FB && r <= 0x1F3FF, // skin tones
			r >= 0xE0000 && r <= 0xE007F, // tags
			r == 0x20E3:                  // keycap
			continue
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// pastAction turns a cleaned title into a past-tense action (without
// capitalising it) or reports that it cannot.
func pastAction(clean, ctype string) (string, bool) {
	words := strings.Fields(clean)
	if len(words) < 2 || isNonAction(words) {
		return "", false
	}
	first := strings.ToLower(words[0])

	// "Don't retry on 4xx" → "Stopped retrying on 4xx".
	if neg, n := negation(words); neg && n < len(words) {
		if base, ok := baseForm(strings.ToLower(words[n])); ok {
			return joinWords("Stopped", gerund(base), strings.Join(words[n+1:], " ")), true
		}
	}

	// "Fix for X" → "Fixed X"; "Support for X" → "Added support for X".
	if lead, ok := nounLeads[first]; ok && len(words) > 2 {
		if prep := strings.ToLower(words[1]); wordSet(lead.preps)[prep] {
			if lead.keep {
				return joinWords(lead.action, strings.ToLower(words[0]), strings.Join(words[1:], " ")), true
			}
			return joinWords(lead.action, strings.Join(words[2:], " ")), true
		}
	}

	form, base := verbForm(first)
	clear := form != "" && !ambiguous[base] && form != "guess" && form != "guess-past"

	if clear {
		return inflect(words, form, base), true
	}
	// Noun phrase with a known head: "Search latency improvements".
	if a, ok := nounPhrase(words); ok {
		return a, true
	}
	if form != "" {
		if form == "gerund" && len(words) > 1 && gerundNounSet[strings.ToLower(words[1])] {
			return "", false
		}
		return inflect(words, form, base), true
	}
	// "Faster search via caching" → "Made search faster via caching".
	if comparSet[first] {
		obj := words[1:]
		cut := len(obj)
		for i, w := range obj {
			if i > 0 && prepSet[strings.ToLower(w)] {
				cut = i
				break
			}
		}
		return joinWords("Made", lowerFirstWord(strings.Join(obj[:cut], " ")), first, strings.Join(obj[cut:], " ")), true
	}
	// A noun phrase after a conventional-commit type.
	switch ctype {
	case "fix", "hotfix", "bugfix":
		return joinWords("Fixed", lowerFirstWord(clean)), true
	case "feat", "feature":
		return joinWords("Added", lowerFirstWord(clean)), true
	case "revert":
		return joinWords("Reverted", clean), true
	case "refactor":
		return joinWords("Refactored", lowerFirstWord(clean)), true
	}
	return "", false
}

// isNonAction reports titles that name no action: versions, releases and
// merge commits.
func isNonAction(words []string) bool {
	first := strings.ToLower(words[0])
	if reVersion.MatchString(words[0]) {
		return true
	}
	if (first == "release" || first == "version" || first == "prepare" || first == "bump") && len(words) <= 3 {
		last := words[len(words)-1]
		if reVersion.MatchString(last) && (first == "release" || first == "version" || len(words) == 2) {
			return true
		}
	}
	if first == "merge" && len(words) > 1 {
		switch strings.ToLower(words[1]) {
		case "branch", "pull", "remote-tracking", "main", "master", "develop":
			return true
		}
	}
	return false
}

// negation recognises "Don't X", "Do not X", "Never X" and returns the index
// of the verb.
func negation(words []string) (bool, int) {
	w := strings.ToLower(strings.ReplaceAll(words[0], "’", "'"))
	switch {
	case w == "don't" || w == "dont" || w == "never":
		return true, 1
	case w == "do" && len(words) > 2 && strings.EqualFold(words[1], "not"):
		return true, 2
	}
	return false, 0
}

// verbForm classifies a lower-case word: "base", "past", "gerund", "third",
// "guess" (an -ize/-ify verb not in the list, or an -ed word that looks
// past), or "" when it is not a verb. base is the base form.
func verbForm(w string) (form, base string) {
	if pre, tail, ok := splitHyphen(w); ok {
		f, b := verbForm(tail)
		if f != "" {
			return f, pre + b
		}
		return "", ""
	}
	if verbs[w] || irregular[w] != "" {
		return "base", w
	}
	if irregularPast[w] {
		for b, p := range irregular {
			if p == w {
				return "past", b
			}
		}
	}
	if strings.HasSuffix(w, "ed") && len(w) > 3 {
		for _, b := range pastBases(w) {
			if verbs[b] {
				return "past", b
			}
		}
	}
	if strings.HasSuffix(w, "ing") && len(w) > 4 {
		for _, b := range gerundBases(w) {
			if verbs[b] || irregular[b] != "" {
				return "gerund", b
			}
		}
	}
	if strings.HasSuffix(w, "s") && len(w) > 2 && !strings.HasSuffix(w, "ss") {
		for _, b := range thirdBases(w) {
			if verbs[b] || irregular[b] != "" {
				return "third", b
			}
		}
	}
	// Unlisted verbs: -ize/-ise/-ify, and -ed words that look past.
	if len(w) >= 6 && isLetters(w) {
		for _, suf := range []string{"ize", "ise", "ify"} {
			if strings.HasSuffix(w, suf) && !notVerbs[w] {
				return "guess", w
			}
		}
		if strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed") && !notVerbs[w] {
			return "guess-past", w
		}
	}
	return "", ""
}

var notVerbs = wordSet(`enterprise promise premise expertise exercise franchise otherwise likewise clockwise
concise precise compromise merchandise advertise spotify shopify embed unused unrelated unneeded`)

func isLetters(w string) bool {
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// splitHyphen splits "re-enable" into "re-" and "enable".
func splitHyphen(w string) (string, string, bool) {
	i := strings.LastIndexByte(w, '-')
	if i <= 0 || i == len(w)-1 || verbs[w] {
		return "", "", false
	}
	return w[:i+1], w[i+1:], true
}

func pastBases(w string) []string {
	s := w[:len(w)-2]
	out := []string{w[:len(w)-1], s}
	if strings.HasSuffix(w, "ied") {
		out = append(out, w[:len(w)-3]+"y")
	}
	if n := len(s); n >= 2 && s[n-1] == s[n-2] {
		out = append(out, s[:n-1])
	}
	if strings.HasSuffix(s, "ck") {
		out = append(out, s[:len(s)-1])
	}
	return out
}

func gerundBases(w string) []string {
	s := w[:len(w)-3]
	out := []string{s, s + "e"}
	if n := len(s); n >= 2 && s[n-1] == s[n-2] {
		out = append(out, s[:n-1])
	}
	if strings.HasSuffix(s, "y") {
		out = append(out, s[:len(s)-1]+"ie")
	}
	if strings.HasSuffix(s, "ck") {
		out = append(out, s[:len(s)-1])
	}
	return out
}

func thirdBases(w string) []string {
	out := []string{w[:len(w)-1]}
	if strings.HasSuffix(w, "es") {
		out = append(out, w[:len(w)-2])
	}
	if strings.HasSuffix(w, "ies") {
		out = append(out, w[:len(w)-3]+"y")
	}
	return out
}

// baseForm returns the base form of a verb in any form.
func baseForm(w string) (string, bool) {
	f, b := verbForm(w)
	if f == "" || f == "guess-past" {
		return "", false
	}
	return b, true
}

// inflect rewrites the title's first word to past tense and, for
// coordinated verbs ("Move X and cache Y"), the later ones too.
func inflect(words []string, form, base string) string {
	out := make([]string, len(words))
	copy(out, words)
	switch form {
	case "past", "guess-past":
		out[0] = strings.ToLower(words[0])
	default:
		out[0] = past(base)
	}
	for i := 1; i+1 < len(out); i++ {
		w := strings.ToLower(out[i])
		coord := w == "and" || w == "&" || strings.HasSuffix(out[i-1], ",")
		if !coord {
			continue
		}
		j := i
		if w == "and" || w == "&" {
			j = i + 1
		}
		if j >= len(out) || j+1 >= len(out) {
			continue // a verb needs an object after it
		}
		v := strings.ToLower(out[j])
		if !isLetters(strings.ReplaceAll(v, "-", "")) {
			continue
		}
		if f, _ := verbForm(v); f != "base" {
			continue
		}
		if next := strings.ToLower(out[j+1]); ambiguous[v] && !determiners[next] &&
			(!(strings.HasSuffix(next, "s") && !strings.HasSuffix(next, "ss")) || compoundNouns[v+"-"+next]) {
			continue // "and index corruption", "and build outputs": a noun, not a verb
		}
		out[j] = past(v)
	}
	return strings.Join(out, " ")
}

// past returns the past tense of a base-form verb (lower case).
func past(base string) string {
	if pre, tail, ok := splitHyphen(base); ok {
		return pre + past(tail)
	}
	if p, ok := irregular[base]; ok {
		return p
	}
	n := len(base)
	switch {
	case n == 0:
		return base
	case strings.HasSuffix(base, "e"):
		return base + "d"
	case strings.HasSuffix(base, "y") && n > 1 && !isVowel(base[n-2]):
		return base[:n-1] + "ied"
	case doubles(base):
		return base + base[n-1:] + "ed"
	}
	return base + "ed"
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

// doubles reports whether the final consonant doubles before -ed: a
// one-syllable consonant–vowel–consonant ending ("drop", "ship"), also
// after a prefix ("unpin", "remap", "debug").
func doubles(w string) bool {
	for _, pre := range []string{"under", "over", "out", "pre", "sub", "mis", "dis", "un", "re", "de", "up"} {
		if t := strings.TrimPrefix(w, pre); len(t) < len(w) && len(t) >= 3 && verbs[t] && cvc(t) && syllables(t) == 1 {
			return true
		}
	}
	return cvc(w) && syllables(w) == 1
}

func cvc(w string) bool {
	n := len(w)
	if n < 3 {
		return false
	}
	a, b, c := w[n-3], w[n-2], w[n-1]
	return !isVowel(a) && isVowel(b) && !isVowel(c) && strings.IndexByte("wxy", c) < 0 && !(a == 'q' && b == 'u')
}

func syllables(w string) int {
	n, in := 0, false
	for i := 0; i < len(w); i++ {
		v := isVowel(w[i]) || (w[i] == 'y' && i > 0)
		if v && !in {
			n++
		}
		in = v
	}
	return n
}

// gerund returns the -ing form of a base-form verb.
func gerund(base string) string {
	n := len(base)
	switch {
	case strings.HasSuffix(base, "ie"):
		return base[:n-2] + "ying"
	case strings.HasSuffix(base, "ee") || strings.HasSuffix(base, "ye") || strings.HasSuffix(base, "oe"):
		return base + "ing"
	case strings.HasSuffix(base, "e") && n > 2:
		return base[:n-1] + "ing"
	case base == "commit" || base == "submit" || base == "emit" || base == "omit" || base == "control" || base == "format":
		return base + base[n-1:] + "ing"
	case doubles(base):
		return base + base[n-1:] + "ing"
	}
	return base + "ing"
}

// nounPhrase inverts "X improvements" → "Improved X".
func nounPhrase(words []string) (string, bool) {
	last := strings.ToLower(trimPunct(words[len(words)-1]))
	action, ok := nounHeads[last]
	if !ok || len(words) < 2 {
		return "", false
	}
	obj := words[:len(words)-1]
	if stopLeadSet[strings.ToLower(obj[0])] {
		return "", false
	}
	if last == "support" {
		return joinWords(action, lowerFirstWord(strings.Join(words, " "))), true
	}
	return joinWords(action, lowerFirstWord(strings.Join(obj, " "))), true
}

func trimPunct(w string) string {
	return strings.TrimFunc(w, func(r rune) bool { return unicode.IsPunct(r) && r != '-' })
}

func joinWords(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return b.String()
}

// upperFirst capitalises the first letter.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// lowerFirst lower-cases the first letter (of words we generated).
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// lowerFirstWord lower-cases a plain capitalised first word ("Search" →
// "search") but keeps acronyms, mixed case and known proper nouns
// ("API", "GraphQL", "Redis").
func lowerFirstWord(s string) string {
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		end = len(s)
	}
	w := s[:end]
	r, n := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) || n == len(w) {
		return s
	}
	for _, c := range w[n:] {
		if !unicode.IsLower(c) {
			return s
		}
	}
	if properSet[strings.ToLower(w)] {
		return s
	}
	return lowerFirst(s)
}

// truncateRunes cuts s to at most n runes, ending in "…" when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	return string([]rune(s)[:n-1]) + "…"
}

// truncateWords cuts s to at most n runes on a word boundary, ending in
// "…" when cut.
func truncateWords(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 2 {
		return "…"
	}
	rs := []rune(s)[:n-1]
	cut := len(rs)
	for i := len(rs) - 1; i > n/2; i-- {
		if rs[i] == ' ' {
			cut = i
			break
		}
	}
	out := strings.TrimRightFunc(string(rs[:cut]), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' && r != '"'
	})
	for _, dangling := range []string{" and", " or", " with", " to", " the", " a", " of", " for", " in", " on"} {
		if strings.HasSuffix(strings.ToLower(out), dangling) && len(out) > len(dangling)+8 {
			out = out[:len(out)-len(dangling)]
			break
		}
	}
	return out + "…"
}
