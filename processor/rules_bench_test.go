package processor

import (
	"context"
	"github.com/stagetrace/stagetrace/internal/benchpair"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

// BenchmarkSpanStartEndRules is BenchmarkSpanStartEnd with the GenAI
// preset: the processor with WithRules against the no-op baseline (goal:
// at most 1.40× its time). "genai" spans carry gen_ai.operation.name, so
// the rule gives their stage; "other" spans do not, and the rule looks and
// finds nothing.
func BenchmarkSpanStartEndRules(b *testing.B) {
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetGenAI}})
	if err != nil {
		b.Fatal(err)
	}
	base := []attribute.KeyValue{
		attribute.String("http.method", "GET"),
		attribute.String("url.path", "/v1/search"),
		attribute.Int("http.status_code", 200),
		attribute.Int64("gen_ai.usage.input_tokens", 1234),
		attribute.Float64("score", 0.87),
		attribute.Bool("cache.hit", false),
		attribute.StringSlice("tags", []string{"a", "b"}),
		attribute.String("gen_ai.request.model", "m-1"),
	}
	genai := append(append([]attribute.KeyValue{}, base[:7]...), attributes.GenAIOperationName.String("chat"))
	cases := []struct {
		name  string
		sp    func() sdktrace.SpanProcessor
		attrs []attribute.KeyValue
	}{
		{"noop", func() sdktrace.SpanProcessor { return noopProcessor{} }, genai},
		{"processor", func() sdktrace.SpanProcessor { return New() }, genai},
		{"rules/genai", func() sdktrace.SpanProcessor { return New(WithRules(set)) }, genai},
		{"rules/other", func() sdktrace.SpanProcessor { return New(WithRules(set)) }, base},
		{"sampler+rules/genai", func() sdktrace.SpanProcessor { return New(WithRules(set)) }, genai},
		{"sampler+rules/other", func() sdktrace.SpanProcessor { return New(WithRules(set)) }, base},
		{"wrapping+rules/genai", func() sdktrace.SpanProcessor { return NewWrapping(noopProcessor{}, WithRules(set)) }, genai},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			sp := c.sp()
			var smp sdktrace.Sampler = sdktrace.AlwaysSample()
			if strings.HasPrefix(c.name, "sampler") {
				smp = sp.(*Processor).Sampler(smp)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(smp), sdktrace.WithSpanProcessor(sp))
			b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			tr := tp.Tracer("bench")
			ctx := attributes.ContextWithRun(context.Background(), "run-0001")
			ctx = attributes.ContextWithStage(ctx, "retrieve")
			ctx, parent := tr.Start(ctx, "parent")
			b.Cleanup(func() { parent.End() })
			start := trace.WithAttributes(c.attrs...)
			event := trace.WithAttributes(attribute.String("doc.id", "d-42"), attribute.Int("rank", 3))

			b.ReportAllocs()
			cpu0, cpuOK := benchpair.ProcessCPUTime()
			for b.Loop() {
				_, s := tr.Start(ctx, "child", start)
				s.AddEvent("retrieved", event)
				s.End()
			}
			if cpu1, ok := benchpair.ProcessCPUTime(); cpuOK && ok {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
