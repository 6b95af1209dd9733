package exporter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
)

type arrays struct{ n int }

// What one export kept is what the next takes, once: a concurrent export
// takes new arrays; after Drop, new arrays too.
func TestReuseTakesWhatWasKept(t *testing.T) {
	var r exporter.Reuse[arrays]
	first := r.Take()
	require.NotNil(t, first)
	first.n = 1
	r.Keep(first)
	assert.Same(t, first, r.Take())
	other := r.Take()
	assert.NotSame(t, first, other, "kept arrays go to one export only")
	assert.Zero(t, other.n)
	r.Keep(first)
	r.Drop()
	assert.NotSame(t, first, r.Take())
}

// Write keeps the arrays when every sink returned, a failing one
// included, and replaces them when a sink was abandoned with the batch.
func TestReuseWriteLeavesAnAbandonedBatchToItsSink(t *testing.T) {
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{{RunID: "r", Name: "s"}}}
	var r exporter.Reuse[arrays]
	ctx := context.Background()

	f, err := exporter.NewFanout(0, &captureSink{err: errors.New("disk full")})
	require.NoError(t, err)
	st := r.Take()
	before := st
	assert.ErrorContains(t, r.Write(ctx, f, &st, b), "disk full")
	assert.Same(t, before, st, "released: the arrays stay")
	require.NoError(t, f.Shutdown(ctx))

	hung := &captureSink{block: make(chan struct{})}
	f, err = exporter.NewFanout(20*time.Millisecond, hung)
	require.NoError(t, err)
	assert.ErrorContains(t, r.Write(ctx, f, &st, b), "not finished")
	assert.NotSame(t, before, st, "abandoned: the arrays are the sink's")
	r.Keep(st)
	assert.NotSame(t, before, r.Take())
	close(hung.block)
	require.NoError(t, f.Shutdown(ctx))
}
