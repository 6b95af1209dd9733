package stagetraceexporter

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// benchSpans returns the same 512 spans twice: as the SDK hands them to an
// exporter, and as pdata the collector exporter receives.
func benchSpans(tb testing.TB) ([]sdktrace.ReadOnlySpan, ptrace.Traces) {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "bench"))))
	tracer := tp.Tracer("bench/llm")
	for i := range 512 {
		_, s := tracer.Start(context.Background(), "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(
				attributes.Run("r-42"), attributes.Stage("inference"),
				attribute.String("gen_ai.request.model", "gpt-4o"),
				attribute.String("gen_ai.operation.name", "chat"),
				attribute.Int("llm.attempt", 1),
				attribute.Float64("llm.temperature", 0.2),
				attributes.Finding("input_tokens", 800+i),
				attributes.Finding("output_tokens", 95),
			))
		s.AddEvent("metric", trace.WithAttributes(attributes.MetricName.String("ttft"), attributes.MetricValue.Float64(41.5)))
		s.End()
	}
	spans := rec.Ended()
	require.Len(tb, spans, 512)

	return spans, toPdata(spans)
}

// BenchmarkExport512 compares the collector exporter writing 512 pdata
// spans to a JSONL file with the SDK exporter writing the same spans to a
// JSONL file, in the same run.
func BenchmarkExport512(b *testing.B) {
	sdkSpans, td := benchSpans(b)
	ctx := context.Background()
	newSink := func(b *testing.B) stagetrace.Sink {
		s, err := jsonlsink.New(filepath.Join(b.TempDir(), "runs.jsonl"))
		require.NoError(b, err)
		return s
	}
	b.Run("collector", func(b *testing.B) {
		w := newWriter(mapping.Options{}, nil)
		require.NoError(b, w.setSinks([]stagetrace.Sink{newSink(b)}))
		b.ReportAllocs()
		for b.Loop() {
			if err := w.write(ctx, td); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
		require.NoError(b, w.shutdown(ctx))
	})
	b.Run("sdk", func(b *testing.B) {
		exp, err := exporter.New(exporter.WithSinks(newSink(b)))
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if err := exp.ExportSpans(ctx, sdkSpans); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
		require.NoError(b, exp.Shutdown(ctx))
	})
}
