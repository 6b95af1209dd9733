package jsonlsink

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"
)

// tornChunkSize is how many bytes repairTornLine reads at a time, going
// backwards from the end of the file.
const tornChunkSize = 64 << 10

// lastLineEnd returns the offset just past the last newline among the
// first size bytes of r, or 0 when there is none.
func lastLineEnd(r io.ReaderAt, size int64) (int64, error) {
	if size == 0 {
		return 0, nil
	}
	buf := make([]byte, min(size, tornChunkSize))
	for end := size; end > 0; {
		n := min(end, int64(len(buf)))
		start := end - n
		if _, err := r.ReadAt(buf[:n], start); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// repairTornLine cuts off bytes after the last newline of f, whose size is
// size, copying them aside first under TornLineMoveAside, and returns the
// new size.
func (s *Sink) repairTornLine(f *os.File, size int64) (int64, error) {
	if size == 0 {
		return 0, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return 0, fmt.Errorf("read last byte: %w", err)
	}
	if last[0] == '\n' {
		return size, nil
	}
	cut, err := lastLineEnd(f, size)
	if err != nil {
		return 0, fmt.Errorf("look for torn line: %w", err)
	}
	if s.cfg.tornPolicy == TornLineMoveAside {
		name, err := s.moveAside(f, cut, size)
		if err != nil {
			return 0, fmt.Errorf("move torn line aside: %w", err)
		}
		s.tornPath = name
	}
	if err := f.Truncate(cut); err != nil {
		return 0, fmt.Errorf("cut torn line: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("cut torn line: %w", err)
	}
	s.tornBytes = size - cut
	s.logger().Warn("jsonlsink: cut torn last line left by an interrupted write",
		"path", s.path, "offset", cut, "bytes", s.tornBytes, "moved_to", s.tornPath)
	return cut, nil
}

// moveAside copies bytes [from, to) of f to a new file next to the sink's
// and returns its name.
func (s *Sink) moveAside(f *os.File, from, to int64) (string, error) {
	name := fmt.Sprintf("%s.torn-%d", s.path, time.Now().UnixNano())
	out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, s.cfg.fileMode)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, io.NewSectionReader(f, from, to-from))
	if err == nil {
		err = out.Chmod(s.cfg.fileMode)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	syncDir(name)
	return name, nil
}
