// Package otelconv converts OpenTelemetry SDK values (attribute values,
// span kinds, status codes) to the stagetrace model and back. It is the one
// place these conversions are written: the mapping, the processor and the
// rules engine all call it, so the model package itself needs no
// OpenTelemetry import.
package otelconv

import (
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
)

// FromAttribute converts an OpenTelemetry attribute value to a model value.
// Scalars convert without allocating; slices and maps are copied.
func FromAttribute(v attribute.Value) stagetrace.Value {
	var out stagetrace.Value
	FromAttributeInto(&out, &v)
	return out
}

// FromAttributeInto sets *dst to v converted, as FromAttribute returns it.
// It is the form for loops over many attributes: scalars, most of them,
// are converted in place, where a call to FromAttribute copies the 48-byte
// values in and out, which costs more than converting them.
func FromAttributeInto(dst *stagetrace.Value, v *attribute.Value) {
	switch v.Type() {
	case attribute.STRING:
		*dst = stagetrace.StringValue(v.AsString())
	case attribute.INT64:
		*dst = stagetrace.Int64Value(v.AsInt64())
	case attribute.FLOAT64:
		*dst = stagetrace.Float64Value(v.AsFloat64())
	case attribute.BOOL:
		*dst = stagetrace.BoolValue(v.AsBool())
	default:
		*dst = fromComposite(v)
	}
}

// fromComposite converts a value that is no scalar: a slice or a map,
// copied, or an invalid value, the empty model value.
func fromComposite(v *attribute.Value) stagetrace.Value {
	switch v.Type() {
	case attribute.BOOLSLICE:
		return stagetrace.BoolSliceValue(v.AsBoolSlice())
	case attribute.INT64SLICE:
		return stagetrace.Int64SliceValue(v.AsInt64Slice())
	case attribute.FLOAT64SLICE:
		return stagetrace.Float64SliceValue(v.AsFloat64Slice())
	case attribute.STRINGSLICE:
		return stagetrace.StringSliceValue(v.AsStringSlice())
	case attribute.BYTESLICE:
		return stagetrace.BytesValue(v.AsByteSlice())
	case attribute.SLICE:
		in := v.AsSlice()
		out := make([]stagetrace.Value, len(in))
		for i := range in {
			FromAttributeInto(&out[i], &in[i])
		}
		return stagetrace.SliceValue(out...)
	case attribute.MAP:
		return stagetrace.MapValue(AppendKeyValues(nil, v.AsMap())...)
	}
	return stagetrace.Value{}
}

// AppendKeyValues appends OpenTelemetry attributes to dst as model
// attributes.
func AppendKeyValues(dst stagetrace.Attrs, kvs []attribute.KeyValue) stagetrace.Attrs {
	return (*Slab)(nil).AppendKeyValues(dst, kvs)
}

// Slab holds the slice headers of the values a batch of conversions makes,
// so that converting a string slice costs the copy the SDK makes of it and
// not also a boxed header. The zero Slab is ready to use; it is not safe
// for concurrent use. Values converted through it stay valid after Reset.
// A nil *Slab converts as the package's functions do, string slices
// included, so that a caller with or without a Slab makes one call.
type Slab struct {
	strs [][]string
	// seen are the last string slices converted, as given and as
	// converted. The spans of a batch often carry the same slice
	// (gen_ai.response.finish_reasons ["stop"]): converting it again
	// would cost the SDK's copy of it, an allocation per span, for an
	// equal value. Values are immutable, so the spans can share one.
	seen [4]seenSlice
	next int // the entry of seen to replace next
}

type seenSlice struct {
	in  attribute.Value
	out stagetrace.Value
}

// Reset starts a new array for the headers, of about n of them; the
// values converted before keep theirs.
func (s *Slab) Reset(n int) { s.strs = make([][]string, 0, n) }

// Reuse empties s, keeping its array for the headers of the values
// converted next: the values converted before then change. Call it only
// once nothing reads those values any more.
func (s *Slab) Reuse() {
	clear(s.strs) // the old headers keep no strings alive
	s.strs = s.strs[:0]
	s.seen, s.next = [len(s.seen)]seenSlice{}, 0
}

// AppendKeyValues is AppendKeyValues converting string slices into s
// when s is not nil.
func (s *Slab) AppendKeyValues(dst stagetrace.Attrs, kvs []attribute.KeyValue) stagetrace.Attrs {
	// Grown once and set in place. Every field of the new attributes is
	// set: an array being reused holds old ones there.
	n := len(kvs)
	dst = slices.Grow(dst, n)[:len(dst)+n]
	out := dst[len(dst)-n:]
	for i := range kvs {
		kv := &kvs[i]
		out[i].Key = string(kv.Key)
		s.ValueInto(&out[i].Value, &kv.Value)
	}
	return dst
}

// ValueInto is FromAttributeInto converting a string slice into s when s
// is not nil.
func (s *Slab) ValueInto(dst *stagetrace.Value, v *attribute.Value) {
	if s != nil && v.Type() == attribute.STRINGSLICE {
		*dst = s.stringSliceOf(*v)
		return
	}
	FromAttributeInto(dst, v)
}

// stringSliceOf converts in, a string slice, or returns the conversion
// of an equal slice converted lately.
func (s *Slab) stringSliceOf(in attribute.Value) stagetrace.Value {
	for i := range s.seen {
		// Comparing two values compares the slices' elements, without
		// copying them.
		if s.seen[i].out.Kind() == stagetrace.KindStringSlice && s.seen[i].in == in {
			return s.seen[i].out
		}
	}
	out := s.stringSlice(in.AsStringSlice())
	s.seen[s.next] = seenSlice{in: in, out: out}
	s.next = (s.next + 1) % len(s.seen)
	return out
}

func (s *Slab) stringSlice(ss []string) stagetrace.Value {
	if len(s.strs) == cap(s.strs) {
		// A full array is left to the values pointing into it.
		s.strs = make([][]string, 0, max(2*cap(s.strs), 64))
	}
	s.strs = append(s.strs, ss)
	return stagetrace.StringSliceRef(&s.strs[len(s.strs)-1])
}

// ToAttribute converts a model value to an OpenTelemetry attribute value.
func ToAttribute(v stagetrace.Value) attribute.Value {
	switch v.Kind() {
	case stagetrace.KindBool:
		return attribute.BoolValue(v.AsBool())
	case stagetrace.KindInt64:
		return attribute.Int64Value(v.AsInt64())
	case stagetrace.KindFloat64:
		return attribute.Float64Value(v.AsFloat64())
	case stagetrace.KindString:
		return attribute.StringValue(v.AsString())
	case stagetrace.KindBytes:
		return attribute.ByteSliceValue(v.AsBytes())
	case stagetrace.KindBoolSlice:
		return attribute.BoolSliceValue(v.AsBoolSlice())
	case stagetrace.KindInt64Slice:
		return attribute.Int64SliceValue(v.AsInt64Slice())
	case stagetrace.KindFloat64Slice:
		return attribute.Float64SliceValue(v.AsFloat64Slice())
	case stagetrace.KindStringSlice:
		return attribute.StringSliceValue(v.AsStringSlice())
	case stagetrace.KindSlice:
		in := v.AsSlice()
		out := make([]attribute.Value, len(in))
		for i, e := range in {
			out[i] = ToAttribute(e)
		}
		return attribute.SliceValue(out...)
	case stagetrace.KindMap:
		in := v.AsMap()
		out := make([]attribute.KeyValue, len(in))
		for i, kv := range in {
			out[i] = attribute.KeyValue{Key: attribute.Key(kv.Key), Value: ToAttribute(kv.Value)}
		}
		return attribute.MapValue(out...)
	}
	return attribute.Value{}
}

// KindFromOTel converts an OpenTelemetry span kind.
func KindFromOTel(k trace.SpanKind) stagetrace.SpanKind {
	if k > trace.SpanKindConsumer {
		return stagetrace.SpanKindUnspecified
	}
	return stagetrace.SpanKind(k)
}

// StatusFromOTel converts an OpenTelemetry status code.
func StatusFromOTel(c codes.Code) stagetrace.StatusCode {
	switch c {
	case codes.Ok:
		return stagetrace.StatusOK
	case codes.Error:
		return stagetrace.StatusError
	}
	return stagetrace.StatusUnset
}
