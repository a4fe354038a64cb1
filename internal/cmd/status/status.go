// Package status implements `impact status`.
package status

import (
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/render"
)

// Options of `impact status`.
type Options struct{ Output string }

// SourceStatus is one source's line in `status -o json`.
type SourceStatus struct {
	Source       string     `json:"source"`
	Configured   bool       `json:"configured"`
	LastRun      *time.Time `json:"last_run"`
	LastSuccess  *time.Time `json:"last_success"`
	LastError    string     `json:"last_error"`
	LastDuration float64    `json:"last_duration_seconds"`
}

// Report is `status -o json`.
type Report struct {
	Store struct {
		Path          string         `json:"path"`
		SizeBytes     int64          `json:"size_bytes"`
		SchemaVersion int            `json:"schema_version"`
		Series        int            `json:"series"`
		Samples       int64          `json:"samples"`
		PRs           int            `json:"prs"`
		Deploys       int            `json:"deploys"`
		Drafts        map[string]int `json:"drafts"`
	} `json:"store"`
	Sources []SourceStatus `json:"sources"`
}

// NewCmd returns `impact status`.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "status [-o json]",
		Short: "Collectors' last run, errors, and store size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return Run(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "table or json")
	return cmd
}

// Run prints the status.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	format, err := cmdutil.ParseFormat(o.Output, cmdutil.FormatTable, cmdutil.FormatJSON)
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
	bs, err := be.Status(ctx)
	if err != nil {
		return err
	}
	stats, runs := bs.Stats, bs.Runs
	var rep Report
	rep.Store.Path = bs.Path
	rep.Store.SizeBytes = stats.FileSize
	rep.Store.SchemaVersion = stats.SchemaVersion
	rep.Store.Series = stats.Series
	rep.Store.Samples = int64(stats.Samples)
	rep.Store.PRs = stats.PRs
	rep.Store.Deploys = stats.Deploys
	rep.Store.Drafts = map[string]int{}
	for k, v := range stats.Drafts {
		rep.Store.Drafts[string(k)] = v
	}
	names := map[string]bool{}
	for _, s := range cfg.ConfiguredSources() {
		names[s] = true
	}
	for s := range runs {
		names[s] = true
	}
	configured := map[string]bool{}
	for _, s := range cfg.ConfiguredSources() {
		configured[s] = true
	}
	var sorted []string
	for s := range names {
		sorted = append(sorted, s)
	}
	sort.Strings(sorted)
	for _, s := range sorted {
		ss := SourceStatus{Source: s, Configured: configured[s]}
		if r, ok := runs[s]; ok {
			ss.LastRun = timePtr(r.LastStart)
			ss.LastSuccess = timePtr(r.LastSuccess)
			ss.LastError = r.LastError
			ss.LastDuration = r.LastDuration.Seconds()
		}
		rep.Sources = append(rep.Sources, ss)
	}
	if format == cmdutil.FormatJSON {
		if rep.Sources == nil {
			rep.Sources = []SourceStatus{}
		}
		return render.JSON(f.IO.Out, rep)
	}
	w := f.IO.Out
	fmt.Fprintf(w, "store   %s (%s, schema v%d): %d series, %d samples, %d PRs, drafts %v\n\n",
		rep.Store.Path, humanBytes(rep.Store.SizeBytes), rep.Store.SchemaVersion, rep.Store.Series, rep.Store.Samples, rep.Store.PRs, rep.Store.Drafts)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLAST RUN\tLAST SUCCESS\tDURATION\tLAST ERROR")
	for _, s := range rep.Sources {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fs\t%s\n", s.Source, ago(s.LastRun, f.Now()), ago(s.LastSuccess, f.Now()), s.LastDuration, render.Ellipsis(s.LastError, 80))
	}
	return tw.Flush()
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return now.Sub(*t).Round(time.Second).String() + " ago"
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
