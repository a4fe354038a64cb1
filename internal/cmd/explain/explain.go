// Package explain implements `impact explain`: every shift the drafter
// finds in one series, with what it made of it — the answer to "why was
// my win not drafted?".
package explain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/render"
)

// Options of `impact explain`.
type Options struct {
	Metric string
	At     string
	Output string
}

// NewCmd returns `impact explain`.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "explain METRIC [--at TIME] [-o json]",
		Short: "Every shift found in a series and why it was drafted or not",
		Long: `Explain runs the drafter over the stored data (saving nothing) and lists
every shift it finds in one series — a configured metric or a built-in
series such as pagerduty.pages_to_me — with its time and tolerance, the
before and after levels, the p-value, how sharp a step it is, the PRs that
went live before it and the verdict: drafted, regression, credited to
someone else, no PR went live before it, drift (not a step), too small,
not significant, not sustained, too little data, or credited by another
draft.

--at keeps the shifts within a window of a time (a date like 2026-10-01, an
RFC 3339 time, or a duration back from now like 30d), nearest first.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.UsageError("explain takes one metric id (see 'impact explain --help')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Metric = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return Run(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.At, "at", "", "only the shifts within a window of this time")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "table or json")
	return cmd
}

// Run prints the explanation.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	format, err := cmdutil.ParseFormat(o.Output, cmdutil.FormatTable, cmdutil.FormatJSON)
	if err != nil {
		return err
	}
	at, err := cmdutil.ParseTime("at", o.At, f.Now())
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	be, err := f.ReadBackend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	ex, err := be.Explain(ctx, backend.ExplainRequest{Metric: o.Metric, At: at})
	if errors.Is(err, backend.ErrUsage) {
		return &cmdutil.ExitError{Code: 2, Err: err}
	}
	if err != nil {
		return err
	}
	if format == cmdutil.FormatJSON {
		return render.JSON(f.IO.Out, ex)
	}
	Write(f.IO.Out, ex, at)
	return nil
}

const timeLayout = "2006-01-02 15:04 UTC"

// Write prints an explanation as text.
func Write(w io.Writer, ex drafter.Explanation, at time.Time) {
	m := ex.Metric
	name := m.Name
	if name != m.ID {
		name += " (" + m.ID + ")"
	}
	if ex.Samples == 0 {
		fmt.Fprintf(w, "%s: no data stored yet.\n", name)
		return
	}
	where := ""
	if !at.IsZero() {
		where = " near " + at.UTC().Format(timeLayout)
	}
	fmt.Fprintf(w, "%s: %s%s in %d samples from %s to %s.\n", name, plural(len(ex.Findings), "shift found", "shifts found"), where,
		ex.Samples, ex.From.Format("2006-01-02"), ex.To.Format("2006-01-02"))
	if len(ex.Findings) == 0 {
		fmt.Fprintln(w, "The detector found no level shift there: the series held steady, or moved too slowly or briefly to split into two levels.")
		return
	}
	for _, f := range ex.Findings {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s ± %s — %s\n", f.At.Format(timeLayout), human(f.Tolerance()), verdict(f))
		if f.Before > 0 || f.After > 0 {
			line := fmt.Sprintf("  %s → %s (%s)", drafter.FormatValue(f.Before, m.Unit), drafter.FormatValue(f.After, m.Unit), drafter.FormatChange(f.Change, m.Better))
			if f.PValue > 0 {
				line += fmt.Sprintf(", p = %.2g", f.PValue)
			}
			if f.Placebos > 0 {
				// Step is the change net of what the same windows measure
				// elsewhere (the trend's share): not the claimed change.
				line += fmt.Sprintf("; step %s%% net of the same windows elsewhere (%d placebos), sharpness %s", signed(100*f.Step, 0), f.Placebos, signed(f.StepZ, 1))
			}
			if f.Detrended {
				line += fmt.Sprintf("; trend %s%% a day removed", signed(100*f.TrendPerDay, 1))
			}
			fmt.Fprintln(w, line)
			if !f.BeforeWindow.Start.IsZero() {
				fmt.Fprintf(w, "  windows %s – %s and %s – %s\n", f.BeforeWindow.Start.Format("01-02 15:04"), f.BeforeWindow.End.Format("01-02 15:04"),
					f.AfterWindow.Start.Format("01-02 15:04"), f.AfterWindow.End.Format("01-02 15:04"))
			}
		}
		if len(f.Candidates) == 0 {
			fmt.Fprintln(w, "  candidates: none (no PR to the metric's repos went live within settle before it)")
		}
		for i, c := range f.Candidates {
			label := "  candidates: "
			if i > 0 {
				label = "              "
			}
			who := "@" + strings.TrimPrefix(c.PR.Author, "@")
			if c.Mine {
				who += " (mine)"
			}
			fmt.Fprintf(w, "%s%s#%d by %s, %s — %s\n", label, c.PR.Repo, c.PR.Number, who, offset(c.OffsetSeconds), role(c))
		}
		fmt.Fprintf(w, "  why: %s\n", f.Reason)
	}
}

func verdict(f drafter.Finding) string {
	switch f.Verdict {
	case drafter.VerdictDrafted:
		return "drafted " + f.DraftID
	case drafter.VerdictCredited:
		return "credited to @" + f.CreditedTo
	case drafter.VerdictOverlap:
		return "credited by another draft (" + f.DraftID + ")"
	}
	return drafter.VerdictText(f.Verdict)
}

func role(c drafter.Candidate) string {
	switch c.Role {
	case drafter.RoleCredited:
		return "credited"
	case drafter.RoleLikeliest:
		return "the likeliest cause"
	case drafter.RoleWith:
		if c.Mine {
			return "within the tolerance of the closest"
		}
		return "named (\"with\")"
	}
	return "farther from the shift: not credited"
}

func offset(s int64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d.Abs() < 30*time.Minute:
		return "at the shift"
	case d < 0:
		return human(-d) + " before"
	default:
		return human(d) + " after"
	}
}

func human(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%d h", int(d.Round(time.Hour).Hours()))
	default:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute).Minutes()))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// signed writes x with a sign and a true minus (−41, +2.6).
func signed(x float64, decimals int) string {
	return strings.Replace(fmt.Sprintf("%+.*f", decimals, x), "-", "−", 1)
}
