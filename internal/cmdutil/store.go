package cmdutil

import (
	"errors"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/store"
)

// OpenStore opens the store the config names. A store another process holds
// fails within a couple of seconds with a message that says so.
func (f *Factory) OpenStore(cfg *config.Config) (*store.Store, error) {
	st, err := store.Open(cfg.Store.Path, store.Options{Timeout: 2 * time.Second, Logger: f.Logger, Now: f.Now})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, &ExitError{Code: 1, Err: err}
		}
		return nil, err
	}
	return st, nil
}
