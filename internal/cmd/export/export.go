// Package export implements `impact export`: statements for a review,
// grouped by competency.
package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/internal/cmd/drafts"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/period"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/store"
)

// Options of `impact export`.
type Options struct {
	Since  string
	Until  string
	Status string
	Format string
	// Period is a review period: 2026-H2, 2026-Q3 or 2026.
	Period string
	// Level orders and picks for a review form: mid, senior or staff.
	Level string
}

// NewCmd returns `impact export`.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "export [--period 2026-H2 | --since D --until D] [--level mid|senior|staff] [--status accepted] [-f markdown|json|csv]",
		Short: "Export statements for a review, grouped by competency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return Run(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Since, "since", "", "shifts since (e.g. 180d, 2026-01-01)")
	cmd.Flags().StringVar(&o.Until, "until", "", "shifts before (e.g. 2026-07-01)")
	cmd.Flags().StringVar(&o.Status, "status", "accepted", "accepted, pending, rejected or all")
	cmd.Flags().StringVarP(&o.Format, "format", "f", "markdown", "markdown, json or csv")
	cmd.Flags().StringVar(&o.Period, "period", "", "a review period in me.timezone: 2026-H2, 2026-Q3 or 2026 (instead of --since/--until)")
	cmd.Flags().StringVar(&o.Level, "level", "", "order and highlights for a review form: mid, senior or staff (never changes a number)")
	return cmd
}

// Document is the JSON export.
type Document struct {
	Since       *time.Time    `json:"since"`
	Until       *time.Time    `json:"until"`
	Period      *model.Period `json:"period,omitempty"`
	Level       string        `json:"level,omitempty"`
	Status      string        `json:"status"`
	GeneratedAt time.Time     `json:"generated_at"`
	// Highlights are the ids of the statements the level leads with; each
	// is also in its group.
	Highlights []string       `json:"highlights,omitzero"`
	Groups     []render.Group `json:"groups"`
}

// Run prints the export.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	format, err := cmdutil.ParseFormat(o.Format, cmdutil.FormatMarkdown, cmdutil.FormatJSON, cmdutil.FormatCSV)
	if err != nil {
		return err
	}
	status, err := drafts.ParseStatus(o.Status)
	if err != nil {
		return err
	}
	if o.Level != "" && !slices.Contains(render.Levels, o.Level) {
		return cmdutil.UsageError("--level %q: want mid, senior or staff", o.Level)
	}
	if o.Period != "" && (o.Since != "" || o.Until != "") {
		return cmdutil.UsageError("--period and --since/--until select the same thing; give one or the other")
	}
	now := f.Now().UTC()
	since, err := cmdutil.ParseTime("since", o.Since, now)
	if err != nil {
		return err
	}
	until, err := cmdutil.ParseTime("until", o.Until, now)
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	var per *model.Period
	if o.Period != "" {
		p, err := period.Parse(o.Period, cfg.Location())
		if err != nil {
			return cmdutil.UsageError("--period: %v", err)
		}
		per, since, until = &p, p.Start, p.End
	}
	be, err := f.Backend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	filter := store.DraftFilter{Status: status, Since: since, Until: until}
	if format == cmdutil.FormatJSON {
		doc := Document{Status: o.Status, Period: per, Level: o.Level, GeneratedAt: now.Truncate(time.Second)}
		if !since.IsZero() {
			doc.Since = &since
		}
		if !until.IsZero() {
			doc.Until = &until
		}
		if o.Level != "" {
			// A level reorders the competencies and picks highlights: the
			// statements of a review period are held at once.
			ds, err := be.Drafts(ctx, filter)
			if err != nil {
				return err
			}
			groups, highlights := render.Review(ds, o.Level)
			doc.Highlights = []string{} // with a level, always a list
			for _, d := range highlights {
				doc.Highlights = append(doc.Highlights, d.ID)
			}
			if doc.Groups = groups; doc.Groups == nil {
				doc.Groups = []render.Group{}
			}
			return render.JSON(f.IO.Out, doc)
		}
		// Streamed in the export's order, one draft in memory at a time.
		filter.Order = store.OrderCompetency
		return WriteJSON(f.IO.Out, doc, func(fn func(model.Draft) error) error {
			return be.EachDraftJSON(ctx, filter, func(raw []byte) error {
				var d model.Draft
				if err := gojson.Unmarshal(raw, &d); err != nil { // as the store reads drafts
					return fmt.Errorf("draft: %w", err)
				}
				return fn(d)
			})
		})
	}
	ds, err := be.Drafts(ctx, filter)
	if err != nil {
		return err
	}
	groups, highlights := render.Review(ds, o.Level)
	switch format {
	case cmdutil.FormatCSV:
		var rows []model.Draft
		for _, g := range groups {
			rows = append(rows, g.Drafts...)
		}
		return render.CSV(f.IO.Out, rows)
	default:
		title := Title(cfg.Me.Name, since, until)
		if per != nil {
			loc := cfg.Location()
			title = Title(cfg.Me.Name, time.Time{}, time.Time{}) + fmt.Sprintf(", %s (%s – %s)", period.Label(*per),
				per.Start.In(loc).Format("2006-01-02"), per.End.In(loc).AddDate(0, 0, -1).Format("2006-01-02"))
		}
		if per == nil && o.Level == "" {
			return render.Markdown(f.IO.Out, title, ds)
		}
		return render.ReviewMarkdown(f.IO.Out, title, o.Level, groups, highlights)
	}
}

// Title is the Markdown export's heading (the review page's Period uses it
// too, so both give the same text).
func Title(name string, since, until time.Time) string {
	title := "Accomplishments"
	if name != "" {
		title = name + " — accomplishments"
	}
	if !since.IsZero() || !until.IsZero() {
		title += fmt.Sprintf(" (%s – %s)", dateOr(since, "start"), dateOr(until, "now"))
	}
	return title
}

// WriteJSON writes doc as render.JSON does, with doc.Groups made of the
// drafts each gives, which must come grouped by category in the export's
// order (store.OrderCompetency). Nothing but the draft being written is
// held in memory.
func WriteJSON(w io.Writer, doc Document, each func(fn func(model.Draft) error) error) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	// The document with no groups, cut before its empty list.
	doc.Groups = []render.Group{}
	head, err := indented(doc, "")
	if err != nil {
		return err
	}
	const emptyTail = "[]\n}\n"
	if !bytes.HasSuffix(head, []byte(emptyTail)) {
		return fmt.Errorf("export: unexpected document encoding")
	}
	bw.Write(head[:len(head)-len(emptyTail)])
	cur, n := "", 0
	var draftBuf bytes.Buffer
	draftEnc := json.NewEncoder(&draftBuf)
	draftEnc.SetEscapeHTML(false)
	draftEnc.SetIndent("        ", "  ")
	err = each(func(d model.Draft) error {
		if n == 0 || d.Category != cur {
			if n == 0 {
				bw.WriteString("[\n")
			} else {
				bw.WriteString("\n      ]\n    },\n")
			}
			g, err := indented(render.Group{Category: d.Category, Title: model.CategoryTitle(d.Category), Drafts: []model.Draft{}}, "    ")
			if err != nil {
				return err
			}
			const groupTail = "[]\n    }\n"
			bw.WriteString("    ")
			bw.Write(g[:len(g)-len(groupTail)])
			bw.WriteString("[\n        ")
			cur = d.Category
		} else {
			bw.WriteString(",\n        ")
		}
		n++
		draftBuf.Reset()
		if err := draftEnc.Encode(render.Drafts([]model.Draft{d})[0]); err != nil {
			return err
		}
		// Without Encode's newline: the separator or the closing follows.
		_, err := bw.Write(bytes.TrimSuffix(draftBuf.Bytes(), []byte("\n")))
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		bw.WriteString(emptyTail)
	} else {
		bw.WriteString("\n      ]\n    }\n  ]\n}\n")
	}
	return bw.Flush()
}

// indented is render.JSON's encoding of v with every line after the first
// prefixed.
func indented(v any, prefix string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func dateOr(t time.Time, s string) string {
	if t.IsZero() {
		return s
	}
	return t.Format("2006-01-02")
}
