// Package configcmd implements `impact config check|show|example`.
package configcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/internal/cmdutil"
)

// NewCmd returns the `config` command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check, show or print an example configuration"}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "check",
			Short: "Validate the config; exit 2 listing every problem",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(f.IO.Out, "%s: ok (sources: %s; %d metric(s))\n", cfg.File, joinOr(cfg.ConfiguredSources(), "none"), len(cfg.Metrics))
				return err
			},
		},
		&cobra.Command{
			Use:   "show",
			Short: "Print the effective config with defaults applied and secrets hidden",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				out, err := cfg.Show()
				if err != nil {
					return err
				}
				_, err = f.IO.Out.Write(out)
				return err
			},
		},
		&cobra.Command{
			Use:   "example",
			Short: "Print a commented example config",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				_, err := fmt.Fprint(f.IO.Out, all.Registry().Example())
				return err
			},
		},
	)
	return cmd
}

func joinOr(ss []string, empty string) string {
	if len(ss) == 0 {
		return empty
	}
	out := ss[0]
	for _, s := range ss[1:] {
		out += ", " + s
	}
	return out
}
