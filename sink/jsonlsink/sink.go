package jsonlsink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/stagetrace/stagetrace"
)

var (
	_ stagetrace.Sink    = (*Sink)(nil)
	_ stagetrace.Flusher = (*Sink)(nil)
)

// maxRetainedBuf is the largest encoding buffer a Sink keeps between
// writes; a larger one, grown for a huge batch, is dropped after use. It
// holds a batch of about 10,000 spans, so that large batches do not cost
// more per span than small ones.
const maxRetainedBuf = 16 << 20

// Sink is a [stagetrace.Sink] that appends records as JSON lines to a file.
// It is safe for concurrent use. Create one with [New].
type Sink struct {
	path string
	cfg  config

	// sem is a one-slot lock, so that waiting for it can honour a context.
	sem chan struct{}

	// Guarded by sem.
	f           *os.File // nil after Shutdown
	size        int64    // bytes in f, as far as this sink knows
	enc         stagetrace.Encoder
	buf         []byte
	needNewline bool // f ends with a fragment of a failed write
	// reserved is the offset up to which f's blocks are reserved (see
	// reserve); preallocOff is set once the file system refused.
	reserved    int64
	preallocOff bool
	// lineSize is the mean size of a record in the last batch written, to
	// size the buffer of the next one at once rather than by doubling.
	lineSize int

	// Set by New, read-only afterwards.
	tornBytes int64
	tornPath  string

	rotations atomic.Int64
	// closed is set by Shutdown before it waits for the lock, so that no
	// write starts after Shutdown returns, even one that gave up.
	closed atomic.Bool
}

// New opens the file at path for appending, creating it (see
// [WithFileMode]) and any missing parent directories (with [DirMode]) if
// needed, and returns a Sink writing to it.
//
// If the file ends with a torn line, bytes after its last newline left by
// a crash in the middle of a write, New cuts them off, first copying them
// aside when [WithTornLinePolicy] says so; [Sink.TornBytes] reports how many.
// Nothing else in an existing file is checked or changed.
//
// The sink holds an exclusive advisory lock (flock) on the file while it
// is open: New fails at once with an error wrapping [ErrInUse] when
// another sink, in this process or another, holds it, and repairs nothing.
// The lock goes away with the process. Readers take no lock. Where flock
// is not available, nothing stops a second writer.
//
// New fails, with an error naming path, when the options are invalid, when
// path is empty, is a directory or is not a regular file, or when the file
// or its directories cannot be created, read or written.
func New(path string, opts ...Option) (*Sink, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("jsonlsink: empty path")
	}
	s := &Sink{path: path, cfg: cfg, sem: make(chan struct{}, 1)}
	if err := s.open(); err != nil {
		return nil, fmt.Errorf("jsonlsink: open %q: %w", path, err)
	}
	return s, nil
}

func (s *Sink) open() error {
	if dir := filepath.Dir(s.path); dir != "." {
		if err := os.MkdirAll(dir, DirMode); err != nil {
			return err
		}
	}
	f, created, err := openFile(s.path, s.cfg.fileMode)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("not a regular file (mode %v)", fi.Mode())
	}
	if created {
		syncDir(s.path)
	}
	// Locked before the repair: a torn line in a file another sink holds
	// is that sink's write in progress.
	if err := lockFile(f); err != nil {
		f.Close()
		return err
	}
	size, err := s.repairTornLine(f, fi.Size())
	if err != nil {
		f.Close()
		return err
	}
	s.f, s.size = f, size
	return nil
}

// openFile opens path for reading and appending. A file it creates gets
// exactly mode, whatever the umask; an existing file keeps its mode.
func openFile(path string, mode os.FileMode) (f *os.File, created bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, mode)
	if err == nil {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return nil, false, err
		}
		return f, true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	return f, false, err
}

// syncDir makes a file created, renamed or removed in the directory of path
// survive a crash. Errors are ignored: not every system can sync a
// directory, and the data itself is already synced.
func syncDir(path string) {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Path returns the path of the file the sink writes to.
func (s *Sink) Path() string { return s.path }

// TornBytes returns the number of bytes of a torn last line that New cut
// off the file, 0 when the file ended with a complete line.
func (s *Sink) TornBytes() int64 { return s.tornBytes }

// TornPath returns the file New copied a torn last line to under
// [TornLineMoveAside], or "" when nothing was copied.
func (s *Sink) TornPath() string { return s.tornPath }

// Rotations returns the number of times the file has been rotated since New.
func (s *Sink) Rotations() int64 { return s.rotations.Load() }

// lock takes the sink's lock, giving up with ctx's error if ctx is done
// first.
func (s *Sink) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Sink) unlock() { <-s.sem }

// Write appends the spans and then the events of b to the file, one line
// each, in a single write, so that lines of concurrent batches never mix
// and every line is in the file, visible to other processes, when Write
// returns. With [WithSyncOnWrite] the file is also synced.
//
// If ctx is done before the sink's lock can be taken, Write returns
// ctx.Err() and writes nothing. After [Sink.Shutdown] it returns an error
// matching [stagetrace.ErrClosed]. If a rotation fails, the batch is still appended to the
// current file and Write returns the rotation error.
func (s *Sink) Write(ctx context.Context, b stagetrace.Batch) error {
	if s.closed.Load() {
		return s.closedError()
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if s.closed.Load() {
		return s.closedError()
	}
	if b.Len() == 0 {
		return nil
	}

	// buf[0] is a newline, written only to end the fragment of a failed
	// write that could not be cut off; the lines start at buf[1].
	buf := s.buf[:0]
	if need := 1 + b.Len()*s.lineSize*9/8; cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	buf = append(buf, '\n')
	for i := range b.Spans {
		buf = s.enc.AppendSpan(buf, &b.Spans[i])
	}
	for i := range b.Events {
		buf = s.enc.AppendEvent(buf, &b.Events[i])
	}
	s.lineSize = len(buf) / b.Len()
	defer s.keepBuf(buf)

	var rotErr error
	if s.cfg.maxSize > 0 && s.size > 0 && s.size+int64(len(buf)-1) > s.cfg.maxSize {
		rotErr = s.rotate()
	}

	data := buf[1:]
	if s.needNewline {
		data = buf
	}
	s.reserve(len(data))
	n, err := s.f.Write(data)
	if err != nil {
		if n > 0 {
			// Never leave a torn line to be appended to: cut it off, or
			// failing that, end it before the next batch. The cut frees
			// what was reserved past the end too.
			if terr := s.f.Truncate(s.size); terr != nil {
				s.size += int64(n)
				s.needNewline = true
			} else {
				s.reserved = 0
			}
		}
		return errors.Join(rotErr, fmt.Errorf("jsonlsink: write %q: %w", s.path, err))
	}
	s.size += int64(n)
	s.needNewline = false
	if s.cfg.syncOnWrite {
		if err := s.f.Sync(); err != nil {
			return errors.Join(rotErr, fmt.Errorf("jsonlsink: sync %q: %w", s.path, err))
		}
	}
	return rotErr
}

// closedError is Write's error after Shutdown.
func (s *Sink) closedError() error {
	return fmt.Errorf("jsonlsink: write %q: %w", s.path, stagetrace.ErrClosed)
}

func (s *Sink) keepBuf(buf []byte) {
	if cap(buf) > maxRetainedBuf {
		s.buf = nil
		return
	}
	s.buf = buf[:0]
}

// ForceFlush syncs the file, so that every record written before the call
// survives a crash of the machine. After Shutdown it does nothing.
func (s *Sink) ForceFlush(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if s.f == nil {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("jsonlsink: sync %q: %w", s.path, err)
	}
	return nil
}

// Shutdown syncs and closes the file; later calls to Write fail with
// [stagetrace.ErrClosed]. If ctx is done before a write in progress ends,
// Shutdown returns an error wrapping ctx's, and the file is closed when
// that write ends. Calling it again returns nil.
func (s *Sink) Shutdown(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	select {
	case s.sem <- struct{}{}:
	default:
		if err := s.lock(ctx); err != nil {
			go func() {
				s.sem <- struct{}{}
				defer s.unlock()
				_ = s.close()
			}()
			return fmt.Errorf("jsonlsink: shutdown %q: a write is still running: %w", s.path, err)
		}
	}
	defer s.unlock()
	return s.close()
}

// close syncs and closes the file. The caller holds the lock.
func (s *Sink) close() error {
	f := s.f
	s.release(f)
	s.f, s.buf = nil, nil
	var errs []error
	if err := f.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("jsonlsink: sync %q: %w", s.path, err))
	}
	if err := f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("jsonlsink: close %q: %w", s.path, err))
	}
	return errors.Join(errs...)
}

func (s *Sink) logger() *slog.Logger { return s.cfg.logger }
