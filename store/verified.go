package store

import (
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// checkedSuffix names the file beside the store that records the state
// the store was left in by a read-write session that began with a sound
// store: checked by Open, created by it, or itself found so. An Open that
// finds the store file in exactly that state (the same file, size,
// modification and change times, and last transaction) skips the full
// check: nothing has written to the file since. Any other state — a write
// by a process that did not close the store (a crash), a copy or a
// restore over it, an edit — and Open checks every page again.
const checkedSuffix = ".checked"

// checkedState is the line the marker holds for the store file as it is
// now; ok is false when it cannot be told (no such file, no support).
func (s *Store) checkedState() (string, bool) {
	st, ok := statFile(s.path)
	if !ok {
		return "", false
	}
	var txid int
	err := s.db.View(func(tx *bolt.Tx) error { txid = tx.ID(); return nil })
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("impact store left checked: dev %d ino %d size %d mtime %d ctime %d txid %d\n",
		st.dev, st.ino, st.size, st.mtime, st.ctime, txid), true
}

// unchangedSinceChecked reports whether the store file is as the marker
// says a sound session left it.
func (s *Store) unchangedSinceChecked() bool {
	b, err := os.ReadFile(s.path + checkedSuffix)
	if err != nil {
		return false
	}
	now, ok := s.checkedState()
	return ok && string(b) == now
}

// leaveChecked records the store file's state for the next Open (see
// checkedSuffix). It first moves the file's modification time back by a
// nanosecond: a later write stamps the time it happens, which is at least
// that of the last write, so no write can leave the recorded time in
// place, however coarse the file system's clock. Errors leave no marker:
// the next Open then checks the whole store.
func (s *Store) leaveChecked() {
	name := s.path + checkedSuffix
	_ = os.Remove(name)
	st, ok := statFile(s.path)
	if !ok {
		return
	}
	if err := os.Chtimes(s.path, time.Time{}, time.Unix(0, st.mtime-1)); err != nil {
		return
	}
	line, ok := s.checkedState()
	if !ok {
		return
	}
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(line), 0o600); err != nil {
		_ = os.Remove(tmp)
		return
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
	}
}
