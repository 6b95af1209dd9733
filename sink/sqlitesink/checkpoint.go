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
	// walRestartFrames bounds the log. A checkpoint that runs while
	// batches keep coming copies the frames it found, but the log starts
	// over only once a checkpoint has copied every frame before the next
	// write, which under a steady stream never happens: the log grew to
	// gigabytes, and every read searched it. Past this many frames (64 MiB
	// of 4 KiB pages) the checkpointer takes the write lock, so that no
	// batch is appended while it copies, and the next write starts the log
	// over.
	walRestartFrames = 16384
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
	_, err := s.checkpointFrames(ctx)
	return err
}

// checkpointFrames checkpoints and returns the number of frames in the
// log.
func (s *Store) checkpointFrames(ctx context.Context) (int64, error) {
	var busy, frames, copied int64
	if err := s.cdb.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return 0, fmt.Errorf("sqlitesink: checkpoint: %w", err)
	}
	return frames, nil
}

// backgroundCheckpoint checkpoints without the write lock, and again with
// it when the log is past walRestartFrames (see there).
func (s *Store) backgroundCheckpoint(ctx context.Context) error {
	frames, err := s.checkpointFrames(ctx)
	if err != nil || frames < s.walLimit {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if s.closed.Load() {
		return nil
	}
	_, err = s.checkpointFrames(ctx)
	return err
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
		if err := s.backgroundCheckpoint(s.bgCtx); err != nil && s.bgCtx.Err() == nil {
			s.cfg.logger.Warn("stagetrace sqlite store: checkpoint failed", "path", s.path, "error", err)
		}
	}
}
