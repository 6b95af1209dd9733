package query_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

func TestBuildTree(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	span := func(id, parent byte, i int, name string) stagetrace.StageSpan {
		sp := stagetrace.StageSpan{Name: name, SpanID: stagetrace.SpanID{7: id}, StartTime: start.Add(time.Duration(i) * time.Second),
			Attrs: stagetrace.Attrs{{Key: "k", Value: stagetrace.StringValue(name)}, {Key: "other", Value: stagetrace.Int64Value(1)}}}
		if parent != 0 {
			sp.ParentSpanID = stagetrace.SpanID{7: parent}
		}
		return sp
	}
	// In order of start: 1 has children 2 and 4; 2 has child 3; 5 and 6
	// point at each other (a cycle unreachable from 1).
	spans := []stagetrace.StageSpan{
		span(1, 0, 0, "root"), span(2, 1, 1, "a"), span(3, 2, 2, "a.a"), span(4, 1, 3, "b"),
		span(5, 6, 4, "cycle x"), span(6, 5, 5, "cycle y"),
	}
	shape := func(n *query.SpanNode) []string {
		var out []string
		n.Walk(func(n *query.SpanNode) { out = append(out, string(rune('0'+n.Depth))+" "+n.Span.Name) })
		return out
	}
	id := func(b byte) stagetrace.SpanID { return stagetrace.SpanID{7: b} }

	all := query.BuildTree(spans, id(1), 0, query.Projection{})
	require.NotNil(t, all)
	assert.Equal(t, []string{"0 root", "1 a", "2 a.a", "1 b"}, shape(all))
	assert.Len(t, all.Span.Attrs, 2, "no projection keeps every attribute")

	shallow := query.BuildTree(spans, id(1), 1, query.Projection{})
	require.NotNil(t, shallow)
	assert.Equal(t, []string{"0 root", "1 a", "1 b"}, shape(shallow))

	sub := query.BuildTree(spans, id(2), 0, query.Projection{})
	require.NotNil(t, sub)
	assert.Equal(t, []string{"0 a", "1 a.a"}, shape(sub))

	cycle := query.BuildTree(spans, id(5), 0, query.Projection{})
	require.NotNil(t, cycle)
	assert.Equal(t, []string{"0 cycle x", "1 cycle y"}, shape(cycle), "a span reached twice is kept once")

	proj, err := query.NewProjection([]string{"attr.k"})
	require.NoError(t, err)
	projected := query.BuildTree(spans, id(1), 0, proj)
	require.NotNil(t, projected)
	projected.Walk(func(n *query.SpanNode) {
		assert.Equal(t, stagetrace.Attrs{{Key: "k", Value: stagetrace.StringValue(n.Span.Name)}}, n.Span.Attrs)
	})

	assert.Nil(t, query.BuildTree(spans, id(9), 0, query.Projection{}), "a root not among the spans")
	assert.Nil(t, query.BuildTree(nil, id(1), 0, query.Projection{}))
}

func TestTreeDepths(t *testing.T) {
	id := func(b byte) stagetrace.SpanID { return stagetrace.SpanID{7: b} }
	children := map[stagetrace.SpanID][]stagetrace.SpanID{
		id(1): {id(2), id(3)},
		id(2): {id(3), id(4)}, // 3 is reached twice: kept at depth 1
		id(4): {id(1)},        // a cycle back to the root
	}
	order, depth := query.TreeDepths(children, id(1), 0)
	assert.Equal(t, []stagetrace.SpanID{id(1), id(2), id(3), id(4)}, order)
	assert.Equal(t, map[stagetrace.SpanID]int{id(1): 0, id(2): 1, id(3): 1, id(4): 2}, depth)

	order, _ = query.TreeDepths(children, id(1), 1)
	assert.Equal(t, []stagetrace.SpanID{id(1), id(2), id(3)}, order)
}

// referenceTree is the tree as TreeDepths and a map of nodes by id define
// it, the way LinkTree first built it: LinkTree must build the same.
func referenceTree(spans []stagetrace.StageSpan, root stagetrace.SpanID, maxDepth int) *query.SpanNode {
	children := map[stagetrace.SpanID][]stagetrace.SpanID{}
	for i := range spans {
		if p := spans[i].ParentSpanID; p.IsValid() {
			children[p] = append(children[p], spans[i].SpanID)
		}
	}
	_, depth := query.TreeDepths(children, root, maxDepth)
	nodes := map[stagetrace.SpanID]*query.SpanNode{}
	for i := range spans {
		if d, ok := depth[spans[i].SpanID]; ok && nodes[spans[i].SpanID] == nil {
			nodes[spans[i].SpanID] = &query.SpanNode{Span: spans[i], Depth: d}
		}
	}
	for i := range spans {
		c := nodes[spans[i].SpanID]
		if c == nil || c.Depth == 0 {
			continue
		}
		if p := nodes[spans[i].ParentSpanID]; p != nil && p.Depth == c.Depth-1 {
			p.Children = append(p.Children, c)
		}
	}
	return nodes[root]
}

// TestLinkTreeAsReference builds trees of random traces, with ids given
// twice, cycles, zero ids and parents not among the spans, and compares
// them with referenceTree.
func TestLinkTreeAsReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for round := range 500 {
		n := 1 + rng.IntN(40)
		ids := 1 + rng.IntN(n+3) // fewer ids than spans: some repeat
		spans := make([]stagetrace.StageSpan, n)
		for i := range spans {
			spans[i] = stagetrace.StageSpan{
				Name:         fmt.Sprintf("span %d", i),
				SpanID:       stagetrace.SpanID{7: byte(rng.IntN(ids))}, // 0: the zero id
				ParentSpanID: stagetrace.SpanID{7: byte(rng.IntN(ids + 2))},
				StartTime:    start.Add(time.Duration(i) * time.Second),
			}
		}
		root := spans[rng.IntN(n)].SpanID
		if rng.IntN(10) == 0 {
			root = stagetrace.SpanID{7: 200} // not among the spans
		}
		maxDepth := rng.IntN(4)
		want := referenceTree(spans, root, maxDepth)
		got := query.BuildTree(spans, root, maxDepth, query.Projection{})
		if want == nil {
			assert.Nil(t, got, "round %d", round)
			continue
		}
		require.NotNil(t, got, "round %d", round)
		assert.Equal(t, dump(want), dump(got), "round %d: %d spans, root %v, max depth %d", round, n, root, maxDepth)
	}
}

// dump writes a tree out, depth first, one line per node.
func dump(n *query.SpanNode) []string {
	var out []string
	var walk func(n *query.SpanNode, level int)
	walk = func(n *query.SpanNode, level int) {
		if len(out) > 200 {
			return // a node reached through a cycle: enough to tell
		}
		out = append(out, fmt.Sprintf("%*s%s depth %d", level*2, "", n.Span.Name, n.Depth))
		for _, c := range n.Children {
			walk(c, level+1)
		}
	}
	walk(n, 0)
	return out
}
