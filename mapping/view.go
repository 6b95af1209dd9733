package mapping

import (
	"time"

	"github.com/stagetrace/stagetrace"
)

// SpanView is what the mapping reads of one ended span. Implementations
// wrap an SDK ReadOnlySpan or a pdata span; they append attributes into a
// caller-owned slice so that a whole batch shares one backing array.
type SpanView interface {
	Name() string
	TraceID() stagetrace.TraceID
	SpanID() stagetrace.SpanID
	ParentSpanID() stagetrace.SpanID
	Kind() stagetrace.SpanKind
	StartTime() time.Time
	EndTime() time.Time
	Status() (stagetrace.StatusCode, string)
	Scope() string
	// AppendAttributes appends the span's attributes to dst.
	AppendAttributes(dst stagetrace.Attrs) stagetrace.Attrs
	// EventCount returns the number of span events.
	EventCount() int
	// Event returns the name and time of event i.
	Event(i int) (name string, t time.Time)
	// AppendEventAttributes appends the attributes of event i to dst.
	AppendEventAttributes(i int, dst stagetrace.Attrs) stagetrace.Attrs
}
