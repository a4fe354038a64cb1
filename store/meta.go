package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// MarkDemo marks the file as a demo store: its data is made up by "impact
// demo", which refuses to write into any store not so marked.
func (s *Store) MarkDemo(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyDemo, []byte("1"))
	})
	if err != nil {
		return fmt.Errorf("store: marking %s as a demo store: %w", s.path, err)
	}
	return nil
}

// IsDemo reports whether MarkDemo marked the file.
func (s *Store) IsDemo(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	demo := false
	err := s.view(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			demo = string(m.Get(keyDemo)) == "1"
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: reading %s: %w", s.path, err)
	}
	return demo, nil
}
