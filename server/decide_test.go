package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestDecideSaysWhatItReplaces: accepting a rejected draft answers with the
// decision it replaced ("replaces": rejected, "not mine") and the draft keeps
// both decisions in its history; a first decision replaces nothing.
func TestDecideSaysWhatItReplaces(t *testing.T) {
	st := testStore(t)
	_, sock := serve(t, st, "")
	post := func(path, body string) map[string]any {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		req, _ := http.NewRequest("POST", "http://impact.sock"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return m
	}
	tests := []struct {
		path, body   string
		replaces     map[string]any // nil: no "replaces" field
		historyCount int
	}{
		{"/v1/drafts/0000/reject", `{"reason":"not mine"}`, nil, 1},
		{"/v1/drafts/0000/accept", `{}`, map[string]any{"status": "rejected", "reason": "not mine"}, 2},
		{"/v1/drafts/0000/reject", `{"reason":"duplicate"}`, map[string]any{"status": "accepted"}, 3},
	}
	for _, tt := range tests {
		m := post(tt.path, tt.body)
		got, has := m["replaces"].(map[string]any)
		switch {
		case tt.replaces == nil && has:
			t.Errorf("%s: replaces %v, want none", tt.path, got)
		case tt.replaces != nil:
			for k, v := range tt.replaces {
				if got[k] != v {
					t.Errorf("%s: replaces %v, want %s=%v", tt.path, got, k, v)
				}
			}
		}
		if h, _ := m["history"].([]any); len(h) != tt.historyCount {
			t.Errorf("%s: history %v, want %d entries", tt.path, m["history"], tt.historyCount)
		}
		if m["id"] == nil || m["text"] == nil {
			t.Errorf("%s: the answer is not the draft: %v", tt.path, m)
		}
	}
}
