//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package delivery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockName is the file whose lock says a Sink uses the spill directory.
const lockName = "LOCK"

// lockDir takes an exclusive lock on dir, so that two Sinks, in one
// process or two, never replay or append to the same segments. The lock
// goes away with the process, so a crash leaves nothing to clean up.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("spill directory %s is in use by another delivery sink", dir)
		}
		return nil, fmt.Errorf("lock spill directory %s: %w", dir, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
