package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/store"
)

// BackendWait is how long Backend keeps trying when the store is held but
// no daemon answers yet (a daemon starting or stopping, or another command
// holding the file for a moment).
const BackendWait = 2 * time.Second

// Backend returns what the commands read and change drafts through: the
// store itself when this process can open it, else — when another process
// holds the file (`impact serve`) — the daemon's API at server.listen.
// When neither works within BackendWait, the error is one line saying the
// store is held and no daemon answers. The caller closes the backend.
func (f *Factory) Backend(cfg *config.Config) (backend.Backend, error) {
	if f.NewBackend != nil {
		return f.NewBackend(cfg)
	}
	ctx := context.Background()
	deadline := time.Now().Add(BackendWait)
	var client *backend.Client
	for {
		// One attempt at the lock, no waiting: a daemon holds it for good.
		st, err := store.Open(cfg.Store.Path, store.Options{Timeout: time.Nanosecond, Logger: f.Logger, Now: f.Now, Backups: store.DefaultBackups})
		if err == nil {
			return &backend.Local{Store: st, Config: cfg, Logger: f.Logger, Now: f.Now}, nil
		}
		if !errors.Is(err, store.ErrLocked) {
			return nil, err
		}
		if client == nil {
			client = backend.NewClient(cfg.Server, cfg.Store.Path)
		}
		info, ierr := client.Info(ctx)
		if ierr == nil {
			if !sameFile(info.Store, cfg.Store.Path) {
				client.Close()
				return nil, &ExitError{Code: 1, Err: fmt.Errorf("store %s is held by another process, and the daemon at %s serves a different store (%s)", cfg.Store.Path, cfg.Server.Listen, info.Store)}
			}
			return client, nil
		}
		if ue, ok := errors.AsType[*backend.UntrustedError](ierr); ok {
			client.Close()
			return nil, &ExitError{Code: 1, Err: fmt.Errorf("store %s is held by another process; %w", cfg.Store.Path, ue)}
		}
		var re *backend.RemoteError
		if errors.As(ierr, &re) && re.Kind == "unauthorized" {
			client.Close()
			return nil, &ExitError{Code: 1, Err: fmt.Errorf("the daemon at %s refused the request: %v", cfg.Server.Listen, ierr)}
		}
		if time.Now().After(deadline) {
			client.Close()
			why := strings.TrimPrefix(ierr.Error(), "daemon at "+cfg.Server.Listen+": ")
			return nil, &ExitError{Code: 1, Err: fmt.Errorf("store %s is held by another process and no daemon answers at %s (%s)", cfg.Store.Path, cfg.Server.Listen, why)}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sameFile reports whether two paths name the same file.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
