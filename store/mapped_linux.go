package store

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// dropPages drops the resident pages of the shared file mapping
// [addr, addr+n) (see release). An error leaves them resident: RSS, not
// correctness.
func dropPages(addr, n uintptr) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_DONTNEED)
}

// residentFiles reads the process's resident file-backed memory from
// /proc/self/statm (its third field), keeping the file open.
type residentFiles struct {
	f   *os.File
	bad bool
	buf [128]byte
}

// read returns the resident file-backed bytes, -1 if unknown.
func (r *residentFiles) read() int64 {
	if r.bad {
		return -1
	}
	if r.f == nil {
		f, err := os.Open("/proc/self/statm")
		if err != nil {
			r.bad = true
			return -1
		}
		r.f = f
	}
	n, _ := r.f.ReadAt(r.buf[:], 0)
	fields := bytes.Fields(r.buf[:n])
	if len(fields) < 3 {
		return -1
	}
	pages, err := strconv.ParseInt(string(fields[2]), 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}

func (r *residentFiles) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}
