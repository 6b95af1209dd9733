package sqlitesink

import (
	"fmt"
	"strings"

	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// Every value a caller gives reaches SQL as a bound parameter; the SQL text
// is assembled only from the constants in this file, chosen by
// whitelisted names (operators, built-in fields, order-by fields).

// sqlOps are the SQL operators of the comparison filter operators.
var sqlOps = map[query.Op]string{
	query.OpEq: "=",
	query.OpNe: "!=",
	query.OpGt: ">",
	query.OpGe: ">=",
	query.OpLt: "<",
	query.OpLe: "<=",
}

// elapsedMS is elapsed_ms as SQL computes it: the same float64 division
// StageSpan.ElapsedMS does, so SQL and query.Match agree to the bit.
const elapsedMS = "((s.end_ns - s.start_ns) / 1e6)"

// builder assembles a statement and its arguments.
type builder struct {
	strings.Builder
	args []any
	// indexed are the attribute keys whose values span_values holds.
	indexed indexedSet
}

func (b *builder) add(sql string, args ...any) {
	b.WriteString(sql)
	b.args = append(b.args, args...)
}

// where adds " AND (condition)" for every filter.
func (b *builder) where(filters []query.Filter) error {
	return b.whereScan(filters, false)
}

// whereScan is where; with scan, the conditions on indexed values are
// written so that SQLite checks them on each span it walks through (the
// unary + keeps it from driving the query with them), for a walk along an
// index in the order wanted (see Store.walkByStart).
func (b *builder) whereScan(filters []query.Filter, scan bool) error {
	for i, f := range filters {
		b.add(" AND (")
		if err := b.filter(f, scan); err != nil {
			return fmt.Errorf("sqlitesink: filter %d (%s): %w", i+1, f.String(), err)
		}
		b.add(")")
	}
	return nil
}

func (b *builder) filter(f query.Filter, scan bool) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.Op.IsMatch() && funcErr != nil {
		return funcErr
	}
	ref, _ := f.Ref()
	if ref.Source == query.SourceBuiltin {
		return b.builtin(ref.Name, f)
	}
	if ref.Source == query.SourceAttr && !b.indexed[ref.Name] {
		// Not indexed: read from the span's attributes.
		b.add(matchFunc+"(s.attrs, ?, ?, ?, ?)", append([]any{ref.Name}, filterArgs(f)...)...)
		return nil
	}
	if scan {
		b.add("+")
	}
	b.add("s.id IN (SELECT v.span_id FROM span_values v WHERE ")
	b.valueCond(ref, f)
	b.add(")")
	return nil
}

// valueCond adds the condition on span_values v of an attribute or finding
// filter. The key is a bound value compared with keys.name: a dotted key is
// one key, and no key is ever SQL or a JSON path.
func (b *builder) valueCond(ref query.Ref, f query.Filter) {
	b.add("v.source = ? AND v.key_id = (SELECT k.id FROM keys k WHERE k.name = ?)", sqlfields.SourceOf(ref.Source), ref.Name)
	switch f.Op {
	case query.OpExists:
	case query.OpMatch, query.OpNotMatch:
		b.add(" AND v.type = ? AND "+notIf(f.Op)+regexpFunc+"(?, v.val)", sqlfields.TypeString, f.Value.AsString())
	default:
		typ, val := indexValue(f.Value)
		b.add(" AND v.type = ? AND v.val "+sqlOps[f.Op]+" ?", typ, val)
	}
}

func (b *builder) builtin(name string, f query.Filter) error {
	typ, _ := query.Builtin(name)
	switch typ {
	case query.TypeString:
		col := sqlfields.StringColumns[name]
		guard := ""
		if sqlfields.OptionalColumns[name] {
			guard = col + " != '' AND "
		}
		switch f.Op {
		case query.OpExists:
			if guard == "" {
				b.add("1")
				return nil
			}
			b.add(col + " != ''")
		case query.OpMatch, query.OpNotMatch:
			b.add(guard+notIf(f.Op)+regexpFunc+"(?, "+col+")", f.Value.AsString())
		default:
			b.add(guard+col+" "+sqlOps[f.Op]+" ?", f.Value.AsString())
		}
	case query.TypeEnum:
		if f.Op == query.OpExists {
			b.add("1")
			return nil
		}
		var codes []any
		for _, code := range sqlfields.EnumCodes(name, f) {
			codes = append(codes, int64(code))
		}
		if len(codes) == 0 {
			b.add("0")
			return nil
		}
		b.add(sqlfields.EnumColumns[name]+" IN (?"+strings.Repeat(", ?", len(codes)-1)+")", codes...)
	case query.TypeID:
		switch f.Op {
		case query.OpExists:
			b.add("1")
		case query.OpMatch, query.OpNotMatch:
			b.add(notIf(f.Op)+regexpFunc+"(?, lower(hex(s.trace_id)))", f.Value.AsString())
		default:
			// Through traces, whose index finds the trace at once.
			id, _ := query.ParseTraceID(f.Value.AsString())
			b.add("s.tno "+sqlOps[f.Op]+" coalesce((SELECT t.tno FROM traces t WHERE t.trace_id = ?), 0)", id[:])
		}
	case query.TypeNumber:
		if f.Op == query.OpExists {
			b.add("1")
			return nil
		}
		_, val := indexValue(f.Value)
		b.add(elapsedMS+" "+sqlOps[f.Op]+" ?", val)
	case query.TypeTime:
		if f.Op == query.OpExists {
			b.add("1")
			return nil
		}
		t, _ := query.TimeOf(f.Value)
		b.add("s.start_ns "+sqlOps[f.Op]+" ?", query.StoredUnixNano(t))
	default:
		return fmt.Errorf("no SQL for built-in field %q", name)
	}
	return nil
}

// notIf returns the negation a regular expression match takes for op.
func notIf(op query.Op) string {
	if op == query.OpNotMatch {
		return "NOT "
	}
	return ""
}

// OrderEndTime is the order-by field that sorts spans by when they ended;
// see query.OrderEndTime.
const OrderEndTime = query.OrderEndTime

// orderColumns are the SQL expressions of the built-in order-by fields.
var orderColumns = map[string]string{
	query.FieldName:      "s.name",
	query.FieldStage:     "s.stage",
	query.FieldRunID:     "s.run_id",
	query.FieldStatus:    "s.status",
	query.FieldKind:      "s.kind",
	query.FieldScope:     "s.scope",
	query.FieldTraceID:   "s.trace_id",
	query.FieldElapsedMS: "(s.end_ns - s.start_ns)",
	query.FieldStartTime: "s.start_ns",
	OrderEndTime:         "s.end_ns",
}

// orderRef resolves an order-by field (see query.OrderRef). Every
// built-in field it accepts has a column here.
func orderRef(field string) (query.Ref, error) {
	ref, err := query.OrderRef(field)
	if err != nil {
		return ref, fmt.Errorf("sqlitesink: %w", err)
	}
	if _, ok := orderColumns[ref.Name]; ref.Source == query.SourceBuiltin && !ok {
		return ref, fmt.Errorf("sqlitesink: no column to order by %q", field)
	}
	return ref, nil
}

// orderBy adds the ORDER BY clause for field, ties broken by the order
// spans were written in, reversed with desc: an index on the field then
// gives the order whichever the direction.
func (b *builder) orderBy(ref query.Ref, desc bool) {
	b.add(" ORDER BY ")
	switch ref.Source {
	case query.SourceBuiltin:
		b.add(orderColumns[ref.Name])
	case query.SourceFinding:
		b.add(valueFunc+"(s.findings, ?)", ref.Name)
	case query.SourceAttr:
		b.add(valueFunc+"(s.attrs, ?)", ref.Name)
	}
	if desc {
		b.add(" DESC, s.id DESC")
		return
	}
	b.add(", s.id")
}

// limit adds LIMIT and OFFSET; a limit of 0 is none.
func (b *builder) limit(limit, offset int) error {
	if limit < 0 || offset < 0 {
		return fmt.Errorf("sqlitesink: negative limit %d or offset %d", limit, offset)
	}
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	b.add(" LIMIT ? OFFSET ?", limit, offset)
	return nil
}
