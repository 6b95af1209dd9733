package processor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

// countingNext is a next processor that counts the calls it gets and keeps
// the spans that ended.
type countingNext struct {
	starts, flushes, shutdowns atomic.Int32
	shutdownErr                error
	mu                         sync.Mutex
	ended                      []sdktrace.ReadOnlySpan
}

func (n *countingNext) OnStart(context.Context, sdktrace.ReadWriteSpan) { n.starts.Add(1) }
func (n *countingNext) OnEnd(s sdktrace.ReadOnlySpan) {
	n.mu.Lock()
	n.ended = append(n.ended, s)
	n.mu.Unlock()
}
func (n *countingNext) ForceFlush(context.Context) error { n.flushes.Add(1); return nil }
func (n *countingNext) Shutdown(context.Context) error {
	n.shutdowns.Add(1)
	return n.shutdownErr
}

func (n *countingNext) endedSpans() []sdktrace.ReadOnlySpan {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), n.ended...)
}

func TestNewWrappingNilNextPanics(t *testing.T) {
	assert.Panics(t, func() { NewWrapping(nil) })
}

func TestWrappingForwards(t *testing.T) {
	next := &countingNext{}
	p := NewWrapping(next)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	tr := tp.Tracer("wrapping")
	bg := context.Background()

	_, s := tr.Start(withRun(bg, "r", "s"), "span")
	assert.EqualValues(t, 1, next.starts.Load(), "OnStart forwarded")
	s.End()
	ended := next.endedSpans()
	require.Len(t, ended, 1, "OnEnd forwarded")
	assert.Equal(t, got{run: "r", stage: "s", nRun: 1, nStage: 1}, runStageOf(ended[0].Attributes()))

	require.NoError(t, tp.ForceFlush(bg))
	assert.EqualValues(t, 1, next.flushes.Load(), "ForceFlush forwarded")

	cancelled, cancel := context.WithCancel(bg)
	cancel()
	assert.ErrorIs(t, p.Shutdown(cancelled), context.Canceled)
	assert.Zero(t, next.shutdowns.Load(), "a cancelled Shutdown must not stop next")

	require.NoError(t, p.Shutdown(bg))
	assert.EqualValues(t, 1, next.shutdowns.Load(), "Shutdown forwarded")
	require.NoError(t, p.Shutdown(bg), "second Shutdown")
	require.NoError(t, tp.Shutdown(bg), "provider Shutdown after the processor's")
	assert.EqualValues(t, 1, next.shutdowns.Load(), "Shutdown forwarded once")

	// After Shutdown nothing reaches next.
	require.NoError(t, p.ForceFlush(bg))
	assert.EqualValues(t, 1, next.flushes.Load())
	live := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	_, s2 := live.Tracer("other").Start(bg, "after")
	p.OnStart(bg, s2.(sdktrace.ReadWriteSpan))
	s2.End()
	p.OnEnd(s2.(sdktrace.ReadOnlySpan))
	assert.EqualValues(t, 1, next.starts.Load())
	assert.Len(t, next.endedSpans(), 1)
}

func TestWrappingShutdownError(t *testing.T) {
	boom := errors.New("boom")
	next := &countingNext{shutdownErr: boom}
	p := NewWrapping(next)
	assert.ErrorIs(t, p.Shutdown(context.Background()), boom)
	assert.NoError(t, p.Shutdown(context.Background()), "second Shutdown")
	assert.EqualValues(t, 1, next.shutdowns.Load())
}

func TestWrappingWithBatchProcessor(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewWrapping(sdktrace.NewBatchSpanProcessor(exp))))
	tr := tp.Tracer("batch")
	ctx, root := tr.Start(withRun(context.Background(), "r", "s"), "root")
	end(tr.Start(ctx, "child"))
	root.End()

	require.NoError(t, tp.ForceFlush(context.Background()), "ForceFlush reaches the batch processor")
	spans := exp.GetSpans()
	require.Len(t, spans, 2)
	for _, s := range spans {
		assert.Equal(t, got{run: "r", stage: "s", nRun: 1, nStage: 1}, runStageOf(s.Attributes), s.Name)
	}
	require.NoError(t, tp.Shutdown(context.Background()))
}

func TestWrappedSpan(t *testing.T) {
	next := &countingNext{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewWrapping(next)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("wrapped")

	_, s := tr.Start(withRun(context.Background(), "r", "s"), "span",
		trace.WithAttributes(attribute.String("k", "v"), attributes.Stage("")))
	s.AddEvent("e")
	wantSC := s.SpanContext()
	s.End()

	ended := next.endedSpans()
	require.Len(t, ended, 1)
	w, ok := ended[0].(*endedSpan)
	require.True(t, ok, "the span reaching next is wrapped")

	first := w.Attributes()
	assert.Equal(t, got{run: "r", stage: "s", nRun: 1, nStage: 1}, runStageOf(first),
		"an empty stage is replaced, not repeated")
	assert.Contains(t, first, attribute.String("k", "v"))
	first[0] = attribute.String("scribbled", "x")
	assert.Equal(t, got{run: "r", stage: "s", nRun: 1, nStage: 1}, runStageOf(w.Attributes()),
		"each call returns a fresh slice")
	assert.Equal(t, got{run: "", stage: "", nStage: 1}, runStageOf(w.ReadOnlySpan.Attributes()),
		"the SDK's span is not written to")

	assert.Equal(t, "span", w.Name())
	assert.Equal(t, wantSC, w.SpanContext())
	assert.Len(t, w.Events(), 1)
	assert.False(t, w.EndTime().IsZero())
}

func TestWrappingPassesSpansWithNothingToAdd(t *testing.T) {
	next := &countingNext{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewWrapping(next)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("plain")
	end(tr.Start(context.Background(), "no-run"))
	end(tr.Start(withRun(context.Background(), "r", "s"), "own",
		trace.WithAttributes(attributes.Run("own"), attributes.Stage("own"))))
	for _, s := range next.endedSpans() {
		_, wrapped := s.(*endedSpan)
		assert.False(t, wrapped, "span %q", s.Name())
	}
}

func TestWrappingPendingEntries(t *testing.T) {
	next := &countingNext{}
	p := NewWrapping(next)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	tr := tp.Tracer("pending")
	ctx := withRun(context.Background(), "r", "s")

	_, open := tr.Start(ctx, "open")
	for range 100 {
		end(tr.Start(ctx, "closed"))
	}
	assert.Equal(t, 1, p.pending.len(), "only the span still open has an entry")
	open.End()
	assert.Zero(t, p.pending.len())

	_, _ = tr.Start(ctx, "never-ended")
	require.Equal(t, 1, p.pending.len())
	require.NoError(t, tp.Shutdown(context.Background()))
	assert.Zero(t, p.pending.len(), "Shutdown drops the entries")
}

// sameSpanID gives every span the same span id, in a new trace each time.
type sameSpanID struct{ n atomic.Uint64 }

func (g *sameSpanID) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	tid[15] = byte(g.n.Add(1))
	tid[0] = 1
	return tid, trace.SpanID{7}
}

func (*sameSpanID) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return trace.SpanID{7} }

func TestWrappingSpanIDsSharedAcrossTraces(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	p := NewWrapping(sdktrace.NewSimpleSpanProcessor(exp))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p), sdktrace.WithIDGenerator(&sameSpanID{}))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("ids")

	_, a := tr.Start(withRun(context.Background(), "run-a", "stage-a"), "a")
	_, b := tr.Start(withRun(context.Background(), "run-b", "stage-b"), "b")
	require.Equal(t, a.SpanContext().SpanID(), b.SpanContext().SpanID())
	require.NotEqual(t, a.SpanContext().TraceID(), b.SpanContext().TraceID())
	b.End()
	a.End()

	for _, s := range exp.GetSpans() {
		w := got{run: "run-" + s.Name, stage: "stage-" + s.Name, nRun: 1, nStage: 1}
		assert.Equal(t, w, runStageOf(s.Attributes), s.Name)
		// b, which could not wait in the table, is placed at start: it
		// still opens its stage, claimed once.
		assert.Equal(t, opens("stage-"+s.Name), placedOf(s.Attributes), s.Name)
	}
	assert.Zero(t, p.pending.len())
}

// TestContextWithSpanAfterEnd pins the one difference between the modes
// that the package documents: a child started from a context made with
// trace.ContextWithSpan, after its parent ended, finds the parent's
// context-given run in the default mode (on the parent's attributes) but
// not in wrapping mode, where it waited outside the span.
func TestContextWithSpanAfterEnd(t *testing.T) {
	want := map[string]string{"default": "r", "sampler": "r", "wrapping": ""}
	forEachMode(t, func(t *testing.T, m mode) {
		h := newHarness(t, m)
		_, p := h.tr.Start(withRun(context.Background(), "r", ""), "parent")
		p.End()
		end(h.tr.Start(trace.ContextWithSpan(context.Background(), p), "late-child"))
		spans := h.spans(t)
		assert.Equal(t, "r", runStageOf(spans["parent"].Attributes).run)
		assert.Equal(t, want[m.name], runStageOf(spans["late-child"].Attributes).run)
	})
}

// TestEndedSpansDistinct checks that the wrappers of ended spans, which
// are allocated many at a time, are each handed out once and zeroed, from
// many goroutines and across many allocations.
func TestEndedSpansDistinct(t *testing.T) {
	const goroutines, each = 8, 5 * endedChunkLen
	var a endedSpans
	got := make([][]*endedSpan, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				e := a.next()
				// A wrapper handed out twice would fail the zero check
				// for one of the goroutines, or the race detector.
				if e.ReadOnlySpan != nil || e.add != nil {
					t.Errorf("wrapper not zero: %+v", e.add)
				}
				e.add = &values{run: "r", stage: "s"}
				got[g] = append(got[g], e)
			}
		})
	}
	wg.Wait()
	seen := map[*endedSpan]bool{}
	for _, es := range got {
		for _, e := range es {
			require.False(t, seen[e], "wrapper handed out twice")
			seen[e] = true
		}
	}
	assert.Len(t, seen, goroutines*each)
}

// idSpan is a fakeSpan with a span context, under which wrapping mode
// keeps its values until it ends.
type idSpan struct {
	*fakeSpan
	sc trace.SpanContext
}

func (s *idSpan) SpanContext() trace.SpanContext { return s.sc }

// A span that set its own stage gets the context's run alone at its end:
// in wrapping mode that costs no allocation per span, as the values the
// span started with cost none.
func TestWrappingOwnValueEndsWithoutAllocating(t *testing.T) {
	p := NewWrapping(noopProcessor{})
	ctx := withRun(context.Background(), "r", "s")
	s := &idSpan{
		fakeSpan: &fakeSpan{start: []attribute.KeyValue{attributes.Stage("own")}},
		sc:       trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}),
	}
	span := func() {
		p.OnStart(ctx, s)
		p.OnEnd(s)
	}
	opener := &idSpan{fakeSpan: &fakeSpan{}, sc: s.sc}
	p.OnStart(ctx, opener)
	p.OnEnd(opener)
	require.True(t, inputsOf(ctx).mark.Opened(), "the span without a stage of its own opened the context's")
	span()
	assert.Zero(t, testing.AllocsPerRun(100, span))
	assert.Zero(t, p.pending.len())
}
