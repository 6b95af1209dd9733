package monitor_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

// e2eRules is one rules file for the rules engine and the monitor.
const e2eRules = `presets: [genai]
prices:
  currency: USD
  models:
    gpt-4o: {input: 2.50, output: 10.00}
alerts:
  - name: inference-errors
    metric: stage:inference
    when: error_rate > 0.25
    level: critical
  - name: run-budget
    when: run_cost > 0.005
`

// TestBehindTheSDKExporter runs the monitor as users do: a TracerProvider
// with the processor, a BatchSpanProcessor around the exporter applying
// the rules file's presets and prices, and the monitor among its sinks,
// forwarding alerts to another.
func TestBehindTheSDKExporter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(e2eRules), 0o600))
	set, err := rules.LoadFile(path)
	require.NoError(t, err)
	alerts, err := alert.Load(path)
	require.NoError(t, err)

	mem := memsink.New()
	col := newCollector()
	mon, err := monitor.New(monitor.WithAlerts(alerts...), monitor.WithForward(mem), monitor.WithAlertHandlers(col))
	require.NoError(t, err)
	exp, err := exporter.New(exporter.WithSinks(mon, mem), exporter.WithRules(set))
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(processor.New()), sdktrace.WithBatcher(exp))

	tracer := tp.Tracer("chatbot")
	ctx := attributes.ContextWithRun(context.Background(), "turn-1")
	ctx, turn := tracer.Start(ctx, "chat turn")
	ictx := attributes.ContextWithStage(ctx, "inference")
	for i := range 2 {
		_, call := tracer.Start(ictx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String(string(attributes.GenAIOperationName), "chat"),
			attribute.String(string(attributes.GenAIRequestModel), "gpt-4o"),
		))
		if i == 0 {
			call.SetStatus(codes.Error, "429")
		} else {
			call.SetAttributes(
				attribute.Int(string(attributes.GenAIUsageInputTokens), 812),
				attribute.Int(string(attributes.GenAIUsageOutputTokens), 95),
			)
		}
		call.End()
	}
	// A second, bigger call: the run passes its budget.
	_, big := tracer.Start(ictx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String(string(attributes.GenAIOperationName), "chat"),
		attribute.String(string(attributes.GenAIRequestModel), "gpt-4o"),
		attribute.Int(string(attributes.GenAIUsageInputTokens), 1000),
		attribute.Int(string(attributes.GenAIUsageOutputTokens), 100),
	))
	big.End()
	turn.End()
	require.NoError(t, tp.ForceFlush(context.Background()))
	require.NoError(t, mon.ForceFlush(context.Background()))

	st, ok := mon.Metrics("stage:inference", time.Minute)
	require.True(t, ok)
	assert.Equal(t, int64(3), st.Count)
	assert.Equal(t, int64(1), st.Errors)

	usage := mon.TokenUsage(time.Minute)
	require.Len(t, usage.Models, 1)
	gpt := usage.Models[0]
	assert.Equal(t, "gpt-4o", gpt.Model)
	assert.Equal(t, int64(2), gpt.Calls)
	assert.Equal(t, int64(1812), gpt.InputTokens)
	assert.Equal(t, int64(195), gpt.OutputTokens)
	// 1812 * 2.50/1e6 + 195 * 10/1e6, exactly.
	assert.Equal(t, int64(6_480_000), gpt.CostNanos)
	assert.Equal(t, "USD", gpt.Currency)

	run, ok := mon.RunSummary("turn-1")
	require.True(t, ok)
	assert.Equal(t, 4, run.Run.Spans)
	assert.Equal(t, 0.00648, run.Run.Cost)

	got := states(col.Got())
	assert.ElementsMatch(t, []string{"inference-errors:firing", "run-budget:firing"}, got)
	var forwarded int
	for _, ev := range mem.Events() {
		if a, ok := alert.FromEvent(ev); ok {
			forwarded++
			if a.Name == "run-budget" {
				assert.Equal(t, "turn-1", ev.RunID)
			}
		}
	}
	assert.Equal(t, 2, forwarded, "alerts reach the other sink as events")

	// The TracerProvider shuts the exporter down, which shuts the monitor
	// and the memory sink down: no goroutine is left (TestMain checks).
	require.NoError(t, tp.Shutdown(context.Background()))
	assert.True(t, errors.Is(mon.Write(context.Background(), stagetrace.Batch{}), stagetrace.ErrClosed))
}
