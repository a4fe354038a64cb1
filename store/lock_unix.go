//go:build unix

package store

import (
	"os"
	"syscall"
)

// flock takes bbolt's exclusive lock on f without waiting.
func flock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
