// Package pdataview reads collector pdata spans as the stagetrace mapping
// and rules read spans: a mapping.SpanView and a rules.Span over a
// ptrace.Span, and conversions from pcommon values to model values.
package pdataview

import (
	"slices"
	"sort"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/rules"
)

// FromValue converts a pdata value to a model value, whatever its type.
// A slice whose elements are all strings, all ints, all doubles or all
// bools becomes the typed slice the OpenTelemetry Go SDK records (an
// SDK string slice arrives over OTLP as an array of strings), so that a
// span maps to the same values whichever path it took; any other slice
// becomes a generic slice. An empty value becomes the empty model value.
func FromValue(v pcommon.Value) stagetrace.Value {
	var out stagetrace.Value
	FromValueInto(&out, v)
	return out
}

// fromComposite converts a value that is no scalar: bytes, a slice or a
// map, copied, or an empty value, the empty model value.
func fromComposite(v pcommon.Value) stagetrace.Value {
	switch v.Type() {
	case pcommon.ValueTypeBytes:
		return stagetrace.BytesValue(v.Bytes().AsRaw())
	case pcommon.ValueTypeSlice:
		return fromSlice(v.Slice())
	case pcommon.ValueTypeMap:
		return stagetrace.MapValue(AppendMap(nil, v.Map())...)
	}
	return stagetrace.Value{}
}

// FromValueInto sets *dst to v converted, as FromValue returns it. It is
// the form for loops over many values: scalars, most of them, are
// converted in place, where a call to FromValue copies the 48-byte model
// value out, which costs more than converting it.
func FromValueInto(dst *stagetrace.Value, v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		*dst = stagetrace.StringValue(v.Str())
	case pcommon.ValueTypeInt:
		*dst = stagetrace.Int64Value(v.Int())
	case pcommon.ValueTypeDouble:
		*dst = stagetrace.Float64Value(v.Double())
	case pcommon.ValueTypeBool:
		*dst = stagetrace.BoolValue(v.Bool())
	default:
		*dst = fromComposite(v)
	}
}

func fromSlice(s pcommon.Slice) stagetrace.Value {
	n := s.Len()
	if n == 0 {
		return stagetrace.SliceValue()
	}
	t := s.At(0).Type()
	for i := 1; i < n; i++ {
		if s.At(i).Type() != t {
			t = pcommon.ValueTypeEmpty
			break
		}
	}
	switch t {
	case pcommon.ValueTypeStr:
		out := make([]string, n)
		for i := range out {
			out[i] = s.At(i).Str()
		}
		return stagetrace.StringSliceValue(out)
	case pcommon.ValueTypeInt:
		out := make([]int64, n)
		for i := range out {
			out[i] = s.At(i).Int()
		}
		return stagetrace.Int64SliceValue(out)
	case pcommon.ValueTypeDouble:
		out := make([]float64, n)
		for i := range out {
			out[i] = s.At(i).Double()
		}
		return stagetrace.Float64SliceValue(out)
	case pcommon.ValueTypeBool:
		out := make([]bool, n)
		for i := range out {
			out[i] = s.At(i).Bool()
		}
		return stagetrace.BoolSliceValue(out)
	}
	out := make([]stagetrace.Value, n)
	for i := range out {
		out[i] = FromValue(s.At(i))
	}
	return stagetrace.SliceValue(out...)
}

// AppendMap appends the entries of m to dst as model attributes, in m's
// order.
func AppendMap(dst stagetrace.Attrs, m pcommon.Map) stagetrace.Attrs {
	return appendMap(dst, m, nil)
}

// appendMap is AppendMap, converting string slices into slab when not
// nil.
func appendMap(dst stagetrace.Attrs, m pcommon.Map, slab *Slab) stagetrace.Attrs {
	n := m.Len()
	// Grown once and set in place: appending each attribute would copy
	// it, and check the capacity, once per attribute.
	dst = slices.Grow(dst, n)[:len(dst)+n]
	out := dst[len(dst)-n:]
	i := 0
	for k, v := range m.All() {
		out[i].Key = k
		if slab != nil && v.Type() == pcommon.ValueTypeSlice {
			out[i].Value = slab.fromSlice(v.Slice())
		} else {
			FromValueInto(&out[i].Value, v)
		}
		i++
	}
	return dst
}

// Slab holds the elements and headers of the string slices that the
// conversions of one batch make, so that converting a string slice costs
// no allocation once the slab has grown to what a batch needs: the pdata
// form of otelconv.Slab. The zero Slab is ready to use; it is not safe
// for concurrent use. A nil *Slab converts as AppendMap does, so that a
// view with or without a Slab makes one call.
type Slab struct {
	elems []string
	heads [][]string
}

// Reuse empties s, keeping its arrays for the string slices converted
// next: the values converted before then change. Call it only once
// nothing reads those values any more.
func (s *Slab) Reuse() {
	// Cleared, so that the old strings are not kept alive by the arrays.
	clear(s.elems)
	clear(s.heads)
	s.elems, s.heads = s.elems[:0], s.heads[:0]
}

// AppendMap is AppendMap converting string slices into s when s is not
// nil.
func (s *Slab) AppendMap(dst stagetrace.Attrs, m pcommon.Map) stagetrace.Attrs {
	return appendMap(dst, m, s)
}

// fromSlice is fromSlice, with a slice of strings held in s.
func (s *Slab) fromSlice(sl pcommon.Slice) stagetrace.Value {
	n := sl.Len()
	if n == 0 {
		return fromSlice(sl)
	}
	for i := range n {
		if sl.At(i).Type() != pcommon.ValueTypeStr {
			return fromSlice(sl)
		}
	}
	// Appending moves elems and heads to larger arrays when full: the
	// values converted before keep pointing into the old ones, which
	// nothing writes to any more.
	start := len(s.elems)
	for i := range n {
		s.elems = append(s.elems, sl.At(i).Str())
	}
	s.heads = append(s.heads, s.elems[start:len(s.elems):len(s.elems)])
	return stagetrace.StringSliceRef(&s.heads[len(s.heads)-1])
}

// Resource converts a resource's attributes, sorted by key as the
// OpenTelemetry Go SDK holds a resource's attributes.
func Resource(r pcommon.Resource) *stagetrace.Resource {
	attrs := AppendMap(nil, r.Attributes())
	sort.SliceStable(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
	return &stagetrace.Resource{Attrs: attrs}
}

// ResourceKey returns a string identifying the content of r's attributes:
// two resources with the same key convert to equal model resources.
//
// It is computed once per resource of every export: the key is built in
// one buffer, with no string made per attribute.
func ResourceKey(r pcommon.Resource) string {
	var b []byte
	for k, v := range r.Attributes().All() {
		b = strconv.AppendQuote(b, k)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(v.Type()), 10)
		b = append(b, ':')
		b = strconv.AppendQuote(b, v.AsString())
		b = append(b, ';')
	}
	return string(b)
}

// Kind converts a pdata span kind; the numbering is OpenTelemetry's, as
// the model's is.
func Kind(k ptrace.SpanKind) stagetrace.SpanKind {
	if k < ptrace.SpanKindUnspecified || k > ptrace.SpanKindConsumer {
		return stagetrace.SpanKindUnspecified
	}
	return stagetrace.SpanKind(k)
}

// Status converts a pdata status code.
func Status(c ptrace.StatusCode) stagetrace.StatusCode {
	switch c {
	case ptrace.StatusCodeOk:
		return stagetrace.StatusOK
	case ptrace.StatusCodeError:
		return stagetrace.StatusError
	}
	return stagetrace.StatusUnset
}

// Time converts a pdata timestamp; zero stays the zero time.
func Time(t pcommon.Timestamp) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return t.AsTime()
}

// Span is a pdata span with the name of its instrumentation scope. It is
// both a mapping.SpanView and a rules.Span. Use a pointer to avoid
// copying it into the interfaces.
type Span struct {
	// Span is the pdata span.
	Span ptrace.Span
	// ScopeName is the name of the span's instrumentation scope.
	ScopeName string
	// Slab, when set, holds the string slices of converted values: one
	// Slab for a whole batch saves their allocations.
	Slab *Slab
}

var (
	_ mapping.SpanView = (*Span)(nil)
	_ rules.Span       = (*Span)(nil)
)

// Name returns the span name.
func (s *Span) Name() string { return s.Span.Name() }

// Scope returns the instrumentation scope name.
func (s *Span) Scope() string { return s.ScopeName }

// Kind returns the span kind.
func (s *Span) Kind() stagetrace.SpanKind { return Kind(s.Span.Kind()) }

// Attribute returns the value of the span attribute key.
func (s *Span) Attribute(key string) (stagetrace.Value, bool) {
	v, ok := s.Span.Attributes().Get(key)
	if !ok {
		return stagetrace.Value{}, false
	}
	return FromValue(v), true
}

// TraceID returns the span's trace id.
func (s *Span) TraceID() stagetrace.TraceID { return stagetrace.TraceID(s.Span.TraceID()) }

// SpanID returns the span's id.
func (s *Span) SpanID() stagetrace.SpanID { return stagetrace.SpanID(s.Span.SpanID()) }

// ParentSpanID returns the parent's span id, zero for a root span.
func (s *Span) ParentSpanID() stagetrace.SpanID { return stagetrace.SpanID(s.Span.ParentSpanID()) }

// StartTime returns when the span started.
func (s *Span) StartTime() time.Time { return Time(s.Span.StartTimestamp()) }

// EndTime returns when the span ended.
func (s *Span) EndTime() time.Time { return Time(s.Span.EndTimestamp()) }

// Status returns the span status and its message.
func (s *Span) Status() (stagetrace.StatusCode, string) {
	st := s.Span.Status()
	return Status(st.Code()), st.Message()
}

// AppendAttributes appends the span attributes to dst.
func (s *Span) AppendAttributes(dst stagetrace.Attrs) stagetrace.Attrs {
	return s.Slab.AppendMap(dst, s.Span.Attributes())
}

// EventCount returns the number of span events.
func (s *Span) EventCount() int { return s.Span.Events().Len() }

// Event returns the name and time of event i.
func (s *Span) Event(i int) (string, time.Time) {
	e := s.Span.Events().At(i)
	return e.Name(), Time(e.Timestamp())
}

// AppendEventAttributes appends the attributes of event i to dst.
func (s *Span) AppendEventAttributes(i int, dst stagetrace.Attrs) stagetrace.Attrs {
	return s.Slab.AppendMap(dst, s.Span.Events().At(i).Attributes())
}
