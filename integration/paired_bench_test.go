package integration

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// pairedExporter is one side of a paired export benchmark: an exporter and
// the batch it exports, with what it cost so far.
type pairedExporter struct {
	name      string
	exp       sdktrace.SpanExporter
	spans     []sdktrace.ReadOnlySpan
	wall, cpu time.Duration
	allocs    uint64
	exported  int
}

// heapAllocs returns how many heap objects the process has allocated. It
// stops the world, so it is called outside the timed parts.
func heapAllocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// runPaired exports each side's batch in turn, once per op, so that the
// machine's load falls on all sides alike, and reports per side ns/span
// (wall), cpu-ns/span and allocs/span, named after the side.
func runPaired(b *testing.B, sides ...*pairedExporter) {
	ctx := context.Background()
	for b.Loop() {
		for _, s := range sides {
			a0 := heapAllocs()
			c0, _ := processCPUTime()
			t0 := time.Now()
			if err := s.exp.ExportSpans(ctx, s.spans); err != nil {
				b.Fatal(err)
			}
			s.wall += time.Since(t0)
			c1, _ := processCPUTime()
			s.cpu += c1 - c0
			s.allocs += heapAllocs() - a0
			s.exported += len(s.spans)
		}
	}
	for _, s := range sides {
		n := float64(s.exported)
		b.ReportMetric(float64(s.wall)/n, "ns/span-"+s.name)
		b.ReportMetric(float64(s.cpu)/n, "cpu-ns/span-"+s.name)
		b.ReportMetric(float64(s.allocs)/n, "allocs/span-"+s.name)
		require.NoError(b, s.exp.Shutdown(ctx))
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
// in turn. "speedup" is stdouttrace's time per span over ours (goal: at
// least 20), by wall and by process CPU time. "growth" runs our exporter
// on batches of 512 and of 5,120 spans in turn; "per-span-growth" is the
// cost per span of the large batches over that of the small ones (goal:
// at most 1.10).
func BenchmarkExportPaired(b *testing.B) {
	b.Run("vs-stdouttrace", func(b *testing.B) {
		spans := endedSpans(b, 512)
		std, err := stdouttrace.New(stdouttrace.WithWriter(io.Discard))
		require.NoError(b, err)
		ours := &pairedExporter{name: "stagetrace", exp: jsonlExporter(b), spans: spans}
		theirs := &pairedExporter{name: "stdouttrace", exp: std, spans: spans}
		runPaired(b, ours, theirs)
		b.ReportMetric(float64(theirs.wall)/float64(ours.wall), "speedup")
		if ours.cpu > 0 {
			b.ReportMetric(float64(theirs.cpu)/float64(ours.cpu), "speedup-cpu")
		}
	})
	b.Run("growth", func(b *testing.B) {
		large := endedSpans(b, 5120)
		small := &pairedExporter{name: "512", exp: jsonlExporter(b), spans: large[:512]}
		big := &pairedExporter{name: "5120", exp: jsonlExporter(b), spans: large}
		runPaired(b, small, big)
		b.ReportMetric(float64(big.wall)/float64(big.exported)/(float64(small.wall)/float64(small.exported)), "per-span-growth")
		if small.cpu > 0 {
			b.ReportMetric(float64(big.cpu)/float64(big.exported)/(float64(small.cpu)/float64(small.exported)), "per-span-growth-cpu")
		}
	})
}
