package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"
)

// ErrDamaged: the file is damaged (empty, truncated, corrupt pages). The
// error's message names the file and the newest backup to restore from.
var ErrDamaged = errors.New("is damaged")

// damaged is the one error every kind of damage turns into.
func damaged(path string, why any) error {
	w := strings.Join(strings.Fields(fmt.Sprint(why)), " ")
	if len(w) > 160 {
		w = w[:160] + "…"
	}
	return errorf(ErrDamaged, nil, "store: %s is damaged (%s): %s", path, w, RestoreHint(path))
}

// RestoreHint is what to do about a damaged store at path: restore the
// newest backup, or start again when there is none.
func RestoreHint(path string) string {
	if b := NewestBackup(path); b != "" {
		return fmt.Sprintf("restore from the backup at %s (impact store restore)", b)
	}
	return "no backup of it exists; move it aside and run \"impact collect\" to start a new store"
}

// view and update run a bbolt transaction and turn a panic of the storage
// layer (bbolt asserts on pages that are not what it expects; a read past
// the end of a truncated file faults) into ErrDamaged.
// A stored value that no longer decodes (a flipped bit inside a record)
// is damage too.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	return s.viewKeep(func(tx *bolt.Tx) error {
		err := fn(tx)
		s.release(tx)
		return err
	})
}

// viewKeep is view without the release at its end: for a read that
// another, released, follows soon (mapped.go).
func (s *Store) viewKeep(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.catch(&err)
	return s.db.View(fn)
}

func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.catch(&err)
	return s.db.Update(func(tx *bolt.Tx) error {
		err := fn(tx)
		s.release(tx) // before the commit, which may remap
		return err
	})
}

func (s *Store) catch(err *error) {
	if r := recover(); r != nil {
		*err = damaged(s.path, r)
	} else if *err != nil && !errors.Is(*err, ErrDamaged) && isDecodeError(*err) {
		*err = damaged(s.path, strings.TrimPrefix((*err).Error(), "store: "))
	}
	if *err != nil && errors.Is(*err, ErrDamaged) {
		s.damaged.Store(true)
	}
}

// isDecodeError reports a stored JSON value that does not decode.
func isDecodeError(err error) bool {
	var (
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		gse *gojson.SyntaxError
		gte *gojson.UnmarshalTypeError
	)
	return errors.As(err, &se) || errors.As(err, &te) || errors.As(err, &gse) || errors.As(err, &gte)
}

// openBolt is bolt.Open with its panics (a corrupt freelist, say) turned
// into ErrDamaged.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, damaged(path, r)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// bbolt's on-disk layout, as far as precheck reads it: every page starts
// with a 16-byte header (id uint64, flags uint16, count uint16, overflow
// uint32); pages 0 and 1 hold a meta record right after it.
const (
	pageHeaderSize = 16
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	metaSumLen     = 56 // the meta record's bytes the checksum covers
	noFreelist     = ^uint64(0)

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagFreelist = 0x10
)

type boltMeta struct {
	pageSize             uint32
	root, freelist, pgid uint64
	txid                 uint64
	valid                bool
}

func parseMeta(page []byte) boltMeta {
	if len(page) < pageHeaderSize+metaSumLen+8 {
		return boltMeta{}
	}
	m := page[pageHeaderSize:]
	e := binary.NativeEndian
	h := fnv.New64a()
	h.Write(m[:metaSumLen])
	return boltMeta{
		pageSize: e.Uint32(m[8:]),
		root:     e.Uint64(m[16:]),
		freelist: e.Uint64(m[32:]),
		pgid:     e.Uint64(m[40:]),
		txid:     e.Uint64(m[48:]),
		valid: e.Uint32(m[0:]) == boltMagic && e.Uint32(m[4:]) == boltVersion &&
			e.Uint64(m[metaSumLen:]) == h.Sum64(),
	}
}

// precheck looks at an existing file before bbolt maps it: an empty file,
// a file shorter than its pages, and meta, root or freelist pages that point
// nowhere are ErrDamaged. What it cannot judge (no valid meta page at all)
// it leaves to bbolt's own checks.
//
// It reads without bbolt's lock, so a daemon may commit meanwhile (and
// reuse the pages the meta it read points to): a problem only counts when
// a second look finds the same transaction.
func precheck(path string, size int64) error {
	if size == 0 {
		return damaged(path, "the file is empty")
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	for range 3 {
		txid, err := precheckFile(f, path)
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
		if txid2, again := precheckFile(f, path); again == nil || txid2 == txid {
			return again
		}
	}
	return nil // still being written: a live store, for bbolt and its lock to handle
}

// precheckFile is one look at the open file; txid is the transaction of
// the meta page it judged.
func precheckFile(f *os.File, path string) (txid uint64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	size := fi.Size()
	if size == 0 {
		return 0, damaged(path, "the file is empty")
	}
	readAt := func(n int, off int64) []byte {
		b := make([]byte, n)
		k, _ := f.ReadAt(b, off)
		return b[:k]
	}
	m0 := parseMeta(readAt(4096, 0))
	ps := int64(os.Getpagesize())
	if m0.valid && m0.pageSize >= 512 && m0.pageSize <= 1<<16 {
		ps = int64(m0.pageSize)
	}
	m1 := parseMeta(readAt(int(ps), ps))
	m := m0
	switch {
	case m0.valid && m1.valid && m1.txid > m0.txid, !m0.valid && m1.valid:
		m = m1
	case !m0.valid && !m1.valid:
		return 0, nil
	}
	if int64(m.pageSize) != ps {
		return m.txid, damaged(path, fmt.Sprintf("its meta pages disagree on the page size (%d, %d)", ps, m.pageSize))
	}
	if m.pgid < 2 || m.pgid > uint64(size/ps) {
		return m.txid, damaged(path, fmt.Sprintf("truncated: %d bytes, but its pages reach byte %d", size, m.pgid*uint64(ps)))
	}
	header := func(id uint64) (pid uint64, flags, count uint16, overflow uint32) {
		h := readAt(pageHeaderSize, int64(id)*ps)
		if len(h) < pageHeaderSize {
			return
		}
		e := binary.NativeEndian
		return e.Uint64(h), e.Uint16(h[8:]), e.Uint16(h[10:]), e.Uint32(h[12:])
	}
	if m.root < 2 || m.root >= m.pgid {
		return m.txid, damaged(path, fmt.Sprintf("its root page %d lies outside its %d pages", m.root, m.pgid))
	}
	if id, flags, _, _ := header(m.root); id != m.root || (flags != flagBranch && flags != flagLeaf) {
		return m.txid, damaged(path, fmt.Sprintf("page %d, its root, is not a branch or leaf page", m.root))
	}
	if m.freelist != noFreelist {
		if m.freelist < 2 || m.freelist >= m.pgid {
			return m.txid, damaged(path, fmt.Sprintf("its freelist page %d lies outside its %d pages", m.freelist, m.pgid))
		}
		id, flags, count, overflow := header(m.freelist)
		if id != m.freelist || flags != flagFreelist || m.freelist+uint64(overflow) >= m.pgid {
			return m.txid, damaged(path, fmt.Sprintf("page %d, its freelist, is not a freelist page", m.freelist))
		}
		n := uint64(count)
		if count == 0xFFFF { // the real count is the first element
			b := readAt(8, int64(m.freelist)*ps+pageHeaderSize)
			if len(b) < 8 {
				return m.txid, damaged(path, "its freelist is cut short")
			}
			n = binary.NativeEndian.Uint64(b) + 1
		}
		if n*8 > (uint64(overflow)+1)*uint64(ps)-pageHeaderSize {
			return m.txid, damaged(path, fmt.Sprintf("its freelist page %d claims %d entries", m.freelist, n))
		}
	}
	return m.txid, nil
}

// CheckReport is what Check found in a sound store.
type CheckReport struct {
	Path          string `json:"path"`
	SchemaVersion int    `json:"schema_version"`
	FileSize      int64  `json:"file_size_bytes"`
	Buckets       int    `json:"buckets"`
	Keys          int    `json:"keys"`
	// NewestBackup is the newest backup copy beside the store ("" if none).
	NewestBackup string `json:"newest_backup,omitempty"`
}

// Check reads every page, bucket, key and value of the store in this
// goroutine, under recover: a page that is not what its parent says, keys
// out of order and bytes outside the file are ErrDamaged (naming the newest
// backup), never a panic. (bbolt's own tx.Check is not used: it runs in a
// goroutine of its own, where a fault on a damaged page cannot be
// recovered and kills the process.)
//
// The cursor goes through every branch and leaf page of every bucket, and
// bbolt asserts each page's id and type as it reads it. The pages read
// are released as they add up (release), so a check of a store of any
// size keeps little of it resident.
func (s *Store) Check(ctx context.Context) (CheckReport, error) {
	rep := CheckReport{Path: s.path, SchemaVersion: s.version, NewestBackup: NewestBackup(s.path)}
	if fi, err := os.Stat(s.path); err == nil {
		rep.FileSize = fi.Size()
	}
	var (
		sum  uint32
		read int
		walk func(tx *bolt.Tx, name string, b *bolt.Bucket) error
	)
	walk = func(tx *bolt.Tx, name string, b *bolt.Bucket) error {
		rep.Buckets++
		var prev []byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if prev != nil && bytes.Compare(prev, k) >= 0 { // reads every key byte
				return errorf(ErrDamaged, nil, "bucket %s: keys out of order (%x after %x)", name, k, prev)
			}
			prev = k
			if v == nil {
				if nb := b.Bucket(k); nb != nil {
					if err := walk(tx, name+"/"+string(k), nb); err != nil {
						return err
					}
					continue
				}
			}
			sum = crc32.Update(sum, crc32.IEEETable, v) // reads every value byte
			rep.Keys++
			if read += len(k) + len(v); read >= releaseStride {
				s.release(tx)
				read = 0
			}
			if rep.Keys%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := s.view(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(tx, string(name), b) })
	})
	switch {
	case err == nil:
		return rep, nil
	case ctx.Err() != nil:
		return rep, wrap(err)
	case errors.Is(err, ErrDamaged) && strings.HasPrefix(err.Error(), "store: "):
		return rep, err
	}
	s.damaged.Store(true)
	return rep, damaged(s.path, err)
}

// copyTo writes a consistent copy of the store to w.
func (s *Store) copyTo(w io.Writer) error {
	return s.view(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
}
