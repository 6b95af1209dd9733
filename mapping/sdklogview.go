package mapping

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/otelconv"
)

// SDKLog is the LogView of an OpenTelemetry Go Logs SDK record.
type SDKLog struct {
	Record *sdklog.Record
}

var (
	_ LogView       = (*SDKLog)(nil)
	_ placedLogView = (*SDKLog)(nil)
)

// Time returns the record's timestamp, else its observed timestamp.
func (l SDKLog) Time() time.Time {
	if t := l.Record.Timestamp(); !t.IsZero() {
		return t
	}
	return l.Record.ObservedTimestamp()
}

// Severity returns the severity number and text, as given.
func (l SDKLog) Severity() stagetrace.Severity {
	return stagetrace.Severity{Number: int64(l.Record.Severity()), Text: l.Record.SeverityText()}
}

// Body returns the record's body.
func (l SDKLog) Body() stagetrace.Value { return otelconv.FromAttribute(l.Record.Body()) }

// TraceID returns the trace id of the span the record was made in.
func (l SDKLog) TraceID() stagetrace.TraceID { return stagetrace.TraceID(l.Record.TraceID()) }

// SpanID returns the id of the span the record was made in.
func (l SDKLog) SpanID() stagetrace.SpanID { return stagetrace.SpanID(l.Record.SpanID()) }

// EventName returns the record's event name.
func (l SDKLog) EventName() string { return l.Record.EventName() }

// Scope returns the instrumentation scope name.
func (l SDKLog) Scope() string { return l.Record.InstrumentationScope().Name }

// AppendAttributes appends the record's attributes to dst.
func (l SDKLog) AppendAttributes(dst stagetrace.Attrs) stagetrace.Attrs {
	l.Record.WalkAttributes(func(kv attribute.KeyValue) bool {
		dst = append(dst, stagetrace.Attr{Key: string(kv.Key)})
		otelconv.FromAttributeInto(&dst[len(dst)-1].Value, &kv.Value)
		return true
	})
	return dst
}

// appendUnplaced is AppendAttributes without the placement attributes,
// whose values it returns: a log record's run and stage are strings set
// by the log processor, read here without converting them.
func (l SDKLog) appendUnplaced(dst stagetrace.Attrs) (_ stagetrace.Attrs, run, stage string) {
	l.Record.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch logPlacement(string(kv.Key)) {
		case placeNone:
			dst = append(dst, stagetrace.Attr{Key: string(kv.Key)})
			otelconv.FromAttributeInto(&dst[len(dst)-1].Value, &kv.Value)
		case placeRun:
			run = placementString(kv.Value)
		case placeStage:
			stage = placementString(kv.Value)
		}
		return true
	})
	return dst, run, stage
}

// placementString returns v as stagetrace.Value.String returns it once
// converted, without converting a string.
func placementString(v attribute.Value) string {
	if v.Type() == attribute.STRING {
		return v.AsString()
	}
	return otelconv.FromAttribute(v).String()
}
