// Package collect implements `impact collect`.
package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/collectors"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/progress"
)

// Options of `impact collect`.
type Options struct {
	Source string
	Since  string
	// NoDraft skips the drafter after collecting.
	NoDraft bool
	// Redraft runs a full drafter pass over everything stored, not only
	// the series that changed.
	Redraft bool
}

// NewCmd returns `impact collect`. runF replaces the run function in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "collect [--source S] [--since 90d]",
		Short: "Collect once (backfill), then draft; exits when done",
		Long: `Collect polls every configured source once — or just --source — storing what
is new since the last poll, then runs the drafter over the series that changed
(nothing new: no drafter pass). --since backfills: it reads history from that
point (90d, 1y, 2026-01-01) even where earlier polls got further. --redraft
runs the drafter over every series, changed or not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return Run(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Source, "source", "", "collect only this source (github, datadog, ...)")
	cmd.Flags().StringVar(&o.Since, "since", "", "backfill from this far back (e.g. 90d, 1y, 2026-01-01)")
	cmd.Flags().BoolVar(&o.NoDraft, "no-draft", false, "do not run the drafter afterwards")
	cmd.Flags().BoolVar(&o.Redraft, "redraft", false, "run the drafter over every series, not only those that changed")
	cmd.MarkFlagsMutuallyExclusive("no-draft", "redraft")
	return cmd
}

// Run collects, records each source's outcome, drafts, and prints a summary.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	since, err := cmdutil.ParseTime("since", o.Since, f.Now())
	if err != nil {
		return err
	}
	be, err := f.Backend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()

	var bar *progress.Bar
	var prog collectors.Progress
	if f.IO.ErrTTY {
		bar = progress.NewBar(f.IO.ErrOut, "collecting")
		prog = bar
	}
	start := time.Now()
	results, collectErr := be.Collect(ctx, backend.CollectRequest{Source: o.Source, Since: since}, prog)
	if bar != nil {
		bar.Finish()
	}
	if results == nil && collectErr != nil {
		if errors.Is(collectErr, context.Canceled) {
			return collectErr
		}
		if errors.Is(collectErr, backend.ErrUsage) {
			return cmdutil.UsageError("%v", collectErr)
		}
		return collectErr
	}
	printResults(f, results, ctx.Err() != nil)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !o.NoDraft {
		// Incremental: a poll that stored nothing new costs the drafter a
		// look at the store's change log (see app.Pipeline.DraftWith).
		rep, err := be.RunDrafter(ctx, backend.DraftRequest{Full: o.Redraft})
		if err != nil {
			return err
		}
		if rep.Examined == 0 {
			fmt.Fprintln(f.IO.ErrOut, "drafter: nothing changed since its last pass")
			return collectFailed(results, collectErr)
		}
		fmt.Fprintf(f.IO.ErrOut, "drafter: %d new, %d updated draft(s); %d regression(s) and %d shift(s) credited to others not drafted (%.1fs)\n",
			rep.Added, rep.Updated, rep.Regressions, rep.Unattributed, time.Since(start).Seconds())
		if rep.Added > 0 {
			fmt.Fprintln(f.IO.ErrOut, "review them with: impact drafts list")
		}
	}
	return collectFailed(results, collectErr)
}

// collectFailed is collect's error: nil, or how many sources failed.
func collectFailed(results []backend.SourceResult, collectErr error) error {
	if collectErr != nil {
		// Each failed source has had its one line above; the error says
		// how many, not the list again.
		failed := 0
		for _, r := range results {
			if r.Error != "" {
				failed++
			}
		}
		if failed == 0 {
			return collectErr
		}
		return &sourcesFailed{n: failed, of: len(results), err: collectErr}
	}
	return nil
}

// sourcesFailed is collect's error when some sources failed: a count (each
// source's error was printed on its line); errors.Is/As see the errors.
type sourcesFailed struct {
	n, of int
	err   error
}

func (e *sourcesFailed) Error() string {
	if e.n == e.of {
		return fmt.Sprintf("%d of %d sources failed", e.n, e.of)
	}
	return fmt.Sprintf("%d of %d sources failed (the others were collected)", e.n, e.of)
}

func (e *sourcesFailed) Unwrap() error { return e.err }

func printResults(f *cmdutil.Factory, results []backend.SourceResult, interrupted bool) {
	for _, r := range results {
		if interrupted && strings.Contains(r.Error, context.Canceled.Error()) {
			// Ctrl-C: not the source's failure; a backfill resumes next run.
			fmt.Fprintf(f.IO.ErrOut, "%-15s interrupted after %s: %d samples, %d events stored\n", r.Source, r.Duration.Round(time.Millisecond), r.Samples, r.Events)
			continue
		}
		if r.Error != "" {
			fmt.Fprintf(f.IO.ErrOut, "%-15s failed after %s: %s\n", r.Source, r.Duration.Round(time.Millisecond), r.Error)
			continue
		}
		fmt.Fprintf(f.IO.ErrOut, "%-15s ok in %s: %d samples, %d events\n", r.Source, r.Duration.Round(time.Millisecond), r.Samples, r.Events)
	}
}
