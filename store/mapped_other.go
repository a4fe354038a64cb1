//go:build !linux

package store

// dropPages does nothing here: madvise's MADV_DONTNEED drops a shared
// file mapping's pages from the resident set on Linux only.
func dropPages(addr, n uintptr) {}

type residentFiles struct{}

func (residentFiles) read() int64 { return -1 }
func (residentFiles) close()      {}
