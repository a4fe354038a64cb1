package config

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

var locations sync.Map // time zone name → *time.Location

// ConfiguredSources lists the configured sources in the order the file
// names them (the order they were Set, for a config built in code).
func (c *Config) ConfiguredSources() []string {
	return slices.Clone(c.Sources.registered())
}

// PollInterval is how often source name is polled: its interval when it is
// configured with a positive one, else an hour.
func (c *Config) PollInterval(name string) time.Duration {
	var d time.Duration
	if sc := c.Sources.Get(name); sc != nil {
		d = sc.PollInterval()
	}
	if d <= 0 {
		return time.Hour
	}
	return d
}

// MetricsFor returns (a copy of) the metrics whose source is source.
func (c *Config) MetricsFor(source string) []Metric {
	var out []Metric
	for _, m := range c.Metrics {
		if m.Source == source {
			out = append(out, m)
		}
	}
	return out
}

// IsMe reports whether login is one of me.github, ignoring case and a
// leading "@".
func (c *Config) IsMe(login string) bool {
	login = strings.TrimPrefix(strings.TrimSpace(login), "@")
	if login == "" {
		return false
	}
	for _, l := range c.Me.GitHub {
		if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(l), "@"), login) {
			return true
		}
	}
	return false
}

// Location is me.timezone loaded; UTC when it is empty or unknown (a
// loaded config has been validated, so unknown only happens in code).
func (c *Config) Location() *time.Location {
	loc, err := loadLocation(c.Me.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Network splits Listen for net.Listen / net.Dial: ("unix", "/path") for
// "unix:/path", else ("tcp", "host:port").
func (s ServerConfig) Network() (network, address string) {
	if p, ok := strings.CutPrefix(s.Listen, "unix:"); ok {
		return "unix", p
	}
	return "tcp", s.Listen
}

// DefaultListen is server.listen left out: a unix socket (mode 0600, in a
// directory of its own with mode 0700) at $XDG_RUNTIME_DIR/impact/impact.sock,
// or, without $XDG_RUNTIME_DIR, in the state directory:
// $XDG_STATE_HOME/impact/impact.sock, else ~/.local/state/impact/impact.sock.
// nil arguments read the process's environment and home directory.
func DefaultListen(lookupEnv func(string) (string, bool), home func() (string, error)) string {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	if home == nil {
		home = os.UserHomeDir
	}
	// The XDG spec says a relative path in these variables is invalid and
	// to be ignored.
	for _, k := range []string{"XDG_RUNTIME_DIR", "XDG_STATE_HOME"} {
		if x, ok := lookupEnv(k); ok && filepath.IsAbs(x) {
			return "unix:" + filepath.Join(x, "impact", "impact.sock")
		}
	}
	h, err := home()
	if err != nil || h == "" {
		h = os.TempDir() // no home: still a private directory of our own below
		return "unix:" + filepath.Join(h, "impact-"+uidString(), "impact.sock")
	}
	return "unix:" + filepath.Join(h, ".local", "state", "impact", "impact.sock")
}

func uidString() string { return strconv.Itoa(os.Getuid()) }
