package sqlitesink

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// Rows per multi-row INSERT. One statement per row costs the driver's
// per-call overhead (a few microseconds) for every attribute; grouping rows
// amortizes it.
const (
	spanRows  = 32
	traceRows = 32
	valueRows = 64
	eventRows = 32
	pointRows = 32
)

const (
	spanCols         = 18
	insertSpanPrefix = `INSERT INTO spans (id, tno, trace_id, span_id, parent_span_id, run_id, stage, name,
	start_ns, end_ns, status, status_message, kind, scope, resource_id, attrs, findings, events) VALUES `
	// A span stored before is skipped, so that a batch delivered twice is
	// stored once.
	insertSpanSuffix  = ` ON CONFLICT (tno, span_id, parent_span_id) DO NOTHING`
	traceCols         = 2
	insertTracePrefix = `INSERT INTO traces (tno, trace_id) VALUES `
	pointCols         = 5
	insertPointPrefix = `INSERT OR IGNORE INTO metric_points (name, time_ns, span_id, seq, value) VALUES `
	valueCols         = 5
	// OR IGNORE: a batch whose span repeats a key must not fail whole.
	insertValuePrefix = `INSERT OR IGNORE INTO span_values (source, key_id, type, val, span_id) VALUES `
	eventCols         = 9
	insertEventPrefix = `INSERT INTO events (run_id, stage, trace_id, span_id, name, time_ns, attrs, metric_name, metric_value) VALUES `
	// The no-op update makes RETURNING give the id of an existing row too.
	upsertKeySQL      = `INSERT INTO keys (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`
	upsertResourceSQL = `INSERT INTO resources (hash, attrs) VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash RETURNING id`
	insertStageSQL    = `INSERT INTO run_stages (run_id, stage) VALUES (?, ?) ON CONFLICT DO NOTHING`
)

// noParent is the parent_span_id of a root span: an empty blob, not
// NULL, so that the unique index on ids catches a root stored twice.
var noParent = []byte{}

// insertSQL returns prefix followed by rows groups of cols placeholders.
func insertSQL(prefix string, cols, rows int) string {
	group := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return prefix + strings.TrimSuffix(strings.Repeat(group+", ", rows), ", ")
}

// statements are prepared once on the store's single write connection and
// bound to each batch's transaction.
type statements struct {
	trace1, traceN, span1, spanN, value1, valueN, event1, eventN, point1, pointN, key, resource, stage, run, minute, indexCount *sql.Stmt
}

func (st *statements) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.trace1, insertSQL(insertTracePrefix, traceCols, 1)},
		{&st.traceN, insertSQL(insertTracePrefix, traceCols, traceRows)},
		{&st.span1, insertSQL(insertSpanPrefix, spanCols, 1) + insertSpanSuffix},
		{&st.spanN, insertSQL(insertSpanPrefix, spanCols, spanRows) + insertSpanSuffix},
		{&st.value1, insertSQL(insertValuePrefix, valueCols, 1)},
		{&st.valueN, insertSQL(insertValuePrefix, valueCols, valueRows)},
		{&st.event1, insertSQL(insertEventPrefix, eventCols, 1)},
		{&st.eventN, insertSQL(insertEventPrefix, eventCols, eventRows)},
		{&st.point1, insertSQL(insertPointPrefix, pointCols, 1)},
		{&st.pointN, insertSQL(insertPointPrefix, pointCols, pointRows)},
		{&st.key, upsertKeySQL},
		{&st.resource, upsertResourceSQL},
		{&st.stage, insertStageSQL},
		{&st.run, upsertRunSQL},
		{&st.minute, upsertMinuteSQL},
		{&st.indexCount, countIndexedSQL},
	} {
		stmt, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("sqlitesink: prepare: %w", err)
		}
		*p.dst = stmt
	}
	return nil
}

func (st *statements) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{st.trace1, st.traceN, st.span1, st.spanN, st.value1, st.valueN, st.event1, st.eventN, st.point1, st.pointN, st.key, st.resource, st.stage, st.run, st.minute, st.indexCount} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// Write stores the spans and events of b in one transaction: all of them
// or, on error, none. A span already stored (same trace and span id) is
// skipped with its events, so a batch delivered twice is stored once.
// The runs of the batch have their rollups updated in the same
// transaction. Write honours ctx while waiting for another write and
// while writing.
func (s *Store) Write(ctx context.Context, b stagetrace.Batch) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if s.closed.Load() {
		return s.closedError()
	}
	if b.Len() == 0 {
		return nil
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitesink: write: %w", err)
	}
	if err := s.refreshIndexed(ctx, tx); err != nil {
		return errors.Join(fmt.Errorf("sqlitesink: write: %w", err), rollback(tx))
	}
	w := s.newBatchWriter(ctx, tx)
	if err := w.write(ctx, b); err != nil {
		return errors.Join(fmt.Errorf("sqlitesink: write: %w", err), rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitesink: write: commit: %w", err)
	}
	// Ids found or created in the transaction are valid now it committed.
	w.remember()
	s.written(b.Len())
	s.buf = w.arena[:0]
	if cap(s.buf) > 4<<20 {
		s.buf = nil
	}
	return nil
}

// batchWriter writes one batch inside one transaction.
type batchWriter struct {
	s                      *Store
	tx                     *sql.Tx
	key, res               *sql.Stmt
	spans, traces          bulk
	pending                []pendingSpan
	tnos                   map[stagetrace.TraceID]int64 // the batch's traces
	nextID                 int64                        // the id the next span gets; 0 until read
	stage, run, minute     *sql.Stmt
	values, events, points bulk
	newKeys                map[string]int64
	newRes                 map[[32]byte]int64
	resOf                  map[*stagetrace.Resource]int64
	skipped                map[spanKey]struct{}
	rollups                rollups
	minutes                minutes
	arena                  []byte
}

type spanKey struct {
	trace stagetrace.TraceID
	span  stagetrace.SpanID
}

func (s *Store) newBatchWriter(ctx context.Context, tx *sql.Tx) *batchWriter {
	st := &s.stmts
	return &batchWriter{
		s:       s,
		tx:      tx,
		spans:   bulk{one: tx.StmtContext(ctx, st.span1), many: tx.StmtContext(ctx, st.spanN), cols: spanCols, rows: spanRows},
		traces:  bulk{one: tx.StmtContext(ctx, st.trace1), many: tx.StmtContext(ctx, st.traceN), cols: traceCols, rows: traceRows},
		key:     tx.StmtContext(ctx, st.key),
		res:     tx.StmtContext(ctx, st.resource),
		stage:   tx.StmtContext(ctx, st.stage),
		run:     tx.StmtContext(ctx, st.run),
		minute:  tx.StmtContext(ctx, st.minute),
		values:  bulk{one: tx.StmtContext(ctx, st.value1), many: tx.StmtContext(ctx, st.valueN), cols: valueCols, rows: valueRows},
		events:  bulk{one: tx.StmtContext(ctx, st.event1), many: tx.StmtContext(ctx, st.eventN), cols: eventCols, rows: eventRows},
		points:  bulk{one: tx.StmtContext(ctx, st.point1), many: tx.StmtContext(ctx, st.pointN), cols: pointCols, rows: pointRows},
		newKeys: make(map[string]int64),
		newRes:  make(map[[32]byte]int64),
		resOf:   make(map[*stagetrace.Resource]int64),
		rollups: newRollups(),
		minutes: minutes{},
		arena:   s.buf[:0],
	}
}

func (w *batchWriter) write(ctx context.Context, b stagetrace.Batch) error {
	if err := w.resolveTraces(ctx, b.Spans); err != nil {
		return err
	}
	attached, orphans := attach(b)
	for i := range b.Spans {
		if err := w.writeSpan(ctx, &b.Spans[i], attached[i]); err != nil {
			return err
		}
	}
	if err := w.flushSpans(ctx); err != nil {
		return err
	}
	if err := w.values.flush(ctx); err != nil {
		return err
	}
	if err := w.points.flush(ctx); err != nil {
		return err
	}
	orphans, logs := splitLogs(orphans)
	if err := w.writeLogs(ctx, logs); err != nil {
		return err
	}
	for _, ev := range orphans {
		if err := w.writeOrphan(ctx, ev); err != nil {
			return err
		}
	}
	if err := w.events.flush(ctx); err != nil {
		return err
	}
	if err := w.minutes.store(ctx, w.tx, w.minute); err != nil {
		return err
	}
	return w.rollups.store(ctx, w.tx, w.stage, w.run)
}

// attach returns, for each span of b, the events stored in its row: those
// of the span that agree with it on run and stage, which the exporter's
// always do. The others are orphans, stored on their own.
func attach(b stagetrace.Batch) (attached [][]*stagetrace.TraceEvent, orphans []*stagetrace.TraceEvent) {
	if len(b.Events) == 0 {
		return make([][]*stagetrace.TraceEvent, len(b.Spans)), nil
	}
	index := make(map[spanKey]int, len(b.Spans))
	for i := range b.Spans {
		k := spanKey{b.Spans[i].TraceID, b.Spans[i].SpanID}
		if _, dup := index[k]; !dup {
			index[k] = i
		}
	}
	attached = make([][]*stagetrace.TraceEvent, len(b.Spans))
	for j := range b.Events {
		ev := &b.Events[j]
		i, ok := index[spanKey{ev.TraceID, ev.SpanID}]
		// A log event is never kept in its span's row: it has its own
		// table (logs.go).
		if ok && ev.RunID == b.Spans[i].RunID && ev.Stage == b.Spans[i].Stage && ev.Name != stagetrace.LogEventName {
			attached[i] = append(attached[i], ev)
			continue
		}
		orphans = append(orphans, ev)
	}
	return attached, orphans
}

// blob encodes attrs into the batch's arena and returns them, or nil for
// none. Earlier blobs stay valid: the arena only grows.
func (w *batchWriter) blob(attrs stagetrace.Attrs) []byte {
	if len(attrs) == 0 {
		return nil
	}
	start := len(w.arena)
	w.arena = appendAttrs(w.arena, attrs)
	return w.arena[start:len(w.arena):len(w.arena)]
}

// spanTimeClamped reports whether the store keeps another time than sp's
// start, end or the time of one of its events.
func spanTimeClamped(sp *stagetrace.StageSpan, events []*stagetrace.TraceEvent) bool {
	if query.StoredTimeClamped(sp.StartTime) || query.StoredTimeClamped(sp.EndTime) {
		return true
	}
	for _, ev := range events {
		if query.StoredTimeClamped(ev.Time) {
			return true
		}
	}
	return false
}

// markClamped returns attrs with ClampedTimeAttr set when clamped, so that
// a time the store could not keep is never read back without a word. The
// caller's attrs are not changed.
func markClamped(attrs stagetrace.Attrs, clamped bool) stagetrace.Attrs {
	if !clamped {
		return attrs
	}
	return append(attrs[:len(attrs):len(attrs)], stagetrace.Attr{Key: ClampedTimeAttr, Value: stagetrace.BoolValue(true)})
}

// eventsBlob encodes a span's events into the batch's arena.
func (w *batchWriter) eventsBlob(events []*stagetrace.TraceEvent) []byte {
	if len(events) == 0 {
		return nil
	}
	start := len(w.arena)
	w.arena = appendEvents(w.arena, events)
	return w.arena[start:len(w.arena):len(w.arena)]
}

// resolveTraces finds the tno of every trace of spans, giving new traces
// the next numbers.
func (w *batchWriter) resolveTraces(ctx context.Context, spans []stagetrace.StageSpan) error {
	w.tnos = make(map[stagetrace.TraceID]int64)
	var ids []any
	for i := range spans {
		if _, ok := w.tnos[spans[i].TraceID]; !ok {
			w.tnos[spans[i].TraceID] = 0
			ids = append(ids, spans[i].TraceID[:])
		}
	}
	// Known traces, a few hundred ids per statement.
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		rows, err := w.tx.QueryContext(ctx, `SELECT trace_id, tno FROM traces WHERE trace_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var raw []byte
			var tno int64
			if err := rows.Scan(&raw, &tno); err != nil {
				rows.Close()
				return err
			}
			var id stagetrace.TraceID
			copy(id[:], raw)
			w.tnos[id] = tno
		}
		if err := closeRows(rows); err != nil {
			return err
		}
	}
	// New traces, numbered in order of first span; the transaction holds
	// the write lock, so the numbers stay free until it commits.
	var next int64
	for i := range spans {
		id := spans[i].TraceID
		if w.tnos[id] != 0 {
			continue
		}
		if next == 0 {
			if err := w.tx.QueryRowContext(ctx, `SELECT coalesce(max(tno), 0) + 1 FROM traces`).Scan(&next); err != nil {
				return err
			}
		}
		w.tnos[id] = next
		w.traces.args = append(w.traces.args, next, spans[i].TraceID[:])
		next++
		if err := w.traces.added(ctx); err != nil {
			return err
		}
	}
	return w.traces.flush(ctx)
}

// pendingSpan is a span whose row is queued in w.spans.
type pendingSpan struct {
	sp     *stagetrace.StageSpan
	events []*stagetrace.TraceEvent
	id     int64
}

// writeSpan queues a span's row; flushSpans inserts the queued rows, many
// per statement, and then what depends on them. Ids are given here: the
// transaction holds the write lock, so no one else takes them meanwhile.
func (w *batchWriter) writeSpan(ctx context.Context, sp *stagetrace.StageSpan, events []*stagetrace.TraceEvent) error {
	if spanTimeClamped(sp, events) {
		// A marked copy, so that the mark is indexed like any attribute;
		// the caller's span is not changed.
		marked := *sp
		marked.Attrs = markClamped(sp.Attrs, true)
		sp = &marked
	}
	if w.nextID == 0 {
		if err := w.tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM spans`).Scan(&w.nextID); err != nil {
			return err
		}
	}
	resID, err := w.resourceID(ctx, sp.Resource)
	if err != nil {
		return err
	}
	parent := noParent
	if sp.ParentSpanID.IsValid() {
		parent = sp.ParentSpanID[:]
	}
	id := w.nextID
	w.nextID++
	w.spans.args = append(w.spans.args, id, w.tnos[sp.TraceID],
		sp.TraceID[:], sp.SpanID[:], parent, sp.RunID, sp.Stage, sp.Name,
		query.StoredUnixNano(sp.StartTime), query.StoredUnixNano(sp.EndTime), int64(sp.Status), sp.StatusMessage,
		int64(sp.Kind), sp.Scope, resID, w.blob(sp.Attrs), w.blob(sp.Findings), w.eventsBlob(events))
	w.pending = append(w.pending, pendingSpan{sp: sp, events: events, id: id})
	if len(w.pending) < spanRows {
		return nil
	}
	return w.flushSpans(ctx)
}

// flushSpans inserts the queued span rows, then the values, metric
// points and rollups of those that were not stored before.
func (w *batchWriter) flushSpans(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	var inserted int64
	if len(w.pending) == spanRows {
		res, err := w.spans.many.ExecContext(ctx, w.spans.args...)
		if err != nil {
			return err
		}
		if inserted, err = res.RowsAffected(); err != nil {
			return err
		}
	} else {
		for i := range w.pending {
			res, err := w.spans.one.ExecContext(ctx, w.spans.args[i*spanCols:(i+1)*spanCols]...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			inserted += n
		}
	}
	clear(w.spans.args)
	w.spans.args = w.spans.args[:0]
	var stored map[int64]bool
	if inserted != int64(len(w.pending)) {
		// Some were stored before: find which of ours made it.
		var err error
		if stored, err = w.storedIDs(ctx); err != nil {
			return err
		}
	}
	for _, p := range w.pending {
		if stored != nil && !stored[p.id] {
			// Stored before: skip it and its events.
			if w.skipped == nil {
				w.skipped = make(map[spanKey]struct{})
			}
			w.skipped[spanKey{p.sp.TraceID, p.sp.SpanID}] = struct{}{}
			continue
		}
		if err := w.spanAdded(ctx, p); err != nil {
			return err
		}
	}
	clear(w.pending)
	w.pending = w.pending[:0]
	return nil
}

// storedIDs returns which ids of the pending spans have a row.
func (w *batchWriter) storedIDs(ctx context.Context) (map[int64]bool, error) {
	args := make([]any, len(w.pending))
	for i, p := range w.pending {
		args[i] = p.id
	}
	rows, err := w.tx.QueryContext(ctx, `SELECT id FROM spans WHERE id IN (?`+strings.Repeat(", ?", len(args)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	stored := make(map[int64]bool, len(args))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		stored[id] = true
	}
	return stored, closeRows(rows)
}

// spanAdded writes what depends on a span's new row: its rollup, its
// metric points, its values.
func (w *batchWriter) spanAdded(ctx context.Context, p pendingSpan) error {
	w.rollups.addSpan(p.sp)
	for seq, ev := range p.events {
		w.rollups.addEvent(ev)
		if name, value, ok := query.MetricOf(ev); ok {
			ns := query.StoredUnixNano(ev.Time)
			w.minutes.add(name, ns, value)
			w.points.args = append(w.points.args, name, ns, p.id, int64(seq), value)
			if err := w.points.added(ctx); err != nil {
				return err
			}
		}
	}
	if err := w.writeValues(ctx, p.id, sqlfields.SourceAttr, p.sp.Attrs); err != nil {
		return err
	}
	return w.writeValues(ctx, p.id, sqlfields.SourceFinding, p.sp.Findings)
}

// writeValues indexes the values of attrs: every finding, and the
// attributes whose key the file indexes.
func (w *batchWriter) writeValues(ctx context.Context, spanID int64, source int64, attrs stagetrace.Attrs) error {
	for i := range attrs {
		if source == sqlfields.SourceAttr && !w.s.attrIndex[attrs[i].Key] {
			continue
		}
		keyID, err := w.keyID(ctx, attrs[i].Key)
		if err != nil {
			return err
		}
		typ, val := indexValue(attrs[i].Value)
		w.values.args = append(w.values.args, source, keyID, typ, val, spanID)
		if err := w.values.added(ctx); err != nil {
			return err
		}
	}
	return nil
}

// indexValue returns the type and the val of v in span_values.
func indexValue(v stagetrace.Value) (typ int64, val any) {
	switch v.Kind() {
	case stagetrace.KindInt64:
		return sqlfields.TypeNumber, v.AsInt64()
	case stagetrace.KindFloat64:
		f := v.AsFloat64()
		if math.IsNaN(f) {
			// SQLite would store NaN as NULL; NaN compares with nothing.
			return sqlfields.TypeOther, int64(0)
		}
		return sqlfields.TypeNumber, f
	case stagetrace.KindString:
		return sqlfields.TypeString, v.AsString()
	case stagetrace.KindBool:
		if v.AsBool() {
			return sqlfields.TypeBool, int64(1)
		}
		return sqlfields.TypeBool, int64(0)
	}
	return sqlfields.TypeOther, int64(0)
}

// writeOrphan stores an event that came without its span.
func (w *batchWriter) writeOrphan(ctx context.Context, ev *stagetrace.TraceEvent) error {
	if _, skip := w.skipped[spanKey{ev.TraceID, ev.SpanID}]; skip {
		return nil
	}
	var metricName, metricValue any
	if name, value, ok := query.MetricOf(ev); ok {
		metricName, metricValue = name, value
		w.minutes.add(name, query.StoredUnixNano(ev.Time), value)
	}
	w.rollups.addEvent(ev)
	w.events.args = append(w.events.args, ev.RunID, ev.Stage, ev.TraceID[:], ev.SpanID[:], ev.Name,
		query.StoredUnixNano(ev.Time), w.blob(markClamped(ev.Attrs, query.StoredTimeClamped(ev.Time))), metricName, metricValue)
	return w.events.added(ctx)
}

func (w *batchWriter) keyID(ctx context.Context, name string) (int64, error) {
	if id, ok := w.s.keyIDs[name]; ok {
		return id, nil
	}
	if id, ok := w.newKeys[name]; ok {
		return id, nil
	}
	var id int64
	if err := w.key.QueryRowContext(ctx, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("key %q: %w", name, err)
	}
	w.newKeys[name] = id
	return id, nil
}

// resourceID returns the id of r's row, storing r when no resource with
// the same attributes is stored yet; nil for no resource.
func (w *batchWriter) resourceID(ctx context.Context, r *stagetrace.Resource) (any, error) {
	if r == nil {
		return nil, nil
	}
	if id, ok := w.resOf[r]; ok {
		return id, nil
	}
	blob := appendAttrs(nil, r.Attrs)
	hash := sha256.Sum256(blob)
	id, ok := w.s.resIDs[hash]
	if !ok {
		id, ok = w.newRes[hash]
	}
	if !ok {
		if err := w.res.QueryRowContext(ctx, hash[:], blob).Scan(&id); err != nil {
			return nil, fmt.Errorf("resource: %w", err)
		}
		w.newRes[hash] = id
	}
	w.resOf[r] = id
	return id, nil
}

// remember adds the ids the batch found or created to the store's caches.
// The caches are bounded: past the bound they start over.
func (w *batchWriter) remember() {
	const maxKeys, maxResources = 1 << 16, 1 << 10
	if len(w.s.keyIDs)+len(w.newKeys) > maxKeys {
		clear(w.s.keyIDs)
	}
	for k, id := range w.newKeys {
		w.s.keyIDs[k] = id
	}
	if len(w.s.resIDs)+len(w.newRes) > maxResources {
		clear(w.s.resIDs)
	}
	for h, id := range w.newRes {
		w.s.resIDs[h] = id
	}
}

// bulk inserts rows with a multi-row statement when it has enough of them
// and one statement per row for the rest.
type bulk struct {
	one, many  *sql.Stmt
	cols, rows int
	args       []any
}

// added is called after a row's values are appended to args.
func (b *bulk) added(ctx context.Context) error {
	if len(b.args) < b.cols*b.rows {
		return nil
	}
	_, err := b.many.ExecContext(ctx, b.args...)
	clear(b.args)
	b.args = b.args[:0]
	return err
}

func (b *bulk) flush(ctx context.Context) error {
	for len(b.args) > 0 {
		if _, err := b.one.ExecContext(ctx, b.args[:b.cols]...); err != nil {
			return err
		}
		b.args = b.args[b.cols:]
	}
	b.args = nil
	return nil
}
