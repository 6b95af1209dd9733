package postgressink_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/postgressink"
)

func TestSpanTree(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.URL(t))
	trace := stagetrace.TraceID{7}
	mk := func(id, parent byte, name string, startMS int) stagetrace.StageSpan {
		start := base.Add(time.Duration(startMS) * time.Millisecond)
		sp := stagetrace.StageSpan{TraceID: trace, RunID: "r1", Name: name, StartTime: start, EndTime: start.Add(time.Millisecond),
			Attrs:    stagetrace.Attrs{{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")}, {Key: "other", Value: stagetrace.Int64Value(1)}},
			Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(812)}}}
		sp.SpanID[7] = id
		if parent != 0 {
			sp.ParentSpanID[7] = parent
		}
		return sp
	}
	// Written out of order: children come back in order of start.
	spans := []stagetrace.StageSpan{
		mk(5, 3, "chat gpt-4o (2)", 40), mk(1, 0, "chat turn", 0), mk(3, 1, "generate answer", 20),
		mk(2, 1, "retrieve documents", 10), mk(4, 3, "chat gpt-4o (1)", 30), mk(6, 1, "judge answer", 50), mk(7, 2, "vector search", 11),
	}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: spans}))
	shape := func(n *postgressink.SpanNode) []string {
		var out []string
		n.Walk(func(n *postgressink.SpanNode) { out = append(out, string(rune('0'+n.Depth))+" "+n.Span.Name) })
		return out
	}
	root := spans[1]
	tree, err := s.SpanTree(ctx, postgressink.SpanRef{TraceID: trace, SpanID: root.SpanID}, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"0 chat turn", "1 retrieve documents", "2 vector search",
		"1 generate answer", "2 chat gpt-4o (1)", "2 chat gpt-4o (2)", "1 judge answer",
	}, shape(tree))

	shallow, err := s.SpanTree(ctx, postgressink.SpanRef{SpanID: root.SpanID}, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"0 chat turn", "1 retrieve documents", "1 generate answer", "1 judge answer"}, shape(shallow))

	sub, err := s.SpanTree(ctx, postgressink.SpanRef{TraceID: trace, SpanID: spans[2].SpanID}, 0,
		[]string{"gen_ai.request.model", "finding.input_tokens", "name"})
	require.NoError(t, err)
	assert.Equal(t, []string{"0 generate answer", "1 chat gpt-4o (1)", "1 chat gpt-4o (2)"}, shape(sub))
	call := sub.Children[1].Span
	assert.Equal(t, stagetrace.Attrs{{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")}}, call.Attrs)
	assert.Equal(t, stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(812)}}, call.Findings)

	one, err := s.Span(ctx, trace, spans[4].SpanID)
	require.NoError(t, err)
	assert.Equal(t, "chat gpt-4o (1)", one.Name)
	_, err = s.Span(ctx, trace, stagetrace.SpanID{9})
	assert.ErrorIs(t, err, query.ErrNotFound)
	_, err = s.SpanTree(ctx, postgressink.SpanRef{TraceID: trace, SpanID: stagetrace.SpanID{9}}, 0, nil)
	assert.ErrorIs(t, err, query.ErrNotFound)
	_, err = s.SpanTree(ctx, postgressink.SpanRef{SpanID: stagetrace.SpanID{9}}, 0, nil)
	assert.ErrorIs(t, err, query.ErrNotFound)

	// The same span id in a second trace: the span id alone is ambiguous.
	other := root
	other.TraceID = stagetrace.TraceID{8}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{other}}))
	_, err = s.SpanTree(ctx, postgressink.SpanRef{SpanID: root.SpanID}, 0, nil)
	assert.ErrorContains(t, err, "more than one trace")
}

func TestClosedStore(t *testing.T) {
	ctx := context.Background()
	s, err := postgressink.Open(ctx, pgtest.URL(t))
	require.NoError(t, err)
	require.NoError(t, s.Shutdown(ctx))
	assert.NoError(t, s.Shutdown(ctx), "a second Shutdown returns the first one's result")
	assert.ErrorIs(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{{Name: "late"}}}), stagetrace.ErrClosed)
	_, err = s.Runs(ctx, query.RunFilter{})
	assert.ErrorIs(t, err, stagetrace.ErrClosed)
	_, err = s.Spans(ctx, query.SpanQuery{})
	assert.ErrorIs(t, err, stagetrace.ErrClosed)
	_, err = s.Metrics(ctx, query.MetricQuery{Name: "x", Step: time.Second})
	assert.ErrorIs(t, err, stagetrace.ErrClosed)
}
