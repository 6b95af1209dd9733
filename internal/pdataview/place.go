package pdataview

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

// Placer places the spans of pdata batches in a run and a stage, as the
// SDK processor places SDK spans: the stagetrace processor of the
// collector and the command's OTLP receiver both use it, so that a span
// is placed the same way whichever way it came.
type Placer struct {
	runAttr, resourceRunAttr string
	rules                    *rules.Set
}

// NewPlacer returns a Placer reading a span's run id from runAttr (copied
// into run.id when it is another key), else from the resource attribute
// resourceRunAttr when not empty, and running the start phase of set when
// not nil.
func NewPlacer(runAttr, resourceRunAttr string, set *rules.Set) *Placer {
	if runAttr == "" {
		runAttr = string(attributes.RunID)
	}
	return &Placer{runAttr: runAttr, resourceRunAttr: resourceRunAttr, rules: set}
}

// spanKey identifies a span across the traces of one batch.
type spanKey struct {
	trace pcommon.TraceID
	span  pcommon.SpanID
}

// node is what the processor knows of one span of the batch.
type node struct {
	span   ptrace.Span
	parent int // index of the parent span in the batch, -1 when absent
	// run and stage are the span's own values ("" for none); resRun is the
	// run id of the span's resource.
	run, stage, resRun string
	hasRun, hasStage   bool
	// done is set once the resolved values below are final.
	done                   bool
	outRun, outStage       string
	stageInherited, placed bool
}

// Place resolves each span's run and stage, in three passes: read
// each span's own values and the rules' start phase (adding the rules'
// attributes), link each span to its parent when the parent is in the same
// batch, then walk up to the nearest ancestor with a value.
//
// The run id is the span's own (the Placer's run attribute), else that of its nearest
// ancestor in the batch, else the resource attribute RunIDResourceAttribute
// of the span's resource. Otherwise run.id is left unset: the stagetrace
// exporter then uses the trace id, as the SDK exporter does.
//
// The stage is the span's own run.stage, else the stage the rules give it
// (the span then opens that stage), else the stage of its nearest ancestor
// in the batch, marked run.stage_inherited=true.
func (p *Placer) Place(td ptrace.Traces) {
	var nodes []node
	index := make(map[spanKey]int)
	var res rules.Result
	view := &Span{}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		resRun := ""
		if p.resourceRunAttr != "" {
			if v, ok := rs.Resource().Attributes().Get(p.resourceRunAttr); ok {
				resRun = v.AsString()
			}
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scope := ss.Scope().Name()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				n := node{span: s, parent: -1, resRun: resRun}
				attrs := s.Attributes()
				n.run, n.hasRun = stringOrSet(attrs, string(attributes.RunID))
				if !n.hasRun && p.runAttr != string(attributes.RunID) {
					n.run, _ = stringOrSet(attrs, p.runAttr)
					n.hasRun = n.run != ""
					if n.hasRun {
						attrs.PutStr(string(attributes.RunID), n.run)
					}
				}
				n.stage, n.hasStage = stringOrSet(attrs, string(attributes.RunStage))
				if p.rules != nil {
					view.Span, view.ScopeName = s, scope
					// The start phase, as the SDK processor runs it: the
					// stages placement needs and the attributes other
					// components should see. Findings and costs are the
					// exporter's, on the mapped span.
					p.rules.Eval(rules.PhaseStart, view, &res)
					if !n.hasStage && res.Stage != "" {
						n.stage, n.hasStage = res.Stage, true
						attrs.PutStr(string(attributes.RunStage), res.Stage)
					}
					for _, a := range res.Attributes {
						putValue(attrs, a.Key, a.Value)
					}
				}
				index[spanKey{s.TraceID(), s.SpanID()}] = len(nodes)
				nodes = append(nodes, n)
			}
		}
	}
	for i := range nodes {
		s := nodes[i].span
		if par := s.ParentSpanID(); !par.IsEmpty() {
			if j, ok := index[spanKey{s.TraceID(), par}]; ok && j != i {
				nodes[i].parent = j
			}
		}
	}
	var chain []int
	for i := range nodes {
		chain = resolve(nodes, i, chain[:0])
	}
	for i := range nodes {
		n := &nodes[i]
		attrs := n.span.Attributes()
		if !n.hasRun && n.outRun != "" {
			attrs.PutStr(string(attributes.RunID), n.outRun)
		}
		if !n.hasStage && n.outStage != "" {
			attrs.PutStr(string(attributes.RunStage), n.outStage)
			attrs.PutBool(string(attributes.StageInherited), true)
		}
	}
}

// resolve computes the run and stage of nodes[i] from its ancestors,
// without recursion: it collects the chain up to a resolved node, a node
// without parent or a cycle, then resolves it from the top down.
func resolve(nodes []node, i int, chain []int) []int {
	for j := i; j >= 0 && !nodes[j].done && !nodes[j].placed; j = nodes[j].parent {
		nodes[j].placed = true // marks the chain, to stop on a cycle
		chain = append(chain, j)
	}
	for c := len(chain) - 1; c >= 0; c-- {
		n := &nodes[chain[c]]
		var up *node
		if n.parent >= 0 && nodes[n.parent].done {
			up = &nodes[n.parent]
		}
		switch {
		case n.hasRun:
			n.outRun = n.run
		case up != nil && up.outRun != "":
			n.outRun = up.outRun
		default:
			n.outRun = n.resRun
		}
		switch {
		case n.hasStage:
			n.outStage = n.stage
		case up != nil && up.outStage != "":
			n.outStage, n.stageInherited = up.outStage, true
		}
		n.done = true
	}
	return chain
}

// stringOrSet returns the string value of attribute key of m, and whether
// the key counts as set: a non-empty string, or a value of another type,
// which is left as it is.
func stringOrSet(m pcommon.Map, key string) (string, bool) {
	v, ok := m.Get(key)
	if !ok {
		return "", false
	}
	if v.Type() != pcommon.ValueTypeStr {
		return "", true
	}
	return v.Str(), v.Str() != ""
}

// putValue sets key in m to the model value v.
func putValue(m pcommon.Map, key string, v stagetrace.Value) {
	switch v.Kind() {
	case stagetrace.KindBool:
		m.PutBool(key, v.AsBool())
	case stagetrace.KindInt64:
		m.PutInt(key, v.AsInt64())
	case stagetrace.KindFloat64:
		m.PutDouble(key, v.AsFloat64())
	case stagetrace.KindString:
		m.PutStr(key, v.AsString())
	default:
		toValue(m.PutEmpty(key), v)
	}
}

// toValue sets dst to the model value v.
func toValue(dst pcommon.Value, v stagetrace.Value) {
	switch v.Kind() {
	case stagetrace.KindBool:
		dst.SetBool(v.AsBool())
	case stagetrace.KindInt64:
		dst.SetInt(v.AsInt64())
	case stagetrace.KindFloat64:
		dst.SetDouble(v.AsFloat64())
	case stagetrace.KindString:
		dst.SetStr(v.AsString())
	case stagetrace.KindBytes:
		dst.SetEmptyBytes().FromRaw(v.AsBytes())
	case stagetrace.KindBoolSlice:
		s := dst.SetEmptySlice()
		for _, e := range v.AsBoolSlice() {
			s.AppendEmpty().SetBool(e)
		}
	case stagetrace.KindInt64Slice:
		s := dst.SetEmptySlice()
		for _, e := range v.AsInt64Slice() {
			s.AppendEmpty().SetInt(e)
		}
	case stagetrace.KindFloat64Slice:
		s := dst.SetEmptySlice()
		for _, e := range v.AsFloat64Slice() {
			s.AppendEmpty().SetDouble(e)
		}
	case stagetrace.KindStringSlice:
		s := dst.SetEmptySlice()
		for _, e := range v.AsStringSlice() {
			s.AppendEmpty().SetStr(e)
		}
	case stagetrace.KindSlice:
		s := dst.SetEmptySlice()
		for _, e := range v.AsSlice() {
			toValue(s.AppendEmpty(), e)
		}
	case stagetrace.KindMap:
		m := dst.SetEmptyMap()
		for _, kv := range v.AsMap() {
			toValue(m.PutEmpty(kv.Key), kv.Value)
		}
	}
}
