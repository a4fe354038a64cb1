// Package cmdutil holds what every command shares: I/O streams, the factory
// of dependencies (config, store, clock), output formats and exit codes.
package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/store"
)

// IOStreams are the command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ErrTTY reports whether ErrOut is a terminal (progress bars go there).
	ErrTTY bool
	// OutTTY reports whether Out is a terminal.
	OutTTY bool
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
	}
}

// Factory provides the dependencies commands use, so tests can inject them.
type Factory struct {
	IO *IOStreams
	// ConfigPath is the --config flag value (may be empty).
	ConfigPath *string
	// LoadConfig loads and validates the config at path.
	LoadConfig func(path string) (*config.Config, error)
	// Now is the clock.
	Now func() time.Time
	// Logger logs to stderr.
	Logger *slog.Logger
	// Getenv reads the environment.
	Getenv func(string) string
	// NewBackend, when set, replaces Backend's store-or-daemon choice (tests).
	NewBackend func(cfg *config.Config) (backend.Backend, error)
}

// Config loads the configuration named by --config / $IMPACT_CONFIG / the
// default path. Errors are ConfigErrors (exit code 2).
func (f *Factory) Config() (*config.Config, error) {
	flag := ""
	if f.ConfigPath != nil {
		flag = *f.ConfigPath
	}
	path := config.Find(flag)
	cfg, err := f.LoadConfig(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &ExitError{Code: 2, Err: fmt.Errorf("no config at %s: write one with 'impact config example > %s' and edit it, or see the product work with 'impact demo'", path, path)}
	}
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	return cfg, nil
}

// ExitError carries an exit code: 1 failed, 2 bad usage or bad config
// (3, ExitDamaged, is a damaged store: see ExitCode).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// UsageError returns an exit-code-2 error.
func UsageError(format string, a ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf(format, a...)}
}

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if errors.Is(err, store.ErrDamaged) {
		return ExitDamaged
	}
	return 1
}

// Format is an -o value.
type Format string

const (
	FormatTable    Format = "table"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
	FormatCSV      Format = "csv"
)

// ParseFormat checks v against the allowed formats.
func ParseFormat(v string, allowed ...Format) (Format, error) {
	for _, a := range allowed {
		if Format(v) == a {
			return a, nil
		}
	}
	return "", UsageError("unknown output format %q (want one of %v)", v, allowed)
}
