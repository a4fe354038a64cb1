// Package digest builds, renders and sends the weekly digest email.
//
// Build is pure: it takes the week's data (drafts, the drafter's regressions
// and unattributed shifts, the sources' events) and returns a *Digest.
// Render turns a Digest into a plain-text and an HTML alternative with one
// small chart per draft; SendWeek gathers, builds, renders and sends one
// week's digest at most once, recording each attempt in the store.
//
// # What a week's digest lists
//
// The week is an ISO week (Monday 00:00 to Monday 00:00) in me.timezone.
//
//   - Drafts to review: drafts still pending that were created (first
//     proposed) in the week, or whose shift began in the week. Pending
//     drafts from earlier weeks are only counted ("3 older drafts still
//     wait"), so the same draft is not listed week after week.
//   - Moved, not credited to you (the drafter's Unattributed) and
//     regressions after your PRs (Regressions), each listed as what it is
//     and never worded as a win. A shift belongs to the week in which it
//     became measurable: when its after window first held the drafter's
//     minimum of 5 days (or the whole window, if shorter). That is the
//     earliest a digest could report it, and it puts each shift in exactly
//     one week.
//   - The week in numbers: merged PRs (mine, and all in the watched repos),
//     reviews given ("n/a" until reviews are collected), pages to me
//     (incidents assigned to pagerduty.user_id, created in the week) and
//     their median time to resolve, and the median duration of successful
//     runs of each watched workflow. A source with no data at all is left
//     out rather than shown as zero.
//   - Accepted statements this review period: the accepted drafts whose
//     shift began in the current half year (Jan 1 – Jun 30 or Jul 1 –
//     Dec 31 in me.timezone, the half that contains the week's last day)
//     up to the week's end, by competency.
//
// A week with no drafts, no shifts and no activity is empty: it renders as
// one line and SendWeek records it as skipped instead of sending it.
//
// Text collected from PRs, incidents and the config is untrusted: Build
// reduces it to single lines without control characters, the HTML is
// rendered with html/template, and no collected text reaches a mail
// header (the subject holds only the week and counts).
package digest

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
	reviewperiod "github.com/impact-dev/impact/internal/period"
	"github.com/impact-dev/impact/internal/weblink"
)

// minAfterWindow mirrors the drafter's rule: a shift is measured once its
// after window holds at least this much data (or the whole window).
const minAfterWindow = 5 * 24 * time.Hour

// Input is everything Build looks at.
type Input struct {
	Week Week
	// PeriodLength is the review period of the running count (config
	// review.period: half, the default, or quarter).
	PeriodLength string
	// Now is when the digest is built. Before the week's end the digest
	// covers the week so far.
	Now time.Time
	// Command is how the accept/reject commands start (default "impact"),
	// e.g. "impact --config ~/impact.yaml".
	Command string
	// PageURL is ui.public_url: when set, each draft links to its review
	// page, PageURL/drafts/ID.
	PageURL string
	// Links are the hosts a PR may link to (weblink.ForConfig); the zero
	// value allows github.com only. A PR elsewhere is shown as text.
	Links weblink.GitHubHosts
	// Drafts are the stored drafts, any status; Build picks the week's new
	// pending ones and counts the accepted ones.
	Drafts []model.Draft
	// Regressions and Unattributed are a drafter.Result over everything
	// stored; Build keeps those that became measurable in the week.
	Regressions, Unattributed []drafter.Shift
	// Samples by metric id, sorted by time, covering at least the windows
	// of the week's drafts: the charts. A draft whose metric has no
	// samples gets no chart.
	Samples map[string][]model.Sample
	// Weekly marks metric ids whose samples are per-event counts (their
	// before and after are per-week rates).
	Weekly map[string]bool

	// The sources' activity. A nil source has no data at all: its lines
	// are left out.
	GitHub    *GitHubActivity
	PagerDuty *PagerDutyActivity
	CI        *CIActivity
}

// GitHubActivity is what the week's numbers read from GitHub.
type GitHubActivity struct {
	// Me are the logins whose PRs are mine (me.github).
	Me []string
	// PRs are merged PRs of the watched repos; Build keeps the week's.
	PRs []model.PR
	// Reviews given in the week; nil while reviews are not collected.
	Reviews *int
}

// PagerDutyActivity is what the week's numbers read from PagerDuty.
type PagerDutyActivity struct {
	// UserID is pagerduty.user_id: pages to me are incidents assigned to
	// it. Empty: only the watched services' incident count is shown.
	UserID string
	// Incidents; Build keeps those created in the week.
	Incidents []model.Incident
}

// CIActivity is what the week's numbers read from GitHub Actions.
type CIActivity struct {
	// Workflows are the watched workflows as "repo/workflow", in config
	// order. Empty: every workflow that has runs.
	Workflows []string
	// Runs; Build keeps successful completed runs created in the week.
	Runs []model.CIRun
}

// Digest is one week's digest, ready to render.
type Digest struct {
	Week Week
	// Partial: built before the week ended; the digest covers it so far.
	Partial bool
	// Command starts the accept/reject commands ("impact").
	Command string

	Drafts []DraftItem
	// OlderPending counts pending drafts from earlier weeks (not listed).
	OlderPending int
	// Unattributed are improvements nobody of mine is credited for.
	Unattributed []ShiftItem
	// Regressions are shifts in the worse direction after my PRs.
	Regressions []ShiftItem
	// Numbers is the week in numbers, in display order.
	Numbers []Number
	// Activity reports whether any number counts something that happened.
	Activity bool
	Period   Period
}

// DraftItem is a draft as the digest shows it. Every string is one line
// of plain text (HTML escaping is the renderer's job).
type DraftItem struct {
	ID   string
	Text string
	// Kind is impact, activity or manual; only impact drafts have the
	// before/after numbers.
	Kind       string
	Category   string
	Competency string // the category's title
	Metric     string // the metric's name
	Before     string // drafter.FormatValue
	After      string
	Change     string // drafter.FormatChange
	Confidence string
	ShiftAt    time.Time
	PRs        []PRLink
	Accept     string // "impact drafts accept 1a2b3c4d"
	Reject     string
	Chart      *Chart // nil without samples
	// Page is the draft's review page (ui.public_url/drafts/ID); empty
	// when ui.public_url is not set.
	Page string
}

// PRLink is a PR as the digest links it.
type PRLink struct {
	Ref    string // acme/search-api#1234
	Title  string
	URL    string // empty unless http(s)
	Author string
}

// Chart is what a draft's chart draws: the series over the before and
// after windows, the two median levels and the go-live times.
type Chart struct {
	ID                        string // the draft id
	Samples                   []model.Sample
	BeforeWindow, AfterWindow model.Window
	Before, After             float64
	LiveAt                    []time.Time
	Unit                      string
	Weekly                    bool
	Loc                       *time.Location
}

// ShiftItem is a regression or an unattributed shift.
type ShiftItem struct {
	Metric string
	Before string
	After  string
	Change string
	At     time.Time
	// Cause is the likeliest PR (any author); nil when no PR went live
	// near the shift.
	Cause *PRLink
	// Sentence says it in plain words, never as a win.
	Sentence string
}

// Number is one line of the week in numbers.
type Number struct {
	Label string
	Value string
	Note  string
}

// Period is the running count of accepted statements.
type Period struct {
	Name  string    // "H2 2026"
	Start time.Time // Jan 1 or Jul 1, 00:00 in me.timezone
	Total int
	// ByCategory in model.Categories order, categories with none left out.
	ByCategory []CategoryCount
}

// CategoryCount is accepted statements of one competency.
type CategoryCount struct {
	Category string
	Title    string
	N        int
}

// Empty reports whether nothing happened: no drafts, no shifts, no
// activity in any source.
func (d *Digest) Empty() bool {
	return len(d.Drafts) == 0 && len(d.Unattributed) == 0 && len(d.Regressions) == 0 && !d.Activity
}

// Subject is the mail's subject: the week and counts, never collected text.
func (d *Digest) Subject() string {
	var what string
	switch n := len(d.Drafts); {
	case n > 0:
		what = plural(n, "draft", "drafts") + " to review"
	case len(d.Regressions) > 0:
		what = plural(len(d.Regressions), "regression", "regressions") + " to look at"
	case len(d.Unattributed) > 0:
		what = plural(len(d.Unattributed), "shift", "shifts") + " not credited to you"
	case d.Empty():
		what = "nothing moved"
	default:
		what = "the week in numbers"
	}
	return "impact — week " + d.Week.String() + ": " + what
}

// EmptyLine is the one line an empty week renders as.
func (d *Digest) EmptyLine() string {
	so := ""
	if d.Partial {
		so = " so far"
	}
	return fmt.Sprintf("Nothing moved in %s (%s)%s: no new drafts, no shifts, no merged PRs, pages or CI runs.", d.Week, d.Week.Span(), so)
}

// Build makes the digest of in.Week from in. It reads nothing else.
func Build(in Input) *Digest {
	w := in.Week
	if w.Loc == nil {
		w.Loc = time.UTC
	}
	d := &Digest{Week: w, Command: strings.TrimSpace(in.Command)}
	if d.Command == "" {
		d.Command = "impact"
	}
	if !in.Now.IsZero() && in.Now.Before(w.End()) {
		d.Partial = true
	}
	start, end := w.Start(), w.End()

	// Drafts to review.
	for _, dr := range in.Drafts {
		switch {
		case listed(dr, w):
			d.Drafts = append(d.Drafts, draftItem(dr, d.Command, in, w.Loc))
		case dr.Status == model.StatusPending && dr.CreatedAt.Before(start):
			d.OlderPending++
		}
	}
	slices.SortStableFunc(d.Drafts, func(a, b DraftItem) int {
		if c := b.ShiftAt.Compare(a.ShiftAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})

	// Shifts that became measurable this week.
	for _, s := range in.Unattributed {
		if s.Improvement && w.Contains(readyAt(s)) {
			d.Unattributed = append(d.Unattributed, shiftItem(s, false, w.Loc, in.Links))
		}
	}
	for _, s := range in.Regressions {
		if !s.Improvement && w.Contains(readyAt(s)) {
			d.Regressions = append(d.Regressions, shiftItem(s, true, w.Loc, in.Links))
		}
	}

	d.Numbers, d.Activity = numbers(in, start, end)
	d.Period = period(in.Drafts, w, in.PeriodLength)
	return d
}

// readyAt is when the drafter could first measure s.
func readyAt(s drafter.Shift) time.Time {
	win := s.BeforeWindow.End.Sub(s.BeforeWindow.Start)
	if win <= 0 || win > minAfterWindow {
		win = minAfterWindow
	}
	return s.AfterWindow.Start.Add(win)
}

func draftItem(dr model.Draft, command string, in Input, loc *time.Location) DraftItem {
	id := oneLine(dr.ID, 64)
	it := DraftItem{
		ID:         id,
		Text:       oneLine(dr.Text, 1000),
		Kind:       cmp.Or(dr.Kind, model.KindImpact),
		Category:   oneLine(dr.Category, 40),
		Competency: oneLine(model.CategoryTitle(dr.Category), 60),
		Metric:     metricName(dr.Metric),
		Before:     drafter.FormatValue(dr.Before, dr.Metric.Unit),
		After:      drafter.FormatValue(dr.After, dr.Metric.Unit),
		Change:     drafter.FormatChange(dr.Change, dr.Metric.Better),
		Confidence: oneLine(dr.Confidence, 20),
		ShiftAt:    dr.ShiftAt,
		Accept:     command + " drafts accept " + shellWord(id),
		Reject:     command + " drafts reject " + shellWord(id),
	}
	if base := weblink.User(in.PageURL); base != "" {
		it.Page = strings.TrimSuffix(base, "/") + "/drafts/" + url.PathEscape(id)
	}
	if it.Before == it.After { // a small change rounded to the same figure
		it.Before = fmt.Sprintf("%.4g %s", dr.Before, oneLine(dr.Metric.Unit, 20))
		it.After = fmt.Sprintf("%.4g %s", dr.After, oneLine(dr.Metric.Unit, 20))
	}
	var live []time.Time
	for _, p := range dr.PRs {
		it.PRs = append(it.PRs, prLink(p, in.Links))
		if !p.LiveAt.IsZero() {
			live = append(live, p.LiveAt)
		} else if !p.MergedAt.IsZero() {
			live = append(live, p.MergedAt)
		}
	}
	if ss := window(in.Samples[dr.Metric.ID], dr.BeforeWindow.Start, dr.AfterWindow.End); len(ss) > 1 {
		it.Chart = &Chart{
			ID: id, Samples: ss, BeforeWindow: dr.BeforeWindow, AfterWindow: dr.AfterWindow,
			Before: dr.Before, After: dr.After, LiveAt: live, Unit: dr.Metric.Unit,
			Weekly: in.Weekly[dr.Metric.ID], Loc: loc,
		}
	}
	return it
}

func shiftItem(s drafter.Shift, regression bool, loc *time.Location, links weblink.GitHubHosts) ShiftItem {
	it := ShiftItem{
		Metric: metricName(s.Metric),
		Before: drafter.FormatValue(s.Before, s.Metric.Unit),
		After:  drafter.FormatValue(s.After, s.Metric.Unit),
		Change: drafter.FormatChange(s.Change, s.Metric.Better),
		At:     s.At,
	}
	if s.Cause != nil {
		l := prLink(*s.Cause, links)
		it.Cause = &l
	}
	verb := "rose"
	if s.After < s.Before {
		verb = "fell"
	}
	when := s.At.In(loc).Format("Mon Jan 2")
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s from %s to %s (%s) since %s", it.Metric, verb, it.Before, it.After, it.Change, when)
	switch {
	case regression && it.Cause != nil:
		fmt.Fprintf(&b, ", after %s by @%s went live. This is worse, not a win: worth a look.", it.Cause.Ref, it.Cause.Author)
	case regression:
		b.WriteString(" after your PRs went live. This is worse, not a win: worth a look.")
	case it.Cause != nil:
		fmt.Fprintf(&b, ": credited to @%s, whose %s went live closest to it (the likeliest cause), not to you.", it.Cause.Author, it.Cause.Ref)
	default:
		b.WriteString("; no merged PR went live just before it, so it is not credited to anyone.")
	}
	it.Sentence = b.String()
	return it
}

func metricName(m model.MetricRef) string {
	if m.Name != "" {
		return oneLine(m.Name, 120)
	}
	return oneLine(m.ID, 120)
}

func prLink(p model.PRRef, links weblink.GitHubHosts) PRLink {
	return PRLink{
		Ref:    oneLine(fmt.Sprintf("%s#%d", p.Repo, p.Number), 140),
		Title:  oneLine(p.Title, 200),
		URL:    links.PR(p.URL),
		Author: oneLine(strings.TrimPrefix(p.Author, "@"), 60),
	}
}

// window returns the samples in [from, to) of a time-sorted slice.
func window(ss []model.Sample, from, to time.Time) []model.Sample {
	i := sort.Search(len(ss), func(i int) bool { return !ss[i].Time.Before(from) })
	j := sort.Search(len(ss), func(i int) bool { return !ss[i].Time.Before(to) })
	if i >= j {
		return nil
	}
	return ss[i:j]
}

func numbers(in Input, start, end time.Time) ([]Number, bool) {
	var ns []Number
	activity := false
	in7 := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }

	if g := in.GitHub; g != nil {
		me := map[string]bool{}
		for _, l := range g.Me {
			me[strings.ToLower(strings.TrimPrefix(strings.TrimSpace(l), "@"))] = true
		}
		mine, all := 0, 0
		seen := map[string]bool{}
		for _, p := range g.PRs {
			if !in7(p.MergedAt) || seen[p.Key()] {
				continue
			}
			seen[p.Key()] = true
			all++
			if me[strings.ToLower(strings.TrimPrefix(p.Author, "@"))] {
				mine++
			}
		}
		activity = activity || all > 0
		ns = append(ns, Number{Label: "Your PRs merged", Value: fmt.Sprint(mine),
			Note: fmt.Sprintf("of %d merged in the watched repos", all)})
		if g.Reviews != nil {
			activity = activity || *g.Reviews > 0
			ns = append(ns, Number{Label: "Reviews given", Value: fmt.Sprint(*g.Reviews)})
		} else {
			ns = append(ns, Number{Label: "Reviews given", Value: "n/a", Note: "no reviews collected yet (github source with me.github)"})
		}
	}

	if p := in.PagerDuty; p != nil {
		var week, toMe []model.Incident
		seen := map[string]bool{}
		for _, inc := range p.Incidents {
			if !in7(inc.CreatedAt) || seen[inc.ID] {
				continue
			}
			seen[inc.ID] = true
			week = append(week, inc)
			if p.UserID != "" && slices.Contains(inc.Assignees, p.UserID) {
				toMe = append(toMe, inc)
			}
		}
		activity = activity || len(week) > 0
		if p.UserID != "" {
			ns = append(ns, Number{Label: "Pages to you", Value: fmt.Sprint(len(toMe)), Note: resolveNote(toMe)})
		}
		ns = append(ns, Number{Label: "Incidents on the watched services", Value: fmt.Sprint(len(week)), Note: resolveNote(week)})
	}

	if c := in.CI; c != nil {
		durs := map[string][]float64{}
		var order []string
		for _, r := range c.Runs {
			if !in7(r.CreatedAt) || r.Conclusion != "success" || r.Duration <= 0 {
				continue
			}
			k := r.Repo + "/" + r.Workflow
			if durs[k] == nil {
				order = append(order, k)
			}
			durs[k] = append(durs[k], r.Duration.Seconds())
		}
		if len(c.Workflows) > 0 {
			order = c.Workflows
		} else {
			sort.Strings(order)
		}
		any := false
		for _, k := range order {
			xs := durs[k]
			if len(xs) == 0 {
				continue
			}
			any = true
			ns = append(ns, Number{Label: "CI median duration, " + oneLine(k, 120),
				Value: drafter.FormatValue(median(xs), "s"), Note: plural(len(xs), "successful run", "successful runs")})
		}
		if !any {
			ns = append(ns, Number{Label: "CI median duration", Value: "n/a", Note: "no successful runs of the watched workflows"})
		}
		activity = activity || any
	}
	return ns, activity
}

func resolveNote(incs []model.Incident) string {
	var mins []float64
	open := 0
	for _, i := range incs {
		if i.ResolvedAt.IsZero() || i.ResolvedAt.Before(i.CreatedAt) {
			open++
			continue
		}
		mins = append(mins, i.ResolvedAt.Sub(i.CreatedAt).Seconds())
	}
	var parts []string
	if len(mins) > 0 {
		parts = append(parts, "median time to resolve "+drafter.FormatValue(median(mins), "s"))
	}
	if open > 0 {
		parts = append(parts, fmt.Sprintf("%d still open", open))
	}
	return strings.Join(parts, ", ")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// period counts accepted drafts whose shift began in the review period
// (half-year or quarter) that contains the week's last day, up to the
// week's end.
func period(ds []model.Draft, w Week, length string) Period {
	last := w.End().AddDate(0, 0, -1)
	rp := reviewperiod.Of(last, length, w.Loc) // the one owner of review periods
	p := Period{
		Name:  reviewperiod.Label(rp),
		Start: rp.Start.In(w.Loc),
	}
	counts := map[string]int{}
	end := w.End()
	for _, d := range ds {
		if d.Status != model.StatusAccepted || d.ShiftAt.Before(p.Start) || !d.ShiftAt.Before(end) {
			continue
		}
		p.Total++
		counts[d.Category]++
	}
	for _, c := range model.Categories {
		if counts[c] > 0 {
			p.ByCategory = append(p.ByCategory, CategoryCount{Category: c, Title: model.CategoryTitle(c), N: counts[c]})
			delete(counts, c)
		}
	}
	var rest []string
	for c := range counts {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	for _, c := range rest {
		title := oneLine(c, 40)
		if title == "" {
			title = "Uncategorised"
		}
		p.ByCategory = append(p.ByCategory, CategoryCount{Category: title, Title: title, N: counts[c]})
	}
	return p
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// oneLine makes collected text safe to show on one line: control and
// format characters (CR, LF, tab, U+2028, bidi overrides…) become spaces,
// runs of spaces collapse, and the result is cut to max runes.
func oneLine(s string, max int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		if n >= max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// shellWord quotes a draft id for a shell command line if it needs it
// (drafter ids are hex and never do).
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
