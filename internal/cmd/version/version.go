// Package version implements `impact version`.
package version

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/version"
	"github.com/impact-dev/impact/store"
)

// NewCmd returns `impact version`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(f.IO.Out, "impact %s (%s, %s/%s, store schema v%d)\n", version.String(), runtime.Version(), runtime.GOOS, runtime.GOARCH, store.SchemaVersion)
			return err
		},
	}
}
