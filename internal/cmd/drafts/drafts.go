// Package drafts implements `impact drafts list|show|accept|reject|edit`.
package drafts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/internal/weblink"
	"github.com/impact-dev/impact/store"
)

// NewCmd returns the `drafts` command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drafts",
		Short: "List, show, accept, reject or edit drafted statements",
	}
	cmd.AddCommand(newListCmd(f), newShowCmd(f), newDecideCmd(f, model.StatusAccepted), newDecideCmd(f, model.StatusRejected), newEditCmd(f, nil))
	return cmd
}

// withBackend loads the config and opens the backend (the store, or the
// daemon's API while `impact serve` holds it) around fn.
func withBackend(f *cmdutil.Factory, fn func(backend.Backend) error) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	be, err := f.Backend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	return fn(be)
}

// withReadBackend is withBackend for commands that only read: it never
// creates the store and needs only read access to it (Factory.ReadBackend).
// fn gets the config too (the Markdown output's link hosts).
func withReadBackend(f *cmdutil.Factory, fn func(*config.Config, backend.Backend) error) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	be, err := f.ReadBackend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	return fn(cfg, be)
}

// ListOptions of `drafts list`.
type ListOptions struct {
	Status   string
	Category string
	Since    string
	Output   string
}

func newListCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List drafts (pending by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunList(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Status, "status", "pending", "pending, accepted, rejected or all")
	cmd.Flags().StringVar(&o.Category, "category", "", "only this competency ("+strings.Join(model.Categories, ", ")+")")
	cmd.Flags().StringVar(&o.Since, "since", "", "only shifts since (e.g. 90d, 2026-01-01)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "table, json or markdown")
	return cmd
}

// ParseStatus reads a --status value; "all" is the empty status.
func ParseStatus(v string) (model.Status, error) {
	if v == "all" || v == "" {
		return "", nil
	}
	s := model.Status(v)
	if !s.Valid() {
		return "", cmdutil.UsageError("--status %q: want pending, accepted, rejected or all", v)
	}
	return s, nil
}

// ParseCategory checks a --category value.
func ParseCategory(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	for _, c := range model.Categories {
		if c == v {
			return v, nil
		}
	}
	return "", cmdutil.UsageError("--category %q: want one of %s", v, strings.Join(model.Categories, ", "))
}

// RunList prints the drafts that match o.
func RunList(ctx context.Context, f *cmdutil.Factory, o *ListOptions) error {
	format, err := cmdutil.ParseFormat(o.Output, cmdutil.FormatTable, cmdutil.FormatJSON, cmdutil.FormatMarkdown)
	if err != nil {
		return err
	}
	status, err := ParseStatus(o.Status)
	if err != nil {
		return err
	}
	cat, err := ParseCategory(o.Category)
	if err != nil {
		return err
	}
	since, err := cmdutil.ParseTime("since", o.Since, f.Now())
	if err != nil {
		return err
	}
	return withReadBackend(f, func(cfg *config.Config, st backend.Backend) error {
		filter := store.DraftFilter{Status: status, Category: cat, Since: since}
		if format == cmdutil.FormatJSON {
			// The stored JSON is the output format: stream it without
			// decoding and re-encoding, a chunk of drafts at a time.
			out := render.NewArrayWriter(f.IO.Out)
			if err := st.EachDraftJSON(ctx, filter, out.Add); err != nil {
				return err
			}
			return out.Close()
		}
		ds, err := st.Drafts(ctx, filter)
		if err != nil {
			return err
		}
		switch format {
		case cmdutil.FormatMarkdown:
			return render.Markdown(f.IO.Out, "", ds, weblink.ForConfig(cfg))
		default:
			if len(ds) == 0 && status == model.StatusPending {
				_, err := fmt.Fprintln(f.IO.Out, "No pending drafts. Run 'impact collect' to look for new shifts, or 'impact drafts list --status all'.")
				return err
			}
			return render.Table(f.IO.Out, ds)
		}
	})
}

func newShowCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one draft with its evidence",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := cmdutil.ParseFormat(output, cmdutil.FormatTable, cmdutil.FormatJSON)
			if err != nil {
				return err
			}
			return withReadBackend(f, func(_ *config.Config, st backend.Backend) error {
				d, err := st.Draft(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if format == cmdutil.FormatJSON {
					return render.JSON(f.IO.Out, render.Drafts([]model.Draft{d})[0])
				}
				return render.Detail(f.IO.Out, d)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return cmd
}

// DecideOptions of `drafts accept|reject`.
type DecideOptions struct {
	IDs    []string
	Status model.Status
	Text   string
	Reason string
}

func newDecideCmd(f *cmdutil.Factory, status model.Status) *cobra.Command {
	o := &DecideOptions{Status: status}
	verb := "accept"
	short := "Accept drafts (optionally with an edited statement)"
	if status == model.StatusRejected {
		verb, short = "reject", "Reject drafts; they are never proposed again"
	}
	cmd := &cobra.Command{
		Use:   verb + " ID...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.IDs = args
			return RunDecide(cmd.Context(), f, o)
		},
	}
	if status == model.StatusAccepted {
		cmd.Flags().StringVar(&o.Text, "text", "", "the statement as you want it exported")
	} else {
		cmd.Flags().StringVar(&o.Reason, "reason", "", "why (kept with the draft)")
	}
	return cmd
}

// RunDecide accepts or rejects each id; it reports every unknown id and
// fails if any was unknown.
func RunDecide(ctx context.Context, f *cmdutil.Factory, o *DecideOptions) error {
	if o.Text != "" && len(o.IDs) > 1 {
		return cmdutil.UsageError("--text applies to one draft; give a single ID")
	}
	return withBackend(f, func(st backend.Backend) error {
		var errs []error
		for _, id := range o.IDs {
			d, err := st.Decide(ctx, id, o.Status, strings.TrimSpace(o.Text), o.Reason, f.Now().UTC())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(f.IO.Out, "%s %s%s: %s\n", o.Status, d.ID, Replaced(d), d.Text)
		}
		return errors.Join(errs...)
	})
}

// Replaced says which decision the draft's current one replaced:
// " (was rejected: not mine)", " (was already accepted)", or "" when the
// draft was pending.
func Replaced(d model.Draft) string {
	prev, ok := d.Previous()
	if !ok || prev.Status == model.StatusPending {
		return ""
	}
	if prev.Status == d.Status && prev.Reason == d.Reason {
		return " (was already " + string(prev.Status) + ")"
	}
	s := " (was " + string(prev.Status)
	if prev.Reason != "" {
		s += ": " + prev.Reason
	}
	return s + ")"
}

// EditOptions of `drafts edit`.
type EditOptions struct {
	ID string
	// Editor runs the user's editor on path; tests replace it.
	Editor func(path string) error
}

func newEditCmd(f *cmdutil.Factory, editor func(string) error) *cobra.Command {
	o := &EditOptions{Editor: editor}
	return &cobra.Command{
		Use:   "edit ID",
		Short: "Edit a draft's statement in $EDITOR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			if o.Editor == nil {
				o.Editor = func(path string) error { return RunEditor(f, path) }
			}
			return RunEdit(cmd.Context(), f, o)
		},
	}
}

// RunEdit writes the draft's text to a temporary file, runs the editor on
// it and stores the result. An empty result leaves the draft unchanged.
func RunEdit(ctx context.Context, f *cmdutil.Factory, o *EditOptions) error {
	return withBackend(f, func(st backend.Backend) error {
		d, err := st.Draft(ctx, o.ID)
		if err != nil {
			return err
		}
		tmp, err := os.CreateTemp("", "impact-draft-*.txt")
		if err != nil {
			return fmt.Errorf("edit: %w", err)
		}
		defer os.Remove(tmp.Name())
		fmt.Fprintf(tmp, "%s\n# Edit the statement above. Lines starting with # are ignored; an empty statement cancels.\n# Drafted as: %s\n", d.Text, d.GeneratedText)
		tmp.Close()
		if err := o.Editor(tmp.Name()); err != nil {
			return fmt.Errorf("edit: editor: %w", err)
		}
		raw, err := os.ReadFile(tmp.Name())
		if err != nil {
			return fmt.Errorf("edit: %w", err)
		}
		var lines []string
		for _, l := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				lines = append(lines, strings.TrimSpace(l))
			}
		}
		text := strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
		if text == "" {
			fmt.Fprintln(f.IO.ErrOut, "empty statement: nothing changed")
			return nil
		}
		if text == d.Text {
			fmt.Fprintln(f.IO.ErrOut, "unchanged")
			return nil
		}
		d, err = st.EditText(ctx, d.ID, text)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.IO.Out, "edited %s: %s\n", d.ID, d.Text)
		return nil
	})
}

// RunEditor runs $VISUAL or $EDITOR (else vi) on path.
func RunEditor(f *cmdutil.Factory, path string) error {
	editor := f.Getenv("VISUAL")
	if editor == "" {
		editor = f.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	parts := strings.Fields(editor)
	c := exec.Command(parts[0], append(parts[1:], path)...)
	c.Stdin, c.Stdout = os.Stdin, os.Stdout
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s: %w %s", editor, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
