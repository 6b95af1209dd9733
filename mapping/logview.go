package mapping

import (
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// LogView is what the mapping reads of one log record. Implementations
// wrap an SDK log record (SDKLog) or a pdata log record.
type LogView interface {
	// Time is when the record happened: its timestamp, else when it was
	// observed.
	Time() time.Time
	Severity() stagetrace.Severity
	Body() stagetrace.Value
	// TraceID and SpanID are those of the span the record was made in;
	// zero outside any span.
	TraceID() stagetrace.TraceID
	SpanID() stagetrace.SpanID
	// EventName is the record's event name, "" for a plain log record.
	EventName() string
	// Scope is the instrumentation scope name, the logger's.
	Scope() string
	// AppendAttributes appends the record's attributes to dst.
	AppendAttributes(dst stagetrace.Attrs) stagetrace.Attrs
}

// AddLog maps one log record into the batch as a TraceEvent named
// stagetrace.LogEventName. Its run and stage are the run.id and run.stage
// attributes the record carries (set by the stagetrace log processor, by
// the span rules, or by the code that logged it). A record with no run.id
// is filed under its trace id, as a span is, and one outside any trace is
// kept under no run. The event name and scope, when set, become the
// event.name and otel.scope.name attributes, after the record's own.
func (b *Batcher) AddLog(v LogView) {
	start := len(b.arena)
	var run, stage string
	if pv, ok := v.(placedLogView); ok {
		b.arena, run, stage = pv.appendUnplaced(b.arena)
	} else {
		b.arena = v.AppendAttributes(b.arena)
		all := b.arena[start:]
		kept := 0
		for i := range all {
			switch kv := all[i]; logPlacement(kv.Key) {
			case placeRun:
				run = kv.Value.String()
			case placeStage:
				stage = kv.Value.String()
			case placeInherited: // means nothing on a log: not kept
			default:
				all[kept] = kv
				kept++
			}
		}
		b.arena = b.arena[:start+kept]
	}
	if name := v.EventName(); name != "" {
		b.arena = append(b.arena, stagetrace.Attr{Key: string(attributes.LogEventName), Value: stagetrace.StringValue(name)})
	}
	if scope := v.Scope(); scope != "" {
		b.arena = append(b.arena, stagetrace.Attr{Key: string(attributes.LogScope), Value: stagetrace.StringValue(scope)})
	}
	traceID := v.TraceID()
	if run == "" && traceID.IsValid() {
		run = b.traceHex(traceID)
	}
	b.batch.Events = append(b.batch.Events, stagetrace.TraceEvent{
		Name:     stagetrace.LogEventName,
		RunID:    run,
		Stage:    stage,
		TraceID:  traceID,
		SpanID:   v.SpanID(),
		Time:     v.Time(),
		Attrs:    nilIfEmpty(b.arena[start:len(b.arena):len(b.arena)]),
		Severity: v.Severity(),
		Body:     v.Body(),
	})
}

// placement is what Add or AddLog does with an attribute of a span or a
// log record.
type placement uint8

const (
	placeNone      placement = iota // an attribute of the span or event
	placeRun                        // run.id: the run, not kept
	placeStage                      // run.stage: the stage, not kept
	placeInherited                  // run.stage_inherited: whether a span's stage is its parent's; nothing on a log; not kept
	placeFinding                    // finding.<name> on a span: a finding, kept as <name>
)

// logPlacement returns what AddLog does with the attribute of key: a
// span's rule, but a log has no findings.
func logPlacement(key string) placement {
	if p := spanPlacement(key); p != placeFinding {
		return p
	}
	return placeNone
}

// placedLogView is a LogView that takes the run and stage out of its
// attributes as it appends them (by logPlacement), so that AddLog neither
// converts them nor moves the others down over them.
type placedLogView interface {
	// appendUnplaced appends the record's attributes but the placement
	// ones to dst and returns the run and stage those name, read as
	// stagetrace.Value.String reads them.
	appendUnplaced(dst stagetrace.Attrs) (_ stagetrace.Attrs, run, stage string)
}
