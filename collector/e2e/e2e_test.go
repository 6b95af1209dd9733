//go:build e2e

// Package e2e runs the built collector (bin/otelcol-stagetrace, or the
// binary named by OTELCOL_STAGETRACE), sends it OTLP over gRPC and HTTP
// from the OpenTelemetry Go SDK, stops it with SIGTERM and checks what it
// wrote to JSON Lines and SQLite.
package e2e

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/logexporter"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("collector not listening on %s", addr)
}

func provider(exp sdktrace.SpanExporter, session, service string) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", service),
			attribute.String("session.id", session),
		)),
	)
}

func TestCollectorEndToEnd(t *testing.T) {
	bin := os.Getenv("OTELCOL_STAGETRACE")
	if bin == "" {
		bin = filepath.Join("..", "..", "bin", "otelcol-stagetrace")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("collector binary %s: %v (build it first: make collector)", bin, err)
	}
	dir := t.TempDir()
	jsonlPath, dbPath := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "out.db")
	grpcAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	httpAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))

	cmd := exec.Command(bin,
		"--config="+filepath.Join("..", "..", "examples", "collector", "config.yaml"),
		"--set=receivers::otlp::protocols::grpc::endpoint="+grpcAddr,
		"--set=receivers::otlp::protocols::http::endpoint="+httpAddr,
	)
	cmd.Env = append(os.Environ(), "STAGETRACE_JSONL="+jsonlPath, "STAGETRACE_DB="+dbPath)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	require.NoError(t, cmd.Start())
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitListening(t, grpcAddr)
	waitListening(t, httpAddr)

	ctx := context.Background()
	gexp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(grpcAddr), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	gtp := provider(gexp, "sess-grpc", "e2e-grpc")
	tr := gtp.Tracer("e2e")
	rctx, root := tr.Start(ctx, "pipeline", trace.WithAttributes(attribute.String("run.stage", "ingest")))
	for i := range 3 {
		_, c := tr.Start(rctx, "step "+strconv.Itoa(i))
		c.End()
	}
	root.End()
	require.NoError(t, gtp.Shutdown(ctx))

	hexp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(httpAddr), otlptracehttp.WithInsecure())
	require.NoError(t, err)
	htp := provider(hexp, "sess-http", "e2e-http")
	tr = htp.Tracer("e2e")
	cctx, chat := tr.Start(ctx, "chat gpt-4o", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
		attribute.Int("gen_ai.usage.input_tokens", 11),
		attribute.Int("gen_ai.usage.output_tokens", 4),
	))
	_, tool := tr.Start(cctx, "tool")
	tool.End()
	chat.End()
	_, own := tr.Start(ctx, "explicit", trace.WithAttributes(attribute.String("run.id", "explicit-run")))
	own.End()
	require.NoError(t, htp.Shutdown(ctx))

	// Logs from the Go SDK's OTLP log exporter, through slog, placed in
	// the application by the stagetrace log processor; one in a span that
	// nothing placed, filed under its trace id.
	lexp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(grpcAddr), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(logexporter.NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)),
	)
	logger := otelslog.NewLogger("e2e/logs", otelslog.WithLoggerProvider(lp))
	lctx := attributes.ContextWithStage(attributes.ContextWithRun(ctx, "log-run"), "ingest")
	logger.InfoContext(lctx, "started")
	logger.WarnContext(lctx, "slow batch", "ms", 1500)
	logger.ErrorContext(lctx, "batch failed", "code", 7)
	ltp := sdktrace.NewTracerProvider()
	sctx, span := ltp.Tracer("e2e").Start(ctx, "unplaced")
	logger.WarnContext(sctx, "in a span")
	span.End()
	require.NoError(t, lp.Shutdown(ctx))
	require.NoError(t, ltp.Shutdown(ctx))
	logTrace := span.SpanContext().TraceID().String()

	// A service that places nothing itself: the collector's processor
	// places its records by the session.id of their resource, as spans.
	sexp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(grpcAddr), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	slp := sdklog.NewLoggerProvider(
		sdklog.WithResource(resource.NewSchemaless(attribute.String("session.id", "sess-logs"))),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(sexp)),
	)
	otelslog.NewLogger("e2e/session", otelslog.WithLoggerProvider(slp)).Error("by session")
	require.NoError(t, slp.Shutdown(ctx))

	// Give the receivers a moment to hand the data on, then stop the
	// collector: the batch processor and the exporter flush on shutdown.
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
	exited = true

	// JSONL: 7 spans; stage_start and stage_end on the two spans that open
	// a stage (pipeline by attribute, chat by the genai preset).
	f, err := os.Open(jsonlPath)
	require.NoError(t, err)
	defer f.Close()
	spans, events := 0, 0
	runs := map[string]int{}
	logRuns := map[string]int{}
	var chatSpan *stagetrace.StageSpan
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rec, err := stagetrace.DecodeLine(sc.Bytes())
		require.NoError(t, err)
		if rec.Span != nil {
			spans++
			runs[rec.Span.RunID]++
			if rec.Span.Name == "chat gpt-4o" {
				chatSpan = rec.Span
			}
		} else if rec.Event.Name == stagetrace.LogEventName {
			logRuns[rec.Event.RunID]++
		} else {
			events++
		}
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, 7, spans)
	assert.Equal(t, 4, events)
	assert.Equal(t, map[string]int{"sess-grpc": 4, "sess-http": 2, "explicit-run": 1}, runs)
	assert.Equal(t, map[string]int{"log-run": 3, logTrace: 1, "sess-logs": 1}, logRuns)

	// The example configuration derives findings and costs: 11 input and 4
	// output tokens of gpt-4o at 2.5 and 10 per million.
	require.NotNil(t, chatSpan, "the chat span was written")
	tokens, ok := chatSpan.Findings.Get(attributes.FindingInputTokens)
	require.True(t, ok, "input_tokens finding: %v", chatSpan.Findings)
	assert.Equal(t, int64(11), tokens.AsInt64())
	cost, ok := chatSpan.Findings.Get(attributes.FindingCost)
	require.True(t, ok, "cost finding: %v", chatSpan.Findings)
	assert.InDelta(t, 67.5e-6, cost.AsFloat64(), 1e-12)
	currency, _ := chatSpan.Findings.Get(attributes.FindingCostCurrency)
	assert.Equal(t, "USD", currency.AsString())

	st, err := sqlitesink.OpenReadOnly(dbPath)
	require.NoError(t, err)
	defer st.Close()
	for run, want := range map[string][2]int{"sess-grpc": {4, 2}, "sess-http": {2, 2}, "explicit-run": {1, 0}} {
		b, err := st.RunRecords(ctx, run)
		require.NoError(t, err, run)
		assert.Len(t, b.Spans, want[0], run)
		assert.Len(t, b.Events, want[1], run)
		if run == "sess-grpc" {
			for _, s := range b.Spans {
				assert.Equal(t, "ingest", s.Stage, s.Name)
			}
		}
		if run == "sess-http" {
			for _, s := range b.Spans {
				assert.Equal(t, "chat", s.Stage, s.Name)
			}
		}
	}

	logs, err := st.Logs(ctx, query.LogQuery{Run: "log-run", Where: query.MustParse("severity>=warn")})
	require.NoError(t, err)
	require.Len(t, logs, 2)
	assert.Equal(t, "slow batch", logs[0].Body.AsString())
	assert.Equal(t, "ingest", logs[0].Stage)
	assert.Equal(t, stagetrace.LevelError, logs[1].Severity.Level())
}
