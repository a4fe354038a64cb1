package config

import (
	"strings"
	"testing"

	"github.com/impact-dev/impact/config/configtest"
)

// ui.listen is loopback TCP or off; ui.public_url an http(s) URL.
func TestUIConfig(t *testing.T) {
	for _, tc := range []struct{ yaml, wantErr, listen string }{
		{"", "", "127.0.0.1:7879"},
		{"ui: {listen: \"[::1]:8000\"}", "", "[::1]:8000"},
		{"ui: {listen: localhost:0}", "", "localhost:0"},
		{"ui: {listen: \"off\"}", "", "off"},
		{"ui: {listen: 0.0.0.0:7879}", "ui.listen: \"0.0.0.0:7879\" is not a loopback address", ""},
		{"ui: {listen: \":7879\"}", "is not a loopback address", ""},
		{"ui: {listen: unix:/tmp/x.sock}", "ui.listen: invalid address", ""},
		{"ui: {public_url: \"https://impact.example.com/review\"}", "", "127.0.0.1:7879"},
		{"ui: {public_url: \"javascript:alert(1)\"}", "ui.public_url: invalid URL", ""},
		{"ui: {public_url: \"http://u:p@host/\"}", "ui.public_url: invalid URL", ""},
	} {
		c, err := ParseWith([]byte("me: {github: alice}\n"+tc.yaml+"\n"), "c.yaml", testOptions(configtest.ReadFile))
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.yaml, err)
		case tc.wantErr == "" && c.UI.Listen != tc.listen:
			t.Errorf("%s: ui.listen %q, want %q", tc.yaml, c.UI.Listen, tc.listen)
		}
	}
}
