package sqlitesink

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

var _ query.Reader = (*Store)(nil)

// spanColumns are the columns scanSpan reads, in its order.
const spanColumns = `s.id, s.trace_id, s.span_id, s.parent_span_id, s.run_id, s.stage, s.name,
	s.start_ns, s.end_ns, s.status, s.status_message, s.kind, s.scope, s.resource_id, s.attrs, s.findings, s.events`

type scanner interface{ Scan(dest ...any) error }

// storedSpan is a span as read, with what locates it in the file.
type storedSpan struct {
	stagetrace.StageSpan
	rowID      int64
	resourceID sql.NullInt64
	events     []byte // the events column, decoded on demand
}

func (st *storedSpan) decodeEvents() ([]stagetrace.TraceEvent, error) {
	events, err := decodeEvents(st.events, &st.StageSpan)
	if err != nil {
		return nil, fmt.Errorf("span %s: events: %w", st.SpanID, err)
	}
	return events, nil
}

// spanRow holds the columns of a row of spanColumns as scanned: one
// allocation, reused from row to row, rather than one per column (the
// address of each is handed to Scan, so each would escape).
type spanRow struct {
	rowID                     int64
	trace, span, parent       sql.RawBytes
	attrs, findings, events   sql.RawBytes
	start, end, status, kind  int64
	runID, stage, name, scope string
	statusMessage             string
	resourceID                sql.NullInt64
	dest                      []any
}

func newSpanRow() *spanRow {
	r := &spanRow{}
	r.dest = []any{&r.rowID, &r.trace, &r.span, &r.parent, &r.runID, &r.stage, &r.name, &r.start, &r.end,
		&r.status, &r.statusMessage, &r.kind, &r.scope, &r.resourceID, &r.attrs, &r.findings, &r.events}
	return r
}

// scanSpan reads a row of spanColumns. The blob columns are read in place
// (sql.RawBytes): what is kept of them is decoded or copied.
func scanSpan(row scanner) (stagetrace.StageSpan, storedSpan, error) {
	return newSpanRow().scan(row)
}

func (r *spanRow) scan(row scanner) (stagetrace.StageSpan, storedSpan, error) {
	var st storedSpan
	if err := row.Scan(r.dest...); err != nil {
		return stagetrace.StageSpan{}, st, err
	}
	st.rowID, st.resourceID = r.rowID, r.resourceID
	s := &st.StageSpan
	copy(s.TraceID[:], r.trace)
	copy(s.SpanID[:], r.span)
	copy(s.ParentSpanID[:], r.parent)
	s.RunID, s.Stage, s.Name = r.runID, r.stage, r.name
	s.StartTime, s.EndTime = query.StoredTime(r.start), query.StoredTime(r.end)
	s.Status, s.StatusMessage = stagetrace.StatusCode(r.status), r.statusMessage
	s.Kind, s.Scope = stagetrace.SpanKind(r.kind), r.scope
	if len(r.events) > 0 {
		st.events = bytes.Clone(r.events)
	}
	var err error
	if s.Attrs, err = decodeAttrs(r.attrs); err != nil {
		return *s, st, fmt.Errorf("span %s: attrs: %w", s.SpanID, err)
	}
	if s.Findings, err = decodeAttrs(r.findings); err != nil {
		return *s, st, fmt.Errorf("span %s: findings: %w", s.SpanID, err)
	}
	return *s, st, nil
}

// querySpans runs a query selecting spanColumns and returns its spans,
// resources attached.
func (s *Store) querySpans(ctx context.Context, q string, args ...any) ([]storedSpan, error) {
	return s.querySpansN(ctx, 0, q, args...)
}

// querySpansN is querySpans for about n spans: the result is sized for
// them at once, rather than grown by copying.
func (s *Store) querySpansN(ctx context.Context, n int, q string, args ...any) ([]storedSpan, error) {
	out := make([]storedSpan, 0, n)
	if err := s.eachSpan(ctx, q, args, func(st *storedSpan) error {
		out = append(out, *st)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	return out, nil
}

func (s *Store) resource(ctx context.Context, db *sql.DB, id int64) (*stagetrace.Resource, error) {
	s.resMu.Lock()
	r, ok := s.resCache[id]
	s.resMu.Unlock()
	if ok {
		return r, nil
	}
	var blob []byte
	if err := db.QueryRowContext(ctx, `SELECT attrs FROM resources WHERE id = ?`, id).Scan(&blob); err != nil {
		return nil, fmt.Errorf("sqlitesink: resource %d: %w", id, err)
	}
	attrs, err := decodeAttrs(blob)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: resource %d: %w", id, err)
	}
	r = &stagetrace.Resource{Attrs: attrs}
	s.resMu.Lock()
	// Resources are never changed nor deleted, so a cached one stays
	// right; the bound keeps a store fed ever new resources small.
	if len(s.resCache) >= 1024 {
		clear(s.resCache)
	}
	s.resCache[id] = r
	s.resMu.Unlock()
	return r, nil
}

func plain(st []storedSpan) []stagetrace.StageSpan {
	out := make([]stagetrace.StageSpan, len(st))
	for i := range st {
		out[i] = st[i].StageSpan
	}
	return out
}

// Trace returns the spans of a trace, in order of start.
func (s *Store) Trace(ctx context.Context, traceID stagetrace.TraceID) ([]stagetrace.StageSpan, error) {
	st, err := s.traceRows(ctx, traceID, 0)
	return plain(st), err
}

// traceRows reads the spans of a trace, about n of them, in order of
// start. They are read in index order and sorted here: SQLite would sort
// whole rows, blobs and all.
func (s *Store) traceRows(ctx context.Context, traceID stagetrace.TraceID, n int) ([]storedSpan, error) {
	st, err := s.querySpansN(ctx, n, `SELECT `+spanColumns+` FROM spans s WHERE s.tno = (SELECT tno FROM traces WHERE trace_id = ?)`, traceID[:])
	sortByStart(st)
	return st, err
}

// sortByStart orders spans by start, then as they were written.
// A span is a few hundred bytes: they are sorted by index and moved once.
func sortByStart(st []storedSpan) {
	byStart := func(a, b *storedSpan) int {
		return cmp.Or(a.StartTime.Compare(b.StartTime), cmp.Compare(a.rowID, b.rowID))
	}
	idx := make([]int32, len(st))
	sorted := true
	for i := range idx {
		idx[i] = int32(i)
		if i > 0 && byStart(&st[i-1], &st[i]) > 0 {
			sorted = false
		}
	}
	if sorted {
		return
	}
	slices.SortFunc(idx, func(a, b int32) int { return byStart(&st[a], &st[b]) })
	out := make([]storedSpan, len(st))
	for k, i := range idx {
		out[k] = st[i]
	}
	copy(st, out)
}

// Span returns one span, or ErrNotFound.
func (s *Store) Span(ctx context.Context, traceID stagetrace.TraceID, spanID stagetrace.SpanID) (stagetrace.StageSpan, error) {
	st, err := s.querySpans(ctx, `SELECT `+spanColumns+` FROM spans s WHERE s.tno = (SELECT tno FROM traces WHERE trace_id = ?) AND s.span_id = ?`, traceID[:], spanID[:])
	if err != nil {
		return stagetrace.StageSpan{}, err
	}
	if len(st) == 0 {
		return stagetrace.StageSpan{}, fmt.Errorf("%w: span %s in trace %s", ErrNotFound, spanID, traceID)
	}
	return st[0].StageSpan, nil
}

// SpanRef names a span: by its trace and span ids, or by its span id alone.
// Spans are indexed by trace: finding one by span id alone reads every
// span, so give the trace id when it is known.
type SpanRef = query.SpanRef

// SpanNode is a span in a span tree, with its children in order of start.
type SpanNode = query.SpanNode

// SpanTree returns the span ref names and its descendants down to
// maxDepth levels below it (0: all), children in order of start. With
// attrs, each span holds only those attributes and findings (see
// SpanQuery.Attrs). It returns ErrNotFound when there is no such span.
//
// The whole tree of a root span (maxDepth 0) is, but for a trace of
// several roots, its whole trace: it is read in one pass. For another
// span or depth, the shape of the trace is read from the id index alone,
// then only the spans of the tree.
func (s *Store) SpanTree(ctx context.Context, ref SpanRef, maxDepth int, attrs []string) (*SpanNode, error) {
	proj, err := query.NewProjection(attrs)
	if err != nil {
		return nil, err
	}
	db, err := s.readDB()
	if err != nil {
		return nil, err
	}
	if !ref.TraceID.IsValid() {
		if ref.TraceID, err = s.traceOf(ctx, db, ref.SpanID); err != nil {
			return nil, err
		}
	}
	notFound := func() error { return fmt.Errorf("%w: span %s in trace %s", ErrNotFound, ref.SpanID, ref.TraceID) }
	// The least length of the span's parent ids: 0 for a root, NULL when
	// the trace has no such span. (An id may be stored twice, under two
	// parents.)
	var parentLen sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT min(length(parent_span_id)) FROM spans INDEXED BY spans_trace
WHERE tno = (SELECT tno FROM traces WHERE trace_id = ?) AND span_id = ?`, ref.TraceID[:], ref.SpanID[:]).Scan(&parentLen); err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	if !parentLen.Valid {
		return nil, notFound()
	}
	var rows *treeRows
	if parentLen.Int64 == 0 && maxDepth == 0 {
		rows, err = s.traceTree(ctx, db, ref.TraceID, nil, false)
	} else {
		var children map[stagetrace.SpanID][]stagetrace.SpanID
		var size int
		var found bool
		if children, size, found, err = traceShape(ctx, db, ref); err != nil {
			return nil, err
		}
		if !found {
			return nil, notFound()
		}
		order, _ := query.TreeDepths(children, ref.SpanID, maxDepth)
		rows, err = s.traceSpans(ctx, db, ref.TraceID, order, size)
	}
	if err != nil {
		return nil, err
	}
	byStart := rows.byStart()
	root := query.LinkTree(len(byStart), func(i int) *SpanNode { return rows.at(int(byStart[i])) }, ref.SpanID, maxDepth, proj)
	if root == nil {
		return nil, notFound()
	}
	return root, nil
}

// traceOf finds the trace of a span given by its span id alone. The index
// leads with the trace id, so this reads every span.
func (s *Store) traceOf(ctx context.Context, db *sql.DB, spanID stagetrace.SpanID) (stagetrace.TraceID, error) {
	var trace stagetrace.TraceID
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT trace_id FROM spans WHERE span_id = ? LIMIT 2`, spanID[:])
	if err != nil {
		return trace, fmt.Errorf("sqlitesink: %w", err)
	}
	n := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return trace, fmt.Errorf("sqlitesink: %w", err)
		}
		copy(trace[:], b)
		n++
	}
	if err := closeRows(rows); err != nil {
		return trace, fmt.Errorf("sqlitesink: %w", err)
	}
	switch n {
	case 0:
		return trace, fmt.Errorf("%w: span %s", ErrNotFound, spanID)
	case 1:
		return trace, nil
	}
	return trace, fmt.Errorf("sqlitesink: span id %s is in more than one trace: give its trace id", spanID)
}

// traceSpans reads the spans ids of trace, without their events: the
// whole trace in one pass when the tree is a good part of it, else by id.
func (s *Store) traceSpans(ctx context.Context, db *sql.DB, trace stagetrace.TraceID, ids []stagetrace.SpanID, traceSize int) (*treeRows, error) {
	const byIDLimit = 500 // bound parameters per statement, and rows worth a lookup each
	switch {
	case len(ids) == traceSize:
		return s.traceTree(ctx, db, trace, nil, false) // every span: no need to look each up
	case len(ids) > byIDLimit || len(ids) > traceSize/2:
		return s.traceTree(ctx, db, trace, ids, false)
	default:
		return s.traceTree(ctx, db, trace, ids, true)
	}
}

// SpanQuery selects spans; see query.SpanQuery.
type SpanQuery = query.SpanQuery

// spansSQL returns the statement selecting the spans of q. With walk, it
// walks the start-time index (see walkByStart).
// ix are the attribute keys the file indexes.
func spansSQL(q SpanQuery, walk bool, ix indexedSet) (string, []any, error) {
	ref, err := orderRef(q.OrderBy)
	if err != nil {
		return "", nil, err
	}
	b := builder{indexed: ix}
	if by, ok := orderedByValue(q, ref); ok && !walk {
		return byValueSQL(q, ref, by, ix)
	}
	if walk {
		b.add(`SELECT ` + spanColumns + ` FROM spans s INDEXED BY spans_start WHERE 1`)
	} else {
		b.add(`SELECT ` + spanColumns + ` FROM spans s WHERE 1`)
	}
	if err := b.whereScan(q.Where, walk); err != nil {
		return "", nil, err
	}
	b.orderBy(ref, q.Desc)
	if err := b.limit(q.Limit, q.Offset); err != nil {
		return "", nil, err
	}
	return b.String(), b.args, nil
}

// orderedByValue returns a filter of q that the value index answers in the
// order q wants: q is ordered by a finding, and one of its filters compares
// that finding with a number, so every span it keeps has a number there.
func orderedByValue(q SpanQuery, order query.Ref) (query.Filter, bool) {
	if order.Source != query.SourceFinding {
		return query.Filter{}, false
	}
	for _, f := range q.Where {
		ref, err := f.Ref()
		if err != nil || ref != order || !(f.Op.IsOrdering() || f.Op == query.OpEq) {
			continue
		}
		switch f.Value.Kind() {
		case stagetrace.KindInt64:
			return f, true
		case stagetrace.KindFloat64:
			if !math.IsNaN(f.Value.AsFloat64()) {
				return f, true
			}
		}
	}
	return query.Filter{}, false
}

// byValueSQL selects the spans of q, ordered by a finding that filter by
// compares with a number, by walking the range of the value index that by
// keeps, in the order wanted: the first spans of a top-N are found without
// reading or sorting the others. Ties go by the order spans were written
// in, as orderBy has it.
func byValueSQL(q SpanQuery, order query.Ref, by query.Filter, ix indexedSet) (string, []any, error) {
	b := builder{indexed: ix}
	b.add(`SELECT ` + spanColumns + ` FROM span_values v CROSS JOIN spans s WHERE s.id = v.span_id AND `)
	b.valueCond(order, by)
	// The range is by's condition: given again, SQLite would first
	// collect every span it keeps.
	rest := slices.DeleteFunc(slices.Clone(q.Where), func(f query.Filter) bool {
		return f.Field == by.Field && f.Op == by.Op && f.Value.Equal(by.Value)
	})
	if err := b.where(rest); err != nil {
		return "", nil, err
	}
	if q.Desc {
		b.add(" ORDER BY v.val DESC, v.span_id DESC")
	} else {
		b.add(" ORDER BY v.val, v.span_id")
	}
	if err := b.limit(q.Limit, q.Offset); err != nil {
		return "", nil, err
	}
	return b.String(), b.args, nil
}

// querySQL returns the statement selecting the spans of q, choosing how
// SQLite finds them.
func (s *Store) querySQL(ctx context.Context, q SpanQuery) (string, []any, error) {
	ix, err := s.indexedKeys(ctx)
	if err != nil {
		return "", nil, err
	}
	walk, err := s.walkByStart(ctx, q, ix)
	if err != nil {
		return "", nil, err
	}
	return spansSQL(q, walk, ix)
}

// walkByStart reports whether the first spans of q, in order of start, are
// best found by walking the start-time index and checking the filters on
// each span, until enough match, rather than by collecting every span the
// value index gives and sorting them.
//
// SQLite cannot tell: it knows nothing of how many spans a filter keeps.
// Collecting costs a lookup per match; walking, an index step per span
// passed, about a tenth of that, and it passes (wanted × spans / matches)
// of them. So walk when every value filter matches more than
// sqrt(wanted × spans / 10) spans, which a count capped at that bound
// tells cheaply. A filter on an attribute the file does not index is
// checked on each span either way, and counts for nothing here.
func (s *Store) walkByStart(ctx context.Context, q SpanQuery, ix indexedSet) (bool, error) {
	ref, err := orderRef(q.OrderBy)
	if err != nil || q.Limit <= 0 || ref.Source != query.SourceBuiltin || ref.Name != query.FieldStartTime {
		return false, err
	}
	values := valueFilters(q.Where, ix)
	if len(values) == 0 {
		// SQLite walks the index on its own when nothing else can drive
		// the query.
		return false, nil
	}
	return s.matchMany(ctx, values, q.Limit+q.Offset)
}

// valueFilters returns the filters of where that the value index answers.
func valueFilters(where []query.Filter, ix indexedSet) []query.Filter {
	var values []query.Filter
	for _, f := range where {
		r, err := f.Ref()
		if err == nil && r.Source != query.SourceBuiltin && (r.Source == query.SourceFinding || ix[r.Name]) {
			values = append(values, f)
		}
	}
	return values
}

// matchMany reports whether every filter of values matches at least
// sqrt(wanted × spans / 10) spans, counting each only up to that bound:
// the point past which finding the first wanted results by a walk in
// order, checking each span, costs less than collecting every match
// (see walkByStart and walkRuns).
func (s *Store) matchMany(ctx context.Context, values []query.Filter, wanted int) (bool, error) {
	db, err := s.readDB()
	if err != nil {
		return false, err
	}
	var spans int64
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM spans`).Scan(&spans); err != nil {
		return false, fmt.Errorf("sqlitesink: %w", err)
	}
	bound := int64(math.Sqrt(float64(wanted) * float64(spans) / 10))
	for _, f := range values {
		if f.Validate() != nil {
			return false, nil // reported by the query itself
		}
		ref, _ := f.Ref()
		var b builder
		b.add(`SELECT count(*) FROM (SELECT 1 FROM span_values v WHERE `)
		b.valueCond(ref, f)
		b.add(` LIMIT ?)`, bound)
		var n int64
		if err := db.QueryRowContext(ctx, b.String(), b.args...).Scan(&n); err != nil {
			return false, fmt.Errorf("sqlitesink: %w", err)
		}
		if n < bound {
			return false, nil
		}
	}
	return true, nil
}

// Spans returns the spans q selects.
func (s *Store) Spans(ctx context.Context, q SpanQuery) ([]stagetrace.StageSpan, error) {
	proj, err := query.NewProjection(q.Attrs)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	text, args, err := s.querySQL(ctx, q)
	if err != nil {
		return nil, err
	}
	st, err := s.querySpans(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	out := plain(st)
	for i := range out {
		out[i] = proj.Apply(out[i])
	}
	return out, nil
}

// RunFilter selects runs; see query.RunFilter.
type RunFilter = query.RunFilter

// Runs returns the runs f selects, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]stagetrace.Run, error) {
	ix, err := s.indexedKeys(ctx)
	if err != nil {
		return nil, err
	}
	walk, err := s.walkRuns(ctx, f, ix)
	if err != nil {
		return nil, err
	}
	text, args, err := runsSQL(f, walk, ix)
	if err != nil {
		return nil, err
	}
	return s.queryRuns(ctx, text, args...)
}

// queryRuns returns the runs a statement selecting runColumns gives.
func (s *Store) queryRuns(ctx context.Context, text string, args ...any) ([]stagetrace.Run, error) {
	db, err := s.readDB()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	var runs []stagetrace.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlitesink: %w", err)
		}
		runs = append(runs, r)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	return runs, nil
}

// runsSQL returns the statement selecting the runs of f. With walk, it
// walks the runs newest first (see walkRuns).
func runsSQL(f RunFilter, walk bool, ix indexedSet) (string, []any, error) {
	b := builder{indexed: ix}
	if walk && len(f.Where) > 0 {
		// Without statistics SQLite may read every run and sort them,
		// checking each: the walk must stop at the page's last run.
		b.add(`SELECT ` + runColumns + ` FROM runs r INDEXED BY runs_first_start WHERE 1`)
	} else {
		b.add(`SELECT ` + runColumns + ` FROM runs r WHERE 1`)
	}
	if !f.Since.IsZero() {
		b.add(` AND r.first_start_ns >= ?`, unixNano(f.Since))
	}
	if !f.Until.IsZero() {
		b.add(` AND r.first_start_ns < ?`, unixNano(f.Until))
	}
	switch f.Status {
	case "":
	case statusOK:
		b.add(` AND r.errors = 0`)
	case statusError:
		b.add(` AND r.errors > 0`)
	default:
		return "", nil, fmt.Errorf("sqlitesink: unknown run status %q: want ok or error", f.Status)
	}
	if len(f.Where) > 0 {
		if walk {
			// Runs newest first, each checked for one matching span
			// through its own spans, until the page is full.
			b.add(` AND EXISTS (SELECT 1 FROM spans s WHERE s.run_id = r.run_id`)
		} else {
			b.add(` AND r.run_id IN (SELECT s.run_id FROM spans s WHERE 1`)
		}
		if err := b.whereScan(f.Where, walk); err != nil {
			return "", nil, err
		}
		b.add(`)`)
	}
	b.add(` ORDER BY r.first_start_ns DESC, r.run_id`)
	if err := b.limit(f.Limit, f.Offset); err != nil {
		return "", nil, err
	}
	return b.String(), b.args, nil
}

// walkRuns reports whether the first runs f selects are best found by
// walking the runs newest first and looking, in each, for one span that
// the filters keep, rather than by collecting every span they keep and
// the runs of these.
//
// The choice is walkByStart's: collecting costs a lookup per matching
// span, however few runs are wanted; walking costs the spans passed over
// until enough runs hold a match, about (wanted × spans / matches): few
// when many spans match, every span of the store when none does. So walk
// only when every filter the value index answers matches at least
// matchMany's bound (at a million spans and a page of 50 runs, ≈ 2,200).
func (s *Store) walkRuns(ctx context.Context, f RunFilter, ix indexedSet) (bool, error) {
	if f.Limit <= 0 {
		return false, nil
	}
	values := valueFilters(f.Where, ix)
	if len(values) == 0 {
		return false, nil
	}
	return s.matchMany(ctx, values, f.Limit+f.Offset)
}

// Run returns the rollup of one run, or ErrNotFound.
func (s *Store) Run(ctx context.Context, runID string) (stagetrace.Run, error) {
	db, err := s.readDB()
	if err != nil {
		return stagetrace.Run{}, err
	}
	r, err := scanRun(db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.run_id = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return stagetrace.Run{}, fmt.Errorf("%w: run %q", ErrNotFound, runID)
	}
	if err != nil {
		return stagetrace.Run{}, fmt.Errorf("sqlitesink: %w", err)
	}
	return r, nil
}

// RunRecords returns every span of a run in order of start, and every
// event in order of time, or ErrNotFound when the store has no such run.
func (s *Store) RunRecords(ctx context.Context, runID string) (stagetrace.Batch, error) {
	st, err := s.querySpans(ctx, `SELECT `+spanColumns+` FROM spans s WHERE s.run_id = ? ORDER BY s.start_ns, s.id`, runID)
	if err != nil {
		return stagetrace.Batch{}, err
	}
	var events []stagetrace.TraceEvent
	for i := range st {
		evs, err := st[i].decodeEvents()
		if err != nil {
			return stagetrace.Batch{}, fmt.Errorf("sqlitesink: %w", err)
		}
		events = append(events, evs...)
	}
	orphans, err := s.events(ctx, `WHERE run_id = ? ORDER BY time_ns, id`, runID)
	if err != nil {
		return stagetrace.Batch{}, err
	}
	events = append(events, orphans...)
	logs, err := s.runLogs(ctx, runID)
	if err != nil {
		return stagetrace.Batch{}, err
	}
	events = append(events, logs...)
	slices.SortStableFunc(events, func(a, b stagetrace.TraceEvent) int { return a.Time.Compare(b.Time) })
	if len(st) == 0 && len(events) == 0 {
		return stagetrace.Batch{}, fmt.Errorf("%w: run %q", ErrNotFound, runID)
	}
	return stagetrace.Batch{Spans: plain(st), Events: events}, nil
}

func (s *Store) events(ctx context.Context, where string, args ...any) ([]stagetrace.TraceEvent, error) {
	db, err := s.readDB()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT run_id, stage, trace_id, span_id, name, time_ns, attrs FROM events `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	var out []stagetrace.TraceEvent
	for rows.Next() {
		var ev stagetrace.TraceEvent
		var trace, span, attrs []byte
		var ns int64
		if err := rows.Scan(&ev.RunID, &ev.Stage, &trace, &span, &ev.Name, &ns, &attrs); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlitesink: %w", err)
		}
		copy(ev.TraceID[:], trace)
		copy(ev.SpanID[:], span)
		ev.Time = query.StoredTime(ns)
		if ev.Attrs, err = decodeAttrs(attrs); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlitesink: event %s: %w", ev.Name, err)
		}
		out = append(out, ev)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	return out, nil
}
