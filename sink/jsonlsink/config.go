package jsonlsink

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Defaults used by [New] when no option says otherwise.
const (
	// DefaultFileMode is the permission of a file New creates: readable and
	// writable by its owner only, since spans may carry sensitive data.
	DefaultFileMode os.FileMode = 0o600
	// DefaultMaxBackups is the number of rotated files kept when
	// [WithMaxSize] enables rotation and [WithMaxBackups] is not given.
	DefaultMaxBackups = 3
	// DirMode is the permission of the parent directories New creates.
	DirMode os.FileMode = 0o750
	// DefaultPreallocate is how many bytes past the end of the file are
	// reserved at a time when [WithPreallocate] is not given: 4 MiB.
	DefaultPreallocate int64 = 4 << 20
)

// TornLinePolicy says what [New] does with a torn last line: bytes after the
// file's last newline, left by a process that crashed in the middle of a
// write.
type TornLinePolicy uint8

const (
	// TornLineTruncate cuts the torn tail off the file. It is the default.
	TornLineTruncate TornLinePolicy = iota
	// TornLineMoveAside copies the torn tail to "<path>.torn-<unix nanos>"
	// before cutting it off the file.
	TornLineMoveAside
)

// String returns "truncate" or "move-aside".
func (p TornLinePolicy) String() string {
	switch p {
	case TornLineTruncate:
		return "truncate"
	case TornLineMoveAside:
		return "move-aside"
	}
	return fmt.Sprintf("TornLinePolicy(%d)", uint8(p))
}

// Option configures a [Sink] created by [New].
type Option func(*config)

type config struct {
	fileMode    os.FileMode
	maxSize     int64
	maxBackups  int
	syncOnWrite bool
	prealloc    int64
	tornPolicy  TornLinePolicy
	logger      *slog.Logger
}

func newConfig(opts []Option) (config, error) {
	c := config{fileMode: DefaultFileMode, maxBackups: DefaultMaxBackups, prealloc: DefaultPreallocate}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	var errs []string
	if c.fileMode&^os.ModePerm != 0 {
		errs = append(errs, fmt.Sprintf("file mode %v has bits other than permissions", c.fileMode))
	}
	if c.maxSize < 0 {
		errs = append(errs, fmt.Sprintf("max size %d is negative", c.maxSize))
	}
	if c.maxBackups < 0 {
		errs = append(errs, fmt.Sprintf("max backups %d is negative", c.maxBackups))
	}
	if c.prealloc < 0 {
		errs = append(errs, fmt.Sprintf("preallocation %d is negative", c.prealloc))
	}
	if c.tornPolicy > TornLineMoveAside {
		errs = append(errs, fmt.Sprintf("unknown torn line policy %v", c.tornPolicy))
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return c, errors.New("jsonlsink: invalid options: " + strings.Join(errs, "; "))
	}
	return c, nil
}

// WithFileMode sets the permission bits of the file when New or a rotation
// creates it (default [DefaultFileMode], 0600), exactly, whatever the
// process umask. The mode of a file that already exists is left alone.
func WithFileMode(mode os.FileMode) Option {
	return func(c *config) { c.fileMode = mode }
}

// WithMaxSize turns on size-based rotation: before a write that would make
// the file larger than bytes, a non-empty file is renamed to "<path>.1"
// (older backups shift to ".2", ".3", ...) and a new file is started. A
// batch larger than bytes is still written whole, into a fresh file.
// Zero, the default, never rotates; a negative size makes New fail.
func WithMaxSize(bytes int64) Option {
	return func(c *config) { c.maxSize = bytes }
}

// WithMaxBackups sets how many rotated files are kept (default
// [DefaultMaxBackups]); the oldest beyond that is deleted. Zero keeps none:
// a full file is deleted when it is rotated. It has no effect without
// [WithMaxSize]; a negative count makes New fail.
func WithMaxBackups(n int) Option {
	return func(c *config) { c.maxBackups = n }
}

// WithSyncOnWrite makes every Write fsync the file before it returns, so
// records survive a crash of the machine, not only of the process, at the
// cost of one fsync per batch. The default, false, syncs only in ForceFlush
// and Shutdown.
func WithSyncOnWrite(sync bool) Option {
	return func(c *config) { c.syncOnWrite = sync }
}

// WithPreallocate sets how many bytes the sink reserves on disk past the
// end of the file at a time (default [DefaultPreallocate], 4 MiB), so that
// appending costs less CPU; see "Preallocation" in the package
// documentation. Zero turns preallocation off; a negative size makes New
// fail.
func WithPreallocate(bytes int64) Option {
	return func(c *config) { c.prealloc = bytes }
}

// WithTornLinePolicy says what New does with a torn last line found in an
// existing file (default [TornLineTruncate]). An unknown policy makes New
// fail.
func WithTornLinePolicy(p TornLinePolicy) Option {
	return func(c *config) { c.tornPolicy = p }
}

// WithLogger sets the logger that reports repairs of torn lines (warning)
// and rotations (info). By default nothing is logged; [Sink.TornBytes] and
// [Sink.TornPath] still tell what a repair did.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
