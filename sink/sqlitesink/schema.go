package sqlitesink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// SchemaVersion is the schema version this package writes and reads. It
// is kept in the file's PRAGMA user_version.
const SchemaVersion = 7

// applicationID marks a SQLite file as a stagetrace store (PRAGMA
// application_id; "stgt" in ASCII), so that the store refuses to adopt an
// unrelated database.
const applicationID = 0x73746774

// migrations[i] takes a file from schema version i to i+1. A new file goes
// through all of them, so the path from every older version is the path
// every new file takes, and is exercised by every test.
var migrations = []func(ctx context.Context, tx *sql.Tx) error{
	migrate0to1,
	migrate1to2,
	migrate2to3,
	migrate3to4,
	migrate4to5,
	migrate5to6, // logs.go
	migrate6to7, // minutes.go
}

// schemaV1 is the first schema: spans with their events, their indexed
// values, metric points and resources.
const schemaV1 = `
CREATE TABLE resources (
	id    INTEGER PRIMARY KEY,
	hash  BLOB NOT NULL UNIQUE, -- SHA-256 of attrs: a resource is stored once
	attrs BLOB NOT NULL
);
CREATE TABLE keys (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE -- attribute key or finding name, dots and all
);
-- One row per trace. Trace ids are random: an index of them is written at
-- random places, one page per trace a batch holds; keeping it to one small
-- row per trace, rather than an entry per span, halves what a batch
-- writes. Spans refer to their trace by tno, given in order of arrival,
-- so their own index grows at its end.
CREATE TABLE traces (
	tno      INTEGER PRIMARY KEY,
	trace_id BLOB NOT NULL UNIQUE
);
CREATE TABLE spans (
	id             INTEGER PRIMARY KEY,
	tno            INTEGER NOT NULL,  -- traces.tno
	trace_id       BLOB NOT NULL,
	span_id        BLOB NOT NULL,
	parent_span_id BLOB NOT NULL,     -- empty for a root span (NULLs would not be unique)
	run_id         TEXT NOT NULL,
	stage          TEXT NOT NULL,     -- '' when none
	name           TEXT NOT NULL,
	start_ns       INTEGER NOT NULL,  -- Unix nanoseconds
	end_ns         INTEGER NOT NULL,
	status         INTEGER NOT NULL,  -- stagetrace.StatusCode
	status_message TEXT NOT NULL,
	kind           INTEGER NOT NULL,  -- stagetrace.SpanKind
	scope          TEXT NOT NULL,
	resource_id    INTEGER,           -- resources.id
	attrs          BLOB,              -- every attribute, lossless (codec.go)
	findings       BLOB,              -- every finding, lossless
	events         BLOB               -- the span's events (codec.go)
);
-- The id index: it finds a trace's spans and catches a span stored
-- twice. It holds the parent id too, so that the shape of a trace is read
-- from the index alone (SpanTree).
CREATE UNIQUE INDEX spans_trace ON spans (tno, span_id, parent_span_id);
CREATE INDEX spans_run_start ON spans (run_id, start_ns);
CREATE INDEX spans_start ON spans (start_ns);

-- The index of scalar attribute and finding values. val has no declared
-- type, so it keeps INTEGER, REAL and TEXT as given: numbers compare as
-- numbers. The key is a bound key_id, never a path into a document.
CREATE TABLE span_values (
	source  INTEGER NOT NULL, -- 0 attribute, 1 finding
	key_id  INTEGER NOT NULL, -- keys.id
	type    INTEGER NOT NULL, -- 0 other, 1 number, 2 string, 3 bool
	val     NOT NULL,
	span_id INTEGER NOT NULL, -- spans.id
	PRIMARY KEY (source, key_id, type, val, span_id)
) WITHOUT ROWID;

-- A span's events are kept in its row (spans.events), the way OTLP nests
-- them: storing one costs no index. This table holds only the events that
-- came without their span, and metric_points indexes metric events.
CREATE TABLE events (
	id           INTEGER PRIMARY KEY,
	run_id       TEXT NOT NULL,
	stage        TEXT NOT NULL,
	trace_id     BLOB NOT NULL,
	span_id      BLOB NOT NULL,
	name         TEXT NOT NULL,
	time_ns      INTEGER NOT NULL,
	attrs        BLOB,
	metric_name  TEXT, -- metric.name of a metric event, else NULL
	metric_value REAL  -- metric.value of a metric event
);
CREATE INDEX events_run ON events (run_id, time_ns);
CREATE INDEX events_metric ON events (metric_name, time_ns) WHERE metric_name IS NOT NULL;
CREATE TABLE metric_points (
	name    TEXT NOT NULL,    -- metric.name
	time_ns INTEGER NOT NULL, -- the event's time
	span_id INTEGER NOT NULL, -- spans.id of the span holding the event
	seq     INTEGER NOT NULL, -- the event's place in spans.events
	value   REAL NOT NULL,    -- metric.value
	PRIMARY KEY (name, time_ns, span_id, seq)
) WITHOUT ROWID;
`

// schemaV2 adds per-run rollups, kept up to date by every write.
const schemaV2 = `
CREATE TABLE runs (
	run_id         TEXT PRIMARY KEY,
	first_start_ns INTEGER NOT NULL,
	last_end_ns    INTEGER NOT NULL,
	stages         INTEGER NOT NULL, -- distinct non-empty stages
	spans          INTEGER NOT NULL,
	errors         INTEGER NOT NULL, -- spans with status error
	input_tokens   INTEGER NOT NULL, -- sum of input_tokens findings
	output_tokens  INTEGER NOT NULL, -- sum of output_tokens findings
	cost           REAL              -- sum of cost findings; NULL when none (dropped in version 3)
) WITHOUT ROWID;
CREATE INDEX runs_last_end ON runs (last_end_ns);
CREATE INDEX runs_first_start ON runs (first_start_ns);
CREATE TABLE run_stages (
	run_id TEXT NOT NULL,
	stage  TEXT NOT NULL,
	PRIMARY KEY (run_id, stage)
) WITHOUT ROWID;
`

func migrate0to1(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, schemaV1)
	return err
}

// schemaV3 keeps the rollup of package usage: every kind of token, and
// the cost exactly, in integer billionths, with its currency.
const schemaV3 = `
ALTER TABLE runs ADD COLUMN cache_read_tokens     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cache_creation_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN reasoning_tokens      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_tokens          INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cost_nanos            INTEGER NOT NULL DEFAULT 0;  -- usage.Totals.CostNanos
ALTER TABLE runs ADD COLUMN cost_currency         TEXT    NOT NULL DEFAULT ''; -- usage.Totals.Currency
ALTER TABLE runs ADD COLUMN cost_spans            INTEGER NOT NULL DEFAULT 0;  -- spans whose cost is added
ALTER TABLE runs ADD COLUMN cost_errors           INTEGER NOT NULL DEFAULT 0;  -- spans whose cost is unknown
ALTER TABLE runs ADD COLUMN cost_unknown          INTEGER NOT NULL DEFAULT 0;  -- 1: costs in different currencies
ALTER TABLE runs DROP COLUMN cost;
`

// migrate1to2 creates the rollup tables, which migrate2to3 fills.
func migrate1to2(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, schemaV2)
	return err
}

// migrate2to3 adds the columns of the usage rollup and computes every
// run's rollup again from its stored spans and events, with the code
// writes use: the token counts of version 2 counted bad values (negative,
// fractional) that package usage leaves out.
func migrate2to3(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, schemaV3+`DELETE FROM runs; DELETE FROM run_stages;`); err != nil {
		return err
	}
	acc := newRollups()
	rows, err := tx.QueryContext(ctx, `SELECT `+spanColumns+` FROM spans s`)
	if err != nil {
		return err
	}
	for rows.Next() {
		_, st, err := scanSpan(rows)
		if err != nil {
			rows.Close()
			return err
		}
		acc.addSpan(&st.StageSpan)
		events, err := st.decodeEvents()
		if err != nil {
			rows.Close()
			return err
		}
		for i := range events {
			acc.addEvent(&events[i])
		}
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT run_id, time_ns FROM events`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var ev stagetrace.TraceEvent
		var ns int64
		if err := rows.Scan(&ev.RunID, &ns); err != nil {
			rows.Close()
			return err
		}
		ev.Time = query.StoredTime(ns)
		acc.addEvent(&ev)
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	return acc.store(ctx, tx, nil, nil)
}

// --- Version 4: the zero time ------------------------------------------
//
// Up to version 3 the time columns stored the zero time as 0, so that a
// time at Unix 0 read back as the zero time. Version 4 stores the zero time
// as query.ZeroTimeNS (see unixNano); migrate3to4 rewrites the zeros of version
// 3, which meant the zero time, in the columns and in the events of spans.

// timeColumnsV3 are the time columns of version 3, as table.column.
var timeColumnsV3 = []struct{ table, column string }{
	{"spans", "start_ns"}, {"spans", "end_ns"},
	{"events", "time_ns"}, {"metric_points", "time_ns"},
	{"runs", "first_start_ns"}, {"runs", "last_end_ns"},
}

func migrate3to4(ctx context.Context, tx *sql.Tx) error {
	for _, c := range timeColumnsV3 {
		q := fmt.Sprintf(`UPDATE %s SET %s = ? WHERE %s = 0`, c.table, c.column, c.column)
		if _, err := tx.ExecContext(ctx, q, int64(query.ZeroTimeNS)); err != nil {
			return fmt.Errorf("%s.%s: %w", c.table, c.column, err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, events FROM spans WHERE events IS NOT NULL`)
	if err != nil {
		return err
	}
	type rewrite struct {
		id     int64
		events []byte
	}
	var rewrites []rewrite
	for rows.Next() {
		var id int64
		var blob []byte
		if err := rows.Scan(&id, &blob); err != nil {
			rows.Close()
			return err
		}
		events, err := decodeEvents(blob, &stagetrace.StageSpan{})
		if err != nil {
			rows.Close()
			return fmt.Errorf("span row %d: %w", id, err)
		}
		changed := false
		ptrs := make([]*stagetrace.TraceEvent, len(events))
		for i := range events {
			if events[i].Time.Equal(time.Unix(0, 0)) {
				events[i].Time, changed = time.Time{}, true
			}
			ptrs[i] = &events[i]
		}
		if changed {
			rewrites = append(rewrites, rewrite{id, appendEvents(nil, ptrs)})
		}
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	for _, r := range rewrites {
		if _, err := tx.ExecContext(ctx, `UPDATE spans SET events = ? WHERE id = ?`, r.events, r.id); err != nil {
			return err
		}
	}
	return nil
}

// --- End of version 4 ----------------------------------------------------

// --- Version 5: attributes indexed by choice -----------------------------
//
// Up to version 4 every scalar attribute of every span had a row in
// span_values, most of them at random places in the index, which set the
// pace of writes. From version 5 findings are indexed as before, but an
// attribute only when its key is in attr_index; a filter on any other key
// reads the span's attrs column (stagetrace_match). The set only grows
// (see ensureIndexed), so that a query planned with an index finds every
// span under it.

const schemaV5 = `
CREATE TABLE attr_index (
	name TEXT PRIMARY KEY -- an attribute key whose values span_values holds for every span
) WITHOUT ROWID;
`

// migrate4to5 keeps indexing every attribute key the file indexed: its
// rows are all there, and dropping them would rewrite the index.
func migrate4to5(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, schemaV5+`
INSERT INTO attr_index (name)
	SELECT k.name FROM keys k
	WHERE EXISTS (SELECT 1 FROM span_values v WHERE v.source = ? AND v.key_id = k.id)`, sqlfields.SourceAttr)
	return err
}

// --- End of version 5 ----------------------------------------------------

// rollback rolls tx back. A transaction that its context's end already
// rolled back is no error of its own: the error that ended it is reported.
func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

func closeRows(rows *sql.Rows) error {
	return errors.Join(rows.Err(), rows.Close())
}

// ErrSchemaTooNew is returned when a file was written by a newer version of
// stagetrace than this one.
var ErrSchemaTooNew = errors.New("sqlitesink: schema too new")

// ErrNotStore is returned when a file is a SQLite database that is not a
// stagetrace store.
var ErrNotStore = errors.New("sqlitesink: not a stagetrace store")

// ErrSchemaTooOld is returned by OpenReadOnly for a file whose schema must
// be migrated first, which only Open (read-write) does.
var ErrSchemaTooOld = errors.New("sqlitesink: schema too old to read without migrating")

// readVersion returns the file's schema version, checking that the file
// is a stagetrace store: a new, empty file is version 0.
func readVersion(ctx context.Context, q querier, path string) (int, error) {
	var version, appID, tables int
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return 0, err
	}
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return 0, err
	}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&tables); err != nil {
		return 0, err
	}
	switch {
	case appID == applicationID:
	case appID == 0 && version == 0 && tables == 0:
		// A new file.
	default:
		return 0, fmt.Errorf("%w: %s (application id %#x, schema version %d)", ErrNotStore, path, appID, version)
	}
	if version > SchemaVersion {
		return version, fmt.Errorf("%w: %s has schema version %d, and this stagetrace reads up to version %d: upgrade stagetrace", ErrSchemaTooNew, path, version, SchemaVersion)
	}
	return version, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrate brings the file to SchemaVersion, one transaction per step, so
// that a failed step leaves the file at the version before it.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	return migrateTo(ctx, db, path, SchemaVersion)
}

func migrateTo(ctx context.Context, db *sql.DB, path string, target int) error {
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Read the version inside the write transaction: another process
		// may have migrated the file meanwhile.
		version, err := readVersion(ctx, tx, path)
		if err != nil || version >= target {
			return errors.Join(err, rollback(tx))
		}
		if err := migrations[version](ctx, tx); err != nil {
			return errors.Join(fmt.Errorf("sqlitesink: migrating %s from schema version %d to %d: %w", path, version, version+1, err), rollback(tx))
		}
		// PRAGMA takes no bound parameters; both numbers are ours.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d; PRAGMA application_id = %d`, version+1, applicationID)); err != nil {
			return errors.Join(err, rollback(tx))
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}
