package config

import "testing"

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
