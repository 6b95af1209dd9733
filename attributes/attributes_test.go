package attributes_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stagetrace/stagetrace/attributes"
)

type score float64
type label string

func TestFindingTypes(t *testing.T) {
	tests := []struct {
		name string
		got  attribute.KeyValue
		want attribute.Value
	}{
		{"bool", attributes.Finding("ok", true), attribute.BoolValue(true)},
		{"int", attributes.Finding("tokens", 812), attribute.Int64Value(812)},
		{"int64", attributes.Finding("tokens", int64(-3)), attribute.Int64Value(-3)},
		{"float64", attributes.Finding("score", 0.5), attribute.Float64Value(0.5)},
		{"string", attributes.Finding("verdict", "safe"), attribute.StringValue("safe")},
		{"named float", attributes.Finding("score", score(0.25)), attribute.Float64Value(0.25)},
		{"named string", attributes.Finding("verdict", label("unsafe")), attribute.StringValue("unsafe")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, attributes.FindingPrefix, string(tt.got.Key)[:len(attributes.FindingPrefix)])
			assert.Equal(t, tt.want, tt.got.Value)
		})
	}
	assert.Equal(t, attribute.Key("finding.input_tokens"), attributes.FindingKey(attributes.FindingInputTokens))
}

func TestSetFindingAndRecordMetric(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	_, span := tp.Tracer("t").Start(context.Background(), "s")
	attributes.SetFinding(span, "tokens", 7)
	attributes.RecordMetric(span, "ttft", 41.5, "ms", attribute.String("model", "m"))
	attributes.RecordMetric(span, "count", 3, "")
	span.End()

	ended := rec.Ended()
	require.Len(t, ended, 1)
	assert.Contains(t, ended[0].Attributes(), attribute.Int("finding.tokens", 7))
	events := ended[0].Events()
	require.Len(t, events, 2)
	assert.Equal(t, attributes.EventMetric, events[0].Name)
	assert.Equal(t, []attribute.KeyValue{
		attributes.MetricName.String("ttft"), attributes.MetricValue.Float64(41.5),
		attributes.MetricUnit.String("ms"), attribute.String("model", "m"),
	}, events[0].Attributes)
	assert.Equal(t, []attribute.KeyValue{
		attributes.MetricName.String("count"), attributes.MetricValue.Float64(3),
	}, events[1].Attributes, "an empty unit is left out")
}

func TestContextRunAndStage(t *testing.T) {
	ctx := context.Background()
	_, ok := attributes.RunFromContext(ctx)
	assert.False(t, ok)
	ctx = attributes.ContextWithRun(ctx, "r-1")
	ctx = attributes.ContextWithStage(ctx, "inference")
	run, ok := attributes.RunFromContext(ctx)
	assert.True(t, ok)
	assert.Equal(t, "r-1", run)
	stage, ok := attributes.StageFromContext(ctx)
	assert.True(t, ok)
	assert.Equal(t, "inference", stage)

	// An empty value hides an outer one: it means "no run here".
	_, ok = attributes.RunFromContext(attributes.ContextWithRun(ctx, ""))
	assert.False(t, ok)
	_, ok = attributes.StageFromContext(attributes.ContextWithStage(ctx, ""))
	assert.False(t, ok)
}

func TestBaggage(t *testing.T) {
	ctx, err := attributes.BaggageWithRun(context.Background(), "r-42")
	require.NoError(t, err)
	ctx, err = attributes.BaggageWithStage(ctx, "retrieval")
	require.NoError(t, err)
	run, ok := attributes.RunFromBaggage(ctx)
	assert.True(t, ok)
	assert.Equal(t, "r-42", run)
	stage, ok := attributes.StageFromBaggage(ctx)
	assert.True(t, ok)
	assert.Equal(t, "retrieval", stage)
	_, ok = attributes.FromBaggage(ctx, "user.id")
	assert.False(t, ok)

	// Values are percent-encoded on the wire, so any string is accepted.
	ctx, err = attributes.BaggageWithRun(context.Background(), "run with spaces;and=signs")
	require.NoError(t, err)
	run, _ = attributes.RunFromBaggage(ctx)
	assert.Equal(t, "run with spaces;and=signs", run)
}
