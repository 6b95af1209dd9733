package bridge_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/bridge"
)

func newRecorder() (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	rec := tracetest.NewSpanRecorder()
	return rec, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
}

func metricOf(t *testing.T, s sdktrace.ReadOnlySpan) (string, float64) {
	t.Helper()
	require.Len(t, s.Events(), 1)
	ev := s.Events()[0]
	require.Equal(t, attributes.EventMetric, ev.Name)
	var name string
	var value float64
	for _, kv := range ev.Attributes {
		switch kv.Key {
		case attributes.MetricName:
			name = kv.Value.AsString()
		case attributes.MetricValue:
			value = kv.Value.AsFloat64()
		}
	}
	return name, value
}

func runOf(s sdktrace.ReadOnlySpan) string {
	for _, kv := range s.Attributes() {
		if kv.Key == attributes.RunID {
			return kv.Value.AsString()
		}
	}
	return ""
}

func TestBridgeCustomMetric(t *testing.T) {
	rec, tp := newRecorder()
	b := bridge.New(tp.Tracer("job"), "run-1")
	b.CustomMetric("accuracy", 0.91)
	spans := rec.Ended()
	require.Len(t, spans, 1)
	assert.Equal(t, bridge.MetricSpanName, spans[0].Name())
	assert.Equal(t, "run-1", runOf(spans[0]))
	name, value := metricOf(t, spans[0])
	assert.Equal(t, "accuracy", name)
	assert.Equal(t, 0.91, value)
}

func TestBridgeStageSpan(t *testing.T) {
	rec, tp := newRecorder()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	b := bridge.New(tp.Tracer("job"), "run-1", bridge.WithClock(func() time.Time { return now }))
	b.StageSpan("SamplingStage", 1500*time.Millisecond)
	spans := rec.Ended()
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, "SamplingStage", s.Name())
	assert.Equal(t, now, s.EndTime())
	assert.Equal(t, 1500*time.Millisecond, s.EndTime().Sub(s.StartTime()))
	var stage string
	for _, kv := range s.Attributes() {
		if kv.Key == attributes.RunStage {
			stage = kv.Value.AsString()
		}
	}
	assert.Equal(t, "SamplingStage", stage)
	assert.Equal(t, "run-1", runOf(s))
}

func TestBridgeBackfill(t *testing.T) {
	rec, tp := newRecorder()
	b := bridge.New(tp.Tracer("job"), "run-1", bridge.WithKnownMetrics("latency_ms", "tokens", "accuracy"))
	b.CustomMetric("accuracy", 0.9)
	n := b.Backfill(map[string]float64{
		"accuracy":   0.5,        // already recorded: not again
		"tokens":     1200,       // known
		"latency_ms": 35,         // known
		"unknown":    1,          // not known
		"nan":        math.NaN(), // not known either
	})
	assert.Equal(t, 2, n)
	assert.Equal(t, 0, b.Backfill(map[string]float64{"tokens": 5}), "a metric is backfilled once")

	spans := rec.Ended()
	require.Len(t, spans, 3)
	got := map[string]float64{}
	var order []string
	for _, s := range spans {
		name, v := metricOf(t, s)
		got[name] = v
		order = append(order, name)
	}
	assert.Equal(t, map[string]float64{"accuracy": 0.9, "latency_ms": 35, "tokens": 1200}, got)
	assert.Equal(t, []string{"accuracy", "latency_ms", "tokens"}, order, "backfill records in name order")
}

func TestBridgeBackfillAllKnownByDefault(t *testing.T) {
	rec, tp := newRecorder()
	b := bridge.New(tp.Tracer("job"), "r")
	assert.Equal(t, 2, b.Backfill(map[string]float64{"a": 1, "b": 2, "c": math.NaN()}))
	assert.Len(t, rec.Ended(), 2)
}

func TestBridgeParent(t *testing.T) {
	rec, tp := newRecorder()
	ctx, parent := tp.Tracer("job").Start(context.Background(), "job")
	b := bridge.New(tp.Tracer("job"), "r", bridge.WithParent(ctx))
	b.CustomMetric("x", 1)
	parent.End()
	spans := rec.Ended()
	require.Len(t, spans, 2)
	assert.Equal(t, parent.SpanContext().SpanID(), spans[0].Parent().SpanID())
	assert.Equal(t, parent.SpanContext().TraceID(), spans[0].SpanContext().TraceID())
}
