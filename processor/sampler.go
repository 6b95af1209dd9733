package processor

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/otelconv"
	"github.com/stagetrace/stagetrace/rules"
)

// Sampler returns a sampler that samples as inner does and gives each span
// it records the run.id, run.stage and run.stage_inherited that p would set
// in OnStart, as sampling attributes. The SDK sets those before the span's
// start attributes, so a value the span was started with still wins, and
// nothing of the span is read: this is the cheap way to run the default
// mode. Install it in the provider p is registered with, and in no other:
//
//	p := processor.New()
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSampler(p.Sampler(sdktrace.ParentBased(sdktrace.AlwaysSample()))),
//		sdktrace.WithSpanProcessor(p),
//	)
//
// Once the sampler has run, p leaves to it every span it can place, and
// places in OnStart, as before, the few it cannot: a span started with an
// empty run.id or run.stage, which must be replaced, and a sampling
// attribute cannot replace a start attribute. The resolution rules are
// those of New, applied to what the sampler sees: the attributes the span
// is started with (not those that processors registered before p add in
// their OnStart), its context and its parent span. A nil inner is the
// SDK's default sampler, ParentBased(AlwaysSample()).
//
// Sampler returns inner unchanged, and p keeps placing spans in OnStart,
// for a processor made by NewWrapping (which adds nothing at start), with
// WithRunIDFunc (the function is given the span, which a sampler does not
// have yet), and when the rules of WithRules read the instrumentation
// scope at start (rules.Set.StartReadsScope), which a sampler is not told.
func (p *Processor) Sampler(inner sdktrace.Sampler) sdktrace.Sampler {
	if inner == nil {
		inner = sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
	if p.next != nil || p.cfg.runIDFunc != nil || p.cfg.rules.StartReadsScope() {
		return inner
	}
	s := &sampler{p: p, inner: inner, withRules: p.cfg.rules.NeedsStart()}
	if p.cfg.rules.StartStageOnly() {
		s.stageRules = p.cfg.rules
	}
	return s
}

// sampler is the Sampler of a Processor.
type sampler struct {
	p     *Processor
	inner sdktrace.Sampler
	// withRules is set when the processor's rules have a start phase
	// (rules.Set.NeedsStart); the rules do not change after New.
	withRules bool
	// stageRules are the processor's rules when their start phase yields
	// only a stage, which rules.Set.StartStage gives without a span view.
	stageRules *rules.Set
	// interned holds the attributes the sampler returns, shared by the
	// spans that get the same values.
	interned valuesCache
}

var _ sdktrace.Sampler = (*sampler)(nil)

// Description names the sampler and the one it wraps.
func (s *sampler) Description() string {
	return "StagetraceSampler{" + s.inner.Description() + "}"
}

// ShouldSample returns the decision of the inner sampler, with the values
// the processor places the span with among its attributes, before those of
// the inner sampler.
func (s *sampler) ShouldSample(params sdktrace.SamplingParameters) sdktrace.SamplingResult {
	res := s.inner.ShouldSample(params)
	p := s.p
	if !p.sampling.Load() {
		// The sampler is installed: from now on OnStart leaves it the
		// spans it places. Until it first runs (or if another sampler
		// replaced it in the provider's options), OnStart places them all.
		p.sampling.Store(true)
	}
	if res.Decision == sdktrace.Drop || p.shut.Load() {
		return res
	}
	// The span's own values: the inner sampler's attributes, then the
	// start attributes, the last value of a key winning as in the SDK.
	o := ownOf(res.Attributes, params.Attributes)
	if o.emptyRun || o.emptyStage {
		// Only a later SetAttributes can replace an empty start value.
		p.deferSpan(params)
		return res
	}
	in := inputsOf(params.ParentContext)
	// The common case: the context names both run and stage, and the span
	// neither, so that the parent, baggage and defaults cannot change
	// what resolveFor would return. This runs on every span: it is kept
	// short.
	fromCtx := !o.hasRun && !o.hasStage && in.run != "" && in.stage != ""
	if fromCtx && len(res.Attributes) == 0 && (!s.withRules || s.stageRules != nil) {
		// Rules that yield only a stage (the GenAI preset's) read the
		// attributes in place: no span view, no pooled state. Their
		// stage, which the span does not set, beats the context's and
		// opens the stage (inputs.finish).
		if s.withRules {
			if stage := s.stageRules.StartStage(params.Name, otelconv.KindFromOTel(params.Kind), nil, params.Attributes); stage != "" {
				res.Attributes = s.shared(values{run: in.run, stage: stage})
				return res
			}
		}
		res.Attributes = s.shared(values{run: in.run, stage: in.stage, inherited: !in.mark.Claim()})
		return res
	}
	return s.place(&params, res, o, in, fromCtx)
}

// place is ShouldSample for the spans its short path leaves: those whose
// values come from elsewhere than the context, or that the rules may add
// attributes to. It is apart so that the short path keeps a small frame.
func (s *sampler) place(params *sdktrace.SamplingParameters, res sdktrace.SamplingResult, o own, in inputs, fromCtx bool) sdktrace.SamplingResult {
	p := s.p
	var r resolution
	if fromCtx {
		r = resolution{values: values{run: in.run, stage: in.stage}, runFrom: fromContext, stageFrom: fromContext}
	} else {
		// The parent is the span in the context: the SDK puts an invalid
		// one there for a new root. Without a run id function (Sampler
		// checked), nothing needs the span.
		r = p.resolveFor(in, nil, o.hasRun, o.hasStage, nil)
	}

	var st *ruleState
	if s.withRules {
		var stage string
		if s.stageRules != nil {
			stage = s.stageRules.StartStage(params.Name, otelconv.KindFromOTel(params.Kind), res.Attributes, params.Attributes)
		} else {
			st = ruleStates.Get().(*ruleState)
			defer st.release()
			attrs := params.Attributes
			if len(res.Attributes) > 0 {
				attrs = append(append(make([]attribute.KeyValue, 0, len(res.Attributes)+len(attrs)), res.Attributes...), attrs...)
			}
			st.span = rules.KeyValueSpan{SpanName: params.Name, SpanKind: otelconv.KindFromOTel(params.Kind), Attrs: attrs}
			p.cfg.rules.Eval(rules.PhaseStart, &st.span, &st.res)
			stage = st.res.Stage
		}
		if stage != "" && !o.hasStage {
			r.stage, r.stageFrom = stage, fromRule
		}
	}
	v := in.finish(r).values
	if v.run == "" && v.stage == "" && (st == nil || len(st.res.Attributes) == 0) {
		return res
	}
	if (st == nil || len(st.res.Attributes) == 0) && len(res.Attributes) == 0 {
		res.Attributes = s.shared(v)
		return res
	}
	var ruleAttrs stagetrace.Attrs
	if st != nil {
		ruleAttrs = st.res.Attributes
	}
	kv := make([]attribute.KeyValue, 0, 3+len(res.Attributes)+len(ruleAttrs))
	kv = appendValues(kv, v)
	for _, a := range ruleAttrs {
		kv = append(kv, attribute.KeyValue{Key: attribute.Key(a.Key), Value: otelconv.ToAttribute(a.Value)})
	}
	res.Attributes = append(kv, res.Attributes...)
	return res
}

// shared returns the attributes of v, the slice the spans before that got
// the same values got: the SDK only reads sampling attributes.
func (s *sampler) shared(v values) []attribute.KeyValue { return s.interned.get(v).kv }

// own is what a span's own attributes say of run.id and run.stage: whether
// each counts as set, and whether its last value is an empty string, which
// counts as unset and is to be replaced.
type own struct {
	hasRun, hasStage     bool
	emptyRun, emptyStage bool
}

func ownOf(first, then []attribute.KeyValue) own {
	var o own
	o.scan(first)
	o.scan(then)
	return o
}

func (o *own) scan(attrs []attribute.KeyValue) {
	for i := range attrs {
		// By index, so that only the key of each 64-byte KeyValue is
		// read.
		switch attrs[i].Key {
		case attributes.RunID:
			_, o.hasRun = stringOrSet(attrs[i].Value)
			o.emptyRun = !o.hasRun
		case attributes.RunStage:
			_, o.hasStage = stringOrSet(attrs[i].Value)
			o.emptyStage = !o.hasStage
		}
	}
}

// deferredKey identifies, as well as a sampler can before the span exists,
// a span the sampler left to OnStart: its trace and its parent.
type deferredKey struct {
	tid  trace.TraceID
	psid trace.SpanID
}

// deferredSpans counts the spans the sampler left to OnStart, by key.
//
// A span the sampler leaves to OnStart normally reaches it at once, on the
// same goroutine. One that never does (a sampler wrapping this one dropped
// it, or the sampler serves a provider this processor is not in) would stay
// forever, and keep OnStart reading every span's attributes. So the keys
// live in two generations: when the newer holds maxDeferred keys, the
// older is forgotten and the newer becomes the older. A key is then kept
// through at least maxDeferred later deferrals, far more than can come
// between a span's sampling and its start.
type deferredSpans struct {
	// n is the total, read by OnStart on every span: while it is zero,
	// there is nothing to look for.
	n      atomic.Int64
	mu     sync.Mutex
	m, old map[deferredKey]int
}

// maxDeferred is the number of keys a generation of deferredSpans holds.
const maxDeferred = 4096

// deferSpan records that the span about to start with params is left to
// OnStart.
func (p *Processor) deferSpan(params sdktrace.SamplingParameters) {
	k := deferredKey{tid: params.TraceID, psid: trace.SpanContextFromContext(params.ParentContext).SpanID()}
	d := &p.deferred
	d.mu.Lock()
	if len(d.m) >= maxDeferred {
		for _, c := range d.old {
			d.n.Add(-int64(c))
		}
		d.old, d.m = d.m, nil
	}
	if d.m == nil {
		d.m = make(map[deferredKey]int)
	}
	d.m[k]++
	d.n.Add(1)
	d.mu.Unlock()
}

// takeDeferred reports whether s is a span the sampler left to OnStart,
// and if so forgets it. A span the sampler placed never looks like one
// left to OnStart, which was started with an empty run.id or run.stage:
// the sampler's values come first, and only such a start value can end
// up empty. OnStart calls it only while the count is not zero.
func (p *Processor) takeDeferred(s sdktrace.ReadWriteSpan) bool {
	d := &p.deferred
	if o := ownOf(nil, s.Attributes()); !o.emptyRun && !o.emptyStage {
		return false
	}
	k := deferredKey{tid: s.SpanContext().TraceID(), psid: s.Parent().SpanID()}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range []map[deferredKey]int{d.m, d.old} {
		c := m[k]
		if c == 0 {
			continue
		}
		if c == 1 {
			delete(m, k)
		} else {
			m[k] = c - 1
		}
		d.n.Add(-1)
		return true
	}
	return false
}

// clear forgets every span left to OnStart.
func (d *deferredSpans) clear() {
	d.mu.Lock()
	d.m, d.old = nil, nil
	d.n.Store(0)
	d.mu.Unlock()
}
