package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

// BenchmarkMonitor512 measures what the monitor sink adds per span, against
// the exporter writing the same 512 spans to JSONL: monitor-write is the
// monitor's Write of the batch the exporter maps (mapped once, outside the
// loop), exporter-jsonl the exporter's ExportSpans (mapping included). The
// goal is a monitor-write ns/span under 10% of exporter-jsonl's.
func BenchmarkMonitor512(b *testing.B) {
	spans := endedSpans(b, 512)
	mapper, err := exporter.New(exporter.WithSinks(memsink.New()))
	require.NoError(b, err)
	batch := mapper.Map(spans)
	require.Len(b, batch.Spans, 512)

	b.Run("monitor-write", func(b *testing.B) {
		m, err := monitor.New()
		require.NoError(b, err)
		benchWrite(b, m, batch)
	})
	b.Run("monitor-write-alerts", func(b *testing.B) {
		// Rules on the series every batch touches: Write evaluates them.
		m, err := monitor.New(monitor.WithEvalInterval(0), monitor.WithAlerts(
			alert.Rule{Name: "errors", Metric: "stage:inference", Stat: alert.StatErrorRate, Op: query.OpGt, Threshold: 0.1},
			alert.Rule{Name: "slow", Metric: "chat gpt-4o", Stat: alert.StatP95, Op: query.OpGt, Threshold: 2000},
			alert.Rule{Name: "prompt", Metric: "stage:inference", Stat: alert.StatMeanInputTokens, Op: query.OpGt, Threshold: 4000},
			alert.Rule{Name: "budget", Stat: alert.StatRunTotalTokens, Op: query.OpGt, Threshold: 1e15},
		))
		require.NoError(b, err)
		benchWrite(b, m, batch)
	})
	b.Run("exporter-jsonl", func(b *testing.B) { benchExportJSONL(b, spans) })
}

// benchWrite measures sink writing batch, reporting ns/span, and shuts it
// down.
func benchWrite(b *testing.B, sink stagetrace.Sink, batch stagetrace.Batch) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := sink.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	reportPerSpan(b, len(batch.Spans))
	require.NoError(b, sink.Shutdown(ctx))
}
