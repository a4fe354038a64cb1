// Package serve implements `impact serve`, the daemon.
package serve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/config"
	digestcmd "github.com/impact-dev/impact/internal/cmd/digest"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/daemon"
)

// Options of `impact serve`.
type Options struct {
	// LogFormat is auto (text on a terminal, JSON otherwise), text or json.
	LogFormat string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// Scheduling knobs for tests and benchmarks (hidden flags); zero
	// values are the daemon's defaults.
	StartJitter time.Duration
	BackoffBase time.Duration
	BackoffMax  time.Duration
}

// StopTimeout is how long a shutdown may take before the process gives up
// waiting and exits anyway (the store is crash-safe either way).
const StopTimeout = 9500 * time.Millisecond

// NewCmd returns `impact serve`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: collect on schedule, draft, send digests, serve the local API",
		Long: `serve runs until stopped: it polls every configured source on its interval,
drafts when new data arrives, sends the weekly digest on digest.schedule, and
serves the local API on server.listen (which every other impact command then
uses, since the daemon holds the store), /metrics for Prometheus, and /healthz
and /readyz.

SIGTERM or SIGINT stops it cleanly (exit 0); SIGHUP reloads the config — a
config that does not load is logged and the running one kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if v, _ := cmd.Flags().GetBool("verbose"); v && !cmd.Flags().Changed("log-level") {
				o.LogLevel = "debug"
			}
			return Run(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.LogFormat, "log-format", "auto", "auto (text on a terminal, JSON otherwise), text or json")
	cmd.Flags().StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().DurationVar(&o.StartJitter, "start-jitter", 0, "longest random delay before each source's first poll (default 5s; negative: none)")
	cmd.Flags().DurationVar(&o.BackoffBase, "backoff-base", 0, "first wait after a failed poll, doubling per failure (default 1m)")
	cmd.Flags().DurationVar(&o.BackoffMax, "backoff-max", 0, "longest wait after failed polls (default 1h, or the interval when longer)")
	for _, name := range []string{"start-jitter", "backoff-base", "backoff-max"} {
		_ = cmd.Flags().MarkHidden(name)
	}
	return cmd
}

// NewLogger returns the daemon's logger on w: text when format is text (or
// auto on a terminal), JSON otherwise.
func NewLogger(w io.Writer, tty bool, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, cmdutil.UsageError("--log-level %q: want debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	case "auto", "":
		if tty {
			return slog.New(slog.NewTextHandler(w, ho)), nil
		}
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, cmdutil.UsageError("--log-format %q: want auto, text or json", format)
}

// Run runs the daemon until ctx is cancelled.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	log, err := NewLogger(f.IO.ErrOut, f.IO.ErrTTY, o.LogFormat, o.LogLevel)
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	path := cfg.File
	if path == "" && f.ConfigPath != nil {
		path = config.Find(*f.ConfigPath)
	}

	// A shutdown that hangs must not keep a supervisor waiting forever.
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-stopped:
			return
		case <-ctx.Done():
		}
		select {
		case <-stopped:
		case <-time.After(StopTimeout):
			log.Error("shutdown took too long; exiting without waiting further", "timeout", StopTimeout)
			os.Exit(1)
		}
	}()

	err = daemon.Run(ctx, cfg, daemon.Options{
		ConfigPath:  path,
		LoadConfig:  f.LoadConfig,
		Logger:      log,
		StartJitter: o.StartJitter,
		BackoffBase: o.BackoffBase,
		BackoffMax:  o.BackoffMax,
		// The weekly digest on digest.schedule (cron, in me.timezone).
		Digester: digestcmd.NewSender(log),
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
