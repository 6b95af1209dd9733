package mapping

import (
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/otelconv"
)

// SDKSpan is the SpanView of an OpenTelemetry Go SDK span.
type SDKSpan struct {
	Span sdktrace.ReadOnlySpan
	// Slab, when set, holds the slice headers of converted values: one
	// Slab for a whole batch saves an allocation per string slice.
	Slab *otelconv.Slab
}

var (
	_ SpanView       = (*SDKSpan)(nil)
	_ SpanView       = (*sdkReadSpan)(nil)
	_ placedSpanView = (*sdkReadSpan)(nil)
)

// SDKSpanReader gives the SpanView of SDK spans read in turn, one at a
// time, as an exporter maps them: it reads once what the mapping reads of
// a span more than once, where an SDKSpan reads it at each call. Each
// call of a method of the SDK's spans copies the whole span, some 400
// bytes (they are methods of a struct value), which costs more than what
// the method returns; a span's events are read five times, for instance,
// once as their count. The zero SDKSpanReader is ready to use; it is not
// safe for concurrent use.
type SDKSpanReader struct {
	// Slab is SDKSpan.Slab.
	Slab *otelconv.Slab
	view sdkReadSpan
}

// sdkReadSpan is an SDKSpan with what SDKSpanReader read of it once.
type sdkReadSpan struct {
	SDKSpan
	sc     trace.SpanContext
	events []sdktrace.Event
}

// View returns the SpanView of span, valid until the next call. A nil
// span returns nil and keeps nothing of the span before.
func (r *SDKSpanReader) View(span sdktrace.ReadOnlySpan) SpanView {
	if span == nil {
		r.view = sdkReadSpan{}
		return nil
	}
	r.view = sdkReadSpan{
		SDKSpan: SDKSpan{Span: span, Slab: r.Slab},
		sc:      span.SpanContext(),
		events:  span.Events(),
	}
	// A pointer to the reader's own view: a view made per span would be
	// boxed into the SpanView interface, an allocation per span.
	return &r.view
}

// appendPlaced converts the span's attributes in one pass, placing each
// as it goes (placedSpanView).
func (s *sdkReadSpan) appendPlaced(dst stagetrace.Attrs) (_ stagetrace.Attrs, findStart int, p spanPlaces) {
	kvs := s.Span.Attributes()
	// Room for every attribute twice: the kept ones are written from the
	// end of dst up, the findings after room for all of them, then moved
	// down after the kept ones. Every field of a slot is set: a reused
	// array holds old attributes there.
	start := len(dst)
	dst = slices.Grow(dst, 2*len(kvs))
	out := dst[start : start+2*len(kvs)]
	kept, found := 0, len(kvs)
	for i := range kvs {
		kv := &kvs[i]
		key := string(kv.Key)
		var a *stagetrace.Attr
		switch spanPlacement(key) {
		case placeNone:
			a = &out[kept]
			a.Key = key
			kept++
		case placeFinding:
			a = &out[found]
			a.Key = key[len(attributes.FindingPrefix):]
			found++
		case placeRun:
			p.run = placementString(kv.Value)
			continue
		case placeStage:
			p.stage = placementString(kv.Value)
			continue
		case placeInherited:
			p.inherited = kv.Value.Type() == attribute.BOOL && kv.Value.AsBool()
			continue
		}
		switch t := kv.Value.Type(); t {
		case attribute.STRING:
			a.Value = stagetrace.StringValue(kv.Value.AsString())
		case attribute.INT64:
			a.Value = stagetrace.Int64Value(kv.Value.AsInt64())
		default:
			s.Slab.ValueInto(&a.Value, &kv.Value)
			if t == attribute.SLICE || t == attribute.MAP {
				p.nested = true
			}
		}
	}
	n := copy(out[kept:], out[len(kvs):found])
	return dst[:start+kept+n], start + kept, p
}

// TraceID returns the span's trace id.
func (s *sdkReadSpan) TraceID() stagetrace.TraceID { return stagetrace.TraceID(s.sc.TraceID()) }

// SpanID returns the span's id.
func (s *sdkReadSpan) SpanID() stagetrace.SpanID { return stagetrace.SpanID(s.sc.SpanID()) }

// EventCount returns the number of span events.
func (s *sdkReadSpan) EventCount() int { return len(s.events) }

// Event returns the name and time of event i.
func (s *sdkReadSpan) Event(i int) (string, time.Time) {
	e := &s.events[i]
	return e.Name, e.Time
}

// AppendEventAttributes appends the attributes of event i to dst.
func (s *sdkReadSpan) AppendEventAttributes(i int, dst stagetrace.Attrs) stagetrace.Attrs {
	return s.Slab.AppendKeyValues(dst, s.events[i].Attributes)
}

// Name returns the span name.
func (s SDKSpan) Name() string { return s.Span.Name() }

// TraceID returns the span's trace id.
func (s SDKSpan) TraceID() stagetrace.TraceID {
	return stagetrace.TraceID(s.Span.SpanContext().TraceID())
}

// SpanID returns the span's id.
func (s SDKSpan) SpanID() stagetrace.SpanID { return stagetrace.SpanID(s.Span.SpanContext().SpanID()) }

// ParentSpanID returns the parent's span id, zero for a root span.
func (s SDKSpan) ParentSpanID() stagetrace.SpanID { return stagetrace.SpanID(s.Span.Parent().SpanID()) }

// Kind returns the span kind.
func (s SDKSpan) Kind() stagetrace.SpanKind { return otelconv.KindFromOTel(s.Span.SpanKind()) }

// StartTime returns when the span started.
func (s SDKSpan) StartTime() time.Time { return s.Span.StartTime() }

// EndTime returns when the span ended.
func (s SDKSpan) EndTime() time.Time { return s.Span.EndTime() }

// Status returns the span status and its description.
func (s SDKSpan) Status() (stagetrace.StatusCode, string) {
	st := s.Span.Status()
	return otelconv.StatusFromOTel(st.Code), st.Description
}

// Scope returns the instrumentation scope name.
func (s SDKSpan) Scope() string { return s.Span.InstrumentationScope().Name }

// AppendAttributes appends the span attributes to dst.
func (s SDKSpan) AppendAttributes(dst stagetrace.Attrs) stagetrace.Attrs {
	return s.Slab.AppendKeyValues(dst, s.Span.Attributes())
}

// EventCount returns the number of span events.
func (s SDKSpan) EventCount() int { return len(s.Span.Events()) }

// Event returns the name and time of event i.
func (s SDKSpan) Event(i int) (string, time.Time) {
	e := s.Span.Events()[i]
	return e.Name, e.Time
}

// AppendEventAttributes appends the attributes of event i to dst.
func (s SDKSpan) AppendEventAttributes(i int, dst stagetrace.Attrs) stagetrace.Attrs {
	return s.Slab.AppendKeyValues(dst, s.Span.Events()[i].Attributes)
}
