package query

import (
	"slices"

	"github.com/stagetrace/stagetrace"
)

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

// BuildTree returns the tree of the span root and its descendants down to
// maxDepth levels below it (0: all), from the spans of its trace in order
// of start, children in order of start; proj is applied to each span. It
// returns nil when root is not among the spans.
func BuildTree(spans []stagetrace.StageSpan, root stagetrace.SpanID, maxDepth int, proj Projection) *SpanNode {
	nodes := make([]SpanNode, len(spans))
	for i := range spans {
		nodes[i].Span = spans[i]
	}
	return LinkTree(len(nodes), func(i int) *SpanNode { return &nodes[i] }, root, maxDepth, proj)
}

// LinkTree is BuildTree over n nodes, each holding a span, in order of
// start, node(i) being the i-th: it links the nodes of the tree in place,
// setting their depth and children and applying proj to their spans, and
// leaves the others as they are. A store decodes the rows it reads into
// nodes, rather than into spans copied into nodes.
//
// The spans of an id are reached as TreeDepths reaches ids; the first span
// of an id is its node, linked under the first span of its parent id when
// that is one level up.
func LinkTree(n int, node func(i int) *SpanNode, root stagetrace.SpanID, maxDepth int, proj Projection) *SpanNode {
	// Every id stands for its first span, and links are indexes into
	// arrays: one map of ids rather than one per step, and the child
	// lists in one allocation, for trees of thousands.
	first := make(map[stagetrace.SpanID]int32, n)
	self := make([]int32, n) // the first span of span i's id
	for i := range n {
		id := node(i).Span.SpanID
		f, ok := first[id]
		if !ok {
			f = int32(i)
			first[id] = f
		}
		self[i] = f
	}
	r, ok := first[root]
	if !ok {
		return nil
	}
	// parent[i] is the first span of span i's parent id, or -1. A span
	// whose parent id is valid is a child of that id, listed in kids from
	// kidsAt[p] on.
	parent := make([]int32, n)
	kidsAt := make([]int32, n+1)
	for i := range n {
		parent[i] = -1
		sp := &node(i).Span
		if f, ok := first[sp.ParentSpanID]; ok {
			parent[i] = f
			if sp.ParentSpanID.IsValid() {
				kidsAt[f+1]++
			}
		}
	}
	for i := range n {
		kidsAt[i+1] += kidsAt[i]
	}
	kids := make([]int32, kidsAt[n])
	next := slices.Clone(kidsAt[:n])
	for i := range n {
		if p := parent[i]; p >= 0 && node(i).Span.ParentSpanID.IsValid() {
			kids[next[p]] = int32(i)
			next[p]++
		}
	}
	// Breadth first from the root, as TreeDepths; depth -1 is not in the
	// tree.
	depth := make([]int32, n)
	for i := range depth {
		depth[i] = -1
	}
	depth[r] = 0
	order := []int32{r}
	for k := 0; k < len(order); k++ {
		u := order[k]
		if maxDepth > 0 && int(depth[u]) >= maxDepth {
			continue
		}
		for _, i := range kids[kidsAt[u]:kidsAt[u+1]] {
			if c := self[i]; depth[c] < 0 {
				depth[c] = depth[u] + 1
				order = append(order, c)
			}
		}
	}
	// Links, in order of start: span i puts the node of its id under the
	// node of its parent id when that is one level up.
	linked := func(i int) (c, p int32, ok bool) {
		c, p = self[i], parent[i]
		return c, p, depth[c] > 0 && p >= 0 && depth[p] == depth[c]-1
	}
	counts := next // reused: the number of children of each first span
	clear(counts)
	total := 0
	for i := range n {
		if _, p, ok := linked(i); ok {
			counts[p]++
			total++
		}
	}
	children := make([]*SpanNode, total)
	for _, u := range order {
		nd := node(int(u))
		nd.Depth = int(depth[u])
		nd.Children = nil
		if c := int(counts[u]); c > 0 {
			nd.Children, children = children[:0:c], children[c:]
		}
		if len(proj.refs) > 0 {
			nd.Span = proj.Apply(nd.Span)
		}
	}
	for i := range n {
		if c, p, ok := linked(i); ok {
			pn := node(int(p))
			pn.Children = append(pn.Children, node(int(c)))
		}
	}
	return node(int(r))
}
