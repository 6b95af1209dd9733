package query

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stagetrace/stagetrace"
)

// LogReader answers log queries: the log events (stagetrace.LogEventName)
// a store or a JSONL file holds. The store and package query/memquery
// implement it.
type LogReader interface {
	// Logs returns the log events q selects, in order of time.
	Logs(ctx context.Context, q LogQuery) ([]stagetrace.TraceEvent, error)
}

// LogQuery selects log events.
type LogQuery struct {
	// Run, when set, selects the events of that run only.
	Run string
	// Where holds filters every event returned matches; see MatchLog for
	// the fields of a log event.
	Where []Filter
	// Limit caps how many events are returned, the latest kept; 0 means
	// no limit.
	Limit int
}

// Fields of a log event, in filters on logs. Other fields name
// attributes, as for spans (attr.<key> or a bare key).
const (
	// LogSeverity is the event's level (stagetrace.Level), compared by
	// level order with a level's name: severity>=warn.
	LogSeverity = "severity"
	// LogSeverityNumber is OpenTelemetry's severity number, a number.
	LogSeverityNumber = "severity_number"
	// LogSeverityText is the severity text the logger wrote.
	LogSeverityText = "severity_text"
	// LogBody is the body as text: a string body itself, any other body
	// its JSON form (stagetrace.Value.String); body~"rate limit".
	LogBody = "body"
)

// logFields are the built-in fields of a log event and their types; the
// span fields they share (run_id, stage, trace_id) keep theirs.
var logFields = map[string]FieldType{
	LogSeverity:       TypeEnum,
	LogSeverityNumber: TypeNumber,
	LogSeverityText:   TypeString,
	LogBody:           TypeString,
	FieldRunID:        TypeString,
	FieldStage:        TypeString,
	FieldTraceID:      TypeID,
}

// CheckLogFilters reports the first filter that cannot be evaluated on a
// log event: a span field logs do not have (name, status, ...), a level
// that is not one of the six, a value of the wrong type.
func CheckLogFilters(filters []Filter) error {
	for _, f := range filters {
		if err := checkLog(f); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

func checkLog(f Filter) error {
	ref, err := logRef(f.Field)
	if err != nil {
		return err
	}
	if !f.Op.valid() {
		return fmt.Errorf("unknown operator %q", string(f.Op))
	}
	if err := checkValue(f.Op, f.Value); err != nil {
		return err
	}
	if ref.Source != SourceBuiltin || f.Op == OpExists {
		return nil
	}
	if ref.Name == LogSeverity {
		if f.Value.Kind() != stagetrace.KindString {
			return fmt.Errorf("severity compares with a level, not %s: one of %s", f.Value.Kind(), strings.Join(LevelNames(), ", "))
		}
		if f.Op.IsMatch() {
			return nil
		}
		if _, ok := stagetrace.ParseLevel(f.Value.AsString()); !ok {
			return fmt.Errorf("unknown severity %q: want one of %s", f.Value.AsString(), strings.Join(LevelNames(), ", "))
		}
		return nil
	}
	return checkTyped(ref.Name, logFields[ref.Name], f.Op, f.Value)
}

// LevelNames returns the names of the six levels, least severe first.
func LevelNames() []string {
	var names []string
	for l := stagetrace.LevelVerbose; l <= stagetrace.LevelCritical; l++ {
		names = append(names, l.String())
	}
	return names
}

// logRef resolves a field of a log filter.
func logRef(field string) (Ref, error) {
	if _, ok := logFields[field]; ok {
		return Ref{Source: SourceBuiltin, Name: field}, nil
	}
	ref, err := ParseField(field)
	if err != nil {
		return ref, err
	}
	switch ref.Source {
	case SourceFinding:
		return ref, fmt.Errorf("log events have no findings: %q", field)
	case SourceBuiltin:
		return ref, fmt.Errorf("log events have no %s: use %s, or attr.%s for an attribute", field, strings.Join(logFieldNames(), ", "), field)
	}
	return ref, nil
}

func logFieldNames() []string {
	return []string{LogSeverity, LogSeverityNumber, LogSeverityText, LogBody, FieldRunID, FieldStage, FieldTraceID}
}

// MatchLog reports whether ev satisfies every filter. Filters on logs
// compare as span filters do, and a filter that does not validate
// (CheckLogFilters) matches nothing. severity compares levels in order
// (verbose < debug < info < warn < error < critical); an event of
// unspecified level satisfies no ordering. stage exists only when the
// event has one.
func MatchLog(filters []Filter, ev *stagetrace.TraceEvent) bool {
	for i := range filters {
		if !matchLog(filters[i], ev) {
			return false
		}
	}
	return true
}

func matchLog(f Filter, ev *stagetrace.TraceEvent) bool {
	if checkLog(f) != nil {
		return false
	}
	ref, _ := logRef(f.Field)
	if ref.Source != SourceBuiltin {
		v, ok := ev.Attrs.Get(ref.Name)
		if !ok {
			return false
		}
		return f.Op == OpExists || compare(f.Op, v, f.Value)
	}
	if ref.Name == LogSeverity && !f.Op.IsMatch() && f.Op != OpExists {
		level := ev.Severity.Level()
		if level == stagetrace.LevelUnspecified {
			return f.Op == OpNe
		}
		want, _ := stagetrace.ParseLevel(f.Value.AsString())
		return f.Op.Holds(int(level) - int(want))
	}
	if ref.Name == FieldTraceID && (f.Op == OpEq || f.Op == OpNe) {
		id, _ := ParseTraceID(f.Value.AsString())
		return (ev.TraceID == id) == (f.Op == OpEq)
	}
	v, ok := LogLookup(ev, ref.Name)
	if !ok {
		return false
	}
	return f.Op == OpExists || compare(f.Op, v, f.Value)
}

// LogLookup returns the value of a built-in log field of ev, and whether
// ev has it: severity is the level's name (absent when unspecified),
// severity_text and stage exist only when not empty, body only when the
// event has one.
func LogLookup(ev *stagetrace.TraceEvent, field string) (stagetrace.Value, bool) {
	switch field {
	case LogSeverity:
		l := ev.Severity.Level()
		return stagetrace.StringValue(l.String()), l != stagetrace.LevelUnspecified
	case LogSeverityNumber:
		return stagetrace.Int64Value(ev.Severity.Number), true
	case LogSeverityText:
		return stagetrace.StringValue(ev.Severity.Text), ev.Severity.Text != ""
	case LogBody:
		return stagetrace.StringValue(ev.Body.String()), ev.Body.Kind() != stagetrace.KindEmpty
	case FieldRunID:
		return stagetrace.StringValue(ev.RunID), true
	case FieldStage:
		return stagetrace.StringValue(ev.Stage), ev.Stage != ""
	case FieldTraceID:
		return stagetrace.StringValue(ev.TraceID.String()), ev.TraceID.IsValid()
	}
	return stagetrace.Value{}, false
}

// LevelRange returns the narrowest range of levels [lo, hi] that the
// severity filters among filters allow, for a store to select by an
// index before MatchLog decides; ok is false when no event can match.
// Without severity filters it is [LevelUnspecified, LevelCritical].
func LevelRange(filters []Filter) (lo, hi stagetrace.Level, ok bool) {
	lo, hi = stagetrace.LevelUnspecified, stagetrace.LevelCritical
	for _, f := range filters {
		if f.Field != LogSeverity || f.Value.Kind() != stagetrace.KindString {
			continue
		}
		l, known := stagetrace.ParseLevel(f.Value.AsString())
		if !known {
			continue
		}
		switch f.Op {
		case OpEq:
			lo, hi = max(lo, l), min(hi, l)
		case OpGe:
			lo = max(lo, l)
		case OpGt:
			lo = max(lo, l+1)
		case OpLe:
			hi = min(hi, l)
		case OpLt:
			if l == stagetrace.LevelUnspecified {
				return lo, hi, false
			}
			hi = min(hi, l-1)
		}
	}
	if lo > stagetrace.LevelUnspecified {
		// An ordering excludes the unspecified level.
		lo = max(lo, stagetrace.LevelVerbose)
	}
	return lo, hi, lo <= hi
}

// SelectLogs applies q to events in memory: the log events of q.Run (any
// run when empty) that MatchLog accepts, in order of time (stable), the
// latest q.Limit when set. It is what query/memquery answers with, and
// what a store's answer is checked against.
func SelectLogs(events []stagetrace.TraceEvent, q LogQuery) ([]stagetrace.TraceEvent, error) {
	if err := CheckLogFilters(q.Where); err != nil {
		return nil, err
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("negative limit %d", q.Limit)
	}
	var out []stagetrace.TraceEvent
	for i := range events {
		ev := &events[i]
		if ev.Name != stagetrace.LogEventName || (q.Run != "" && ev.RunID != q.Run) || !MatchLog(q.Where, ev) {
			continue
		}
		out = append(out, *ev)
	}
	slices.SortStableFunc(out, func(a, b stagetrace.TraceEvent) int { return a.Time.Compare(b.Time) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}
