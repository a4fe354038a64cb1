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
// PRs, deploys and settings are unchanged since its state need not be
// analysed again: its drafts stand.
//
// Change keys:
//   - a series id: the sequence number of the last commit that changed
//     its samples, and the earliest UTC day any commit changed since the
//     drafter's state of the series (12 bytes: uint64, uint32 day);
//   - ChangeEvents: any event (PRs, deploys, incidents, CI runs, reviews);
//   - repoDayKey(repo, day): a PR merged or a deploy run that day in repo
//     changed ("" repo: any repo).
const ChangeEvents = "\x00events"

const repoPrefix = "\x00repo\x00"

// repoDayKey is the change key of the PRs and deploys of repo (lower case)
// on one UTC day.
func repoDayKey(repo string, day uint32) []byte {
	k := append([]byte(repoPrefix), strings.ToLower(repo)...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, day)
}

// changeLog stamps the changes of one read-write transaction.
type changeLog struct {
	b       *bolt.Bucket
	drafted *bolt.Bucket
	seq     uint64 // this transaction's sequence number, taken on first use
}

func newChangeLog(tx *bolt.Tx) *changeLog {
	return &changeLog{b: tx.Bucket(bucketChanges), drafted: tx.Bucket(bucketDrafted)}
}

func (c *changeLog) next() error {
	if c.seq != 0 {
		return nil
	}
	n, err := c.b.NextSequence()
	if err != nil {
		return fmt.Errorf("change log: %w", err)
	}
	c.seq = n
	return nil
}

func (c *changeLog) put(k []byte, v []byte) error {
	if err := c.b.Put(k, v); err != nil {
		return fmt.Errorf("change log %q: %w", k, err)
	}
	return nil
}

func (c *changeLog) mark(keys ...string) error {
	if c.b == nil {
		return nil
	}
	if err := c.next(); err != nil {
		return err
	}
	for _, k := range keys {
		if err := c.put([]byte(k), binary.BigEndian.AppendUint64(nil, c.seq)); err != nil {
			return err
		}
	}
	return nil
}

// markRepo stamps a PR or deploy of repo on day.
func (c *changeLog) markRepo(repo string, day uint32) error {
	if c.b == nil {
		return nil
	}
	if err := c.next(); err != nil {
		return err
	}
	v := binary.BigEndian.AppendUint64(nil, c.seq)
	if err := c.put(repoDayKey(repo, day), v); err != nil {
		return err
	}
	return c.put(repoDayKey("", day), v)
}

// markSeries stamps a change to series id's samples whose earliest day is
// day. The earliest day is kept across the commits the drafter has not
// analysed yet: a commit after the drafter's state lowers it, the first
// commit after a newer state starts it afresh.
func (c *changeLog) markSeries(id string, day uint32) error {
	if c.b == nil {
		return nil
	}
	if err := c.next(); err != nil {
		return err
	}
	if old := c.b.Get([]byte(id)); len(old) == 12 && binary.BigEndian.Uint64(old) > c.draftedSeq(id) {
		day = min(day, binary.BigEndian.Uint32(old[8:]))
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 12), c.seq)
	return c.put([]byte(id), binary.BigEndian.AppendUint32(v, day))
}

func (c *changeLog) draftedSeq(id string) uint64 {
	if c.drafted == nil {
		return 0
	}
	v := c.drafted.Get([]byte(id))
	if v == nil {
		return 0
	}
	var ss struct {
		Seq uint64 `json:"seq"`
	}
	_ = json.Unmarshal(v, &ss)
	return ss.Seq
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
	// (an after window still filling): a pass at a later Through analyses
	// the series again even if nothing changed.
	Clock bool `json:"clock,omitempty"`
	// Through is the horizon the analysis read up to (unix seconds, the
	// start of a UTC day): samples, PRs and deploys before it.
	Through int64 `json:"through,omitempty"`
	// Open: the series had samples, or its repos PRs or deploys, at or
	// after Through, which a pass at a later horizon reads.
	Open bool `json:"open,omitempty"`
}

// SeriesChange is the change log's entry of one series.
type SeriesChange struct {
	Seq    uint64 // the last commit that changed its samples
	MinDay uint32 // the earliest UTC day changed since the drafter's state of it
}

// DayChange is a change to the PRs and deploys of one repo on one day.
type DayChange struct {
	Day uint32
	Seq uint64
}

// DrafterState is the change log and the drafter's per-series states, as
// read in one transaction.
type DrafterState struct {
	// Seq is the latest change sequence number.
	Seq uint64
	// Events is the last commit that changed any event.
	Events uint64
	// SeriesChanges are the series' entries of the change log.
	SeriesChanges map[string]SeriesChange
	// Repos are the days whose PRs or deploys changed, per repo (lower
	// case; "" for any repo), by day.
	Repos map[string][]DayChange
	// Series are the drafter's states.
	Series map[string]SeriesState
}

// RepoChanged reports whether a PR or deploy of repo ("": any repo) on a
// day before day changed after seq.
func (d DrafterState) RepoChanged(repo string, seq uint64, day uint32) bool {
	for _, c := range d.Repos[strings.ToLower(repo)] {
		if c.Day >= day {
			break
		}
		if c.Seq > seq {
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
	st := DrafterState{SeriesChanges: map[string]SeriesChange{}, Repos: map[string][]DayChange{}, Series: map[string]SeriesState{}}
	err := s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketChanges); b != nil {
			st.Seq = b.Sequence()
			if err := b.ForEach(func(k, v []byte) error {
				switch {
				case string(k) == ChangeEvents && len(v) == 8:
					st.Events = binary.BigEndian.Uint64(v)
				case strings.HasPrefix(string(k), repoPrefix) && len(v) == 8 && len(k) >= len(repoPrefix)+5:
					// Keys sort by repo, then day: each list is in day order.
					repo := string(k[len(repoPrefix) : len(k)-5])
					day := binary.BigEndian.Uint32(k[len(k)-4:])
					st.Repos[repo] = append(st.Repos[repo], DayChange{Day: day, Seq: binary.BigEndian.Uint64(v)})
				case len(v) == 12:
					st.SeriesChanges[string(k)] = SeriesChange{Seq: binary.BigEndian.Uint64(v), MinDay: binary.BigEndian.Uint32(v[8:])}
				case len(v) == 8 && len(k) > 0 && k[0] != 0:
					// Written before the earliest day was kept: any day.
					st.SeriesChanges[string(k)] = SeriesChange{Seq: binary.BigEndian.Uint64(v)}
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
	err := s.update(func(tx *bolt.Tx) error {
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

// bucketParts holds what the drafter kept of its analysis of each series
// (an opaque value per series id, the drafter's to encode): a pass that
// finds the data it was computed from unchanged (the change log says)
// reuses it instead of analysing that part of the history again. Created
// on first use.
var bucketParts = []byte("drafter-parts")

// DrafterPart returns what the drafter kept of series id, nil if nothing.
func (s *Store) DrafterPart(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketParts); b != nil {
			if v := b.Get([]byte(id)); v != nil {
				out = append([]byte(nil), v...) // the mapped page is not ours to keep
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading the drafter's part of %q: %w", id, err)
	}
	return out, nil
}

// SetDrafterParts stores what the drafter keeps of the given series (a
// nil value removes it); with reset, every other series' is removed.
func (s *Store) SetDrafterParts(ctx context.Context, parts map[string][]byte, reset bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if len(parts) == 0 && !reset {
		return nil
	}
	err := s.update(func(tx *bolt.Tx) error {
		if reset {
			if err := tx.DeleteBucket(bucketParts); err != nil && err != bolt.ErrBucketNotFound {
				return err
			}
		}
		b, err := tx.CreateBucketIfNotExists(bucketParts)
		if err != nil {
			return err
		}
		for id, v := range parts {
			if v == nil {
				err = b.Delete([]byte(id))
			} else {
				err = b.Put([]byte(id), v)
			}
			if err != nil {
				return fmt.Errorf("%q: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: saving the drafter's parts: %w", err)
	}
	return nil
}
