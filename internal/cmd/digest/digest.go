// Package digest implements `impact digest preview|send`.
package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/config"
	dg "github.com/impact-dev/impact/digest"
	"github.com/impact-dev/impact/drafter"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/store"
)

// NewCmd returns the `digest` command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Preview or send the weekly digest email",
		Long: `The weekly digest lists the week's new drafts (with the commands to accept or
reject them), what moved that is not credited to you, regressions after your
PRs (never as wins), the week in numbers and your accepted statements this
half year. Weeks are ISO weeks (2026-W48) in me.timezone.

"impact serve" sends it on digest.schedule; "impact digest send" sends it now.
Each week is sent at most once: a week already sent is skipped unless --force.`,
	}
	cmd.AddCommand(newPreviewCmd(f, nil), newSendCmd(f, nil))
	return cmd
}

// PreviewOptions of `digest preview`.
type PreviewOptions struct {
	Week string
	HTML string
}

func newPreviewCmd(f *cmdutil.Factory, runF func(context.Context, *PreviewOptions) error) *cobra.Command {
	o := &PreviewOptions{}
	cmd := &cobra.Command{
		Use:   "preview [--html FILE] [--week 2026-W48]",
		Short: "Print a week's digest as text (and write its HTML to a file)",
		Long: `preview prints the digest of a week as plain text to stdout. With --html it also
writes the HTML version, charts embedded, to FILE (open it in a browser).
The default week is the current one, so far. Nothing is sent or recorded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return RunPreview(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Week, "week", "", "ISO week, e.g. 2026-W48 (default: the current week)")
	cmd.Flags().StringVar(&o.HTML, "html", "", "also write the HTML digest to this file")
	return cmd
}

// parseWeek reads --week in me.timezone; empty gives def.
func parseWeek(v string, loc *time.Location, def dg.Week) (dg.Week, error) {
	if strings.TrimSpace(v) == "" {
		return def, nil
	}
	w, err := dg.ParseWeek(strings.TrimSpace(v), loc)
	if err != nil {
		return dg.Week{}, cmdutil.UsageError("--%v", err)
	}
	return w, nil
}

// RunPreview prints the week's digest. It reads the store, or asks the
// daemon when `impact serve` holds it; the output is the same.
func RunPreview(ctx context.Context, f *cmdutil.Factory, o *PreviewOptions) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	week, err := parseWeek(o.Week, cfg.Location(), dg.WeekOf(f.Now(), cfg.Location()))
	if err != nil {
		return err
	}
	be, err := f.ReadBackend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	p, err := be.DigestPreview(ctx, backend.DigestPreviewRequest{Week: week.String(), Command: commandPrefix(f), HTML: o.HTML != ""})
	if err != nil {
		return err
	}
	if o.HTML != "" {
		if err := writeFile(o.HTML, p.HTML); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "wrote the HTML digest of %s to %s\n", p.Week, o.HTML)
	}
	_, err = fmt.Fprint(f.IO.Out, p.Text)
	return err
}

// Preview gathers, builds and renders a week's digest without sending or
// recording anything.
func Preview(ctx context.Context, cfg *config.Config, st *store.Store, week dg.Week, now time.Time, analyze dg.Analyzer, command string) (*dg.Rendered, *dg.Digest, error) {
	return backend.PreviewDigest(ctx, cfg, st, week, now, analyze, command)
}

func writeFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("digest: writing the HTML: %w", err)
	}
	return nil
}

// Analyzer runs the drafter over the store the way `impact collect` does,
// for the digest's regressions and unattributed shifts, and hands over the
// series it read (built-in ones included) for the charts.
func Analyzer(cfg *config.Config, st *store.Store, now func() time.Time) dg.Analyzer {
	return backend.DigestAnalyzer(cfg, st, now)
}

// commandPrefix is how the digest's accept/reject commands start: with
// the --config this command was given, so they work when pasted.
func commandPrefix(f *cmdutil.Factory) string {
	if f.ConfigPath != nil && *f.ConfigPath != "" {
		p := *f.ConfigPath
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		return "impact --config " + shellQuote(p)
	}
	return "impact"
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SendOptions of `digest send`.
type SendOptions struct {
	Week  string
	To    []string
	Force bool
	// For tests: the mailer and the backoff between attempts (nil: SMTP
	// from the config, exponential backoff). They apply when this process
	// opens the store; through the daemon, its own SMTP settings do.
	Mailer  dg.Mailer
	BackOff backoff.BackOff
}

func newSendCmd(f *cmdutil.Factory, runF func(context.Context, *SendOptions) error) *cobra.Command {
	o := &SendOptions{}
	cmd := &cobra.Command{
		Use:   "send [--to ADDR] [--week 2026-W48] [--force]",
		Short: "Send a week's digest now",
		Long: `send emails the digest of a week through digest.smtp. The default week is the
last complete one (the week before the current week in me.timezone), which
is what "impact serve" sends on Monday morning.

A week is sent at most once: a week already sent, or whose send was
interrupted, is not sent again unless --force. An empty week is recorded as
skipped and nothing is sent. A failed send is retried with backoff and
recorded; "impact status" shows the last digest's state.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return RunSend(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Week, "week", "", "ISO week, e.g. 2026-W48 (default: the last complete week)")
	cmd.Flags().StringArrayVar(&o.To, "to", nil, "send to this address instead of digest.to (repeatable, or a comma-separated list)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "send even if this week's digest was already sent")
	return cmd
}

// RunSend sends the week's digest.
func RunSend(ctx context.Context, f *cmdutil.Factory, o *SendOptions) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	week, err := parseWeek(o.Week, cfg.Location(), dg.LastCompleteWeek(f.Now(), cfg.Location()))
	if err != nil {
		return err
	}
	var to []string
	for _, v := range o.To {
		if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return cmdutil.UsageError("--to %q: an address must not contain control characters", v)
		}
		if strings.TrimSpace(v) == "" {
			continue
		}
		list, err := mail.ParseAddressList(v)
		if err != nil {
			return cmdutil.UsageError("--to %q: not an email address (%v)", v, err)
		}
		for _, a := range list {
			to = append(to, a.Address)
		}
	}
	if len(to) == 0 && len(cfg.Digest.To) == 0 {
		return &cmdutil.ExitError{Code: 2, Err: fmt.Errorf("digest: no recipients: set digest.to in %s (see 'impact config example') or give --to", cfgName(cfg))}
	}
	be, err := f.Backend(cfg)
	if err != nil {
		return err
	}
	defer be.Close()
	res, err := be.SendDigest(ctx, backend.DigestSendRequest{
		Week: week.String(), To: to, Force: o.Force, Command: commandPrefix(f),
		Mailer: o.Mailer, BackOff: o.BackOff,
	})
	if errors.Is(err, dg.ErrConfig) {
		return &cmdutil.ExitError{Code: 2, Err: err}
	}
	if err != nil {
		return err
	}
	w := f.IO.Out
	switch res.Outcome {
	case dg.OutcomeAlreadySent:
		fmt.Fprintf(w, "The digest of %s was already %s (%s, message <%s>); nothing sent. Use --force to send it again.\n",
			res.Week, res.Record.State, res.Record.UpdatedAt.In(cfg.Location()).Format("2006-01-02 15:04 MST"), res.Record.MessageID)
	case dg.OutcomeSkipped:
		fmt.Fprintf(w, "%s Recorded as skipped; nothing sent.\n", res.EmptyLine)
	default:
		fmt.Fprintf(w, "Sent the digest of %s to %s: %q (message <%s>, attempt %d).\n",
			res.Week, strings.Join(res.To, ", "), res.Subject, res.MessageID, res.Record.Attempts)
	}
	return nil
}

func cfgName(cfg *config.Config) string {
	if cfg.File != "" {
		return cfg.File
	}
	return "the config"
}

// StatusLine is the digest's line in `impact status`, from
// (*store.Store).Digests (newest week first): the last week's state,
// attempts and error; "" when no digest was ever sent or skipped.
func StatusLine(recs []store.DigestRecord, loc *time.Location) string {
	if len(recs) == 0 {
		return ""
	}
	r := recs[0]
	line := fmt.Sprintf("digest  %s %s at %s", r.Week, r.State, r.UpdatedAt.In(loc).Format("2006-01-02 15:04 MST"))
	if r.Attempts > 1 {
		line += fmt.Sprintf(" after %d attempts", r.Attempts)
	}
	if r.LastError != "" {
		line += ": " + r.LastError
	}
	return line + "\n"
}

// DemoLine writes the demo week's digest (the week that contains now) as
// HTML next to the demo store, or in the temporary directory without one,
// and returns the line `impact demo` prints about it. res is the demo's
// drafter result. It never fails the demo: an error becomes the line.
func DemoLine(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time, storeFlag string, res drafter.Result, series []drafter.Series) string {
	dir := os.TempDir()
	command := "impact"
	if storeFlag != "" {
		dir = filepath.Dir(cfg.Store.Path)
		command = "impact --config " + shellQuote(cfg.Store.Path+".yaml")
	}
	path := filepath.Join(dir, "impact-demo-digest.html")
	week := dg.WeekOf(now, cfg.Location())
	analyze := func(context.Context) (dg.Analysis, error) { return dg.Analysis{Result: res, Series: series}, nil }
	r, d, err := Preview(ctx, cfg, st, week, now, analyze, command)
	if err == nil {
		err = writeFile(path, r.StandaloneHTML)
	}
	if err != nil {
		return fmt.Sprintf("Weekly digest: not written (%v)\n\n", err)
	}
	return fmt.Sprintf("Weekly digest of the demo week (%s, %s): %s\n           (open it in a browser; 'impact digest preview' prints it as text)\n\n",
		d.Week, d.Subject(), path)
}

// NewSender is the daemon's digest sender (daemon.Options.Digester): the
// digest package's Sender with the drafter's shifts wired in.
func NewSender(logger *slog.Logger) *dg.Sender {
	return &dg.Sender{Analyze: Analyzer, Logger: logger}
}
