package postgressink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/retention"
	"github.com/stagetrace/stagetrace/query"
)

// ErrNotFound is returned by the queries for one thing (a run) when there
// is no such thing.
var ErrNotFound = query.ErrNotFound

var (
	_ stagetrace.Sink    = (*Store)(nil)
	_ stagetrace.Flusher = (*Store)(nil)
	_ query.Reader       = (*Store)(nil)
)

// IsURL reports whether s names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redacted returns the URL with its password, if any, replaced by "xxxxx",
// for messages and logs.
func Redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Store is a stagetrace.Sink writing to a PostgreSQL database, and the
// queries on it. It is safe for concurrent use, and any number of Stores,
// in any number of processes, may write one database at once. Create one
// with Open.
type Store struct {
	name     string // the redacted URL
	cfg      config
	readOnly bool
	pool     *pgxpool.Pool

	// attrIndex is the attribute keys the database indexed when last
	// read. The set only grows, so queries plan with it without reading
	// it again: one planned with fewer keys than the database has checks
	// those filters on the records, with the same answer.
	attrIndex atomic.Pointer[indexedSet]

	mu     sync.Mutex
	active int           // writes and queries in progress; guarded by mu
	closed bool          // guarded by mu
	idle   chan struct{} // closed when closed and active reaches 0

	closeOnce sync.Once
	closeErr  error
	bgCtx     context.Context // cancelled by Shutdown
	bgCancel  context.CancelFunc
	bg        sync.WaitGroup
}

// ErrReadOnly is returned by Write on a store opened with OpenReadOnly.
var ErrReadOnly = errors.New("postgressink: store is read-only")

// ErrNotStore is returned by OpenReadOnly for a database that holds no
// store (one that no stagetrace writer opened yet).
var ErrNotStore = errors.New("postgressink: no stagetrace store in the database")

// OpenReadOnly connects to the store in the database at rawURL for
// queries only: it never creates, migrates or changes anything. A database
// without a store is refused with ErrNotStore, one of another schema
// version with ErrSchemaTooNew or an error saying to migrate it.
func OpenReadOnly(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	s, err := connect(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	s.readOnly = true
	var version int
	err = s.pool.QueryRow(ctx, `SELECT version FROM `+schemaName+`.schema_version`).Scan(&version)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows) || errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		err = fmt.Errorf("%w %s", ErrNotStore, s.name)
	case err != nil:
		err = fmt.Errorf("postgressink: %s: %w", s.name, err)
	case version > SchemaVersion:
		err = fmt.Errorf("%w: %s has schema version %d, and this stagetrace reads up to version %d: upgrade stagetrace", ErrSchemaTooNew, s.name, version, SchemaVersion)
	case version < SchemaVersion:
		err = fmt.Errorf("postgressink: %s has schema version %d: open it for writing once (any stagetrace writer) to migrate it to version %d", s.name, version, SchemaVersion)
	}
	if err == nil {
		var set indexedSet
		if set, err = readIndexed(ctx, s.pool); err != nil {
			err = fmt.Errorf("postgressink: %s: %w", s.name, err)
		}
		s.learnIndexed(set)
	}
	if err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// Open connects to the database at rawURL (postgres://user:password@host/db,
// or any form pgx accepts), creating or migrating the store's tables
// under an advisory lock. A database written by a newer version of
// stagetrace is refused with ErrSchemaTooNew. With WithTTL, expired runs
// are deleted before Open returns, and then periodically.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	s, err := connect(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	set, err := migrate(ctx, s.pool, s.cfg.indexed)
	if err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("postgressink: %s: %w", s.name, err)
	}
	s.learnIndexed(set)
	if s.cfg.ttl > 0 {
		if _, err := s.Expire(ctx); err != nil {
			s.pool.Close()
			return nil, err
		}
		s.bg.Add(1)
		go s.retainLoop()
	}
	return s, nil
}

// connect makes the store's connection pool; connections are made when
// first used.
func connect(ctx context.Context, rawURL string, opts []Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx's message may quote the URL: give ours, redacted.
		return nil, fmt.Errorf("postgressink: bad URL %s", Redacted(rawURL))
	}
	pc.MaxConns = int32(cfg.maxConns)
	pc.ConnConfig.RuntimeParams["search_path"] = schemaName
	pc.ConnConfig.RuntimeParams["application_name"] = "stagetrace"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgressink: %s: %w", Redacted(rawURL), err)
	}
	s := &Store{name: Redacted(rawURL), cfg: cfg, pool: pool, idle: make(chan struct{})}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	return s, nil
}

// learnIndexed records set as the keys the database indexes, unless a
// larger set was read since.
func (s *Store) learnIndexed(set indexedSet) {
	for {
		old := s.attrIndex.Load()
		if old != nil && len(*old) >= len(set) {
			return
		}
		if s.attrIndex.CompareAndSwap(old, &set) {
			return
		}
	}
}

// indexed returns the attribute keys the database indexes, as last read.
func (s *Store) indexed() indexedSet {
	if p := s.attrIndex.Load(); p != nil {
		return *p
	}
	return nil
}

// begin registers a write or query, or returns the closed store's error.
func (s *Store) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("postgressink: %s: %w", s.name, stagetrace.ErrClosed)
	}
	s.active++
	return nil
}

func (s *Store) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.closed && s.active == 0 {
		close(s.idle)
	}
}

// ForceFlush returns at once: every Write has committed its batch on the
// server before it returns.
func (s *Store) ForceFlush(ctx context.Context) error { return ctx.Err() }

// Shutdown stops retention, waits for the writes and queries in progress
// and closes the connections. Later writes and queries fail with
// [stagetrace.ErrClosed]. If ctx is done first, Shutdown returns ctx's
// error and the connections are closed when those calls end. Calls after
// the first return the first call's result.
func (s *Store) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		if s.active == 0 {
			close(s.idle)
		}
		s.mu.Unlock()
		s.bgCancel()
		s.bg.Wait()
		// Idle is decided before the context is looked at, so that a
		// Shutdown with a done context and nothing pending returns nil.
		select {
		case <-s.idle:
			s.pool.Close()
			return
		default:
		}
		select {
		case <-s.idle:
			s.pool.Close()
		case <-ctx.Done():
			go func() {
				<-s.idle
				s.pool.Close()
			}()
			s.closeErr = fmt.Errorf("postgressink: shutdown: a write is still running: %w", ctx.Err())
		}
	})
	return s.closeErr
}

// Close is Shutdown without a deadline.
func (s *Store) Close() error { return s.Shutdown(context.Background()) }

// retainLoop expires runs every retention interval until Shutdown.
func (s *Store) retainLoop() {
	defer s.bg.Done()
	retention.Loop(s.bgCtx, s.cfg.interval, s.Expire, s.cfg.logger, "postgres", "db", s.name)
}
