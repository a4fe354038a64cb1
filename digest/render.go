package digest

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"
	"text/tabwriter"
)

//go:embed digest.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("digest").Parse(htmlSource))

// Image is a chart attached inline to the mail.
type Image struct {
	// ContentID without the angle brackets; the HTML refers to it as
	// "cid:" + ContentID.
	ContentID string
	// Name is the file name, "chart-1a2b3c4d.png".
	Name string
	PNG  []byte
}

// Rendered is a digest as mail content.
type Rendered struct {
	Subject string
	// Text is the plain-text alternative.
	Text string
	// HTML is the HTML alternative; its images are cid: references to
	// Images.
	HTML   string
	Images []Image
	// StandaloneHTML is HTML with the images embedded as data: URIs, for
	// a file opened in a browser.
	StandaloneHTML string
}

// Render renders d as plain text and HTML, with one chart per draft that
// has samples. A chart that cannot be drawn is left out.
func Render(d *Digest) (*Rendered, error) {
	r := &Rendered{Subject: d.Subject(), Text: Text(d)}
	srcCID := map[string]template.URL{}
	srcData := map[string]template.URL{}
	for i, it := range d.Drafts {
		if it.Chart == nil {
			continue
		}
		png, err := it.Chart.PNG()
		if err != nil {
			continue
		}
		id := cidSafe(it.ID)
		img := Image{
			ContentID: fmt.Sprintf("chart-%d-%s@impact", i+1, id),
			Name:      fmt.Sprintf("chart-%s.png", id),
			PNG:       png,
		}
		r.Images = append(r.Images, img)
		// Both are built here from our own bytes and an id reduced to
		// [a-z0-9-], so they are safe to mark as URLs.
		srcCID[it.ID] = template.URL("cid:" + img.ContentID)
		srcData[it.ID] = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	var err error
	if r.HTML, err = renderHTML(d, srcCID); err != nil {
		return nil, err
	}
	if r.StandaloneHTML, err = renderHTML(d, srcData); err != nil {
		return nil, err
	}
	return r, nil
}

type htmlDraft struct {
	DraftItem
	Src         template.URL
	ChartW      int
	ChartH      int
	ChartAlt    string
	ChangeColor string
}

type htmlData struct {
	*Digest
	Subject     string
	Empty       bool
	EmptyLine   string
	Summary     string
	Drafts      []htmlDraft
	PeriodStart string
}

func renderHTML(d *Digest, src map[string]template.URL) (string, error) {
	data := htmlData{Digest: d, Subject: d.Subject(), Empty: d.Empty(), EmptyLine: d.EmptyLine(),
		Summary: summary(d), PeriodStart: d.Period.Start.Format("Jan 2, 2006")}
	for _, it := range d.Drafts {
		hd := htmlDraft{DraftItem: it, Src: src[it.ID], ChartW: ChartWidth, ChartH: ChartHeight, ChangeColor: "#15803d"}
		hd.ChartAlt = fmt.Sprintf("Chart of %s: median %s before, %s after", it.Metric, it.Before, it.After)
		data.Drafts = append(data.Drafts, hd)
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("digest: rendering HTML: %w", err)
	}
	return buf.String(), nil
}

// summary is the digest's first line after the title: what is in it.
func summary(d *Digest) string {
	var parts []string
	if n := len(d.Drafts); n > 0 {
		parts = append(parts, plural(n, "draft", "drafts")+" to review")
	}
	if n := len(d.Unattributed); n > 0 {
		parts = append(parts, plural(n, "shift", "shifts")+" not credited to you")
	}
	if n := len(d.Regressions); n > 0 {
		parts = append(parts, plural(n, "regression", "regressions")+" after your PRs")
	}
	if len(parts) == 0 {
		return "No new drafts or shifts this week."
	}
	return strings.Join(parts, " · ")
}

// Text renders d as plain text. Every collected string in d is already one
// line without control characters (Build sees to that).
func Text(d *Digest) string {
	if d.Empty() {
		return d.EmptyLine() + "\n"
	}
	var b strings.Builder
	so := ""
	if d.Partial {
		so = ", so far"
	}
	fmt.Fprintf(&b, "impact — week %s (%s%s)\n%s\n", d.Week, d.Week.Span(), so, summary(d))

	if len(d.Drafts) > 0 {
		fmt.Fprintf(&b, "\nDRAFTS TO REVIEW\n")
		for i, it := range d.Drafts {
			fmt.Fprintf(&b, "\n%d. %s\n", i+1, it.Text)
			if it.Kind != "impact" {
				fmt.Fprintf(&b, "   %s statement · %s\n", it.Kind, it.Competency)
			} else {
				fmt.Fprintf(&b, "   %s: %s → %s (%s) · %s · confidence %s\n", it.Metric, it.Before, it.After, it.Change, it.Competency, it.Confidence)
			}
			for _, p := range it.PRs {
				fmt.Fprintf(&b, "   %s %s (@%s)", p.Ref, p.Title, p.Author)
				if p.URL != "" {
					fmt.Fprintf(&b, " <%s>", p.URL)
				}
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "   accept:  %s\n   reject:  %s\n", it.Accept, it.Reject)
			if it.Page != "" {
				fmt.Fprintf(&b, "   review:  %s\n", it.Page)
			}
		}
	}
	if len(d.Unattributed) > 0 {
		fmt.Fprintf(&b, "\nMOVED, NOT CREDITED TO YOU\n")
		for _, s := range d.Unattributed {
			fmt.Fprintf(&b, "- %s\n", s.Sentence)
		}
	}
	if len(d.Regressions) > 0 {
		fmt.Fprintf(&b, "\nREGRESSIONS AFTER YOUR PRS (not wins)\n")
		for _, s := range d.Regressions {
			fmt.Fprintf(&b, "- %s\n", s.Sentence)
		}
	}
	if len(d.Numbers) > 0 {
		fmt.Fprintf(&b, "\nTHE WEEK IN NUMBERS\n")
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, n := range d.Numbers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", n.Label, n.Value, n.Note)
		}
		tw.Flush()
	}
	fmt.Fprintf(&b, "\nACCEPTED THIS REVIEW PERIOD (%s, since %s): %d\n", d.Period.Name, d.Period.Start.Format("Jan 2, 2006"), d.Period.Total)
	for _, c := range d.Period.ByCategory {
		fmt.Fprintf(&b, "  %-30s %d\n", c.Title, c.N)
	}
	if d.OlderPending > 0 {
		fmt.Fprintf(&b, "\n%s from earlier weeks still wait for a decision: %s drafts list\n",
			plural(d.OlderPending, "draft", "drafts"), d.Command)
	}
	fmt.Fprintf(&b, "\n-- \nSent by impact from your own machine; these numbers leave it only in this digest.\n")
	return b.String()
}

// cidSafe reduces s to [a-z0-9-] for a Content-ID or file name.
func cidSafe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}
