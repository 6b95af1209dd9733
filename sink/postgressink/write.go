package postgressink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/usage"
)

// How a batch reaches the server (see BENCHMARKS.md): spans in one INSERT
// of unnest()ed arrays, since a span stored before must be skipped (ON
// CONFLICT DO NOTHING) and the ids of those inserted read back
// (RETURNING), which COPY cannot do; their values and events, which are
// only ever appended, with COPY, the cheapest way into a table.
const insertSpansSQL = `INSERT INTO spans (trace_id, span_id, parent_span_id, run_id, stage, name, scope,
	start_ns, end_ns, elapsed_ms, status, kind, record)
SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::text[],
	$8::bigint[], $9::bigint[], $10::float8[], $11::smallint[], $12::smallint[], $13::bytea[])
ON CONFLICT (trace_id, span_id, parent_span_id) DO NOTHING
RETURNING id, trace_id, span_id, parent_span_id`

// maxAttempts bounds how often a write is tried again when the server
// aborts it to break a deadlock with another writer (two collectors
// storing the same spans in different orders).
const maxAttempts = 4

// errRunGone is why a write is tried again: retention deleted a run the
// write was folding into, between its insert and its update.
var errRunGone = errors.New("a run was deleted while being updated")

// Write stores the spans and events of b in one transaction: all of them
// or, on error, none. A span already stored (same trace, span and parent
// ids), by this store or any other writer, is skipped with its events, so
// a batch delivered twice, or through two collectors, is stored once. The
// runs of the batch have their rollups updated in the same transaction.
func (s *Store) Write(ctx context.Context, b stagetrace.Batch) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	if b.Len() == 0 {
		return nil
	}
	rows := encodeBatch(&b)
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.writeTx(ctx, tx, &b, rows) })
		var pgErr *pgconn.PgError
		if !errors.Is(err, errRunGone) && (!errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001")) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("postgressink: write: %w", err)
	}
	return nil
}

// spanRows are the columns of a batch's spans, as insertSpansSQL takes them.
type spanRows struct {
	trace, span, parent, record [][]byte
	run, stage, name, scope     []string
	start, end                  []int64
	elapsed                     []float64
	status, kind                []int16
}

func encodeBatch(b *stagetrace.Batch) *spanRows {
	n := len(b.Spans)
	r := &spanRows{
		trace: make([][]byte, n), span: make([][]byte, n), parent: make([][]byte, n), record: make([][]byte, n),
		run: make([]string, n), stage: make([]string, n), name: make([]string, n), scope: make([]string, n),
		start: make([]int64, n), end: make([]int64, n), elapsed: make([]float64, n),
		status: make([]int16, n), kind: make([]int16, n),
	}
	var enc stagetrace.Encoder
	var buf []byte
	for i := range b.Spans {
		sp := &b.Spans[i]
		r.trace[i], r.span[i] = sp.TraceID[:], sp.SpanID[:]
		r.parent[i] = []byte{}
		if sp.ParentSpanID.IsValid() {
			r.parent[i] = sp.ParentSpanID[:]
		}
		r.run[i], r.stage[i], r.name[i], r.scope[i] = text(sp.RunID), text(sp.Stage), text(sp.Name), text(sp.Scope)
		r.start[i], r.end[i], r.elapsed[i] = query.UnixNano(sp.StartTime), query.UnixNano(sp.EndTime), sp.ElapsedMS()
		r.status[i], r.kind[i] = int16(sp.Status), int16(sp.Kind)
		start := len(buf)
		buf = bytes.TrimSuffix(enc.AppendSpan(buf, sp), []byte("\n"))
		r.record[i] = buf[start:len(buf):len(buf)]
	}
	return r
}

type idKey struct {
	trace  stagetrace.TraceID
	span   stagetrace.SpanID
	parent stagetrace.SpanID
}

type spanKey struct {
	trace stagetrace.TraceID
	span  stagetrace.SpanID
}

// writeTx stores a batch in tx. It first holds indexLockKey shared and
// reads the attribute keys the database indexes, so that keys added by
// another instance meanwhile (ensureIndexed, which holds it exclusively)
// are indexed for these spans too; the lock, the read and the insert of
// the spans go to the server in one round trip.
func (s *Store) writeTx(ctx context.Context, tx pgx.Tx, b *stagetrace.Batch, r *spanRows) error {
	pipe := &pgx.Batch{}
	pipe.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, indexLockKey)
	pipe.Queue(`SELECT name FROM attr_index`)
	if len(b.Spans) > 0 {
		pipe.Queue(insertSpansSQL, r.trace, r.span, r.parent, r.run, r.stage, r.name, r.scope,
			r.start, r.end, r.elapsed, r.status, r.kind, r.record)
	}
	br := tx.SendBatch(ctx, pipe)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return err
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	indexed, err := collectIndexed(rows)
	if err != nil {
		return err
	}
	s.learnIndexed(indexed)
	// The spans inserted: the others were stored before.
	inserted := make(map[idKey]int64, len(b.Spans))
	if len(b.Spans) > 0 {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var trace, span, parent []byte
			if err := rows.Scan(&id, &trace, &span, &parent); err != nil {
				rows.Close()
				return err
			}
			var k idKey
			copy(k.trace[:], trace)
			copy(k.span[:], span)
			copy(k.parent[:], parent)
			inserted[k] = id
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if err := br.Close(); err != nil {
		return err
	}
	acc := usage.Rollups{}
	var values []valueRow
	skipped := map[spanKey]bool{}
	for i := range b.Spans {
		sp := &b.Spans[i]
		k := idKey{sp.TraceID, sp.SpanID, sp.ParentSpanID}
		id, ok := inserted[k]
		if !ok {
			skipped[spanKey{sp.TraceID, sp.SpanID}] = true
			continue
		}
		delete(inserted, k) // a copy later in the batch is skipped
		// The rollup is keyed as the text columns hold run and stage.
		cp := *sp
		cp.RunID, cp.Stage = text(sp.RunID), text(sp.Stage)
		acc.Get(cp.RunID).AddSpan(&cp, nil)
		values = appendValues(values, id, sqlfields.SourceAttr, sp.Attrs, indexed.has)
		values = appendValues(values, id, sqlfields.SourceFinding, sp.Findings, nil)
	}
	if err := copyValues(ctx, tx, values); err != nil {
		return err
	}
	var events [][]any
	var enc stagetrace.Encoder
	var buf []byte // the records, one after another, as encodeBatch keeps the spans'
	for i := range b.Events {
		ev := &b.Events[i]
		if skipped[spanKey{ev.TraceID, ev.SpanID}] {
			continue // with its span, stored before
		}
		acc.Get(text(ev.RunID)).AddEvent(ev)
		var metricName, metricValue any
		if name, value, ok := query.MetricOf(ev); ok {
			metricName, metricValue = text(name), value
		}
		start := len(buf)
		buf = bytes.TrimSuffix(enc.AppendEvent(buf, ev), []byte("\n"))
		record := buf[start:len(buf):len(buf)]
		events = append(events, []any{text(ev.RunID), text(ev.Stage), ev.TraceID[:], ev.SpanID[:], query.UnixNano(ev.Time), metricName, metricValue, record})
	}
	if len(events) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"run_id", "stage", "trace_id", "span_id", "time_ns", "metric_name", "metric_value", "record"},
			pgx.CopyFromRows(events)); err != nil {
			return err
		}
	}
	return storeRollups(ctx, tx, acc)
}

// valueRow is one row of span_values.
type valueRow struct {
	span        int64
	source, typ int16
	key         string
	num, i, str any
}

// appendValues appends the span_values rows of attrs: of those whose key
// is indexed, or of all when indexed is nil.
func appendValues(rows []valueRow, spanID int64, source int16, attrs stagetrace.Attrs, indexed func(key string) bool) []valueRow {
	for j, kv := range attrs {
		if indexed != nil && !indexed(kv.Key) {
			continue
		}
		if slices.ContainsFunc(attrs[:j], func(a stagetrace.Attr) bool { return a.Key == kv.Key }) {
			continue // Attrs.Get finds the first
		}
		typ, num, i, str := indexValue(kv.Value)
		rows = append(rows, valueRow{span: spanID, source: source, typ: typ, key: text(kv.Key), num: num, i: i, str: str})
	}
	return rows
}

// copyValues appends rows to span_values. CopyFrom encodes each row before
// it asks for the next, so one []any serves them all.
func copyValues(ctx context.Context, tx pgx.Tx, rows []valueRow) error {
	if len(rows) == 0 {
		return nil
	}
	vals := make([]any, 7)
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"span_values"}, []string{"span_id", "source", "key", "type", "num", "i", "str"},
		pgx.CopyFromSlice(len(rows), func(n int) ([]any, error) {
			r := &rows[n]
			vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6] = r.span, r.source, r.key, r.typ, r.num, r.i, r.str
			return vals, nil
		}))
	return err
}

// indexValue returns the type and the num, i and str columns of v in
// span_values.
func indexValue(v stagetrace.Value) (typ int16, num, i, str any) {
	switch v.Kind() {
	case stagetrace.KindInt64:
		return sqlfields.TypeNumber, float64(v.AsInt64()), v.AsInt64(), nil
	case stagetrace.KindFloat64:
		f := v.AsFloat64()
		if math.IsNaN(f) {
			return sqlfields.TypeOther, nil, nil, nil // NaN compares with nothing
		}
		return sqlfields.TypeNumber, f, nil, nil
	case stagetrace.KindString:
		return sqlfields.TypeString, nil, nil, text(v.AsString())
	case stagetrace.KindBool:
		b := int64(0)
		if v.AsBool() {
			b = 1
		}
		return sqlfields.TypeBool, float64(b), b, nil
	}
	return sqlfields.TypeOther, nil, nil, nil
}

// storeRollups folds the rollups of a batch into the runs table with the
// one accounting (usage.Totals.Merge): a new run's row is inserted; an
// existing one is locked (SELECT FOR UPDATE), merged and updated, so that
// writers folding into the same run at once wait for each other rather
// than lose an update. Runs are taken in order of id, so that two writers
// lock them alike.
func storeRollups(ctx context.Context, tx pgx.Tx, acc usage.Rollups) error {
	if len(acc) == 0 {
		return nil
	}
	ids := make([]string, 0, len(acc))
	for id := range acc {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// Stages first: a stage is counted by the writer that inserts it.
	var stageRuns, stageNames []string
	for _, id := range ids {
		for _, st := range acc[id].Stages() {
			stageRuns, stageNames = append(stageRuns, id), append(stageNames, st)
		}
	}
	newStages := map[string]int{}
	if len(stageRuns) > 0 {
		rows, err := tx.Query(ctx, `INSERT INTO run_stages (run_id, stage) SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT DO NOTHING RETURNING run_id`, stageRuns, stageNames)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			newStages[id]++
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	runs := make([]stagetrace.Run, len(ids))
	for i, id := range ids {
		runs[i] = acc[id].Run()
		runs[i].Stages = newStages[id]
	}
	// Insert the new runs whole.
	inserted := map[string]bool{}
	{
		batch := &pgx.Batch{}
		for i := range runs {
			batch.Queue(`INSERT INTO runs (`+runInsertColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (run_id) DO NOTHING RETURNING run_id`, runArgs(&runs[i])...)
		}
		br := tx.SendBatch(ctx, batch)
		for range runs {
			var id string
			err := br.QueryRow().Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				br.Close()
				return err
			}
			inserted[id] = true
		}
		if err := br.Close(); err != nil {
			return err
		}
	}
	var rest []string
	for _, id := range ids {
		if !inserted[id] {
			rest = append(rest, id)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.run_id = ANY($1) ORDER BY r.run_id FOR UPDATE`, rest)
	if err != nil {
		return err
	}
	var stored []stagetrace.Run
	for rows.Next() {
		run, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return err
		}
		stored = append(stored, run)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(stored) != len(rest) {
		return errRunGone
	}
	batch := &pgx.Batch{}
	for i := range stored {
		old := &stored[i]
		j, _ := slices.BinarySearch(ids, old.ID)
		merged := mergeRuns(old, &runs[j])
		batch.Queue(`UPDATE runs SET (`+runInsertColumns+`) = ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) WHERE run_id = $1`,
			runArgs(&merged)...)
	}
	return tx.SendBatch(ctx, batch).Close()
}

// mergeRuns returns the rollup of a run whose records are those of a and
// those of b, as usage.Rollup would have added them.
func mergeRuns(a, b *stagetrace.Run) stagetrace.Run {
	out := *a
	if b.Start.Before(a.Start) {
		out.Start = b.Start
	}
	if b.End.After(a.End) {
		out.End = b.End
	}
	out.Stages += b.Stages
	out.Spans += b.Spans
	out.Errors += b.Errors
	t, bt := usage.RunTotals(*a), usage.RunTotals(*b)
	t.Merge(&bt)
	usage.SetRunTotals(&out, &t)
	return out
}
