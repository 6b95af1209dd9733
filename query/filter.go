// Package query is the filter language shared by the SQLite store
// (package sink/sqlitesink) and the stagetrace command: conditions on a
// span's findings, attributes and built-in fields, joined by "and".
//
//	finding.input_tokens>500 and stage=inference and name~"^chat" and finding.score exists
//
// A field is finding.<name> (a finding), attr.<key> (an attribute), a
// built-in field (name, stage, run_id, status, kind, scope, trace_id,
// elapsed_ms, start_time) or any other key, which names an attribute:
// gen_ai.usage.input_tokens>100 compares that attribute. A dotted key is
// just a key; it is never taken apart.
//
// Numbers compare as numbers (1000 > 99), strings as strings (byte order),
// booleans only with = and !=. A value of one type never matches a filter
// value of another: the string "1000" is not the number 1000. A comparison
// on a key the span lacks does not match, whatever the operator, != too.
// ~ (also written =~) matches a Go RE2 regular expression anywhere in the
// value (anchor it with ^ and $), !~ holds for a string value it does not
// match. exists matches when the span has the key.
//
// The same operators ([Op]) compare the monitor's alert thresholds and the
// metric label matchers.
//
// A [Reader] answers span, run and metric queries. The store compiles them
// to SQL; package query/memquery answers them from records in memory, and
// [Filter.Match] evaluates filters in Go, with the same results.
package query

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// Op is a comparison operator: of a filter, of an alert rule's threshold,
// of a metric label matcher. Its value is its spelling in the filter
// language.
type Op string

// Comparison operators.
const (
	OpEq       Op = "="
	OpNe       Op = "!="
	OpGt       Op = ">"
	OpGe       Op = ">="
	OpLt       Op = "<"
	OpLe       Op = "<="
	OpMatch    Op = "~"      // Go RE2 regular expression, unanchored; also spelled =~
	OpNotMatch Op = "!~"     // a string the regular expression does not match
	OpExists   Op = "exists" // the span has the field; the filter has no value
)

// opMatchAlias is the PromQL spelling of OpMatch, accepted wherever an
// operator is read.
const opMatchAlias = "=~"

// ParseOp returns the operator spelled s: = != > >= < <= ~ =~ !~ or
// exists.
func ParseOp(s string) (Op, bool) {
	if s == opMatchAlias {
		return OpMatch, true
	}
	op := Op(s)
	return op, op.valid()
}

// IsOrdering reports whether op is one of > >= < <=.
func (op Op) IsOrdering() bool { return op == OpGt || op == OpGe || op == OpLt || op == OpLe }

// IsMatch reports whether op is ~ or !~.
func (op Op) IsMatch() bool { return op == OpMatch || op == OpNotMatch }

// Holds reports whether a comparison whose result is c (negative, zero or
// positive, as cmp.Compare returns) satisfies op. It is false for ~, !~
// and exists.
func (op Op) Holds(c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	}
	return false
}

// HoldsFloat reports whether v op t holds; nothing holds for NaN.
func (op Op) HoldsFloat(v, t float64) bool {
	if math.IsNaN(v) || math.IsNaN(t) {
		return false
	}
	return op.Holds(cmp.Compare(v, t))
}

func (op Op) valid() bool {
	switch op {
	case OpEq, OpNe, OpGt, OpGe, OpLt, OpLe, OpMatch, OpNotMatch, OpExists:
		return true
	}
	return false
}

// Source says where the value a field names is found.
type Source uint8

// Sources of field values.
const (
	SourceAttr    Source = iota // a span attribute
	SourceFinding               // a finding
	SourceBuiltin               // a field of every span (name, stage, ...)
)

// String returns "attr", "finding" or "builtin".
func (s Source) String() string {
	switch s {
	case SourceAttr:
		return "attr"
	case SourceFinding:
		return "finding"
	case SourceBuiltin:
		return "builtin"
	}
	return fmt.Sprintf("Source(%d)", uint8(s))
}

// AttrPrefix starts a field that names an attribute explicitly, so that an
// attribute whose key is also a built-in field ("attr.name") can be named.
const AttrPrefix = "attr."

// Built-in fields: the fields every span has.
const (
	FieldName      = "name"       // span name
	FieldStage     = "stage"      // run.stage; exists only when the span has one
	FieldRunID     = "run_id"     // run.id
	FieldStatus    = "status"     // unset, ok or error
	FieldKind      = "kind"       // internal, server, client, producer, consumer or unspecified
	FieldScope     = "scope"      // instrumentation scope; exists only when known
	FieldTraceID   = "trace_id"   // 32 hex digits
	FieldElapsedMS = "elapsed_ms" // duration in milliseconds
	FieldStartTime = "start_time" // unix seconds, or an RFC 3339 string
)

// FieldType is the type of a built-in field's values.
type FieldType uint8

// Types of built-in fields. The first three take strings only.
const (
	TypeString FieldType = iota // compares as a string
	TypeEnum                    // one of a fixed set of names: =, !=, ~ and exists only
	TypeID                      // hex identifier: =, !=, ~ and exists only
	TypeNumber                  // compares as a number
	TypeTime                    // a point in time
)

var builtins = map[string]FieldType{
	FieldName:      TypeString,
	FieldStage:     TypeString,
	FieldRunID:     TypeString,
	FieldStatus:    TypeEnum,
	FieldKind:      TypeEnum,
	FieldScope:     TypeString,
	FieldTraceID:   TypeID,
	FieldElapsedMS: TypeNumber,
	FieldStartTime: TypeTime,
}

// Builtin reports whether name is a built-in field, and its type.
func Builtin(name string) (FieldType, bool) {
	t, ok := builtins[name]
	return t, ok
}

// Ref is what a filter field refers to.
type Ref struct {
	Source Source
	Name   string // attribute key, finding name or built-in field
}

// ParseField resolves a field: finding.<name>, attr.<key>, a built-in field
// or, for anything else, an attribute key.
func ParseField(field string) (Ref, error) {
	switch {
	case field == "":
		return Ref{}, errors.New("empty field")
	case strings.HasPrefix(field, attributes.FindingPrefix):
		name := field[len(attributes.FindingPrefix):]
		if name == "" {
			return Ref{}, fmt.Errorf("field %q names no finding", field)
		}
		return Ref{Source: SourceFinding, Name: name}, nil
	case strings.HasPrefix(field, AttrPrefix):
		key := field[len(AttrPrefix):]
		if key == "" {
			return Ref{}, fmt.Errorf("field %q names no attribute", field)
		}
		return Ref{Source: SourceAttr, Name: key}, nil
	}
	if _, ok := builtins[field]; ok {
		return Ref{Source: SourceBuiltin, Name: field}, nil
	}
	return Ref{Source: SourceAttr, Name: field}, nil
}

// Filter is one condition on a span: Field Op Value. Value is empty for
// OpExists and a bool, int64, float64 or string Value otherwise.
type Filter struct {
	Field string
	Op    Op
	Value stagetrace.Value
}

// Ref resolves the filter's field; see ParseField.
func (f Filter) Ref() (Ref, error) { return ParseField(f.Field) }

// Validate reports whether the filter can be evaluated: a known operator, a
// field naming something, a value of a type the operator and the field
// accept, a regular expression that compiles.
func (f Filter) Validate() error {
	_, err := f.check()
	return err
}

// check validates f and returns its resolved field. Its errors do not name
// the filter; Validate and Parse add that context.
func (f Filter) check() (Ref, error) {
	ref, err := ParseField(f.Field)
	if err != nil {
		return ref, err
	}
	if !f.Op.valid() {
		return ref, fmt.Errorf("unknown operator %q", string(f.Op))
	}
	// A built-in field's own rules come first: "operator ~ does not apply
	// to elapsed_ms" says more than "~ needs a string".
	if ref.Source == SourceBuiltin {
		if err := checkBuiltin(ref.Name, f.Op, f.Value); err != nil {
			return ref, err
		}
	}
	return ref, checkValue(f.Op, f.Value)
}

func checkValue(op Op, v stagetrace.Value) error {
	if op == OpExists {
		if v.Kind() != stagetrace.KindEmpty {
			return errors.New("exists takes no value")
		}
		return nil
	}
	switch v.Kind() {
	case stagetrace.KindString, stagetrace.KindInt64:
	case stagetrace.KindFloat64:
		if math.IsNaN(v.AsFloat64()) {
			return errors.New("NaN compares with nothing")
		}
	case stagetrace.KindBool:
		if op != OpEq && op != OpNe {
			return &opError{fmt.Sprintf("operator %s needs a number or a string, not %s", op, v.Kind())}
		}
	case stagetrace.KindEmpty:
		return fmt.Errorf("operator %s needs a value", op)
	default:
		return fmt.Errorf("a %s value cannot be compared: use a number, a string, true or false", v.Kind())
	}
	if op.IsMatch() {
		if v.Kind() != stagetrace.KindString {
			return fmt.Errorf("%s needs a regular expression in a string", op)
		}
		if _, err := Regexp(v.AsString()); err != nil {
			return err
		}
	}
	return nil
}

func checkBuiltin(name string, op Op, v stagetrace.Value) error {
	return checkTyped(name, builtins[name], op, v)
}

// checkTyped checks a filter on the built-in field name of type t.
func checkTyped(name string, t FieldType, op Op, v stagetrace.Value) error {
	if op == OpExists {
		return nil
	}
	switch t {
	case TypeString:
		if v.Kind() != stagetrace.KindString {
			return fmt.Errorf("%s compares with strings, not %s", name, v.Kind())
		}
	case TypeEnum:
		if op.IsOrdering() {
			return &opError{fmt.Sprintf("operator %s does not apply to %s: use =, !=, ~, !~ or exists", op, name)}
		}
		if v.Kind() != stagetrace.KindString {
			return fmt.Errorf("%s compares with strings, not %s", name, v.Kind())
		}
		if op.IsMatch() {
			return nil
		}
		if _, ok := EnumValue(name, v.AsString()); !ok {
			return fmt.Errorf("unknown %s %q: want one of %s", name, v.AsString(), strings.Join(EnumNames(name), ", "))
		}
	case TypeID:
		if op.IsOrdering() {
			return &opError{fmt.Sprintf("operator %s does not apply to %s: use =, !=, ~, !~ or exists", op, name)}
		}
		if v.Kind() != stagetrace.KindString {
			return fmt.Errorf("%s compares with strings, not %s", name, v.Kind())
		}
		if !op.IsMatch() {
			if _, err := ParseTraceID(v.AsString()); err != nil {
				return err
			}
		}
	case TypeNumber:
		if op.IsMatch() {
			return &opError{fmt.Sprintf("operator %s does not apply to %s", op, name)}
		}
		if _, ok := v.Number(); !ok {
			return fmt.Errorf("%s compares with numbers, not %s", name, v.Kind())
		}
	case TypeTime:
		if op.IsMatch() {
			return &opError{fmt.Sprintf("operator %s does not apply to %s", op, name)}
		}
		if _, err := TimeOf(v); err != nil {
			return err
		}
	}
	return nil
}

// EnumNames returns the names a built-in enum field (status, kind) takes,
// in the order of their numeric codes.
func EnumNames(field string) []string {
	var names []string
	switch field {
	case FieldStatus:
		for c := stagetrace.StatusUnset; c <= stagetrace.StatusError; c++ {
			names = append(names, c.String())
		}
	case FieldKind:
		for k := stagetrace.SpanKindUnspecified; k <= stagetrace.SpanKindConsumer; k++ {
			names = append(names, k.String())
		}
	}
	return names
}

// EnumValue returns the numeric code of name for a built-in enum field:
// a stagetrace.StatusCode for status, a stagetrace.SpanKind for kind.
func EnumValue(field, name string) (int, bool) {
	switch field {
	case FieldStatus:
		c, ok := stagetrace.ParseStatusCode(name)
		return int(c), ok
	case FieldKind:
		k, ok := stagetrace.ParseSpanKind(name)
		return int(k), ok
	}
	return 0, false
}

// ParseTraceID parses 32 hex digits, in either case.
func ParseTraceID(s string) (stagetrace.TraceID, error) {
	var id stagetrace.TraceID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("trace_id %q is not 32 hex digits", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("trace_id %q is not 32 hex digits", s)
	}
	return id, nil
}

// maxUnixSeconds bounds start_time values to times whose Unix nanoseconds
// fit in an int64 (years 1678 to 2262), the form the store compares.
const maxUnixSeconds = 9e9

// TimeOf returns the time a start_time filter value stands for: a number
// of seconds since the Unix epoch, or an RFC 3339 string.
func TimeOf(v stagetrace.Value) (time.Time, error) {
	switch v.Kind() {
	case stagetrace.KindString:
		t, err := time.Parse(time.RFC3339Nano, v.AsString())
		if err != nil {
			return time.Time{}, fmt.Errorf("start_time %q is not an RFC 3339 time like 2006-01-02T15:04:05Z", v.AsString())
		}
		if s := t.Unix(); s < -maxUnixSeconds || s > maxUnixSeconds {
			return time.Time{}, fmt.Errorf("start_time %q is out of range", v.AsString())
		}
		return t, nil
	case stagetrace.KindInt64:
		if s := v.AsInt64(); s >= -maxUnixSeconds && s <= maxUnixSeconds {
			return time.Unix(s, 0), nil
		}
		return time.Time{}, fmt.Errorf("start_time %d is out of range", v.AsInt64())
	case stagetrace.KindFloat64:
		f := v.AsFloat64()
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxUnixSeconds {
			return time.Time{}, fmt.Errorf("start_time %v is out of range", f)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))), nil
	}
	return time.Time{}, fmt.Errorf("start_time compares with unix seconds or an RFC 3339 string, not %s", v.Kind())
}

// String returns the filter in the filter language, such that Parse reads
// it back as the same filter.
func (f Filter) String() string {
	var b strings.Builder
	writeField(&b, f.Field)
	if f.Op == OpExists {
		b.WriteString(" exists")
		return b.String()
	}
	b.WriteString(string(f.Op))
	writeValue(&b, f.Value)
	return b.String()
}

// Format returns filters in the filter language, joined by " and ".
func Format(filters []Filter) string {
	parts := make([]string, len(filters))
	for i, f := range filters {
		parts[i] = f.String()
	}
	return strings.Join(parts, " and ")
}

// MaxConditions is the most filters (conditions joined by "and") one query
// holds. Parse refuses more at the first condition past the limit, and
// ValidateAll refuses more built in code: a store compiles the conditions
// into one expression, and SQLite gives up on expressions nested past 1000
// levels (runs reach it near 490 conditions), so the limit leaves room to
// spare for every executor.
const MaxConditions = 256

// ValidateAll validates every filter; the error names the first bad one.
// More than MaxConditions filters are an error too.
func ValidateAll(filters []Filter) error {
	if len(filters) > MaxConditions {
		return fmt.Errorf("%d conditions: a filter holds at most %d", len(filters), MaxConditions)
	}
	for i, f := range filters {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("filter %d (%s): %w", i+1, f.String(), err)
		}
	}
	return nil
}
