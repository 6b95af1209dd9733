package delivery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stagetrace/stagetrace/internal/filelock"
)

// lockName is the file whose lock says a Sink uses the spill directory.
const lockName = "LOCK"

// lockDir takes an exclusive lock on dir, so that two Sinks, in one
// process or two, never replay or append to the same segments. The lock
// goes away with the process, so a crash leaves nothing to clean up. Where
// flock is not available there is no lock (see package filelock): the
// caller must make sure that one spill directory has one Sink at a time.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := filelock.TryLock(f); err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrLocked) {
			return nil, fmt.Errorf("spill directory %s is in use by another delivery sink", dir)
		}
		return nil, fmt.Errorf("lock spill directory %s: %w", dir, err)
	}
	return func() {
		_ = filelock.Unlock(f)
		_ = f.Close()
	}, nil
}
