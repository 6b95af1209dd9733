package rules_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

// TestPresetsOnFixtures runs the presets on spans shaped like those the
// GenAI, OpenInference and OpenLLMetry instrumentations emit
// (testdata/spans/*.json), each against the stage and findings it should give.
func TestPresetsOnFixtures(t *testing.T) {
	n := 0
	for _, f := range loadFixtures(t) {
		require.NotEmpty(t, f.Expect, "%s has no expectations", f.file)
		for _, e := range f.Expect {
			n++
			t.Run(strings.TrimSuffix(f.file, ".json")+"/"+strings.Join(e.Presets, "+"), func(t *testing.T) {
				set, err := rules.Compile(rules.Config{Presets: e.Presets})
				require.NoError(t, err)

				start := set.Start(f.startSpan())
				assert.Equal(t, e.StartStage, start.Stage, "stage at start")
				if set.StartStageOnly() {
					assert.Equal(t, e.StartStage, set.StartStage(f.Name, f.Kind, nil, kvs(f.Start)), "StartStage")
				}
				assert.Empty(t, start.Findings, "no findings at start")

				end := set.End(f.endSpan())
				assert.Equal(t, e.Stage, end.Stage, "stage at end")
				assert.Equal(t, attrsMap(e.Findings), attrsMap(end.Findings))
				assert.Len(t, end.Findings, len(attrsMap(end.Findings)), "a finding is never given twice")
			})
		}
	}
	assert.GreaterOrEqual(t, n, 10)
}

func TestPresetOrderIsPrecedence(t *testing.T) {
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetOpenLLMetry, rules.PresetGenAI, rules.PresetOpenInference}})
	require.NoError(t, err)
	assert.Equal(t, []string{rules.PresetGenAI, rules.PresetOpenInference, rules.PresetOpenLLMetry}, set.Presets())
	assert.Equal(t, rules.PresetNames(), set.Presets())

	// Own rules come before presets, so they win.
	set, err = rules.Compile(rules.Config{
		Rules: []rules.Rule{{
			Name:     "mine",
			Stage:    "generate",
			Findings: []rules.FindingAction{{Name: attributes.FindingInputTokens, From: "app.tokens.in"}},
		}},
		Presets: []string{rules.PresetGenAI},
	})
	require.NoError(t, err)
	r := set.End(&rules.SpanData{Attrs: stagetrace.Attrs{
		{Key: string(attributes.GenAIOperationName), Value: str("chat")},
		{Key: string(attributes.GenAIUsageInputTokens), Value: i64(10)},
		{Key: "app.tokens.in", Value: i64(11)},
	}})
	assert.Equal(t, "generate", r.Stage)
	v, _ := r.Findings.Get(attributes.FindingInputTokens)
	assert.Equal(t, int64(11), v.AsInt64())
}

// TestPresetInGo builds with rules.Preset what a file's presets give.
func TestPresetInGo(t *testing.T) {
	genai, err := rules.Preset(rules.PresetGenAI)
	require.NoError(t, err)
	oi, err := rules.Preset(rules.PresetOpenInference)
	require.NoError(t, err)
	fromGo, err := rules.New(append(genai, oi...)...)
	require.NoError(t, err)
	fromConfig, err := rules.Compile(rules.Config{Presets: []string{rules.PresetOpenInference, rules.PresetGenAI}})
	require.NoError(t, err)
	assert.Equal(t, fromConfig.Len(), fromGo.Len())
	for _, f := range loadFixtures(t) {
		assert.Equal(t, fromConfig.End(f.endSpan()), fromGo.End(f.endSpan()), f.file)
	}

	_, err = rules.Preset("langsmith")
	assert.ErrorContains(t, err, `unknown preset "langsmith" (known: genai, openinference, openllmetry)`)
	_, err = rules.Compile(rules.Config{Presets: []string{"genai", "genai"}})
	assert.ErrorContains(t, err, `presets[1]: preset "genai" listed twice`)
	_, err = rules.New(append(genai, genai...)...)
	assert.ErrorContains(t, err, "duplicate rule name", "a preset included twice is caught")
}

func TestOpenInferenceStageNames(t *testing.T) {
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetOpenInference}})
	require.NoError(t, err)
	for in, want := range map[string]string{
		"LLM": "chat", "CHAIN": "chain", "TOOL": "execute_tool", "AGENT": "invoke_agent", "EMBEDDING": "embeddings",
		"RETRIEVER": "retrieval", "RERANKER": "rerank", "GUARDRAIL": "guardrail", "EVALUATOR": "evaluation",
		"PROMPT": "prompt", "llm": "chat", "Custom": "custom", "UNKNOWN": "", "": "",
	} {
		span := &rules.SpanData{Attrs: stagetrace.Attrs{{Key: string(rules.OpenInferenceSpanKind), Value: str(in)}}}
		assert.Equal(t, want, set.Start(span).Stage, in)
	}
}

func TestOpenLLMetryStage(t *testing.T) {
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetOpenLLMetry}})
	require.NoError(t, err)
	cases := []struct {
		attrs stagetrace.Attrs
		want  string
	}{
		{stagetrace.Attrs{{Key: string(rules.TraceloopSpanKind), Value: str("task")}}, "task"},
		{stagetrace.Attrs{{Key: string(rules.LLMRequestType), Value: str("embedding")}}, "embeddings"},
		{stagetrace.Attrs{{Key: string(rules.LLMRequestType), Value: str("completion")}}, "text_completion"},
		{stagetrace.Attrs{{Key: string(rules.TraceloopSpanKind), Value: str("workflow")}}, "invoke_workflow"},
		{stagetrace.Attrs{{Key: string(rules.TraceloopSpanKind), Value: str("tool")}}, "execute_tool"},
		// 0.27 onwards: the GenAI operation name.
		{stagetrace.Attrs{{Key: string(attributes.GenAIOperationName), Value: str("chat")}}, "chat"},
		{stagetrace.Attrs{{Key: string(rules.LLMRequestType), Value: str("unknown")}, {Key: string(attributes.GenAIOperationName), Value: str("embeddings")}}, "embeddings"},
		{stagetrace.Attrs{{Key: string(rules.TraceloopSpanKind), Value: str("unknown")}, {Key: string(rules.LLMRequestType), Value: str("chat")}}, "chat"},
		{stagetrace.Attrs{{Key: string(rules.LLMRequestType), Value: str("unknown")}}, ""},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, set.Start(&rules.SpanData{Attrs: c.attrs}).Stage, "%v", c.attrs)
	}
}

// TestStageVocabulary: the same kind of call gets the same stage whichever
// convention described it, and a rule of one's own renames it.
func TestStageVocabulary(t *testing.T) {
	chats := map[string]stagetrace.Attrs{
		"openinference": {{Key: string(rules.OpenInferenceSpanKind), Value: str("LLM")}},
		"openllmetry":   {{Key: string(rules.LLMRequestType), Value: str("chat")}},
		"openllmetry ":  {{Key: string(attributes.GenAIOperationName), Value: str("chat")}},
		"genai":         {{Key: string(attributes.GenAIOperationName), Value: str("chat")}},
	}
	for preset, attrs := range chats {
		set, err := rules.Compile(rules.Config{Presets: []string{strings.TrimSpace(preset)}})
		require.NoError(t, err)
		assert.Equal(t, rules.StageChat, set.Start(&rules.SpanData{Attrs: attrs}).Stage, preset)
	}
	voc := rules.StageVocabulary()
	assert.Equal(t, rules.StageChat, voc["openinference.span.kind=LLM"])
	assert.Equal(t, rules.StageChat, voc["llm.request.type=chat"])
	assert.Equal(t, rules.StageEmbeddings, voc["llm.request.type=embedding"])
	assert.Equal(t, rules.StageEmbeddings, voc["openinference.span.kind=EMBEDDING"])

	set, err := rules.Load(strings.NewReader(`
presets: [openinference]
rules:
  - name: keep-llm
    match:
      attributes: [{key: openinference.span.kind, equals: LLM}]
    stage: llm
`), "override.yaml")
	require.NoError(t, err)
	assert.Equal(t, "llm", set.Start(&rules.SpanData{Attrs: chats["openinference"]}).Stage, "one's own rule comes before the presets")
}

// TestOpenLLMetryAfterGenAI: with the genai preset, the openllmetry
// preset's copies of the genai rows are left out (they could give nothing
// after the genai rows), and the findings are the same.
func TestOpenLLMetryAfterGenAI(t *testing.T) {
	genai, err := rules.Preset(rules.PresetGenAI)
	require.NoError(t, err)
	oll, err := rules.Preset(rules.PresetOpenLLMetry)
	require.NoError(t, err)
	both, err := rules.Compile(rules.Config{Presets: []string{rules.PresetOpenLLMetry, rules.PresetGenAI}})
	require.NoError(t, err)
	assert.Equal(t, len(genai)+len(oll)-2, both.Len())
	dup, err := rules.New(append(append([]rules.Rule(nil), genai...), oll...)...)
	require.NoError(t, err)
	for _, f := range loadFixtures(t) {
		assert.Equal(t, attrsMap(dup.End(f.endSpan()).Findings), attrsMap(both.End(f.endSpan()).Findings), f.file)
		assert.Equal(t, dup.End(f.endSpan()).Stage, both.End(f.endSpan()).Stage, f.file)
	}
}
