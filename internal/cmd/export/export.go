// Package export implements `impact export`: statements for a review,
// grouped by competency.
package export

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/internal/cmd/drafts"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/store"
)

// Options of `impact export`.
type Options struct {
	Since  string
	Until  string
	Status string
	Format string
}

// NewCmd returns `impact export`.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "export [--since D] [--until D] [--status accepted] [-f markdown|json|csv]",
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
	return cmd
}

// Document is the JSON export.
type Document struct {
	Since       *time.Time     `json:"since"`
	Until       *time.Time     `json:"until"`
	Status      string         `json:"status"`
	GeneratedAt time.Time      `json:"generated_at"`
	Groups      []render.Group `json:"groups"`
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
	be, err := f.Backend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	ds, err := be.Drafts(ctx, store.DraftFilter{Status: status, Since: since, Until: until})
	if err != nil {
		return err
	}
	switch format {
	case cmdutil.FormatJSON:
		doc := Document{Status: o.Status, GeneratedAt: now.Truncate(time.Second), Groups: render.ByCategory(ds)}
		if !since.IsZero() {
			doc.Since = &since
		}
		if !until.IsZero() {
			doc.Until = &until
		}
		if doc.Groups == nil {
			doc.Groups = []render.Group{}
		}
		return render.JSON(f.IO.Out, doc)
	case cmdutil.FormatCSV:
		return render.CSV(f.IO.Out, ds)
	default:
		return render.Markdown(f.IO.Out, Title(cfg.Me.Name, since, until), ds)
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

func dateOr(t time.Time, s string) string {
	if t.IsZero() {
		return s
	}
	return t.Format("2006-01-02")
}
