package sqlitesink_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// base is when the first test run starts: test times are fixed so that
// results are the same on every run.
var base = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func openStore(t testing.TB, opts ...sqlitesink.Option) (*sqlitesink.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := sqlitesink.Open(path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// keepOpen is a sink that leaves its store open when the exporter shuts
// down, so that a test can query after flushing.
type keepOpen struct{ stagetrace.Sink }

func (k keepOpen) Shutdown(ctx context.Context) error {
	if f, ok := k.Sink.(stagetrace.Flusher); ok {
		return f.ForceFlush(ctx)
	}
	return nil
}

// recorder writes spans through the real exporter, synchronously, into
// sinks, and keeps a copy of what was written in memory.
type recorder struct {
	tp  *sdktrace.TracerProvider
	mem *memsink.Sink
}

func newRecorder(t testing.TB, sinks ...stagetrace.Sink) *recorder {
	t.Helper()
	mem := memsink.New()
	wrapped := []stagetrace.Sink{mem}
	for _, s := range sinks {
		wrapped = append(wrapped, keepOpen{s})
	}
	exp, err := exporter.New(exporter.WithSinks(wrapped...), exporter.WithStageEvents())
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(
			attribute.String(string(attributes.ServiceName), "chatbot"),
		)),
		sdktrace.WithSpanProcessor(processor.New()),
		sdktrace.WithSyncer(exp),
	)
	r := &recorder{tp: tp, mem: mem}
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	return r
}

// at returns the timestamp option for base+ms milliseconds after start.
func at(start time.Time, ms float64) trace.SpanStartEventOption {
	return trace.WithTimestamp(start.Add(time.Duration(ms * float64(time.Millisecond))))
}

func end(span trace.Span, start time.Time, ms float64) {
	span.End(trace.WithTimestamp(start.Add(time.Duration(ms * float64(time.Millisecond)))))
}

// turn records one chatbot turn as run runID starting at start: a root
// span, a retrieval stage, an inference stage whose first call fails and
// whose second reports tokens and cost, and an evaluation stage.
func (r *recorder) turn(runID string, start time.Time, inputTokens int, cost float64) {
	tracer := r.tp.Tracer("chatbot/rag")
	llm := r.tp.Tracer("chatbot/llm")
	ctx := attributes.ContextWithRun(context.Background(), runID)
	ctx, root := tracer.Start(ctx, "chat turn", trace.WithSpanKind(trace.SpanKindServer), at(start, 0))

	rctx, retrieve := tracer.Start(attributes.ContextWithStage(ctx, "retrieval"), "retrieve documents", at(start, 1))
	_, search := tracer.Start(rctx, "vector search", trace.WithSpanKind(trace.SpanKindClient), at(start, 2),
		trace.WithAttributes(attribute.String("db.system", "qdrant"), attribute.Int("search.top_k", 4)))
	attributes.SetFinding(search, "documents", 4)
	attributes.SetFinding(search, "retrieval_score", 0.82)
	end(search, start, 14)
	end(retrieve, start, 15)

	ictx, infer := tracer.Start(attributes.ContextWithStage(ctx, "inference"), "generate answer", at(start, 16))
	_, failed := llm.Start(ictx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), at(start, 17),
		trace.WithAttributes(attribute.String(string(attributes.GenAIRequestModel), "gpt-4o"), attribute.Int("llm.attempt", 1)))
	failed.RecordError(errors.New("429 rate limited"), trace.WithTimestamp(start.Add(19*time.Millisecond)))
	failed.SetStatus(codes.Error, "429 rate limited")
	end(failed, start, 20)
	_, call := llm.Start(ictx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), at(start, 30),
		trace.WithAttributes(
			attribute.String(string(attributes.GenAIRequestModel), "gpt-4o"),
			attribute.Int("llm.attempt", 2),
			attribute.Int(string(attributes.GenAIUsageInputTokens), inputTokens),
			attribute.Int(string(attributes.GenAIUsageOutputTokens), 95),
			attribute.String("http.status", "200"),
		))
	call.AddEvent(attributes.EventMetric, trace.WithTimestamp(start.Add(71*time.Millisecond)), trace.WithAttributes(
		attributes.MetricName.String("time_to_first_token"), attributes.MetricValue.Float64(41.5),
		attributes.MetricUnit.String("ms"), attribute.String("region", "eu")))
	attributes.SetFinding(call, attributes.FindingInputTokens, inputTokens)
	attributes.SetFinding(call, attributes.FindingOutputTokens, 95)
	attributes.SetFinding(call, attributes.FindingCost, cost)
	call.SetStatus(codes.Ok, "")
	end(call, start, 75)
	end(infer, start, 80)

	_, judge := tracer.Start(attributes.ContextWithStage(ctx, "evaluation"), "judge answer", at(start, 81))
	attributes.SetFinding(judge, "score", 0.88)
	attributes.SetFinding(judge, "safe", true)
	attributes.SetFinding(judge, "label", "pass")
	end(judge, start, 95)
	end(root, start, 100)
}

// spansPerTurn is the number of spans turn records.
const spansPerTurn = 7

// fill records the standard test data: runs r1 (input 812 tokens) and r2
// (1000 tokens, an hour later).
func fill(t testing.TB, s *sqlitesink.Store) *recorder {
	t.Helper()
	r := newRecorder(t, s)
	r.turn("r1", base, 812, 0.0042)
	r.turn("r2", base.Add(time.Hour), 1000, 0.01)
	require.NoError(t, r.tp.ForceFlush(context.Background()))
	return r
}

// names returns run/name of each span, nil for none.
func names(spans []stagetrace.StageSpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.RunID+"/"+s.Name)
	}
	return out
}

// inRun puts a span in run id.
func inRun(id string) trace.SpanStartOption { return trace.WithAttributes(attributes.Run(id)) }

// openRaw opens the store's file read-only with the driver alone.
func openRaw(path string) (*sql.DB, error) { return sql.Open("sqlite", "file:"+path+"?mode=ro") }

// inMemory returns the in-memory executor over the records rec wrote.
func inMemory(rec *recorder) *memquery.Records {
	return memquery.New(stagetrace.Batch{Spans: rec.mem.Spans(), Events: rec.mem.Events()})
}
