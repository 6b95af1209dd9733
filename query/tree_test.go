package query_test

import (
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
