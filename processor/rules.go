package processor

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/otelconv"
	"github.com/stagetrace/stagetrace/rules"
)

// ruleState is what evaluating the rules on one starting span needs. It is
// pooled: the span view escapes into the rules' Span interface, and the
// result's and the argument's slices are reused.
type ruleState struct {
	span rules.KeyValueSpan
	res  rules.Result
	kv   []attribute.KeyValue
}

var ruleStates = sync.Pool{New: func() any { return new(ruleState) }}

// startRules runs the start phase of the rules on s, whose start attributes
// are start, and sets on s in one SetAttributes call what r resolved and
// what the rules add. The rules' stage beats a stage r inherited (from the
// context, the parent or baggage) but not one s set itself; s opens it.
// When the rules yield nothing and onlyRules is set, it sets nothing,
// claims no stage of in, and returns false, so that wrapping mode can defer
// r as it does without rules.
func (p *Processor) startRules(in inputs, s sdktrace.ReadWriteSpan, start []attribute.KeyValue, r resolution, onlyRules bool) bool {
	var stage string
	var st *ruleState
	if p.cfg.rules.StartStageOnly() {
		// Rules that yield only a stage (the GenAI preset's) read the
		// attributes in place: no span view, no pooled state.
		// The scope reads as "", which StartStageOnly says no rule reads.
		stage = p.cfg.rules.StartStage(s.Name(), otelconv.KindFromOTel(s.SpanKind()), nil, start)
	} else {
		st = ruleStates.Get().(*ruleState)
		st.span = rules.KeyValueSpan{
			SpanName:  s.Name(),
			ScopeName: s.InstrumentationScope().Name,
			SpanKind:  otelconv.KindFromOTel(s.SpanKind()),
			Attrs:     start,
		}
		p.cfg.rules.Eval(rules.PhaseStart, &st.span, &st.res)
		stage = st.res.Stage
	}
	yielded := st != nil && len(st.res.Attributes) > 0
	if stage != "" {
		if _, _, _, hasStage := runStage(start); !hasStage {
			r.stage, r.stageFrom, yielded = stage, fromRule, true
		}
	}
	if !yielded && onlyRules {
		if st != nil {
			st.release()
		}
		return false
	}
	if st == nil {
		p.set(s, in.finish(r))
		return true
	}
	kv := appendValues(st.kv[:0], in.finish(r).values)
	for _, a := range st.res.Attributes {
		kv = append(kv, attribute.KeyValue{Key: attribute.Key(a.Key), Value: otelconv.ToAttribute(a.Value)})
	}
	if len(kv) > 0 {
		s.SetAttributes(kv...)
	}
	st.kv = kv
	st.release()
	return true
}

// release returns st to the pool, keeping none of the span's values alive.
func (st *ruleState) release() {
	clear(st.kv)
	st.kv = st.kv[:0]
	st.span = rules.KeyValueSpan{}
	clear(st.res.Attributes)
	st.res = rules.Result{Attributes: st.res.Attributes[:0], Findings: st.res.Findings[:0]}
	ruleStates.Put(st)
}

// dropSet returns the values of v that start does not already hold, as
// the default mode resolves them.
func dropSet(start []attribute.KeyValue, v values) (run, stage string) {
	_, _, hasRun, hasStage := runStage(start)
	if !hasRun {
		run = v.run
	}
	if !hasStage {
		stage = v.stage
	}
	return run, stage
}
