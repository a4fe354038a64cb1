// Package demo implements `impact demo`: the whole pipeline on built-in
// sample data, through the real collectors and clients, against in-process
// servers that speak GitHub's and Datadog's API shapes.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/impact-dev/impact/collectors/collectorstest"
	"github.com/impact-dev/impact/collectors/datadog"
	"github.com/impact-dev/impact/collectors/github"
	"github.com/impact-dev/impact/collectors/githubactions"
	"github.com/impact-dev/impact/collectors/pagerduty"
	"github.com/impact-dev/impact/collectors/prometheus"
	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/app"
	digestcmd "github.com/impact-dev/impact/internal/cmd/digest"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/period"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/internal/weblink"
	"github.com/impact-dev/impact/internal/world"
	"github.com/impact-dev/impact/internal/world/worldconfig"
	"github.com/impact-dev/impact/store"
)

// Options of `impact demo`.
type Options struct {
	// Store keeps the demo's store at this path instead of a temporary one.
	Store  string
	Output string
	// End is the demo's "now"; zero means the current hour.
	End time.Time
}

// Outcome is what a demo run produced (tests inspect it).
type Outcome struct {
	World  *world.World
	Drafts []model.Draft // measured (kind impact), pending
	// Activity are the activity drafts (reviews given) proposed.
	Activity  []model.Draft
	Win       model.Draft // the manual win the demo records
	Report    app.DraftReport
	StorePath string
}

// NewCmd returns `impact demo`.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline on built-in sample data; no accounts needed",
		Long: `demo starts local servers that speak the APIs of GitHub (pull requests and
Actions), Datadog, Prometheus, PagerDuty and Honeycomb, and an in-memory
orders database, serving 90 days of a made-up team's merged PRs, hourly latency,
error-rate, throughput, queue and job-duration series, CI and deploy runs,
and incidents. The real collectors read them, the
drafter finds the shifts that are real and credits them, and the drafts are
printed. Nothing leaves the machine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			_, err := Run(cmd.Context(), f, o)
			return err
		},
	}
	cmd.Flags().StringVar(&o.Store, "store", "", "keep the demo store at this path (default: a temporary file, removed afterwards)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "table or json")
	return cmd
}

// Run runs the demo and prints what it found.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) (*Outcome, error) {
	if o.Output == "" {
		o.Output = "table"
	}
	format, err := cmdutil.ParseFormat(o.Output, cmdutil.FormatTable, cmdutil.FormatJSON)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	end := o.End
	if end.IsZero() {
		end = f.Now().UTC().Truncate(time.Hour)
	}
	w := world.Demo(end)

	gh := httptest.NewServer(github.NewFake(w, collectorstest.FakeOptions{}, githubactions.FakeRoutes)) // pull requests and Actions
	defer gh.Close()
	dd := httptest.NewServer(datadog.NewFake(w, collectorstest.FakeOptions{}))
	defer dd.Close()
	prom := httptest.NewServer(prometheus.NewFake(w, collectorstest.FakeOptions{}))
	defer prom.Close()
	pd := httptest.NewServer(pagerduty.NewFake(w, collectorstest.FakeOptions{}))
	defer pd.Close()
	clock := &demoClock{t: end}
	hny := httptest.NewServer(honeycombFake(w, clock.Now))
	defer hny.Close()
	cfg := worldconfig.For(w, world.URLs{GitHub: gh.URL + "/", Actions: gh.URL + "/", Datadog: dd.URL, Prometheus: prom.URL, PagerDuty: pd.URL, SQL: demoDSN, Honeycomb: hny.URL})

	storePath := o.Store
	if storePath == "" {
		dir, err := os.MkdirTemp("", "impact-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(dir)
		storePath = filepath.Join(dir, "impact.db")
	} else if storePath, err = filepath.Abs(storePath); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg.Store.Path = storePath
	cfg.File = "(demo)"

	var cfgPath string
	var cfgDoc []byte
	if o.Store != "" {
		cfgPath = storePath + ".yaml"
		if cfgDoc, err = configDoc(cfg); err != nil {
			return nil, err
		}
		if err := checkTargets(ctx, storePath, cfgPath, cfgDoc); err != nil {
			return nil, err
		}
	}

	st, err := store.Open(storePath, store.Options{Timeout: 2 * time.Second, Logger: f.Logger})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := st.MarkDemo(ctx); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	p := &app.Pipeline{Config: cfg, Store: st, Registry: registry(w), Logger: f.Logger, Now: func() time.Time { return end }}
	fmt.Fprintf(f.IO.ErrOut, "collecting 90 days from local GitHub and Actions (%s), Datadog (%s), Prometheus (%s), PagerDuty (%s) and Honeycomb (%s) servers and an in-memory orders database…\n",
		gh.URL, dd.URL, prom.URL, pd.URL, hny.URL)
	past, err := honeycombHistory(ctx, &app.Pipeline{Config: cfg, Store: st, Registry: registry(w), Logger: f.Logger, Now: clock.Now}, w, end, clock)
	if err != nil {
		return nil, err
	}
	results, err := p.Collect(ctx, app.CollectOptions{Since: w.Start})
	if err != nil {
		return nil, fmt.Errorf("demo: collect: %w", err)
	}
	results = append(results, past...)
	samples, events := 0, 0
	for _, r := range results {
		samples += r.Samples
		events += r.Events
	}
	rep, err := p.DraftWith(ctx, app.DraftOptions{Full: true, KeepSeries: true})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	ds, err := st.Drafts(ctx, store.DraftFilter{Status: model.StatusPending})
	if err != nil {
		return nil, err
	}
	all := ds
	var acts []model.Draft
	ds = nil
	for _, d := range all {
		if d.Kind == model.KindActivity {
			acts = append(acts, d)
		} else {
			ds = append(ds, d)
		}
	}
	out := &Outcome{World: w, Drafts: ds, Activity: acts, Report: rep, StorePath: storePath}

	if format == cmdutil.FormatJSON {
		return out, render.JSON(f.IO.Out, render.Drafts(all))
	}
	authors := map[string]bool{}
	for _, pr := range w.PRs {
		authors[pr.Author] = true
	}
	wr := f.IO.Out
	fmt.Fprintf(wr, "impact demo — %d days of a made-up team: %d merged PRs by %d authors in %d repos, %d hourly series,\n",
		int(end.Sub(w.Start).Hours()/24), len(w.PRs), len(authors), len(w.Repos), len(w.Metrics))
	fmt.Fprintf(wr, "%d workflow runs of %d workflows and %d PagerDuty incidents on %d services.\n",
		len(w.CIRuns), len(w.Workflows), len(w.Incidents), len(w.Services))
	fmt.Fprintf(wr, "Collected %d samples and %d events (PRs, workflow runs, deploys, incidents) through the real collectors in %.1fs.\n\n",
		samples, events, time.Since(started).Seconds())

	fmt.Fprintf(wr, "%d draft(s) for @%s to review — shifts that are significant, sustained, in the better direction, and follow your PRs:\n\n", len(ds), w.Me)
	for _, d := range ds {
		printDraft(wr, d)
	}
	var builtins []string
	for _, se := range rep.Series {
		if !configured(cfg.Metrics, se.Metric.ID) {
			builtins = append(builtins, se.Metric.ID)
		}
	}
	printNotDrafted(wr, cfg.Metrics, builtins, ds, rep.Result)
	if err := showKinds(ctx, wr, st, cfg, out, end); err != nil {
		return out, err
	}
	fmt.Fprint(wr, digestcmd.DemoLine(ctx, cfg, st, end, o.Store, rep.Result, rep.Series))

	if o.Store != "" {
		if err := writeConfig(cfgPath, cfgDoc); err != nil {
			return out, err
		}
		fmt.Fprintf(wr, "Try next:  impact --config %s drafts list\n           impact --config %s drafts accept %s\n           impact --config %s export\n",
			cfgPath, cfgPath, firstID(ds), cfgPath)
	} else {
		fmt.Fprintln(wr, "Try next:  impact demo --store demo.db   (keeps the store, so you can accept, reject and export these drafts)")
	}
	return out, nil
}

// showKinds prints the statements that are not measured shifts: the
// activity drafts, a manual win (recorded as `impact wins add` would), and
// the review-period export they all end up in.
func showKinds(ctx context.Context, wr io.Writer, st *store.Store, cfg *config.Config, out *Outcome, end time.Time) error {
	if len(out.Activity) > 0 {
		fmt.Fprintf(wr, "%d activity statement(s), counted over the review period (kind activity; accepted, rejected and edited like any draft):\n\n", len(out.Activity))
		for _, d := range out.Activity {
			fmt.Fprintf(wr, "  %s  %s  %s\n  %s\n\n", d.ID, model.CategoryTitle(d.Category), d.Period.Name, d.Text)
		}
	}
	const winText = "Led the incident review of the checkout outage: 3 teams, a post-mortem with 9 action items"
	wins, err := st.Drafts(ctx, store.DraftFilter{Kind: model.KindManual})
	if err != nil {
		return err
	}
	var win model.Draft
	for _, d := range wins {
		if d.GeneratedText == winText { // a re-run over a kept store adds it once
			win = d
		}
	}
	if win.ID == "" {
		win, err = st.AddWin(ctx, store.Win{
			Text: winText, Category: "leadership", Date: end.Add(-10 * 24 * time.Hour).Truncate(24 * time.Hour),
			Links: []string{"https://wiki.example.com/postmortems/checkout-outage"},
		})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	out.Win = win
	fmt.Fprintf(wr, "A win no metric sees, as 'impact wins add' records it (kind manual, accepted):\n\n  %s  %s\n  %s\n\n", win.ID, model.CategoryTitle(win.Category), win.Text)
	per := period.Of(end, cfg.Review.Period, cfg.Location())
	ds, err := st.Drafts(ctx, store.DraftFilter{Since: per.Start, Until: per.End})
	if err != nil {
		return err
	}
	groups, _ := render.Review(ds, "")
	fmt.Fprintf(wr, "The review-period export, every status (impact export --period %s --status all):\n\n", per.Name)
	var b strings.Builder
	if err := render.ReviewMarkdown(&b, "", "", groups, nil, weblink.ForConfig(cfg)); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(wr, "  %s\n", line)
	}
	fmt.Fprintln(wr)
	return nil
}

func printDraft(w io.Writer, d model.Draft) {
	fmt.Fprintf(w, "  %s  %s  %s  confidence %s\n", d.ID, model.CategoryTitle(d.Category), drafter.FormatChange(d.Change, d.Metric.Better), d.Confidence)
	fmt.Fprintf(w, "  %s\n", d.Text)
	// The first evidence sentence carries the numbers and the test; the
	// rest (attribution, what else could explain it) is in `drafts show`.
	if len(d.Evidence) > 0 {
		fmt.Fprintf(w, "      · %s\n", d.Evidence[0])
	}
	fmt.Fprintln(w)
}

func configured(metrics []config.Metric, id string) bool {
	for _, m := range metrics {
		if m.ID == id {
			return true
		}
	}
	return false
}

// printNotDrafted explains every series without a draft: the configured
// metrics one by one, each with the verdict of its most telling shift
// (drafter.Result.Findings, as `impact explain` lists them all), and the
// built-in series (pagerduty.*, ci.*) that stayed flat on one line.
func printNotDrafted(w io.Writer, metrics []config.Metric, builtins []string, ds []model.Draft, res drafter.Result) {
	drafted := map[string]bool{}
	for _, d := range ds {
		drafted[d.Metric.ID] = true
	}
	best := map[string]drafter.Finding{}
	for _, f := range res.Findings {
		if b, ok := best[f.Metric.ID]; !ok || telling(f) > telling(b) {
			best[f.Metric.ID] = f
		}
	}
	var lines []string
	explained := map[string]bool{}
	note := func(id string) {
		f, ok := best[id]
		if !ok || drafted[id] || telling(f) == 0 {
			return
		}
		explained[id] = true
		lines = append(lines, fmt.Sprintf("  %-18s %s", id, notDrafted(f)))
	}
	for _, m := range metrics {
		note(m.ID)
		if !drafted[m.ID] && !explained[m.ID] {
			lines = append(lines, fmt.Sprintf("  %-18s no step found: steady, or moving too gradually to split into two levels (growth and wander are not steps)", m.ID))
		}
	}
	for _, id := range builtins {
		note(id)
	}
	sort.Strings(lines)
	var flat []string
	for _, id := range builtins {
		if !drafted[id] && !explained[id] {
			flat = append(flat, id)
		}
	}
	if len(flat) > 0 {
		lines = append(lines, "  built-in series with no shift worth naming: "+strings.Join(flat, ", "))
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "Not drafted, and why ('impact explain METRIC' lists every shift with its verdict):")
		fmt.Fprintln(w, strings.Join(lines, "\n"))
		fmt.Fprintln(w)
	}
}

// telling ranks a finding for the demo's one line per series: the verdicts
// a reader would otherwise mistake for a missed win first; 0 for the ones
// not worth a line (a drafted or overlapping shift, a change too small or
// not significant: noise the detector proposed).
func telling(f drafter.Finding) int {
	switch f.Verdict {
	case drafter.VerdictCredited:
		return 7
	case drafter.VerdictRegression:
		if len(f.Candidates) == 0 {
			return 1 // no PR went live before it: no one's change
		}
		return 6
	case drafter.VerdictNotSustained:
		return 5
	case drafter.VerdictDrift:
		return 4
	case drafter.VerdictNoCause:
		return 3
	case drafter.VerdictTooLittleData:
		return 2
	}
	return 0
}

// notDrafted is one finding in words, for the demo.
func notDrafted(f drafter.Finding) string {
	m := f.Metric
	moved := fmt.Sprintf("%s → %s (%s)", drafter.FormatValue(f.Before, m.Unit), drafter.FormatValue(f.After, m.Unit), drafter.FormatChange(f.Change, m.Better))
	var cause *drafter.Candidate
	for i, c := range f.Candidates {
		if c.Role == drafter.RoleLikeliest || c.Role == drafter.RoleCredited {
			cause = &f.Candidates[i]
			break
		}
	}
	if cause == nil && len(f.Candidates) > 0 {
		cause = &f.Candidates[0]
	}
	by := func(c *drafter.Candidate) string {
		return fmt.Sprintf("%s#%d by @%s", c.PR.Repo, c.PR.Number, strings.TrimPrefix(c.PR.Author, "@"))
	}
	when := f.At.Format("Jan 2")
	switch f.Verdict {
	case drafter.VerdictCredited:
		return fmt.Sprintf("moved %s on %s, credited to @%s: %s went live closest to it, not yours", moved, when, f.CreditedTo, by(cause))
	case drafter.VerdictRegression:
		after := ""
		if cause != nil {
			after = " after " + by(cause)
		}
		return fmt.Sprintf("regression %s on %s%s — never written as a win", moved, when, after)
	case drafter.VerdictNotSustained:
		after := ""
		if cause != nil {
			after = " (after " + by(cause) + ")"
		}
		return fmt.Sprintf("not sustained%s: %s", after, f.Reason)
	case drafter.VerdictDrift:
		return fmt.Sprintf("drift, not a step (around %s): %s", when, f.Reason)
	}
	return fmt.Sprintf("%s: %s", drafter.VerdictText(f.Verdict), f.Reason)
}

func after(p *model.PRRef) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf(" after %s#%d by @%s", p.Repo, p.Number, p.Author)
}

func firstID(ds []model.Draft) string {
	if len(ds) == 0 {
		return "ID"
	}
	return ds[0].ID
}

// writeConfig writes a minimal config that points at the demo store, so
// the drafts and export commands work on it after the demo's servers are gone.
// configDoc is the config file the demo writes next to its store.
func configDoc(cfg *config.Config) ([]byte, error) {
	doc := map[string]any{
		"me":    map[string]any{"github": []string(cfg.Me.GitHub), "name": cfg.Me.Name, "timezone": cfg.Me.Timezone},
		"store": map[string]any{"path": cfg.Store.Path},
		"drafter": map[string]any{
			"window": cfg.Drafter.Window, "settle": cfg.Drafter.Settle,
			"min_change": cfg.Drafter.MinChange, "alpha": cfg.Drafter.Alpha,
		},
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("demo: write config: %w", err)
	}
	hdr := "# Written by 'impact demo --store': points at the demo store so the drafts and export commands work on it.\n"
	return append([]byte(hdr), b...), nil
}

// checkTargets refuses, before anything is written, a --store that exists
// and is not a demo store (the demo's made-up PRs, incidents and drafts must
// never mix into a real store), and a config file beside it that exists
// with other contents than the demo's own (it is never overwritten).
func checkTargets(ctx context.Context, storePath, cfgPath string, cfgDoc []byte) error {
	if old, err := os.ReadFile(cfgPath); err == nil {
		if !bytes.Equal(old, cfgDoc) {
			return cmdutil.UsageError("demo: %s already exists and is not this demo's config; it is never overwritten (choose another --store)", cfgPath)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("demo: %w", err)
	}
	if _, err := os.Stat(storePath); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// Read-only: checking must not migrate or otherwise touch a real store.
	st, err := store.Open(storePath, store.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return cmdutil.UsageError("demo: %s already exists and is not a demo store (%v); the demo writes only to a new file or to a store an earlier demo made", storePath, err)
	}
	demo, err := st.IsDemo(ctx)
	_ = st.Close()
	if err != nil {
		return err
	}
	if !demo {
		return cmdutil.UsageError("demo: %s is an existing store that an earlier demo did not make; its data is never mixed with the demo's made-up data (choose a path that does not exist)", storePath)
	}
	return nil
}

// writeConfig writes the demo's config at path unless the same file is
// already there (checkTargets refused any other); it never replaces a file.
func writeConfig(path string, doc []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, doc) {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("demo: write config: %w", err)
	}
	if _, err := f.Write(doc); err != nil {
		f.Close()
		return fmt.Errorf("demo: write config %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo: write config %s: %w", path, err)
	}
	return nil
}
