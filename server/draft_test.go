package server_test

import (
	"context"
	"testing"

	"github.com/impact-dev/impact/internal/backend"
)

// TestDraftFull: POST /v1/draft passes {"full": true} (collect --redraft
// through the daemon) to the backend, and an empty body is an incremental
// pass; the summary comes back with the series examined.
func TestDraftFull(t *testing.T) {
	st := testStore(t)
	var got []backend.DraftRequest
	be := &backend.Local{Store: st, KeepOpen: true, DraftFunc: func(_ context.Context, req backend.DraftRequest) (backend.DraftSummary, error) {
		got = append(got, req)
		return backend.DraftSummary{Examined: 7}, nil
	}}
	c, _ := serveBackend(t, be, st.Path(), "")
	for _, tt := range []struct {
		name string
		req  backend.DraftRequest
	}{
		{"incremental", backend.DraftRequest{}},
		{"full", backend.DraftRequest{Full: true}},
	} {
		s, err := c.RunDrafter(context.Background(), tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if s.Examined != 7 || len(got) == 0 || got[len(got)-1] != tt.req {
			t.Errorf("%s: summary %+v, backend got %+v", tt.name, s, got)
		}
	}
}
