package integration

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/internal/benchpair"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// heapAllocs returns how many heap objects the process has allocated. It
// stops the world, so it is called outside the timed parts.
func heapAllocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// runPaired runs the sides in turn, once per op, and reports the paired
// figures of internal/benchpair (side 0 is the base) and each side's
// allocations per span. In a round, side i exports each batch of
// batches[i] in turn: a side given ten batches of 512 spans exports as many
// spans, and reads as much distinct input, as a side given one of 5,120.
func runPaired(b *testing.B, names []string, exps []sdktrace.SpanExporter, batches [][][]sdktrace.ReadOnlySpan) {
	ctx := context.Background()
	units := make([]int, len(batches))
	for i := range batches {
		for _, spans := range batches[i] {
			units[i] += len(spans)
		}
	}
	pairedRounds(b, names, units, "span", func(i int) error {
		for _, spans := range batches[i] {
			if err := exps[i].ExportSpans(ctx, spans); err != nil {
				return err
			}
		}
		return nil
	})
	for _, exp := range exps {
		require.NoError(b, exp.Shutdown(ctx))
	}
}

// pairedRounds runs the sides in turn, once per op, in the order
// internal/benchpair gives each round: run(i) does one round's work of side
// i, units[i] of unit. It reports the paired figures (side 0 is the base)
// and each side's allocations per unit.
func pairedRounds(b *testing.B, names []string, units []int, unit string, run func(i int) error) {
	rounds := benchpair.New(names, units)
	allocs := make([]uint64, len(names))
	round := 0
	for b.Loop() {
		for _, i := range benchpair.Order(len(names), round) {
			a0 := heapAllocs()
			rounds.Time(i, func() {
				if err := run(i); err != nil {
					b.Fatal(err)
				}
			})
			allocs[i] += heapAllocs() - a0
		}
		round++
	}
	rounds.Report(b, unit, 0)
	for i := range names {
		b.ReportMetric(float64(allocs[i])/float64(b.N*units[i]), "allocs/"+unit+"-"+names[i])
	}
}

func jsonlExporter(b *testing.B) sdktrace.SpanExporter {
	sink, err := jsonlsink.New(filepath.Join(b.TempDir(), "runs.jsonl"))
	require.NoError(b, err)
	exp, err := exporter.New(exporter.WithSinks(sink))
	require.NoError(b, err)
	return exp
}

// BenchmarkExportPaired is the paired form of BenchmarkExport512, the
// figure BENCHMARKS.md records: the exporter writing batches of 512 spans
// to a JSONL file and stdouttrace encoding the same batches to io.Discard,
// in turn. "stdouttrace/stagetrace" is stdouttrace's time per span over
// ours, the speed-up (goal: at least 20). "growth" runs our exporter on
// batches of 512 and of 5,120 spans in turn: "5120/512" is the cost per
// span of the large batches over that of the small ones (goal: at most
// 1.10); the 512-span batches are the ten tenths of the 5,120 spans, so
// that both sides read the same input.
func BenchmarkExportPaired(b *testing.B) {
	b.Run("vs-stdouttrace", func(b *testing.B) {
		spans := endedSpans(b, 512)
		std, err := stdouttrace.New(stdouttrace.WithWriter(io.Discard))
		require.NoError(b, err)
		// Our side exports the batch 8 times a round, stdouttrace twice:
		// each side then runs some milliseconds, its share of garbage
		// collection included.
		ours := [][]sdktrace.ReadOnlySpan{spans, spans, spans, spans, spans, spans, spans, spans}
		runPaired(b, []string{"stagetrace", "stdouttrace"},
			[]sdktrace.SpanExporter{jsonlExporter(b), std},
			[][][]sdktrace.ReadOnlySpan{ours, {spans, spans}})
	})
	b.Run("growth", func(b *testing.B) {
		// The small batches are the ten tenths of the large one: both
		// sides export and read the same 5,120 spans a round, so the
		// figure is that of the batch size alone.
		large := endedSpans(b, 5120)
		var tenths [][]sdktrace.ReadOnlySpan
		for i := 0; i < len(large); i += 512 {
			tenths = append(tenths, large[i:i+512])
		}
		runPaired(b, []string{"512", "5120"},
			[]sdktrace.SpanExporter{jsonlExporter(b), jsonlExporter(b)},
			[][][]sdktrace.ReadOnlySpan{tenths, {large}})
	})
}
