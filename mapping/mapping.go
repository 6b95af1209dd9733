package mapping

import (
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// Options change what the mapping produces.
type Options struct {
	// StageEvents synthesizes a stage_start and a stage_end event for each
	// span that opens a stage.
	StageEvents bool
	// EvaluationEvents synthesizes a gen_ai.evaluation.result event for
	// each finding of a span, except those read from such events.
	EvaluationEvents bool
	// Enrich, when set, is applied to each span once mapped.
	Enrich Enricher
}

// Enricher derives more of a span from what it carries, once mapped: a
// stage, attributes, findings (rules.Set is one). The SDK exporter and the
// collector exporter share it through Options, so a span is enriched the
// same whichever path it takes.
type Enricher interface {
	// Apply may set span.Stage and add to span.Attrs and span.Findings;
	// it must not modify the slices it is given, only replace them. It is
	// called concurrently for different batches.
	Apply(span *stagetrace.StageSpan)
}

// Batcher maps spans into one stagetrace.Batch. All attributes of the
// batch share one backing array, so mapping a span costs no allocation of
// its own in the common case. A Batcher is not safe for concurrent use; make
// one per export call.
type Batcher struct {
	opts  Options
	batch stagetrace.Batch
	arena stagetrace.Attrs

	// The run id of a span without run.id is its trace id in hex; spans of
	// one trace usually come together, so the last one is remembered.
	lastTrace   stagetrace.TraceID
	lastTraceID string

	// evalNames are the findings of the span being added that were read
	// from its evaluation events, so that they are not emitted again.
	evalNames []string

	// nested is set once the batch holds a slice or map value: only then
	// can a value nest deeper than stagetrace.MaxDepth, and Batch need
	// walk the batch to limit it. lastRes is the last resource checked.
	nested  bool
	lastRes *stagetrace.Resource
}

// NewBatcher returns a Batcher sized for spans spans with about attrs
// attributes each.
func NewBatcher(opts Options, spans, attrs int) *Batcher {
	return &Batcher{
		opts:  opts,
		batch: stagetrace.Batch{Spans: make([]stagetrace.StageSpan, 0, spans)},
		arena: make(stagetrace.Attrs, 0, spans*attrs),
	}
}

// NewLogBatcher returns a Batcher sized for records log records (AddLog)
// with about attrs attributes each.
func NewLogBatcher(records, attrs int) *Batcher {
	return &Batcher{
		batch: stagetrace.Batch{Events: make([]stagetrace.TraceEvent, 0, records)},
		arena: make(stagetrace.Attrs, 0, records*attrs),
	}
}

// ReuseLogBatcher returns b emptied (Batcher.Reset), to map the next
// records into the arrays of the last, or NewLogBatcher(records, attrs)
// when b is nil: the log form of Mapper.Reuse.
func ReuseLogBatcher(b *Batcher, records, attrs int) *Batcher {
	if b == nil {
		return NewLogBatcher(records, attrs)
	}
	b.Reset()
	return b
}

// Reset empties b for the next batch, keeping its arrays: the batch it
// returned before, and every attribute slice of it, is then overwritten
// by the spans or records added next. Call it only once no sink can still
// read that batch (see stagetrace.Sink).
func (b *Batcher) Reset() {
	// Not cleared: what the arrays still point to past their new lengths
	// is one batch's strings at most, and zeroing them would cost what
	// allocating them did.
	b.batch.Spans, b.batch.Events = b.batch.Spans[:0], b.batch.Events[:0]
	b.arena = b.arena[:0]
	b.evalNames = b.evalNames[:0]
	b.nested, b.lastRes = false, nil
}

// Batch returns what has been mapped so far.
func (b *Batcher) Batch() stagetrace.Batch {
	if b.nested {
		b.batch.LimitDepth() // no value may nest deeper than stagetrace.MaxDepth
	}
	return b.batch
}

// noteNested sets b.nested when attrs hold a slice or map value.
func (b *Batcher) noteNested(attrs stagetrace.Attrs) {
	for i := range attrs {
		if attrs[i].Value.Kind().IsContainer() {
			b.nested = true
			return
		}
	}
}

// AttrCount returns how many attributes, findings and event attributes
// the batch holds, to size the next Batcher.
func (b *Batcher) AttrCount() int { return len(b.arena) }

// Add maps one span, and its events, into the batch. res is the span's
// resource, shared by the spans of one resource.
func (b *Batcher) Add(v SpanView, res *stagetrace.Resource) {
	start := len(b.arena)
	if res != b.lastRes && res != nil {
		b.lastRes = res
		b.noteNested(res.Attrs)
	}

	var p spanPlaces
	// attrs are the span's attributes; its findings start at
	// b.arena[findStart]. b.arena may move while evaluation findings are
	// appended below: attrs still points at the attributes then, which is
	// all that is needed of them.
	var attrs stagetrace.Attrs
	var findStart int
	if pv, ok := v.(placedSpanView); ok {
		b.arena, findStart, p = pv.appendPlaced(b.arena)
		attrs = b.arena[start:findStart]
	} else {
		b.arena = v.AppendAttributes(b.arena)
		all := b.arena[start:]
		// Partition in place: plain attributes move to the front, findings
		// are appended after the span's attributes with their prefix cut.
		kept := 0
		for i := range all {
			kv := all[i]
			switch spanPlacement(kv.Key) {
			case placeRun:
				p.run = kv.Value.String()
			case placeStage:
				p.stage = kv.Value.String()
			case placeInherited:
				p.inherited = kv.Value.AsBool()
			case placeFinding:
				b.arena = append(b.arena, stagetrace.Attr{Key: kv.Key[len(attributes.FindingPrefix):], Value: kv.Value})
			default:
				all[kept] = kv
				kept++
			}
			if kv.Value.Kind().IsContainer() {
				p.nested = true
			}
		}
		attrs, findStart = all[:kept], start+len(all)
	}
	if p.nested {
		b.nested = true
	}

	// Evaluation results recorded as span events are findings too: a span
	// attribute finding.<name> wins over an event for the same name.
	b.evalNames = b.evalNames[:0]
	for i, n := 0, v.EventCount(); i < n; i++ {
		if name, _ := v.Event(i); name != attributes.EventEvaluationResult {
			continue
		}
		mark := len(b.arena)
		b.arena = v.AppendEventAttributes(i, b.arena)
		kv, ok := evaluationFinding(b.arena[mark:])
		b.arena = b.arena[:mark]
		if ok && !hasKey(b.arena[findStart:], kv.Key) {
			b.arena = append(b.arena, kv)
			b.evalNames = append(b.evalNames, kv.Key)
		}
	}
	findings := b.arena[findStart:]

	traceID := v.TraceID()
	if p.run == "" {
		p.run = b.traceHex(traceID)
	}
	status, msg := v.Status()
	b.batch.Spans = append(b.batch.Spans, stagetrace.StageSpan{
		RunID:         p.run,
		Stage:         p.stage,
		Name:          v.Name(),
		TraceID:       traceID,
		SpanID:        v.SpanID(),
		ParentSpanID:  v.ParentSpanID(),
		StartTime:     v.StartTime(),
		EndTime:       v.EndTime(),
		Status:        status,
		StatusMessage: msg,
		Kind:          v.Kind(),
		Attrs:         nilIfEmpty(attrs[:len(attrs):len(attrs)]),
		Findings:      nilIfEmpty(findings[:len(findings):len(findings)]),
		Resource:      res,
		Scope:         v.Scope(),
	})
	// The span is enriched in place in the batch: a pointer to a local
	// would make every span escape to the heap through the interface.
	span := &b.batch.Spans[len(b.batch.Spans)-1]
	if b.opts.Enrich != nil {
		b.opts.Enrich.Apply(span)
		span.Attrs, span.Findings = nilIfEmpty(span.Attrs), nilIfEmpty(span.Findings)
		b.noteNested(span.Attrs)
		b.noteNested(span.Findings)
	}

	emitStage := b.opts.StageEvents && span.Stage != "" && !p.inherited
	if emitStage {
		b.event(span, attributes.EventStageStart, span.StartTime, nil)
	}
	for i, n := 0, v.EventCount(); i < n; i++ {
		name, t := v.Event(i)
		es := len(b.arena)
		b.arena = v.AppendEventAttributes(i, b.arena)
		b.noteNested(b.arena[es:])
		b.event(span, name, t, b.arena[es:len(b.arena):len(b.arena)])
	}
	if b.opts.EvaluationEvents {
		for _, f := range span.Findings {
			if !b.readBack(f.Key) {
				b.evaluationEvent(span, f)
			}
		}
	}
	if emitStage {
		b.event(span, attributes.EventStageEnd, span.EndTime, nil)
	}
}

// spanPlaces is what Add takes out of a span's attributes: its run, its
// stage and whether that stage was its parent's; and whether any of its
// values is a slice or a map (see Batcher.nested).
type spanPlaces struct {
	run, stage        string
	inherited, nested bool
}

// spanPlacement returns what Add does with the span attribute of key.
func spanPlacement(key string) placement {
	// Most keys are none of these: told by their first byte alone.
	if len(key) == 0 || key[0] != attributes.RunID[0] && key[0] != attributes.RunStage[0] &&
		key[0] != attributes.StageInherited[0] && key[0] != attributes.FindingPrefix[0] {
		return placeNone
	}
	switch key {
	case string(attributes.RunID):
		return placeRun
	case string(attributes.RunStage):
		return placeStage
	case string(attributes.StageInherited):
		return placeInherited
	}
	if len(key) > len(attributes.FindingPrefix) && strings.HasPrefix(key, attributes.FindingPrefix) {
		return placeFinding
	}
	return placeNone
}

// placedSpanView is a SpanView that places its attributes as it converts
// them (by spanPlacement), so that Add neither converts the run and stage
// nor moves the other attributes over them in a second pass.
type placedSpanView interface {
	// appendPlaced appends the span's attributes but the placement ones
	// to dst, then its findings, keyed by their names. It returns dst,
	// where in dst the findings start, and what the placement attributes
	// said, read as Add reads them.
	appendPlaced(dst stagetrace.Attrs) (_ stagetrace.Attrs, findStart int, p spanPlaces)
}

// evaluationFinding reads a gen_ai.evaluation.result event's attributes as
// a finding: named by gen_ai.evaluation.name, valued by the score value,
// else by the score label.
func evaluationFinding(attrs stagetrace.Attrs) (stagetrace.Attr, bool) {
	name, _ := attrs.Get(string(attributes.GenAIEvaluationName))
	if name.Kind() != stagetrace.KindString || name.AsString() == "" {
		return stagetrace.Attr{}, false
	}
	if v, ok := attrs.Get(string(attributes.GenAIEvaluationScoreValue)); ok {
		if _, num := v.Number(); num {
			return stagetrace.Attr{Key: name.AsString(), Value: v}, true
		}
	}
	if v, ok := attrs.Get(string(attributes.GenAIEvaluationScoreLabel)); ok && v.Kind() != stagetrace.KindEmpty {
		return stagetrace.Attr{Key: name.AsString(), Value: v}, true
	}
	return stagetrace.Attr{}, false
}

// evaluationEvent appends the gen_ai.evaluation.result event of finding f,
// at the span's end: numbers as the score value (float64), anything else
// as the score label, with the span's gen_ai.response.id.
func (b *Batcher) evaluationEvent(s *stagetrace.StageSpan, f stagetrace.Attr) {
	es := len(b.arena)
	b.arena = append(b.arena, stagetrace.Attr{Key: string(attributes.GenAIEvaluationName), Value: stagetrace.StringValue(f.Key)})
	// The conventions tie an evaluation to the completion it judged by
	// gen_ai.response.id, when the span has one.
	if id, ok := s.Attrs.Get(string(attributes.GenAIResponseID)); ok && id.Kind() == stagetrace.KindString && id.AsString() != "" {
		b.arena = append(b.arena, stagetrace.Attr{Key: string(attributes.GenAIResponseID), Value: id})
	}
	if n, ok := f.Value.Number(); ok {
		b.arena = append(b.arena, stagetrace.Attr{Key: string(attributes.GenAIEvaluationScoreValue), Value: stagetrace.Float64Value(n)})
	} else {
		b.arena = append(b.arena, stagetrace.Attr{Key: string(attributes.GenAIEvaluationScoreLabel), Value: stagetrace.StringValue(f.Value.String())})
	}
	b.event(s, attributes.EventEvaluationResult, s.EndTime, b.arena[es:len(b.arena):len(b.arena)])
}

func (b *Batcher) readBack(name string) bool {
	for _, n := range b.evalNames {
		if n == name {
			return true
		}
	}
	return false
}

func hasKey(a stagetrace.Attrs, key string) bool {
	_, ok := a.Get(key)
	return ok
}

func (b *Batcher) event(s *stagetrace.StageSpan, name string, t time.Time, attrs stagetrace.Attrs) {
	b.batch.Events = append(b.batch.Events, stagetrace.TraceEvent{
		Name:    name,
		RunID:   s.RunID,
		Stage:   s.Stage,
		TraceID: s.TraceID,
		SpanID:  s.SpanID,
		Time:    t,
		Attrs:   nilIfEmpty(attrs),
	})
}

func (b *Batcher) traceHex(id stagetrace.TraceID) string {
	if id != b.lastTrace || b.lastTraceID == "" {
		b.lastTrace, b.lastTraceID = id, id.String()
	}
	return b.lastTraceID
}

func nilIfEmpty(a stagetrace.Attrs) stagetrace.Attrs {
	if len(a) == 0 {
		return nil
	}
	return a
}
