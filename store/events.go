package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// eventTable is a kind of event stored by natural id with a time index.
// See schema.go for the layout.
type eventTable[T any] struct {
	name, index []byte
	kind        string // for messages: "PR", "deploy"
	key         func(T) string
	time        func(T) time.Time
	validate    func(T) error
	normalize   func(*T)
}

func (t eventTable[T]) buckets() [][]byte { return [][]byte{t.name, t.index} }

// check validates an event before it is written.
func (t eventTable[T]) check(v T) error {
	if err := t.validate(v); err != nil {
		return err
	}
	k := t.key(v)
	if len(k) > maxIDLen {
		return fmt.Errorf("%s id %.40q… is too long", t.kind, k)
	}
	if tm := t.time(v); tm.IsZero() || tm.Unix() < 0 {
		return fmt.Errorf("%s %q: time %s is missing or before 1970", t.kind, k, tm.UTC().Format(time.RFC3339))
	}
	return nil
}

// put upserts v by natural id and keeps the time index in step. It
// reports whether anything changed and, if so, the earliest of the
// event's old and new times (unix seconds).
func (t eventTable[T]) put(tx *bolt.Tx, v T) (bool, int64, error) {
	t.normalize(&v)
	id := t.key(v)
	data, err := json.Marshal(v)
	if err != nil {
		return false, 0, fmt.Errorf("%s %q: %w", t.kind, id, err)
	}
	b, ix := tx.Bucket(t.name), tx.Bucket(t.index)
	ix.FillPercent = fillIndex
	sec := t.time(v).Unix()
	earliest := sec
	if old := b.Get([]byte(id)); old != nil {
		if bytes.Equal(old, data) {
			return false, 0, nil
		}
		var prev T
		if err := json.Unmarshal(old, &prev); err == nil {
			if psec := t.time(prev).Unix(); psec != sec {
				earliest = min(earliest, psec)
				if err := ix.Delete(indexKey(psec, id)); err != nil {
					return false, 0, fmt.Errorf("%s %q: %w", t.kind, id, err)
				}
			}
		}
	}
	if err := b.Put([]byte(id), data); err != nil {
		return false, 0, fmt.Errorf("%s %q: %w", t.kind, id, err)
	}
	if err := ix.Put(indexKey(sec, id), nil); err != nil {
		return false, 0, fmt.Errorf("%s %q: %w", t.kind, id, err)
	}
	return true, earliest, nil
}

// rangeOf returns the events with time in [from, to) (zero to: no upper
// bound), sorted by time at second resolution, then by natural id.
func (t eventTable[T]) rangeOf(tx *bolt.Tx, from, to time.Time) ([]T, error) {
	b, ix := tx.Bucket(t.name), tx.Bucket(t.index)
	if b == nil || ix == nil {
		return nil, nil
	}
	lo := max(from.Unix(), 0)
	hi := int64(math.MaxInt64)
	if !to.IsZero() {
		hi = to.Unix()
	}
	var out []T
	c := ix.Cursor()
	for k, _ := c.Seek(timeKey(lo)); k != nil && len(k) >= 8; k, _ = c.Next() {
		sec := int64(binary.BigEndian.Uint64(k))
		if sec > hi {
			break
		}
		id := k[8:]
		data := b.Get(id)
		if data == nil {
			continue // index entry without a record: ignore
		}
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("%s %q: %w", t.kind, id, err)
		}
		tm := t.time(v)
		if tm.Unix() != sec {
			continue // stale index entry: the record has moved
		}
		if tm.Before(from) || (!to.IsZero() && !tm.Before(to)) {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// PRs returns the merged PRs with merged_at in [from, to) (zero to: no upper
// bound), sorted by merged_at then natural id.
func (s *Store) PRs(ctx context.Context, from, to time.Time) ([]model.PR, error) {
	return rangeQuery(ctx, s, tablePRs, from, to)
}

// Deploys returns the deploys with time in [from, to) (zero to: no upper
// bound), sorted by time then natural id.
func (s *Store) Deploys(ctx context.Context, from, to time.Time) ([]model.Deploy, error) {
	return rangeQuery(ctx, s, tableDeploys, from, to)
}

// Incidents returns the incidents created in [from, to) (zero to: no upper
// bound), sorted by created_at then id.
func (s *Store) Incidents(ctx context.Context, from, to time.Time) ([]model.Incident, error) {
	return rangeQuery(ctx, s, tableIncidents, from, to)
}

// CIRuns returns the workflow runs created in [from, to) (zero to: no upper
// bound), sorted by created_at then natural id.
func (s *Store) CIRuns(ctx context.Context, from, to time.Time) ([]model.CIRun, error) {
	return rangeQuery(ctx, s, tableCIRuns, from, to)
}

// Reviews returns the reviews I gave submitted in [from, to) (zero to: no
// upper bound), sorted by submitted_at then natural id.
func (s *Store) Reviews(ctx context.Context, from, to time.Time) ([]model.Review, error) {
	return rangeQuery(ctx, s, tableReviews, from, to)
}

func rangeQuery[T any](ctx context.Context, s *Store, t eventTable[T], from, to time.Time) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []T
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		out, err = t.rangeOf(tx, from, to)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading %ss: %w", t.kind, err)
	}
	return out, nil
}
