package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

type pipeline struct {
	tp   *sdktrace.TracerProvider
	mem  *memsink.Sink
	path string
}

// newPipeline registers stagetrace as users do: the processor, then a
// BatchSpanProcessor around the exporter writing JSONL and memory.
func newPipeline(t *testing.T, bspOpts ...sdktrace.BatchSpanProcessorOption) *pipeline {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out", "runs.jsonl")
	file, err := jsonlsink.New(path)
	require.NoError(t, err)
	mem := memsink.New()
	exp, err := exporter.New(exporter.WithSinks(file, mem))
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(processor.New()),
		sdktrace.WithBatcher(exp, bspOpts...),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &pipeline{tp: tp, mem: mem, path: path}
}

// readFile decodes every line of the JSONL file as it is on disk now.
func readFile(t *testing.T, path string) ([]stagetrace.StageSpan, []stagetrace.TraceEvent) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var spans []stagetrace.StageSpan
	var events []stagetrace.TraceEvent
	dec := stagetrace.NewDecoder(f)
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if rec.Span != nil {
			spans = append(spans, *rec.Span)
		} else {
			events = append(events, *rec.Event)
		}
	}
	return spans, events
}

func TestForceFlushPutsEverySpanInTheFile(t *testing.T) {
	p := newPipeline(t)
	tracer := p.tp.Tracer("job")
	ctx := attributes.ContextWithRun(context.Background(), "run-flush")
	for i := range 100 {
		_, span := tracer.Start(attributes.ContextWithStage(ctx, "inference"), "call", trace.WithAttributes(attribute.Int("i", i)))
		attributes.SetFinding(span, attributes.FindingInputTokens, 10+i)
		span.AddEvent("log")
		span.End()
	}
	require.NoError(t, p.tp.ForceFlush(context.Background()))

	spans, events := readFile(t, p.path)
	require.Len(t, spans, 100, "every span ended before ForceFlush is in the file")
	assert.Len(t, events, 100)
	for i, s := range spans {
		assert.Equal(t, "run-flush", s.RunID)
		assert.Equal(t, "inference", s.Stage)
		v, ok := s.Findings.Get(attributes.FindingInputTokens)
		require.True(t, ok)
		assert.Equal(t, int64(10+i), v.AsInt64())
	}
	assert.Len(t, p.mem.Spans(), 100)
}

func TestPipelineRunsAndStages(t *testing.T) {
	p := newPipeline(t)
	tracer := p.tp.Tracer("rag")
	ctx := attributes.ContextWithRun(context.Background(), "r-1")
	ctx, root := tracer.Start(ctx, "turn")
	rctx, retrieve := tracer.Start(attributes.ContextWithStage(ctx, "retrieval"), "retrieve")
	_, search := tracer.Start(rctx, "search")
	search.End()
	retrieve.End()
	_, call := tracer.Start(attributes.ContextWithStage(ctx, "inference"), "chat")
	call.RecordError(errors.New("boom"))
	call.SetStatus(codes.Error, "boom")
	call.End()
	root.End()
	require.NoError(t, p.tp.ForceFlush(context.Background()))

	spans, events := readFile(t, p.path)
	byName := map[string]stagetrace.StageSpan{}
	for _, s := range spans {
		byName[s.Name] = s
		assert.Equal(t, "r-1", s.RunID, s.Name)
	}
	require.Len(t, byName, 4)
	assert.Equal(t, "", byName["turn"].Stage)
	assert.Equal(t, "retrieval", byName["retrieve"].Stage)
	assert.Equal(t, "retrieval", byName["search"].Stage, "a child inherits its parent's stage")
	assert.Equal(t, "inference", byName["chat"].Stage)
	assert.Equal(t, stagetrace.StatusError, byName["chat"].Status)
	require.Len(t, events, 1)
	assert.Equal(t, attributes.EventException, events[0].Name)
	assert.Equal(t, "inference", events[0].Stage)

	// The file and memory sinks saw the same records.
	mem := p.mem.Spans()
	require.Len(t, mem, len(spans))
	for i := range mem {
		assert.Equal(t, mem[i].SpanID, spans[i].SpanID)
		assert.True(t, mem[i].Attrs.Equal(spans[i].Attrs))
		assert.True(t, mem[i].Findings.Equal(spans[i].Findings))
	}
}

func TestPipelineManyGoroutines(t *testing.T) {
	p := newPipeline(t, sdktrace.WithBlocking(), sdktrace.WithMaxExportBatchSize(128))
	tracer := p.tp.Tracer("load")
	const workers, per = 32, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := attributes.ContextWithRun(context.Background(), fmt.Sprintf("run-%d", w))
			ctx, root := tracer.Start(attributes.ContextWithStage(ctx, "work"), "root")
			for i := range per - 1 {
				_, s := tracer.Start(ctx, "child", trace.WithAttributes(attribute.Int("i", i)))
				s.End()
			}
			root.End()
		}()
	}
	wg.Wait()
	require.NoError(t, p.tp.Shutdown(context.Background()))

	spans, _ := readFile(t, p.path)
	require.Len(t, spans, workers*per)
	perRun := map[string]int{}
	for _, s := range spans {
		perRun[s.RunID]++
		assert.Equal(t, "work", s.Stage)
	}
	assert.Len(t, perRun, workers)
	for run, n := range perRun {
		assert.Equal(t, per, n, run)
	}
}
