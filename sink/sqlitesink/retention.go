package sqlitesink

import (
	"context"
	"fmt"
	"strings"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/retention"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// Expire deletes the runs whose last span ended more than the TTL (see
// WithTTL) before now, in transactions of at most the retention chunk of
// runs each, and returns how many it deleted. A run is deleted whole: its
// spans, their values, its events and its rollup go in one transaction.
// The store calls Expire when it opens and every retention interval; call
// it to expire at a moment of your choosing. Without a TTL it does
// nothing.
func (s *Store) Expire(ctx context.Context) (int, error) {
	if s.readOnly {
		return 0, ErrReadOnly
	}
	if s.cfg.ttl <= 0 {
		return 0, nil
	}
	cutoff := s.cfg.now().Add(-s.cfg.ttl).UnixNano()
	total := 0
	for {
		n, err := s.expireChunk(ctx, cutoff)
		total += n
		if err != nil {
			return total, fmt.Errorf("sqlitesink: expire: %w", err)
		}
		if n < s.cfg.chunk {
			if err := s.expireUnplacedLogs(ctx, cutoff); err != nil {
				return total, fmt.Errorf("sqlitesink: expire: %w", err)
			}
			return total, nil
		}
	}
}

func (s *Store) expireChunk(ctx context.Context, cutoff int64) (n int, err error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.unlock()
	if s.closed.Load() {
		return 0, s.closedError()
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	rows, err := tx.QueryContext(ctx, `SELECT run_id FROM runs WHERE last_end_ns < ? ORDER BY last_end_ns LIMIT ?`, cutoff, s.cfg.chunk)
	if err != nil {
		return 0, err
	}
	var ids []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	if err := closeRows(rows); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, tx.Rollback()
	}
	in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"

	// span_values and metric_points are keyed by value, not by span, so
	// each row is deleted by its full key, rebuilt from the span's
	// lossless columns.
	delValue, err := tx.PrepareContext(ctx, `DELETE FROM span_values WHERE source = ? AND key_id = (SELECT id FROM keys WHERE name = ?) AND type = ? AND val = ? AND span_id = ?`)
	if err != nil {
		return 0, err
	}
	defer delValue.Close()
	delPoint, err := tx.PrepareContext(ctx, `DELETE FROM metric_points WHERE name = ? AND time_ns = ? AND span_id = ? AND seq = ?`)
	if err != nil {
		return 0, err
	}
	defer delPoint.Close()
	rows, err = tx.QueryContext(ctx, `SELECT `+spanColumns+` FROM spans s WHERE s.run_id IN `+in, ids...)
	if err != nil {
		return 0, err
	}
	var spans []storedSpan
	touched := minutes{} // the metric minutes to compute again
	for rows.Next() {
		_, st, err := scanSpan(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		spans = append(spans, st)
	}
	if err := closeRows(rows); err != nil {
		return 0, err
	}
	// Only the attribute keys the file indexes have rows; the set is read
	// again inside this transaction, in case another writer grew it.
	if err := s.refreshIndexed(ctx, tx); err != nil {
		return 0, err
	}
	for _, st := range spans {
		for _, src := range []struct {
			source int64
			attrs  stagetrace.Attrs
		}{{sqlfields.SourceAttr, st.Attrs}, {sqlfields.SourceFinding, st.Findings}} {
			for _, kv := range src.attrs {
				if src.source == sqlfields.SourceAttr && !s.attrIndex[kv.Key] {
					continue
				}
				typ, val := indexValue(kv.Value)
				if _, err := delValue.ExecContext(ctx, src.source, kv.Key, typ, val, st.rowID); err != nil {
					return 0, err
				}
			}
		}
		events, err := st.decodeEvents()
		if err != nil {
			return 0, err
		}
		for seq := range events {
			if name, _, ok := query.MetricOf(&events[seq]); ok {
				ns := query.StoredUnixNano(events[seq].Time)
				touched.add(name, ns, 0)
				if _, err := delPoint.ExecContext(ctx, name, ns, st.rowID, int64(seq)); err != nil {
					return 0, err
				}
			}
		}
	}
	// The minutes of the metric events that came without their span.
	rows, err = tx.QueryContext(ctx, `SELECT metric_name, time_ns FROM events WHERE metric_name IS NOT NULL AND run_id IN `+in, ids...)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var name string
		var ns int64
		if err := rows.Scan(&name, &ns); err != nil {
			rows.Close()
			return 0, err
		}
		touched.add(name, ns, 0)
	}
	if err := closeRows(rows); err != nil {
		return 0, err
	}
	// The traces of these runs, to delete those left without spans.
	rows, err = tx.QueryContext(ctx, `SELECT DISTINCT tno FROM spans WHERE run_id IN `+in, ids...)
	if err != nil {
		return 0, err
	}
	var tnos []any
	for rows.Next() {
		var tno int64
		if err := rows.Scan(&tno); err != nil {
			rows.Close()
			return 0, err
		}
		tnos = append(tnos, tno)
	}
	if err := closeRows(rows); err != nil {
		return 0, err
	}
	for _, table := range []string{"spans", "events", "logs", "run_stages", "runs"} {
		// table is one of the constants above.
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE run_id IN `+in, ids...); err != nil {
			return 0, err
		}
	}
	if err := recomputeMinutes(ctx, tx, touched); err != nil {
		return 0, err
	}
	for len(tnos) > 0 {
		chunk := tnos[:min(len(tnos), 500)]
		tnos = tnos[len(chunk):]
		// A trace may hold spans of runs still kept.
		if _, err := tx.ExecContext(ctx, `DELETE FROM traces WHERE tno IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)
	AND NOT EXISTS (SELECT 1 FROM spans s WHERE s.tno = traces.tno)`, chunk...); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// retainLoop expires runs every retention interval until Shutdown.
func (s *Store) retainLoop() {
	defer s.bg.Done()
	retention.Loop(s.bgCtx, s.cfg.interval, s.Expire, s.cfg.logger, "sqlite", "path", s.path)
}
