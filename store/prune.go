package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// DeleteDrafts removes the drafts with the given (full) ids that are still
// pending and unedited — Text equal to GeneratedText — in one transaction,
// and returns how many it removed. Unknown ids, and drafts the user
// accepted, rejected or edited, are left as they are: the drafter lists
// superseded drafts (drafter.Result.Superseded) from what it read, and the
// user may have acted on one since.
func (s *Store) DeleteDrafts(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketDrafts)
		if b == nil {
			return nil
		}
		for _, id := range ids {
			if id == "" {
				continue
			}
			v := b.Get([]byte(id))
			if v == nil {
				continue
			}
			var d model.Draft
			if err := unmarshalDraft(v, &d); err != nil {
				return fmt.Errorf("draft %q: %w", id, err)
			}
			if d.Status != model.StatusPending || d.Text != d.GeneratedText {
				continue
			}
			if err := deleteDraft(tx, id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: deleting drafts: %w", err)
	}
	return n, nil
}
