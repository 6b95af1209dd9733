package rules

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/otelconv"
)

// StartStageOnly reports whether the start phase of s yields a stage and
// nothing else, from the span's name, kind and attributes alone: no rule
// of the phase adds attributes, matches on the scope or calls a function.
// StartStage then gives the stage Eval(PhaseStart) would.
func (s *Set) StartStageOnly() bool { return s != nil && s.startStageOnly }

// StartStage returns the stage the start phase of s gives a span named
// name, of kind kind, whose attributes are first followed by then (the last
// value of a key wins, as in the OpenTelemetry SDK), or "" for none. It
// holds for a Set that reports StartStageOnly; the scope reads as "". It
// is what a sampler calls on every span, before the span exists: it reads
// the attributes in place, through no Span interface, and allocates
// nothing unless a condition reads a slice value.
func (s *Set) StartStage(name string, kind stagetrace.SpanKind, first, then []attribute.KeyValue) string {
	if s == nil {
		return ""
	}
	kv := kvAttrs{first: first, then: then}
	in := spanInfo{name: name, kind: kind}
	if s.startLookups >= maskThreshold {
		kv.buildMask(&in)
	}
	for _, ri := range s.start {
		cr := &s.rules[ri]
		if !cr.matchesInfo(&in) || !kv.meets(&in, cr.conds) {
			continue
		}
		switch {
		case cr.stage != "":
			return cr.stage
		case cr.stageFrom.key != "":
			// A stage attribute counts when it is a non-empty string, as in
			// compiledRule.apply; a later rule may still give one.
			if v := kv.get(&in, &cr.stageFrom); v != nil && v.Type() == attribute.STRING && v.AsString() != "" {
				return v.AsString()
			}
		}
	}
	return ""
}

// kvAttrs is a span's attributes in two parts, the later part's values
// winning.
type kvAttrs struct{ first, then []attribute.KeyValue }

func (kv *kvAttrs) buildMask(in *spanInfo) {
	for i := range kv.first {
		in.set("", string(kv.first[i].Key))
	}
	for i := range kv.then {
		in.set("", string(kv.then[i].Key))
	}
	in.masked = true
}

// get returns the last value of k, as KeyValueSpan.Attribute does, or nil.
// It points into the slices, so that the 48-byte value is not copied.
func (kv *kvAttrs) get(in *spanInfo, k *keyRef) *attribute.Value {
	if in.masked && in.mask[k.bit>>6]&(1<<(k.bit&63)) == 0 {
		return nil
	}
	for i := len(kv.then) - 1; i >= 0; i-- {
		if string(kv.then[i].Key) == k.key {
			return &kv.then[i].Value
		}
	}
	for i := len(kv.first) - 1; i >= 0; i-- {
		if string(kv.first[i].Key) == k.key {
			return &kv.first[i].Value
		}
	}
	return nil
}

// meets reports whether every condition of conds holds.
func (kv *kvAttrs) meets(in *spanInfo, conds []cond) bool {
	for i := range conds {
		var sv stagetrace.Value
		v := kv.get(in, &conds[i].key)
		if v != nil {
			otelconv.FromAttributeInto(&sv, v)
		}
		if !conds[i].holds(sv, v != nil) {
			return false
		}
	}
	return true
}
