package jsonlsink

import (
	"errors"
	"os"
)

// fallocate reserves blocks of a file without changing its size; a
// variable so that tests can play a file system that cannot.
var fallocate = fallocateKeepSize

// reserve makes sure the blocks for the next n bytes of the file are
// reserved, asking the file system for cfg.prealloc bytes more than that at
// a time. The caller holds the lock.
//
// Appending to a file whose blocks are already reserved costs the kernel
// less than appending past its last block: ext4, for one, then finds each
// new page's block in the extent it already has, instead of reserving a
// delayed block for every 4 KiB written. The reservation is kept past the
// end of the file (FALLOC_FL_KEEP_SIZE): the file's size, what readers see,
// is always that of the lines written. A file system that cannot reserve,
// or a reservation that fails (out of space), turns preallocation off for
// the rest of the sink's life, the second with a warning; it is a saving,
// never a condition of writing.
func (s *Sink) reserve(n int) {
	if s.cfg.prealloc == 0 || s.preallocOff {
		return
	}
	end := s.size + int64(n)
	if end <= s.reserved {
		return
	}
	from := max(s.reserved, s.size)
	to := end + s.cfg.prealloc
	if m := s.cfg.maxSize; m > 0 && to > m {
		// Past the rotation limit the file will not grow.
		to = max(end, m)
	}
	if err := fallocate(s.f, from, to-from); err != nil {
		// A reservation that failed part way, out of space, keeps the
		// blocks it got (ext4 and XFS do not undo it): give them back
		// now, when space is short, rather than leave them past the end
		// of the file for good. Where reserving is not supported at all
		// nothing was reserved (and on Windows a file opened to append
		// cannot be truncated).
		s.preallocOff = true
		if errors.Is(err, errors.ErrUnsupported) {
			return // documented: such a sink appends as usual
		}
		s.reserved = to
		s.release(s.f)
		s.logger().Warn("jsonlsink: preallocation off after a failed reservation", "path", s.path, "err", err)
		return
	}
	s.reserved = to
}

// release gives back the blocks reserved past the end of f, the file the
// sink is done with or about to rotate. A failure costs disk space, not
// data, so it is only logged.
func (s *Sink) release(f *os.File) {
	if s.reserved <= s.size {
		return
	}
	s.reserved = 0
	// Truncating to the file's own size frees the blocks kept past it. The
	// size is read from the file rather than taken from s.size, so that a
	// second writer ignoring the lock loses no more than the lines it
	// appends between the two calls.
	fi, err := f.Stat()
	if err == nil {
		err = f.Truncate(fi.Size())
	}
	if err != nil {
		s.logger().Warn("jsonlsink: freeing preallocated blocks", "path", s.path, "err", err)
	}
}
