package stagetrace

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// TraceID is a W3C trace id. Its JSON form is 32 lowercase hex digits.
type TraceID [16]byte

// IsValid reports whether the trace id is not all zeros.
func (t TraceID) IsValid() bool { return t != TraceID{} }

// String returns the trace id as 32 lowercase hex digits.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// SpanID is a W3C span id. Its JSON form is 16 lowercase hex digits, or the
// empty string when the id is zero (a root span's parent).
type SpanID [8]byte

// IsValid reports whether the span id is not all zeros.
func (s SpanID) IsValid() bool { return s != SpanID{} }

// String returns the span id as 16 lowercase hex digits, or "" when zero.
func (s SpanID) String() string {
	if !s.IsValid() {
		return ""
	}
	return hex.EncodeToString(s[:])
}

// StatusCode is the outcome of a span.
type StatusCode uint8

// Span status codes, as OpenTelemetry defines them.
const (
	StatusUnset StatusCode = iota
	StatusOK
	StatusError
)

var statusNames = [...]string{StatusUnset: "unset", StatusOK: "ok", StatusError: "error"}

// String returns "unset", "ok" or "error".
func (c StatusCode) String() string {
	if int(c) < len(statusNames) {
		return statusNames[c]
	}
	return "unset"
}

// ParseStatusCode parses the String form of a status code.
func ParseStatusCode(s string) (StatusCode, bool) {
	for i, n := range statusNames {
		if n == s {
			return StatusCode(i), true
		}
	}
	return StatusUnset, false
}

// SpanKind is the role of a span in a trace, as OpenTelemetry defines it.
type SpanKind uint8

// Span kinds, numbered as in OpenTelemetry's trace API.
const (
	SpanKindUnspecified SpanKind = iota
	SpanKindInternal
	SpanKindServer
	SpanKindClient
	SpanKindProducer
	SpanKindConsumer
)

var kindNames = [...]string{
	SpanKindUnspecified: "unspecified",
	SpanKindInternal:    "internal",
	SpanKindServer:      "server",
	SpanKindClient:      "client",
	SpanKindProducer:    "producer",
	SpanKindConsumer:    "consumer",
}

// String returns the lowercase name of the kind ("internal", "client", ...).
func (k SpanKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unspecified"
}

// ParseSpanKind parses the String form of a span kind.
func ParseSpanKind(s string) (SpanKind, bool) {
	for i, n := range kindNames {
		if n == s {
			return SpanKind(i), true
		}
	}
	return SpanKindUnspecified, false
}

// Resource describes the entity that produced spans (service name, host,
// ...). Spans of one resource share one *Resource, so encoders can write its
// attributes once per resource rather than once per span.
type Resource struct {
	Attrs Attrs
}

// StageSpan is one ended span seen as a step of a run.
type StageSpan struct {
	RunID         string     // run.id; the trace id when nothing set one
	Stage         string     // run.stage, "" when the span has none
	Name          string     // span name
	TraceID       TraceID    // trace the span belongs to
	SpanID        SpanID     // the span's own id
	ParentSpanID  SpanID     // zero for a root span
	StartTime     time.Time  // when the span started
	EndTime       time.Time  // when the span ended
	Status        StatusCode // span status
	StatusMessage string     // description given with an error status
	Kind          SpanKind   // span kind
	Attrs         Attrs      // span attributes less run.id, run.stage and finding.*
	Findings      Attrs      // finding.<name> attributes, keyed by <name>
	Resource      *Resource  // nil when unknown
	Scope         string     // instrumentation scope name
}

// Elapsed returns the span's duration.
func (s *StageSpan) Elapsed() time.Duration { return s.EndTime.Sub(s.StartTime) }

// ElapsedMS returns the span's duration in milliseconds, the origin model's
// elapsed_ms.
func (s *StageSpan) ElapsedMS() float64 { return float64(s.Elapsed()) / float64(time.Millisecond) }

// TraceEvent is something that happened at an instant inside a span: an
// OpenTelemetry span event (an exception, a log, a metric), a synthesized
// stage_start / stage_end, or a log record (named LogEventName), which may
// also have happened outside any span.
type TraceEvent struct {
	Name    string    // event name
	RunID   string    // run of the span the event belongs to
	Stage   string    // stage of that span
	TraceID TraceID   // trace of that span
	SpanID  SpanID    // that span
	Time    time.Time // when it happened; "ts" in JSON, seconds since the epoch
	Attrs   Attrs     // event attributes
	// Severity and Body are a log event's severity and body; zero and
	// empty for other events.
	Severity Severity
	Body     Value
}

// IsLog reports whether e is a log event: named LogEventName, or carrying
// a severity or a body. Only log events have severity and body in JSON.
func (e *TraceEvent) IsLog() bool {
	return e.Name == LogEventName || !e.Severity.IsZero() || e.Body.Kind() != KindEmpty
}

// Batch is what sinks receive: the spans and events of one export call.
//
// A Batch is lent to a sink for the duration of its Write: once Write has
// returned, the caller may reuse the batch's arrays (its spans, its
// events, their attribute and finding slices, and the slices the values
// in them hold) for the next batch, so that exporting costs no allocation
// per batch. A sink must not modify a Batch, and a sink that keeps any
// part of it past Write (queues it, keeps its records in memory) must
// keep a copy: [Batch.Clone]. Strings and Resources are never reused, and
// may be kept as they are.
type Batch struct {
	Spans  []StageSpan
	Events []TraceEvent
}

// Clone returns a deep copy of b that shares nothing with it but strings
// and Resources: what a sink keeps past Write. Attributes and findings of
// the copy are held in one array.
func (b Batch) Clone() Batch {
	n := 0
	for i := range b.Spans {
		n += len(b.Spans[i].Attrs) + len(b.Spans[i].Findings)
	}
	for i := range b.Events {
		n += len(b.Events[i].Attrs)
	}
	arena := make(Attrs, 0, n)
	out := Batch{Spans: slices.Clone(b.Spans), Events: slices.Clone(b.Events)}
	for i := range out.Spans {
		s := &out.Spans[i]
		s.Attrs, arena = cloneAttrsInto(s.Attrs, arena)
		s.Findings, arena = cloneAttrsInto(s.Findings, arena)
	}
	for i := range out.Events {
		ev := &out.Events[i]
		ev.Attrs, arena = cloneAttrsInto(ev.Attrs, arena)
		ev.Body = cloneValue(ev.Body)
	}
	return out
}

// cloneAttrsInto appends deep copies of a to arena and returns them, full
// (appending to them cannot reach into the rest of arena), and arena. A
// nil a stays nil.
func cloneAttrsInto(a, arena Attrs) (Attrs, Attrs) {
	if a == nil {
		return nil, arena
	}
	start := len(arena)
	for i := range a {
		arena = append(arena, Attr{Key: a[i].Key, Value: cloneValue(a[i].Value)})
	}
	return arena[start:len(arena):len(arena)], arena
}

// cloneValue returns a deep copy of v: its slices copied, its elements and
// entries too.
func cloneValue(v Value) Value {
	switch v.kind {
	case KindBytes:
		return BytesValue(slices.Clone(v.AsBytes()))
	case KindBoolSlice:
		return BoolSliceValue(slices.Clone(v.AsBoolSlice()))
	case KindInt64Slice:
		return Int64SliceValue(slices.Clone(v.AsInt64Slice()))
	case KindFloat64Slice:
		return Float64SliceValue(slices.Clone(v.AsFloat64Slice()))
	case KindStringSlice:
		// Also what makes a StringSliceRef, whose header lives in an
		// array the caller reuses, a value of its own.
		return StringSliceValue(slices.Clone(v.AsStringSlice()))
	case KindSlice:
		in := v.AsSlice()
		out := make([]Value, len(in))
		for i := range in {
			out[i] = cloneValue(in[i])
		}
		return SliceValue(out...)
	case KindMap:
		out, _ := cloneAttrsInto(v.AsMap(), nil)
		return MapValue(out...)
	}
	return v
}

// Len returns the number of records in the batch.
func (b Batch) Len() int { return len(b.Spans) + len(b.Events) }

// ErrClosed is the error of a sink's Write after its Shutdown. Sinks may
// wrap it with what names them (a path, a URL); test for it with
// errors.Is.
var ErrClosed = errors.New("stagetrace: sink is shut down")

// LimitDepth truncates, in place, every value of the batch nested deeper
// than MaxDepth (see LimitDepth), in span attributes, findings, resources
// and event attributes, and returns how many slices and maps it truncated.
// The mapping calls it on every batch it makes, so a hostile OTLP client
// cannot store a value that a reader would refuse.
func (b Batch) LimitDepth() int {
	n := 0
	// A resource is shared, with other batches too, so one that is too
	// deep is replaced by a limited copy rather than changed; its spans in
	// this batch share the copy.
	var checked, deep, limited *Resource
	for i := range b.Spans {
		s := &b.Spans[i]
		n += s.Attrs.LimitDepth() + s.Findings.LimitDepth()
		switch r := s.Resource; {
		case r == nil, r == checked:
		case r == deep:
			s.Resource = limited
		case !r.Attrs.tooDeep():
			checked = r
		default:
			attrs := slices.Clone(r.Attrs)
			deep, limited = r, &Resource{Attrs: attrs}
			s.Resource, n = limited, n+attrs.LimitDepth()
		}
	}
	for i := range b.Events {
		ev := &b.Events[i]
		n += ev.Attrs.LimitDepth()
		if v, k := LimitDepth(ev.Body); k > 0 {
			ev.Body, n = v, n+k
		}
	}
	return n
}

// Sink receives batches of records. Write may be called concurrently by
// different exporters; a sink that is not safe for that must serialize
// itself. After Shutdown returns, Write returns an error matching
// [ErrClosed].
//
// Write borrows its batch: the caller may overwrite the batch's arrays
// once Write returns, so a sink that keeps any of it past Write, or hands
// it to a goroutine that outlives the call, keeps a copy ([Batch.Clone]).
// Strings and Resources may be kept as they are.
type Sink interface {
	Write(ctx context.Context, b Batch) error
	Shutdown(ctx context.Context) error
}

// Flusher is implemented by sinks that buffer: ForceFlush makes every
// record written before the call durable (on disk, sent, ...).
type Flusher interface {
	ForceFlush(ctx context.Context) error
}

// Tokens are token counts of the five kinds and their total, as package
// usage reads them from a span's findings: input tokens include the cache
// tokens and output tokens the reasoning tokens, as the GenAI conventions
// count them.
type Tokens struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	ReasoningOutputTokens    int64 `json:"reasoning_output_tokens"`
	// TotalTokens is input plus output tokens, or the total_tokens
	// finding of a span that reported neither.
	TotalTokens int64 `json:"total_tokens"`
}

// Run is one run seen as a whole: what a store keeps of it without reading
// its spans, and what summaries print. Package usage computes it from the
// run's records (usage.Rollup): every field is counted there.
type Run struct {
	ID     string
	Start  time.Time // when its first span started
	End    time.Time // when its last span ended
	Stages int       // distinct non-empty stages
	Spans  int
	Errors int // spans with status error
	// Tokens are the token counts of the run's spans added up.
	Tokens
	// Cost is CostNanos, the exact sum of the spans' costs in
	// billionths of Currency, in currency units; both are zero unless
	// HasCost.
	Cost      float64
	CostNanos int64
	Currency  string
	// CostSpans counts the spans whose cost was added, CostErrors those
	// whose cost is unknown.
	CostSpans  int64
	CostErrors int64
	// CostUnknown is set when the spans' costs cannot be summed (they
	// are in different currencies).
	CostUnknown bool
}

// HasCost reports whether the run has a known cost: some span had one,
// and they add up.
func (r Run) HasCost() bool { return r.CostSpans > 0 && !r.CostUnknown }

// runJSON is the JSON form of a Run, as stagetrace runs --json prints it.
type runJSON struct {
	RunID      string    `json:"run_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	DurationMS float64   `json:"duration_ms"`
	Status     string    `json:"status"`
	Stages     int       `json:"stages"`
	Spans      int       `json:"spans"`
	Errors     int       `json:"errors"`
	Tokens
	Cost        *float64 `json:"cost"` // null unless HasCost
	CostNanos   int64    `json:"cost_nanos"`
	Currency    string   `json:"currency"`
	CostSpans   int64    `json:"cost_spans"`
	CostErrors  int64    `json:"cost_errors"`
	CostUnknown bool     `json:"cost_unknown"`
}

// MarshalJSON writes the run as one object: run_id, start and end in UTC,
// duration_ms, status, the counts, and cost, null when the run has no
// known cost.
func (r Run) MarshalJSON() ([]byte, error) {
	out := runJSON{
		RunID: r.ID, Start: r.Start.UTC(), End: r.End.UTC(),
		DurationMS: float64(r.Duration()) / float64(time.Millisecond), Status: r.Status(),
		Stages: r.Stages, Spans: r.Spans, Errors: r.Errors,
		Tokens:    r.Tokens,
		CostNanos: r.CostNanos, Currency: r.Currency, CostSpans: r.CostSpans,
		CostErrors: r.CostErrors, CostUnknown: r.CostUnknown,
	}
	if r.HasCost() {
		c := r.Cost
		out.Cost = &c
	}
	return json.Marshal(out)
}

// Values of Run.Status.
const (
	RunStatusOK    = "ok"
	RunStatusError = "error"
)

// Duration returns the time from the run's first start to its last end.
func (r Run) Duration() time.Duration { return r.End.Sub(r.Start) }

// Status returns RunStatusError when a span of the run failed, else
// RunStatusOK.
func (r Run) Status() string {
	if r.Errors > 0 {
		return RunStatusError
	}
	return RunStatusOK
}
