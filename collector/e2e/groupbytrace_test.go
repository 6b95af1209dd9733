//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
)

// TestCollectorGroupByTrace runs the pipeline the processor README
// recommends (groupbytrace before stagetrace). Each span is exported in a
// request of its own, the child before its parent; groupbytrace hands the
// whole trace on at once, so the child inherits the stage its parent opens.
func TestCollectorGroupByTrace(t *testing.T) {
	jsonlPath := filepath.Join(t.TempDir(), "out.jsonl")
	c, addrs := startCollector(t, filepath.Join("testdata", "groupbytrace.yaml"),
		[]string{"STAGETRACE_JSONL=" + jsonlPath}, "http")
	httpAddr := addrs["http"]

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(httpAddr), otlptracehttp.WithInsecure())
	require.NoError(t, err)
	// A syncer exports each span alone, when it ends: the child first.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tr := tp.Tracer("e2e")
	pctx, parent := tr.Start(ctx, "chat gpt-4o", trace.WithAttributes(
		attribute.String("run.id", "grouped"),
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
	))
	_, child := tr.Start(pctx, "parse reply")
	child.End()
	parent.End()
	require.NoError(t, tp.Shutdown(ctx))

	// groupbytrace releases the trace after wait_duration; then stop.
	time.Sleep(time.Second)
	c.stop(t)

	f, err := os.Open(jsonlPath)
	require.NoError(t, err)
	defer f.Close()
	stages := map[string]string{}
	runs := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rec, err := stagetrace.DecodeLine(sc.Bytes())
		require.NoError(t, err)
		if rec.Span != nil {
			stages[rec.Span.Name] = rec.Span.Stage
			runs[rec.Span.Name] = rec.Span.RunID
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, stages, 2, "both spans were written")
	assert.Equal(t, stages["chat gpt-4o"], stages["parse reply"], "the child inherits its parent's stage")
	assert.NotEmpty(t, stages["parse reply"])
	assert.Equal(t, map[string]string{"chat gpt-4o": "grouped", "parse reply": "grouped"}, runs)
}
