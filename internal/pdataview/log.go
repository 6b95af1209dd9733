package pdataview

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/mapping"
)

// Log is the mapping.LogView of a pdata log record, so that a log record
// maps to the same log event whether it came through the SDK exporter or
// the collector.
type Log struct {
	Record    plog.LogRecord
	ScopeName string
	// Slab, when set, holds the string slices of converted values: one
	// Slab for a whole batch saves their allocations.
	Slab *Slab
}

var _ mapping.LogView = (*Log)(nil)

// Time returns the record's timestamp, else its observed timestamp; the
// zero time when it has neither.
func (l *Log) Time() time.Time {
	ts := l.Record.Timestamp()
	if ts == 0 {
		ts = l.Record.ObservedTimestamp()
	}
	if ts == 0 {
		return time.Time{}
	}
	return ts.AsTime()
}

// Severity returns the severity number and text, as given.
func (l *Log) Severity() stagetrace.Severity {
	return stagetrace.Severity{Number: int64(l.Record.SeverityNumber()), Text: l.Record.SeverityText()}
}

// Body returns the record's body.
func (l *Log) Body() stagetrace.Value { return FromValue(l.Record.Body()) }

// TraceID returns the trace id of the span the record was made in.
func (l *Log) TraceID() stagetrace.TraceID { return stagetrace.TraceID(l.Record.TraceID()) }

// SpanID returns the id of the span the record was made in.
func (l *Log) SpanID() stagetrace.SpanID { return stagetrace.SpanID(l.Record.SpanID()) }

// EventName returns the record's event name.
func (l *Log) EventName() string { return l.Record.EventName() }

// Scope returns the instrumentation scope name.
func (l *Log) Scope() string { return l.ScopeName }

// AppendAttributes appends the record's attributes to dst.
func (l *Log) AppendAttributes(dst stagetrace.Attrs) stagetrace.Attrs {
	return l.Slab.AppendMap(dst, l.Record.Attributes())
}
