package sqlitesink

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"

	"github.com/stagetrace/stagetrace/query"
)

// --- Version 7: metric minutes ---------------------------------------------
//
// A metric range query over a day reads every point of the day: 625,000
// index entries for a million spans, which SQLite alone takes 150 ms to
// walk. metric_minutes holds, per metric name and minute, the
// query.Partial (count, min, max, exact sum) of the metric events of that
// minute, kept by every write and every expiry in the same transaction as
// the points. A query with no labels whose step is whole minutes reads the
// minutes its range covers whole from there, and the points of the minutes
// it cuts from the point indexes; query.Partial merges exactly, so the
// answer is the same bit for bit.
//
// Numeric findings, the other source of metric points, are not rolled up:
// their index is ordered by value, not time, so an expiry could not find
// what is left of a minute without reading every value of the finding.

const schemaV7 = `
CREATE TABLE metric_minutes (
	name      TEXT NOT NULL,    -- metric.name
	minute_ns INTEGER NOT NULL, -- Unix nanoseconds of the minute's start
	partial   BLOB NOT NULL,    -- query.Partial of the metric events of the minute (AppendBinary)
	PRIMARY KEY (name, minute_ns)
) WITHOUT ROWID;
`

// minuteNS is the width of the rows of metric_minutes.
const minuteNS = int64(60e9)

// firstMinute is the first minute whose start is an int64: points before
// it (the zero time, clamped times) are never rolled up.
const firstMinute = math.MinInt64 / minuteNS * minuteNS // division truncates: the minute after MinInt64

// minuteOf returns the start of the minute holding ns, and false when the
// point is before firstMinute.
func minuteOf(ns int64) (int64, bool) {
	if ns < firstMinute {
		return 0, false
	}
	m := ns / minuteNS * minuteNS
	if m > ns {
		m -= minuteNS
	}
	return m, true
}

// minuteEnd is the last nanosecond of the minute starting at m.
func minuteEnd(m int64) int64 {
	if m > math.MaxInt64-(minuteNS-1) {
		return math.MaxInt64
	}
	return m + minuteNS - 1
}

// minuteKey names a row of metric_minutes.
type minuteKey struct {
	name   string
	minute int64
}

// minutes accumulates the metric events of a batch per minute.
type minutes map[minuteKey]*query.Partial

func (m minutes) add(name string, ns int64, value float64) {
	minute, ok := minuteOf(ns)
	if !ok {
		return
	}
	k := minuteKey{name, minute}
	p := m[k]
	if p == nil {
		p = &query.Partial{}
		m[k] = p
	}
	p.Add(value)
}

func (m minutes) sortedKeys() []minuteKey {
	keys := make([]minuteKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b minuteKey) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.minute, b.minute))
	})
	return keys
}

// upsertMinuteSQL merges a batch's partial of a minute into its row.
const upsertMinuteSQL = `INSERT INTO metric_minutes (name, minute_ns, partial) VALUES (?, ?, ?)
ON CONFLICT (name, minute_ns) DO UPDATE SET partial = ` + mergePartialsFunc + `(partial, excluded.partial)`

// store merges the partials into metric_minutes; stmt is the prepared
// upsertMinuteSQL, or nil to prepare it here.
func (m minutes) store(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt) error {
	if len(m) == 0 {
		return nil
	}
	if stmt == nil {
		var err error
		if stmt, err = tx.PrepareContext(ctx, upsertMinuteSQL); err != nil {
			return err
		}
		defer stmt.Close()
	}
	var buf []byte
	for _, k := range m.sortedKeys() {
		var err error
		if buf, err = m[k].AppendBinary(buf[:0]); err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, k.name, k.minute, buf); err != nil {
			return err
		}
	}
	return nil
}

// minutePointsSQL reads the metric events of a name between two times,
// both included, packed: those in span rows, then those without their
// span.
const minutePointsSQL = `SELECT
	(SELECT ` + pointsFunc + `(time_ns, value) FROM metric_points WHERE name = ?1 AND time_ns >= ?2 AND time_ns <= ?3),
	(SELECT ` + pointsFunc + `(time_ns, metric_value) FROM events WHERE metric_name = ?1 AND time_ns >= ?2 AND time_ns <= ?3)`

// recomputeMinutes sets the rows of keys (whose minutes are all that is
// used) from the points stored now: an expiry deleted some, and a minimum
// or maximum cannot be taken back.
func recomputeMinutes(ctx context.Context, tx *sql.Tx, keys minutes) error {
	for _, k := range keys.sortedKeys() {
		var blobs [2][]byte
		if err := tx.QueryRowContext(ctx, minutePointsSQL, k.name, k.minute, minuteEnd(k.minute)).Scan(&blobs[0], &blobs[1]); err != nil {
			return err
		}
		var p query.Partial
		for _, b := range blobs {
			if err := unpackPoints(b, func(_ int64, v float64) error { p.Add(v); return nil }); err != nil {
				return err
			}
		}
		if p.Count == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM metric_minutes WHERE name = ? AND minute_ns = ?`, k.name, k.minute); err != nil {
				return err
			}
			continue
		}
		b, err := p.AppendBinary(nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO metric_minutes (name, minute_ns, partial) VALUES (?, ?, ?)`, k.name, k.minute, b); err != nil {
			return err
		}
	}
	return nil
}

// migrate6to7 creates metric_minutes and fills it from the stored metric
// events, one metric name at a time.
func migrate6to7(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, schemaV7); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT name FROM metric_points
UNION SELECT DISTINCT metric_name FROM events WHERE metric_name IS NOT NULL`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		names = append(names, name)
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	for _, name := range names {
		var blobs [2][]byte
		if err := tx.QueryRowContext(ctx, minutePointsSQL, name, int64(math.MinInt64), int64(math.MaxInt64)).Scan(&blobs[0], &blobs[1]); err != nil {
			return err
		}
		m := minutes{}
		for _, b := range blobs {
			if err := unpackPoints(b, func(ns int64, v float64) error { m.add(name, ns, v); return nil }); err != nil {
				return err
			}
		}
		if err := m.store(ctx, tx, nil); err != nil {
			return err
		}
	}
	return nil
}

// --- End of version 7 ----------------------------------------------------

// minuteSplit returns the minutes metric_minutes answers for the range
// [since, until) of a query stepping by step (0 for an instant query):
// [lo, hi), whole minutes inside the range, each inside one step. ok is
// false when none is.
func minuteSplit(since, until int64, step int64) (lo, hi int64, ok bool) {
	if step%minuteNS != 0 {
		return 0, 0, false
	}
	lo = max(since, firstMinute)
	if m, _ := minuteOf(lo); m < lo {
		if m > math.MaxInt64-minuteNS {
			return 0, 0, false
		}
		lo = m + minuteNS
	}
	hi, ok = minuteOf(until)
	return lo, hi, ok && lo < hi
}
