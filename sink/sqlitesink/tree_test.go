package sqlitesink_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// TestSpanTreeAsTrace reads span trees of a trace whose spans differ in
// every column, written out of order in several batches, and compares
// each with the tree query.BuildTree makes of the trace as Trace reads
// it: the trees of the root (read in one pass), of spans with small and
// large subtrees (read by id, and whole), to several depths, projected.
func TestSpanTreeAsTrace(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	trace := stagetrace.TraceID{0xa, 15: 1}
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	resources := []*stagetrace.Resource{nil,
		{Attrs: stagetrace.Attrs{{Key: "service.name", Value: stagetrace.StringValue("a")}}},
		{Attrs: stagetrace.Attrs{{Key: "service.name", Value: stagetrace.StringValue("b")}}}}
	pick := func(vals ...string) string {
		if rng.IntN(4) > 0 {
			return vals[0] // mostly the root's, as in real traces
		}
		return vals[rng.IntN(len(vals))]
	}
	const n = 1200
	spans := make([]stagetrace.StageSpan, n)
	for i := range spans {
		sp := stagetrace.StageSpan{
			RunID: pick("run-1", "run-2"), Stage: pick("", "retrieval", "inference"), Name: fmt.Sprintf("span %d", i),
			TraceID: trace, SpanID: stagetrace.SpanID{0: 1, 6: byte(i >> 8), 7: byte(i)},
			// Every fifth span starts with the one before: ties go by
			// the order written.
			StartTime:     base.Add(time.Duration(i-i%5*rng.IntN(2)) * time.Millisecond),
			Status:        stagetrace.StatusCode(rng.IntN(3)),
			StatusMessage: pick("", "429 rate limited", "timeout"),
			Kind:          stagetrace.SpanKind(rng.IntN(6)),
			Scope:         pick("agent", "openai", ""),
			Resource:      resources[rng.IntN(len(resources))],
			Attrs: stagetrace.Attrs{
				{Key: "gen_ai.request.model", Value: stagetrace.StringValue(pick("gpt-4o", "gpt-4o-mini"))},
				{Key: "gen_ai.response.id", Value: stagetrace.StringValue(fmt.Sprintf("chatcmpl-%d", i))},
				{Key: "temperature", Value: stagetrace.Float64Value(0.1 * float64(i%7))},
				{Key: "tags", Value: stagetrace.StringSliceValue([]string{"a", pick("b", "c")})},
				{Key: "nested", Value: stagetrace.MapValue(stagetrace.Attr{Key: "k", Value: stagetrace.StringValue(pick("gpt-4o", "x"))})},
			}[:rng.IntN(6)],
			Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(int64(i))}}[:rng.IntN(2)],
		}
		sp.EndTime = sp.StartTime.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
		if i > 0 {
			// Most spans hang under the first few: subtrees of every size.
			parent := rng.IntN(i)
			if rng.IntN(3) > 0 {
				parent = rng.IntN(min(i, 4))
			}
			sp.ParentSpanID = spans[parent].SpanID
		}
		spans[i] = sp
	}
	order := rng.Perm(n)
	for b := 0; b < n; b += 500 {
		var batch stagetrace.Batch
		for _, i := range order[b:min(b+500, n)] {
			batch.Spans = append(batch.Spans, spans[i])
		}
		require.NoError(t, s.Write(ctx, batch))
	}

	all, err := s.Trace(ctx, trace)
	require.NoError(t, err)
	require.Len(t, all, n)
	size := func(n *query.SpanNode) int {
		k := 0
		n.Walk(func(*query.SpanNode) { k++ })
		return k
	}
	sizes := map[string]bool{}
	for _, ref := range []stagetrace.SpanID{spans[0].SpanID, spans[1].SpanID, spans[2].SpanID, spans[700].SpanID, spans[n-1].SpanID} {
		for _, depth := range []int{0, 1, 2} {
			for _, attrs := range [][]string{nil, {"gen_ai.request.model", "finding.input_tokens"}} {
				proj, err := query.NewProjection(attrs)
				require.NoError(t, err)
				want := query.BuildTree(all, ref, depth, proj)
				require.NotNil(t, want)
				got, err := s.SpanTree(ctx, sqlitesink.SpanRef{TraceID: trace, SpanID: ref}, depth, attrs)
				require.NoError(t, err)
				assert.Equal(t, want, got, "tree of %s to depth %d, attributes %v", ref, depth, attrs)
				switch k := size(want); {
				case k == n:
					sizes["whole trace"] = true
				case k > n/2:
					sizes["more than half"] = true
				case k > 1:
					sizes["small"] = true
				}
			}
		}
	}
	assert.Len(t, sizes, 3, "trees of every size: %v", sizes)
}
