package exporter_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/redact"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

// captureSink keeps what it is given; a unit-test stand-in for real sinks.
type captureSink struct {
	mu        sync.Mutex
	batches   []stagetrace.Batch
	err       error
	block     chan struct{} // when set, Write and Shutdown wait for it to close
	flushes   int
	shutdowns int
}

func (s *captureSink) Write(ctx context.Context, b stagetrace.Batch) error {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, b.Clone()) // the exporter reuses b's arrays
	return s.err
}

func (s *captureSink) Shutdown(ctx context.Context) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-time.After(10 * time.Second):
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdowns++
	return nil
}

func (s *captureSink) ForceFlush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	return nil
}

func (s *captureSink) spans() []stagetrace.StageSpan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stagetrace.StageSpan
	for _, b := range s.batches {
		out = append(out, b.Spans...)
	}
	return out
}

func (s *captureSink) events() []stagetrace.TraceEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stagetrace.TraceEvent
	for _, b := range s.batches {
		out = append(out, b.Events...)
	}
	return out
}

// provider returns a TracerProvider that exports synchronously to exp.
func provider(t *testing.T, exp sdktrace.SpanExporter, res *resource.Resource) *sdktrace.TracerProvider {
	t.Helper()
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSyncer(exp)}
	if res != nil {
		opts = append(opts, sdktrace.WithResource(res))
	}
	return sdktrace.NewTracerProvider(opts...)
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := exporter.New()
	assert.ErrorContains(t, err, "no sink")
	_, err = exporter.New(exporter.WithSinks(nil))
	assert.ErrorContains(t, err, "sink 0 is nil")
	_, err = exporter.New(exporter.WithSinks(&captureSink{}), exporter.WithSinkTimeout(-time.Second))
	assert.ErrorContains(t, err, "negative sink timeout")
}

func TestExportMapsSpanAndEvents(t *testing.T) {
	sink := &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(sink))
	require.NoError(t, err)
	res := resource.NewSchemaless(attribute.String("service.name", "chatbot"))
	tp := provider(t, exp, res)
	tracer := tp.Tracer("chatbot/llm")

	ctx, parent := tracer.Start(context.Background(), "turn")
	_, span := tracer.Start(ctx, "chat gpt-4o",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attributes.Run("r-42"), attributes.Stage("inference"),
			attribute.String("gen_ai.request.model", "gpt-4o"),
			attributes.Finding("input_tokens", 812),
		))
	attributes.SetFinding(span, "output_tokens", int64(95))
	attributes.SetFinding(span, "safe", true)
	span.RecordError(errors.New("rate limited"))
	attributes.RecordMetric(span, "ttft", 41.5, "ms")
	span.SetStatus(codes.Error, "rate limited")
	span.End()
	parent.End()
	require.NoError(t, tp.Shutdown(context.Background()))

	spans := sink.spans()
	require.Len(t, spans, 2)
	s := spans[0]
	assert.Equal(t, "r-42", s.RunID)
	assert.Equal(t, "inference", s.Stage)
	assert.Equal(t, "chat gpt-4o", s.Name)
	assert.Equal(t, stagetrace.SpanKindClient, s.Kind)
	assert.Equal(t, stagetrace.StatusError, s.Status)
	assert.Equal(t, "rate limited", s.StatusMessage)
	assert.Equal(t, "chatbot/llm", s.Scope)
	assert.Equal(t, spans[1].SpanID, s.ParentSpanID)
	assert.Equal(t, s.TraceID, spans[1].TraceID)
	assert.True(t, s.Attrs.Equal(stagetrace.Attrs{{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")}}), "attrs: %#v", s.Attrs)
	assert.True(t, s.Findings.Equal(stagetrace.Attrs{
		{Key: "input_tokens", Value: stagetrace.Int64Value(812)},
		{Key: "output_tokens", Value: stagetrace.Int64Value(95)},
		{Key: "safe", Value: stagetrace.BoolValue(true)},
	}), "findings: %#v", s.Findings)
	require.NotNil(t, s.Resource)
	name, ok := s.Resource.Attrs.Get("service.name")
	assert.True(t, ok)
	assert.Equal(t, "chatbot", name.AsString())
	assert.Same(t, s.Resource, spans[1].Resource, "spans of one resource share one *Resource")
	assert.Greater(t, s.ElapsedMS(), 0.0)

	// The parent set no run: its run is its trace id.
	assert.Equal(t, spans[1].TraceID.String(), spans[1].RunID)
	assert.Empty(t, spans[1].Stage)

	events := sink.events()
	require.Len(t, events, 2)
	assert.Equal(t, attributes.EventException, events[0].Name)
	msg, _ := events[0].Attrs.Get(string(attributes.ExceptionMessage))
	assert.Equal(t, "rate limited", msg.AsString())
	assert.Equal(t, attributes.EventMetric, events[1].Name)
	for _, ev := range events {
		assert.Equal(t, "r-42", ev.RunID)
		assert.Equal(t, "inference", ev.Stage)
		assert.Equal(t, s.SpanID, ev.SpanID)
		assert.Equal(t, s.TraceID, ev.TraceID)
	}
	v, _ := events[1].Attrs.Get(string(attributes.MetricValue))
	assert.Equal(t, 41.5, v.AsFloat64())
	u, _ := events[1].Attrs.Get(string(attributes.MetricUnit))
	assert.Equal(t, "ms", u.AsString())
}

func TestStageEvents(t *testing.T) {
	for _, on := range []bool{false, true} {
		sink := &captureSink{}
		opts := []exporter.Option{exporter.WithSinks(sink)}
		if on {
			opts = append(opts, exporter.WithStageEvents())
		}
		exp, err := exporter.New(opts...)
		require.NoError(t, err)
		tp := provider(t, exp, nil)
		tracer := tp.Tracer("t")
		ctx, opener := tracer.Start(context.Background(), "retrieve", trace.WithAttributes(attributes.Stage("retrieval")))
		_, inherited := tracer.Start(ctx, "query", trace.WithAttributes(attributes.Stage("retrieval"), attributes.StageInherited.Bool(true)))
		inherited.AddEvent("log")
		inherited.End()
		opener.End()
		require.NoError(t, tp.Shutdown(context.Background()))

		var names []string
		for _, ev := range sink.events() {
			names = append(names, ev.Name)
		}
		if !on {
			assert.Equal(t, []string{"log"}, names)
			continue
		}
		assert.Equal(t, []string{"log", attributes.EventStageStart, attributes.EventStageEnd}, names)
		spans := sink.spans()
		require.Len(t, spans, 2)
		evs := sink.events()
		assert.Equal(t, spans[1].StartTime, evs[1].Time)
		assert.Equal(t, spans[1].EndTime, evs[2].Time)
		assert.Equal(t, "retrieval", evs[1].Stage)
		_, marked := spans[0].Attrs.Get(string(attributes.StageInherited))
		assert.False(t, marked, "the inheritance mark is not exported")
	}
}

func TestEveryAttributeType(t *testing.T) {
	sink := &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(sink))
	require.NoError(t, err)
	tp := provider(t, exp, nil)
	big := strings.Repeat("x", 1<<20)
	in := []attribute.KeyValue{
		attribute.Bool("b", true),
		attribute.Int64("i", -7),
		attribute.Float64("f", 2.5),
		attribute.String("s", "hé"),
		attribute.String("big", big),
		attribute.BoolSlice("bs", []bool{true, false}),
		attribute.Int64Slice("is", []int64{1, 2}),
		attribute.Float64Slice("fs", []float64{0.5}),
		attribute.StringSlice("ss", []string{"a", ""}),
		{Key: "bytes", Value: attribute.ByteSliceValue([]byte{0, 255})},
		{Key: "slice", Value: attribute.SliceValue(attribute.Int64Value(1), attribute.StringValue("x"))},
		{Key: "map", Value: attribute.MapValue(attribute.String("k", "v"), attribute.Int("n", 3))},
	}
	_, span := tp.Tracer("t").Start(context.Background(), "s", trace.WithAttributes(in...))
	span.End()
	require.NoError(t, tp.Shutdown(context.Background()))
	spans := sink.spans()
	require.Len(t, spans, 1)
	got := spans[0].Attrs
	require.Len(t, got, len(in))
	want := stagetrace.Attrs{
		{Key: "b", Value: stagetrace.BoolValue(true)},
		{Key: "i", Value: stagetrace.Int64Value(-7)},
		{Key: "f", Value: stagetrace.Float64Value(2.5)},
		{Key: "s", Value: stagetrace.StringValue("hé")},
		{Key: "big", Value: stagetrace.StringValue(big)},
		{Key: "bs", Value: stagetrace.BoolSliceValue([]bool{true, false})},
		{Key: "is", Value: stagetrace.Int64SliceValue([]int64{1, 2})},
		{Key: "fs", Value: stagetrace.Float64SliceValue([]float64{0.5})},
		{Key: "ss", Value: stagetrace.StringSliceValue([]string{"a", ""})},
		{Key: "bytes", Value: stagetrace.BytesValue([]byte{0, 255})},
		{Key: "slice", Value: stagetrace.SliceValue(stagetrace.Int64Value(1), stagetrace.StringValue("x"))},
		{Key: "map", Value: stagetrace.MapValue(
			stagetrace.Attr{Key: "k", Value: stagetrace.StringValue("v")},
			stagetrace.Attr{Key: "n", Value: stagetrace.Int64Value(3)})},
	}
	for i := range want {
		assert.Equal(t, want[i].Key, got[i].Key)
		assert.True(t, want[i].Value.Equal(got[i].Value), "%s: want %#v got %#v", want[i].Key, want[i].Value, got[i].Value)
	}
}

func TestFailingSinkDoesNotStopOthers(t *testing.T) {
	bad := &captureSink{err: errors.New("disk full")}
	good := &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(bad, good))
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider()
	_, span := tp.Tracer("t").Start(context.Background(), "s")
	span.End()
	err = exp.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{span.(sdktrace.ReadOnlySpan)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sink 0")
	assert.Contains(t, err.Error(), "disk full")
	assert.Len(t, good.spans(), 1)
	require.NoError(t, exp.Shutdown(context.Background()))
}

func TestSlowSinkDoesNotDelayOthers(t *testing.T) {
	slow := &captureSink{block: make(chan struct{})}
	defer close(slow.block)
	fast := &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(slow, fast), exporter.WithSinkTimeout(50*time.Millisecond))
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider()
	_, span := tp.Tracer("t").Start(context.Background(), "s")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err = exp.ExportSpans(ctx, []sdktrace.ReadOnlySpan{span.(sdktrace.ReadOnlySpan)})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second, "the slow sink, which ignores its context, is abandoned at the sink timeout, not the export deadline")
	assert.Contains(t, err.Error(), "sink 0 (*exporter_test.captureSink) write")
	assert.Len(t, fast.spans(), 1)
}

// deadlineSink records the deadline of the contexts it is handed.
type deadlineSink struct {
	mu        sync.Mutex
	deadlines []time.Time
}

func (s *deadlineSink) record(ctx context.Context) {
	d, ok := ctx.Deadline()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.deadlines = append(s.deadlines, d)
	} else {
		s.deadlines = append(s.deadlines, time.Time{})
	}
}

func (s *deadlineSink) Write(ctx context.Context, _ stagetrace.Batch) error {
	s.record(ctx)
	return nil
}
func (s *deadlineSink) ForceFlush(ctx context.Context) error { s.record(ctx); return nil }
func (s *deadlineSink) Shutdown(context.Context) error       { return nil }

// A sink is handed a deadline even when the caller has none (as behind
// WithSyncer): DefaultSinkTimeout unless WithSinkTimeout says otherwise,
// or the caller's, when sooner.
func TestSinkTimeoutDefaultsAndBoundsEveryWrite(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []exporter.Option
		callerIn time.Duration // the caller's deadline, zero for none
		want     time.Duration
	}{
		{"default", nil, 0, exporter.DefaultSinkTimeout},
		{"zero restores the default", []exporter.Option{exporter.WithSinkTimeout(0)}, 0, exporter.DefaultSinkTimeout},
		{"overridden", []exporter.Option{exporter.WithSinkTimeout(time.Minute)}, 0, time.Minute},
		{"caller's deadline sooner", nil, time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &deadlineSink{}
			exp, err := exporter.New(append(tc.opts, exporter.WithSinks(sink))...)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
			ctx := context.Background()
			if tc.callerIn > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.callerIn)
				defer cancel()
			}
			tp := sdktrace.NewTracerProvider()
			_, span := tp.Tracer("t").Start(context.Background(), "s")
			span.End()
			start := time.Now()
			require.NoError(t, exp.ExportSpans(ctx, []sdktrace.ReadOnlySpan{span.(sdktrace.ReadOnlySpan)}))
			require.NoError(t, exp.ForceFlush(ctx))
			sink.mu.Lock()
			defer sink.mu.Unlock()
			require.Len(t, sink.deadlines, 2, "one write, one flush")
			for _, d := range sink.deadlines {
				require.False(t, d.IsZero(), "the sink was handed no deadline")
				assert.WithinDuration(t, start.Add(tc.want), d, time.Second)
			}
		})
	}
}

func TestShutdownHonoursDeadlineWithBlockedSink(t *testing.T) {
	blocked := &captureSink{block: make(chan struct{})}
	defer close(blocked.block)
	other := &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(blocked, other))
	require.NoError(t, err)
	// Long enough for the other sink's Shutdown to be over by then on a
	// loaded machine under -race.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = exp.Shutdown(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "sink 0")
	assert.NotContains(t, err.Error(), "sink 1")
	assert.Equal(t, 1, other.shutdowns)

	// Idempotent: the second call returns the first result and shuts
	// nothing down again.
	assert.Equal(t, err, exp.Shutdown(context.Background()))
	assert.Equal(t, 1, other.shutdowns)
	assert.ErrorIs(t, exp.ExportSpans(context.Background(), nil), exporter.ErrShutdown)
	assert.NoError(t, exp.ForceFlush(context.Background()))
}

func TestForceFlushFlushesSinks(t *testing.T) {
	a, b := &captureSink{}, &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(a, b))
	require.NoError(t, err)
	require.NoError(t, exp.ForceFlush(context.Background()))
	assert.Equal(t, 1, a.flushes)
	assert.Equal(t, 1, b.flushes)
	require.NoError(t, exp.Shutdown(context.Background()))
}

func TestExportCancelledContext(t *testing.T) {
	sink := &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(sink))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, exp.ExportSpans(ctx, nil), context.Canceled)
}

func TestConcurrentExport(t *testing.T) {
	sink := &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(sink))
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(64), sdktrace.WithBlocking()))
	tracer := tp.Tracer("t")
	const workers, per = 16, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := attributes.ContextWithRun(context.Background(), "r")
			for i := range per {
				_, span := tracer.Start(ctx, "s", trace.WithAttributes(attribute.Int("w", w), attribute.Int("i", i)))
				span.End()
			}
		}()
	}
	wg.Wait()
	require.NoError(t, tp.Shutdown(context.Background()))
	seen := map[[2]int64]bool{}
	for _, s := range sink.spans() {
		w, _ := s.Attrs.Get("w")
		i, _ := s.Attrs.Get("i")
		seen[[2]int64{w.AsInt64(), i.AsInt64()}] = true
	}
	assert.Equal(t, workers*per, len(seen), "every span exported once")
	assert.Equal(t, workers*per, len(sink.spans()))
}

func TestRedactorRunsBeforeEverySink(t *testing.T) {
	r, err := redact.New(redact.Config{Presets: []string{"emails"}, Deny: []string{"*.api_key"}})
	require.NoError(t, err)
	a, b := &captureSink{}, &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(a, b), exporter.WithRedactor(r))
	require.NoError(t, err)
	tp := provider(t, exp, nil)
	_, span := tp.Tracer("t").Start(context.Background(), "s", trace.WithAttributes(
		attribute.String("user.note", "mail ada@example.com please"),
		attribute.String("openai.api_key", "sk-123"),
		attribute.String("model", "gpt-4o"),
	))
	span.End()
	require.NoError(t, tp.Shutdown(context.Background()))
	for _, sink := range []*captureSink{a, b} {
		spans := sink.spans()
		require.Len(t, spans, 1)
		note, _ := spans[0].Attrs.Get("user.note")
		assert.NotContains(t, note.AsString(), "ada@example.com")
		key, _ := spans[0].Attrs.Get("openai.api_key")
		assert.Equal(t, redact.DefaultMask, key.AsString())
		model, _ := spans[0].Attrs.Get("model")
		assert.Equal(t, "gpt-4o", model.AsString())
		n, ok := spans[0].Attrs.Get(string(attributes.RedactedCount))
		require.True(t, ok)
		assert.Equal(t, int64(2), n.AsInt64())
	}
}

// An export larger than MaxWriteSpans reaches each sink in parts of at most
// that many spans, in order, each with the events of its own spans, and
// nothing is lost or repeated; a failing part does not stop the later ones.
func TestLargeExportIsWrittenInParts(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tracer := tp.Tracer("t")
	const n = 2*exporter.MaxWriteSpans + 100
	for i := range n {
		_, span := tracer.Start(context.Background(), "s", trace.WithAttributes(attribute.Int("i", i)))
		span.AddEvent("e", trace.WithAttributes(attribute.Int("i", i)))
		span.End()
	}
	spans := rec.Ended()
	require.Len(t, spans, n)

	boom := errors.New("boom")
	sink := &captureSink{err: boom}
	exp, err := exporter.New(exporter.WithSinks(sink))
	require.NoError(t, err)
	err = exp.ExportSpans(context.Background(), spans)
	require.ErrorIs(t, err, boom)

	require.Len(t, sink.batches, 3, "three parts, each written despite the errors")
	next := int64(0)
	for k, b := range sink.batches {
		assert.LessOrEqual(t, len(b.Spans), exporter.MaxWriteSpans, "part %d", k)
		ids := map[stagetrace.SpanID]bool{}
		for _, s := range b.Spans {
			i, _ := s.Attrs.Get("i")
			assert.Equal(t, next, i.AsInt64(), "spans in order")
			next++
			ids[s.SpanID] = true
		}
		require.Len(t, b.Events, len(b.Spans), "part %d", k)
		for _, e := range b.Events {
			assert.True(t, ids[e.SpanID], "an event goes with its span's part")
		}
	}
	assert.Equal(t, int64(n), next, "every span once")
}

// endedSpans returns one ended span per name, each with the attribute i
// (from first on), the string slice tags ([name]) and an event.
func endedSpans(t *testing.T, first int, names ...string) []sdktrace.ReadOnlySpan {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("t")
	for i, name := range names {
		_, span := tracer.Start(context.Background(), name, trace.WithAttributes(
			attribute.Int("i", first+i), attribute.StringSlice("tags", []string{name})))
		span.AddEvent("e", trace.WithAttributes(attribute.StringSlice("tags", []string{name, name})))
		span.End()
	}
	return rec.Ended()
}

// Each export maps into the arrays of the last one: what the sinks kept
// of the earlier exports stays as it was written.
func TestExportsKeepEarlierSpans(t *testing.T) {
	sink := &captureSink{}
	exp, err := exporter.New(exporter.WithSinks(sink))
	require.NoError(t, err)
	defer exp.Shutdown(context.Background())
	ctx := context.Background()
	require.NoError(t, exp.ExportSpans(ctx, endedSpans(t, 0, "a", "b", "b")))
	require.NoError(t, exp.ExportSpans(ctx, endedSpans(t, 3, "c")))
	require.NoError(t, exp.ExportSpans(ctx, endedSpans(t, 4, "d", "e", "f", "f")))
	sinktest.CheckTagged(t, sink.spans(), sink.events(), []string{"a", "b", "b", "c", "d", "e", "f", "f"})
}

// Each export, and each part of a large one, is mapped into the arrays
// of the last: the allocation it saves is the point of the Sink contract.
func TestExportReusesItsArrays(t *testing.T) {
	arrays := &sinktest.Arrays{}
	exp, err := exporter.New(exporter.WithSinks(arrays))
	require.NoError(t, err)
	defer exp.Shutdown(context.Background())
	ctx := context.Background()
	names := make([]string, 2*exporter.MaxWriteSpans)
	for i := range names {
		names[i] = "a"
	}
	require.NoError(t, exp.ExportSpans(ctx, endedSpans(t, 0, names...))) // two parts
	require.NoError(t, exp.ExportSpans(ctx, endedSpans(t, 0, names[:3]...)))
	require.NotZero(t, arrays.Writes()[0].Spans)
	arrays.CheckReused(t, 3)
}

// A batch a sink was abandoned with at its timeout is not reused, in a
// later part of the same export or in later exports: the sink still reads
// it whole once it wakes up.
func TestAbandonedBatchIsNotReused(t *testing.T) {
	late := sinktest.NewLateSink(nil, sinktest.ReadTags)
	exp, err := exporter.New(exporter.WithSinks(late), exporter.WithSinkTimeout(20*time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	names := make([]string, exporter.MaxWriteSpans+1)
	for i := range names {
		names[i] = []string{"a", "b"}[i%2]
	}
	err = exp.ExportSpans(ctx, endedSpans(t, 0, names...)) // two parts: the first is abandoned
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not finished")
	require.NoError(t, exp.ExportSpans(ctx, endedSpans(t, 0, "c", "d")))
	sinktest.CheckReadTags(t, late.Release(), names[:exporter.MaxWriteSpans])
	require.NoError(t, exp.Shutdown(ctx))
}
