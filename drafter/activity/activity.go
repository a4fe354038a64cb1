// Package activity drafts activity statements: counts over a review period
// (a half-year by default, or a quarter), not shifts of a metric —
//
//	Reviewed 142 pull requests from 9 engineers across 4 repos in H2 2026,
//	with a median first response of 3.1 hours.
//	Wrote or updated 6 runbooks and 4 architecture decision records in H2 2026.
//
// It is pure like the drafter: no I/O, no clock; the same input gives the
// same drafts with the same ids.
//
// # Lifecycle
//
// A period gets one draft of each statement (ids derive from the statement
// and the period). While the period is open its draft is refreshed on every
// run and says "so far"; the first run after the period ends writes the
// final counts, and from then on the draft is frozen: Run proposes nothing
// for a closed period whose stored draft already covers it all
// (Period.AsOf). A draft's ShiftAt is its period's start, so --since,
// --until and --period select it by its period, and lists show it after
// the measured drafts of the period. Accepted,
// rejected and edited drafts are kept as they are by the store.
//
// # How each is counted
//
// Reviews: my reviews (me.github) submitted in the period, as collected
// (reviews.go of the github source): "pull requests" are the distinct PRs
// reviewed, "engineers" the distinct PR authors (a deleted account counts
// as one, "ghost"), "repos" the distinct repos. The first response of a PR
// is the time from the request for my review (else, when I was never asked
// by name, its opening) to my first review of it (ever); the median is over
// the PRs whose first review fell in the period. Hours with one
// decimal; under an hour, minutes; two days or more, days.
//
// Documents: the distinct files (repo and path) matching a docs.paths kind
// that my PRs merged in the period touched (a file counts once, however
// many PRs touched it; the first kind whose globs match it takes it). PRs
// whose files were not collected are not counted, and the evidence says
// how many.
package activity

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/internal/glob"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/period"
)

// DocKind is a kind of document and the globs that find it.
type DocKind struct {
	Name, Plural string
	Globs        []string
}

// Input is what Run counts.
type Input struct {
	Me  []string
	Now time.Time
	// Length is the review period: period.Half (default) or period.Quarter.
	Length string
	Loc    *time.Location
	// Reviews are my reviews (all stored).
	Reviews []model.Review
	// PRs are the merged PRs (all authors; Run keeps mine).
	PRs []model.PR
	// Docs and DocsCategory configure the documents statement.
	Docs         []DocKind
	DocsCategory string
	// Match is the project's glob matcher (internal/glob.Match; nil uses it).
	Match func(pattern, name string) bool
	// Existing are the stored activity drafts.
	Existing []model.Draft
}

// Statement kinds, part of the ids.
const (
	StatementReviews = "reviews"
	StatementDocs    = "docs"
)

// ID is the id of a statement's draft for a period: 8 hex digits, as the
// drafter's.
func ID(statement, periodName string) string {
	h := sha256.Sum256([]byte("activity\n" + statement + "\n" + periodName))
	return hex.EncodeToString(h[:4])
}

// Run returns the activity drafts to save: for every period with activity
// up to Now, except closed periods whose stored draft is final.
func Run(in Input) []model.Draft {
	if in.Loc == nil {
		in.Loc = time.UTC
	}
	periods := map[string]model.Period{}
	note := func(t time.Time) {
		if t.IsZero() || t.After(in.Now) {
			return
		}
		p := period.Of(t, in.Length, in.Loc)
		periods[p.Name] = p
	}
	for _, r := range in.Reviews {
		note(r.SubmittedAt)
	}
	mine := mineOf(in.PRs, in.Me)
	if len(in.Docs) > 0 {
		for _, p := range mine {
			note(p.MergedAt)
		}
	}
	names := make([]string, 0, len(periods))
	for n := range periods {
		names = append(names, n)
	}
	slices.Sort(names)
	existing := map[string]model.Draft{}
	for _, d := range in.Existing {
		existing[d.ID] = d
	}
	var out []model.Draft
	for _, n := range names {
		p := periods[n]
		asOf := p.End.Add(-time.Second)
		if in.Now.Before(asOf) {
			asOf = in.Now
		}
		for _, d := range []model.Draft{reviewsDraft(in, p, asOf), docsDraft(in, mine, p, asOf)} {
			if d.ID == "" {
				continue
			}
			if e, ok := existing[d.ID]; ok && final(e, p) {
				continue // frozen
			}
			out = append(out, d)
		}
	}
	return out
}

// final reports whether a stored draft already covers its whole period.
func final(d model.Draft, p model.Period) bool {
	return d.Period != nil && !d.Period.AsOf.Before(p.End.Add(-time.Second))
}

func mineOf(prs []model.PR, me []string) []model.PR {
	var out []model.PR
	for _, p := range prs {
		if slices.ContainsFunc(me, func(m string) bool { return strings.EqualFold(m, p.Author) }) {
			out = append(out, p)
		}
	}
	return out
}

func within(t time.Time, p model.Period, asOf time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End) && !t.After(asOf)
}

// when is how a statement names the period: "in H2 2026", or "in H2 2026
// so far" while it is open.
func when(p model.Period, asOf time.Time) string {
	s := "in " + period.Label(p)
	if asOf.Before(p.End.Add(-time.Second)) {
		s += " so far"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func base(id, cat, text string, p model.Period, asOf time.Time, m model.MetricRef, evidence []string) model.Draft {
	pp := p
	pp.AsOf = asOf.UTC()
	return model.Draft{
		ID: id, Status: model.StatusPending, Kind: model.KindActivity, Category: cat,
		Text: text, GeneratedText: text, Metric: m, ShiftAt: p.Start.UTC(), Period: &pp,
		PRs: []model.PRRef{}, Others: []model.PRRef{}, Evidence: evidence,
	}
}

func reviewsDraft(in Input, p model.Period, asOf time.Time) model.Draft {
	prs, authors, repos := map[string]bool{}, map[string]bool{}, map[string]bool{}
	n := 0
	for _, r := range in.Reviews {
		if !within(r.SubmittedAt, p, asOf) {
			continue
		}
		n++
		prs[r.PRKey()] = true
		authors[strings.ToLower(r.PRAuthor)] = true
		repos[strings.ToLower(r.Repo)] = true
	}
	if len(prs) == 0 {
		return model.Draft{}
	}
	var waits []time.Duration
	for _, f := range firstReviews(in.Reviews) {
		if start := f.WaitStart(); within(f.SubmittedAt, p, asOf) && !start.IsZero() && !f.SubmittedAt.Before(start) {
			waits = append(waits, f.SubmittedAt.Sub(start))
		}
	}
	text := fmt.Sprintf("Reviewed %s from %s across %s %s", plural(len(prs), "pull request", "pull requests"),
		plural(len(authors), "engineer", "engineers"), plural(len(repos), "repo", "repos"), when(p, asOf))
	ev := []string{
		fmt.Sprintf("%d reviews submitted by you between %s and %s on %d distinct pull requests (GitHub reviews you submitted; comments inside a review are part of it).",
			n, p.Start.In(in.Loc).Format("2006-01-02"), asOf.In(in.Loc).Format("2006-01-02"), len(prs)),
		fmt.Sprintf("Engineers are the distinct authors of those pull requests (%d); repos the distinct repositories (%d).", len(authors), len(repos)),
	}
	if len(waits) > 0 {
		med := median(waits)
		text += ", with a median first response of " + formatWait(med)
		ev = append(ev, fmt.Sprintf("First response: time from the request for your review (else the pull request's opening) to your first review of it, median over the %d pull requests first reviewed in the period: %s.", len(waits), formatWait(med)))
	}
	text += "."
	return base(ID(StatementReviews, p.Name), "leadership", text, p, asOf,
		model.MetricRef{ID: "github.reviews_given", Name: "reviews given", Unit: "count", Better: "higher"}, ev)
}

func firstReviews(rs []model.Review) map[string]model.Review {
	first := map[string]model.Review{}
	for _, r := range rs {
		k := r.PRKey()
		if f, ok := first[k]; !ok || r.SubmittedAt.Before(f.SubmittedAt) {
			first[k] = r
		}
	}
	return first
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// formatWait: minutes under an hour, hours (one decimal) under two days,
// else days (one decimal).
func formatWait(d time.Duration) string {
	switch {
	case d < time.Hour:
		return plural(int(d.Round(time.Minute).Minutes()), "minute", "minutes")
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f hours", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

func docsDraft(in Input, mine []model.PR, p model.Period, asOf time.Time) model.Draft {
	if len(in.Docs) == 0 {
		return model.Draft{}
	}
	match := in.Match
	if match == nil {
		match = glob.Match
	}
	files := make([]map[string]bool, len(in.Docs))
	for i := range files {
		files[i] = map[string]bool{}
	}
	var refs []model.PRRef
	unknown := 0
	for _, pr := range mine {
		if !within(pr.MergedAt, p, asOf) {
			continue
		}
		if !pr.FilesFetched {
			unknown++
			continue
		}
		touched := false
		for _, f := range pr.Files {
			for i, k := range in.Docs {
				if slices.ContainsFunc(k.Globs, func(g string) bool { return match(g, f) }) {
					files[i][strings.ToLower(pr.Repo)+"/"+f] = true
					touched = true
					break
				}
			}
		}
		if touched {
			refs = append(refs, model.PRRef{Repo: pr.Repo, Number: pr.Number, Title: pr.Title, URL: pr.URL, Author: pr.Author, MergedAt: pr.MergedAt, LiveAt: pr.MergedAt})
		}
	}
	var parts, counted []string
	for i, k := range in.Docs {
		n := len(files[i])
		if n == 0 {
			continue
		}
		many := k.Plural
		if many == "" {
			many = k.Name + "s"
		}
		parts = append(parts, plural(n, k.Name, many))
		counted = append(counted, fmt.Sprintf("%s: %d distinct files matching %s", many, n, strings.Join(k.Globs, ", ")))
	}
	if len(parts) == 0 {
		return model.Draft{}
	}
	list := parts[0]
	if len(parts) > 1 {
		list = strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
	cat := in.DocsCategory
	if cat == "" {
		cat = "leadership"
	}
	text := fmt.Sprintf("Wrote or updated %s %s.", list, when(p, asOf))
	ev := []string{fmt.Sprintf("Files touched by your %d merged pull requests in the period that match docs.paths — %s.", len(refs), strings.Join(counted, "; "))}
	if unknown > 0 {
		ev = append(ev, fmt.Sprintf("%d of your merged pull requests in the period have no collected file list and are not counted.", unknown))
	}
	d := base(ID(StatementDocs, p.Name), cat, text, p, asOf, model.MetricRef{}, ev)
	d.PRs = refs
	return d
}
