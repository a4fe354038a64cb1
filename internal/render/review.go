package render

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/impact-dev/impact/internal/builtin"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/weblink"
)

// Levels of `impact export --level`: the order a review form wants.
const (
	LevelMid    = "mid"
	LevelSenior = "senior"
	LevelStaff  = "staff"
)

// Levels lists the --level values.
var Levels = []string{LevelMid, LevelSenior, LevelStaff}

// levelOrder is the competency order for a level. Mid: delivery first
// (the spec's order: API, database, performance, then reliability).
// Senior: system-level wins and on-call improvements first (reliability,
// performance, infrastructure). Staff: cross-team work and leadership
// first.
func levelOrder(level string) []string {
	switch level {
	case LevelSenior:
		return []string{"reliability", "performance", "infrastructure", "api", "database", "leadership"}
	case LevelStaff:
		return []string{"leadership", "infrastructure", "reliability", "performance", "api", "database"}
	}
	return model.Categories
}

// kindRank orders kinds within a competency: measured, activity, manual.
func kindRank(d model.Draft) int {
	if i := slices.Index(model.Kinds, Kind(d)); i >= 0 {
		return i
	}
	return len(model.Kinds)
}

// compareInGroup sorts a competency's statements: by kind, then by time,
// then by id.
func compareInGroup(a, b model.Draft) int {
	if c := cmp.Compare(kindRank(a), kindRank(b)); c != 0 {
		return c
	}
	if c := a.ShiftAt.Compare(b.ShiftAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Review groups statements for a review form: by competency in the
// level's order ("" is the spec's order), measured first, then activity,
// then manual. Highlights are the (at most three) statements the level
// says to lead with, also listed in their group. Nothing is dropped and
// no number changes: a level only orders and picks.
func Review(ds []model.Draft, level string) (groups []Group, highlights []model.Draft) {
	groups = ByCategory(ds)
	order := levelOrder(level)
	rank := func(c string) int {
		if i := slices.Index(order, c); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(groups, func(a, b Group) int { return cmp.Compare(rank(a.Category), rank(b.Category)) })
	if level == "" {
		return groups, nil
	}
	type cand struct {
		d     model.Draft
		score int
		mag   float64
	}
	var cs []cand
	for _, g := range groups {
		for _, d := range g.Drafts {
			if s := levelScore(level, d); s > 0 {
				mag := d.Change
				if mag < 0 {
					mag = -mag
				}
				cs = append(cs, cand{d, s, mag})
			}
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(b.mag, a.mag)
	})
	for _, c := range cs[:min(3, len(cs))] {
		highlights = append(highlights, c.d)
	}
	return groups, highlights
}

// levelScore says how strongly a level leads with a statement (0: not a
// highlight).
//
//	mid     measured delivery (api, database, performance) and measured
//	        reliability numbers
//	senior  measured system-level wins: on-call (PagerDuty series) first,
//	        then reliability, performance and infrastructure
//	staff   cross-team work and leadership: leadership statements, then
//	        statements whose PRs span several repos
func levelScore(level string, d model.Draft) int {
	measured := Kind(d) == model.KindImpact
	switch level {
	case LevelMid:
		if measured && slices.Contains([]string{"api", "database", "performance", "reliability"}, d.Category) {
			return 1
		}
	case LevelSenior:
		switch {
		case measured && builtin.OnCall(d.Metric.ID):
			return 3
		case measured && slices.Contains([]string{"reliability", "performance", "infrastructure"}, d.Category):
			return 2
		}
	case LevelStaff:
		repos := map[string]bool{}
		for _, p := range d.PRs {
			repos[p.Repo] = true
		}
		switch {
		case d.Category == "leadership":
			return 3
		case len(repos) > 1:
			return 2
		}
	}
	return 0
}

// ReviewMarkdown prints a review export: a title, the highlights (when a
// level picked some), then every competency with its statements.
func ReviewMarkdown(w io.Writer, title, level string, groups []Group, highlights []model.Draft, links weblink.GitHubHosts) error {
	if title != "" {
		fmt.Fprintf(w, "# %s\n\n", title)
	}
	if len(groups) == 0 {
		_, err := fmt.Fprintln(w, "_No statements._")
		return err
	}
	if len(highlights) > 0 {
		fmt.Fprintf(w, "## Lead with (%s level)\n\n", level)
		for _, d := range highlights {
			fmt.Fprintf(w, "- %s%s\n", linkPRs(mdEscape(d.Text), d.PRs, links), kindNote(d))
		}
		fmt.Fprintln(w)
	}
	for _, g := range groups {
		fmt.Fprintf(w, "## %s\n\n", g.Title)
		for _, d := range g.Drafts {
			fmt.Fprintf(w, "- %s%s\n", linkPRs(mdEscape(d.Text), d.PRs, links), kindNote(d))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// kindNote marks statements that are not measured shifts, and appends a
// manual win's links.
func kindNote(d model.Draft) string {
	var b strings.Builder
	for _, l := range d.Links {
		if u := weblink.User(l); u != "" {
			fmt.Fprintf(&b, " [link](%s)", u)
		}
	}
	switch Kind(d) {
	case model.KindActivity:
		b.WriteString(" _(activity)_")
	case model.KindManual:
		b.WriteString(" _(manual)_")
	}
	return b.String()
}
