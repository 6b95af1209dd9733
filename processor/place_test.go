package processor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

// placeHarness is a provider around p, a processor of either mode.
func placeHarness(t *testing.T, wrapping bool, opts ...Option) (*Processor, trace.Tracer, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	var p *Processor
	var tpOpts []sdktrace.TracerProviderOption
	if wrapping {
		p = NewWrapping(sdktrace.NewSimpleSpanProcessor(exp), opts...)
		tpOpts = []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(p)}
	} else {
		p = New(opts...)
		tpOpts = []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(p), sdktrace.WithSyncer(exp)}
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return p, tp.Tracer("place-test"), exp
}

func TestPlaceFollowsTheSpanRules(t *testing.T) {
	for _, wrapping := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "wrapping"}[wrapping], func(t *testing.T) {
			p, tr, _ := placeHarness(t, wrapping)
			bg := context.Background()

			run, stage := p.Place(bg)
			assert.Equal(t, [2]string{"", ""}, [2]string{run, stage}, "nothing places it")

			ctx := attributes.ContextWithRun(bg, "r-ctx")
			run, stage = p.Place(ctx)
			assert.Equal(t, [2]string{"r-ctx", ""}, [2]string{run, stage}, "outside any span, the context's run")

			// A span placed by its own attributes: a record made in it,
			// from a context naming nothing else, takes the span's.
			sctx, span := tr.Start(bg, "by attribute", trace.WithAttributes(attributes.Run("r-attr"), attributes.Stage("retrieval")))
			run, stage = p.Place(sctx)
			assert.Equal(t, [2]string{"r-attr", "retrieval"}, [2]string{run, stage}, "the span's run and stage")
			span.End()

			// A span placed by its context; the record is made from a
			// context that holds only the span (in wrapping mode the
			// values wait in the processor until the span ends).
			sctx, span = tr.Start(attributes.ContextWithStage(ctx, "inference"), "by context")
			run, stage = p.Place(trace.ContextWithSpan(bg, span))
			assert.Equal(t, [2]string{"r-ctx", "inference"}, [2]string{run, stage})
			run, stage = p.Place(sctx)
			assert.Equal(t, [2]string{"r-ctx", "inference"}, [2]string{run, stage})
			span.End()

			// The context wins over the span, as it does for a child span.
			sctx, span = tr.Start(bg, "span", trace.WithAttributes(attributes.Run("r-span")))
			run, _ = p.Place(attributes.ContextWithRun(sctx, "r-later"))
			assert.Equal(t, "r-later", run)
			span.End()
		})
	}
}

func TestPlaceClaimsNoStage(t *testing.T) {
	p, tr, exp := placeHarness(t, false)
	ctx := attributes.ContextWithStage(attributes.ContextWithRun(context.Background(), "r"), "eval")
	run, stage := p.Place(ctx)
	require.Equal(t, [2]string{"r", "eval"}, [2]string{run, stage})
	_, span := tr.Start(ctx, "first span")
	span.End()
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	for _, a := range spans[0].Attributes {
		assert.NotEqual(t, attributes.StageInherited, a.Key, "the first span still opens the stage a record was made in")
	}
}

func TestPlaceBaggageDefaultAndShutdown(t *testing.T) {
	m1, err := baggage.NewMember(string(attributes.RunID), "r-bag")
	require.NoError(t, err)
	bag, err := baggage.New(m1)
	require.NoError(t, err)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)

	untrusting, _, _ := placeHarness(t, false, WithDefaultRunID("r-default"), WithRunIDFunc(func(context.Context, sdktrace.ReadOnlySpan) string {
		t.Error("the run id function is for starting spans")
		return "r-func"
	}))
	run, _ := untrusting.Place(ctx)
	assert.Equal(t, "r-default", run, "baggage is not trusted, the function is not called")

	trusting, _, _ := placeHarness(t, false, WithBaggageKeys(string(attributes.RunID)))
	run, _ = trusting.Place(ctx)
	assert.Equal(t, "r-bag", run)

	require.NoError(t, trusting.Shutdown(context.Background()))
	run, _ = trusting.Place(ctx)
	assert.Empty(t, run, "a shut down processor places nothing")
	var nilP *Processor
	run, _ = nilP.Place(ctx)
	assert.Empty(t, run)
}
