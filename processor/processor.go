package processor

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/stagectx"
)

// Processor is an sdktrace.SpanProcessor that places spans in a run and a
// stage: it gives each span the run.id and run.stage attributes it lacks.
// Build one with New or NewWrapping; it is safe for concurrent use.
type Processor struct {
	cfg config
	// next is the processor ended spans are handed to; nil unless the
	// Processor was built by NewWrapping.
	next sdktrace.SpanProcessor
	// pending holds, in wrapping mode, the values each live span gets
	// when it ends.
	pending *pendingTable
	// ended hands out, in wrapping mode, the wrappers of ended spans.
	ended endedSpans
	// sampling is set once the sampler of Sampler has run: it places
	// spans, except those it records in deferred for OnStart.
	sampling atomic.Bool
	deferred deferredSpans
	shut     atomic.Bool
	// interned holds, in wrapping mode, the values given to spans,
	// shared by the spans that get the same ones.
	interned *valuesCache
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

// New returns a Processor that sets run.id and run.stage on each span as it
// starts. Register it before the processors that export spans, so that
// their OnStart sees the attributes too.
func New(opts ...Option) *Processor {
	return &Processor{cfg: newConfig(opts)}
}

// NewWrapping returns a Processor that stands in front of next (typically
// a BatchSpanProcessor): it forwards OnStart, ForceFlush and Shutdown to
// next and hands next each ended span with run.id and run.stage among its
// attributes. Register it instead of next, not beside it. It panics if
// next is nil.
func NewWrapping(next sdktrace.SpanProcessor, opts ...Option) *Processor {
	if next == nil {
		panic("processor: NewWrapping needs a next processor")
	}
	return &Processor{cfg: newConfig(opts), next: next, pending: newPendingTable(), interned: new(valuesCache)}
}

// OnStart resolves the run and stage of s. In the default mode it sets the
// missing attributes on s; in wrapping mode it keeps them for OnEnd when
// they can be found again without s, then calls next.OnStart.
func (p *Processor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if p.shut.Load() {
		return
	}
	if p.next != nil {
		p.startWrapped(inputsOf(parent), s)
		p.next.OnStart(parent, s)
		return
	}
	if p.sampling.Load() && (p.deferred.n.Load() == 0 || !p.takeDeferred(s)) {
		// The sampler placed s, as it starts, from its start options. The
		// count is checked here, so that the call is made only while the
		// sampler has left spans to OnStart.
		return
	}
	in := inputsOf(parent)
	withRules := p.cfg.rules.NeedsStart()
	if !withRules && !p.mayResolve(in) {
		// Reading the attributes of s makes the SDK copy them on the next
		// SetAttributes: skip it for spans that no source places anywhere.
		return
	}
	start := s.Attributes()
	r := p.resolve(in, s, start)
	if withRules {
		p.startRules(in, s, start, r, false)
		return
	}
	p.set(s, in.finish(r))
}

// OnEnd does nothing in the default mode. In wrapping mode it hands s to
// next, wrapped so that its attributes include the values OnStart kept.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	if p.next == nil || p.shut.Load() {
		return
	}
	if v, ok := p.pending.take(keyOf(s.SpanContext())); ok {
		_, _, hasRun, hasStage := runStage(s.Attributes())
		if (hasRun && v.run != "") || (hasStage && v.stage != "") {
			// Set during the span: the span's own value wins, as it would
			// have over the one New sets at start. What is left is interned
			// as what OnStart keeps is, so that such a span costs no
			// allocation either.
			w := *v
			if hasRun {
				w.run = ""
			}
			if hasStage {
				w.stage, w.inherited = "", false
			}
			v = &p.interned.get(w).values
		}
		if v.run != "" || v.stage != "" {
			e := p.ended.next()
			e.ReadOnlySpan, e.add = s, v
			s = e
		}
	}
	p.next.OnEnd(s)
}

// ForceFlush flushes next in wrapping mode; otherwise there is nothing to
// flush and it returns nil.
func (p *Processor) ForceFlush(ctx context.Context) error {
	if p.next == nil || p.shut.Load() {
		return nil
	}
	return p.next.ForceFlush(ctx)
}

// Shutdown stops the processor, and next in wrapping mode; later calls to
// any method do nothing. It returns ctx.Err() without stopping anything
// when ctx is already done, and nil when called again.
func (p *Processor) Shutdown(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !p.shut.CompareAndSwap(false, true) {
		return nil
	}
	if p.next == nil {
		p.deferred.clear()
		return nil
	}
	p.pending.clear()
	return p.next.Shutdown(ctx)
}

// inputs is what the context a span starts from offers it, looked up once
// per span.
type inputs struct {
	ctx context.Context
	// run and stage were set by attributes.ContextWithRun and
	// ContextWithStage; "" when absent.
	run, stage string
	// mark is the stage's mark: the first span that takes its stage from
	// it opens the stage.
	mark *stagectx.Mark
}

func inputsOf(ctx context.Context) inputs {
	in := inputs{ctx: ctx}
	// One lookup for both: stagectx keeps the run beside the stage.
	in.run, in.mark = stagectx.Get(ctx)
	in.stage = in.mark.Stage()
	return in
}

// finish returns r with its inherited flag decided, once r.stage is final:
// a stage from the parent span is inherited; one from the context is
// inherited unless this span is the first to claim the context's mark, and
// so opens the stage. A stage from baggage or a rule opens the stage, as
// one the span declares itself does.
func (in inputs) finish(r resolution) resolution {
	r.inherited = false
	if r.stage == "" {
		return r
	}
	switch r.stageFrom {
	case fromParentAttr, fromParentPending:
		r.inherited = true
	case fromContext:
		r.inherited = !in.mark.Claim()
	}
	return r
}

// mayResolve reports whether any source could give a span starting from
// in a value, checking the cheap sources first.
func (p *Processor) mayResolve(in inputs) bool {
	if in.run != "" || in.stage != "" || p.cfg.defaultRunID != "" || p.cfg.runIDFunc != nil {
		return true
	}
	if p.cfg.baggageRun || p.cfg.baggageStage {
		if baggage.FromContext(in.ctx).Len() > 0 {
			return true
		}
	}
	_, ok := trace.SpanFromContext(in.ctx).(sdktrace.ReadOnlySpan)
	return ok
}

// source tells where a resolved value came from. Wrapping mode uses it to
// decide whether a value can wait until the span ends.
type source uint8

const (
	fromNone    source = iota
	fromContext        // attributes.ContextWithRun or ContextWithStage
	// fromParentAttr is the parent span's attribute.
	fromParentAttr
	// fromParentPending is the value a live parent span will get at its end
	// (wrapping mode).
	fromParentPending
	fromBaggage
	fromFunc    // WithRunIDFunc
	fromDefault // WithDefaultRunID
	fromRule    // WithRules
)

// values is a run id and a stage, "" for none, and whether the stage is
// inherited rather than opened by the span (run.stage_inherited).
type values struct {
	run, stage string
	inherited  bool
}

// resolution is what resolve decided to add to a span, and the source of
// each value.
type resolution struct {
	values
	runFrom, stageFrom source
}

func (r resolution) empty() bool { return r.run == "" && r.stage == "" }

// deferrable reports whether a span started after the span r belongs to
// has ended would still find r's values without them on the span: from its
// own context (which derives from the one r was resolved from), baggage or
// the default. Values from a parent's attributes or from a function would
// be lost; so would those of any source added later, unless listed here.
func (r resolution) deferrable() bool {
	ok := func(s source) bool {
		switch s {
		case fromNone, fromContext, fromParentPending, fromBaggage, fromDefault:
			return true
		}
		return false
	}
	return ok(r.runFrom) && ok(r.stageFrom)
}

// resolve returns the run id and stage to add to span s, which starts from
// in.ctx with the attributes start: for each key start lacks, the value of
// the first source that has one. s is asked for its parent and handed to
// the run id function.
func (p *Processor) resolve(in inputs, s sdktrace.ReadOnlySpan, start []attribute.KeyValue) resolution {
	_, _, hasRun, hasStage := runStage(start)
	parent := s.Parent()
	return p.resolveFor(in, &parent, hasRun, hasStage, s)
}

// resolveFor is resolve for a span whose own attributes hold run.id when
// hasRun and run.stage when hasStage, and whose parent is parent, or the
// span in in.ctx when parent is nil. s is handed to the run id function;
// it is nil when a sampler decides, before the span exists, and the
// Sampler is not used with a run id function.
func (p *Processor) resolveFor(in inputs, parent *trace.SpanContext, hasRun, hasStage bool, s sdktrace.ReadOnlySpan) resolution {
	var r resolution
	if !hasRun && in.run != "" {
		r.run, r.runFrom = in.run, fromContext
	}
	if !hasStage && in.stage != "" {
		r.stage, r.stageFrom = in.stage, fromContext
	}
	needRun, needStage := !hasRun && r.run == "", !hasStage && r.stage == ""
	if !needRun && !needStage {
		return r
	}

	pv, runFrom, stageFrom := p.parentValues(in.ctx, parent)
	if needRun && pv.run != "" {
		r.run, r.runFrom, needRun = pv.run, runFrom, false
	}
	if needStage && pv.stage != "" {
		r.stage, r.stageFrom, needStage = pv.stage, stageFrom, false
	}

	bagRun, bagStage := needRun && p.cfg.baggageRun, needStage && p.cfg.baggageStage
	if bagRun || bagStage {
		// One lookup of the baggage for both members, rather than one per
		// attributes.FromBaggage call.
		b := baggage.FromContext(in.ctx)
		if v := b.Member(string(attributes.RunID)).Value(); bagRun && v != "" {
			r.run, r.runFrom, needRun = v, fromBaggage, false
		}
		if v := b.Member(string(attributes.RunStage)).Value(); bagStage && v != "" {
			r.stage, r.stageFrom = v, fromBaggage
		}
	}

	if needRun && p.cfg.runIDFunc != nil && s != nil {
		if v := p.cfg.runIDFunc(in.ctx, s); v != "" {
			r.run, r.runFrom, needRun = v, fromFunc, false
		}
	}
	if needRun && p.cfg.defaultRunID != "" {
		r.run, r.runFrom = p.cfg.defaultRunID, fromDefault
	}
	return r
}

// parentValues returns the run id and stage of the in-process parent span
// of a span whose parent is par (nil: the span in ctx), and where each was
// found: the parent's attributes, or in wrapping mode the values the live
// parent gets at its end.
func (p *Processor) parentValues(ctx context.Context, par *trace.SpanContext) (v values, runFrom, stageFrom source) {
	ps, ok := trace.SpanFromContext(ctx).(sdktrace.ReadOnlySpan)
	if !ok {
		// No span, a remote one or one of another SDK: nothing to read.
		return v, fromNone, fromNone
	}
	psc := ps.SpanContext()
	// With trace.WithNewRoot the span in ctx is not the parent.
	if par != nil && (par.SpanID() != psc.SpanID() || par.TraceID() != psc.TraceID()) {
		return v, fromNone, fromNone
	}
	run, stage, hasRun, hasStage := runStage(ps.Attributes())
	if run != "" {
		v.run, runFrom = run, fromParentAttr
	}
	if stage != "" {
		v.stage, stageFrom = stage, fromParentAttr
	}
	if p.pending != nil && (!hasRun || !hasStage) {
		if pv, ok := p.pending.get(keyOf(psc)); ok {
			if !hasRun && pv.run != "" {
				v.run, runFrom = pv.run, fromParentPending
			}
			if !hasStage && pv.stage != "" {
				v.stage, stageFrom = pv.stage, fromParentPending
			}
		}
	}
	return v, runFrom, stageFrom
}

// runStage scans attrs for run.id and run.stage. hasRun and hasStage
// report a key that counts as set: a non-empty string or a value of any
// other type, which is left as it is. run and stage are the string values.
func runStage(attrs []attribute.KeyValue) (run, stage string, hasRun, hasStage bool) {
	for i := range attrs {
		// By index, so that only the key of each 64-byte KeyValue is read.
		switch attrs[i].Key {
		case attributes.RunID:
			run, hasRun = stringOrSet(attrs[i].Value)
		case attributes.RunStage:
			stage, hasStage = stringOrSet(attrs[i].Value)
		}
	}
	return run, stage, hasRun, hasStage
}

func stringOrSet(v attribute.Value) (string, bool) {
	if v.Type() != attribute.STRING {
		return "", true
	}
	s := v.AsString()
	return s, s != ""
}

// kvPool holds the argument buffers of set: a slice passed to an
// interface method escapes, and the SDK copies the attributes out of it.
var kvPool = sync.Pool{New: func() any { return new([3]attribute.KeyValue) }}

// inheritedAttr is run.stage_inherited=true.
var inheritedAttr = attributes.StageInherited.Bool(true)

// appendValues appends the attributes of v to kv.
func appendValues(kv []attribute.KeyValue, v values) []attribute.KeyValue {
	if v.run != "" {
		kv = append(kv, attributes.Run(v.run))
	}
	if v.stage != "" {
		kv = append(kv, attributes.Stage(v.stage))
		if v.inherited {
			kv = append(kv, inheritedAttr)
		}
	}
	return kv
}

// set adds the values of r to s in one SetAttributes call, or none.
func (p *Processor) set(s sdktrace.ReadWriteSpan, r resolution) {
	if r.empty() {
		return
	}
	buf := kvPool.Get().(*[3]attribute.KeyValue)
	s.SetAttributes(appendValues(buf[:0], r.values)...)
	*buf = [3]attribute.KeyValue{} // do not keep the strings alive
	kvPool.Put(buf)
}

// startWrapped is OnStart in wrapping mode. Values that a later span could
// find again without s wait in p.pending until s ends; the others are set
// on s now, as New does, so that a child starting after s ended finds them
// in its attributes.
func (p *Processor) startWrapped(in inputs, s sdktrace.ReadWriteSpan) {
	withRules := p.cfg.rules.NeedsStart()
	if !withRules && in.run != "" && in.stage != "" && in.mark.Opened() {
		// The common case, the context names both and an earlier span
		// opened the stage: what resolve would return, without building a
		// resolution.
		if p.pending.put(keyOf(s.SpanContext()), &p.interned.get(values{run: in.run, stage: in.stage, inherited: true}).values) {
			return
		}
	}
	// Resolve as if s had no start attributes: OnEnd drops what s set
	// itself, and reading them now would cost what this mode saves.
	r := p.resolve(in, s, nil)
	if withRules {
		// Rules read the start attributes, and a stage they give must be on
		// the span for the children that start after it ended: when they
		// give something, everything is set now, as New does.
		start := s.Attributes()
		rr := r
		rr.run, rr.stage = dropSet(start, r.values)
		if p.startRules(in, s, start, rr, true) {
			return
		}
	}
	if r.stage != "" && r.stageFrom == fromContext && !in.mark.Opened() {
		// s may be the one to open the context's stage, unless it declared
		// its own: only then read its attributes, once per stage.
		if _, _, _, hasStage := runStage(s.Attributes()); hasStage {
			r.stage = ""
		}
	}
	if r.empty() {
		return
	}
	// Decided once: finish claims the context's stage.
	r = in.finish(r)
	if r.deferrable() && p.pending.put(keyOf(s.SpanContext()), &p.interned.get(r.values).values) {
		return
	}
	_, _, hasRun, hasStage := runStage(s.Attributes())
	if hasRun {
		r.run = ""
	}
	if hasStage {
		r.stage, r.inherited = "", false
	}
	p.set(s, r)
}

// endedSpan is an ended span as wrapping mode hands it to next: the SDK's
// read-only span plus the run.id and run.stage it lacked.
type endedSpan struct {
	sdktrace.ReadOnlySpan
	add *values
}

// Attributes returns the span's attributes with run.id and run.stage. It
// builds a new slice on each call: the underlying one is shared with the
// other processors and must not be written.
func (s *endedSpan) Attributes() []attribute.KeyValue {
	base := s.ReadOnlySpan.Attributes()
	out := make([]attribute.KeyValue, 0, len(base)+3)
	needRun, needStage := s.add.run != "", s.add.stage != ""
	needInherited := needStage && s.add.inherited
	for _, a := range base {
		// An empty string counts as unset: replace it rather than repeat
		// the key.
		switch {
		case needRun && a.Key == attributes.RunID:
			a, needRun = attributes.Run(s.add.run), false
		case needStage && a.Key == attributes.RunStage:
			a, needStage = attributes.Stage(s.add.stage), false
		case needInherited && a.Key == attributes.StageInherited:
			a, needInherited = inheritedAttr, false
		}
		out = append(out, a)
	}
	if needRun {
		out = append(out, attributes.Run(s.add.run))
	}
	if needStage {
		out = append(out, attributes.Stage(s.add.stage))
	}
	if needInherited {
		out = append(out, inheritedAttr)
	}
	return out
}

// endedChunkLen is how many wrappers one allocation of endedSpans holds.
const endedChunkLen = 16

// endedSpans allocates the wrappers of ended spans in arrays of
// endedChunkLen: one allocation for many spans, where one allocation per
// ended span was a fifth of what wrapping mode costs. A chunk stays alive
// while next holds any of its wrappers, and with it the spans the other
// wrappers hold: a BatchSpanProcessor exports spans in the order they
// ended, so it lets go of neighbours together; a next that keeps a few
// spans for long keeps up to endedChunkLen spans' memory for each.
type endedSpans struct {
	cur atomic.Pointer[endedChunk]
}

type endedChunk struct {
	// used counts the wrappers handed out; past endedChunkLen the chunk
	// is full.
	used  atomic.Int32
	spans [endedChunkLen]endedSpan
}

// next returns a zero wrapper that no other call returns.
func (a *endedSpans) next() *endedSpan {
	for {
		c := a.cur.Load()
		if c != nil {
			if i := c.used.Add(1) - 1; i < endedChunkLen {
				return &c.spans[i]
			}
		}
		// Full or none yet: whoever swaps in a new chunk takes its first
		// wrapper, the others try again with it.
		nc := new(endedChunk)
		nc.used.Store(1)
		if a.cur.CompareAndSwap(c, nc) {
			return &nc.spans[0]
		}
	}
}
