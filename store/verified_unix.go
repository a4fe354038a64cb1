//go:build linux || darwin

package store

import "golang.org/x/sys/unix"

// fileState is what a write to the store file, a copy or a restore over
// it changes.
type fileState struct {
	dev, ino           uint64
	size, mtime, ctime int64
}

func statFile(path string) (fileState, bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileState{}, false
	}
	return fileState{dev: uint64(st.Dev), ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}, true
}
