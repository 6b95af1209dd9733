package sqlitesink

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"math"

	"modernc.org/sqlite"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// stagetrace_rows(v, ...) is an aggregate: the values of its rows packed
// into one blob, each a tag byte and its bytes (see rowReader), so that
// a query reading thousands of rows hands them over in one: database/sql
// costs about a microsecond and a dozen allocations per row and column
// set, which for the 10,000 spans of a large trace is most of the time.
const rowsFunc = "stagetrace_rows"

// Tags of the values stagetrace_rows packs.
const (
	tagNull  = 0
	tagInt   = 1 // varint
	tagFloat = 2 // 8 bytes little endian
	tagText  = 3 // uvarint length, bytes
	tagBlob  = 4 // uvarint length, bytes
)

// packedRows is one evaluation of stagetrace_rows. The arguments are
// SQLite's memory (VolatileArgs): they are copied into the blob.
type packedRows struct{ b []byte }

func (p *packedRows) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	for _, a := range args {
		switch v := a.(type) {
		case nil:
			p.b = append(p.b, tagNull)
		case int64:
			p.b = binary.AppendVarint(append(p.b, tagInt), v)
		case float64:
			p.b = binary.LittleEndian.AppendUint64(append(p.b, tagFloat), math.Float64bits(v))
		case string:
			p.b = append(binary.AppendUvarint(append(p.b, tagText), uint64(len(v))), v...)
		case []byte:
			p.b = append(binary.AppendUvarint(append(p.b, tagBlob), uint64(len(v))), v...)
		default:
			return fmt.Errorf("%s: value of type %T", rowsFunc, a)
		}
	}
	return nil
}

func (p *packedRows) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return fmt.Errorf("%s is not a window function", rowsFunc)
}

func (p *packedRows) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if p.b == nil {
		return []byte{}, nil
	}
	return p.b, nil
}

func (p *packedRows) Final(*sqlite.FunctionContext) {}

// rowReader reads the values stagetrace_rows packed, in order. A value of
// another type than asked for, or bytes cut short, is an error kept in
// err; the readers then return zero values.
type rowReader struct {
	b   []byte
	err error
}

func (r *rowReader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *rowReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: bad packed %s", rowsFunc, what)
	}
	r.b = nil
}

// int reads an INTEGER; null reports a NULL instead.
func (r *rowReader) int() (v int64, null bool) {
	if len(r.b) > 0 && r.b[0] == tagNull {
		r.b = r.b[1:]
		return 0, true
	}
	if len(r.b) == 0 || r.b[0] != tagInt {
		r.fail("integer")
		return 0, false
	}
	v, k := binary.Varint(r.b[1:])
	if k <= 0 {
		r.fail("integer")
		return 0, false
	}
	r.b = r.b[1+k:]
	return v, false
}

// bytes reads a TEXT or BLOB (NULL reads as nil), aliasing the packed
// blob.
func (r *rowReader) bytes() []byte {
	if len(r.b) > 0 && r.b[0] == tagNull {
		r.b = r.b[1:]
		return nil
	}
	if len(r.b) == 0 || (r.b[0] != tagText && r.b[0] != tagBlob) {
		r.fail("text or blob")
		return nil
	}
	n, k := binary.Uvarint(r.b[1:])
	if k <= 0 || n > uint64(len(r.b)-1-k) {
		r.fail("text or blob")
		return nil
	}
	v := r.b[1+k : 1+k+int(n)]
	r.b = r.b[1+k+int(n):]
	return v
}

// interned reads a TEXT, sharing the string of a value read before.
func (r *rowReader) interned(seen map[string]string) string {
	b := r.bytes()
	if s, ok := seen[string(b)]; ok {
		return s
	}
	s := string(b)
	seen[s] = s
	return s
}

// treeColumns are the columns of a span a span tree shows: spanColumns
// but the trace id, which the caller knows, and the events.
const treeColumns = `s.id, s.span_id, s.parent_span_id, s.run_id, s.stage, s.name,
	s.start_ns, s.end_ns, s.status, s.status_message, s.kind, s.scope, s.resource_id, s.attrs, s.findings`

// traceShape reads the parent links of a trace from the id index (no row
// is read), and returns them with the number of spans of the trace and
// whether ref is one of them.
func traceShape(ctx context.Context, db *sql.DB, ref SpanRef) (children map[stagetrace.SpanID][]stagetrace.SpanID, size int, found bool, err error) {
	var blob []byte
	if err := db.QueryRowContext(ctx, `SELECT `+rowsFunc+`(span_id, parent_span_id) FROM spans INDEXED BY spans_trace
WHERE tno = (SELECT tno FROM traces WHERE trace_id = ?)`, ref.TraceID[:]).Scan(&blob); err != nil {
		return nil, 0, false, fmt.Errorf("sqlitesink: %w", err)
	}
	children = make(map[stagetrace.SpanID][]stagetrace.SpanID)
	r := rowReader{b: blob}
	for r.more() {
		var id, pid stagetrace.SpanID
		copy(id[:], r.bytes())
		copy(pid[:], r.bytes())
		size++
		found = found || id == ref.SpanID
		if pid.IsValid() {
			children[pid] = append(children[pid], id)
		}
	}
	if r.err != nil {
		return nil, 0, false, fmt.Errorf("sqlitesink: %w", r.err)
	}
	return children, size, found, nil
}

// traceTree reads the spans of a trace, about n of them, in order of
// start, with the columns of treeColumns (no events).
func (s *Store) traceTree(ctx context.Context, db *sql.DB, trace stagetrace.TraceID, n int) ([]storedSpan, error) {
	var blob []byte
	if err := db.QueryRowContext(ctx, `SELECT `+rowsFunc+`(`+treeColumns+`) FROM spans s
WHERE s.tno = (SELECT tno FROM traces WHERE trace_id = ?)`, trace[:]).Scan(&blob); err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	out := make([]storedSpan, 0, n)
	seen := map[string]string{}
	r := rowReader{b: blob}
	var lastRes int64
	var lastResource *stagetrace.Resource
	for r.more() {
		out = append(out, storedSpan{})
		st := &out[len(out)-1]
		sp := &st.StageSpan
		sp.TraceID = trace
		st.rowID, _ = r.int()
		copy(sp.SpanID[:], r.bytes())
		copy(sp.ParentSpanID[:], r.bytes())
		sp.RunID, sp.Stage = r.interned(seen), r.interned(seen)
		sp.Name = string(r.bytes())
		start, _ := r.int()
		end, _ := r.int()
		sp.StartTime, sp.EndTime = query.StoredTime(start), query.StoredTime(end)
		status, _ := r.int()
		sp.Status = stagetrace.StatusCode(status)
		sp.StatusMessage = r.interned(seen)
		kind, _ := r.int()
		sp.Kind = stagetrace.SpanKind(kind)
		sp.Scope = r.interned(seen)
		res, noRes := r.int()
		st.resourceID = sql.NullInt64{Int64: res, Valid: !noRes}
		attrs, findings := r.bytes(), r.bytes()
		if r.err != nil {
			break
		}
		var err error
		if sp.Attrs, err = decodeAttrs(attrs); err != nil {
			return nil, fmt.Errorf("sqlitesink: span %s: attrs: %w", sp.SpanID, err)
		}
		if sp.Findings, err = decodeAttrs(findings); err != nil {
			return nil, fmt.Errorf("sqlitesink: span %s: findings: %w", sp.SpanID, err)
		}
		if st.resourceID.Valid {
			if lastResource == nil || res != lastRes {
				if lastResource, err = s.resource(ctx, db, res); err != nil {
					return nil, err
				}
				lastRes = res
			}
			sp.Resource = lastResource
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", r.err)
	}
	sortByStart(out)
	return out, nil
}
