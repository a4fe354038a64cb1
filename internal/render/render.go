// Package render prints drafts as tables, JSON, Markdown and CSV.
package render

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/weblink"
)

// JSON writes v indented, with a trailing newline.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// RawArray writes already-encoded JSON values as one array, one per line.
func RawArray(w io.Writer, raws []json.RawMessage) error {
	a := NewArrayWriter(w)
	for _, r := range raws {
		a.Add(r)
	}
	return a.Close()
}

// ArrayWriter writes already-encoded JSON values as one array, one per
// line, as they come: RawArray without holding them all.
type ArrayWriter struct {
	bw *bufio.Writer
	n  int
}

// NewArrayWriter starts an array on w; Close ends it.
func NewArrayWriter(w io.Writer) *ArrayWriter {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("[")
	return &ArrayWriter{bw: bw}
}

// Add writes one value; the first write error is returned (and by Close).
func (a *ArrayWriter) Add(raw []byte) error {
	if a.n > 0 {
		a.bw.WriteString(",")
	}
	a.n++
	a.bw.WriteString("\n")
	_, err := a.bw.Write(raw)
	return err
}

// Close ends the array and flushes.
func (a *ArrayWriter) Close() error {
	if a.n > 0 {
		a.bw.WriteString("\n")
	}
	a.bw.WriteString("]\n")
	return a.bw.Flush()
}

// Drafts normalises drafts for output: never a null PR list, times in UTC.
func Drafts(ds []model.Draft) []model.Draft {
	out := make([]model.Draft, len(ds))
	for i, d := range ds {
		if d.PRs == nil {
			d.PRs = []model.PRRef{}
		}
		if d.Others == nil {
			d.Others = []model.PRRef{}
		}
		if d.Evidence == nil {
			d.Evidence = []string{}
		}
		out[i] = d
	}
	return out
}

// Table prints one line per draft.
func Table(w io.Writer, ds []model.Draft) error {
	if len(ds) == 0 {
		_, err := fmt.Fprintln(w, "No drafts.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tKIND\tCATEGORY\tCHANGE\tCONF\tSTATEMENT")
	for _, d := range ds {
		change, conf := "-", "-"
		if Kind(d) == model.KindImpact {
			change, conf = drafter.FormatChange(d.Change, d.Metric.Better), d.Confidence
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Status, Kind(d), d.Category,
			change, conf, Ellipsis(d.Text, 110))
	}
	return tw.Flush()
}

// Kind is the draft's kind; drafts from before kinds existed are impact.
func Kind(d model.Draft) string {
	if d.Kind == "" {
		return model.KindImpact
	}
	return d.Kind
}

// Wins prints one line per manual win.
func Wins(w io.Writer, ds []model.Draft) error {
	if len(ds) == 0 {
		_, err := fmt.Fprintln(w, "No wins yet. Add one with 'impact wins add \"…\"'.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDATE\tCATEGORY\tATTACHED\tSTATEMENT")
	for _, d := range ds {
		var att []string
		for _, p := range d.PRs {
			att = append(att, fmt.Sprintf("%s#%d", p.Repo, p.Number))
		}
		if d.Metric.ID != "" {
			att = append(att, "metric "+d.Metric.ID)
		}
		if n := len(d.Links); n > 0 {
			att = append(att, fmt.Sprintf("%d link(s)", n))
		}
		a := strings.Join(att, ", ")
		if a == "" {
			a = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, day(d.ShiftAt), d.Category, a, Ellipsis(d.Text, 100))
	}
	return tw.Flush()
}

// Ellipsis shortens s to at most n runes.
func Ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Detail prints one draft in full.
func Detail(w io.Writer, d model.Draft) error {
	fmt.Fprintf(w, "%s  [%s]  %s  %s — %s\n\n", d.ID, d.Status, Kind(d), d.Category, model.CategoryTitle(d.Category))
	fmt.Fprintf(w, "  %s\n\n", d.Text)
	if d.GeneratedText != "" && d.GeneratedText != d.Text {
		fmt.Fprintf(w, "  (drafted as: %s)\n\n", d.GeneratedText)
	}
	if Kind(d) != model.KindImpact {
		return detailOther(w, d)
	}
	fmt.Fprintf(w, "  metric      %s (%s)\n", d.Metric.Name, d.Metric.ID)
	fmt.Fprintf(w, "  before      %s   %s → %s\n", drafter.FormatValue(d.Before, d.Metric.Unit), day(d.BeforeWindow.Start), day(d.BeforeWindow.End))
	fmt.Fprintf(w, "  after       %s   %s → %s\n", drafter.FormatValue(d.After, d.Metric.Unit), day(d.AfterWindow.Start), day(d.AfterWindow.End))
	fmt.Fprintf(w, "  change      %s (p = %.2g, confidence %s)\n", drafter.FormatChange(d.Change, d.Metric.Better), d.PValue, d.Confidence)
	for i, p := range d.PRs {
		label := "credited"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "  %-11s %s#%d %q by @%s, merged %s\n", label, p.Repo, p.Number, p.Title, p.Author, p.MergedAt.UTC().Format("2006-01-02 15:04"))
	}
	for i, p := range d.Others {
		label := "also live"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "  %-11s %s#%d %q by @%s\n", label, p.Repo, p.Number, p.Title, p.Author)
	}
	if len(d.Evidence) > 0 {
		fmt.Fprintln(w, "\n  evidence")
		for _, e := range d.Evidence {
			fmt.Fprintf(w, "    - %s\n", e)
		}
	}
	if d.DecidedAt != nil {
		fmt.Fprintf(w, "\n  decided     %s", d.DecidedAt.UTC().Format(time.RFC3339))
		if d.Reason != "" {
			fmt.Fprintf(w, " (%s)", d.Reason)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// detailOther prints what an activity draft or a manual win has.
func detailOther(w io.Writer, d model.Draft) error {
	if d.Period != nil {
		fmt.Fprintf(w, "  period      %s (%s → %s)\n", d.Period.Name, day(d.Period.Start), day(d.Period.End))
	} else {
		fmt.Fprintf(w, "  date        %s\n", day(d.ShiftAt))
	}
	if d.Metric.ID != "" {
		fmt.Fprintf(w, "  metric      %s\n", d.Metric.ID)
	}
	for i, p := range d.PRs {
		label := "pr"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "  %-11s %s#%d %s\n", label, p.Repo, p.Number, p.URL)
	}
	for i, l := range d.Links {
		label := "link"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "  %-11s %s\n", label, l)
	}
	if len(d.Evidence) > 0 {
		fmt.Fprintln(w, "\n  evidence")
		for _, e := range d.Evidence {
			fmt.Fprintf(w, "    - %s\n", e)
		}
	}
	if d.DecidedAt != nil {
		fmt.Fprintf(w, "\n  decided     %s", d.DecidedAt.UTC().Format(time.RFC3339))
		if d.Reason != "" {
			fmt.Fprintf(w, " (%s)", d.Reason)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Group is the drafts of one competency.
type Group struct {
	Category string        `json:"category"`
	Title    string        `json:"title"`
	Drafts   []model.Draft `json:"drafts"`
}

// ByCategory groups drafts by competency, in the spec's order, each group
// sorted by kind (measured, then activity, then manual), then by time.
func ByCategory(ds []model.Draft) []Group {
	var gs []Group
	seen := map[string]int{}
	order := append([]string(nil), model.Categories...)
	for _, d := range ds {
		if !slices.Contains(order, d.Category) {
			order = append(order, d.Category)
		}
	}
	for _, c := range order {
		seen[c] = -1
	}
	for _, d := range Drafts(ds) {
		i := seen[d.Category]
		if i < 0 {
			gs = append(gs, Group{Category: d.Category, Title: model.CategoryTitle(d.Category)})
			i = len(gs) - 1
			seen[d.Category] = i
		}
		gs[i].Drafts = append(gs[i].Drafts, d)
	}
	slices.SortFunc(gs, func(a, b Group) int { return slices.Index(order, a.Category) - slices.Index(order, b.Category) })
	for _, g := range gs {
		slices.SortStableFunc(g.Drafts, compareInGroup)
	}
	return gs
}

// Markdown prints drafts grouped by competency, one bullet each, with PR
// links (to the hosts links allows; see internal/weblink).
func Markdown(w io.Writer, title string, ds []model.Draft, links weblink.GitHubHosts) error {
	if title != "" {
		fmt.Fprintf(w, "# %s\n\n", title)
	}
	if len(ds) == 0 {
		_, err := fmt.Fprintln(w, "_No statements._")
		return err
	}
	for _, g := range ByCategory(ds) {
		fmt.Fprintf(w, "## %s\n\n", g.Title)
		for _, d := range g.Drafts {
			fmt.Fprintf(w, "- %s%s\n", linkPRs(mdEscape(d.Text), d.PRs, links), kindNote(d))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// linkPRs turns the PR references in an escaped statement into links; PRs
// the text does not mention are appended. A PR whose URL links does not
// allow stays plain text.
func linkPRs(text string, prs []model.PRRef, links weblink.GitHubHosts) string {
	var missing []string
	for _, p := range prs {
		ref := mdEscape(fmt.Sprintf("%s#%d", p.Repo, p.Number))
		u := links.PR(p.URL)
		link := weblink.Markdown(ref, u)
		switch short := fmt.Sprintf("#%d", p.Number); {
		case strings.Contains(text, ref):
			text = strings.Replace(text, ref, link, 1)
		case strings.Contains(text, ", "+short+")") || strings.Contains(text, ", "+short+","):
			text = strings.Replace(text, ", "+short, ", "+weblink.Markdown(short, u), 1)
		default:
			missing = append(missing, link)
		}
	}
	if len(missing) > 0 {
		text += " — " + strings.Join(missing, ", ")
	}
	return text
}

// mdEscape keeps collected text from being read as Markdown structure.
func mdEscape(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "<", "&lt;", ">", "&gt;", "`", "\\`")
	return r.Replace(s)
}

// CSV prints one row per draft.
func CSV(w io.Writer, ds []model.Draft) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "status", "kind", "category", "competency", "text", "metric", "unit", "before", "after", "change", "shift_at", "prs", "p_value", "confidence"})
	for _, d := range ds {
		var prs []string
		for _, p := range d.PRs {
			prs = append(prs, fmt.Sprintf("%s#%d", p.Repo, p.Number))
		}
		before, after, change, p := strconv.FormatFloat(d.Before, 'g', 6, 64), strconv.FormatFloat(d.After, 'g', 6, 64),
			strconv.FormatFloat(d.Change, 'f', 4, 64), strconv.FormatFloat(d.PValue, 'g', 3, 64)
		if Kind(d) != model.KindImpact { // no measured shift: no numbers to print
			before, after, change, p = "", "", "", ""
		}
		_ = cw.Write([]string{d.ID, string(d.Status), Kind(d), d.Category, model.CategoryTitle(d.Category), csvSafe(d.Text), d.Metric.ID, d.Metric.Unit,
			before, after, change, d.ShiftAt.UTC().Format(time.RFC3339), strings.Join(prs, " "), p, d.Confidence})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formula injection from collected text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
