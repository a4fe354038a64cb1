package store

import (
	"os"

	bolt "go.etcd.io/bbolt"
)

// releaseEvery is the store size (and, in a long read such as Check, the
// bytes read) from which the store's mapped pages are released
// (release); a smaller store's pages are left mapped.
const releaseEvery = 16 << 20

// release drops the pages of the store's file that this process has
// mapped from its resident set, while tx holds the mapping in place.
//
// bbolt maps the file read-only and shared (PROT_READ, MAP_SHARED) and
// writes through the file, never through the map. Dropping the pages of
// such a mapping (madvise MADV_DONTNEED) loses nothing: they stay in the
// page cache, and the next read of one maps it again from there, with the
// file's current contents. A read transaction holds bbolt's mmap lock, so
// the mapping cannot move or shrink under it; a write transaction remaps
// only in its own goroutine, while it commits. Every page the process
// read counts in its RSS until then: without this, a read of the whole
// file (Check, a pass over every series, a list of every draft) keeps the
// whole file resident for as long as the process lives.
func (s *Store) release(tx *bolt.Tx) {
	// The pages below the transaction's high-water mark lie inside the
	// mapping (bbolt maps at least that much before it hands a page out);
	// the file's size bounds it again should a damaged meta page claim
	// more: the range must never reach past bbolt's mapping.
	n := tx.Size()
	if n < s.opts.releaseEvery {
		return
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return
	}
	dropPages(s.db.Info().Data, uintptr(min(n, fi.Size())))
}
