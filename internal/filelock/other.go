//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package filelock

import "os"

// Supported reports whether TryLock takes a lock on this system.
const Supported = false

// TryLock takes no lock where flock is not available, and succeeds.
func TryLock(*os.File) error { return nil }

// Unlock does nothing where flock is not available.
func Unlock(*os.File) error { return nil }
