package autoexport_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	contrib "go.opentelemetry.io/contrib/exporters/autoexport"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"

	_ "github.com/stagetrace/stagetrace/autoexport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOTELTracesExporterSelectsStagetrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	t.Setenv("OTEL_TRACES_EXPORTER", "stagetrace")
	t.Setenv("STAGETRACE_SINKS", "jsonl:"+path)

	exp, err := contrib.NewSpanExporter(context.Background())
	require.NoError(t, err)
	require.IsType(t, &exporter.Exporter{}, exp)

	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	_, span := tp.Tracer("test").Start(context.Background(), "chat")
	span.SetAttributes(attributes.Run("run-auto"))
	attributes.SetFinding(span, "input_tokens", 12)
	span.End()
	require.NoError(t, tp.Shutdown(context.Background()))

	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	rec, err := stagetrace.NewDecoder(f).Next()
	require.NoError(t, err)
	require.NotNil(t, rec.Span)
	assert.Equal(t, "run-auto", rec.Span.RunID)
	v, ok := rec.Span.Findings.Get("input_tokens")
	require.True(t, ok)
	assert.Equal(t, int64(12), v.AsInt64())
}

func TestMissingSinksIsAnError(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "stagetrace")
	t.Setenv("STAGETRACE_SINKS", "")
	_, err := contrib.NewSpanExporter(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STAGETRACE_SINKS")
}
