package sqlitesink_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/usage"
)

// schemaV1 is a frozen copy of the first schema, as files written by the
// first release hold it. It must never change: it is what migrations start
// from.
const schemaV1 = `
CREATE TABLE resources (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, attrs BLOB NOT NULL);
CREATE TABLE keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE traces (tno INTEGER PRIMARY KEY, trace_id BLOB NOT NULL UNIQUE);
CREATE TABLE spans (
	id INTEGER PRIMARY KEY, tno INTEGER NOT NULL, trace_id BLOB NOT NULL, span_id BLOB NOT NULL, parent_span_id BLOB NOT NULL,
	run_id TEXT NOT NULL, stage TEXT NOT NULL, name TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
	status INTEGER NOT NULL, status_message TEXT NOT NULL, kind INTEGER NOT NULL, scope TEXT NOT NULL,
	resource_id INTEGER, attrs BLOB, findings BLOB, events BLOB);
CREATE UNIQUE INDEX spans_trace ON spans (tno, span_id, parent_span_id);
CREATE INDEX spans_run_start ON spans (run_id, start_ns);
CREATE INDEX spans_start ON spans (start_ns);
CREATE TABLE span_values (
	source INTEGER NOT NULL, key_id INTEGER NOT NULL, type INTEGER NOT NULL, val NOT NULL, span_id INTEGER NOT NULL,
	PRIMARY KEY (source, key_id, type, val, span_id)) WITHOUT ROWID;
CREATE TABLE events (
	id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, stage TEXT NOT NULL, trace_id BLOB NOT NULL, span_id BLOB NOT NULL,
	name TEXT NOT NULL, time_ns INTEGER NOT NULL, attrs BLOB, metric_name TEXT, metric_value REAL);
CREATE INDEX events_run ON events (run_id, time_ns);
CREATE INDEX events_metric ON events (metric_name, time_ns) WHERE metric_name IS NOT NULL;
CREATE TABLE metric_points (
	name TEXT NOT NULL, time_ns INTEGER NOT NULL, span_id INTEGER NOT NULL, seq INTEGER NOT NULL, value REAL NOT NULL,
	PRIMARY KEY (name, time_ns, span_id, seq)) WITHOUT ROWID;
`

// schemaV2 is a frozen copy of what version 2 added: the rollups with
// their cost as a REAL sum of the cost findings.
const schemaV2 = `
CREATE TABLE runs (
	run_id TEXT PRIMARY KEY, first_start_ns INTEGER NOT NULL, last_end_ns INTEGER NOT NULL, stages INTEGER NOT NULL,
	spans INTEGER NOT NULL, errors INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
	cost REAL) WITHOUT ROWID;
CREATE INDEX runs_last_end ON runs (last_end_ns);
CREATE INDEX runs_first_start ON runs (first_start_ns);
CREATE TABLE run_stages (run_id TEXT NOT NULL, stage TEXT NOT NULL, PRIMARY KEY (run_id, stage)) WITHOUT ROWID;
`

var v1Tables = []string{"resources", "keys", "traces", "spans", "span_values", "events", "metric_points"}

const applicationID = 0x73746774

// buildV1 writes a version 1 store at dst holding the records of the
// store at src: the v1 schema from the frozen copy, rows copied over.
func buildV1(t *testing.T, src, dst string) {
	t.Helper()
	db, err := sql.Open("sqlite", dst)
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec(schemaV1)
	require.NoError(t, err)
	_, err = db.Exec(`ATTACH DATABASE ? AS src`, src)
	require.NoError(t, err)
	for _, table := range v1Tables {
		_, err = db.Exec(`INSERT INTO main.` + table + ` SELECT * FROM src.` + table)
		require.NoError(t, err, table)
	}
	_, err = db.Exec(`DETACH DATABASE src`)
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf(`PRAGMA user_version = 1; PRAGMA application_id = %d`, applicationID))
	require.NoError(t, err)
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var v int
	require.NoError(t, db.QueryRow(`PRAGMA user_version`).Scan(&v))
	return v
}

func TestMigrateV1(t *testing.T) {
	s, src := openStore(t)
	fill(t, s)
	ctx := context.Background()
	want, err := s.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	v1 := filepath.Join(t.TempDir(), "v1.db")
	buildV1(t, src, v1)
	require.Equal(t, 1, userVersion(t, v1))

	// A reader cannot migrate, and does not touch the file.
	_, err = sqlitesink.OpenReadOnly(v1)
	require.ErrorIs(t, err, sqlitesink.ErrSchemaTooOld)
	assert.ErrorContains(t, err, "schema version 1")
	assert.Equal(t, 1, userVersion(t, v1))

	m, err := sqlitesink.Open(v1)
	require.NoError(t, err)
	got, err := m.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	assert.Equal(t, want, got, "the rollups are rebuilt from the v1 records")
	spans, err := m.Spans(ctx, sqlitesink.SpanQuery{})
	require.NoError(t, err)
	assert.Len(t, spans, 2*spansPerTurn)
	// Writes after the migration keep the rollups up to date.
	rec := newRecorder(t, m)
	rec.turn("r1", base, 100, 1)
	r1, err := m.Run(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, 2*spansPerTurn, r1.Spans)
	assert.Equal(t, int64(912), r1.InputTokens)
	require.NoError(t, m.Close())
	assert.Equal(t, sqlitesink.SchemaVersion, userVersion(t, v1))
}

func TestNewerSchemaIsRefused(t *testing.T) {
	s, path := openStore(t)
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`PRAGMA user_version = 9`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	for _, open := range []func(string, ...sqlitesink.Option) (*sqlitesink.Store, error){sqlitesink.Open, sqlitesink.OpenReadOnly} {
		_, err = open(path)
		require.ErrorIs(t, err, sqlitesink.ErrSchemaTooNew)
		assert.ErrorContains(t, err, fmt.Sprintf("has schema version 9, and this stagetrace reads up to version %d", sqlitesink.SchemaVersion))
	}
	assert.Equal(t, 9, userVersion(t, path), "a refused file is left as it was")
}

// TestMigrateV2 migrates a version 2 file whose rollups were counted the
// old way (a float count rounded, a negative one added, costs in two
// currencies summed): version 3 computes them again from the spans, with
// the cost in exact billionths.
func TestMigrateV2(t *testing.T) {
	s, src := openStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	finding := func(k string, v stagetrace.Value) stagetrace.Attr { return stagetrace.Attr{Key: k, Value: v} }
	spans := []stagetrace.StageSpan{
		{RunID: "r", Stage: "inference", Name: "a", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1},
			StartTime: t0, EndTime: t0.Add(time.Second), Findings: stagetrace.Attrs{
				finding(attributes.FindingInputTokens, stagetrace.Float64Value(10.6)),
				finding(attributes.FindingOutputTokens, stagetrace.Int64Value(7)),
				finding(attributes.FindingCost, stagetrace.Float64Value(2)),
				finding(attributes.FindingCostCurrency, stagetrace.StringValue("USD")),
			}},
		{RunID: "r", Stage: "inference", Name: "b", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{2},
			StartTime: t0.Add(time.Second), EndTime: t0.Add(2 * time.Second), Findings: stagetrace.Attrs{
				finding(attributes.FindingInputTokens, stagetrace.Int64Value(100)),
				finding(attributes.FindingOutputTokens, stagetrace.Int64Value(-5)),
				finding(attributes.FindingCost, stagetrace.Float64Value(1.5)),
				finding(attributes.FindingCostCurrency, stagetrace.StringValue("EUR")),
			}},
		{RunID: "q", Name: "c", TraceID: stagetrace.TraceID{2}, SpanID: stagetrace.SpanID{3},
			StartTime: t0, EndTime: t0.Add(time.Second), Findings: stagetrace.Attrs{
				finding(attributes.FindingCost, stagetrace.Float64Value(0.1)),
				finding(attributes.FindingCostCurrency, stagetrace.StringValue("USD")),
			}},
	}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: spans}))
	require.NoError(t, s.Close())

	v2 := filepath.Join(t.TempDir(), "v2.db")
	buildV1(t, src, v2)
	db, err := sql.Open("sqlite", v2)
	require.NoError(t, err)
	_, err = db.Exec(schemaV2)
	require.NoError(t, err)
	// The rollups as version 2 counted them.
	_, err = db.Exec(`INSERT INTO runs VALUES ('r', ?, ?, 1, 2, 0, 111, 2, 3.5), ('q', ?, ?, 0, 1, 0, 0, 0, 0.1)`,
		t0.UnixNano(), t0.Add(2*time.Second).UnixNano(), t0.UnixNano(), t0.Add(time.Second).UnixNano())
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO run_stages VALUES ('r', 'inference'); PRAGMA user_version = 2`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.Equal(t, 2, userVersion(t, v2))

	m, err := sqlitesink.Open(v2)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, sqlitesink.SchemaVersion, userVersion(t, v2))
	got, err := m.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	assert.Equal(t, usage.Runs(spans, nil), got, "the rollups are computed again from the spans")
	r, err := m.Run(ctx, "r")
	require.NoError(t, err)
	assert.Equal(t, int64(100), r.InputTokens, "10.6 is no count")
	assert.Equal(t, int64(7), r.OutputTokens, "-5 is no count")
	assert.True(t, r.CostUnknown, "USD and EUR are not summed")
	assert.Equal(t, 1, r.Stages)
	q, err := m.Run(ctx, "q")
	require.NoError(t, err)
	assert.Equal(t, int64(100_000_000), q.CostNanos)
	assert.Equal(t, "USD", q.Currency)

	// Writes after the migration add to the backfilled rollups.
	more := stagetrace.StageSpan{RunID: "q", Name: "d", TraceID: stagetrace.TraceID{2}, SpanID: stagetrace.SpanID{4},
		StartTime: t0, EndTime: t0.Add(time.Second), Findings: stagetrace.Attrs{
			finding(attributes.FindingCost, stagetrace.Float64Value(0.2)),
			finding(attributes.FindingCostCurrency, stagetrace.StringValue("USD")),
		}}
	require.NoError(t, m.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{more}}))
	q, err = m.Run(ctx, "q")
	require.NoError(t, err)
	assert.Equal(t, int64(300_000_000), q.CostNanos, "0.1 + 0.2 exactly")
	assert.Equal(t, 0.3, q.Cost)
}
