package store

import "golang.org/x/sys/unix"

// dropPages drops the resident pages of the shared file mapping
// [addr, addr+n) (see release). An error leaves them resident: RSS, not
// correctness.
func dropPages(addr, n uintptr) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_DONTNEED)
}
