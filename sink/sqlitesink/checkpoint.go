package sqlitesink

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Writes append to SQLite's write-ahead log; a checkpoint copies the log
// into the database file and syncs both, which is where a write would
// wait for the disk. The store turns SQLite's automatic checkpoints off
// and runs them on a connection of its own, in the background, after every
// checkpointRecords records written and at least every checkpointEvery.

const (
	checkpointRecords = 2000
	checkpointEvery   = time.Second
)

func (s *Store) openCheckpointer() error {
	dsn, err := s.dsn(false)
	if err != nil {
		return err
	}
	s.cdb, err = sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlitesink: open %s: %w", s.path, err)
	}
	s.cdb.SetMaxOpenConns(1)
	s.cdb.SetMaxIdleConns(1)
	s.cdb.SetConnMaxLifetime(0)
	s.cdb.SetConnMaxIdleTime(0)
	if err := s.cdb.PingContext(context.Background()); err != nil {
		return fmt.Errorf("sqlitesink: open %s: %w", s.path, err)
	}
	return nil
}

// written records that a write committed n records, waking the
// checkpointer when enough have piled up. The caller holds the write lock.
func (s *Store) written(n int) {
	s.pending += n
	if s.pending < checkpointRecords {
		return
	}
	s.pending = 0
	select {
	case s.kick <- struct{}{}:
	default: // already awake
	}
}

// checkpoint copies what it can of the log into the file. PASSIVE does
// not wait for readers or writers: frames a reader still needs are copied
// next time.
func (s *Store) checkpoint(ctx context.Context) error {
	if _, err := s.cdb.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		return fmt.Errorf("sqlitesink: checkpoint: %w", err)
	}
	return nil
}

func (s *Store) checkpointLoop() {
	defer s.bg.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.bgCtx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
		if err := s.checkpoint(s.bgCtx); err != nil && s.bgCtx.Err() == nil {
			s.cfg.logger.Warn("stagetrace sqlite store: checkpoint failed", "path", s.path, "error", err)
		}
	}
}
