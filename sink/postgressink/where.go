package postgressink

import (
	"fmt"
	"math"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// Every value a caller gives reaches SQL as a bound parameter; the SQL text
// is assembled only from the constants in this file, chosen by
// whitelisted names (operators, built-in fields, order-by fields).

// sqlOps are the SQL operators of the comparison filter operators.
var sqlOps = map[query.Op]string{
	query.OpEq: "=",
	query.OpNe: "<>",
	query.OpGt: ">",
	query.OpGe: ">=",
	query.OpLt: "<",
	query.OpLe: "<=",
}

// relaxedOps are, for an integer comparison, the comparison of the
// integers as float64 that it implies: float64 conversion keeps order but
// may merge neighbours.
var relaxedOps = map[query.Op]string{
	query.OpEq: "=",
	query.OpGt: ">=",
	query.OpGe: ">=",
	query.OpLt: "<=",
	query.OpLe: "<=",
}

// orderColumns are the SQL expressions of the built-in order-by fields.
// elapsed_ms orders by the exact difference of the times, as
// query.CompareOrder does.
var orderColumns = map[string]string{
	query.FieldName:      "s.name",
	query.FieldStage:     "s.stage",
	query.FieldRunID:     "s.run_id",
	query.FieldStatus:    "s.status",
	query.FieldKind:      "s.kind",
	query.FieldScope:     "s.scope",
	query.FieldTraceID:   "s.trace_id",
	query.FieldElapsedMS: "(s.end_ns::numeric - s.start_ns)",
	query.FieldStartTime: "s.start_ns",
	query.OrderEndTime:   "s.end_ns",
}

// builder assembles a statement and its arguments, numbering the
// placeholders.
type builder struct {
	strings.Builder
	args []any
}

// arg adds a bound value and returns its placeholder.
func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// splitFilters separates the filters SQL evaluates from those Go
// evaluates (query.Match) on the candidates SQL selects: the regular
// expression ones, since PostgreSQL's expressions are not RE2, and those
// on an attribute key the database does not index, which only the span's
// record holds.
func splitFilters(filters []query.Filter, indexed indexedSet) (inSQL, inGo []query.Filter) {
	for _, f := range filters {
		if f.Op.IsMatch() || !inIndex(f, indexed) {
			inGo = append(inGo, f)
		} else {
			inSQL = append(inSQL, f)
		}
	}
	return inSQL, inGo
}

// inIndex reports whether the values f reads are in span_values (or
// spans): it is on a built-in field, a finding or an indexed attribute.
func inIndex(f query.Filter, indexed indexedSet) bool {
	ref, err := f.Ref()
	return err != nil || ref.Source != query.SourceAttr || indexed.has(ref.Name)
}

// prefilter adds, for each filter that Go checks, a condition every span
// it matches meets, so that PostgreSQL sends only the candidates. For a
// regular expression (~) on a field SQL reads: the field exists as a
// string, and starts with or holds the literal text the pattern requires.
// For a filter on an attribute that is not indexed, which only matches
// spans that have the attribute: the span's record holds the value (as
// the JSON string it is written as) or the text the pattern requires, or
// else the key, when these are written as they are (recordText).
func (b *builder) prefilter(filters []query.Filter, indexed indexedSet) {
	for _, f := range filters {
		ref, err := f.Ref()
		if err != nil {
			continue
		}
		if !inIndex(f, indexed) {
			b.recordPrefilter(f, ref)
			continue
		}
		if f.Op != query.OpMatch {
			continue
		}
		prefix, lit := requiredText(f.Value.AsString())
		cond := func(col string) string {
			switch {
			case prefix != "":
				return " AND starts_with(" + col + ", " + b.arg(prefix) + ")"
			case lit != "":
				return " AND strpos(" + col + ", " + b.arg(lit) + ") > 0"
			}
			return ""
		}
		switch ref.Source {
		case query.SourceBuiltin:
			col, ok := sqlfields.StringColumns[ref.Name]
			if !ok {
				continue
			}
			if c := cond(col); c != "" {
				b.WriteString(c)
			}
		default:
			source := sqlfields.SourceOf(ref.Source)
			k := b.arg(text(ref.Name))
			b.WriteString(" AND EXISTS (SELECT 1 FROM span_values v WHERE v.source = " + b.arg(int16(source)) +
				" AND v.span_id = s.id AND md5(v.key) = md5(" + k + ") AND v.key = " + k + " AND v.type = 2" + cond("v.str") + ")")
		}
	}
}

// recordPrefilter adds the condition on the record of prefilter for f, a
// filter on the attribute ref that is not indexed.
func (b *builder) recordPrefilter(f query.Filter, ref query.Ref) {
	var need string
	switch {
	case f.Op == query.OpEq && f.Value.Kind() == stagetrace.KindString && recordText(f.Value.AsString()):
		need = `"` + f.Value.AsString() + `"`
	case f.Op == query.OpMatch:
		if prefix, lit := requiredText(f.Value.AsString()); prefix != "" && recordText(prefix) {
			need = `"` + prefix
		} else if lit != "" && recordText(lit) {
			need = lit
		}
	}
	if need == "" && recordText(ref.Name) {
		need = `"` + ref.Name + `"`
	}
	if need != "" {
		b.WriteString(" AND position(" + b.arg([]byte(need)) + "::bytea IN s.record) > 0")
	}
}

// recordText reports whether a span's record holds s as it is wherever s
// is a JSON string or a part of one: s is printable ASCII that JSON does
// not escape (stagetrace's encoder escapes only '"', '\' and control
// characters in ASCII).
func recordText(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// requiredText returns the literal text every match of the RE2 pattern
// starts with (for a pattern anchored at the start of the text), or else
// some literal text every match holds; "" when there is none that is
// simple to tell, or that a text column would not hold as it is.
func requiredText(pattern string) (prefix, lit string) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", ""
	}
	re = re.Simplify()
	literal := func(r *syntax.Regexp) string {
		if r.Op != syntax.OpLiteral || r.Flags&syntax.FoldCase != 0 {
			return ""
		}
		if s := string(r.Rune); text(s) == s {
			return s
		}
		return ""
	}
	if l := literal(re); l != "" {
		return "", l
	}
	if re.Op != syntax.OpConcat {
		return "", ""
	}
	if len(re.Sub) > 1 && re.Sub[0].Op == syntax.OpBeginText {
		if p := literal(re.Sub[1]); p != "" {
			return p, ""
		}
	}
	for _, sub := range re.Sub {
		if l := literal(sub); len(l) > len(lit) {
			lit = l
		}
	}
	return "", lit
}

// where adds " AND (condition)" for every filter, which must be valid and
// not regular expressions.
func (b *builder) where(filters []query.Filter) error {
	for i, f := range filters {
		b.WriteString(" AND (")
		if err := b.filter(f); err != nil {
			return fmt.Errorf("postgressink: filter %d (%s): %w", i+1, f.String(), err)
		}
		b.WriteString(")")
	}
	return nil
}

func (b *builder) filter(f query.Filter) error {
	if err := f.Validate(); err != nil {
		return err
	}
	ref, _ := f.Ref()
	if ref.Source == query.SourceBuiltin {
		return b.builtin(ref.Name, f)
	}
	source := sqlfields.SourceOf(ref.Source)
	k := b.arg(text(ref.Name))
	b.WriteString("EXISTS (SELECT 1 FROM span_values v WHERE v.span_id = s.id AND v.source = " + b.arg(int16(source)) +
		" AND md5(v.key) = md5(" + k + ") AND v.key = " + k)
	if f.Op != query.OpExists {
		b.WriteString(" AND ")
		b.valueCond(f.Op, f.Value)
	}
	b.WriteString(")")
	return nil
}

// valueCond is query.Compare in SQL: int64 against int64 exactly, other
// numbers as float64, strings bytewise, booleans as 0 and 1; values of
// different types never match.
func (b *builder) valueCond(op query.Op, w stagetrace.Value) {
	sop := sqlOps[op]
	switch w.Kind() {
	case stagetrace.KindInt64:
		// Integers compare exactly; the condition on num before it, which
		// float64's rounding makes necessary but not sufficient, lets the
		// index on num find the candidates.
		wf := b.arg(float64(w.AsInt64()))
		if rop, ok := relaxedOps[op]; ok {
			b.WriteString("v.num " + rop + " " + wf + " AND ")
		}
		b.WriteString("v.type = 1 AND CASE WHEN v.i IS NOT NULL THEN v.i " + sop + " " + b.arg(w.AsInt64()) +
			" ELSE v.num " + sop + " " + wf + " END")
	case stagetrace.KindFloat64:
		if math.IsNaN(w.AsFloat64()) {
			b.WriteString("false")
			return
		}
		b.WriteString("v.type = 1 AND v.num " + sop + " " + b.arg(w.AsFloat64()))
	case stagetrace.KindString:
		x := b.arg(text(w.AsString()))
		if op == query.OpEq {
			b.WriteString("v.type = 2 AND md5(v.str) = md5(" + x + ") AND v.str = " + x)
			return
		}
		b.WriteString("v.type = 2 AND v.str " + sop + " " + x)
	case stagetrace.KindBool:
		i := int64(0)
		if w.AsBool() {
			i = 1
		}
		b.WriteString("v.type = 3 AND v.i " + sop + " " + b.arg(i))
	default:
		b.WriteString("false")
	}
}

func (b *builder) builtin(name string, f query.Filter) error {
	typ, _ := query.Builtin(name)
	if f.Op == query.OpExists {
		if sqlfields.OptionalColumns[name] {
			b.WriteString(sqlfields.StringColumns[name] + " <> ''")
		} else {
			b.WriteString("true")
		}
		return nil
	}
	switch typ {
	case query.TypeString:
		col := sqlfields.StringColumns[name]
		if sqlfields.OptionalColumns[name] {
			b.WriteString(col + " <> '' AND ")
		}
		b.WriteString(col + " " + sqlOps[f.Op] + " " + b.arg(text(f.Value.AsString())))
	case query.TypeEnum:
		var codes []int16
		for _, code := range sqlfields.EnumCodes(name, f) {
			codes = append(codes, int16(code))
		}
		b.WriteString(sqlfields.EnumColumns[name] + " = ANY(" + b.arg(codes) + "::smallint[])")
	case query.TypeID:
		if f.Op == query.OpEq || f.Op == query.OpNe {
			id, _ := query.ParseTraceID(f.Value.AsString())
			b.WriteString("s.trace_id " + sqlOps[f.Op] + " " + b.arg(id[:]))
		} else {
			// Lowercase hex sorts as the bytes do.
			b.WriteString("encode(s.trace_id, 'hex') COLLATE \"C\" " + sqlOps[f.Op] + " " + b.arg(text(f.Value.AsString())))
		}
	case query.TypeNumber:
		w, _ := f.Value.Number()
		b.WriteString("s.elapsed_ms " + sqlOps[f.Op] + " " + b.arg(w))
	case query.TypeTime:
		t, _ := query.TimeOf(f.Value)
		b.WriteString("s.start_ns " + sqlOps[f.Op] + " " + b.arg(t.UnixNano()))
	default:
		return fmt.Errorf("no SQL for built-in field %q", name)
	}
	return nil
}

// orderJoin returns the join that reads the value ref orders by, as o:
// "" for a built-in field. A span has at most one row per key (the
// first, as Attrs.Get finds it: see appendValues), so the join keeps one
// row per span.
func (b *builder) orderJoin(ref query.Ref) string {
	if ref.Source == query.SourceBuiltin {
		return ""
	}
	source := sqlfields.SourceOf(ref.Source)
	k := b.arg(text(ref.Name))
	return " LEFT JOIN span_values o ON o.span_id = s.id AND o.source = " + b.arg(int16(source)) +
		" AND md5(o.key) = md5(" + k + ") AND o.key = " + k
}

// orderBy adds the ORDER BY clause of ref (see query.CompareOrder), ties
// broken by the order spans were written in, all reversed with desc; the
// zero Ref orders by writing alone. An attribute or finding (joined by
// orderJoin) sorts as: none first, then numbers, then strings.
func (b *builder) orderBy(ref query.Ref, desc bool) {
	dir := ""
	if desc {
		dir = " DESC"
	}
	b.WriteString(" ORDER BY ")
	switch {
	case ref.Source == query.SourceBuiltin && ref.Name == "":
		b.WriteString("s.id" + dir) // the order of writing alone
		return
	case ref.Source == query.SourceBuiltin:
		b.WriteString(orderColumns[ref.Name] + dir)
	default:
		b.WriteString("CASE WHEN o.type IS NULL OR o.type = 0 THEN 0 WHEN o.type = 2 THEN 2 ELSE 1 END" + dir +
			", o.num" + dir + ", o.str" + dir)
	}
	b.WriteString(", s.id" + dir)
}

// limit adds LIMIT and OFFSET; a limit of 0 is none.
func (b *builder) limit(limit, offset int) {
	if limit > 0 {
		b.WriteString(" LIMIT " + b.arg(int64(limit)))
	}
	if offset > 0 {
		b.WriteString(" OFFSET " + b.arg(int64(offset)))
	}
}
