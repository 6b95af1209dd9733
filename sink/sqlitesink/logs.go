package sqlitesink

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// --- Version 5: log events ----------------------------------------------
//
// Log events (stagetrace.LogEventName) come without their span, and carry
// a severity and a body that other events lack: they have a table of
// their own, indexed by run and by level, rather than rows in events.
// IF NOT EXISTS: a file whose version was set back by hand (as tests of
// older versions do) migrates again.

const schemaLogs = `
CREATE TABLE IF NOT EXISTS logs (
	id              INTEGER PRIMARY KEY,
	run_id          TEXT NOT NULL,    -- '' for a record kept under no run
	stage           TEXT NOT NULL,    -- '' when none
	trace_id        BLOB NOT NULL,    -- zeros outside any span
	span_id         BLOB NOT NULL,
	time_ns         INTEGER NOT NULL, -- Unix nanoseconds (unixNano)
	level           INTEGER NOT NULL, -- stagetrace.Level: 0 unspecified, 1 verbose ... 6 critical
	severity_number INTEGER NOT NULL, -- OpenTelemetry's, as given
	severity_text   TEXT NOT NULL,
	body            BLOB,             -- the body, lossless: a one-attribute blob (codec.go); NULL when empty
	body_text       TEXT NOT NULL,    -- the body as text (stagetrace.Value.String), for people reading the file
	attrs           BLOB,             -- every attribute, lossless
	digest          BLOB NOT NULL UNIQUE -- SHA-256 of every column above: a record delivered twice is stored once
);
CREATE INDEX IF NOT EXISTS logs_run ON logs (run_id, time_ns);
CREATE INDEX IF NOT EXISTS logs_level ON logs (level, time_ns);
`

func migrate5to6(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, schemaLogs)
	return err
}

// insertLogSQL skips a record stored before: log records have no id, so
// one is known by its digest, and a batch delivered twice (a retry, the
// delivery queue) is stored once, as spans are.
const insertLogSQL = `INSERT OR IGNORE INTO logs (run_id, stage, trace_id, span_id, time_ns, level, severity_number, severity_text, body, body_text, attrs, digest)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// bodyKey is the key of the one attribute a body blob holds.
const bodyKey = "body"

// writeLogs stores the log events of a batch, inside its transaction.
// Each is rolled up into its run, unless it has none.
func (w *batchWriter) writeLogs(ctx context.Context, logs []*stagetrace.TraceEvent) error {
	if len(logs) == 0 {
		return nil
	}
	stmt, err := w.tx.PrepareContext(ctx, insertLogSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, ev := range logs {
		var body []byte
		if ev.Body.Kind() != stagetrace.KindEmpty {
			body = w.blob(stagetrace.Attrs{{Key: bodyKey, Value: ev.Body}})
		}
		attrs := w.blob(markClamped(ev.Attrs, query.StoredTimeClamped(ev.Time)))
		ns := query.StoredUnixNano(ev.Time)
		res, err := stmt.ExecContext(ctx, ev.RunID, ev.Stage, ev.TraceID[:], ev.SpanID[:], ns,
			int64(ev.Severity.Level()), ev.Severity.Number, ev.Severity.Text, body, ev.Body.String(), attrs,
			logDigest(ev, ns, body, attrs))
		if err != nil {
			return fmt.Errorf("log event: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			continue // stored before
		}
		if ev.RunID != "" {
			w.rollups.addEvent(ev)
		}
	}
	return nil
}

// logDigest is the SHA-256 of everything stored of a log event, each
// part length-prefixed so that no two events share an input.
func logDigest(ev *stagetrace.TraceEvent, ns int64, body, attrs []byte) []byte {
	h := sha256.New()
	var n [8]byte
	part := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	part([]byte(ev.RunID))
	part([]byte(ev.Stage))
	part(ev.TraceID[:])
	part(ev.SpanID[:])
	binary.BigEndian.PutUint64(n[:], uint64(ns))
	part(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(ev.Severity.Number))
	part(n[:])
	part([]byte(ev.Severity.Text))
	part(body)
	part(attrs)
	return h.Sum(nil)
}

// splitLogs moves the log events out of orphans: they go to their own
// table.
func splitLogs(orphans []*stagetrace.TraceEvent) (others, logs []*stagetrace.TraceEvent) {
	for _, ev := range orphans {
		if ev.Name == stagetrace.LogEventName {
			logs = append(logs, ev)
		} else {
			others = append(others, ev)
		}
	}
	return others, logs
}

var _ query.LogReader = (*Store)(nil)

const logColumns = `run_id, stage, trace_id, span_id, time_ns, severity_number, severity_text, body, attrs`

// Logs returns the log events q selects, in order of time. The run and
// the severity range are selected by the store's indexes; the other
// filters are evaluated by query.MatchLog, the one definition of what a
// log filter means.
func (s *Store) Logs(ctx context.Context, q query.LogQuery) ([]stagetrace.TraceEvent, error) {
	if err := query.CheckLogFilters(q.Where); err != nil {
		return nil, err
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("sqlitesink: negative limit %d", q.Limit)
	}
	lo, hi, ok := query.LevelRange(q.Where)
	if !ok {
		return nil, nil
	}
	where, args := `WHERE level BETWEEN ? AND ?`, []any{int64(lo), int64(hi)}
	if q.Run != "" {
		where, args = where+` AND run_id = ?`, append(args, q.Run)
	}
	all, err := s.logs(ctx, where+` ORDER BY time_ns, id`, args...)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for i := range all {
		if query.MatchLog(q.Where, &all[i]) {
			out = append(out, all[i])
		}
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}

func (s *Store) logs(ctx context.Context, where string, args ...any) ([]stagetrace.TraceEvent, error) {
	db, err := s.readDB()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT `+logColumns+` FROM logs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	var out []stagetrace.TraceEvent
	for rows.Next() {
		ev := stagetrace.TraceEvent{Name: stagetrace.LogEventName}
		var trace, span, body, attrs []byte
		var ns int64
		if err := rows.Scan(&ev.RunID, &ev.Stage, &trace, &span, &ns, &ev.Severity.Number, &ev.Severity.Text, &body, &attrs); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlitesink: %w", err)
		}
		copy(ev.TraceID[:], trace)
		copy(ev.SpanID[:], span)
		ev.Time = query.StoredTime(ns)
		if ev.Attrs, err = decodeAttrs(attrs); err == nil && body != nil {
			var b stagetrace.Attrs
			if b, err = decodeAttrs(body); err == nil && len(b) == 1 {
				ev.Body = b[0].Value
			}
		}
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlitesink: log event at %v: %w", ev.Time, err)
		}
		out = append(out, ev)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	return out, nil
}

// runLogs returns the log events of a run, in order of time.
func (s *Store) runLogs(ctx context.Context, runID string) ([]stagetrace.TraceEvent, error) {
	return s.logs(ctx, `WHERE run_id = ? ORDER BY time_ns, id`, runID)
}

// expireUnplacedLogs deletes the log events kept under no run that
// happened before cutoff: no run's expiry takes them.
func (s *Store) expireUnplacedLogs(ctx context.Context, cutoff int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if s.closed.Load() {
		return s.closedError()
	}
	_, err := s.wdb.ExecContext(ctx, `DELETE FROM logs WHERE run_id = '' AND time_ns < ?`, cutoff)
	return err
}
