package query

import "github.com/stagetrace/stagetrace"

// SpanRef names a span: by its trace and span ids, or by its span id alone.
type SpanRef struct {
	TraceID stagetrace.TraceID // zero: whichever trace holds SpanID
	SpanID  stagetrace.SpanID
}

// SpanNode is a span in a span tree, with its children in order of start.
type SpanNode struct {
	Span     stagetrace.StageSpan
	Depth    int // 0 for the tree's root
	Children []*SpanNode
}

// Walk calls fn for the node and its descendants, depth first, children
// in order of start.
func (n *SpanNode) Walk(fn func(*SpanNode)) {
	fn(n)
	for _, c := range n.Children {
		c.Walk(fn)
	}
}

// TreeDepths returns the ids of the spans under root down to maxDepth
// levels below it (0: all), breadth first, with the depth of each, given
// the children of each span id. A span reached twice (through corrupt
// parent links) is kept once, at its smallest depth.
func TreeDepths(children map[stagetrace.SpanID][]stagetrace.SpanID, root stagetrace.SpanID, maxDepth int) (order []stagetrace.SpanID, depth map[stagetrace.SpanID]int) {
	depth = map[stagetrace.SpanID]int{root: 0}
	order = []stagetrace.SpanID{root}
	for i := 0; i < len(order); i++ {
		d := depth[order[i]]
		if maxDepth > 0 && d >= maxDepth {
			continue
		}
		for _, c := range children[order[i]] {
			if _, seen := depth[c]; !seen {
				depth[c] = d + 1
				order = append(order, c)
			}
		}
	}
	return order, depth
}

// LinkTree builds the tree under root from n spans in order of start,
// span(i) being the i-th, keeping those depth (from TreeDepths) holds;
// proj is applied to each. The first span of an id is its node. It
// returns nil when root is not among the spans.
//
// It takes the spans by index so that a store links the rows it read
// without copying them.
func LinkTree(n int, span func(i int) *stagetrace.StageSpan, root stagetrace.SpanID, depth map[stagetrace.SpanID]int, proj Projection) *SpanNode {
	nodes := make(map[stagetrace.SpanID]*SpanNode, len(depth))
	for i := range n {
		sp := span(i)
		if d, ok := depth[sp.SpanID]; ok && nodes[sp.SpanID] == nil {
			nodes[sp.SpanID] = &SpanNode{Span: proj.Apply(*sp), Depth: d}
		}
	}
	// The spans come in order of start, so children are appended in order.
	for i := range n {
		sp := span(i)
		c := nodes[sp.SpanID]
		if c == nil || c.Depth == 0 {
			continue
		}
		if p := nodes[sp.ParentSpanID]; p != nil && p.Depth == c.Depth-1 {
			p.Children = append(p.Children, c)
		}
	}
	return nodes[root]
}

// BuildTree returns the tree of the span root and its descendants down to
// maxDepth levels below it (0: all), from the spans of its trace in order
// of start, children in order of start; proj is applied to each span. It
// returns nil when root is not among the spans.
func BuildTree(spans []stagetrace.StageSpan, root stagetrace.SpanID, maxDepth int, proj Projection) *SpanNode {
	children := map[stagetrace.SpanID][]stagetrace.SpanID{}
	for i := range spans {
		if p := spans[i].ParentSpanID; p.IsValid() {
			children[p] = append(children[p], spans[i].SpanID)
		}
	}
	_, depth := TreeDepths(children, root, maxDepth)
	return LinkTree(len(spans), func(i int) *stagetrace.StageSpan { return &spans[i] }, root, depth, proj)
}
