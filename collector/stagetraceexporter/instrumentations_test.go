package stagetraceexporter

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/collector/stagetraceprocessor"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/usage"
)

// The conformance fixtures: the OTLP/JSON requests real JavaScript
// instrumentations of the openai client sent, recorded by make fixtures
// (fixtures/node/record.mjs) against a fake provider whose answers fix every
// figure below.
const fixturesDir = "../../integration/testdata/instrumentations"

// fixturePrices is the price table the expected costs are computed by, per
// million tokens.
const fixturePrices = `
prices:
  currency: USD
  models:
    "gpt-4o-mini*":          {input: 0.15, output: 0.60, cache_read: 0.075}
    "gpt-4o*":               {input: 2.50, output: 10.00, cache_read: 1.25}
    text-embedding-3-small:  {input: 0.02, output: 0}
    "claude-sonnet-4-6*":    {input: 3, output: 15, cache_read: 0.30, cache_creation: 3.75}
`

// wantSpan is what one recorded span must become, checked by hand from the
// fake provider's answers and fixturePrices.
type wantSpan struct {
	stage    string
	model    string // the model finding; "" for none
	in, out  int64  // -1: no such finding
	total    int64  // -1: no total_tokens finding
	cacheIn  int64  // -1: no cache_read_input_tokens finding
	cacheWr  int64  // -1: no cache_creation_input_tokens finding
	finish   []string
	ttfc     bool  // a time_to_first_chunk finding (its value is measured, not fixed)
	costNano int64 // -1: no cost finding
	status   stagetrace.StatusCode
	extra    map[string]string // more findings, as attrsMap renders them
}

var instrumentationFixtures = []struct {
	file    string
	presets []string
	// spans in the order the calls were made; the failed call left no
	// span in either instrumentation.
	spans []wantSpan
}{
	{
		file:    "openinference-openai.jsonl",
		presets: []string{rules.PresetOpenInference},
		spans: []wantSpan{
			{ // chat: 12 × 0.15 + 5 × 0.60 = 4.8 micro-USD
				stage: "chat", model: "gpt-4o-mini-2024-07-18", in: 12, out: 5, total: 17, cacheIn: -1, cacheWr: -1,
				finish: []string{"stop"}, costNano: 4_800, status: stagetrace.StatusOK,
				extra: map[string]string{"session_id": "string:conv-42", "user_id": "string:user-7", "provider": "string:openai"},
			},
			{ // streamed: OpenInference records no usage for a stream, nor the response model
				stage: "chat", model: "gpt-4o-mini", in: -1, out: -1, total: -1, cacheIn: -1, cacheWr: -1,
				finish: []string{"length"}, costNano: -1, status: stagetrace.StatusUnset,
			},
			{ // cached: (2000 − 1536) × 2.50 + 1536 × 1.25 + 100 × 10 = 1160 + 1920 + 1000 micro-USD
				stage: "chat", model: "gpt-4o-2024-08-06", in: 2000, out: 100, total: 2100, cacheIn: 1536, cacheWr: -1,
				finish: []string{"stop"}, costNano: 4_080_000, status: stagetrace.StatusOK,
				extra: map[string]string{"reasoning_output_tokens": "int64:0", "audio_input_tokens": "int64:0"},
			},
			{ // embeddings: the model, but no token count
				stage: "embeddings", model: "text-embedding-3-small", in: -1, out: -1, total: -1, cacheIn: -1, cacheWr: -1,
				costNano: -1, status: stagetrace.StatusOK,
			},
			{ // tool call: 80 × 0.15 + 20 × 0.60 = 24 micro-USD
				stage: "chat", model: "gpt-4o-mini-2024-07-18", in: 80, out: 20, total: 100, cacheIn: -1, cacheWr: -1,
				finish: []string{"tool_calls"}, costNano: 24_000, status: stagetrace.StatusOK,
			},
		},
	},
	{
		file:    "openllmetry-openai.jsonl",
		presets: []string{rules.PresetOpenLLMetry},
		spans: []wantSpan{
			{
				stage: "chat", model: "gpt-4o-mini-2024-07-18", in: 12, out: 5, total: 17, cacheIn: -1, cacheWr: -1,
				finish: []string{"stop"}, costNano: 4_800, status: stagetrace.StatusUnset,
				extra: map[string]string{"provider": "string:openai", "response_id": "string:chatcmpl-plain"},
			},
			{ // streamed: no usage recorded
				stage: "chat", model: "gpt-4o-mini-2024-07-18", in: -1, out: -1, total: -1, cacheIn: -1, cacheWr: -1,
				finish: []string{"length"}, costNano: -1, status: stagetrace.StatusUnset,
			},
			{ // cached: OpenLLMetry JS records no cache count, so all 2000 input tokens are priced
				// uncached: 2000 × 2.50 + 100 × 10 = 6000 micro-USD
				stage: "chat", model: "gpt-4o-2024-08-06", in: 2000, out: 100, total: 2100, cacheIn: -1, cacheWr: -1,
				finish: []string{"stop"}, costNano: 6_000_000, status: stagetrace.StatusUnset,
			},
			// embeddings: @traceloop/instrumentation-openai does not instrument them
			{ // tool call: the finish reason as OpenLLMetry spells it
				stage: "chat", model: "gpt-4o-mini-2024-07-18", in: 80, out: 20, total: 100, cacheIn: -1, cacheWr: -1,
				finish: []string{"tool_call"}, costNano: 24_000, status: stagetrace.StatusUnset,
			},
		},
	},
	{
		// @anthropic-ai/sdk 0.137.0's own spans: the current GenAI names
		// (gen_ai.usage.cache_write.input_tokens, input tokens including the
		// cache, time to first chunk), no finish reasons.
		file:    "sdk-anthropic.jsonl",
		presets: []string{rules.PresetGenAI},
		spans: []wantSpan{
			{ // (3025 − 2000 − 1000) × 3 + 2000 × 0.30 + 1000 × 3.75 + 10 × 15 = 75 + 600 + 3750 + 150 micro-USD
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 3025, out: 10, total: -1, cacheIn: 2000, cacheWr: 1000,
				costNano: 4_575_000, status: stagetrace.StatusOK,
				extra: map[string]string{"provider": "string:anthropic", "response_id": "string:msg_cached"},
			},
			{ // streamed, with usage: 9 × 3 + 4 × 15 = 87 micro-USD
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 9, out: 4, total: -1, cacheIn: -1, cacheWr: -1,
				ttfc: true, costNano: 87_000, status: stagetrace.StatusOK,
			},
			{ // failed: a span, the requested model, no tokens
				stage: "chat", model: "no-such-model", in: -1, out: -1, total: -1, cacheIn: -1, cacheWr: -1,
				costNano: -1, status: stagetrace.StatusError,
			},
			{ // tool use: 80 × 3 + 20 × 15 = 540 micro-USD
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 80, out: 20, total: -1, cacheIn: -1, cacheWr: -1,
				costNano: 540_000, status: stagetrace.StatusOK,
			},
		},
	},
	{
		file:    "openinference-anthropic.jsonl",
		presets: []string{rules.PresetOpenInference},
		spans: []wantSpan{
			{ // prompt tokens include the cache: the same 4575 micro-USD
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 3025, out: 10, total: 3035, cacheIn: 2000, cacheWr: 1000,
				finish: []string{"end_turn"}, costNano: 4_575_000, status: stagetrace.StatusOK,
				extra: map[string]string{"provider": "string:anthropic", "session_id": "string:conv-42"},
			},
			{
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 9, out: 4, total: 13, cacheIn: -1, cacheWr: -1,
				finish: []string{"max_tokens"}, costNano: 87_000, status: stagetrace.StatusOK,
			},
			{
				stage: "chat", model: "no-such-model", in: -1, out: -1, total: -1, cacheIn: -1, cacheWr: -1,
				costNano: -1, status: stagetrace.StatusError,
			},
			{
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 80, out: 20, total: 100, cacheIn: -1, cacheWr: -1,
				finish: []string{"tool_use"}, costNano: 540_000, status: stagetrace.StatusOK,
			},
		},
	},
	{
		file:    "openllmetry-anthropic.jsonl",
		presets: []string{rules.PresetOpenLLMetry},
		spans: []wantSpan{
			{ // input tokens as Anthropic counts them, without the cache, and the
				// cache write under its name before the rename; the cache counts
				// exceed the input count, so it is priced whole: the same 4575
				// micro-USD
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 25, out: 10, total: 35, cacheIn: 2000, cacheWr: 1000,
				finish: []string{"stop"}, costNano: 4_575_000, status: stagetrace.StatusUnset,
			},
			{ // streamed: tokens, but no finish reason
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 9, out: 4, total: 13, cacheIn: -1, cacheWr: -1,
				costNano: 87_000, status: stagetrace.StatusUnset,
			},
			{
				stage: "chat", model: "no-such-model", in: -1, out: -1, total: -1, cacheIn: -1, cacheWr: -1,
				costNano: -1, status: stagetrace.StatusError,
			},
			{
				stage: "chat", model: "claude-sonnet-4-6-20260217", in: 80, out: 20, total: 100, cacheIn: -1, cacheWr: -1,
				finish: []string{"tool_call"}, costNano: 540_000, status: stagetrace.StatusUnset,
			},
		},
	},
}

// readFixture reads one OTLP/JSON request a line.
func readFixture(t *testing.T, file string) []ptrace.Traces {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixturesDir, file))
	require.NoError(t, err, "run make fixtures to record it")
	var out []ptrace.Traces
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(sc.Bytes())
		require.NoError(t, err)
		out = append(out, td)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out)
	return out
}

func fixtureSet(t *testing.T, presets []string) *rules.Set {
	t.Helper()
	doc := "presets: [" + strings.Join(presets, ", ") + "]\n" + fixturePrices
	set, err := rules.Load(strings.NewReader(doc), "rules.yaml")
	require.NoError(t, err)
	return set
}

// fixtureCollectorPath sends the recorded requests through the collector
// processor (start phase) and the exporter's writer (findings, cost).
func fixtureCollectorPath(t *testing.T, tds []ptrace.Traces, presets []string, set *rules.Set) []stagetrace.StageSpan {
	t.Helper()
	pf := stagetraceprocessor.NewFactory()
	pcfg := pf.CreateDefaultConfig().(*stagetraceprocessor.Config)
	pcfg.Presets = presets
	out := new(consumertest.TracesSink)
	p, err := pf.CreateTraces(context.Background(), processortest.NewNopSettings(pf.Type()), pcfg, out)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	for _, td := range tds {
		require.NoError(t, p.ConsumeTraces(context.Background(), td))
	}
	require.NoError(t, p.Shutdown(context.Background()))

	mem := memsink.New()
	w := newWriter(mapping.Options{}, set)
	require.NoError(t, w.setSinks([]stagetrace.Sink{mem}))
	for _, b := range out.AllTraces() {
		require.NoError(t, w.write(context.Background(), b))
	}
	return mem.Spans()
}

// fixtureSDKPath hands the recorded spans, as an SDK would have ended them,
// to the stagetrace SpanExporter with the same rules.
func fixtureSDKPath(t *testing.T, tds []ptrace.Traces, set *rules.Set) []stagetrace.StageSpan {
	t.Helper()
	mem := memsink.New()
	exp, err := exporter.New(exporter.WithSinks(mem), exporter.WithRules(set))
	require.NoError(t, err)
	var stubs tracetest.SpanStubs
	for _, td := range tds {
		stubs = append(stubs, toStubs(td)...)
	}
	require.NoError(t, exp.ExportSpans(context.Background(), stubs.Snapshots()))
	require.NoError(t, exp.Shutdown(context.Background()))
	return mem.Spans()
}

func toStubs(td ptrace.Traces) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		res := resource.NewSchemaless(toKVs(rs.Resource().Attributes())...)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			scope := instrumentation.Scope{Name: ss.Scope().Name(), Version: ss.Scope().Version()}
			for k := 0; k < ss.Spans().Len(); k++ {
				s := ss.Spans().At(k)
				st := tracetest.SpanStub{
					Name: s.Name(),
					SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
						TraceID: trace.TraceID(s.TraceID()), SpanID: trace.SpanID(s.SpanID()), TraceFlags: trace.FlagsSampled,
					}),
					Parent:               trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(s.TraceID()), SpanID: trace.SpanID(s.ParentSpanID())}),
					SpanKind:             trace.SpanKind(s.Kind()),
					StartTime:            s.StartTimestamp().AsTime(),
					EndTime:              s.EndTimestamp().AsTime(),
					Attributes:           toKVs(s.Attributes()),
					Resource:             res,
					InstrumentationScope: scope,
				}
				switch s.Status().Code() {
				case ptrace.StatusCodeOk:
					st.Status = sdktrace.Status{Code: codes.Ok}
				case ptrace.StatusCodeError:
					st.Status = sdktrace.Status{Code: codes.Error, Description: s.Status().Message()}
				}
				for e := 0; e < s.Events().Len(); e++ {
					ev := s.Events().At(e)
					st.Events = append(st.Events, sdktrace.Event{Name: ev.Name(), Time: ev.Timestamp().AsTime(), Attributes: toKVs(ev.Attributes())})
				}
				out = append(out, st)
			}
		}
	}
	return out
}

// toKVs converts the attribute types the fixtures hold.
func toKVs(m pcommon.Map) []attribute.KeyValue {
	var out []attribute.KeyValue
	for k, v := range m.All() {
		switch v.Type() {
		case pcommon.ValueTypeStr:
			out = append(out, attribute.String(k, v.Str()))
		case pcommon.ValueTypeInt:
			out = append(out, attribute.Int64(k, v.Int()))
		case pcommon.ValueTypeDouble:
			out = append(out, attribute.Float64(k, v.Double()))
		case pcommon.ValueTypeBool:
			out = append(out, attribute.Bool(k, v.Bool()))
		case pcommon.ValueTypeSlice:
			var ss []string
			for _, e := range v.Slice().All() {
				ss = append(ss, e.AsString())
			}
			out = append(out, attribute.StringSlice(k, ss))
		default:
			out = append(out, attribute.String(k, v.AsString()))
		}
	}
	return out
}

// TestInstrumentationFixtures maps every recorded span through both paths
// and checks stage, model, tokens, finish reasons and cost by the values
// worked out by hand above.
func TestInstrumentationFixtures(t *testing.T) {
	for _, fx := range instrumentationFixtures {
		tds := readFixture(t, fx.file)
		set := fixtureSet(t, fx.presets)
		for path, run := range map[string]func() []stagetrace.StageSpan{
			"collector": func() []stagetrace.StageSpan { return fixtureCollectorPath(t, tds, fx.presets, set) },
			"sdk":       func() []stagetrace.StageSpan { return fixtureSDKPath(t, tds, set) },
		} {
			t.Run(fx.file+"/"+path, func(t *testing.T) {
				spans := run()
				sort.SliceStable(spans, func(i, j int) bool { return spans[i].StartTime.Before(spans[j].StartTime) })
				require.Len(t, spans, len(fx.spans))
				var totals usage.Totals
				var want usage.Totals
				for i, w := range fx.spans {
					s := spans[i]
					f := attrsMap(s.Findings)
					assert.Equal(t, w.stage, s.Stage, "span %d (%s): stage", i, s.Name)
					assert.Equal(t, w.status, s.Status, "span %d: status", i)
					checkFinding(t, f, attributes.FindingModel, w.model != "", "string:"+w.model, i)
					checkCount(t, f, attributes.FindingInputTokens, w.in, i)
					checkCount(t, f, attributes.FindingOutputTokens, w.out, i)
					checkCount(t, f, attributes.FindingTotalTokens, w.total, i)
					checkCount(t, f, attributes.FindingCacheReadInputTokens, w.cacheIn, i)
					checkCount(t, f, attributes.FindingCacheCreationInputTokens, w.cacheWr, i)
					_, hasTTFC := f[attributes.FindingTimeToFirstChunk]
					assert.Equal(t, w.ttfc, hasTTFC, "span %d: time_to_first_chunk", i)
					checkFinding(t, f, attributes.FindingFinishReasons, w.finish != nil, fmt.Sprintf("%s:%s", stagetrace.KindStringSlice, stagetrace.StringSliceValue(w.finish).String()), i)
					_, hasErr := f[attributes.FindingCostError]
					assert.False(t, hasErr, "span %d: no cost error: %v", i, f[attributes.FindingCostError])
					for k, v := range w.extra {
						assert.Equal(t, v, f[k], "span %d: finding %s", i, k)
					}
					u := usage.Of(&s)
					if w.costNano >= 0 {
						require.True(t, u.HasCost, "span %d: a cost", i)
						assert.Equal(t, usage.Cost{Nanos: w.costNano, Currency: "USD"}, u.Cost, "span %d: cost", i)
						want.Add(&usage.Usage{Cost: usage.Cost{Nanos: w.costNano, Currency: "USD"}, HasCost: true})
					} else {
						assert.False(t, u.HasCost, "span %d: no cost", i)
					}
					totals.Add(&u)
				}
				assert.Equal(t, want.Cost, totals.Cost, "the fixture's total cost")
			})
		}
	}
}

func checkFinding(t *testing.T, f map[string]string, key string, present bool, want string, i int) {
	t.Helper()
	got, ok := f[key]
	if !present {
		assert.False(t, ok, "span %d: no %s finding, got %s", i, key, got)
		return
	}
	assert.Equal(t, want, got, "span %d: %s", i, key)
}

func checkCount(t *testing.T, f map[string]string, key string, want int64, i int) {
	t.Helper()
	checkFinding(t, f, key, want >= 0, "int64:"+strconv.FormatInt(want, 10), i)
}

func attrsMap(a stagetrace.Attrs) map[string]string {
	m := make(map[string]string, len(a))
	for _, kv := range a {
		m[kv.Key] = fmt.Sprintf("%s:%s", kv.Value.Kind(), kv.Value.String())
	}
	return m
}

// TestInstrumentationFixturesAgree writes the fixtures' spans, mapped by the
// collector path, to a SQLite store and a monitor: the runs the command's
// runs and show read, the report's token usage, the monitor's run summaries
// and its GenAI metrics hold the tokens and costs worked out by hand.
func TestInstrumentationFixturesAgree(t *testing.T) {
	for _, fx := range []struct {
		file      string
		presets   []string
		in, out   int64
		costNanos int64
	}{
		// 12 + 2000 + 80 in, 5 + 100 + 20 out; 4800 + 4,080,000 + 24,000 nanos
		{"openinference-openai.jsonl", []string{rules.PresetOpenInference}, 2092, 125, 4_108_800},
		// the same counts; the cached call priced uncached: 4800 + 6,000,000 + 24,000
		{"openllmetry-openai.jsonl", []string{rules.PresetOpenLLMetry}, 2092, 125, 6_028_800},
		// 3025 + 9 + 80 in, 10 + 4 + 20 out; 4,575,000 + 87,000 + 540,000 nanos
		{"sdk-anthropic.jsonl", []string{rules.PresetGenAI}, 3114, 34, 5_202_000},
		{"openinference-anthropic.jsonl", []string{rules.PresetOpenInference}, 3114, 34, 5_202_000},
		// the same cost, but the cached call's 25 input tokens without its cache
		{"openllmetry-anthropic.jsonl", []string{rules.PresetOpenLLMetry}, 114, 34, 5_202_000},
	} {
		t.Run(fx.file, func(t *testing.T) {
			ctx := context.Background()
			spans := fixtureCollectorPath(t, readFixture(t, fx.file), fx.presets, fixtureSet(t, fx.presets))
			store, err := sqlitesink.Open(filepath.Join(t.TempDir(), "runs.db"))
			require.NoError(t, err)
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer func() { require.NoError(t, mp.Shutdown(ctx)) }()
			mon, err := monitor.New(monitor.WithMeterProvider(mp))
			require.NoError(t, err)
			b := stagetrace.Batch{Spans: spans}
			require.NoError(t, store.Write(ctx, b))
			require.NoError(t, mon.Write(ctx, b))

			runs, err := store.Runs(ctx, sqlitesink.RunFilter{})
			require.NoError(t, err)
			require.Len(t, runs, len(spans), "each call is a trace of its own, so a run of its own")
			var in, out, nanos int64
			for _, r := range runs {
				in, out, nanos = in+r.InputTokens, out+r.OutputTokens, nanos+r.CostNanos
				assert.Zero(t, r.CostErrors, "run %s", r.ID)
				ms, ok := mon.RunSummary(r.ID)
				require.True(t, ok)
				assert.Equal(t, r, ms.Run, "run %s: store = monitor", r.ID)
				// The report counts a run's records as monitor.UsageOf does.
				recs, err := store.RunRecords(ctx, r.ID)
				require.NoError(t, err)
				rep := monitor.UsageOf(recs.Spans).Total
				assert.Equal(t, r.Tokens, rep.Tokens, "run %s: report tokens = store", r.ID)
				assert.Equal(t, r.CostNanos, rep.CostNanos, "run %s: report cost = store", r.ID)
			}
			assert.Equal(t, fx.in, in)
			assert.Equal(t, fx.out, out)
			assert.Equal(t, fx.costNanos, nanos)

			// The GenAI client metrics carry the same token counts, one
			// duration per call.
			var rm metricdata.ResourceMetrics
			require.NoError(t, reader.Collect(ctx, &rm))
			byType := map[string]int64{}
			var calls uint64
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					switch m.Name {
					case monitor.MetricGenAITokenUsage:
						for _, p := range m.Data.(metricdata.Histogram[int64]).DataPoints {
							typ, _ := p.Attributes.Value("gen_ai.token.type")
							byType[typ.AsString()] += p.Sum
						}
					case monitor.MetricGenAIOperationDuration:
						for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
							calls += p.Count
						}
					}
				}
			}
			assert.Equal(t, map[string]int64{"input": fx.in, "output": fx.out}, byType)
			assert.Equal(t, uint64(len(spans)), calls, "every recorded span is a GenAI call")
			require.NoError(t, store.Shutdown(ctx))
			require.NoError(t, mon.Shutdown(ctx))
		})
	}
}
