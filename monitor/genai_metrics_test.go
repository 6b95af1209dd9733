package monitor_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor"
)

// TestGenAIMetrics: the GenAI client metrics of the calls written to the
// monitor reach a MeterProvider under their convention names.
func TestGenAIMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	mon, err := monitor.New(monitor.WithMeterProvider(mp))
	require.NoError(t, err)
	t.Cleanup(func() { _ = mon.Shutdown(context.Background()) })

	t0 := time.Now().Add(-time.Minute)
	str := stagetrace.StringValue
	chat := stagetrace.StageSpan{
		RunID: "r", Name: "chat gpt-4o", Stage: "chat", StartTime: t0, EndTime: t0.Add(1500 * time.Millisecond),
		Attrs: stagetrace.Attrs{{Key: "gen_ai.operation.name", Value: str("chat")}, {Key: "gen_ai.request.model", Value: str("gpt-4o")}},
		Findings: stagetrace.Attrs{
			{Key: "input_tokens", Value: stagetrace.Int64Value(120)}, {Key: "output_tokens", Value: stagetrace.Int64Value(30)},
			{Key: "model", Value: str("gpt-4o-2024-08-06")}, {Key: "provider", Value: str("openai")},
			{Key: "time_to_first_chunk", Value: stagetrace.Float64Value(0.25)},
		},
	}
	failed := chat
	failed.Status = stagetrace.StatusError
	failed.Findings = stagetrace.Attrs{{Key: "model", Value: str("gpt-4o")}, {Key: "input_tokens", Value: stagetrace.Int64Value(-1)}}
	plain := stagetrace.StageSpan{RunID: "r", Name: "retrieve", StartTime: t0, EndTime: t0.Add(time.Second)}
	require.NoError(t, mon.Write(context.Background(), stagetrace.Batch{Spans: []stagetrace.StageSpan{chat, failed, plain}}))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	got := map[string]metricdata.Metrics{}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		got[m.Name] = m
	}
	require.Contains(t, got, monitor.MetricGenAIOperationDuration)
	require.Contains(t, got, monitor.MetricGenAITokenUsage)
	require.Contains(t, got, monitor.MetricGenAITimeToFirstChunk)

	dur := got[monitor.MetricGenAIOperationDuration]
	assert.Equal(t, "s", dur.Unit)
	points := dur.Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, points, 2, "the chat call and the failed one; the retrieval is no GenAI call")
	var errs int
	for _, p := range points {
		assert.Equal(t, uint64(1), p.Count)
		assert.InDelta(t, 1.5, p.Sum, 1e-9)
		op, _ := p.Attributes.Value("gen_ai.operation.name")
		assert.Equal(t, "chat", op.AsString())
		if v, ok := p.Attributes.Value("error.type"); ok {
			errs++
			assert.Equal(t, "_OTHER", v.AsString())
		}
	}
	assert.Equal(t, 1, errs)

	tok := got[monitor.MetricGenAITokenUsage]
	assert.Equal(t, "{token}", tok.Unit)
	byType := map[string]int64{}
	for _, p := range tok.Data.(metricdata.Histogram[int64]).DataPoints {
		typ, _ := p.Attributes.Value("gen_ai.token.type")
		byType[typ.AsString()] += p.Sum
		model, _ := p.Attributes.Value(attribute.Key("gen_ai.response.model"))
		assert.Equal(t, "gpt-4o-2024-08-06", model.AsString())
		prov, _ := p.Attributes.Value("gen_ai.provider.name")
		assert.Equal(t, "openai", prov.AsString())
	}
	assert.Equal(t, map[string]int64{"input": 120, "output": 30}, byType, "a count that is not one is left out")

	ttfc := got[monitor.MetricGenAITimeToFirstChunk].Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, ttfc, 1)
	assert.InDelta(t, 0.25, ttfc[0].Sum, 1e-9)
}

func TestGenAIMetricsOff(t *testing.T) {
	mon, err := monitor.New()
	require.NoError(t, err)
	require.NoError(t, mon.Write(context.Background(), stagetrace.Batch{Spans: []stagetrace.StageSpan{{
		RunID: "r", Name: "x", Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(1)}},
	}}}))
	require.NoError(t, mon.Shutdown(context.Background()))
}

// TestGenAIMetricsManyModels: beyond the cached attribute combinations
// every span is still recorded under its own attributes.
func TestGenAIMetricsManyModels(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	mon, err := monitor.New(monitor.WithMeterProvider(mp), monitor.WithMaxSeries(1<<16))
	require.NoError(t, err)
	t.Cleanup(func() { _ = mon.Shutdown(context.Background()) })
	const n = 1100
	t0 := time.Now().Add(-time.Minute)
	var b stagetrace.Batch
	for i := range n {
		b.Spans = append(b.Spans, stagetrace.StageSpan{RunID: "r", Name: "chat", Stage: "chat", StartTime: t0, EndTime: t0.Add(time.Second),
			Findings: stagetrace.Attrs{
				{Key: "model", Value: stagetrace.StringValue(fmt.Sprintf("m-%d", i))},
				{Key: "input_tokens", Value: stagetrace.Int64Value(int64(i))},
			}})
	}
	require.NoError(t, mon.Write(context.Background(), b))
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != monitor.MetricGenAITokenUsage {
			continue
		}
		points := m.Data.(metricdata.Histogram[int64]).DataPoints
		require.Len(t, points, n, "one input series per model")
		for _, p := range points {
			model, _ := p.Attributes.Value("gen_ai.response.model")
			assert.Equal(t, "m-"+strconv.FormatInt(p.Sum, 10), model.AsString())
		}
		return
	}
	t.Fatal("no token usage metric")
}
