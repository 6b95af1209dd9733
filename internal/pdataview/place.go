package pdataview

import (
	"sync"

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

// placeScratch is what Place needs of its own for a batch: a node per
// span and the index of their ids.
type placeScratch struct {
	nodes []node
	index spanIndex
}

// scratchPool holds the scratch of Place between batches; one made for a
// batch of more than maxPooledNodes spans is dropped after use.
var scratchPool = sync.Pool{New: func() any { return new(placeScratch) }}

const maxPooledNodes = 1 << 16

// node is what the processor knows of one span of the batch. It is kept
// small (64 bytes), since a batch holds one per span.
type node struct {
	span ptrace.Span
	// parent is the index of the parent span in the batch, -1 when absent;
	// res the index of the span's resource in the batch.
	parent, res int32
	// run and stage are the span's own values ("" for none) until the
	// node is done, and then the values it resolved to.
	run, stage       string
	hasRun, hasStage bool
	// done is set once run and stage are resolved; written once they are
	// on the span; placed marks the chain resolve walks.
	done, written, placed bool
}

// Place resolves each span's run and stage: it reads each span's
// own values and runs the rules' start phase (adding the rules'
// attributes), and places a root span at once; then, only when some other
// span lacks a value, it links each span to its parent when the parent is
// in the same batch, and walks up to the nearest ancestor with a value.
//
// The run id is the span's own (the Placer's run attribute), else that of its nearest
// ancestor in the batch, else the resource attribute RunIDResourceAttribute
// of the span's resource (the Placer's resource attribute). Otherwise run.id is left unset: the stagetrace
// exporter then uses the trace id, as the SDK exporter does.
//
// The stage is the span's own run.stage, else the stage the rules give it
// (the span then opens that stage), else the stage of its nearest ancestor
// in the batch, marked run.stage_inherited=true.
func (p *Placer) Place(td ptrace.Traces) {
	rss := td.ResourceSpans()
	total := 0
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			total += sss.At(j).Spans().Len()
		}
	}
	scratch := scratchPool.Get().(*placeScratch)
	nodes := scratch.nodes
	if cap(nodes) < total {
		nodes = make([]node, 0, total)
	}
	defer func() {
		// Pooled, so that a batch costs no allocation and the garbage
		// collector no work for what the processor knows of its spans;
		// cleared, so that the pool keeps no span alive.
		clear(nodes)
		if cap(nodes) <= maxPooledNodes {
			scratch.nodes = nodes[:0]
			scratchPool.Put(scratch)
		}
	}()
	// Parents are looked up only for spans that lack a value and have a
	// parent: a batch of roots, or of spans that carry both, needs no index.
	needIndex := false
	// resRuns holds the run id of each resource, by index, from
	// RunIDResourceAttribute.
	resRuns := make([]string, 0, rss.Len())
	var res rules.Result
	view := &Span{}
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		resRun := ""
		if p.resourceRunAttr != "" {
			if v, ok := rs.Resource().Attributes().Get(p.resourceRunAttr); ok {
				resRun = v.AsString()
			}
		}
		resRuns = append(resRuns, resRun)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scope := ss.Scope().Name()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				n := node{span: s, parent: -1, res: int32(i)}
				attrs := s.Attributes()
				var other string
				n.run, n.hasRun, n.stage, n.hasStage, other = p.own(attrs)
				// Room for what the span may get, made once: growing the
				// attributes by append would copy them, into a larger
				// array than needed. A root inherits no stage, so it needs
				// no room for run.stage_inherited.
				need := 0
				if !n.hasRun {
					need++
				}
				if !n.hasStage {
					need++
					if !s.ParentSpanID().IsEmpty() {
						need++
					}
				}
				if need > 0 {
					attrs.EnsureCapacity(attrs.Len() + need)
				}
				if !n.hasRun && other != "" {
					n.run, n.hasRun = other, true
					attrs.PutStr(string(attributes.RunID), n.run)
				}
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
				if s.ParentSpanID().IsEmpty() {
					// A root: nothing to inherit, so its values are final
					// now, and written while its attributes are at hand.
					resolveNode(&n, nil, resRuns)
					n.written = true
					writeNode(&n, attrs)
				} else if !n.hasRun || !n.hasStage {
					needIndex = true
				}
				nodes = append(nodes, n)
			}
		}
	}
	if needIndex {
		index := &scratch.index
		index.reset(len(nodes))
		for i := range nodes {
			s := nodes[i].span
			index.add(spanKey{s.TraceID(), s.SpanID()})
		}
		for i := range nodes {
			s := nodes[i].span
			if par := s.ParentSpanID(); !par.IsEmpty() {
				if j, ok := index.find(spanKey{s.TraceID(), par}); ok && j != i {
					nodes[i].parent = int32(j)
				}
			}
		}
	}
	var chain []int
	for i := range nodes {
		chain = resolve(nodes, resRuns, i, chain[:0])
	}
	for i := range nodes {
		if n := &nodes[i]; !n.written {
			writeNode(n, n.span.Attributes())
		}
	}
}

// resolveNode sets the run and stage of n from its own values and those
// of up, its parent once resolved (nil when it has none in the batch);
// resRuns are the run ids of the batch's resources.
func resolveNode(n, up *node, resRuns []string) {
	if !n.hasRun {
		if up != nil && up.run != "" {
			n.run = up.run
		} else {
			n.run = resRuns[n.res]
		}
	}
	if !n.hasStage && up != nil && up.stage != "" {
		n.stage = up.stage
	}
	n.done = true
}

// writeNode adds to attrs, the attributes of n's span, the values n was
// resolved to that the span lacks; a stage the span lacked came from its
// parent, so it is marked inherited.
func writeNode(n *node, attrs pcommon.Map) {
	if !n.hasRun && n.run != "" {
		attrs.PutStr(string(attributes.RunID), n.run)
	}
	if !n.hasStage && n.stage != "" {
		attrs.PutStr(string(attributes.RunStage), n.stage)
		attrs.PutBool(string(attributes.StageInherited), true)
	}
}

// resolve computes the run and stage of nodes[i] from its ancestors,
// without recursion: it collects the chain up to a resolved node, a node
// without parent or a cycle, then resolves it from the top down.
func resolve(nodes []node, resRuns []string, i int, chain []int) []int {
	for j := i; j >= 0 && !nodes[j].done && !nodes[j].placed; j = int(nodes[j].parent) {
		nodes[j].placed = true // marks the chain, to stop on a cycle
		chain = append(chain, j)
	}
	for c := len(chain) - 1; c >= 0; c-- {
		n := &nodes[chain[c]]
		var up *node
		if n.parent >= 0 && nodes[n.parent].done {
			up = &nodes[n.parent]
		}
		resolveNode(n, up, resRuns)
	}
	return chain
}

// own reads a span's own values in one pass over its attributes: run.id
// and run.stage, each with whether it counts as set (see valueOrSet), and
// the string value of the Placer's run attribute when that is another key.
func (p *Placer) own(m pcommon.Map) (run string, hasRun bool, stage string, hasStage bool, other string) {
	otherKey := p.runAttr
	if otherKey == string(attributes.RunID) {
		otherKey = ""
	}
	// The first of a repeated key counts, as for pcommon.Map.Get.
	var seenRun, seenStage, seenOther bool
	for k, v := range m.All() {
		switch {
		case k == string(attributes.RunID) && !seenRun:
			run, hasRun = valueOrSet(v)
			seenRun = true
		case k == string(attributes.RunStage) && !seenStage:
			stage, hasStage = valueOrSet(v)
			seenStage = true
		}
		if k == otherKey && otherKey != "" && !seenOther {
			other, _ = valueOrSet(v)
			seenOther = true
		}
	}
	return run, hasRun, stage, hasStage, other
}

// valueOrSet returns v's string value and whether it counts as set: a
// non-empty string, or a value of another type, which is left as it is.
func valueOrSet(v pcommon.Value) (string, bool) {
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
