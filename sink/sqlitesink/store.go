package sqlitesink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// ErrReadOnly is returned by Write on a store opened with OpenReadOnly.
var ErrReadOnly = errors.New("sqlitesink: store is read-only")

// ErrNotFound is returned by the queries for one thing (a run, a span) when
// there is no such thing.
var ErrNotFound = query.ErrNotFound

var (
	_ stagetrace.Sink    = (*Store)(nil)
	_ stagetrace.Flusher = (*Store)(nil)
)

// Store is a stagetrace.Sink writing to a SQLite file, and the queries on
// that file. It is safe for concurrent use. Create one with Open, or with
// OpenReadOnly to query a file another process writes.
type Store struct {
	path     string
	cfg      config
	readOnly bool

	// wdb has exactly one connection: SQLite has one writer at a time
	// anyway, and a single connection lets prepared statements live as
	// long as the store. Nil for a read-only store.
	wdb   *sql.DB
	stmts statements
	// rdb serves queries, on connections that cannot write, so that
	// reading never waits for a write in WAL mode.
	rdb *sql.DB
	// cdb is the checkpointer's connection. Nil for a read-only store.
	cdb *sql.DB
	// kick wakes the checkpointer; written records since its last run.
	kick    chan struct{}
	pending int // guarded by sem
	// walLimit is walRestartFrames, lowered by tests.
	walLimit int64

	// sem is a one-slot lock serializing writes and retention, taken in a
	// way that honours a context.
	sem chan struct{}
	// Guarded by sem.
	keyIDs    map[string]int64   // committed keys.id by name
	attrIndex indexedSet         // the attribute keys the file indexes
	resIDs    map[[32]byte]int64 // committed resources.id by hash of attrs
	buf       []byte

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	bgCtx     context.Context // cancelled by Shutdown
	bgCancel  context.CancelFunc
	bg        sync.WaitGroup

	resMu    sync.Mutex
	resCache map[int64]*stagetrace.Resource // resources read, by id
}

// Open opens the store at path for writing and reading, creating the file
// (mode 0600, so spans stay private) and its parent directories when
// missing. An existing file written by an older version of stagetrace is
// migrated; one written by a newer version is refused with
// ErrSchemaTooNew, and a SQLite file that is not a store with ErrNotStore.
// With WithTTL, expired runs are deleted before Open returns.
func Open(path string, opts ...Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("sqlitesink: empty path")
	}
	if err := createFile(path); err != nil {
		return nil, fmt.Errorf("sqlitesink: create %s: %w", path, err)
	}
	s := newStore(path, cfg, false)
	if err := s.openWriter(); err != nil {
		return nil, s.abort(err)
	}
	if err := s.openReader(); err != nil {
		return nil, s.abort(err)
	}
	if err := s.openCheckpointer(); err != nil {
		return nil, s.abort(err)
	}
	s.bg.Add(1)
	go s.checkpointLoop()
	if cfg.ttl > 0 {
		if _, err := s.Expire(s.bgCtx); err != nil {
			return nil, s.abort(err)
		}
		s.bg.Add(1)
		go s.retainLoop()
	}
	return s, nil
}

// abort undoes a failed Open: it stops the goroutines started and closes
// the connections opened, and returns err with what that failed.
func (s *Store) abort(err error) error {
	s.bgCancel()
	s.bg.Wait()
	return errors.Join(err, s.closeDBs())
}

// OpenReadOnly opens an existing store for queries only: it never creates,
// migrates or changes the file, and it reads while another process writes.
// A missing file is an error wrapping fs.ErrNotExist; a file whose schema
// is older than SchemaVersion is refused with ErrSchemaTooOld.
func OpenReadOnly(path string, opts ...Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sqlitesink: %s is not a regular file", path)
	}
	s := newStore(path, cfg, true)
	if err := s.openReader(); err != nil {
		return nil, s.abort(err)
	}
	ctx := context.Background()
	version, err := readVersion(ctx, s.rdb, path)
	if err == nil && version < SchemaVersion {
		if version == 0 {
			err = fmt.Errorf("%w: %s is empty", ErrNotStore, path)
		} else {
			err = fmt.Errorf("%w: %s has schema version %d; open it for writing once (sqlitesink.Open, or any stagetrace writer) to migrate it to version %d", ErrSchemaTooOld, path, version, SchemaVersion)
		}
	}
	err = s.checkOpen(ctx, err) // a damaged file is refused: see check.go
	if err != nil {
		return nil, s.abort(err)
	}
	return s, nil
}

func newStore(path string, cfg config, readOnly bool) *Store {
	s := &Store{
		path:     path,
		cfg:      cfg,
		readOnly: readOnly,
		sem:      make(chan struct{}, 1),
		keyIDs:   make(map[string]int64),
		resIDs:   make(map[[32]byte]int64),
		resCache: make(map[int64]*stagetrace.Resource),
		kick:     make(chan struct{}, 1),
		walLimit: walRestartFrames,
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	return s
}

// createFile creates path with mode 0600 when it does not exist, so that
// SQLite (which would create it 0644) opens a private file, and the WAL
// files it creates next to it take the same mode.
func createFile(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// dsn returns the driver's name for path: a file: URI, so that mode=ro is
// honoured and a path holding ? or # is not taken apart.
func (s *Store) dsn(readOnly bool) (string, error) {
	abs, err := filepath.Abs(s.path)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	// busy_timeout is applied first by the driver, before the pragmas
	// that may need a lock.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", s.cfg.busyTimeout.Milliseconds()))
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-16384)") // 16 MiB per connection
	if readOnly {
		q.Set("mode", "ro")
	} else {
		q.Set("mode", "rwc")
		// In WAL mode (set once, by openWriter), NORMAL synchronous mode
		// keeps the file consistent through a crash without syncing on
		// every commit; ForceFlush checkpoints to make what was written
		// durable.
		q.Add("_pragma", "synchronous(NORMAL)")
		// A write transaction takes the write lock at BEGIN, so that two
		// writers queue on busy_timeout instead of one failing to upgrade
		// a read lock.
		q.Set("_txlock", "immediate")
		// Checkpoints (copying the log into the file, and syncing it) run
		// on a connection of their own in the background, so that a write
		// never waits for the disk: see checkpointLoop.
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// A log grown large while a reader held it back is cut back to
		// this size once checkpointed.
		q.Add("_pragma", "journal_size_limit(67108864)")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String(), nil
}

func (s *Store) openWriter() error {
	dsn, err := s.dsn(false)
	if err != nil {
		return err
	}
	s.wdb, err = sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlitesink: open %s: %w", s.path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	ctx := context.Background()
	var mode string
	// WAL lets queries read while a batch is written. The mode is kept
	// in the file.
	if err := s.wdb.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("sqlitesink: open %s: %w", s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlitesink: open %s: journal mode is %s, not wal", s.path, mode)
	}
	if err := migrate(ctx, s.wdb, s.path); err != nil {
		return err
	}
	if err := s.ensureIndexed(ctx); err != nil {
		return err
	}
	return s.stmts.prepare(ctx, s.wdb)
}

func (s *Store) openReader() error {
	dsn, err := s.dsn(true)
	if err != nil {
		return err
	}
	s.rdb, err = sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlitesink: open %s: %w", s.path, err)
	}
	s.rdb.SetMaxOpenConns(s.cfg.readers)
	s.rdb.SetMaxIdleConns(s.cfg.readers)
	if err := s.rdb.PingContext(context.Background()); err != nil {
		return fmt.Errorf("sqlitesink: open %s: %w", s.path, err)
	}
	return nil
}

// Path returns the path of the store's file.
func (s *Store) Path() string { return s.path }

// lock takes the write lock, giving up with ctx's error if ctx is done
// first.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lockNow takes the write lock at once if it is free, else as lock does:
// a done context does not keep Shutdown from closing an idle store.
func (s *Store) lockNow(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	default:
		return s.lock(ctx)
	}
}

func (s *Store) unlock() { <-s.sem }

// ForceFlush makes every batch written so far durable, through a crash of
// the machine too: Write commits each batch to the write-ahead log, and
// ForceFlush checkpoints the log into the file, syncing both.
func (s *Store) ForceFlush(ctx context.Context) error {
	if s.readOnly {
		return nil
	}
	// The write lock keeps Shutdown from closing the file meanwhile.
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if s.closed.Load() {
		return nil
	}
	return s.checkpoint(ctx)
}

// Shutdown stops retention, waits for a write in progress, and closes the
// file. Later writes and queries fail with [stagetrace.ErrClosed]. If ctx is done before
// the write in progress ends, Shutdown returns ctx's error and the file is
// closed when that write ends. Calls after the first return the first
// call's result.
func (s *Store) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		// Retention watches bgCtx: cancelling it interrupts a deletion in
		// progress, whose transaction rolls back whole.
		s.bgCancel()
		s.bg.Wait()
		if err := s.lockNow(ctx); err != nil {
			go func() {
				s.sem <- struct{}{}
				defer s.unlock() // writes waiting for the lock then see closed
				_ = s.closeDBs()
			}()
			s.closeErr = fmt.Errorf("sqlitesink: shutdown: a write is still running: %w", err)
			return
		}
		defer s.unlock()
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

// Close is Shutdown without a deadline.
func (s *Store) Close() error { return s.Shutdown(context.Background()) }

func (s *Store) closeDBs() error {
	s.bgCancel()
	var errs []error
	errs = append(errs, s.stmts.close())
	// The writer closes last: closing the last connection to the file
	// checkpoints the log and removes it.
	for _, db := range []*sql.DB{s.rdb, s.cdb, s.wdb} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// readDB returns the pool queries use, or the closed store's error.
func (s *Store) readDB() (*sql.DB, error) {
	if s.closed.Load() {
		return nil, s.closedError()
	}
	return s.rdb, nil
}

// closedError is the error of writes and queries after Shutdown.
func (s *Store) closedError() error {
	return fmt.Errorf("sqlitesink: %s: %w", s.path, stagetrace.ErrClosed)
}

// The time columns hold Unix nanoseconds as query.StoredUnixNano writes
// them: the zero time as query.ZeroTimeNS, and a time outside the range
// of int64 nanoseconds as the nearest bound, the span or event then
// marked with ClampedTimeAttr.

// ClampedTimeAttr is the attribute, true, that the store adds to a span or
// an event whose time (a span's start or end, or the time of one of its
// events) lay outside the range of Unix nanoseconds, 1677-09-21 to
// 2262-04-11, and was stored as the nearest end of that range. The JSON
// Lines sink keeps such times exactly.
const ClampedTimeAttr = "stagetrace.time_clamped"

// unixNano is query.StoredUnixNano, named for the runs filter.
func unixNano(t time.Time) int64 { return query.StoredUnixNano(t) }
