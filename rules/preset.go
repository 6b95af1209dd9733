package rules

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stagetrace/stagetrace/attributes"
)

// Names of the presets, in the order a Set applies them: that order is
// the precedence between conventions that report the same quantity.
const (
	PresetGenAI         = "genai"
	PresetOpenInference = "openinference"
	PresetOpenLLMetry   = "openllmetry"
)

var presetOrder = []string{PresetGenAI, PresetOpenInference, PresetOpenLLMetry}

// PresetNames returns the names of the presets, in precedence order.
func PresetNames() []string { return append([]string(nil), presetOrder...) }

// Preset returns the rules of the named preset, to pass to New after one's
// own rules. Presets given to New apply in the order given; a rules file
// (and Compile) applies them in precedence order whatever order they are
// listed in.
func Preset(name string) ([]Rule, error) {
	switch name {
	case PresetGenAI:
		return genAIRules(), nil
	case PresetOpenInference:
		return openInferenceRules(), nil
	case PresetOpenLLMetry:
		return openLLMetryRules(), nil
	}
	return nil, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(presetOrder, ", "))
}

// canonicalPresets checks names and returns them in precedence order.
func canonicalPresets(names []string) ([]string, error) {
	want := make(map[string]bool, len(names))
	for i, n := range names {
		if _, err := Preset(n); err != nil {
			return nil, fieldErr(fmt.Sprintf("presets[%d]", i), err)
		}
		if want[n] {
			return nil, fieldErr(fmt.Sprintf("presets[%d]", i), fmt.Errorf("preset %q listed twice", n))
		}
		want[n] = true
	}
	var out []string
	for _, n := range presetOrder {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func presetRules(names []string) []Rule {
	var out []Rule
	for _, n := range names {
		rs, _ := Preset(n)
		out = append(out, rs...)
	}
	return out
}

func from(name string, key attribute.Key) FindingAction {
	return FindingAction{Name: name, From: string(key)}
}

// genAIRules maps the OpenTelemetry GenAI conventions. Current keys come
// before deprecated ones, so that a span carrying both is counted once,
// from the current key.
func genAIRules() []Rule {
	return []Rule{
		{
			Name:      "genai.operation",
			StageFrom: string(attributes.GenAIOperationName),
		},
		{
			Name: "genai.usage",
			Findings: []FindingAction{
				from(attributes.FindingInputTokens, attributes.GenAIUsageInputTokens),
				from(attributes.FindingOutputTokens, attributes.GenAIUsageOutputTokens),
				from(attributes.FindingCacheReadInputTokens, GenAIUsageCacheReadInputTokens),
				from(attributes.FindingCacheCreationInputTokens, GenAIUsageCacheCreationInputTokens),
				from(attributes.FindingReasoningOutputTokens, GenAIUsageReasoningOutputTokens),
				from(attributes.FindingModel, attributes.GenAIResponseModel),
				from(attributes.FindingModel, attributes.GenAIRequestModel),
				from(attributes.FindingFinishReasons, attributes.GenAIResponseFinishReasons),
				from(attributes.FindingProvider, GenAIProviderName),
			},
		},
		{
			Name: "genai.deprecated",
			Findings: []FindingAction{
				from(attributes.FindingInputTokens, GenAIUsagePromptTokens),
				from(attributes.FindingOutputTokens, GenAIUsageCompletionTokens),
				from(attributes.FindingProvider, attributes.GenAISystem),
			},
		},
	}
}

// openInferenceKinds maps the span kinds of the OpenInference spec to
// stage names without allocating; other values are lowercased.
var openInferenceKinds = map[string]string{
	"LLM": "llm", "EMBEDDING": "embedding", "CHAIN": "chain", "RETRIEVER": "retriever",
	"RERANKER": "reranker", "TOOL": "tool", "AGENT": "agent", "GUARDRAIL": "guardrail",
	"EVALUATOR": "evaluator", "PROMPT": "prompt",
}

func openInferenceStage(s Span) (string, bool) {
	v, ok := s.Attribute(string(OpenInferenceSpanKind))
	if !ok || v.AsString() == "" {
		return "", false
	}
	k := v.AsString()
	if st, ok := openInferenceKinds[k]; ok {
		return st, true
	}
	if strings.EqualFold(k, "UNKNOWN") {
		return "", false
	}
	return strings.ToLower(k), true
}

// openInferenceRules maps the OpenInference conventions (Arize Phoenix,
// the openinference-instrumentation-* packages).
func openInferenceRules() []Rule {
	return []Rule{
		{
			Name:      "openinference.span_kind",
			StageFunc: openInferenceStage,
		},
		{
			Name: "openinference.usage",
			Findings: []FindingAction{
				from(attributes.FindingInputTokens, LLMTokenCountPrompt),
				from(attributes.FindingOutputTokens, LLMTokenCountCompletion),
				from(attributes.FindingTotalTokens, LLMTokenCountTotal),
				from(attributes.FindingCacheReadInputTokens, LLMTokenCountPromptCacheRead),
				from(attributes.FindingCacheCreationInputTokens, LLMTokenCountPromptCacheWrite),
				from(attributes.FindingReasoningOutputTokens, LLMTokenCountCompletionReasoning),
				from(attributes.FindingModel, LLMResponseModelName),
				from(attributes.FindingModel, LLMModelName),
				from(attributes.FindingModel, LLMRequestModelName),
				from(attributes.FindingProvider, LLMProvider),
				from(attributes.FindingProvider, LLMSystem),
				from(attributes.FindingInputCost, LLMCostPrompt),
				from(attributes.FindingOutputCost, LLMCostCompletion),
			},
		},
	}
}

func openLLMetryStage(s Span) (string, bool) {
	for _, k := range [...]attribute.Key{TraceloopSpanKind, LLMRequestType} {
		if v, ok := s.Attribute(string(k)); ok {
			if st := v.AsString(); st != "" && st != "unknown" {
				return st, true
			}
		}
	}
	return "", false
}

// openLLMetryRules maps OpenLLMetry (Traceloop). For most quantities its
// LLM spans carry GenAI keys, current or deprecated by version, rather than
// keys of its own: the preset reads those too so that it works alone. With
// the genai preset, the genai rules come first and give the same values.
func openLLMetryRules() []Rule {
	return []Rule{
		{
			Name:      "openllmetry.span_kind",
			StageFunc: openLLMetryStage,
		},
		{
			Name: "openllmetry.usage",
			Findings: []FindingAction{
				from(attributes.FindingInputTokens, attributes.GenAIUsageInputTokens),
				from(attributes.FindingInputTokens, GenAIUsagePromptTokens),
				from(attributes.FindingInputTokens, LLMUsagePromptTokens),
				from(attributes.FindingOutputTokens, attributes.GenAIUsageOutputTokens),
				from(attributes.FindingOutputTokens, GenAIUsageCompletionTokens),
				from(attributes.FindingOutputTokens, LLMUsageCompletionTokens),
				from(attributes.FindingTotalTokens, LLMUsageTotalTokens),
				from(attributes.FindingCacheReadInputTokens, GenAIUsageCacheReadInputTokensLegacy),
				from(attributes.FindingCacheCreationInputTokens, GenAIUsageCacheCreationInputTokensLegacy),
				from(attributes.FindingModel, attributes.GenAIResponseModel),
				from(attributes.FindingModel, attributes.GenAIRequestModel),
				from(attributes.FindingProvider, attributes.GenAISystem),
			},
		},
	}
}
