package config

import (
	"strings"
	"testing"
)

func TestStorePathFollowsXDGDataHome(t *testing.T) {
	env := map[string]string{"XDG_DATA_HOME": "/var/lib/impact"}
	opts := LoadOptions{
		LookupEnv:   func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		UserHomeDir: func() (string, error) { return "/home/u", nil },
	}
	tests := []struct{ name, yaml, want string }{
		{"default follows XDG_DATA_HOME", "me: {github: alice}\n", "/var/lib/impact/impact/impact.db"},
		{"explicit path wins", "me: {github: alice}\nstore: {path: ~/x.db}\n", "/home/u/x.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseWith([]byte(tt.yaml), "c.yaml", opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.Store.Path != tt.want {
				t.Errorf("store.path = %q, want %q", c.Store.Path, tt.want)
			}
		})
	}
	delete(env, "XDG_DATA_HOME")
	c, err := ParseWith([]byte("me: {github: alice}\n"), "c.yaml", opts)
	if err != nil || c.Store.Path != "/home/u/.local/share/impact/impact.db" {
		t.Errorf("without XDG_DATA_HOME: %v %q", err, c.Store.Path)
	}
}

func TestDefaultListen(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"runtime dir", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "XDG_STATE_HOME": "/s"}, "unix:/run/user/1000/impact/impact.sock"},
		{"state home", map[string]string{"XDG_STATE_HOME": "/s"}, "unix:/s/impact/impact.sock"},
		{"relative runtime dir is ignored", map[string]string{"XDG_RUNTIME_DIR": "run"}, "unix:/home/u/.local/state/impact/impact.sock"},
		{"nothing set", nil, "unix:/home/u/.local/state/impact/impact.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			if got := DefaultListen(lookup, home); got != tt.want {
				t.Errorf("DefaultListen = %q, want %q", got, tt.want)
			}
			c, err := ParseWith([]byte("me: {github: alice}\n"), "c.yaml", LoadOptions{LookupEnv: lookup, UserHomeDir: home})
			if err != nil || c.Server.Listen != tt.want {
				t.Errorf("loaded server.listen = %q (%v), want %q", c.Server.Listen, err, tt.want)
			}
		})
	}
}

func TestTCPListenNeedsToken(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:7878", "localhost:7878", "[::1]:7878", "0.0.0.0:7878"} {
		_, err := Parse([]byte("me: {github: alice}\nserver: {listen: \""+listen+"\"}\n"), "c.yaml")
		if err == nil || !strings.Contains(err.Error(), "server.token: required when server.listen") {
			t.Errorf("listen %s without a token: err = %v, want a server.token error", listen, err)
		}
		if _, err := Parse([]byte("me: {github: alice}\nserver: {listen: \""+listen+"\", token: t0k}\n"), "c.yaml"); err != nil {
			t.Errorf("listen %s with a token: %v", listen, err)
		}
	}
}
