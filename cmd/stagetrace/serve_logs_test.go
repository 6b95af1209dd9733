package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// TestServeReceivesLogs sends a log record, written inside a span of a
// run, from the Logs SDK's OTLP/HTTP exporter: the store files it under
// the span's run, as the collector path does.
func TestServeReceivesLogs(t *testing.T) {
	db := filepath.Join(t.TempDir(), "runs.db")
	s := startServe(t, "--db", db)
	ctx := context.Background()

	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(s.http), otlploghttp.WithInsecure())
	require.NoError(t, err)
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	tp := sdktrace.NewTracerProvider()
	spanCtx, span := tp.Tracer("app").Start(ctx, "chat turn")
	var rec otellog.Record
	rec.SetBody(attribute.StringValue("model call failed"))
	rec.SetSeverity(otellog.SeverityError)
	rec.AddAttributes(attribute.String("run.id", "run-logs"))
	lp.Logger("app").Emit(spanCtx, rec)
	span.End()
	require.NoError(t, lp.Shutdown(ctx))
	require.NoError(t, tp.Shutdown(ctx))

	require.Equal(t, exitOK, s.stop(), "stderr: %s", s.stderr.String())
	assert.Contains(t, s.stdout.String(), "1 log records")
	st, err := sqlitesink.OpenReadOnly(db)
	require.NoError(t, err)
	defer st.Close()
	logs, err := st.Logs(ctx, query.LogQuery{Run: "run-logs"})
	require.NoError(t, err)
	require.Len(t, logs, 1)
	assert.Equal(t, "model call failed", logs[0].Body.AsString())
	assert.Equal(t, span.SpanContext().SpanID().String(), logs[0].SpanID.String())
}
