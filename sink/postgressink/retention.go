package postgressink

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Expire deletes the runs whose last span ended more than the TTL (see
// WithTTL) before now, in transactions of at most the retention chunk of
// runs each, and returns how many it deleted. A run is deleted whole: its
// spans, their values, its events and its rollup go in one transaction.
// Only one store at a time expires runs of a database (an advisory lock):
// while another does, Expire returns 0 at once. Without a TTL it does
// nothing.
func (s *Store) Expire(ctx context.Context) (int, error) {
	if s.readOnly {
		return 0, ErrReadOnly
	}
	if s.cfg.ttl <= 0 {
		return 0, nil
	}
	if err := s.begin(); err != nil {
		return 0, err
	}
	defer s.end()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgressink: expire: %w", err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, retentionLockKey).Scan(&locked); err != nil {
		return 0, fmt.Errorf("postgressink: expire: %w", err)
	}
	if !locked {
		return 0, nil
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, retentionLockKey)
	}()
	cutoff := s.cfg.now().Add(-s.cfg.ttl).UnixNano()
	total := 0
	for {
		var n int
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var err error
			n, err = expireChunk(ctx, tx, cutoff, s.cfg.chunk)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("postgressink: expire: %w", err)
		}
		total += n
		if n < s.cfg.chunk {
			return total, nil
		}
	}
}

// expireChunk deletes up to chunk expired runs. The rows of runs are
// locked first, so that a write folding into one of them waits, and then
// finds it gone and starts it again.
func expireChunk(ctx context.Context, tx pgx.Tx, cutoff int64, chunk int) (int, error) {
	rows, err := tx.Query(ctx, `SELECT run_id FROM runs WHERE last_end_ns < $1 ORDER BY run_id LIMIT $2 FOR UPDATE SKIP LOCKED`, cutoff, chunk)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	for _, stmt := range []string{
		`DELETE FROM span_values WHERE span_id IN (SELECT id FROM spans WHERE run_id = ANY($1))`,
		`DELETE FROM spans WHERE run_id = ANY($1)`,
		`DELETE FROM events WHERE run_id = ANY($1)`,
		`DELETE FROM run_stages WHERE run_id = ANY($1)`,
		`DELETE FROM runs WHERE run_id = ANY($1)`,
	} {
		if _, err := tx.Exec(ctx, stmt, ids); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
