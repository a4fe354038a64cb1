// Package status implements `impact status`.
package status

import (
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	digestcmd "github.com/impact-dev/impact/internal/cmd/digest"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/store"
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
	// ConsecutiveFailures counts the failed runs since the last success.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// LastSamples and LastEvents were written by the last run.
	LastSamples int `json:"last_samples"`
	LastEvents  int `json:"last_events"`
	// RateLimit is the budget the vendor reported at the end of the last
	// run; nil when it reports none (or the source never ran).
	RateLimit *RateLimit `json:"rate_limit"`
}

// RateLimit is a source's API budget.
type RateLimit struct {
	Limit     int `json:"limit"`
	Remaining int `json:"remaining"`
	// Reset is when the budget refills; nil when the vendor does not say.
	Reset *time.Time `json:"reset"`
}

// DigestStatus is the newest week's digest in `status -o json`.
type DigestStatus struct {
	Week      string    `json:"week"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	MessageID string    `json:"message_id"`
	To        []string  `json:"to"`
	UpdatedAt time.Time `json:"updated_at"`
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
		Incidents     int            `json:"incidents"`
		CIRuns        int            `json:"ci_runs"`
		Reviews       int            `json:"reviews"`
		Drafts        map[string]int `json:"drafts"`
	} `json:"store"`
	Sources []SourceStatus `json:"sources"`
	// Digest is the newest week's digest record; null when none was ever
	// sent, tried or skipped.
	Digest *DigestStatus `json:"digest"`
}

// NewCmd returns `impact status`.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "status [-o json]",
		Short: "Collectors' last run, errors, rate-limit budget, digest and store size",
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
	be, err := f.ReadBackend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	bs, err := be.Status(ctx)
	if err != nil {
		return err
	}
	rep := Build(cfg, bs)
	if format == cmdutil.FormatJSON {
		return render.JSON(f.IO.Out, rep)
	}
	w := f.IO.Out
	now := f.Now()
	fmt.Fprintf(w, "store   %s (%s, schema v%d): %d series, %d samples, %d PRs, %d deploys, %d incidents, %d CI runs, %d reviews given; drafts: %d pending, %d accepted, %d rejected\n",
		rep.Store.Path, humanBytes(rep.Store.SizeBytes), rep.Store.SchemaVersion, rep.Store.Series, rep.Store.Samples,
		rep.Store.PRs, rep.Store.Deploys, rep.Store.Incidents, rep.Store.CIRuns, rep.Store.Reviews,
		rep.Store.Drafts[string(model.StatusPending)], rep.Store.Drafts[string(model.StatusAccepted)], rep.Store.Drafts[string(model.StatusRejected)])
	switch {
	case bs.Digest != nil:
		fmt.Fprint(w, digestcmd.StatusLine([]store.DigestRecord{*bs.Digest}, cfg.Location()))
	case len(cfg.Digest.To) == 0:
		fmt.Fprintln(w, "digest  not configured (digest.to is empty)")
	default:
		fmt.Fprintln(w, "digest  none sent yet")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLAST RUN\tLAST SUCCESS\tDURATION\tWROTE\tRATE LIMIT\tLAST ERROR")
	for _, s := range rep.Sources {
		wrote := "-"
		if s.LastRun != nil {
			wrote = fmt.Sprintf("%d samples, %d events", s.LastSamples, s.LastEvents)
		}
		lastErr := render.Ellipsis(s.LastError, 80)
		if s.LastError != "" && s.ConsecutiveFailures > 1 {
			lastErr = fmt.Sprintf("(%d failures in a row) %s", s.ConsecutiveFailures, lastErr)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fs\t%s\t%s\t%s\n", s.Source, ago(s.LastRun, now), ago(s.LastSuccess, now), s.LastDuration,
			wrote, Budget(s.RateLimit, now), lastErr)
	}
	return tw.Flush()
}

// Build computes the report `impact status` prints (and the review page's
// Status shows) from the backend's answer.
func Build(cfg *config.Config, bs backend.Status) Report {
	stats, runs := bs.Stats, bs.Runs
	var rep Report
	rep.Store.Path = bs.Path
	rep.Store.SizeBytes = stats.FileSize
	rep.Store.SchemaVersion = stats.SchemaVersion
	rep.Store.Series = stats.Series
	rep.Store.Samples = int64(stats.Samples)
	rep.Store.PRs = stats.PRs
	rep.Store.Deploys = stats.Deploys
	rep.Store.Incidents = stats.Incidents
	rep.Store.CIRuns = stats.CIRuns
	rep.Store.Reviews = stats.Reviews
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
			ss.ConsecutiveFailures = r.ConsecutiveFailures
			ss.LastSamples, ss.LastEvents = r.Samples, r.Events
			if r.RateLimitLimit > 0 || r.RateLimitRemaining > 0 || !r.RateLimitReset.IsZero() {
				ss.RateLimit = &RateLimit{Limit: r.RateLimitLimit, Remaining: r.RateLimitRemaining, Reset: timePtr(r.RateLimitReset)}
			}
		}
		rep.Sources = append(rep.Sources, ss)
	}
	if d := bs.Digest; d != nil {
		rep.Digest = &DigestStatus{Week: d.Week, State: string(d.State), Attempts: d.Attempts, LastError: d.LastError,
			MessageID: d.MessageID, To: d.To, UpdatedAt: d.UpdatedAt.UTC()}
		if rep.Digest.To == nil {
			rep.Digest.To = []string{}
		}
	}
	if rep.Sources == nil {
		rep.Sources = []SourceStatus{}
	}
	return rep
}

// Budget is the RATE LIMIT column, as of the last run: "4821/5000 left,
// resets in 37m0s" (or "reset 5m0s ago"), "-" when the vendor reports no
// budget.
func Budget(r *RateLimit, now time.Time) string {
	if r == nil {
		return "-"
	}
	s := fmt.Sprintf("%d/%d left", r.Remaining, r.Limit)
	if r.Limit == 0 {
		s = fmt.Sprintf("%d left", r.Remaining)
	}
	if r.Reset != nil && r.Reset.After(now) {
		s += ", resets in " + r.Reset.Sub(now).Round(time.Second).String()
	} else if r.Reset != nil {
		s += ", reset " + now.Sub(*r.Reset).Round(time.Second).String() + " ago"
	}
	return s
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
