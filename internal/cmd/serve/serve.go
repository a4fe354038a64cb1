// Package serve implements `impact serve`, the daemon.
package serve

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/internal/cmdutil"
)

// NewCmd returns `impact serve`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: collect on schedule, draft, send digests, serve the local API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := f.Config(); err != nil {
				return err
			}
			return errors.New("serve: the daemon is not built yet; run 'impact collect' on a schedule (cron, systemd timer) meanwhile")
		},
	}
}
