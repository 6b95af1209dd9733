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
	"github.com/stagetrace/stagetrace/internal/benchpair"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// benchSpans returns the same 512 spans twice: as the SDK hands them to an
// exporter, and as pdata the collector exporter receives.
func benchSpans(tb testing.TB) ([]sdktrace.ReadOnlySpan, ptrace.Traces) {
	return benchSpansN(tb, 512)
}

// benchSpansN is benchSpans with n spans.
func benchSpansN(tb testing.TB, n int) ([]sdktrace.ReadOnlySpan, ptrace.Traces) {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "bench"))))
	tracer := tp.Tracer("bench/llm")
	for i := range n {
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
	require.Len(tb, spans, n)

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

// BenchmarkExportPaired is the paired form of BenchmarkExport512, the
// figure BENCHMARKS.md records: the collector exporter and the SDK exporter
// write the same spans to a JSONL file each, in turn. "collector/sdk" is
// the collector path's time per span over the SDK path's (goal: at most
// 1.0). "growth" runs the collector exporter on 512 and on 5,120 spans:
// "5120/512" is the cost per span of the large batch over the small one
// (goal: at most 1.10). See internal/benchpair.
func BenchmarkExportPaired(b *testing.B) {
	ctx := context.Background()
	newWriterTo := func(b *testing.B) *writer {
		s, err := jsonlsink.New(filepath.Join(b.TempDir(), "runs.jsonl"))
		require.NoError(b, err)
		w := newWriter(mapping.Options{}, nil)
		require.NoError(b, w.setSinks([]stagetrace.Sink{s}))
		b.Cleanup(func() { require.NoError(b, w.shutdown(ctx)) })
		return w
	}
	b.Run("vs-sdk", func(b *testing.B) {
		sdkSpans, td := benchSpans(b)
		w := newWriterTo(b)
		s, err := jsonlsink.New(filepath.Join(b.TempDir(), "sdk.jsonl"))
		require.NoError(b, err)
		exp, err := exporter.New(exporter.WithSinks(s))
		require.NoError(b, err)
		b.Cleanup(func() { require.NoError(b, exp.Shutdown(ctx)) })
		// Each side exports its batch 8 times a round: some milliseconds,
		// its share of garbage collection included.
		runPaired(b, []string{"sdk", "collector"}, []int{8 * 512, 8 * 512}, []func() error{
			func() error { return times(8, func() error { return exp.ExportSpans(ctx, sdkSpans) }) },
			func() error { return times(8, func() error { return w.write(ctx, td) }) },
		})
	})
	b.Run("growth", func(b *testing.B) {
		_, large := benchSpansN(b, 5120)
		_, small := benchSpans(b)
		ws, wl := newWriterTo(b), newWriterTo(b)
		// The small side writes its batch ten times a round: as many
		// spans as the large side.
		runPaired(b, []string{"512", "5120"}, []int{5120, 5120}, []func() error{
			func() error { return times(10, func() error { return ws.write(ctx, small) }) },
			func() error { return wl.write(ctx, large) },
		})
	})
}

// runPaired runs each side once per round, in the order of
// benchpair.Order, and reports the paired figures; side 0 is the base.
// units[i] is the number of spans one call of sides[i] exports.
func runPaired(b *testing.B, names []string, units []int, sides []func() error) {
	rounds := benchpair.New(names, units)
	round := 0
	for b.Loop() {
		for _, i := range benchpair.Order(len(sides), round) {
			rounds.Time(i, func() {
				if err := sides[i](); err != nil {
					b.Fatal(err)
				}
			})
		}
		round++
	}
	rounds.Report(b, "span", 0)
}

// times calls f n times, stopping at the first error.
func times(n int, f func() error) error {
	for range n {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}
