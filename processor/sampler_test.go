package processor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

// withAttrs is a sampler that samples every span and adds attrs.
type withAttrs struct{ attrs []attribute.KeyValue }

func (s withAttrs) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return sdktrace.SamplingResult{
		Decision:   sdktrace.RecordAndSample,
		Attributes: s.attrs,
		Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState(),
	}
}

func (withAttrs) Description() string { return "withAttrs" }

func samplerHarness(t *testing.T, p *Processor, inner sdktrace.Sampler) (trace.Tracer, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(p.Sampler(inner)),
		sdktrace.WithSpanProcessor(p),
		sdktrace.WithSyncer(exp),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp.Tracer("sampler-test"), exp
}

func TestSamplerDescription(t *testing.T) {
	s := New().Sampler(sdktrace.AlwaysSample())
	assert.Equal(t, "StagetraceSampler{AlwaysOnSampler}", s.Description())
	assert.Contains(t, New().Sampler(nil).Description(), "ParentBased", "nil is the SDK's default sampler")
}

func TestSamplerKeepsTheInnerDecision(t *testing.T) {
	p := New()
	tr, exp := samplerHarness(t, p, sdktrace.NeverSample())
	ctx := withRun(context.Background(), "r", "s")
	_, s := tr.Start(ctx, "dropped", trace.WithAttributes(attributes.Run("")))
	assert.False(t, s.IsRecording())
	s.End()
	_, s = tr.Start(context.Background(), "dropped too")
	s.End()
	assert.Empty(t, exp.GetSpans())
	assert.Zero(t, p.deferred.n.Load(), "a dropped span is left to no one")
}

func TestSamplerInnerAttributes(t *testing.T) {
	p := New()
	tr, exp := samplerHarness(t, p, withAttrs{[]attribute.KeyValue{attributes.Run("inner-run"), attribute.String("k", "v")}})
	end(tr.Start(withRun(context.Background(), "ctx-run", "ctx-stage"), "span"))
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	// The inner sampler's run.id is the span's own, as a start attribute
	// is: it beats the context.
	assert.Equal(t, got{run: "inner-run", stage: "ctx-stage", nRun: 1, nStage: 1}, runStageOf(spans[0].Attributes))
	assert.Contains(t, spans[0].Attributes, attribute.String("k", "v"))
}

func TestSamplerSharedAttributesAreFull(t *testing.T) {
	p := New()
	s := p.Sampler(sdktrace.AlwaysSample())
	ctx := withRun(context.Background(), "r", "s")
	params := sdktrace.SamplingParameters{ParentContext: ctx, Name: "a"}
	first := s.ShouldSample(params).Attributes  // opens the stage
	second := s.ShouldSample(params).Attributes // inherits it
	third := s.ShouldSample(params).Attributes
	assert.Equal(t, []attribute.KeyValue{attributes.Run("r"), attributes.Stage("s")}, first)
	assert.Equal(t, []attribute.KeyValue{attributes.Run("r"), attributes.Stage("s"), inheritedAttr}, second)
	require.Equal(t, second, third)
	assert.Same(t, &second[0], &third[0], "spans with the same values share one slice")
	assert.Equal(t, len(third), cap(third), "an append to a shared slice must copy it")
	// A sampler wrapping this one appends without touching the next span's.
	_ = append(third, attribute.String("x", "y"))
	assert.Equal(t, second, s.ShouldSample(params).Attributes)
}

// A sampler made but replaced by another in the provider's options never
// runs: the processor goes on placing every span in OnStart.
func TestSamplerReplaced(t *testing.T) {
	p := New()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(p.Sampler(nil)),
		sdktrace.WithSpanProcessor(p),
		sdktrace.WithSyncer(exp),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	end(tp.Tracer("t").Start(withRun(context.Background(), "r", "s"), "span"))
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	assert.Equal(t, got{run: "r", stage: "s", nRun: 1, nStage: 1}, runStageOf(spans[0].Attributes))
	assert.False(t, p.sampling.Load())
}

func TestSamplerNotForWrapping(t *testing.T) {
	inner := sdktrace.AlwaysSample()
	p := NewWrapping(noopProcessor{})
	assert.Equal(t, inner, p.Sampler(inner))
	assert.False(t, p.sampling.Load())
}

// A run id function is given the span, which a sampler does not have: the
// processor keeps placing spans in OnStart, and the function is called.
func TestSamplerNotWithRunIDFunc(t *testing.T) {
	inner := sdktrace.AlwaysSample()
	var called *sdktrace.ReadOnlySpan
	p := New(WithRunIDFunc(func(_ context.Context, s sdktrace.ReadOnlySpan) string {
		called = &s
		return "f"
	}))
	assert.Equal(t, inner, p.Sampler(inner))
	tr, exp := samplerHarness(t, p, inner)
	end(tr.Start(context.Background(), "span"))
	require.NotNil(t, called)
	assert.Equal(t, "span", (*called).Name())
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	assert.Equal(t, got{run: "f", nRun: 1}, runStageOf(spans[0].Attributes))
}

// Spans left to OnStart are forgotten at Shutdown, after which the sampler
// leaves every span as its inner sampler does.
func TestSamplerShutdown(t *testing.T) {
	p := New()
	s := p.Sampler(sdktrace.AlwaysSample())
	ctx := withRun(context.Background(), "r", "s")
	params := sdktrace.SamplingParameters{ParentContext: ctx, Name: "a", Attributes: []attribute.KeyValue{attributes.Run("")}}
	assert.Empty(t, s.ShouldSample(params).Attributes, "an empty start value is left to OnStart")
	assert.EqualValues(t, 1, p.deferred.n.Load())
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Zero(t, p.deferred.n.Load())
	assert.Nil(t, p.deferred.m)
	params.Attributes = nil
	assert.Empty(t, s.ShouldSample(params).Attributes, "nothing after Shutdown")
}

// A rule that reads the scope cannot run in a sampler: the processor keeps
// placing spans in OnStart, and the rule still applies.
func TestSamplerWithScopeRules(t *testing.T) {
	set, err := rules.New(rules.Rule{Match: rules.Match{Scope: rules.Glob("sampler-*")}, Stage: "scoped"})
	require.NoError(t, err)
	inner := sdktrace.AlwaysSample()
	p := New(WithRules(set))
	assert.Equal(t, inner, p.Sampler(inner))
	tr, exp := samplerHarness(t, p, inner)
	end(tr.Start(withRun(context.Background(), "r", "ctx"), "span"))
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	assert.Equal(t, got{run: "r", stage: "scoped", nRun: 1, nStage: 1}, runStageOf(spans[0].Attributes))
}

// The sampler sets the values as the span is created, so that processors
// registered before the stagetrace processor see them in OnStart too.
func TestSamplerValuesSeenByEarlierProcessors(t *testing.T) {
	p := New()
	rec := &startRecorder{}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(p.Sampler(nil)),
		sdktrace.WithSpanProcessor(rec),
		sdktrace.WithSpanProcessor(p),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	end(tp.Tracer("t").Start(withRun(context.Background(), "r", "s"), "span"))
	assert.Equal(t, got{run: "r", stage: "s", nRun: 1, nStage: 1}, rec.got)
}

type startRecorder struct {
	noopProcessor
	got got
}

func (r *startRecorder) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	r.got = runStageOf(s.Attributes())
}

// Spans the sampler leaves to OnStart but that never start (here: sampled
// and never started) are forgotten after two generations of deferrals, so
// that OnStart stops looking for them; a span left to OnStart just before
// it starts is still found and placed.
func TestSamplerForgetsSpansThatNeverStart(t *testing.T) {
	p := New()
	tr, exp := samplerHarness(t, p, sdktrace.AlwaysSample())
	s := p.Sampler(sdktrace.AlwaysSample())
	ctx := withRun(context.Background(), "r", "s")
	for i := range 3*maxDeferred + 5 {
		var tid trace.TraceID
		tid[0], tid[1], tid[2] = byte(i), byte(i>>8), byte(i>>16)
		params := sdktrace.SamplingParameters{ParentContext: ctx, TraceID: tid, Name: "never", Attributes: []attribute.KeyValue{attributes.Run("")}}
		require.Empty(t, s.ShouldSample(params).Attributes, "an empty start value is left to OnStart")
	}
	p.deferred.mu.Lock()
	kept := len(p.deferred.m) + len(p.deferred.old)
	p.deferred.mu.Unlock()
	assert.LessOrEqual(t, kept, 2*maxDeferred)
	assert.EqualValues(t, kept, p.deferred.n.Load(), "the count is the keys kept")

	end(tr.Start(ctx, "late", trace.WithAttributes(attributes.Run(""))))
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	assert.Equal(t, got{run: "r", stage: "s", nRun: 1, nStage: 1}, runStageOf(spans[0].Attributes))
	assert.EqualValues(t, kept, p.deferred.n.Load(), "the late span was taken")
}
