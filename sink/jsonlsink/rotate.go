package jsonlsink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// backupName returns the name of the i-th rotated file, "<path>.<i>".
func backupName(path string, i int) string { return path + "." + strconv.Itoa(i) }

// rotate moves the current file to the first backup, shifting older
// backups and deleting the oldest, and starts a new file. On failure the
// sink keeps writing to the file it has open.
func (s *Sink) rotate() error {
	wrap := func(err error) error { return fmt.Errorf("jsonlsink: rotate %q: %w", s.path, err) }
	// The rotated file is final: give back the blocks reserved past its
	// end, and make it durable before it is renamed.
	s.release(s.f)
	if err := s.f.Sync(); err != nil {
		return wrap(err)
	}
	if n := s.cfg.maxBackups; n == 0 {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return wrap(err)
		}
	} else {
		if err := os.Remove(backupName(s.path, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return wrap(err)
		}
		for i := n - 1; i >= 1; i-- {
			err := os.Rename(backupName(s.path, i), backupName(s.path, i+1))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return wrap(err)
			}
		}
		if err := os.Rename(s.path, backupName(s.path, 1)); err != nil {
			return wrap(err)
		}
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, s.cfg.fileMode)
	if err == nil {
		if err = f.Chmod(s.cfg.fileMode); err == nil {
			err = lockFile(f)
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		return wrap(err)
	}
	old, oldSize := s.f, s.size
	s.f, s.size, s.needNewline, s.reserved = f, 0, false, 0
	syncDir(s.path)
	s.rotations.Add(1)
	if err := old.Close(); err != nil {
		s.logger().Warn("jsonlsink: closing rotated file", "path", s.path, "err", err)
	}
	s.logger().Info("jsonlsink: rotated file", "path", s.path, "bytes", oldSize, "backups", s.cfg.maxBackups)
	return nil
}
