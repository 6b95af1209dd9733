package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
)

// benchBatch is 512 model calls of one run and stage, as the exporter maps
// them, ending at end.
func benchBatch(end time.Time) stagetrace.Batch {
	b := stagetrace.Batch{Spans: make([]stagetrace.StageSpan, 512)}
	for i := range b.Spans {
		b.Spans[i] = span("chat gpt-4o", end, time.Duration(20+i%200)*time.Millisecond,
			inStage("inference"), inRun("r-42"), tokens("gpt-4o", int64(800+i), 95))
	}
	return b
}

// BenchmarkWrite512 measures Write of a 512-span batch, one batch a second
// for a window that is full: every second a new bucket, and with rules
// the quantiles of 5 minutes of samples.
func BenchmarkWrite512(b *testing.B) {
	rules := []alert.Rule{
		{Name: "errors", Metric: "stage:inference", Stat: alert.StatErrorRate, Op: query.OpGt, Threshold: 0.1},
		{Name: "slow", Metric: "chat gpt-4o", Stat: alert.StatP95, Op: query.OpGt, Threshold: 2000},
		{Name: "prompt", Metric: "stage:inference", Stat: alert.StatMeanInputTokens, Op: query.OpGt, Threshold: 4000},
		{Name: "budget", Stat: alert.StatRunTotalTokens, Op: query.OpGt, Threshold: 1e15},
	}
	// genai-metrics records the GenAI client metrics through an SDK
	// MeterProvider with a reader, as a Prometheus exporter would.
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { require.NoError(b, mp.Shutdown(context.Background())) }()
	for _, c := range []struct {
		name  string
		rules []alert.Rule
		opts  []monitor.Option
	}{{"no-rules", nil, nil}, {"rules", rules, nil}, {"genai-metrics", nil, []monitor.Option{monitor.WithMeterProvider(mp)}}} {
		b.Run(c.name, func(b *testing.B) {
			clk := newClock()
			opts := append([]monitor.Option{monitor.WithClock(clk.Now), monitor.WithEvalInterval(0), monitor.WithAlerts(c.rules...)}, c.opts...)
			m, err := monitor.New(opts...)
			require.NoError(b, err)
			ctx := context.Background()
			for range 300 { // fill the 5 minute window
				require.NoError(b, m.Write(ctx, benchBatch(clk.Now())))
				clk.Advance(time.Second)
			}
			batch := benchBatch(clk.Now())
			b.ReportAllocs()
			for b.Loop() {
				clk.Advance(time.Second)
				for i := range batch.Spans {
					batch.Spans[i].EndTime = clk.Now()
				}
				if err := m.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Spans)), "ns/span")
			require.NoError(b, m.Shutdown(ctx))
		})
	}
}

// BenchmarkMetrics measures a reader: the stats of a full 5 minute window.
func BenchmarkMetrics(b *testing.B) {
	clk := newClock()
	m, err := monitor.New(monitor.WithClock(clk.Now))
	require.NoError(b, err)
	for range 300 {
		require.NoError(b, m.Write(context.Background(), benchBatch(clk.Now())))
		clk.Advance(time.Second)
	}
	for _, w := range []time.Duration{time.Minute, 5 * time.Minute} {
		b.Run(fmt.Sprint(w), func(b *testing.B) {
			for b.Loop() {
				if _, ok := m.Metrics("stage:inference", w); !ok {
					b.Fatal("no series")
				}
			}
		})
	}
	require.NoError(b, m.Shutdown(context.Background()))
}
