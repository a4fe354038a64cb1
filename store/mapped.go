package store

import (
	"os"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// releaseEvery is the store size from which the store's mapped pages are
// released (release), and how much more of the file may be resident
// before they are released again; a smaller store's pages stay mapped.
const releaseEvery = 8 << 20

// releaseStride is how many bytes a long read (Check, a list of every
// draft) reads between two looks at what is resident: a read of one page
// maps up to 15 around it too (the kernel's fault-around), so pages read far
// apart make many times their size resident.
const releaseStride = 64 << 10

// mapped tracks how much of the store's file the process holds mapped.
type mapped struct {
	mu sync.Mutex
	// base is the process's resident file-backed memory (its binary's
	// pages and the store's) just after the last release; -1 before it.
	base int64
	rss  residentFiles
}

// release drops the pages of the store's file that this process has
// mapped from its resident set, while tx holds the mapping in place, once
// the process's resident file-backed memory grew by releaseEvery since
// the last release.
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
	every := s.opts.releaseEvery
	if n < every {
		return
	}
	m := &s.mapped
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.base >= 0 {
		if rss := m.rss.read(); rss >= 0 && rss < m.base+every {
			return
		}
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return
	}
	dropPages(s.db.Info().Data, uintptr(min(n, fi.Size())))
	m.base = m.rss.read()
}
