// Package root assembles the impact command tree.
package root

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/internal/cmd/collect"
	"github.com/impact-dev/impact/internal/cmd/configcmd"
	"github.com/impact-dev/impact/internal/cmd/demo"
	"github.com/impact-dev/impact/internal/cmd/detect"
	digestcmd "github.com/impact-dev/impact/internal/cmd/digest"
	"github.com/impact-dev/impact/internal/cmd/drafts"
	"github.com/impact-dev/impact/internal/cmd/explain"
	"github.com/impact-dev/impact/internal/cmd/export"
	"github.com/impact-dev/impact/internal/cmd/review"
	"github.com/impact-dev/impact/internal/cmd/serve"
	"github.com/impact-dev/impact/internal/cmd/status"
	"github.com/impact-dev/impact/internal/cmd/storecmd"
	versioncmd "github.com/impact-dev/impact/internal/cmd/version"
	"github.com/impact-dev/impact/internal/cmd/wins"
	"github.com/impact-dev/impact/internal/cmdutil"
)

// NewCmdRoot returns the root command wired to f.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	var configPath string
	var verbose bool
	f.ConfigPath = &configPath
	cmd := &cobra.Command{
		Use:   "impact",
		Short: "Turn the numbers behind backend work into quantified accomplishment statements",
		Long: `impact collects the numbers behind backend work (latency, error rates, pages,
build times, merged PRs), finds the shifts that are real, credits them to your
merged PRs and drafts statements you can accept, reject or edit.

Start with "impact demo" to see it work on built-in sample data.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			if verbose {
				f.Logger = slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
		},
	}
	cmd.SetOut(f.IO.Out)
	cmd.SetErr(f.IO.ErrOut)
	cmd.PersistentFlags().StringVar(&configPath, "config", "", "config file (default $IMPACT_CONFIG or ~/.config/impact/config.yaml)")
	cmd.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log debug details to stderr")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cmdutil.UsageError("%v (see '%s --help')", err, c.CommandPath())
	})
	cmd.AddCommand(
		demo.NewCmd(f, nil),
		collect.NewCmd(f, nil),
		drafts.NewCmd(f),
		wins.NewCmd(f),
		digestcmd.NewCmd(f),
		export.NewCmd(f, nil),
		detect.NewCmd(f, nil),
		configcmd.NewCmd(f),
		status.NewCmd(f, nil),
		explain.NewCmd(f, nil),
		serve.NewCmd(f),
		review.NewCmd(f),
		storecmd.NewCmd(f),
		versioncmd.NewCmd(f),
	)
	refuseUnknownSubcommands(cmd)
	cmd.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			switch {
			case err != nil:
				return cmdutil.UsageError("%v", err)
			case len(rest) > 0:
				return unknownCommand(target, rest[0])
			}
			return target.Help()
		},
	})
	return cmd
}

// refuseUnknownSubcommands makes every command group (a command with
// subcommands and nothing of its own to run) answer an unknown subcommand
// with a usage error (exit 2) that suggests the nearest ones, instead of
// cobra's default of printing help and exiting 0 — a script's "impact config
// chek" must not pass. A group given no subcommand still prints its help.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if !cmd.HasSubCommands() || cmd.Run != nil || cmd.RunE != nil {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		return unknownCommand(c, args[0])
	}
}

// unknownCommand is the one-line usage error for an unknown subcommand.
func unknownCommand(c *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
		for _, more := range s[1:] {
			msg += fmt.Sprintf(" or %q?", more)
		}
	}
	return cmdutil.UsageError("%s (see '%s --help')", msg, c.CommandPath())
}

// NewFactory returns the production dependencies.
func NewFactory() *cmdutil.Factory {
	io := cmdutil.System()
	return &cmdutil.Factory{
		IO:         io,
		LoadConfig: all.Registry().Load,
		Now:        func() time.Time { return time.Now().UTC() },
		Logger:     slog.New(slog.NewTextHandler(io.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Getenv:     os.Getenv,
	}
}

// Main runs the CLI with args and returns the exit code.
func Main(ctx context.Context, f *cmdutil.Factory, args []string) int {
	cmd := NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(f.IO.ErrOut, "impact: interrupted")
		return 1
	}
	fmt.Fprintf(f.IO.ErrOut, "impact: %v\n", err)
	code := cmdutil.ExitCode(err)
	if code == 1 && isUsage(err) {
		code = 2
	}
	return code
}

// isUsage recognises cobra's own argument errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand flag", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
