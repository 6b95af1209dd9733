package rules_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/benchpair"
	"github.com/stagetrace/stagetrace/rules"
)

// twentyRules is a rule set of the size and shape a pipeline declares:
// name globs of each fast path, regexes, scopes and kinds, attribute
// tests, and finding rules.
func twentyRules(t testing.TB) *rules.Set {
	t.Helper()
	g, re := rules.Glob, rules.Regex
	internal := []stagetrace.SpanKind{stagetrace.SpanKindInternal}
	client := []stagetrace.SpanKind{stagetrace.SpanKindClient}
	kind := string(rules.OpenInferenceSpanKind)
	rs := []rules.Rule{
		{Name: "retrieve", Match: rules.Match{SpanName: g("retrieve *")}, Stage: "retrieval"},
		{Name: "rerank", Match: rules.Match{SpanName: g("rerank*")}, Stage: "rerank"},
		{Name: "embed", Match: rules.Match{SpanName: g("*.embed")}, Stage: "embedding"},
		{Name: "tool", Match: rules.Match{SpanName: g("*tool*")}, Stage: "tool"},
		{Name: "agent", Match: rules.Match{SpanName: g("agent*step")}, Stage: "agent"},
		{Name: "guard", Match: rules.Match{SpanName: g("guard?ail *")}, Stage: "guardrail"},
		{Name: "http", Match: rules.Match{SpanName: re(`^(GET|POST) /v\d+/`), SpanKinds: client}, Stage: "http"},
		{Name: "sql", Match: rules.Match{SpanName: re(`(?i)^select\b`)}, Stage: "db"},
		{Name: "langchain", Match: rules.Match{Scope: g("openinference.instrumentation.langchain"), SpanKinds: internal}, Stage: "chain"},
		{Name: "openai-v2", Match: rules.Match{Scope: g("opentelemetry.instrumentation.openai*"), SpanKinds: client}, Stage: "chat"},
		{Name: "oi-chain", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals(kind, stagetrace.StringValue("CHAIN"))}}, Stage: "chain"},
		{Name: "oi-retriever", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrEquals(kind, stagetrace.StringValue("RETRIEVER"))}}, Stage: "retrieval"},
		{Name: "oi-llm", Match: rules.Match{Scope: g("openinference.*"), Attributes: []rules.AttributeCondition{rules.AttrEquals(kind, stagetrace.StringValue("LLM"))}}, Stage: "llm"},
		{Name: "gpt4", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrMatches(string(rules.LLMModelName), `^gpt-4`)}},
			Attributes: []rules.AttributeAction{{Attribute: "app.model.family", Value: stagetrace.StringValue("gpt-4")}}},
		{Name: "tenant", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists("app.tenant")}},
			Findings: []rules.FindingAction{{Name: "tenant", From: "app.tenant"}}},
		{Name: "prompt-tokens", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists(string(rules.LLMTokenCountPrompt))}},
			Findings: []rules.FindingAction{{Name: attributes.FindingInputTokens, From: string(rules.LLMTokenCountPrompt)}}},
		{Name: "completion-tokens", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists(string(rules.LLMTokenCountCompletion))}},
			Findings: []rules.FindingAction{{Name: attributes.FindingOutputTokens, From: string(rules.LLMTokenCountCompletion)}}},
		{Name: "model", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrGlob(string(rules.LLMModelName), "gpt-*")}},
			Findings: []rules.FindingAction{{Name: attributes.FindingModel, From: string(rules.LLMModelName)}}},
		{Name: "cache", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists(string(rules.LLMTokenCountPromptCacheRead))}},
			Findings: []rules.FindingAction{{Name: attributes.FindingCacheReadInputTokens, From: string(rules.LLMTokenCountPromptCacheRead)}}},
		{Name: "errors", Match: rules.Match{Attributes: []rules.AttributeCondition{rules.AttrExists("error.type")}},
			Findings: []rules.FindingAction{{Name: "error", From: "error.type"}}},
	}
	require.Len(t, rs, 20)
	set, err := rules.New(rs...)
	require.NoError(t, err)
	return set
}

// benchSpan is an OpenInference LLM span with 15 attributes.
func benchSpan() *rules.SpanData {
	return &rules.SpanData{
		SpanName:  "OpenAI.chat",
		ScopeName: "openinference.instrumentation.llama_index",
		SpanKind:  stagetrace.SpanKindInternal,
		Attrs: stagetrace.Attrs{
			{Key: string(rules.OpenInferenceSpanKind), Value: stagetrace.StringValue("LLM")},
			{Key: string(rules.LLMModelName), Value: stagetrace.StringValue("gpt-4o-mini")},
			{Key: string(rules.LLMProvider), Value: stagetrace.StringValue("openai")},
			{Key: string(rules.LLMSystem), Value: stagetrace.StringValue("openai")},
			{Key: "llm.invocation_parameters", Value: stagetrace.StringValue(`{"temperature": 0.1}`)},
			{Key: "llm.input_messages.0.message.role", Value: stagetrace.StringValue("system")},
			{Key: "llm.input_messages.0.message.content", Value: stagetrace.StringValue("You are an expert Q&A system.")},
			{Key: "llm.input_messages.1.message.role", Value: stagetrace.StringValue("user")},
			{Key: "llm.input_messages.1.message.content", Value: stagetrace.StringValue("What did the author do?")},
			{Key: "llm.output_messages.0.message.role", Value: stagetrace.StringValue("assistant")},
			{Key: "output.value", Value: stagetrace.StringValue("The author wrote short stories.")},
			{Key: string(rules.LLMTokenCountPrompt), Value: stagetrace.Int64Value(431)},
			{Key: string(rules.LLMTokenCountCompletion), Value: stagetrace.Int64Value(58)},
			{Key: string(rules.LLMTokenCountTotal), Value: stagetrace.Int64Value(489)},
			{Key: "app.tenant", Value: stagetrace.StringValue("acme")},
		},
	}
}

// BenchmarkRules20 measures evaluating 20 rules on one 15-attribute span:
// the cost per span of rule matching at start (processor) and at end
// (exporter), with the Result reused as the processor and exporter do.
func BenchmarkRules20(b *testing.B) {
	benchPhases(b, twentyRules(b))
}

// BenchmarkPresets measures the three presets on the same span.
func BenchmarkPresets(b *testing.B) {
	set, err := rules.Compile(rules.Config{Presets: rules.PresetNames()})
	require.NoError(b, err)
	benchPhases(b, set)
}

// benchPhases evaluates set on benchSpan in each phase. Besides wall time
// it reports process CPU time (cpu-ns/op), which does not grow when other
// processes take the CPU.
func benchPhases(b *testing.B, set *rules.Set) {
	span := benchSpan()
	for _, c := range []struct {
		name  string
		phase rules.Phase
	}{{"start", rules.PhaseStart}, {"end", rules.PhaseEnd}} {
		b.Run(c.name, func(b *testing.B) {
			var r rules.Result
			b.ReportAllocs()
			cpu0, cpuOK := benchpair.ProcessCPUTime()
			for b.Loop() {
				set.Eval(c.phase, span, &r)
			}
			if cpu1, ok := benchpair.ProcessCPUTime(); cpuOK && ok {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkApply measures the export-time hook: presets, then cost, on a
// mapped span.
func BenchmarkApply(b *testing.B) {
	set, err := rules.Compile(rules.Config{
		Presets: rules.PresetNames(),
		Prices:  &rules.Prices{Models: []rules.ModelPrice{{Model: "gpt-4o-mini*", Input: 0.15, Output: 0.6}}},
	})
	require.NoError(b, err)
	src := benchSpan()
	b.ReportAllocs()
	for b.Loop() {
		s := stagetrace.StageSpan{Name: src.SpanName, Scope: src.ScopeName, Kind: src.SpanKind, Attrs: src.Attrs}
		set.Apply(&s)
	}
}
