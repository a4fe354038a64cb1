package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// The drafter's incremental state (schema v4). Every commit that changes
// stored data stamps what it changed in the changes bucket with one
// sequence number per transaction; a drafter pass records, per series, the
// sequence number it had read up to (SeriesState). A series whose data,
// events and settings are unchanged since its state need not be analysed
// again: its drafts stand.
//
// Change keys: a series id for its samples, ChangeEvents for any event
// (PRs, deploys, incidents, CI runs, reviews), ChangePRs for any PR or
// deploy, and ChangeRepo(repo) for a PR or deploy of that repo.
const (
	ChangeEvents = "\x00events"
	ChangePRs    = "\x00prs"
)

// ChangeRepo is the change key of the PRs and deploys of repo.
func ChangeRepo(repo string) string { return "\x00repo\x00" + strings.ToLower(repo) }

// changeLog stamps the changes of one read-write transaction.
type changeLog struct {
	b   *bolt.Bucket
	seq []byte // this transaction's sequence number, taken on first use
}

func newChangeLog(tx *bolt.Tx) *changeLog { return &changeLog{b: tx.Bucket(bucketChanges)} }

func (c *changeLog) mark(keys ...string) error {
	if c.b == nil {
		return nil
	}
	if c.seq == nil {
		n, err := c.b.NextSequence()
		if err != nil {
			return fmt.Errorf("change log: %w", err)
		}
		c.seq = binary.BigEndian.AppendUint64(nil, n)
	}
	for _, k := range keys {
		if err := c.b.Put([]byte(k), c.seq); err != nil {
			return fmt.Errorf("change log %q: %w", k, err)
		}
	}
	return nil
}

// SeriesState is what the drafter recorded of its last analysis of one
// series.
type SeriesState struct {
	// Seq is the change sequence number the analysis had read up to:
	// changes stamped later are news to it.
	Seq uint64 `json:"seq"`
	// Fingerprint identifies the metric's definition and the drafter's
	// settings it was analysed with; another fingerprint means analyse
	// again.
	Fingerprint string `json:"fp"`
	// Clock: the analysis depended on the clock as well as on the data
	// (an after window still filling): the next pass analyses the series
	// again even if nothing changed.
	Clock bool `json:"clock,omitempty"`
}

// DrafterState is the change log and the drafter's per-series states, as
// read in one transaction.
type DrafterState struct {
	// Seq is the latest change sequence number.
	Seq     uint64
	Changes map[string]uint64
	Series  map[string]SeriesState
}

// Changed reports whether any of keys changed after seq.
func (d DrafterState) Changed(seq uint64, keys ...string) bool {
	for _, k := range keys {
		if d.Changes[k] > seq {
			return true
		}
	}
	return false
}

// DrafterState reads the change log and the drafter's series states.
func (s *Store) DrafterState(ctx context.Context) (DrafterState, error) {
	if err := ctx.Err(); err != nil {
		return DrafterState{}, fmt.Errorf("store: %w", err)
	}
	st := DrafterState{Changes: map[string]uint64{}, Series: map[string]SeriesState{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketChanges); b != nil {
			st.Seq = b.Sequence()
			if err := b.ForEach(func(k, v []byte) error {
				if len(v) == 8 {
					st.Changes[string(k)] = binary.BigEndian.Uint64(v)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if b := tx.Bucket(bucketDrafted); b != nil {
			return b.ForEach(func(k, v []byte) error {
				var ss SeriesState
				if err := json.Unmarshal(v, &ss); err != nil {
					return fmt.Errorf("drafter state of %q: %w", k, err)
				}
				st.Series[string(k)] = ss
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return DrafterState{}, fmt.Errorf("store: reading the drafter state: %w", err)
	}
	return st, nil
}

// SetSeriesStates records the drafter's states of the given series; with
// reset, the states of every other series are removed (a full pass).
func (s *Store) SetSeriesStates(ctx context.Context, states map[string]SeriesState, reset bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if reset {
			if err := tx.DeleteBucket(bucketDrafted); err != nil && err != bolt.ErrBucketNotFound {
				return err
			}
			if _, err := tx.CreateBucket(bucketDrafted); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketDrafted)
		for id, ss := range states {
			v, err := json.Marshal(ss)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(id), v); err != nil {
				return fmt.Errorf("%q: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: saving the drafter state: %w", err)
	}
	return nil
}
