// Package export implements `impact export`: statements for a review,
// grouped by competency.
package export

import (
	"context"
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
	"github.com/impact-dev/impact/internal/weblink"
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

// Document is the JSON export (render.ExportDocument: the daemon's
// /v1/export answers the same shape).
type Document = render.ExportDocument

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
	be, err := f.ReadBackend(cfg)
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
			doc.SetDrafts(ds)
			return render.JSON(f.IO.Out, doc)
		}
		// Streamed in the export's order, a few batches of drafts in
		// memory at a time; a store that holds every draft as this build
		// encodes it has them written without decoding.
		filter.Order = store.OrderCompetency
		c, ok := be.(interface{ CanonicalDrafts() bool })
		canonical := ok && c.CanonicalDrafts()
		return WriteJSON(f.IO.Out, doc, canonical, func(fn func(raw []byte) error) error {
			return be.EachDraftJSON(ctx, filter, fn)
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
			return render.Markdown(f.IO.Out, title, ds, weblink.ForConfig(cfg))
		}
		return render.ReviewMarkdown(f.IO.Out, title, o.Level, groups, highlights, weblink.ForConfig(cfg))
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

// WriteJSON streams the export document (see render.WriteExportJSON) with
// the drafts each gives as their stored JSON; canonical says that each is
// exactly json.Marshal's encoding of its draft (store.Store.CanonicalDrafts),
// which is then not decoded.
func WriteJSON(w io.Writer, doc Document, canonical bool, each func(fn func(raw []byte) error) error) error {
	if canonical {
		return render.WriteExportJSON(w, doc, nil, each)
	}
	return render.WriteExportJSON(w, doc, decodeDraft, each)
}

// decodeDraft decodes a draft's stored JSON as the store reads drafts.
func decodeDraft(raw []byte, d *model.Draft) error {
	if err := gojson.Unmarshal(raw, d); err != nil {
		return fmt.Errorf("draft: %w", err)
	}
	return nil
}

func dateOr(t time.Time, s string) string {
	if t.IsZero() {
		return s
	}
	return t.Format("2006-01-02")
}
