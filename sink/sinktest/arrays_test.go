package sinktest_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

// newBatch returns a batch in arrays of its own.
func newBatch(n int) stagetrace.Batch {
	b := stagetrace.Batch{Spans: make([]stagetrace.StageSpan, n), Events: make([]stagetrace.TraceEvent, n)}
	for i := range b.Spans {
		b.Spans[i].Attrs = make([]stagetrace.Attr, 4)
		b.Events[i].Attrs = make([]stagetrace.Attr, 4)
	}
	return b
}

// Batches in arrays of their own never look like one mapped into the
// arrays of the last, even when the last one's arrays were collected in
// between and the allocator hands their memory out again.
func TestArraysTellNewArraysFromReusedOnes(t *testing.T) {
	for _, n := range []int{1, 3, 1000} {
		a := &sinktest.Arrays{}
		ctx := context.Background()
		for range 20 {
			require.NoError(t, a.Write(ctx, newBatch(n)))
			runtime.GC()
			runtime.GC()
		}
		writes := a.Writes()
		for i := 1; i < len(writes); i++ {
			for j := range i {
				assert.NotEqual(t, writes[j].Spans, writes[i].Spans, "%d spans: write %d looks like it reused write %d's spans", n, i, j)
				assert.NotEqual(t, writes[j].Events, writes[i].Events, "%d spans: write %d looks like it reused write %d's events", n, i, j)
				assert.NotEqual(t, writes[j].Attrs, writes[i].Attrs, "%d spans: write %d looks like it reused write %d's attributes", n, i, j)
			}
		}
	}
}
