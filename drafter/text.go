package drafter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/impact-dev/impact/internal/model"
)

// maxTextRunes bounds a statement's length.
const maxTextRunes = 280

// statement writes a draft's text:
//
//	Moved X off the request path, reducing search API p99 latency from
//	1.8 s to 210 ms (−88%). (acme/search-api#1234)
//
// prs are the credited PRs (earliest first), with the logins of other
// authors whose PRs went live in the same span. The text is one line of at
// most maxTextRunes runes and always contains both formatted numbers.
func statement(ref model.MetricRef, weekly bool, before, after, change float64, prs []model.PRRef, with []string) string {
	a, b := shownPair(before, after, change, ref.Unit, ref.Better)
	verb := "reducing"
	if after > before {
		verb = "increasing"
	}
	name := cleanLine(ref.Name)
	if name == "" {
		name = cleanLine(ref.ID)
	}
	if name == "" {
		name = "the metric"
	}
	name = truncateWords(name, 80)
	result := " from " + a + " to " + b
	if weekly {
		result += " per week"
	}
	if c := FormatChange(change, ref.Better); c != "n/a" {
		result += " (" + c + ")"
	}
	result += "."

	actions := make([]string, len(prs))
	for i, pr := range prs {
		actions[i], _ = PastTense(pr.Title)
	}
	if len(actions) == 0 {
		actions = []string{fallbackVerb + " a change"}
	}

	// Try the fullest form first, then shed detail until the action has
	// room (at least ~40 runes, or all it needs).
	for level := 0; ; level++ {
		maxRefs, maxWith, nameMax := 3, 2, 80
		switch level {
		case 0:
		case 1:
			maxRefs, maxWith, nameMax = 1, 1, 50
		case 2:
			maxRefs, maxWith, nameMax = 1, 0, 30
		default:
			maxRefs, maxWith, nameMax = 0, 0, 20
		}
		withPart := withText(with, maxWith)
		tail := ", " + verb + " " + truncateWords(name, nameMax) + result
		if r := refsText(prs, maxRefs); r != "" {
			tail += " (" + r + ")"
		}
		budget := maxTextRunes - utf8.RuneCountInString(withPart) - utf8.RuneCountInString(tail)
		act := composeActions(actions, budget)
		if need := min(40, utf8.RuneCountInString(act)); budget >= need || level >= 3 {
			if budget < 8 {
				budget = 8
			}
			text := truncateWords(act, budget) + withPart + tail
			if utf8.RuneCountInString(text) > maxTextRunes+20 {
				// Only absurd repo names get here; keep the numbers.
				text = truncateWords(act, 8) + ", " + verb + result
			}
			return text
		}
	}
}

// composeActions joins the actions of the credited PRs: one → itself; two
// → "Moved X and cached Y" when it fits the budget; more → "Moved X (and
// 2 related changes)".
// shownPair is formatPair, with more digits when the rounded values would
// give another change than the one in brackets, which is computed from the
// unrounded values ("1.2k to 3.4k (2.9×)" reads "1.19k to 3.44k (2.9×)").
func shownPair(before, after, change float64, unit, better string) (string, string) {
	a, b := formatPair(before, after, unit)
	for extra := 1; extra <= 2 && !agrees(a, b, change, better); extra++ {
		a, b = formatValue(before, unit, extra), formatValue(after, unit, extra)
	}
	return a, b
}

// agrees reports whether the change between two shown values, read back
// from their digits, formats as change does. Values in different units or
// tiers ("3.2 min", "40 s") are not compared.
func agrees(a, b string, change float64, better string) bool {
	va, ua, ok1 := leadingNumber(a)
	vb, ub, ok2 := leadingNumber(b)
	if !ok1 || !ok2 || ua != ub || va == 0 {
		return true
	}
	return FormatChange((vb-va)/va, better) == FormatChange(change, better)
}

// leadingNumber splits "1,202 req/s" into 1202 and " req/s".
func leadingNumber(s string) (float64, string, bool) {
	s = strings.TrimPrefix(s, "$")
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
		i++
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s[:i], ",", ""), 64)
	return v, s[i:], err == nil
}

func composeActions(actions []string, budget int) string {
	first := actions[0]
	switch n := len(actions); {
	case n == 1:
		return first
	case n == 2:
		second := lowerFirst(actions[1])
		f1, r1, _ := strings.Cut(first, " ")
		f2, r2, _ := strings.Cut(actions[1], " ")
		if f1 == f2 && !particle(r1) && !particle(r2) {
			second = r2 // "Added X and Y"
		}
		if both := first + " and " + second; utf8.RuneCountInString(both) <= budget {
			return both
		}
		return first + " (and 1 related change)"
	default:
		return fmt.Sprintf("%s (and %d related changes)", first, n-1)
	}
}

func particle(rest string) bool {
	w, _, _ := strings.Cut(rest, " ")
	switch w {
	case "up", "back", "out", "down", "off", "in", "over":
		return true
	}
	return false
}

// withText names other authors: " (with @bob)", " (with @bob and @carol)",
// " (with @bob, @carol and 2 others)".
func withText(logins []string, max int) string {
	if len(logins) == 0 {
		return ""
	}
	if max == 0 {
		if len(logins) == 1 {
			return " (with 1 other)"
		}
		return fmt.Sprintf(" (with %d others)", len(logins))
	}
	names := make([]string, 0, min(len(logins), max))
	for _, l := range logins[:min(len(logins), max)] {
		names = append(names, "@"+truncateRunes(cleanLine(strings.TrimPrefix(l, "@")), 39))
	}
	switch rest := len(logins) - len(names); {
	case rest == 0 && len(names) == 1:
		return " (with " + names[0] + ")"
	case rest == 0:
		return " (with " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + ")"
	case rest == 1:
		return " (with " + strings.Join(names, ", ") + " and 1 other)"
	default:
		return fmt.Sprintf(" (with %s and %d others)", strings.Join(names, ", "), rest)
	}
}

// refsText lists PR refs, abbreviating repeats of a repo:
// "acme/search-api#1234, #1240 and 2 more".
func refsText(prs []model.PRRef, max int) string {
	if max <= 0 || len(prs) == 0 {
		return ""
	}
	var b strings.Builder
	prev := ""
	for i, pr := range prs[:min(len(prs), max)] {
		if i > 0 {
			b.WriteString(", ")
		}
		repo := truncateRunes(cleanLine(pr.Repo), 100)
		if repo != prev {
			b.WriteString(repo)
		}
		b.WriteString("#" + strconv.Itoa(pr.Number))
		prev = repo
	}
	if n := len(prs) - max; n > 0 {
		fmt.Fprintf(&b, " and %d more", n)
	}
	return b.String()
}

const timeLayout = "2006-01-02 15:04 UTC"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// humanDur renders a duration for evidence: "7 days", "1 day", "36 h", "45 min".
func humanDur(d time.Duration) string {
	d = absDur(d)
	switch {
	case d >= day && d%day == 0:
		if d == day {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/day)
	case d >= 2*day:
		return strconv.FormatFloat(float64(d)/float64(day), 'f', 1, 64) + " days"
	case d >= time.Hour:
		h := d.Round(time.Hour) / time.Hour
		return fmt.Sprintf("%d h", h)
	default:
		return fmt.Sprintf("%d min", d.Round(time.Minute)/time.Minute)
	}
}

// prDesc names a PR with its author and title for evidence.
func prDesc(p *prInfo) string {
	s := p.key
	if p.pr.Author != "" {
		s += " by @" + truncateRunes(cleanLine(strings.TrimPrefix(p.pr.Author, "@")), 39)
	}
	if t := truncateWords(CleanTitle(p.pr.Title), 80); t != "" {
		s += " (" + t + ")"
	}
	return s
}

// liveDesc says when and how a PR went live.
func liveDesc(p *prInfo) string {
	if !p.live.Equal(p.pr.MergedAt) {
		return "deployed " + fmtTime(p.live) + ", merged " + fmtTime(p.pr.MergedAt)
	}
	return "merged " + fmtTime(p.live)
}

// relative says where a PR went live relative to the shift.
func relative(tau time.Time, p *prInfo) string {
	d := tau.Sub(p.live)
	switch {
	case absDur(d) < 30*time.Minute:
		return "at the time of the shift"
	case d > 0:
		return humanDur(d) + " before the shift"
	default:
		return humanDur(d) + " after the detected start of the shift"
	}
}

// evidence explains a draft in sentences: the numbers and test, the
// timing, what else went live, and what the drafter cannot see.
func (a *analysis) evidence(est shiftEst, m measurement, credited, others []*prInfo, likeliest *prInfo, lo, hi time.Time) []string {
	tau := est.at
	var ev []string
	name := truncateWords(cleanLine(a.ref.Name), 80)
	bs, as := formatPair(m.before, m.after, a.ref.Unit)
	stat, on := "median", "daily medians"
	if a.weekly {
		stat, on = "averaged", "daily counts"
		bs += " per week"
		as += " per week"
	}
	if a.block != day {
		on = "medians of " + humanDur(a.block) + " blocks"
		if a.weekly {
			on = "counts per " + humanDur(a.block) + " block"
		}
	}
	first, last := credited[0], credited[len(credited)-1]
	settle := ""
	if a.p.Settle > 0 {
		settle = " and a " + strings.Replace(humanDur(a.p.Settle), " days", "-day", 1) + " settle"
		settle = strings.Replace(settle, "1 day", "1-day", 1)
	}
	var afterPart string
	if first == last {
		afterPart = fmt.Sprintf("%s over the %s after it went live%s", as, humanDur(m.aw.End.Sub(m.aw.Start)), settle)
	} else {
		afterPart = fmt.Sprintf("%s over the %s after %s, the last credited PR, went live (%s)%s",
			as, humanDur(m.aw.End.Sub(m.aw.Start)), last.key, liveDesc(last), settle)
	}
	test := fmt.Sprintf("Mann–Whitney %s on %d vs %d %s", pIs(m.p), m.nb, m.na, on)
	if a.weekly {
		events := "events"
		if m.ca == 1 {
			events = "event"
		}
		test = fmt.Sprintf("exact Poisson rate test %s on %s vs %s %s", pIs(m.p),
			strconv.FormatFloat(m.cb, 'f', -1, 64), strconv.FormatFloat(m.ca, 'f', -1, 64), events)
		if m.phi > 1.05 {
			test += fmt.Sprintf(" (allowing for weeks %.1f× as variable as a Poisson process)", m.phi)
		}
	}
	ev = append(ev, fmt.Sprintf("%s %s %s over the %s before %s went live (%s) and %s; %s.",
		name, stat, bs, humanDur(m.bw.End.Sub(m.bw.Start)), first.key, liveDesc(first), afterPart, test))

	side := "below"
	if m.after > m.before {
		side = "above"
	}
	mid := formatValue(m.mid, a.ref.Unit, 0)
	if a.weekly {
		mid += " per week"
	}
	closest := credited[0]
	for _, c := range credited {
		if absDur(tau.Sub(c.live)) < absDur(tau.Sub(closest.live)) {
			closest = c
		}
	}
	unit := "days"
	if a.weekly {
		unit = "weeks"
	}
	ev = append(ev, fmt.Sprintf("The detector places the start of the shift at %s (± %s); %s went live %s. %d of %d %s after the settle stayed %s the midpoint (%s).",
		fmtTime(tau), humanDur(est.tol), closest.key, relative(tau, closest), m.held, m.na, unit, side, mid))

	if len(credited) > 1 {
		parts := make([]string, len(credited))
		for i, c := range credited {
			parts[i] = prDesc(c)
		}
		ev = append(ev, "Credited together (one shift): "+strings.Join(parts, "; ")+".")
	}

	if len(others) > 0 {
		parts := make([]string, 0, len(others))
		near := 0
		for i, o := range others {
			if absDur(o.live.Sub(closest.live)) <= est.tol {
				near++
			}
			if i == 5 {
				parts = append(parts, fmt.Sprintf("and %d more", len(others)-5))
				break
			}
			parts = append(parts, prDesc(o)+", "+relative(tau, o))
		}
		ev = append(ev, "Also live in the same span: "+strings.Join(parts, "; ")+".")
		if near > 0 {
			ev = append(ev, fmt.Sprintf("%s went live closest to the shift; other people's changes went live within ± %s of it, so the credit is shared; confidence is medium.", closest.key, humanDur(est.tol)))
		} else {
			ev = append(ev, fmt.Sprintf("%s went live closest to the shift; other people's changes went live earlier, farther than ± %s from it, but within the settle; confidence is medium.", closest.key, humanDur(est.tol)))
		}
	} else {
		where := "any repo"
		if len(a.m.Repos) > 0 {
			where = strings.Join(a.m.Repos, ", ")
		}
		ev = append(ev, fmt.Sprintf("No one else's merged PR to %s went live between %s and %s, the span in which a cause would fall.",
			cleanLine(where), fmtTime(lo), fmtTime(hi)))
	}
	if m.detrended {
		ev = append(ev, fmt.Sprintf("The series also trends (%s a day, from the changes the same windows measure elsewhere in its history): both medians were moved along the trend to the go-live, so the figures are the step there (the windows' own medians were %s and %s).",
			signedPct(math.Expm1(m.step.perDayLog)), formatValue(m.rawBefore, a.ref.Unit, 0), formatValue(m.rawAfter, a.ref.Unit, 0)))
	}
	ev = append(ev, "Not visible to the drafter, and could also explain it: traffic changes, incidents, configuration or infrastructure changes, and changes to services outside the tracked repos.")
	return ev
}
