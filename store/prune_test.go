package store

import (
	"context"
	"errors"
	"testing"

	"github.com/impact-dev/impact/internal/model"
)

func TestDeleteDrafts(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	pending := sampleDraft(0) // pending
	accepted := sampleDraft(1)
	rejected := sampleDraft(2)
	edited := sampleDraft(3) // pending
	edited.Text = "My own words."
	if _, err := s.SaveDrafts(ctx, []model.Draft{pending, accepted, rejected, edited}); err != nil {
		t.Fatal(err)
	}
	if pending.Status != model.StatusPending || accepted.Status != model.StatusAccepted ||
		rejected.Status != model.StatusRejected || edited.Status != model.StatusPending {
		t.Fatal("sampleDraft statuses changed")
	}
	n, err := s.DeleteDrafts(ctx, []string{pending.ID, accepted.ID, rejected.ID, edited.ID, "nosuchid", ""})
	if err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if _, err := s.Draft(ctx, pending.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("pending draft still there: %v", err)
	}
	for _, id := range []string{accepted.ID, rejected.ID, edited.ID} {
		if _, err := s.Draft(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if n, err := s.DeleteDrafts(ctx, nil); n != 0 || err != nil {
		t.Errorf("nothing to delete: %d, %v", n, err)
	}
}
