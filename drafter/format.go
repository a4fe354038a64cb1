package drafter

import (
	"math"
	"strconv"
	"strings"
)

// minus is the sign used for negative numbers and decreases (U+2212).
const minus = "\u2212"

// FormatValue renders v, a value in unit, the way a statement shows it:
// 2–3 significant figures (≥ 10 → whole numbers, 1–10 → one decimal,
// below 1 → two significant figures) and units normalised:
//
//	ms, s, min, h  one time scale picked by size: 420 µs, 210 ms, 1.8 s,
//	               2.1 min (from 90 s), 1.5 h (from 90 min), 2.5 days (from 48 h)
//	percent        0.42%, 4.2%, 12%, 99.2% (one decimal from 90% to 100%)
//	rps            850 req/s, 1.2k req/s, 3.4M req/s
//	bytes          512 B, 512 KiB, 1.5 GiB (binary prefixes)
//	usd            $4.20, $1,240, $12k, $1.2M
//	count          14, 1,240, 12k
//
// Any other unit is printed after the number. NaN prints "n/a".
func FormatValue(v float64, unit string) string { return formatValue(v, unit, 0) }

// FormatChange renders the one relative figure of a statement: "−88%" for a
// decrease (U+2212 minus), "+45%" for an increase, and "6.8×" when a
// better=higher metric at least doubled.
func FormatChange(change float64, better string) string {
	if math.IsNaN(change) || math.IsInf(change, 0) {
		return "n/a"
	}
	if change >= 1 && strings.EqualFold(better, "higher") {
		return num(1+change, 0) + "×"
	}
	pct := change * 100
	sign := "+"
	if pct < 0 {
		sign = minus
		pct = -pct
	}
	var s string
	switch {
	case pct == 0:
		return "0%"
	case pct >= 99.5 && pct < 100 && change < 0:
		// Never round a large decrease to −100%: that would claim zero.
		s = strconv.FormatFloat(math.Min(pct, 99.9), 'f', 1, 64)
	case pct >= 1:
		s = strconv.FormatFloat(math.Round(pct), 'f', 0, 64)
		if pct >= 1e6 {
			s = strconv.FormatFloat(pct, 'g', 2, 64)
		}
	default:
		s = num(pct, 0)
	}
	return sign + s + "%"
}

// formatPair formats before and after with the same rules, adding precision
// until the two differ (they always do when the change is at least
// min_change, but a small min_change could round both to the same figure).
func formatPair(before, after float64, unit string) (string, string) {
	a, b := formatValue(before, unit, 0), formatValue(after, unit, 0)
	for extra := 1; a == b && before != after && extra <= 6; extra++ {
		a, b = formatValue(before, unit, extra), formatValue(after, unit, extra)
	}
	return a, b
}

// zeroValue is 0 in the unit's own scale: "0 ms", "0%", "$0".
func zeroValue(unit string) string {
	switch u := strings.ToLower(strings.TrimSpace(unit)); u {
	case "ms", "s", "min", "h":
		return "0 " + u
	case "percent", "%":
		return "0%"
	case "rps", "req/s":
		return "0 req/s"
	case "bytes", "byte", "b":
		return "0 B"
	case "usd", "$":
		return "$0"
	case "count", "":
		return "0"
	}
	return "0 " + truncateRunes(cleanLine(unit), 20)
}

type tier struct {
	div    float64 // value in base unit / div = value in this tier
	upper  float64 // values (after rounding) at or above this move to the next tier
	suffix string
}

var (
	timeTiers = []tier{ // base unit: seconds
		{1e-6, 1000, " µs"},
		{1e-3, 1000, " ms"},
		{1, 90, " s"},
		{60, 90, " min"},
		{3600, 48, " h"},
		{86400, math.Inf(1), " days"},
	}
	byteTiers = []tier{
		{1, 1024, " B"},
		{1 << 10, 1024, " KiB"},
		{1 << 20, 1024, " MiB"},
		{1 << 30, 1024, " GiB"},
		{1 << 40, 1024, " TiB"},
		{1 << 50, math.Inf(1), " PiB"},
	}
	siTiers = []tier{
		{1, 1000, ""},
		{1e3, 1000, "k"},
		{1e6, 1000, "M"},
		{1e9, 1000, "G"},
		{1e12, math.Inf(1), "T"},
	}
	countTiers = []tier{
		{1, 10000, ""},
		{1e3, 1000, "k"},
		{1e6, 1000, "M"},
		{1e9, math.Inf(1), "B"},
	}
)

func formatValue(v float64, unit string, extra int) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	neg := v < 0
	a := math.Abs(v)
	var s string
	if a == 0 {
		return zeroValue(unit)
	}
	if math.IsInf(a, 0) {
		s = "∞"
	} else {
		switch u := strings.ToLower(strings.TrimSpace(unit)); u {
		case "ms", "millisecond", "milliseconds":
			s = scaled(a/1e3, timeTiers, extra)
		case "s", "sec", "second", "seconds":
			s = scaled(a, timeTiers, extra)
		case "min", "minute", "minutes":
			s = scaled(a*60, timeTiers, extra)
		case "h", "hour", "hours":
			s = scaled(a*3600, timeTiers, extra)
		case "percent", "%":
			s = percent(a, extra)
		case "rps", "req/s":
			s = scaled(a, siTiers, extra) + " req/s"
		case "bytes", "byte", "b":
			s = scaled(a, byteTiers, extra)
		case "usd", "$":
			s = usd(a, extra)
		case "count", "":
			s = scaled(a, countTiers, extra)
		default:
			s = scaled(a, countTiers, extra) + " " + truncateRunes(cleanLine(unit), 20)
		}
		if strings.HasSuffix(s, " 1 days") || s == "1 days" {
			s = strings.TrimSuffix(s, "s")
		}
	}
	if neg && strings.ContainsAny(s, "123456789∞") {
		s = minus + s
	}
	return s
}

// scaled picks the tier for a (in the tiers' base unit): the first whose
// upper bound the rounded value stays below.
func scaled(a float64, tiers []tier, extra int) string {
	i := 0
	for i+1 < len(tiers) && a/tiers[i].div >= tiers[i].upper {
		i++
	}
	for {
		x := a / tiers[i].div
		s := num(x, extra)
		if r, err := strconv.ParseFloat(s, 64); err == nil && r >= tiers[i].upper && i+1 < len(tiers) {
			i++
			continue
		}
		if tiers[i].div == 1 && tiers[i].suffix == "" && x >= 1000 && x < 1e15 {
			s = commas(s)
		}
		return s + tiers[i].suffix
	}
}

func percent(a float64, extra int) string {
	if a >= 90 && a < 100 {
		return trimZeros(strconv.FormatFloat(a, 'f', 1+extra, 64)) + "%"
	}
	return num(a, extra) + "%"
}

func usd(a float64, extra int) string {
	switch {
	case a < 10:
		return "$" + strconv.FormatFloat(a, 'f', 2+extra, 64)
	case a < 1e4:
		s := num(a, extra)
		if r, _ := strconv.ParseFloat(s, 64); r < 1e4 {
			return "$" + commas(s)
		}
	}
	return "$" + scaled(a, []tier{{1e3, 1000, "k"}, {1e6, 1000, "M"}, {1e9, 1000, "B"}, {1e12, math.Inf(1), "T"}}, extra)
}

// num formats a ≥ 0 with 2–3 significant figures: whole numbers from 10,
// one decimal from 1 to 10, two significant figures below 1; extra adds
// decimals. Very large or very small values use exponent notation.
func num(a float64, extra int) string {
	if a == 0 {
		return "0"
	}
	if a >= 1e15 || a < 1e-6 {
		return strconv.FormatFloat(a, 'g', 2+extra, 64)
	}
	var dec int
	switch {
	case a >= 10:
		dec = 0
	case a >= 1:
		dec = 1
	default:
		dec = 1 - int(math.Floor(math.Log10(a)))
	}
	return trimZeros(strconv.FormatFloat(a, 'f', dec+extra, 64))
}

func trimZeros(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// commas inserts thousands separators into the integer part of s.
func commas(s string) string {
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	if len(intPart) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(intPart) % 3
	if pre > 0 {
		b.WriteString(intPart[:pre])
	}
	for i := pre; i < len(intPart); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	return b.String() + frac
}

// pIs states a p-value: "p = 0.0006", "p < 0.0001".
func pIs(p float64) string {
	s := formatP(p)
	if strings.HasPrefix(s, "<") {
		return "p " + s
	}
	return "p = " + s
}

// formatP renders a p-value: "0.0006", "0.012", "< 0.0001".
func formatP(p float64) string {
	if p < 0.0001 {
		return "< 0.0001"
	}
	if p >= 0.1 {
		return strconv.FormatFloat(p, 'f', 2, 64)
	}
	dec := 1 - int(math.Floor(math.Log10(p)))
	return trimZeros(strconv.FormatFloat(p, 'f', dec-1, 64))
}
