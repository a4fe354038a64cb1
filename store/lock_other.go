//go:build !unix

package store

import "os"

// flock is a no-op where bbolt's lock is not flock(2).
func flock(*os.File) error { return nil }
