package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// The draft heads (schema v5) are what a list of drafts filters and sorts
// on — each draft's status, kind, category and shift time — kept apart
// from the drafts so that a list reads a few megabytes to choose and
// order 100,000 drafts, instead of every page of every draft. Every write
// of a draft writes its head in the same transaction (putDraftData,
// deleteDraft); the v4 → v5 migration builds them (rebuildDraftHeads).
//
// A head's value: int64 unix seconds and uint32 nanoseconds of ShiftAt,
// then status, kind and category, each a uvarint length and its bytes.

// draftHead is the part of a draft that filters and sorting look at, as
// decoded. (Its id is its key in the drafts bucket.)
type draftHead struct {
	Status   model.Status `json:"status"`
	Kind     string       `json:"kind"`
	Category string       `json:"category"`
	ShiftAt  time.Time    `json:"shift_at"`
}

func headOf(d *model.Draft) draftHead {
	return draftHead{Status: d.Status, Kind: d.Kind, Category: d.Category, ShiftAt: d.ShiftAt}
}

func (h draftHead) encode() []byte {
	v := make([]byte, 12, 12+3+len(h.Status)+len(h.Kind)+len(h.Category))
	binary.BigEndian.PutUint64(v, uint64(h.ShiftAt.Unix()))
	binary.BigEndian.PutUint32(v[8:], uint32(h.ShiftAt.Nanosecond()))
	for _, s := range []string{string(h.Status), h.Kind, h.Category} {
		v = binary.AppendUvarint(v, uint64(len(s)))
		v = append(v, s...)
	}
	return v
}

var errBadHead = errors.New("malformed draft head")

// decodeHead reads a head's value: its shift time and its three names,
// which point into v.
func decodeHead(v []byte) (shiftAt time.Time, names [3][]byte, err error) {
	if len(v) < 12 {
		return shiftAt, names, errBadHead
	}
	shiftAt = time.Unix(int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint32(v[8:]))).UTC()
	v = v[12:]
	for i := range names {
		n, k := binary.Uvarint(v)
		if k <= 0 || n > uint64(len(v)-k) {
			return shiftAt, names, errBadHead
		}
		names[i], v = v[k:k+int(n)], v[k+int(n):]
	}
	if len(v) != 0 {
		return shiftAt, names, errBadHead
	}
	return shiftAt, names, nil
}

// putDraftData stores a draft's JSON and its head.
func putDraftData(tx *bolt.Tx, id string, data []byte, h draftHead) error {
	if err := tx.Bucket(bucketDrafts).Put([]byte(id), data); err != nil {
		return fmt.Errorf("draft %q: %w", id, err)
	}
	// Before v5 (a migration from an older file, which then builds the
	// heads) there is no heads bucket.
	if hb := tx.Bucket(bucketDraftHeads); hb != nil {
		if err := hb.Put([]byte(id), h.encode()); err != nil {
			return fmt.Errorf("draft %q: head: %w", id, err)
		}
	}
	return nil
}

// deleteDraft removes a draft and its head.
func deleteDraft(tx *bolt.Tx, id string) error {
	if err := tx.Bucket(bucketDrafts).Delete([]byte(id)); err != nil {
		return fmt.Errorf("draft %q: %w", id, err)
	}
	if hb := tx.Bucket(bucketDraftHeads); hb != nil {
		if err := hb.Delete([]byte(id)); err != nil {
			return fmt.Errorf("draft %q: head: %w", id, err)
		}
	}
	return nil
}

// rebuildDraftHeads (re)writes every draft's head from the drafts: the
// v4 → v5 migration, and a heads bucket found missing.
func rebuildDraftHeads(tx *bolt.Tx) error {
	if err := tx.DeleteBucket(bucketDraftHeads); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
		return fmt.Errorf("bucket %s: %w", bucketDraftHeads, err)
	}
	hb, err := tx.CreateBucket(bucketDraftHeads)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucketDraftHeads, err)
	}
	hb.FillPercent = fillAppend // written in key order
	b := tx.Bucket(bucketDrafts)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var h draftHead
		if err := gojson.Unmarshal(v, &h); err != nil {
			return fmt.Errorf("draft %q: %w", k, err)
		}
		if err := hb.Put(k, h.encode()); err != nil {
			return fmt.Errorf("draft %q: head: %w", k, err)
		}
	}
	return nil
}

// headRec is a draft head as a listing keeps it: the status, kind and
// category are indexes into the listing's names.
type headRec struct {
	key                    string // its key in the drafts bucket: its id
	shiftAt                time.Time
	status, kind, category uint16
}

// headNames numbers the few statuses, kinds and categories of a listing.
type headNames struct {
	names []string
	index map[string]uint16
}

func (n *headNames) id(s []byte) (uint16, error) {
	if i, ok := n.index[string(s)]; ok {
		return i, nil
	}
	if len(n.names) >= 1<<16 {
		return 0, errors.New("more than 65,536 statuses, kinds and categories")
	}
	if n.index == nil {
		n.index = map[string]uint16{}
	}
	i := uint16(len(n.names))
	n.names = append(n.names, strings.Clone(string(s)))
	n.index[n.names[i]] = i
	return i, nil
}

// readHeads returns every draft's head: from the heads bucket, or, in a
// file from before v5 opened read-only, decoded from the drafts
// themselves (release called as it goes).
func (s *Store) readHeads(tx *bolt.Tx) ([]headRec, []string, error) {
	var (
		recs  []headRec
		names headNames
	)
	add := func(k []byte, shiftAt time.Time, status, kind, category []byte) error {
		r := headRec{key: string(k), shiftAt: shiftAt}
		var err error
		if r.status, err = names.id(status); err != nil {
			return err
		}
		if r.kind, err = names.id(kind); err != nil {
			return err
		}
		if r.category, err = names.id(category); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	}
	head := func(k, v []byte) error {
		at, n, err := decodeHead(v)
		if err != nil {
			return damaged(s.path, fmt.Sprintf("draft %q: %v", k, err))
		}
		return add(k, at, n[0], n[1], n[2])
	}
	if hb := tx.Bucket(bucketDraftHeads); hb != nil {
		// The heads' pages lie among the drafts': through the map, each
		// would map its neighbours too. A read-only store reads them by
		// pread (pages.go).
		if s.opts.ReadOnly {
			ok, err := s.pagedValues(tx, hb, true, func(k, v []byte, _, _ int64) error { return head(k, v) })
			if ok || err != nil {
				return recs, names.names, err
			}
			recs, names = recs[:0], headNames{}
		}
		read := 0
		c := hb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := head(k, v); err != nil {
				return nil, nil, err
			}
			if read += len(k) + len(v); read >= releaseStride {
				s.release(tx)
				read = 0
			}
		}
		return recs, names.names, nil
	}
	b := tx.Bucket(bucketDrafts)
	if b == nil {
		return nil, nil, nil
	}
	read := 0
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var h draftHead
		if err := gojson.Unmarshal(v, &h); err != nil {
			return nil, nil, fmt.Errorf("draft %q: %w", k, err)
		}
		if err := add(k, h.ShiftAt, []byte(h.Status), []byte(h.Kind), []byte(h.Category)); err != nil {
			return nil, nil, err
		}
		if read += len(v); read >= releaseStride {
			s.release(tx)
			read = 0
		}
	}
	return recs, names.names, nil
}
