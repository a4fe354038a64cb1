//go:build unix

package daemonauth

import (
	"io/fs"
	"syscall"
)

// FileUID is the owner of a file, when the platform says.
func FileUID(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
