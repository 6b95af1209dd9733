package integration

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// endedSpans returns n ended spans as the SDK hands them to an exporter:
// 8 attributes (two of them findings, plus run and stage) and one event.
func endedSpans(tb testing.TB, n int) []sdktrace.ReadOnlySpan {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(rec),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "bench"))),
	)
	tracer := tp.Tracer("bench/llm")
	ctx, root := tracer.Start(context.Background(), "turn")
	for i := range n {
		_, span := tracer.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(
				attributes.Run("r-42"),
				attributes.Stage("inference"),
				attribute.String("gen_ai.request.model", "gpt-4o"),
				attribute.String("gen_ai.operation.name", "chat"),
				attribute.Int("llm.attempt", 1),
				attribute.Float64("llm.temperature", 0.2),
				attribute.Bool("llm.stream", false),
				attribute.StringSlice("gen_ai.response.finish_reasons", []string{"stop"}),
				attributes.Finding("input_tokens", 800+i),
				attributes.Finding("output_tokens", 95),
			))
		span.AddEvent("metric", trace.WithAttributes(
			attributes.MetricName.String("time_to_first_token"),
			attributes.MetricValue.Float64(41.5),
			attributes.MetricUnit.String("ms"),
		))
		span.End()
	}
	root.End()
	spans := rec.Ended()
	require.Len(tb, spans, n+1)
	return spans[:n]
}

// BenchmarkExport512 compares the exporter writing batches of 512 spans to
// a JSONL file with stdouttrace writing the same spans to io.Discard. The
// ratio of the two ns/op is what BENCHMARKS.md records.
func BenchmarkExport512(b *testing.B) {
	spans := endedSpans(b, 512)
	b.Run("stagetrace-jsonl", func(b *testing.B) { benchExportJSONL(b, spans) })
	b.Run("stdouttrace-discard", func(b *testing.B) {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(io.Discard))
		require.NoError(b, err)
		benchExport(b, exp, spans)
	})
}

// benchExportJSONL measures the exporter writing spans to a JSONL file.
func benchExportJSONL(b *testing.B, spans []sdktrace.ReadOnlySpan) {
	sink, err := jsonlsink.New(filepath.Join(b.TempDir(), "runs.jsonl"))
	require.NoError(b, err)
	exp, err := exporter.New(exporter.WithSinks(sink))
	require.NoError(b, err)
	benchExport(b, exp, spans)
}

// benchExport measures exp exporting spans, reporting ns/span, and shuts
// it down.
func benchExport(b *testing.B, exp sdktrace.SpanExporter, spans []sdktrace.ReadOnlySpan) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := exp.ExportSpans(ctx, spans); err != nil {
			b.Fatal(err)
		}
	}
	reportPerSpan(b, len(spans))
	require.NoError(b, exp.Shutdown(ctx))
}

// reportPerSpan adds the ns/span metric BENCHMARKS.md compares.
func reportPerSpan(b *testing.B, spans int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spans), "ns/span")
}
