package memsink_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

func span(run, name string) stagetrace.StageSpan {
	return stagetrace.StageSpan{
		RunID: run,
		Name:  name,
		Attrs: stagetrace.Attrs{{Key: "k", Value: stagetrace.StringValue(name)}},
	}
}

func TestWriteAndAccessors(t *testing.T) {
	ctx := context.Background()
	s := memsink.New()

	require.NoError(t, s.Write(ctx, stagetrace.Batch{
		Spans:  []stagetrace.StageSpan{span("r1", "a"), span("r2", "b")},
		Events: []stagetrace.TraceEvent{{Name: "e1", RunID: "r3"}},
	}))
	require.NoError(t, s.Write(ctx, stagetrace.Batch{}))
	require.NoError(t, s.Write(ctx, stagetrace.Batch{
		Spans:  []stagetrace.StageSpan{span("r1", "c")},
		Events: []stagetrace.TraceEvent{{Name: "e2", RunID: "r1"}},
	}))

	assert.Equal(t, 3, s.Batches())
	assert.Equal(t, []string{"r1", "r2", "r3"}, s.Runs())

	spans := s.Spans()
	require.Len(t, spans, 3)
	assert.Equal(t, []string{"a", "b", "c"}, []string{spans[0].Name, spans[1].Name, spans[2].Name})
	assert.True(t, spans[2].Attrs.Equal(stagetrace.Attrs{{Key: "k", Value: stagetrace.StringValue("c")}}))

	events := s.Events()
	require.Len(t, events, 2)
	assert.Equal(t, "e1", events[0].Name)
	assert.Equal(t, "e2", events[1].Name)

	tests := []struct {
		run        string
		wantSpans  []string
		wantEvents []string
	}{
		{run: "r1", wantSpans: []string{"a", "c"}, wantEvents: []string{"e2"}},
		{run: "r2", wantSpans: []string{"b"}},
		{run: "r3", wantEvents: []string{"e1"}},
		{run: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.run, func(t *testing.T) {
			var gotSpans, gotEvents []string
			for _, sp := range s.SpansOfRun(tt.run) {
				gotSpans = append(gotSpans, sp.Name)
			}
			for _, ev := range s.EventsOfRun(tt.run) {
				gotEvents = append(gotEvents, ev.Name)
			}
			assert.Equal(t, tt.wantSpans, gotSpans)
			assert.Equal(t, tt.wantEvents, gotEvents)
		})
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	s := memsink.New()
	require.NoError(t, s.Write(context.Background(), stagetrace.Batch{
		Spans:  []stagetrace.StageSpan{span("r1", "a")},
		Events: []stagetrace.TraceEvent{{Name: "e", RunID: "r1"}},
	}))

	s.Spans()[0].Name = "changed"
	s.Events()[0].Name = "changed"
	s.Runs()[0] = "changed"
	s.SpansOfRun("r1")[0].Name = "changed"

	assert.Equal(t, "a", s.Spans()[0].Name)
	assert.Equal(t, "e", s.Events()[0].Name)
	assert.Equal(t, []string{"r1"}, s.Runs())
}

func TestBatchSliceNotRetained(t *testing.T) {
	s := memsink.New()
	spans := []stagetrace.StageSpan{span("r1", "a")}
	require.NoError(t, s.Write(context.Background(), stagetrace.Batch{Spans: spans}))
	spans[0].Name = "changed"
	assert.Equal(t, "a", s.Spans()[0].Name)
}

func TestReset(t *testing.T) {
	ctx := context.Background()
	s := memsink.New()
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{span("r1", "a")}}))

	s.Reset()

	assert.Empty(t, s.Spans())
	assert.Empty(t, s.Events())
	assert.Empty(t, s.Runs())
	assert.Zero(t, s.Batches())

	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{span("r1", "b")}}))
	assert.Equal(t, []string{"r1"}, s.Runs(), "a run seen before Reset is new again")
}

func TestShutdown(t *testing.T) {
	ctx := context.Background()
	s := memsink.New()
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{span("r1", "a")}}))

	require.NoError(t, s.ForceFlush(ctx))
	require.NoError(t, s.Shutdown(ctx))
	assert.NoError(t, s.Shutdown(ctx), "second Shutdown")

	err := s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{span("r1", "b")}})
	assert.ErrorIs(t, err, stagetrace.ErrClosed)
	assert.Len(t, s.Spans(), 1, "records written before Shutdown stay readable")
	assert.Equal(t, 1, s.Batches())
}

func TestConcurrentWrites(t *testing.T) {
	const writers, perWriter = 16, 50
	ctx := context.Background()
	s := memsink.New()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			run := fmt.Sprintf("run-%d", w)
			for i := range perWriter {
				err := s.Write(ctx, stagetrace.Batch{
					Spans:  []stagetrace.StageSpan{span(run, fmt.Sprint(i))},
					Events: []stagetrace.TraceEvent{{Name: "e", RunID: run}},
				})
				assert.NoError(t, err)
				_ = s.Spans()
				_ = s.Runs()
			}
		})
	}
	wg.Wait()

	assert.Equal(t, writers*perWriter, s.Batches())
	assert.Len(t, s.Spans(), writers*perWriter)
	assert.Len(t, s.Events(), writers*perWriter)
	assert.Len(t, s.Runs(), writers)
	for w := range writers {
		assert.Len(t, s.SpansOfRun(fmt.Sprintf("run-%d", w)), perWriter)
	}
}
