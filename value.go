package stagetrace

import (
	"fmt"
	"math"
	"strconv"
)

// Kind is the type of a [Value]. It mirrors the attribute types of
// OpenTelemetry Go and OTLP's AnyValue.
type Kind uint8

// Value kinds.
const (
	KindEmpty        Kind = iota // no value
	KindBool                     // bool
	KindInt64                    // int64
	KindFloat64                  // float64
	KindString                   // string
	KindBytes                    // []byte
	KindBoolSlice                // []bool
	KindInt64Slice               // []int64
	KindFloat64Slice             // []float64
	KindStringSlice              // []string
	KindSlice                    // []Value, elements of any kind
	KindMap                      // []Attr, an ordered map
)

var kindStrings = [...]string{
	KindEmpty: "empty", KindBool: "bool", KindInt64: "int64", KindFloat64: "float64",
	KindString: "string", KindBytes: "bytes", KindBoolSlice: "bool[]", KindInt64Slice: "int64[]",
	KindFloat64Slice: "float64[]", KindStringSlice: "string[]", KindSlice: "slice", KindMap: "map",
}

// String returns the kind's name as the JSON form uses it ("int64[]", ...).
func (k Kind) String() string {
	if int(k) < len(kindStrings) {
		return kindStrings[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is an attribute or finding value. The zero Value is empty.
// Values are immutable: constructors of slice kinds keep the slice they are
// given, so callers must not modify it afterwards.
type Value struct {
	kind Kind
	num  uint64 // bool, int64 and float64 bits
	str  string // string
	any  any    // []byte, typed slices, []Value, []Attr
}

// BoolValue returns a bool Value.
func BoolValue(v bool) Value {
	var n uint64
	if v {
		n = 1
	}
	return Value{kind: KindBool, num: n}
}

// Int64Value returns an int64 Value.
func Int64Value(v int64) Value { return Value{kind: KindInt64, num: uint64(v)} }

// IntValue returns an int64 Value holding v.
func IntValue(v int) Value { return Int64Value(int64(v)) }

// Float64Value returns a float64 Value.
func Float64Value(v float64) Value { return Value{kind: KindFloat64, num: math.Float64bits(v)} }

// StringValue returns a string Value.
func StringValue(v string) Value { return Value{kind: KindString, str: v} }

// BytesValue returns a bytes Value.
func BytesValue(v []byte) Value { return Value{kind: KindBytes, any: v} }

// BoolSliceValue returns a bool[] Value.
func BoolSliceValue(v []bool) Value { return Value{kind: KindBoolSlice, any: v} }

// Int64SliceValue returns an int64[] Value.
func Int64SliceValue(v []int64) Value { return Value{kind: KindInt64Slice, any: v} }

// Float64SliceValue returns a float64[] Value.
func Float64SliceValue(v []float64) Value { return Value{kind: KindFloat64Slice, any: v} }

// StringSliceValue returns a string[] Value.
func StringSliceValue(v []string) Value { return Value{kind: KindStringSlice, any: v} }

// StringSliceRef returns a string[] Value holding *p. It is
// StringSliceValue without the allocation that boxing a slice costs: a
// mapping that converts many slices keeps their headers in one array of
// its own and hands out pointers into it. Neither *p nor its elements may
// be modified afterwards.
func StringSliceRef(p *[]string) Value { return Value{kind: KindStringSlice, any: p} }

// SliceValue returns a Value holding values of any kinds.
func SliceValue(v ...Value) Value { return Value{kind: KindSlice, any: v} }

// MapValue returns a map Value; the order of kvs is kept.
func MapValue(kvs ...Attr) Value { return Value{kind: KindMap, any: Attrs(kvs)} }

// Kind returns the kind of the value.
func (v Value) Kind() Kind { return v.kind }

// AsBool returns the bool held, or false for another kind.
func (v Value) AsBool() bool { return v.kind == KindBool && v.num != 0 }

// AsInt64 returns the int64 held, or 0 for another kind.
func (v Value) AsInt64() int64 {
	if v.kind != KindInt64 {
		return 0
	}
	return int64(v.num)
}

// AsFloat64 returns the float64 held, or 0 for another kind.
func (v Value) AsFloat64() float64 {
	if v.kind != KindFloat64 {
		return 0
	}
	return math.Float64frombits(v.num)
}

// AsString returns the string held, or "" for another kind.
func (v Value) AsString() string { return v.str }

// AsBytes returns the bytes held, or nil for another kind.
func (v Value) AsBytes() []byte { b, _ := v.any.([]byte); return b }

// AsBoolSlice returns the []bool held, or nil for another kind.
func (v Value) AsBoolSlice() []bool { s, _ := v.any.([]bool); return s }

// AsInt64Slice returns the []int64 held, or nil for another kind.
func (v Value) AsInt64Slice() []int64 { s, _ := v.any.([]int64); return s }

// AsFloat64Slice returns the []float64 held, or nil for another kind.
func (v Value) AsFloat64Slice() []float64 { s, _ := v.any.([]float64); return s }

// AsStringSlice returns the []string held, or nil for another kind.
func (v Value) AsStringSlice() []string {
	switch s := v.any.(type) {
	case []string:
		return s
	case *[]string:
		if v.kind == KindStringSlice {
			return *s
		}
	}
	return nil
}

// AsSlice returns the []Value held, or nil for another kind.
func (v Value) AsSlice() []Value { s, _ := v.any.([]Value); return s }

// AsMap returns the map held, or nil for another kind.
func (v Value) AsMap() Attrs { s, _ := v.any.(Attrs); return s }

// Number returns the value as a float64 when it is an int64 or a float64.
func (v Value) Number() (float64, bool) {
	switch v.kind {
	case KindInt64:
		return float64(int64(v.num)), true
	case KindFloat64:
		return math.Float64frombits(v.num), true
	}
	return 0, false
}

// AsInterface returns the value as a Go value: nil, bool, int64, float64,
// string, []byte, []bool, []int64, []float64, []string, []any or
// map[string]any.
func (v Value) AsInterface() any {
	switch v.kind {
	case KindBool:
		return v.AsBool()
	case KindInt64:
		return v.AsInt64()
	case KindFloat64:
		return v.AsFloat64()
	case KindString:
		return v.str
	case KindSlice:
		s := v.AsSlice()
		out := make([]any, len(s))
		for i, e := range s {
			out[i] = e.AsInterface()
		}
		return out
	case KindMap:
		m := v.AsMap()
		out := make(map[string]any, len(m))
		for _, kv := range m {
			out[kv.Key] = kv.Value.AsInterface()
		}
		return out
	case KindEmpty:
		return nil
	case KindStringSlice:
		return v.AsStringSlice()
	}
	return v.any
}

// String returns a human-readable form of the value: the string itself for
// a string, its JSON form for everything else.
func (v Value) String() string {
	switch v.kind {
	case KindString:
		return v.str
	case KindEmpty:
		return ""
	case KindFloat64:
		return strconv.FormatFloat(v.AsFloat64(), 'g', -1, 64)
	}
	return string(appendValue(nil, v))
}

// Equal reports whether two values have the same kind and contents. Float
// values are compared bit for bit, so NaN equals NaN.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case KindEmpty:
		return true
	case KindBool, KindInt64, KindFloat64:
		return v.num == w.num
	case KindString:
		return v.str == w.str
	case KindBytes:
		return string(v.AsBytes()) == string(w.AsBytes())
	case KindBoolSlice:
		return sliceEqual(v.AsBoolSlice(), w.AsBoolSlice())
	case KindInt64Slice:
		return sliceEqual(v.AsInt64Slice(), w.AsInt64Slice())
	case KindStringSlice:
		return sliceEqual(v.AsStringSlice(), w.AsStringSlice())
	case KindFloat64Slice:
		a, b := v.AsFloat64Slice(), w.AsFloat64Slice()
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				return false
			}
		}
		return true
	case KindSlice:
		a, b := v.AsSlice(), w.AsSlice()
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !a[i].Equal(b[i]) {
				return false
			}
		}
		return true
	case KindMap:
		return v.AsMap().Equal(w.AsMap())
	}
	return false
}

func sliceEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// GoString makes %#v and test failure output readable.
func (v Value) GoString() string { return fmt.Sprintf("stagetrace.Value{%s: %s}", v.kind, v.String()) }

// Attr is a key and its value.
type Attr struct {
	Key   string
	Value Value
}

// Attrs is an ordered list of attributes with unique keys.
type Attrs []Attr

// Get returns the value of key and whether it is present.
func (a Attrs) Get(key string) (Value, bool) {
	for i := range a {
		if a[i].Key == key {
			return a[i].Value, true
		}
	}
	return Value{}, false
}

// Equal reports whether a and b hold the same keys with equal values in the
// same order.
func (a Attrs) Equal(b Attrs) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !a[i].Value.Equal(b[i].Value) {
			return false
		}
	}
	return true
}

// MaxDepth is the most levels of slices and maps one Value may nest: a map
// holding a scalar is one level. It is the single limit every path agrees
// on: the mapping applies it to what it takes in from the SDK and the
// collector, and every encoder applies it again to what it writes, so
// every reader accepts what any writer wrote. OpenTelemetry's SDK stops at
// the same depth; OTLP itself has no limit.
const MaxDepth = 64

// TruncatedMarker is the string that takes the place of a slice or map
// nested deeper than MaxDepth. The value is kept down to MaxDepth levels,
// so only the part past the limit is lost, and visibly.
const TruncatedMarker = "[stagetrace: truncated: nested deeper than 64 levels]"

// IsContainer reports whether values of the kind hold other values: a
// slice or a map, the two kinds that nest.
func (k Kind) IsContainer() bool { return k == KindSlice || k == KindMap }

// Depth returns how many levels of slices and maps v nests: 0 for a
// scalar, 1 for a slice of scalars.
func Depth(v Value) int {
	d := 0
	for _, e := range v.AsSlice() {
		d = max(d, Depth(e))
	}
	for _, kv := range v.AsMap() {
		d = max(d, Depth(kv.Value))
	}
	if v.kind.IsContainer() {
		d++
	}
	return d
}

// truncatedValue is what a container nested past MaxDepth becomes.
var truncatedValue = StringValue(TruncatedMarker)

// LimitDepth returns v with every slice or map nested deeper than MaxDepth
// replaced by the string TruncatedMarker, and how many were replaced. When
// nothing is that deep it returns v itself; otherwise the parts above a
// truncated value are copied, so v, which may be shared, is not changed.
func LimitDepth(v Value) (Value, int) { return limitDepth(v, 0) }

// limitDepth limits v, a value inside level containers.
func limitDepth(v Value, level int) (Value, int) {
	if !v.kind.IsContainer() {
		return v, 0
	}
	if level >= MaxDepth {
		return truncatedValue, 1
	}
	n := 0
	switch v.kind {
	case KindSlice:
		s := v.AsSlice()
		var out []Value // copied at the first change
		for i := range s {
			e, k := limitDepth(s[i], level+1)
			if k > 0 && out == nil {
				out = append([]Value(nil), s...)
			}
			if k > 0 {
				out[i], n = e, n+k
			}
		}
		if out != nil {
			return SliceValue(out...), n
		}
	case KindMap:
		m := v.AsMap()
		var out Attrs
		for i := range m {
			e, k := limitDepth(m[i].Value, level+1)
			if k > 0 && out == nil {
				out = append(Attrs(nil), m...)
			}
			if k > 0 {
				out[i].Value, n = e, n+k
			}
		}
		if out != nil {
			return MapValue(out...), n
		}
	}
	return v, n
}

// tooDeep reports whether a value of a nests deeper than MaxDepth.
func (a Attrs) tooDeep() bool {
	for i := range a {
		if Depth(a[i].Value) > MaxDepth {
			return true
		}
	}
	return false
}

// LimitDepth applies LimitDepth to every value of a, in place, and returns
// how many slices and maps were truncated.
func (a Attrs) LimitDepth() int {
	n := 0
	for i := range a {
		if !a[i].Value.kind.IsContainer() {
			continue // a scalar nests nothing: skip the call, most values are scalars
		}
		if v, k := LimitDepth(a[i].Value); k > 0 {
			a[i].Value, n = v, n+k // written only when changed, so a limited slice can be shared
		}
	}
	return n
}
