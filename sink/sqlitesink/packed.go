package sqlitesink

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"modernc.org/sqlite"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// stagetrace_collect(handle, v, ...) is an aggregate that hands the values
// of each of its rows to the Go collector registered under handle (see
// collect), which decodes them where SQLite gives them. database/sql
// costs about a microsecond and a dozen allocations per row, which for the
// 10,000 spans of a large trace is most of the time; packing the rows
// into one blob instead copies it three times on its way out.
const collectFunc = "stagetrace_collect"

// A rowCollector takes the rows of a stagetrace_collect query. The values
// are SQLite's memory (VolatileArgs), valid during the call: what is kept
// of them is copied.
type rowCollector interface {
	row(v []driver.Value) error
}

// collectors are the collectors of the queries running, by handle. A
// handle is the smallest free one, so that it stays a small integer: it
// is passed with every row, and the driver boxes integers below 256
// without allocating. Only this package's own statements name the
// function: no text from outside reaches SQL but as a bound parameter.
var collectors = struct {
	sync.Mutex
	m map[int64]*collection
}{m: map[int64]*collection{}}

// collection is a collector registered for one query, with the first
// error it returned: SQLite hands it back as text, and the query's caller
// wants it as it was (errCorrupt, say).
type collection struct {
	c   rowCollector
	err error // under collectors' lock
}

// collect runs text, a query whose one column is
// stagetrace_collect(?, ...) with the handle its first parameter, and
// hands its rows to c.
func collect(ctx context.Context, db *sql.DB, c rowCollector, text string, args ...any) error {
	entry := &collection{c: c}
	collectors.Lock()
	h := int64(1)
	for collectors.m[h] != nil {
		h++
	}
	collectors.m[h] = entry
	collectors.Unlock()
	var rows int64 // the aggregate's value: the rows it was given
	err := db.QueryRowContext(ctx, text, append([]any{h}, args...)...).Scan(&rows)
	collectors.Lock()
	delete(collectors.m, h)
	cerr := entry.err
	collectors.Unlock()
	if cerr != nil {
		return fmt.Errorf("sqlitesink: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("sqlitesink: %w", err)
	}
	return nil
}

// collecting is one evaluation of stagetrace_collect.
type collecting struct {
	e    *collection
	rows int64
}

func (a *collecting) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if len(args) == 0 {
		return fmt.Errorf("%s: no handle", collectFunc)
	}
	if a.e == nil {
		h, _ := args[0].(int64)
		collectors.Lock()
		a.e = collectors.m[h]
		collectors.Unlock()
		if a.e == nil {
			return fmt.Errorf("%s: no collector %v", collectFunc, args[0])
		}
	}
	a.rows++
	err := a.e.c.row(args[1:])
	if err != nil {
		collectors.Lock()
		if a.e.err == nil {
			a.e.err = err
		}
		collectors.Unlock()
	}
	return err
}

func (a *collecting) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return fmt.Errorf("%s is not a window function", collectFunc)
}

func (a *collecting) WindowValue(*sqlite.FunctionContext) (driver.Value, error) { return a.rows, nil }

func (a *collecting) Final(*sqlite.FunctionContext) {}

// valueReader reads the values a collector is given, by the column's
// type; a value of another type is an error, the first kept in err.
type valueReader struct{ err error }

func (r *valueReader) fail(v driver.Value, what, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %s is %T, not %s", collectFunc, what, v, want)
	}
}

// int reads an INTEGER; null reports a NULL.
func (r *valueReader) int(v driver.Value, what string) (n int64, null bool) {
	switch x := v.(type) {
	case int64:
		return x, false
	case nil:
		return 0, true
	}
	r.fail(v, what, "an integer")
	return 0, false
}

// id copies a TEXT or BLOB value into dst, an id.
func (r *valueReader) id(dst []byte, v driver.Value, what string) {
	switch x := v.(type) {
	case []byte:
		copy(dst, x)
	case string:
		copy(dst, x)
	case nil:
	default:
		r.fail(v, what, "a blob")
	}
}

// text copies a TEXT value. With seen not nil, it shares the string of a
// value read before: last, the column's value in the row before, most
// often the same, or one in seen.
func (r *valueReader) text(v driver.Value, seen map[string]string, last *string, what string) string {
	var s string
	owned := false // s is a copy, not SQLite's memory
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s, owned = string(x), true
	case nil:
		return ""
	default:
		r.fail(v, what, "text")
		return ""
	}
	if seen == nil {
		if owned {
			return s
		}
		return strings.Clone(s)
	}
	if *last == s {
		return *last
	}
	k, ok := seen[s]
	if !ok {
		k = s
		if !owned {
			k = strings.Clone(s)
		}
		seen[k] = k
	}
	*last = k
	return k
}

// blob returns a BLOB value's bytes, aliasing them.
func (r *valueReader) blob(v driver.Value, what string) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	case nil:
		return nil
	}
	r.fail(v, what, "a blob")
	return nil
}

// treeColumns are the columns of a span a span tree shows: spanColumns
// but the trace id, which the caller knows, and the events.
const treeColumns = `s.id, s.span_id, s.parent_span_id, s.run_id, s.stage, s.name,
	s.start_ns, s.end_ns, s.status, s.status_message, s.kind, s.scope, s.resource_id, s.attrs, s.findings`

// treeRows collects spans of one trace given as treeColumns.
type treeRows struct {
	trace  stagetrace.TraceID
	chunks []*treeChunk // the last one partly filled
	n      int
	// The strings of run_id, stage, status_message and scope read, and
	// their values in the row before; a decoder each for attrs and
	// findings.
	seen         map[string]string
	last         [4]string
	attrs, finds decoder
	// keep, when not nil, are the spans to keep: the others are passed
	// over, neither decoded nor kept alive by the tree.
	keep map[stagetrace.SpanID]struct{}
}

// A treeChunk holds spans as read, each in the node of the tree that will
// hold it: spans come in chunks, so that those of a trace of unknown size
// are not moved as they come.
type treeChunk struct {
	nodes      [treeChunkLen]SpanNode
	start, row [treeChunkLen]int64 // start_ns and row id, to order them by
	res        [treeChunkLen]sql.NullInt64
}

const treeChunkLen = 1 << 10

func newTreeRows(trace stagetrace.TraceID) *treeRows {
	return &treeRows{trace: trace, seen: map[string]string{}, attrs: sharedDecoder(), finds: sharedDecoder()}
}

// add makes room for one more span, k in chunk c.
func (t *treeRows) add() (c *treeChunk, k int) {
	k = t.n % treeChunkLen
	if k == 0 {
		t.chunks = append(t.chunks, new(treeChunk))
	}
	t.n++
	return t.chunks[len(t.chunks)-1], k
}

// at returns the node of span i.
func (t *treeRows) at(i int) *SpanNode { return &t.chunks[i/treeChunkLen].nodes[i%treeChunkLen] }

func (t *treeRows) row(v []driver.Value) error {
	if len(v) != 15 {
		return fmt.Errorf("%s: %d values, want 15", collectFunc, len(v))
	}
	var r valueReader
	var id stagetrace.SpanID
	r.id(id[:], v[1], "span_id")
	if t.keep != nil && r.err == nil {
		if _, ok := t.keep[id]; !ok {
			return nil
		}
	}
	c, k := t.add()
	sp := &c.nodes[k].Span
	sp.SpanID = id
	c.row[k], _ = r.int(v[0], "id")
	r.id(sp.ParentSpanID[:], v[2], "parent_span_id")
	sp.RunID = r.text(v[3], t.seen, &t.last[0], "run_id")
	sp.Stage = r.text(v[4], t.seen, &t.last[1], "stage")
	sp.Name = r.text(v[5], nil, nil, "name")
	start, _ := r.int(v[6], "start_ns")
	end, _ := r.int(v[7], "end_ns")
	status, _ := r.int(v[8], "status")
	sp.StatusMessage = r.text(v[9], t.seen, &t.last[2], "status_message")
	kind, _ := r.int(v[10], "kind")
	sp.Scope = r.text(v[11], t.seen, &t.last[3], "scope")
	res, noRes := r.int(v[12], "resource_id")
	attrs, findings := r.blob(v[13], "attrs"), r.blob(v[14], "findings")
	if r.err != nil {
		t.drop()
		return r.err
	}
	sp.TraceID = t.trace
	c.start[k] = start
	sp.StartTime, sp.EndTime = query.StoredTime(start), query.StoredTime(end)
	sp.Status, sp.Kind = stagetrace.StatusCode(status), stagetrace.SpanKind(kind)
	c.res[k] = sql.NullInt64{Int64: res, Valid: !noRes}
	var err error
	if sp.Attrs, err = t.attrs.decodeAttrs(attrs); err != nil {
		t.drop()
		return fmt.Errorf("span %s: attrs: %w", sp.SpanID, err)
	}
	if sp.Findings, err = t.finds.decodeAttrs(findings); err != nil {
		t.drop()
		return fmt.Errorf("span %s: findings: %w", sp.SpanID, err)
	}
	return nil
}

// drop takes back the span add made room for last, a row refused.
func (t *treeRows) drop() {
	t.n--
	if t.n%treeChunkLen == 0 {
		t.chunks = t.chunks[:len(t.chunks)-1] // add made it for this span
		return
	}
	*t.at(t.n) = SpanNode{}
}

// startKey orders a span: by start, then as written.
type startKey struct {
	start, row int64
	i          int32 // the span's index
}

func (a startKey) compare(b startKey) int {
	switch {
	case a.start != b.start:
		return cmp.Compare(a.start, b.start)
	default:
		return cmp.Compare(a.row, b.row)
	}
}

// byStart returns the indexes of the spans in order of start, then as
// they were written: the spans are left where they are.
func (t *treeRows) byStart() []int32 {
	start := func(i int) int64 { return t.chunks[i/treeChunkLen].start[i%treeChunkLen] }
	row := func(i int32) int64 { return t.chunks[i/treeChunkLen].row[i%treeChunkLen] }
	idx := make([]int32, t.n)
	if t.n == 0 {
		return idx
	}
	lo, hi := start(0), start(0)
	for i := range t.n {
		lo, hi = min(lo, start(i)), max(hi, start(i))
	}
	// Most often each start, less the least, and the index fit in one
	// integer: a sort of integers is a few times faster than one of
	// structs by a function. Equal starts then go by row id.
	shift := bits.Len(uint(t.n))
	if uint64(hi)-uint64(lo) >= 1<<(64-shift) {
		keys := make([]startKey, t.n)
		for i := range keys {
			keys[i] = startKey{start(i), row(int32(i)), int32(i)}
		}
		slices.SortFunc(keys, startKey.compare)
		for i := range keys {
			idx[i] = keys[i].i
		}
		return idx
	}
	keys := make([]uint64, t.n)
	for i := range keys {
		keys[i] = (uint64(start(i))-uint64(lo))<<shift | uint64(i)
	}
	if !slices.IsSorted(keys) {
		slices.Sort(keys)
	}
	for i, k := range keys {
		idx[i] = int32(k & (1<<shift - 1))
	}
	for a := 0; a < len(keys); {
		b := a + 1
		for b < len(keys) && keys[b]>>shift == keys[a]>>shift {
			b++
		}
		if b-a > 1 {
			slices.SortFunc(idx[a:b], func(x, y int32) int { return cmp.Compare(row(x), row(y)) })
		}
		a = b
	}
	return idx
}

// traceTree reads the spans of a trace with the columns of treeColumns
// (no events), resources attached: all of them (ids nil), or those of
// ids, looked up one by one with byID, else passed over in one pass of
// the trace.
func (s *Store) traceTree(ctx context.Context, db *sql.DB, trace stagetrace.TraceID, ids []stagetrace.SpanID, byID bool) (*treeRows, error) {
	t := newTreeRows(trace)
	text := `SELECT ` + collectFunc + `(?, ` + treeColumns + `) FROM spans s
WHERE s.tno = (SELECT tno FROM traces WHERE trace_id = ?)`
	args := []any{trace[:]}
	switch {
	case ids == nil:
	case byID:
		text += ` AND s.span_id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
		for _, id := range ids {
			args = append(args, id[:])
		}
	default:
		t.keep = make(map[stagetrace.SpanID]struct{}, len(ids))
		for _, id := range ids {
			t.keep[id] = struct{}{}
		}
	}
	if err := collect(ctx, db, t, text, args...); err != nil {
		return nil, err
	}
	var lastRes int64
	var lastResource *stagetrace.Resource
	for i := range t.n {
		res := t.chunks[i/treeChunkLen].res[i%treeChunkLen]
		if !res.Valid {
			continue
		}
		if lastResource == nil || res.Int64 != lastRes {
			var err error
			if lastResource, err = s.resource(ctx, db, res.Int64); err != nil {
				return nil, err
			}
			lastRes = res.Int64
		}
		t.at(i).Span.Resource = lastResource
	}
	return t, nil
}

// shapeRows collects the parent links of a trace's spans, given as
// (span_id, parent_span_id).
type shapeRows struct {
	ref      SpanRef
	children map[stagetrace.SpanID][]stagetrace.SpanID
	size     int
	found    bool
}

func (r *shapeRows) row(v []driver.Value) error {
	if len(v) != 2 {
		return fmt.Errorf("%s: %d values, want 2", collectFunc, len(v))
	}
	var id, pid stagetrace.SpanID
	var vr valueReader
	vr.id(id[:], v[0], "span_id")
	vr.id(pid[:], v[1], "parent_span_id")
	if vr.err != nil {
		return vr.err
	}
	r.size++
	r.found = r.found || id == r.ref.SpanID
	if pid.IsValid() {
		r.children[pid] = append(r.children[pid], id)
	}
	return nil
}

// traceShape reads the parent links of a trace from the id index (no row
// is read), and returns them with the number of spans of the trace and
// whether ref is one of them.
func traceShape(ctx context.Context, db *sql.DB, ref SpanRef) (children map[stagetrace.SpanID][]stagetrace.SpanID, size int, found bool, err error) {
	r := &shapeRows{ref: ref, children: map[stagetrace.SpanID][]stagetrace.SpanID{}}
	if err := collect(ctx, db, r, `SELECT `+collectFunc+`(?, span_id, parent_span_id) FROM spans INDEXED BY spans_trace
WHERE tno = (SELECT tno FROM traces WHERE trace_id = ?)`, ref.TraceID[:]); err != nil {
		return nil, 0, false, err
	}
	return r.children, r.size, r.found, nil
}
