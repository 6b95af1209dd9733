package setup_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/redact"
	"github.com/stagetrace/stagetrace/setup"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

func TestWithLogsWiresALoggerProvider(t *testing.T) {
	ctx := context.Background()
	mem := memsink.New()
	red, err := redact.New(redact.Config{Presets: []string{"emails"}})
	require.NoError(t, err)
	inst, err := setup.Install(ctx, setup.WithSinks(mem), setup.WithLogs(), setup.WithRunID("job-1"),
		setup.WithExporterOptions(exporter.WithRedactor(red)))
	require.NoError(t, err)
	require.NotNil(t, inst.LoggerProvider())
	log := otelslog.NewLogger("svc", otelslog.WithLoggerProvider(inst.LoggerProvider()))

	sctx, span := inst.TracerProvider().Tracer("svc").Start(attributes.ContextWithStage(ctx, "inference"), "call")
	log.WarnContext(sctx, "slow answer for jane.doe@example.com")
	span.End()
	log.Info("outside")
	require.NoError(t, inst.Shutdown(ctx))
	require.NoError(t, inst.Shutdown(ctx), "idempotent")

	require.Len(t, mem.Spans(), 1)
	var logs []stagetrace.TraceEvent
	for _, ev := range mem.Events() {
		if ev.Name == stagetrace.LogEventName {
			logs = append(logs, ev)
		}
	}
	require.Len(t, logs, 2, "flushed by Shutdown")
	byBody := map[string]stagetrace.TraceEvent{}
	for _, l := range logs {
		byBody[l.Body.AsString()] = l
	}
	in, ok := byBody["slow answer for [REDACTED]"]
	require.True(t, ok, "redacted as spans are: %v", byBody)
	assert.Equal(t, "job-1", in.RunID, "the processor's default run applies to logs")
	assert.Equal(t, "inference", in.Stage)
	assert.Equal(t, mem.Spans()[0].SpanID, in.SpanID)
	assert.Equal(t, "job-1", byBody["outside"].RunID)
}

func TestWithoutLogsNoLoggerProvider(t *testing.T) {
	inst, err := setup.Install(context.Background(), setup.WithSinks(memsink.New()))
	require.NoError(t, err)
	assert.Nil(t, inst.LoggerProvider())
	require.NoError(t, inst.Shutdown(context.Background()))
}

func TestWithLogsAndGlobal(t *testing.T) {
	before := otel.GetLoggerProvider()
	t.Cleanup(func() { otel.SetLoggerProvider(before) })
	mem := memsink.New()
	inst, err := setup.Install(context.Background(), setup.WithSinks(mem), setup.WithLogs(), setup.WithGlobal())
	require.NoError(t, err)
	otelslog.NewLogger("svc").Error("through the global provider")
	require.NoError(t, inst.Shutdown(context.Background()))
	require.Len(t, mem.Events(), 1)
	assert.Equal(t, stagetrace.LevelError, mem.Events()[0].Severity.Level())
}

func TestEnvLogs(t *testing.T) {
	for value, want := range map[string]bool{"true": true, "1": true, "": false, "false": false} {
		inst, err := setup.Install(context.Background(), setup.WithSinks(memsink.New()), env(map[string]string{setup.EnvLogs: value}))
		require.NoError(t, err, value)
		assert.Equal(t, want, inst.LoggerProvider() != nil, value)
		require.NoError(t, inst.Shutdown(context.Background()))
	}
	mem := memsink.New()
	_, err := setup.Install(context.Background(), setup.WithSinks(mem), env(map[string]string{setup.EnvLogs: "maybe"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STAGETRACE_LOGS")
	assert.ErrorIs(t, mem.Write(context.Background(), stagetrace.Batch{}), stagetrace.ErrClosed, "nothing left open")
}
