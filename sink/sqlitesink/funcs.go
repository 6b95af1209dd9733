package sqlitesink

import (
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"modernc.org/sqlite"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// SQL functions the store's queries call. They are registered with the
// driver for every connection of the process; the prefix keeps them apart
// from anyone else's.
const (
	// stagetrace_regexp(pattern, text) is 1 when the Go RE2 pattern
	// matches somewhere in text, 0 otherwise and for a text that is not
	// TEXT. SQLite has no REGEXP of its own, and LIKE is not one.
	regexpFunc = "stagetrace_regexp"
	// stagetrace_value(column, key) is the scalar value of key in an
	// attrs or findings column: INTEGER or REAL for numbers, TEXT for
	// strings, 0 or 1 for booleans, NULL when absent, NaN or not scalar.
	// Ordering by a finding uses it.
	valueFunc = "stagetrace_value"
	// stagetrace_match(column, key, op, kind, value) is 1 when the
	// attribute key of an attrs column satisfies the filter op value, as
	// query.Filter.Match decides, else 0. It answers a filter on an
	// attribute the store does not index (see WithIndexedAttrs). The value
	// comes as filterArgs gives it.
	matchFunc = "stagetrace_match"
	// stagetrace_points(time, value) is an aggregate: the (INTEGER, REAL)
	// pairs of its rows packed into one blob, 16 bytes little endian each
	// (see unpackPoints), so that a metric query hands hundreds of
	// thousands of points over in one row instead of one row each.
	pointsFunc = "stagetrace_points"
	// stagetrace_merge_partials(a, b) is the query.Partial of the points
	// of the partials a and b (their AppendBinary encodings): a write
	// merges its batch's minutes into metric_minutes with it.
	mergePartialsFunc = "stagetrace_merge_partials"
	// stagetrace_partials(time, partial) is an aggregate: the (INTEGER,
	// BLOB) pairs of its rows packed into one blob (see unpackPartials),
	// as stagetrace_points packs points.
	packPartialsFunc = "stagetrace_partials"
)

// funcErr is why the functions could not be registered (another package
// took the names); queries needing them return it.
var funcErr error

func init() {
	funcErr = errors.Join(
		sqlite.RegisterDeterministicScalarFunction(regexpFunc, 2, regexpSQL),
		// These two read a whole attrs column per row and keep nothing of
		// their arguments (decoded strings are copies; matchSQL clones what
		// a cache may keep), so the column is read in place, not copied.
		sqlite.RegisterFunction(valueFunc, &sqlite.FunctionImpl{NArgs: 2, Deterministic: true, VolatileArgs: true, Scalar: valueSQL}),
		sqlite.RegisterFunction(matchFunc, &sqlite.FunctionImpl{NArgs: 5, Deterministic: true, VolatileArgs: true, Scalar: matchSQL}),
		sqlite.RegisterFunction(pointsFunc, &sqlite.FunctionImpl{NArgs: 2, Deterministic: true,
			MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) {
				return &packedPoints{packedRows{fn: pointsFunc}}, nil
			}}),
		sqlite.RegisterFunction(packPartialsFunc, &sqlite.FunctionImpl{NArgs: 2, Deterministic: true, VolatileArgs: true,
			MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) {
				return &packedPartials{packedRows{fn: packPartialsFunc}}, nil
			}}),
		// Not deterministic: its rows go to whichever collector the handle
		// names when it runs.
		sqlite.RegisterFunction(collectFunc, &sqlite.FunctionImpl{NArgs: -1, VolatileArgs: true,
			MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &collecting{}, nil }}),
		// Decoding copies what it keeps.
		sqlite.RegisterFunction(mergePartialsFunc, &sqlite.FunctionImpl{NArgs: 2, Deterministic: true, VolatileArgs: true, Scalar: mergePartialsSQL}),
	)
	if funcErr != nil {
		funcErr = fmt.Errorf("sqlitesink: registering SQL functions: %w", funcErr)
	}
}

func regexpSQL(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	pattern, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("%s: pattern is %T, not text", regexpFunc, args[0])
	}
	text, ok := args[1].(string)
	if !ok {
		return int64(0), nil
	}
	re, err := query.Regexp(pattern)
	if err != nil {
		return nil, err
	}
	if re.MatchString(text) {
		return int64(1), nil
	}
	return int64(0), nil
}

func valueSQL(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	blob, _ := args[0].([]byte)
	key, ok := args[1].(string)
	if !ok || len(blob) == 0 {
		return nil, nil
	}
	attrs, err := decodeAttrs(blob)
	if err != nil {
		return nil, err
	}
	v, ok := attrs.Get(key)
	if !ok {
		return nil, nil
	}
	return sortValue(v), nil
}

// sortValue is the value stagetrace_value returns for v: what an ORDER BY
// on it compares. SelectSpans orders by the same.
func sortValue(v stagetrace.Value) driver.Value {
	switch v.Kind() {
	case stagetrace.KindInt64:
		return v.AsInt64()
	case stagetrace.KindFloat64:
		if f := v.AsFloat64(); !math.IsNaN(f) {
			return f
		}
	case stagetrace.KindString:
		return v.AsString()
	case stagetrace.KindBool:
		if v.AsBool() {
			return int64(1)
		}
		return int64(0)
	}
	return nil
}

// filterArgs returns the op, kind and value arguments of stagetrace_match
// for f. A float goes as its bits, so that NaN (which SQLite would make
// NULL) and the difference between 5 and 5.0 survive the trip.
func filterArgs(f query.Filter) []any {
	v := f.Value
	var val any
	switch v.Kind() {
	case stagetrace.KindInt64:
		val = v.AsInt64()
	case stagetrace.KindFloat64:
		val = int64(math.Float64bits(v.AsFloat64()))
	case stagetrace.KindString:
		val = v.AsString()
	case stagetrace.KindBool:
		val = int64(0)
		if v.AsBool() {
			val = int64(1)
		}
	default:
		val = int64(0)
	}
	return []any{string(f.Op), int64(v.Kind()), val}
}

// filterOf rebuilds the filter on attribute key that filterArgs wrote.
func filterOf(key string, args []driver.Value) (query.Filter, error) {
	op, ok1 := args[0].(string)
	kind, ok2 := args[1].(int64)
	if !ok1 || !ok2 {
		return query.Filter{}, fmt.Errorf("%s: bad operator or kind", matchFunc)
	}
	// The arguments are SQLite's memory, reused for the next row: the
	// operator and a string value are cloned, since matching may cache
	// them (compiled regular expressions are kept by pattern).
	f := query.Filter{Field: query.AttrPrefix + key, Op: query.Op(strings.Clone(op))}
	switch stagetrace.Kind(kind) {
	case stagetrace.KindEmpty:
	case stagetrace.KindInt64:
		n, _ := args[2].(int64)
		f.Value = stagetrace.Int64Value(n)
	case stagetrace.KindFloat64:
		n, _ := args[2].(int64)
		f.Value = stagetrace.Float64Value(math.Float64frombits(uint64(n)))
	case stagetrace.KindString:
		s, _ := args[2].(string)
		f.Value = stagetrace.StringValue(strings.Clone(s))
	case stagetrace.KindBool:
		n, _ := args[2].(int64)
		f.Value = stagetrace.BoolValue(n != 0)
	default:
		return query.Filter{}, fmt.Errorf("%s: bad kind %d", matchFunc, kind)
	}
	return f, nil
}

func matchSQL(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	blob, _ := args[0].([]byte)
	key, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("%s: key is %T, not text", matchFunc, args[1])
	}
	v, found, err := lookupAttr(blob, key)
	if err != nil {
		return nil, err
	}
	if !found {
		return int64(0), nil
	}
	f, err := filterOf(key, args[2:])
	if err != nil {
		return nil, err
	}
	span := stagetrace.StageSpan{Attrs: stagetrace.Attrs{{Key: key, Value: v}}}
	if f.Match(&span) {
		return int64(1), nil
	}
	return int64(0), nil
}

func mergePartialsSQL(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	a, okA := args[0].([]byte)
	b, okB := args[1].([]byte)
	if !okA || !okB {
		return nil, fmt.Errorf("%s: arguments are %T and %T, not blobs", mergePartialsFunc, args[0], args[1])
	}
	pa, err := query.UnmarshalPartial(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mergePartialsFunc, err)
	}
	pb, err := query.UnmarshalPartial(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mergePartialsFunc, err)
	}
	pa.Merge(&pb)
	return pa.AppendBinary(nil)
}

// packedRows is an evaluation of an aggregate that packs its rows into
// one blob, b; fn names the function.
type packedRows struct {
	fn string
	b  []byte
}

func (p *packedRows) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return fmt.Errorf("%s is not a window function", p.fn)
}

func (p *packedRows) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if p.b == nil {
		return []byte{}, nil
	}
	return p.b, nil
}

func (p *packedRows) Final(*sqlite.FunctionContext) {}

// packedPoints is one evaluation of stagetrace_points.
type packedPoints struct{ packedRows }

func (p *packedPoints) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	ns, ok := args[0].(int64)
	if !ok {
		return fmt.Errorf("%s: time is %T, not an integer", pointsFunc, args[0])
	}
	var v float64
	switch x := args[1].(type) {
	case float64:
		v = x
	case int64:
		v = float64(x)
	default:
		return fmt.Errorf("%s: value is %T, not a number", pointsFunc, args[1])
	}
	p.b = binary.LittleEndian.AppendUint64(p.b, uint64(ns))
	p.b = binary.LittleEndian.AppendUint64(p.b, math.Float64bits(v))
	return nil
}

// unpackPoints calls fn with each (time, value) pair stagetrace_points
// packed.
func unpackPoints(b []byte, fn func(ns int64, value float64) error) error {
	if len(b)%16 != 0 {
		return fmt.Errorf("%s: %d bytes is not a whole number of points", pointsFunc, len(b))
	}
	for ; len(b) > 0; b = b[16:] {
		if err := fn(int64(binary.LittleEndian.Uint64(b)), math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))); err != nil {
			return err
		}
	}
	return nil
}

// packedPartials is one evaluation of stagetrace_partials: per row, the
// time (8 bytes little endian), the partial's length (uvarint) and the
// partial. The partial is copied into the blob, as VolatileArgs wants.
type packedPartials struct{ packedRows }

func (p *packedPartials) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	ns, ok := args[0].(int64)
	if !ok {
		return fmt.Errorf("%s: time is %T, not an integer", packPartialsFunc, args[0])
	}
	partial, ok := args[1].([]byte)
	if !ok {
		return fmt.Errorf("%s: partial is %T, not a blob", packPartialsFunc, args[1])
	}
	p.b = binary.LittleEndian.AppendUint64(p.b, uint64(ns))
	p.b = binary.AppendUvarint(p.b, uint64(len(partial)))
	p.b = append(p.b, partial...)
	return nil
}

// unpackPartials calls fn with each (time, partial) pair
// stagetrace_partials packed.
func unpackPartials(b []byte, fn func(ns int64, p *query.Partial)) error {
	for len(b) > 0 {
		if len(b) < 8 {
			return fmt.Errorf("%s: truncated", packPartialsFunc)
		}
		ns := int64(binary.LittleEndian.Uint64(b))
		n, k := binary.Uvarint(b[8:])
		if k <= 0 || n > uint64(len(b)-8-k) {
			return fmt.Errorf("%s: truncated", packPartialsFunc)
		}
		b = b[8+k:]
		p, err := query.UnmarshalPartial(b[:n])
		if err != nil {
			return fmt.Errorf("%s: %w", packPartialsFunc, err)
		}
		fn(ns, &p)
		b = b[n:]
	}
	return nil
}
