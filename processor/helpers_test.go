package processor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

// mode builds the span pipeline of one processor mode: a Processor made
// with opts in front of a synchronous exporter to exp.
type mode struct {
	name     string
	pipeline func(exp sdktrace.SpanExporter, opts []Option) []sdktrace.TracerProviderOption
}

var modes = []mode{
	{"default", func(exp sdktrace.SpanExporter, opts []Option) []sdktrace.TracerProviderOption {
		return []sdktrace.TracerProviderOption{
			sdktrace.WithSpanProcessor(New(opts...)),
			sdktrace.WithSyncer(exp),
		}
	}},
	{"sampler", func(exp sdktrace.SpanExporter, opts []Option) []sdktrace.TracerProviderOption {
		p := New(opts...)
		return []sdktrace.TracerProviderOption{
			sdktrace.WithSampler(p.Sampler(sdktrace.AlwaysSample())),
			sdktrace.WithSpanProcessor(p),
			sdktrace.WithSyncer(exp),
		}
	}},
	{"wrapping", func(exp sdktrace.SpanExporter, opts []Option) []sdktrace.TracerProviderOption {
		return []sdktrace.TracerProviderOption{
			sdktrace.WithSpanProcessor(NewWrapping(sdktrace.NewSimpleSpanProcessor(exp), opts...)),
		}
	}},
}

// forEachMode runs f as a subtest for every mode.
func forEachMode(t *testing.T, f func(t *testing.T, m mode)) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { f(t, m) })
	}
}

type harness struct {
	tp  *sdktrace.TracerProvider
	tr  trace.Tracer
	exp *tracetest.InMemoryExporter
}

func newHarness(t testing.TB, m mode, opts ...Option) *harness {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	// The mode's own sampler, if any, comes after AlwaysSample and wins.
	tpOpts := append([]sdktrace.TracerProviderOption{sdktrace.WithSampler(sdktrace.AlwaysSample())}, m.pipeline(exp, opts)...)
	tp := sdktrace.NewTracerProvider(tpOpts...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &harness{tp: tp, tr: tp.Tracer("processor-test"), exp: exp}
}

// got is what an exported span carries: the run.id and run.stage string
// values ("" when absent) and how many times each key occurs.
type got struct {
	run, stage   string
	nRun, nStage int
}

func runStageOf(attrs []attribute.KeyValue) got {
	var g got
	for _, a := range attrs {
		switch a.Key {
		case attributes.RunID:
			g.run, g.nRun = a.Value.String(), g.nRun+1
		case attributes.RunStage:
			g.stage, g.nStage = a.Value.String(), g.nStage+1
		}
	}
	return g
}

// spans returns the exported spans by name; names must be unique.
func (h *harness) spans(t testing.TB) map[string]tracetest.SpanStub {
	t.Helper()
	out := map[string]tracetest.SpanStub{}
	for _, s := range h.exp.GetSpans() {
		_, dup := out[s.Name]
		require.False(t, dup, "span name %q used twice", s.Name)
		out[s.Name] = s
	}
	return out
}

// end ends the span of a tracer.Start result.
func end(_ context.Context, s trace.Span) { s.End() }
