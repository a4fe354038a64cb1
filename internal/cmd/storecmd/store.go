// Package storecmd implements `impact store check|restore`.
package storecmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/store"
)

// NewCmd returns the `store` command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Check the store, or restore it from a backup",
		Long: `The store (store.path) is checked before every use; a damaged one is an
error naming the newest backup. Backups sit beside it: <path>.bak-daily-<day>
(one a day, the newest 7 kept) and <path>.bak-v<N>-<time> (before each
schema migration).`,
	}
	cmd.AddCommand(newCheckCmd(f), newRestoreCmd(f))
	return cmd
}

// CheckOutput is `store check -o json`.
type CheckOutput struct {
	store.CheckReport
	Backups []store.Backup `json:"backups"`
}

func newCheckCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Read every page, key and value of the store; exit 3 when it is damaged",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunCheck(cmd.Context(), f, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return cmd
}

// RunCheck checks the configured store read-only; it never creates it.
func RunCheck(ctx context.Context, f *cmdutil.Factory, output string) error {
	format, err := cmdutil.ParseFormat(output, cmdutil.FormatTable, cmdutil.FormatJSON)
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	path := cfg.Store.Path
	if err := cmdutil.StoreExists(path); err != nil {
		return err
	}
	rep, err := store.CheckFile(ctx, path, store.Options{Timeout: store.DefaultTimeout, Logger: f.Logger})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w; the daemon checks the store every time it starts: stop it to check now", err)
	}
	if err != nil {
		return err
	}
	bs, err := store.Backups(path)
	if err != nil {
		return err
	}
	if format == cmdutil.FormatJSON {
		if bs == nil {
			bs = []store.Backup{}
		}
		return render.JSON(f.IO.Out, CheckOutput{CheckReport: rep, Backups: bs})
	}
	w := f.IO.Out
	fmt.Fprintf(w, "store %s: ok (schema v%d, %s: every page of %d buckets and %d keys and values read, keys in order)\n",
		path, rep.SchemaVersion, humanBytes(rep.FileSize), rep.Buckets, rep.Keys)
	if len(bs) == 0 {
		fmt.Fprintln(w, "backups: none yet (the daemon and every command that writes take one a day)")
		return nil
	}
	fmt.Fprintf(w, "backups: %d, newest %s (%s)\n", len(bs), bs[0].Path, bs[0].ModTime.In(cfg.Location()).Format("2006-01-02 15:04 MST"))
	return nil
}

func newRestoreCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore [BACKUP]",
		Short: "Replace the store with a backup (default: the newest sound one); the replaced file is kept",
		Long: `restore checks the backup, moves the current store file aside to
<path>.replaced-<time> (nothing is deleted) and puts a copy of the backup in
its place. Stop the daemon first: a store in use is not replaced.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			backup := ""
			if len(args) == 1 {
				backup = args[0]
			}
			return RunRestore(cmd.Context(), f, backup)
		},
	}
	return cmd
}

// RunRestore restores the configured store from backup ("" = the newest
// sound one).
func RunRestore(ctx context.Context, f *cmdutil.Factory, backup string) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	res, err := store.Restore(ctx, cfg.Store.Path, backup, f.Now())
	if err != nil {
		if errors.Is(err, store.ErrDamaged) {
			// The backup is damaged, not the store: no exit 3.
			return &cmdutil.ExitError{Code: 1, Err: err}
		}
		return err
	}
	w := f.IO.Out
	fmt.Fprintf(w, "restored %s from %s (checked: schema v%d, %d keys)\n", res.Path, res.From, res.Report.SchemaVersion, res.Report.Keys)
	if res.Kept != "" {
		fmt.Fprintf(w, "the file it replaced is kept at %s\n", res.Kept)
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
