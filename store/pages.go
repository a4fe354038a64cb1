package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Reading the drafts by pread, in a read-only store.
//
// A list of every draft reads them in an order that has nothing to do with
// where they lie in the file. Through bbolt's map, each draft read far
// from the last faults a page in (and the kernel maps 15 around it), and
// the store has to drop what it mapped again and again to keep its RSS
// from growing to the file's size (release): at 100,000 drafts that is
// 100,000 faults, seconds on a virtual machine. A read-only store cannot
// change while it is open (its shared lock shuts writers out), so instead
// a list learns where each draft's value lies from the drafts bucket's
// pages, read with pread in the file's order, and reads the values with
// pread: nothing of the drafts is mapped, and the page cache, not the
// process, holds the file.
//
// The pages are bbolt's layout (damage.go reads its meta pages the same
// way): a 16-byte header (id uint64, flags uint16, count uint16, overflow
// uint32), then count elements of 16 bytes. A branch element is pos
// uint32, ksize uint32, child page id uint64; a leaf element is flags
// uint32, pos uint32, ksize uint32, vsize uint32, its key pos bytes after
// the element's start and its value right after the key. Integers are in
// the machine's byte order. A page that is not what its parent says it is
// gives an error (damage), never a read out of bounds.

const (
	elemSize      = 16
	leafBucketBit = 0x01 // a leaf element that is a nested bucket
	// pagesReadMax is the most a read of consecutive leaf pages takes at
	// once; pagesGapMax the widest run of pages between two leaves read
	// with them rather than skipped.
	pagesReadMax = 1 << 20
	pagesGapMax  = 8
)

// valueSpan is where a draft's value lies in the file.
type valueSpan struct {
	key      string
	off, len int64
}

// pagedBucket reads a bucket's pages by pread.
type pagedBucket struct {
	f        *os.File
	pageSize int64
	size     int64 // the file's size
	maxPgid  uint64
}

// leaves returns the bucket's leaf pages, in key order: its branch pages
// walked depth first from root. bbolt's tree has all its leaves at one
// depth: once a branch's first child is a leaf, its other children are
// taken to be leaves without reading them here (eachLeaf reads them, and
// one that is not a leaf gives errNotLeaf).
func (p *pagedBucket) leaves(root uint64) ([]uint64, error) {
	var (
		leaves []uint64
		buf    []byte
		walk   func(id uint64, depth int) (leaf bool, err error)
	)
	walk = func(id uint64, depth int) (bool, error) {
		if depth > 64 {
			return false, fmt.Errorf("page %d: the tree is deeper than 64 levels", id)
		}
		pg, err := p.read(id, buf)
		if err != nil {
			return false, err
		}
		buf = pg
		flags, count := binary.NativeEndian.Uint16(pg[8:]), int(binary.NativeEndian.Uint16(pg[10:]))
		switch {
		case binary.NativeEndian.Uint64(pg) != id:
			return false, fmt.Errorf("page %d: its header names another page", id)
		case flags&flagLeaf != 0:
			leaves = append(leaves, id)
			return true, nil
		case flags&flagBranch == 0:
			return false, fmt.Errorf("page %d: neither a branch nor a leaf (flags %#x)", id, flags)
		}
		if pageHeaderSize+count*elemSize > len(pg) {
			return false, fmt.Errorf("page %d: %d elements do not fit", id, count)
		}
		children := make([]uint64, count)
		for i := range children {
			children[i] = binary.NativeEndian.Uint64(pg[pageHeaderSize+i*elemSize+8:])
		}
		for i, c := range children {
			leaf, err := walk(c, depth+1)
			if err != nil {
				return false, err
			}
			if leaf && i == 0 {
				leaves = append(leaves, children[1:]...)
				break
			}
		}
		return false, nil
	}
	if _, err := walk(root, 0); err != nil {
		return nil, err
	}
	return leaves, nil
}

// errNotLeaf: a page taken to be a leaf is a branch (a tree with leaves
// at several depths, which bbolt does not write): the caller reads the
// bucket through the map instead.
var errNotLeaf = errors.New("a branch where a leaf was expected")

// eachLeaf reads the leaves (as leaves gives them) in the file's order,
// consecutive ones in one read, and calls fn with each one's index in
// leaves and its page (only valid during the call).
func (p *pagedBucket) eachLeaf(leaves []uint64, fn func(i int, pg []byte) error) error {
	order := make([]int, len(leaves))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(leaves[a], leaves[b]) })
	var buf, one []byte
	for i := 0; i < len(order); {
		// A run: leaves no more than pagesGapMax pages apart, up to
		// pagesReadMax bytes. A leaf's own length (its overflow) is
		// known once it is read: one that ends past its run is read
		// again whole.
		first := leaves[order[i]]
		j := i + 1
		for j < len(order) {
			next := leaves[order[j]]
			if next-first >= uint64(pagesReadMax/p.pageSize) || next-leaves[order[j-1]] > pagesGapMax {
				break
			}
			j++
		}
		last := leaves[order[j-1]]
		n := int64(last-first+1) * p.pageSize
		if first < 2 || last > p.maxPgid || int64(first)*p.pageSize+n > p.size {
			return fmt.Errorf("page %d: not a page of the file", last)
		}
		buf = slices.Grow(buf[:0], int(n))[:n]
		if _, err := p.f.ReadAt(buf, int64(first)*p.pageSize); err != nil {
			return fmt.Errorf("pages %d–%d: %w", first, last, err)
		}
		for _, li := range order[i:j] {
			id := leaves[li]
			pg := buf[int64(id-first)*p.pageSize:]
			if over := binary.NativeEndian.Uint32(pg[12:]); int64(over+1)*p.pageSize > int64(len(pg)) {
				var err error
				if one, err = p.read(id, one); err != nil {
					return err
				}
				pg = one
			}
			if err := fn(li, pg); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// read reads page id whole (with its overflow pages).
func (p *pagedBucket) read(id uint64, buf []byte) ([]byte, error) {
	if id < 2 || id > p.maxPgid || int64(id+1)*p.pageSize > p.size {
		return nil, fmt.Errorf("page %d: not a page of the file", id)
	}
	buf = slices.Grow(buf[:0], int(p.pageSize))[:p.pageSize]
	if _, err := p.f.ReadAt(buf, int64(id)*p.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if over := int64(binary.NativeEndian.Uint32(buf[12:])); over > 0 {
		n := (over + 1) * p.pageSize
		if over > int64(p.maxPgid) || int64(id)*p.pageSize+n > p.size {
			return nil, fmt.Errorf("page %d: %d overflow pages run past the end of the file", id, over)
		}
		buf = slices.Grow(buf, int(n))[:n]
		if _, err := p.f.ReadAt(buf[p.pageSize:], int64(id+1)*p.pageSize); err != nil {
			return nil, fmt.Errorf("page %d: %w", id, err)
		}
	}
	return buf, nil
}

// leaf calls fn with each element of leaf page id, read into pg: its key
// and value (pointing into pg) and where the value lies in the file.
func (p *pagedBucket) leaf(id uint64, pg []byte, fn func(k, v []byte, off int64)) error {
	if len(pg) < pageHeaderSize || binary.NativeEndian.Uint64(pg) != id {
		return fmt.Errorf("page %d: its header names another page", id)
	}
	n := int64(binary.NativeEndian.Uint32(pg[12:])+1) * p.pageSize
	if n > int64(len(pg)) {
		return fmt.Errorf("page %d: shorter than its overflow says", id)
	}
	pg = pg[:n]
	if flags := binary.NativeEndian.Uint16(pg[8:]); flags&flagLeaf == 0 {
		if flags&flagBranch != 0 {
			return errNotLeaf
		}
		return fmt.Errorf("page %d: a branch's child that is not a leaf (flags %#x)", id, flags)
	}
	count := int(binary.NativeEndian.Uint16(pg[10:]))
	if pageHeaderSize+count*elemSize > len(pg) {
		return fmt.Errorf("page %d: %d elements do not fit", id, count)
	}
	for i := range count {
		e := pageHeaderSize + i*elemSize
		el := pg[e : e+elemSize]
		flags, pos := binary.NativeEndian.Uint32(el), int64(binary.NativeEndian.Uint32(el[4:]))
		ksize, vsize := int64(binary.NativeEndian.Uint32(el[8:])), int64(binary.NativeEndian.Uint32(el[12:]))
		if flags&leafBucketBit != 0 {
			return fmt.Errorf("page %d: a nested bucket", id)
		}
		k := int64(e) + pos
		if k+ksize+vsize > int64(len(pg)) {
			return fmt.Errorf("page %d: element %d runs past the page", id, i)
		}
		fn(pg[k:k+ksize], pg[k+ksize:k+ksize+vsize], int64(id)*p.pageSize+k+ksize)
	}
	return nil
}

// paged returns a reader of the buckets of a read-only store, and a
// function to close it.
func (s *Store) paged(tx *bolt.Tx) (*pagedBucket, func(), error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	ps := int64(s.db.Info().PageSize)
	return &pagedBucket{f: f, pageSize: ps, size: fi.Size(), maxPgid: uint64(tx.Size()/ps) - 1}, func() { f.Close() }, nil
}

// pagedValues calls fn with every key of bucket b (read by pread: nothing
// mapped), in key order, with where its value lies in the file and its
// length, and with the value itself when values is set (else v is nil); ok
// is false when b is too small to have pages of its own (it lies inside
// its parent's), or its tree is not as bbolt writes it, and then fn may
// have been given some keys: the caller starts again through the map. k
// and v are fn's to keep.
func (s *Store) pagedValues(tx *bolt.Tx, b *bolt.Bucket, values bool, fn func(k, v []byte, off, n int64) error) (ok bool, err error) {
	if b == nil || b.Root() == 0 {
		return false, nil
	}
	p, done, err := s.paged(tx)
	if err != nil {
		return false, err
	}
	defer done()
	leaves, err := p.leaves(uint64(b.Root()))
	if err != nil {
		return false, damaged(s.path, err)
	}
	// Read in the file's order, given in key order: each leaf's
	// elements kept until the leaves before it are given.
	type elem struct {
		k, v   []byte
		off, n int64
	}
	var (
		pending = map[int][]elem{}
		next    int
	)
	err = p.eachLeaf(leaves, func(i int, pg []byte) error {
		var es []elem
		if err := p.leaf(leaves[i], pg, func(k, v []byte, off int64) {
			e := elem{k: bytes.Clone(k), off: off, n: int64(len(v))}
			if values {
				e.v = bytes.Clone(v)
			}
			es = append(es, e)
		}); err != nil {
			if errors.Is(err, errNotLeaf) {
				return err
			}
			return damaged(s.path, err)
		}
		pending[i] = es
		for ; ; next++ {
			es, ok := pending[next]
			if !ok {
				return nil
			}
			delete(pending, next)
			for _, e := range es {
				if err := fn(e.k, e.v, e.off, e.n); err != nil {
					return err
				}
			}
		}
	})
	if errors.Is(err, errNotLeaf) {
		return false, nil
	}
	return true, err
}

// draftSpans returns where the value of each of recs (in key order, as
// readHeads gives them) lies in the file of a read-only store; ok is false
// when the drafts are to be read through the map (a bucket small enough
// to lie inside its parent's page).
func (s *Store) draftSpans(tx *bolt.Tx, recs []headRec) (spans []valueSpan, ok bool, err error) {
	spans = make([]valueSpan, 0, len(recs))
	ok, err = s.pagedValues(tx, tx.Bucket(bucketDrafts), false, func(k, _ []byte, off, n int64) error {
		// Both in key order: a merge. A draft with no head (there is
		// none) is not listed.
		i := len(spans)
		if i < len(recs) && recs[i].key == string(k) {
			spans = append(spans, valueSpan{key: recs[i].key, off: off, len: n})
		}
		return nil
	})
	if err != nil || !ok {
		return nil, false, err
	}
	if len(spans) != len(recs) {
		return nil, false, damaged(s.path, fmt.Sprintf("draft %q has a head but no value", recs[len(spans)].key))
	}
	return spans, true, nil
}
