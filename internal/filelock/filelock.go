// Package filelock takes advisory exclusive locks on open files, so that
// two writers, in one process or two, never share a file meant for one.
// The locks are flock(2) locks: they belong to the open file, and go away
// when it is closed or the process ends, so a crash leaves nothing to clean
// up. Where flock is not available, TryLock takes no lock and succeeds
// (Supported is false): the caller must then make sure of it itself.
package filelock

import "errors"

// ErrLocked is the error of TryLock when another open file holds the
// lock.
var ErrLocked = errors.New("locked by another writer")
