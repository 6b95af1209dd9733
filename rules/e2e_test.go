package rules_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/usage"
)

// export runs spans through a real TracerProvider and the exporter with
// opts, and returns what the sink received.
func export(t *testing.T, record func(trace.Tracer), opts ...exporter.Option) *memsink.Sink {
	t.Helper()
	sink := memsink.New()
	exp, err := exporter.New(append([]exporter.Option{exporter.WithSinks(sink)}, opts...)...)
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	record(tp.Tracer("opentelemetry.instrumentation.openai_v2"))
	require.NoError(t, tp.Shutdown(context.Background()))
	return sink
}

func kv(a stagetrace.Attr) attribute.KeyValue {
	switch a.Value.Kind() {
	case stagetrace.KindInt64:
		return attribute.Int64(a.Key, a.Value.AsInt64())
	case stagetrace.KindFloat64:
		return attribute.Float64(a.Key, a.Value.AsFloat64())
	case stagetrace.KindBool:
		return attribute.Bool(a.Key, a.Value.AsBool())
	case stagetrace.KindStringSlice:
		return attribute.StringSlice(a.Key, a.Value.AsStringSlice())
	}
	return attribute.String(a.Key, a.Value.AsString())
}

func kvs(a stagetrace.Attrs) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(a))
	for i := range a {
		out[i] = kv(a[i])
	}
	return out
}

// TestExporterWithRules records fixture spans the way instrumentations do
// (token counts set just before the span ends) and checks that the
// exporter gives them stages, findings and costs, and that the run's total
// is the sum of its spans.
func TestExporterWithRules(t *testing.T) {
	set, err := rules.LoadFile(filepath.Join("testdata", "example.yaml"))
	require.NoError(t, err)
	chat := loadFixture(t, filepath.Join("testdata", "spans", "genai_openai_chat.json"))
	llm := loadFixture(t, filepath.Join("testdata", "spans", "openinference_llama_index_llm.json"))

	sink := export(t, func(tr trace.Tracer) {
		// No processor here: each span names its run itself.
		ctx, root := tr.Start(context.Background(), "turn")
		for _, f := range []*fixture{chat, llm} {
			_, s := tr.Start(ctx, f.Name, trace.WithSpanKind(trace.SpanKind(f.Kind)),
				trace.WithAttributes(append(kvs(f.Start), attributes.Run("run-7"))...))
			s.SetAttributes(kvs(f.End)...)
			s.End()
		}
		_, s := tr.Start(ctx, "retrieve docs", trace.WithAttributes(attribute.Int("app.retrieval.count", 4), attributes.Run("run-7")))
		s.End()
		root.SetAttributes(attributes.Run("run-7"))
		root.End()
	}, exporter.WithRules(set), exporter.WithStageEvents())

	spans := sink.SpansOfRun("run-7")
	require.Len(t, spans, 4)
	byName := map[string]stagetrace.StageSpan{}
	for _, s := range spans {
		byName[s.Name] = s
	}

	c := byName[chat.Name]
	assert.Equal(t, "chat", c.Stage)
	assert.Equal(t, "run-7", c.RunID)
	f := attrsMap(c.Findings)
	assert.Equal(t, "int64:1234", f[attributes.FindingInputTokens], "tokens set after start become findings at export")
	assert.Equal(t, "int64:210", f[attributes.FindingOutputTokens])
	assert.Equal(t, "string:gpt-4o-mini-2024-07-18", f[attributes.FindingModel])
	assert.Equal(t, "string:computed", f[attributes.FindingCostSource])
	cc, ok, err := spanCost(&c)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(311_100), cc.Nanos, "1234 × 0.15 + 210 × 0.60 micro-USD")

	l := byName[llm.Name]
	assert.Equal(t, "chat", l.Stage, "an OpenInference LLM span is a chat call, as a GenAI chat span is")
	lc, ok, err := spanCost(&l)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(80_250), lc.Nanos)

	r := byName["retrieve docs"]
	assert.Equal(t, "retrieval", r.Stage)
	assert.Equal(t, map[string]string{"documents": "int64:4"}, attrsMap(r.Findings))
	assert.Empty(t, byName["turn"].Stage)
	assert.Empty(t, byName["turn"].Findings)

	total := totalCost(spans)
	assert.Equal(t, usage.Cost{Nanos: 311_100 + 80_250, Currency: "USD"}, total)

	// A stage given by the rules at export opens that stage.
	var stageEvents []string
	for _, ev := range sink.EventsOfRun("run-7") {
		if ev.Name == attributes.EventStageStart {
			stageEvents = append(stageEvents, ev.Stage)
		}
	}
	assert.ElementsMatch(t, []string{"chat", "chat", "retrieval"}, stageEvents)
}

func TestExporterKeepsOwnStageAndFindings(t *testing.T) {
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetGenAI}})
	require.NoError(t, err)
	sink := export(t, func(tr trace.Tracer) {
		_, s := tr.Start(context.Background(), "chat", trace.WithAttributes(
			attributes.Stage("answer"),
			attributes.GenAIOperationName.String("chat"),
			attributes.GenAIUsageInputTokens.Int(10),
			attributes.Finding(attributes.FindingInputTokens, 12),
		))
		s.End()
	}, exporter.WithRules(set))
	spans := sink.Spans()
	require.Len(t, spans, 1)
	assert.Equal(t, "answer", spans[0].Stage, "the span's own stage wins")
	assert.Equal(t, map[string]string{attributes.FindingInputTokens: "int64:12"}, attrsMap(spans[0].Findings))
}

func TestWithRulesNil(t *testing.T) {
	_, err := exporter.New(exporter.WithSinks(memsink.New()), exporter.WithRules(nil))
	assert.ErrorContains(t, err, "nil set")
}

// TestEvaluationEvents checks both directions: findings leave as
// gen_ai.evaluation.result events, and such events arriving on a span
// become findings, without being emitted twice.
func TestEvaluationEvents(t *testing.T) {
	record := func(tr trace.Tracer) {
		_, s := tr.Start(context.Background(), "answer", trace.WithAttributes(
			attributes.GenAIResponseID.String("chatcmpl-123"),
			attributes.Finding("relevance", 0.75),
			attributes.Finding("verdict", "pass"),
			attributes.Finding("tokens", 12),
			attributes.Finding("safe", true),
		))
		s.AddEvent(attributes.EventEvaluationResult, trace.WithAttributes(
			attributes.GenAIEvaluationName.String("faithfulness"),
			attributes.GenAIEvaluationScoreValue.Float64(0.5),
			attributes.GenAIEvaluationScoreLabel.String("partial"),
			attributes.GenAIEvaluationExplanation.String("cites one source of two"),
		))
		s.AddEvent(attributes.EventEvaluationResult, trace.WithAttributes(
			attributes.GenAIEvaluationName.String("tone"),
			attributes.GenAIEvaluationScoreLabel.String("polite"),
		))
		// The span's own finding wins over an event of the same name.
		s.AddEvent(attributes.EventEvaluationResult, trace.WithAttributes(
			attributes.GenAIEvaluationName.String("verdict"),
			attributes.GenAIEvaluationScoreLabel.String("fail"),
		))
		// Without a name an event is no finding.
		s.AddEvent(attributes.EventEvaluationResult, trace.WithAttributes(attributes.GenAIEvaluationScoreValue.Float64(1)))
		s.End()
	}

	for _, on := range []bool{false, true} {
		var opts []exporter.Option
		if on {
			opts = append(opts, exporter.WithEvaluationEvents())
		}
		sink := export(t, record, opts...)
		spans := sink.Spans()
		require.Len(t, spans, 1)
		assert.Equal(t, map[string]string{
			"relevance": "float64:0.75", "verdict": "string:pass", "tokens": "int64:12", "safe": "bool:true",
			"faithfulness": "float64:0.5", "tone": "string:polite",
		}, attrsMap(spans[0].Findings), "evaluation events are read back into findings")

		type eval struct{ name, value, label string }
		var got []eval
		for _, ev := range sink.Events() {
			require.Equal(t, attributes.EventEvaluationResult, ev.Name)
			n, _ := ev.Attrs.Get(string(attributes.GenAIEvaluationName))
			v, _ := ev.Attrs.Get(string(attributes.GenAIEvaluationScoreValue))
			l, _ := ev.Attrs.Get(string(attributes.GenAIEvaluationScoreLabel))
			got = append(got, eval{n.String(), v.String(), l.String()})
		}
		incoming := []eval{{"faithfulness", "0.5", "partial"}, {"tone", "", "polite"}, {"verdict", "", "fail"}, {"", "1", ""}}
		expl, _ := sink.Events()[0].Attrs.Get(string(attributes.GenAIEvaluationExplanation))
		assert.Equal(t, "cites one source of two", expl.AsString(), "an incoming event keeps its explanation")
		if !on {
			assert.Equal(t, incoming, got, "the span's own events pass through")
			continue
		}
		assert.Equal(t, append(incoming,
			eval{"relevance", "0.75", ""}, eval{"verdict", "", "pass"}, eval{"tokens", "12", ""}, eval{"safe", "", "true"},
		), got, "each finding not read from an event becomes one, once")
		for _, ev := range sink.Events()[len(incoming):] {
			assert.Equal(t, spans[0].EndTime, ev.Time)
			assert.Equal(t, spans[0].SpanID, ev.SpanID)
			id, _ := ev.Attrs.Get(string(attributes.GenAIResponseID))
			assert.Equal(t, "chatcmpl-123", id.AsString(), "an evaluation names the response it judged")
		}
	}
}
