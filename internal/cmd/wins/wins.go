// Package wins implements `impact wins add|list|edit|rm`: wins no metric
// sees, written by the user and stored as accepted drafts of kind manual.
package wins

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/cmd/drafts"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/internal/weblink"
	"github.com/impact-dev/impact/store"
)

// DefaultCategory is the competency of a win added without --category:
// what no metric sees is most often leadership (incident command,
// mentoring, design reviews).
const DefaultCategory = "leadership"

// NewCmd returns the `wins` command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wins",
		Short: "Record wins no metric sees (stored as accepted statements of kind manual)",
	}
	cmd.AddCommand(newAddCmd(f, nil), newListCmd(f, nil), newEditCmd(f, nil), newRmCmd(f, nil))
	return cmd
}

// AddOptions of `wins add`.
type AddOptions struct {
	Text     string
	Category string
	Date     string
	Links    []string
	PRs      []string
	Metric   string
	Output   string
}

func newAddCmd(f *cmdutil.Factory, runF func(context.Context, *AddOptions) error) *cobra.Command {
	o := &AddOptions{}
	cmd := &cobra.Command{
		Use:   "add TEXT [--category C] [--date D] [--link URL] [--pr REPO#N] [--metric ID]",
		Short: "Add a win, as you want it exported",
		Example: `  impact wins add "Led the failover incident response: 4 teams, post-mortem with 12 action items" \
      --category leadership --date 2026-11-03 --link https://wiki.example.com/pm/42`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Text = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return RunAdd(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Category, "category", "", "competency: "+strings.Join(model.Categories, ", ")+" (default leadership, or the --metric's)")
	cmd.Flags().StringVar(&o.Date, "date", "", "when it happened (2026-11-03, or 3d for three days ago; default now)")
	cmd.Flags().StringArrayVar(&o.Links, "link", nil, "a URL to attach (repeatable)")
	cmd.Flags().StringArrayVar(&o.PRs, "pr", nil, "a PR to attach, owner/repo#123 (repeatable)")
	cmd.Flags().StringVar(&o.Metric, "metric", "", "a metric id; a measured shift of it may later be attached as evidence")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "table or json")
	return cmd
}

// RunAdd stores the win and prints it.
func RunAdd(ctx context.Context, f *cmdutil.Factory, o *AddOptions) error {
	format, err := cmdutil.ParseFormat(o.Output, cmdutil.FormatTable, cmdutil.FormatJSON)
	if err != nil {
		return err
	}
	text := strings.Join(strings.Fields(o.Text), " ")
	if text == "" {
		return cmdutil.UsageError("wins add: the text is empty")
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	w := store.Win{Text: text}
	if err := fill(&w, cfg, f.Now(), o.Category, o.Date, o.Links, o.PRs, o.Metric); err != nil {
		return err
	}
	if w.Category == "" {
		w.Category = DefaultCategory
	}
	return withBackend(f, cfg, func(be backend.Backend) error {
		d, err := be.AddWin(ctx, w)
		if err != nil {
			return err
		}
		return printWin(f, format, "added", d)
	})
}

// fill checks and converts the flag values into w. A metric without an
// explicit category gives its own.
func fill(w *store.Win, cfg *config.Config, now time.Time, category, date string, links, prs []string, metric string) error {
	cat, err := drafts.ParseCategory(category)
	if err != nil {
		return err
	}
	w.Category = cat
	if date != "" {
		t, err := cmdutil.ParseTime("date", date, now)
		if err != nil {
			return err
		}
		if t.After(now.Add(24 * time.Hour)) {
			return cmdutil.UsageError("--date %q is in the future", date)
		}
		w.Date = t
	}
	if links != nil {
		w.Links = []string{}
		for _, l := range links {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			u, err := url.Parse(l)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return cmdutil.UsageError("--link %q: want an http or https URL", l)
			}
			w.Links = append(w.Links, l)
		}
	}
	if prs != nil {
		w.PRs = []string{}
		for _, p := range prs {
			if strings.TrimSpace(p) == "" {
				continue
			}
			if _, _, ok := store.ParsePRKey(p); !ok {
				return cmdutil.UsageError("--pr %q: want owner/repo#123", p)
			}
			w.PRs = append(w.PRs, strings.TrimSpace(p))
		}
	}
	switch metric = strings.TrimSpace(metric); metric {
	case "":
	case "-":
		w.Metric = model.MetricRef{ID: "-"}
	default:
		ref, mcat, err := ResolveMetric(cfg, metric)
		if err != nil {
			return err
		}
		w.Metric = ref
		if w.Category == "" {
			w.Category = mcat
		}
	}
	return nil
}

// ResolveMetric finds a metric id in the config's metrics, or accepts the
// id of a built-in series, and returns what a draft carries of it and its
// category ("" when unknown).
func ResolveMetric(cfg *config.Config, id string) (model.MetricRef, string, error) {
	var ids []string
	for _, m := range cfg.Metrics {
		if m.ID == id {
			return model.MetricRef{ID: m.ID, Name: m.Name, Unit: m.Unit, Better: m.Better}, m.Category, nil
		}
		ids = append(ids, m.ID)
	}
	builtinPrefixes := all.Registry().SeriesPrefixes()
	for _, p := range builtinPrefixes {
		if strings.HasPrefix(id, p) && len(id) > len(p) {
			return model.MetricRef{ID: id, Name: id}, "", nil
		}
	}
	known := "none configured"
	if len(ids) > 0 {
		known = strings.Join(ids, ", ")
	}
	return model.MetricRef{}, "", cmdutil.UsageError("--metric %q: not a metric of the config (%s) nor a built-in series id (%s…)", id, known, strings.Join(builtinPrefixes, "…, "))
}

func withBackend(f *cmdutil.Factory, cfg *config.Config, fn func(backend.Backend) error) error {
	be, err := f.Backend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	return fn(be)
}

func printWin(f *cmdutil.Factory, format cmdutil.Format, verb string, d model.Draft) error {
	if format == cmdutil.FormatJSON {
		return render.JSON(f.IO.Out, render.Drafts([]model.Draft{d})[0])
	}
	_, err := fmt.Fprintf(f.IO.Out, "%s %s [%s, %s]: %s\n", verb, d.ID, d.Category, d.ShiftAt.UTC().Format("2006-01-02"), d.Text)
	return err
}

// ListOptions of `wins list`.
type ListOptions struct {
	Category string
	Since    string
	Output   string
}

func newListCmd(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	o := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List manual wins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return RunList(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Category, "category", "", "only this competency")
	cmd.Flags().StringVar(&o.Since, "since", "", "only wins since (e.g. 180d, 2026-07-01)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "table, json or markdown")
	return cmd
}

// RunList prints the manual wins, newest first.
func RunList(ctx context.Context, f *cmdutil.Factory, o *ListOptions) error {
	format, err := cmdutil.ParseFormat(o.Output, cmdutil.FormatTable, cmdutil.FormatJSON, cmdutil.FormatMarkdown)
	if err != nil {
		return err
	}
	cat, err := drafts.ParseCategory(o.Category)
	if err != nil {
		return err
	}
	since, err := cmdutil.ParseTime("since", o.Since, f.Now())
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	be, err := f.ReadBackend(cfg) // list only reads
	if err != nil {
		return err
	}
	defer be.Close()
	filter := store.DraftFilter{Kind: model.KindManual, Category: cat, Since: since}
	if format == cmdutil.FormatJSON {
		raws, err := be.DraftsJSON(ctx, filter)
		if err != nil {
			return err
		}
		return render.RawArray(f.IO.Out, raws)
	}
	ds, err := be.Drafts(ctx, filter)
	if err != nil {
		return err
	}
	if format == cmdutil.FormatMarkdown {
		return render.Markdown(f.IO.Out, "", ds, weblink.ForConfig(cfg))
	}
	return render.Wins(f.IO.Out, ds)
}

// EditOptions of `wins edit`.
type EditOptions struct {
	ID       string
	Text     string
	Category string
	Date     string
	Links    []string
	PRs      []string
	Metric   string
	Output   string
	// Changed reports whether a flag was given (cobra's Flags().Changed).
	Changed func(name string) bool
	// Editor runs the user's editor on a file (no flags given); tests
	// replace it.
	Editor func(path string) error
}

func newEditCmd(f *cmdutil.Factory, runF func(context.Context, *EditOptions) error) *cobra.Command {
	o := &EditOptions{}
	cmd := &cobra.Command{
		Use:   "edit ID [--text T] [--category C] [--date D] [--link URL] [--pr REPO#N] [--metric ID|-]",
		Short: "Change a manual win (without flags: its text, in $EDITOR)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			o.Changed = cmd.Flags().Changed
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return RunEdit(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Text, "text", "", "the new statement")
	cmd.Flags().StringVar(&o.Category, "category", "", "the new competency")
	cmd.Flags().StringVar(&o.Date, "date", "", "the new date")
	cmd.Flags().StringArrayVar(&o.Links, "link", nil, "replace the links (repeatable; --link '' removes them)")
	cmd.Flags().StringArrayVar(&o.PRs, "pr", nil, "replace the PRs (repeatable; --pr '' removes them)")
	cmd.Flags().StringVar(&o.Metric, "metric", "", "the metric id, or - to remove it")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "table or json")
	return cmd
}

// RunEdit changes the win's given fields, or its text in $EDITOR.
func RunEdit(ctx context.Context, f *cmdutil.Factory, o *EditOptions) error {
	format, err := cmdutil.ParseFormat(o.Output, cmdutil.FormatTable, cmdutil.FormatJSON)
	if err != nil {
		return err
	}
	changed := o.Changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	any := false
	for _, n := range []string{"text", "category", "date", "link", "pr", "metric"} {
		any = any || changed(n)
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	var w store.Win
	if changed("text") {
		if w.Text = strings.Join(strings.Fields(o.Text), " "); w.Text == "" {
			return cmdutil.UsageError("--text is empty")
		}
	}
	var links, prs []string
	if changed("link") {
		links = o.Links
	}
	if changed("pr") {
		prs = o.PRs
	}
	if err := fill(&w, cfg, f.Now(), o.Category, o.Date, links, prs, o.Metric); err != nil {
		return err
	}
	return withBackend(f, cfg, func(be backend.Backend) error {
		if !any {
			d, err := be.Draft(ctx, o.ID)
			if err != nil {
				return err
			}
			if d.Kind != model.KindManual {
				return cmdutil.UsageError("draft %s is a %s draft, not a manual win; use impact drafts edit %s", d.ID, d.Kind, d.ID)
			}
			text, err := editText(f, o.Editor, d.Text)
			if err != nil {
				return err
			}
			if text == "" || text == d.Text {
				fmt.Fprintln(f.IO.ErrOut, "unchanged")
				return nil
			}
			w.Text = text
			o.ID = d.ID
		}
		d, err := be.UpdateWin(ctx, o.ID, w)
		if err != nil {
			return err
		}
		return printWin(f, format, "edited", d)
	})
}

// editText runs the editor on text and returns the result ("" cancels).
func editText(f *cmdutil.Factory, editor func(string) error, text string) (string, error) {
	tmp, err := os.CreateTemp("", "impact-win-*.txt")
	if err != nil {
		return "", fmt.Errorf("edit: %w", err)
	}
	defer os.Remove(tmp.Name())
	fmt.Fprintf(tmp, "%s\n# Edit the win above. Lines starting with # are ignored; an empty text cancels.\n", text)
	tmp.Close()
	if editor == nil {
		editor = func(path string) error { return drafts.RunEditor(f, path) }
	}
	if err := editor(tmp.Name()); err != nil {
		return "", fmt.Errorf("edit: editor: %w", err)
	}
	raw, err := os.ReadFile(tmp.Name())
	if err != nil {
		return "", fmt.Errorf("edit: %w", err)
	}
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			lines = append(lines, l)
		}
	}
	return strings.Join(strings.Fields(strings.Join(lines, " ")), " "), nil
}

func newRmCmd(f *cmdutil.Factory, runF func(context.Context, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "rm ID...",
		Short: "Remove manual wins",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), strings.Join(args, " "))
			}
			return RunRm(cmd.Context(), f, args)
		},
	}
}

// RunRm removes each win; it reports every id it could not remove and
// fails if any.
func RunRm(ctx context.Context, f *cmdutil.Factory, ids []string) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	return withBackend(f, cfg, func(be backend.Backend) error {
		var errs []error
		for _, id := range ids {
			d, err := be.DeleteWin(ctx, id)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(f.IO.Out, "removed %s: %s\n", d.ID, d.Text)
		}
		return errors.Join(errs...)
	})
}
