package stagetraceexporter

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/collector/stagetraceprocessor"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/internal/ingest"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

// seqIDs gives deterministic ids, so that the scenario run twice makes the
// same spans.
type seqIDs struct {
	mu sync.Mutex
	n  uint64
}

func (g *seqIDs) next() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return g.n
}

func (g *seqIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[8:], g.next())
	return tid, g.NewSpanID(context.Background(), tid)
}

func (g *seqIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.next())
	return sid
}

var t0 = time.Unix(1_700_000_000, 0).UTC()

func at(ms int) trace.SpanStartEventOption {
	return trace.WithTimestamp(t0.Add(time.Duration(ms) * time.Millisecond))
}

// scenario records a small pipeline with tp: two traces, one naming its
// run, stages from an attribute, a rule and presets, inheritance, findings
// set during the span, errors and events.
func scenario(tp trace.TracerProvider) {
	ctx := context.Background()
	tr := tp.Tracer("app/pipeline")
	ctx, root := tr.Start(ctx, "pipeline", at(0), trace.WithAttributes(attribute.String("run.id", "run-1")))

	rctx, ret := tr.Start(ctx, "retrieve docs", at(1), trace.WithAttributes(
		attribute.StringSlice("app.sources", []string{"wiki", "kb"}),
		attribute.Int64Slice("app.ks", []int64{1, 2}),
	))
	_, emb := tr.Start(rctx, "embed", at(2), trace.WithSpanKind(trace.SpanKindClient))
	emb.SetAttributes(attribute.Float64("app.norm", 0.5), attribute.Bool("app.cached", true))
	emb.End(trace.WithTimestamp(t0.Add(3 * time.Millisecond)))
	ret.SetAttributes(attribute.Int("app.retrieval.count", 4))
	ret.End(trace.WithTimestamp(t0.Add(4 * time.Millisecond)))

	gctx, gen := tr.Start(ctx, "generate", at(5), trace.WithAttributes(attribute.String("run.stage", "generation")))
	_, chat := tr.Start(gctx, "chat gpt-4o", at(6), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
	))
	chat.SetAttributes(attribute.Int("gen_ai.usage.input_tokens", 120), attribute.Int("gen_ai.usage.output_tokens", 30),
		attribute.String("finding.quality", "good"))
	chat.AddEvent("exception", trace.WithTimestamp(t0.Add(7*time.Millisecond)), trace.WithAttributes(
		attribute.String("exception.message", "rate limited"), attribute.String("exception.type", "RateLimit")))
	chat.AddEvent("metric", trace.WithTimestamp(t0.Add(8*time.Millisecond)), trace.WithAttributes(
		attribute.String("metric.name", "latency"), attribute.Float64("metric.value", 12.5)))
	chat.SetStatus(codes.Error, "upstream failed")
	chat.End(trace.WithTimestamp(t0.Add(9 * time.Millisecond)))
	_, post := tr.Start(gctx, "postprocess", at(10))
	post.SetStatus(codes.Ok, "")
	post.End(trace.WithTimestamp(t0.Add(11 * time.Millisecond)))
	gen.End(trace.WithTimestamp(t0.Add(12 * time.Millisecond)))
	root.End(trace.WithTimestamp(t0.Add(13 * time.Millisecond)))

	// A second trace without a run id: its run is the trace id.
	_, lone := tp.Tracer("app/other").Start(context.Background(), "lonely", at(20), trace.WithSpanKind(trace.SpanKindServer))
	lone.End(trace.WithTimestamp(t0.Add(21 * time.Millisecond)))
}

func goldenRules(t *testing.T) *rules.Set {
	t.Helper()
	set, err := rules.LoadFileWithPresets(filepath.Join("testdata", "rules.yaml"), "genai")
	require.NoError(t, err)
	return set
}

var goldenResource = resource.NewSchemaless(attribute.String("service.name", "golden"), attribute.String("deployment.environment", "test"))

// sdkPath runs the scenario through the SDK processor and exporter.
func sdkPath(t *testing.T, set *rules.Set) *memsink.Sink {
	t.Helper()
	mem := memsink.New()
	exp, err := exporter.New(exporter.WithSinks(mem), exporter.WithRules(set), exporter.WithStageEvents())
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(&seqIDs{}),
		sdktrace.WithResource(goldenResource),
		sdktrace.WithSpanProcessor(processor.New(processor.WithRules(set))),
		sdktrace.WithSyncer(exp),
	)
	scenario(tp)
	require.NoError(t, tp.Shutdown(context.Background()))
	return mem
}

// recorder keeps the ended spans.
type recorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, s)
}
func (r *recorder) Shutdown(context.Context) error   { return nil }
func (r *recorder) ForceFlush(context.Context) error { return nil }

// toPdata converts SDK spans as an OTLP exporter would send them: one
// ResourceSpans, one ScopeSpans per scope.
func toPdata(spans []sdktrace.ReadOnlySpan) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	for _, kv := range spans[0].Resource().Attributes() {
		putAttr(rs.Resource().Attributes(), kv)
	}
	scopes := map[string]ptrace.ScopeSpans{}
	for _, s := range spans {
		name := s.InstrumentationScope().Name
		ss, ok := scopes[name]
		if !ok {
			ss = rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName(name)
			scopes[name] = ss
		}
		p := ss.Spans().AppendEmpty()
		p.SetName(s.Name())
		p.SetTraceID(pcommon.TraceID(s.SpanContext().TraceID()))
		p.SetSpanID(pcommon.SpanID(s.SpanContext().SpanID()))
		p.SetParentSpanID(pcommon.SpanID(s.Parent().SpanID()))
		p.SetKind(ptrace.SpanKind(s.SpanKind()))
		p.SetStartTimestamp(pcommon.NewTimestampFromTime(s.StartTime()))
		p.SetEndTimestamp(pcommon.NewTimestampFromTime(s.EndTime()))
		switch s.Status().Code {
		case codes.Ok:
			p.Status().SetCode(ptrace.StatusCodeOk)
		case codes.Error:
			p.Status().SetCode(ptrace.StatusCodeError)
		}
		p.Status().SetMessage(s.Status().Description)
		for _, kv := range s.Attributes() {
			putAttr(p.Attributes(), kv)
		}
		for _, e := range s.Events() {
			pe := p.Events().AppendEmpty()
			pe.SetName(e.Name)
			pe.SetTimestamp(pcommon.NewTimestampFromTime(e.Time))
			for _, kv := range e.Attributes {
				putAttr(pe.Attributes(), kv)
			}
		}
	}
	return td
}

func putAttr(m pcommon.Map, kv attribute.KeyValue) {
	k := string(kv.Key)
	switch kv.Value.Type() {
	case attribute.STRING:
		m.PutStr(k, kv.Value.AsString())
	case attribute.INT64:
		m.PutInt(k, kv.Value.AsInt64())
	case attribute.FLOAT64:
		m.PutDouble(k, kv.Value.AsFloat64())
	case attribute.BOOL:
		m.PutBool(k, kv.Value.AsBool())
	case attribute.STRINGSLICE:
		s := m.PutEmptySlice(k)
		for _, e := range kv.Value.AsStringSlice() {
			s.AppendEmpty().SetStr(e)
		}
	case attribute.INT64SLICE:
		s := m.PutEmptySlice(k)
		for _, e := range kv.Value.AsInt64Slice() {
			s.AppendEmpty().SetInt(e)
		}
	default:
		panic(fmt.Sprintf("putAttr: unhandled type %v", kv.Value.Type()))
	}
}

// collectorPath runs the same scenario, recorded without stagetrace,
// through the collector processor and the exporter's writer.
func collectorPath(t *testing.T, set *rules.Set, rulesFile string) *memsink.Sink {
	t.Helper()
	rec := &recorder{}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(&seqIDs{}),
		sdktrace.WithResource(goldenResource),
		sdktrace.WithSpanProcessor(rec),
	)
	scenario(tp)
	require.NoError(t, tp.Shutdown(context.Background()))
	td := toPdata(rec.spans)

	pf := stagetraceprocessor.NewFactory()
	pcfg := pf.CreateDefaultConfig().(*stagetraceprocessor.Config)
	pcfg.RulesFile = rulesFile
	pcfg.Presets = []string{"genai"}
	out := new(consumertest.TracesSink)
	p, err := pf.CreateTraces(context.Background(), processortest.NewNopSettings(pf.Type()), pcfg, out)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeTraces(context.Background(), td))
	require.NoError(t, p.Shutdown(context.Background()))

	mem := memsink.New()
	w := newWriter(mapping.Options{StageEvents: true}, set)
	require.NoError(t, w.setSinks([]stagetrace.Sink{mem}))
	for _, b := range out.AllTraces() {
		require.NoError(t, w.write(context.Background(), b))
	}
	return mem
}

// servePath sends the same scenario, recorded without stagetrace, as an
// OTLP/HTTP protobuf request to the receiver of "stagetrace serve".
func servePath(t *testing.T, set *rules.Set) *memsink.Sink {
	t.Helper()
	rec := &recorder{}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(&seqIDs{}),
		sdktrace.WithResource(goldenResource),
		sdktrace.WithSpanProcessor(rec),
	)
	scenario(tp)
	require.NoError(t, tp.Shutdown(context.Background()))
	body, err := ptraceotlp.NewExportRequestFromTraces(toPdata(rec.spans)).MarshalProto()
	require.NoError(t, err)

	mem := memsink.New()
	recv, err := ingest.New(mem, ingest.WithRules(set), ingest.WithStageEvents())
	require.NoError(t, err)
	srv := httptest.NewServer(recv.HTTPHandler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+ingest.TracesPath, "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, recv.Shutdown(context.Background()))
	return mem
}

func attrsString(a stagetrace.Attrs) string {
	parts := make([]string, len(a))
	for i, kv := range a {
		parts[i] = fmt.Sprintf("%s=%d:%s", kv.Key, kv.Value.Kind(), kv.Value.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func spanLines(spans []stagetrace.StageSpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		res := ""
		if s.Resource != nil {
			res = attrsString(s.Resource.Attrs)
		}
		out[i] = fmt.Sprintf("span=%s parent=%s trace=%s run=%s stage=%q name=%q kind=%v status=%v/%q start=%d end=%d scope=%s attrs[%s] findings[%s] res[%s]",
			s.SpanID, s.ParentSpanID, s.TraceID, s.RunID, s.Stage, s.Name, s.Kind, s.Status, s.StatusMessage,
			s.StartTime.UnixNano(), s.EndTime.UnixNano(), s.Scope, attrsString(s.Attrs), attrsString(s.Findings), res)
	}
	sort.Strings(out)
	return out
}

func eventLines(events []stagetrace.TraceEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = fmt.Sprintf("span=%s name=%s run=%s stage=%q t=%d attrs[%s]",
			e.SpanID, e.Name, e.RunID, e.Stage, e.Time.UnixNano(), attrsString(e.Attrs))
	}
	sort.Strings(out)
	return out
}

func TestGoldenSDKAndCollectorAgree(t *testing.T) {
	set := goldenRules(t)
	sdk := sdkPath(t, set)
	col := collectorPath(t, set, filepath.Join("testdata", "rules.yaml"))
	srv := servePath(t, set)

	sdkSpans, colSpans := spanLines(sdk.Spans()), spanLines(col.Spans())
	require.Len(t, sdkSpans, 7)
	assert.Equal(t, sdkSpans, colSpans)
	assert.Equal(t, sdkSpans, spanLines(srv.Spans()), "stagetrace serve's OTLP receiver maps as the SDK does")
	sdkEvents, colEvents := eventLines(sdk.Events()), eventLines(col.Events())
	require.NotEmpty(t, sdkEvents)
	assert.Equal(t, sdkEvents, colEvents)
	assert.Equal(t, sdkEvents, eventLines(srv.Events()), "stagetrace serve's OTLP receiver maps events as the SDK does")

	// The scenario exercises what it means to.
	byName := map[string]stagetrace.StageSpan{}
	for _, s := range col.Spans() {
		byName[s.Name] = s
	}
	assert.Equal(t, "retrieval", byName["embed"].Stage)
	assert.Equal(t, "retrieval", byName["retrieve docs"].Stage)
	assert.Equal(t, "chat", byName["chat gpt-4o"].Stage)
	assert.Equal(t, "generation", byName["postprocess"].Stage)
	assert.Equal(t, "run-1", byName["embed"].RunID)
	assert.Equal(t, byName["lonely"].TraceID.String(), byName["lonely"].RunID)
	v, ok := byName["retrieve docs"].Findings.Get("documents")
	require.True(t, ok)
	assert.Equal(t, int64(4), v.AsInt64())
	v, ok = byName["chat gpt-4o"].Findings.Get("input_tokens")
	require.True(t, ok)
	assert.Equal(t, int64(120), v.AsInt64())
	// The cost is computed once, by the exporter: 120 input and 30 output
	// tokens of gpt-4o at 2.5 and 10 per million.
	v, ok = byName["chat gpt-4o"].Findings.Get("cost")
	require.True(t, ok, "the collector path computes costs")
	assert.InDelta(t, 0.0006, v.AsFloat64(), 1e-12)
	assert.Equal(t, 1, countKey(byName["chat gpt-4o"].Findings, "cost"), "one cost finding: the cost ran once")
	assert.Equal(t, 1, countKey(byName["retrieve docs"].Findings, "documents"), "one documents finding: the rules' findings ran once")
	if t.Failed() {
		t.Logf("sdk:\n%s\ncollector:\n%s", strings.Join(sdkSpans, "\n"), strings.Join(colSpans, "\n"))
	}
}

func countKey(a stagetrace.Attrs, key string) int {
	n := 0
	for _, kv := range a {
		if kv.Key == key {
			n++
		}
	}
	return n
}
