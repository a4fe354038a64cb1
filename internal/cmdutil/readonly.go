package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/store"
)

// ReadBackend is Backend for the commands that only read (drafts list and
// show, status, export, explain, digest preview, wins list). It never
// creates the store or its directory — a wrong store.path is "no store at
// …; run impact collect first" — and opens the file read-only under a
// shared lock, so read access to it is enough. While another process holds
// the file for writing (the daemon), it goes through Backend.
func (f *Factory) ReadBackend(cfg *config.Config) (backend.Backend, error) {
	if f.NewBackend != nil {
		return f.NewBackend(cfg)
	}
	if err := StoreExists(cfg.Store.Path); err != nil {
		return nil, err
	}
	st, err := store.Open(cfg.Store.Path, store.Options{ReadOnly: true, Timeout: time.Nanosecond, Logger: f.Logger, Now: f.Now})
	if err == nil {
		return &backend.Local{Store: st, Config: cfg, Logger: f.Logger, Now: f.Now}, nil
	}
	if errors.Is(err, store.ErrLocked) {
		return f.Backend(cfg)
	}
	return nil, err
}

// StoreExists is the error of a store path that names no file.
func StoreExists(path string) error {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &ExitError{Code: 1, Err: fmt.Errorf("no store at %s; run \"impact collect\" first (or set store.path in the config)", path)}
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// ExitDamaged is the exit code of a command that found its store damaged:
// neither a retry nor a restart helps until it is restored (impact store
// restore), so the systemd unit does not restart the daemon on it.
const ExitDamaged = 3
