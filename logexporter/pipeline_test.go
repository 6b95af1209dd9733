package logexporter_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/logexporter"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pipeline is a TracerProvider and a LoggerProvider writing to one JSONL
// file and one memory sink through the span exporter's fan-out, as the
// package documentation registers them.
type pipeline struct {
	tp     *sdktrace.TracerProvider
	lp     *sdklog.LoggerProvider
	tracer trace.Tracer
	slog   *slog.Logger
	mem    *memsink.Sink
	path   string // the JSONL file
	db     string // the SQLite store
	once   sync.Once
}

func newPipeline(t *testing.T, popts ...processor.Option) *pipeline {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	file, err := jsonlsink.New(path)
	require.NoError(t, err)
	mem := memsink.New()
	db := filepath.Join(t.TempDir(), "runs.db")
	store, err := sqlitesink.Open(db)
	require.NoError(t, err)
	exp, err := exporter.New(exporter.WithSinks(file, mem, store))
	require.NoError(t, err)
	sp := processor.New(popts...)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sp), sdktrace.WithBatcher(exp))
	lexp, err := logexporter.New(logexporter.WithFanout(exp.Fanout()))
	require.NoError(t, err)
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(logexporter.NewProcessor(sp)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)),
	)
	p := &pipeline{
		tp: tp, lp: lp, tracer: tp.Tracer("chatbot"), mem: mem, path: path, db: db,
		slog: otelslog.NewLogger("chatbot/llm", otelslog.WithLoggerProvider(lp)),
	}
	t.Cleanup(func() { p.shutdown(t) })
	return p
}

// shutdown stops the LoggerProvider first: the span exporter owns the
// sinks.
func (p *pipeline) shutdown(t *testing.T) {
	p.once.Do(func() {
		ctx := context.Background()
		require.NoError(t, p.lp.Shutdown(ctx))
		require.NoError(t, p.tp.Shutdown(ctx))
	})
}

// store opens the SQLite store, once the pipeline is shut down.
func (p *pipeline) store(t *testing.T) *sqlitesink.Store {
	t.Helper()
	p.shutdown(t)
	st, err := sqlitesink.OpenReadOnly(p.db)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// lines reads the JSONL file back with the package's decoder.
func (p *pipeline) lines(t *testing.T) (spans []stagetrace.StageSpan, logs []stagetrace.TraceEvent) {
	t.Helper()
	f, err := os.Open(p.path)
	require.NoError(t, err)
	defer f.Close()
	d := stagetrace.NewDecoder(f)
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			return spans, logs
		}
		require.NoError(t, err)
		switch {
		case rec.Span != nil:
			spans = append(spans, *rec.Span)
		case rec.Event.Name == stagetrace.LogEventName:
			logs = append(logs, *rec.Event)
		}
	}
}

func byBody(t *testing.T, logs []stagetrace.TraceEvent) map[string]stagetrace.TraceEvent {
	t.Helper()
	out := map[string]stagetrace.TraceEvent{}
	for _, l := range logs {
		out[l.Body.AsString()] = l
	}
	require.Len(t, out, len(logs), "bodies are unique")
	return out
}

func TestSlogLinesLandInTheirRunAndStage(t *testing.T) {
	p := newPipeline(t)
	bg := context.Background()

	// A span placed by its context.
	ctx := attributes.ContextWithStage(attributes.ContextWithRun(bg, "turn-1"), "inference")
	ctx, chat := p.tracer.Start(ctx, "chat gpt-4o")
	p.slog.WarnContext(ctx, "rate limited", "retry_ms", 20)
	// A child span inherits; a record made in it too.
	cctx, child := p.tracer.Start(ctx, "retry")
	p.slog.ErrorContext(cctx, "retry failed", "attempt", 2)
	child.End()
	chat.End()

	// A span placed by its own attributes, the record made from a context
	// that holds only the span.
	_, retr := p.tracer.Start(bg, "retrieve", trace.WithAttributes(attributes.Run("turn-2"), attributes.Stage("retrieval")))
	p.slog.InfoContext(trace.ContextWithSpan(bg, retr), "4 documents")
	retr.End()

	// A span nothing places: its trace id is the run.
	uctx, unplaced := p.tracer.Start(bg, "unplaced")
	p.slog.DebugContext(uctx, "in no run")
	unplaced.End()

	// Outside any span: the context's run, else none.
	p.slog.InfoContext(attributes.ContextWithRun(bg, "turn-1"), "between spans")
	p.slog.Info("at startup")

	require.NoError(t, p.lp.ForceFlush(bg))
	require.NoError(t, p.tp.ForceFlush(bg))
	spans, logs := p.lines(t)
	require.Len(t, spans, 4)
	require.Len(t, logs, 6)
	span := map[string]stagetrace.StageSpan{}
	for _, s := range spans {
		span[s.Name] = s
	}
	got := byBody(t, logs)

	placed := func(body string, s stagetrace.StageSpan) {
		t.Helper()
		l := got[body]
		assert.Equal(t, s.RunID, l.RunID, body)
		assert.Equal(t, s.Stage, l.Stage, body)
		assert.Equal(t, s.TraceID, l.TraceID, body)
		assert.Equal(t, s.SpanID, l.SpanID, body)
	}
	placed("rate limited", span["chat gpt-4o"])
	placed("retry failed", span["retry"])
	placed("4 documents", span["retrieve"])
	placed("in no run", span["unplaced"])
	assert.Equal(t, "turn-1", got["rate limited"].RunID)
	assert.Equal(t, "inference", got["retry failed"].Stage)
	assert.Equal(t, "retrieval", got["4 documents"].Stage)
	assert.Equal(t, span["unplaced"].TraceID.String(), got["in no run"].RunID)

	between := got["between spans"]
	assert.Equal(t, "turn-1", between.RunID)
	assert.Empty(t, between.Stage)
	assert.False(t, between.TraceID.IsValid())
	startup := got["at startup"]
	assert.Empty(t, startup.RunID, "kept under no run")

	// Severity: the level, OpenTelemetry's number and the bridge's text.
	for body, want := range map[string]stagetrace.Level{
		"rate limited": stagetrace.LevelWarn, "retry failed": stagetrace.LevelError,
		"4 documents": stagetrace.LevelInfo, "in no run": stagetrace.LevelDebug,
	} {
		assert.Equal(t, want, got[body].Severity.Level(), body)
	}
	assert.Equal(t, stagetrace.Severity{Number: 13, Text: "WARN"}, got["rate limited"].Severity)
	// Attributes: slog's, and the logger's name; not run.id or run.stage.
	attrs := got["rate limited"].Attrs
	retry, ok := attrs.Get("retry_ms")
	require.True(t, ok, "%v", attrs)
	assert.Equal(t, int64(20), retry.AsInt64())
	scope, _ := attrs.Get(string(attributes.LogScope))
	assert.Equal(t, "chatbot/llm", scope.AsString())
	_, hasRun := attrs.Get(string(attributes.RunID))
	assert.False(t, hasRun, "the run is a field, not an attribute")

	// The memory sink got the same events.
	assert.Len(t, p.mem.EventsOfRun("turn-1"), 3)
	assert.Len(t, p.mem.EventsOfRun(""), 1)

	// So did the store, queryable by run and by severity.
	st := p.store(t)
	stored, err := st.Logs(bg, query.LogQuery{})
	require.NoError(t, err)
	require.Len(t, stored, len(logs))
	for _, l := range stored {
		want := got[l.Body.AsString()]
		assert.Equal(t, want.RunID, l.RunID, l.Body.AsString())
		assert.Equal(t, want.Stage, l.Stage, l.Body.AsString())
		assert.Equal(t, want.SpanID, l.SpanID, l.Body.AsString())
		assert.Equal(t, want.Severity, l.Severity, l.Body.AsString())
	}
	bad, err := st.Logs(bg, query.LogQuery{Where: query.MustParse("severity>=warn")})
	require.NoError(t, err)
	require.Len(t, bad, 2)
	assert.Equal(t, "rate limited", bad[0].Body.AsString())
	assert.Equal(t, "retry failed", bad[1].Body.AsString())
	run, err := st.RunRecords(bg, "turn-1")
	require.NoError(t, err)
	n := 0
	for _, ev := range run.Events {
		if ev.Name == stagetrace.LogEventName {
			n++
		}
	}
	assert.Equal(t, 3, n, "the run's records hold its logs")
}

func TestRecordsOwnRunWins(t *testing.T) {
	p := newPipeline(t, processor.WithDefaultRunID("fallback"))
	ctx := attributes.ContextWithRun(context.Background(), "turn-1")
	p.slog.InfoContext(ctx, "mine", string(attributes.RunID), "explicit")
	p.slog.InfoContext(ctx, "empty", string(attributes.RunID), "")
	p.slog.InfoContext(context.Background(), "default")
	require.NoError(t, p.lp.ForceFlush(context.Background()))
	_, logs := p.lines(t)
	got := byBody(t, logs)
	assert.Equal(t, "explicit", got["mine"].RunID, "the record's own run.id wins, as a span's does")
	assert.Equal(t, "turn-1", got["empty"].RunID, "an empty run.id counts as unset")
	assert.Equal(t, "fallback", got["default"].RunID, "the span processor's options apply")
}
