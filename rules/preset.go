package rules

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stagetrace/stagetrace"
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
	genai := false
	for _, n := range names {
		rs, _ := Preset(n)
		if n == PresetGenAI {
			genai = true
		}
		for _, r := range rs {
			// The openllmetry preset repeats the genai rows so that it
			// works alone; after the genai preset's own rows they can give
			// nothing, and would only cost their lookups.
			if genai && (r.Name == openLLMetryGenAI || r.Name == openLLMetryGenAIDeprecated) {
				continue
			}
			out = append(out, r)
		}
	}
	return out
}

// Names of the openllmetry rules that repeat the genai preset's.
const (
	openLLMetryGenAI           = "openllmetry.genai"
	openLLMetryGenAIDeprecated = "openllmetry.genai_deprecated"
)

func from(name string, key attribute.Key) FindingAction {
	return FindingAction{Name: name, From: string(key)}
}

// genAIUsage are the findings of the GenAI conventions, current keys
// before the names they replaced, so that a span carrying both is counted
// once, from the current key. The openllmetry preset reads them too.
func genAIUsage() []FindingAction {
	return []FindingAction{
		from(attributes.FindingInputTokens, attributes.GenAIUsageInputTokens),
		from(attributes.FindingOutputTokens, attributes.GenAIUsageOutputTokens),
		from(attributes.FindingCacheReadInputTokens, GenAIUsageCacheReadInputTokens),
		from(attributes.FindingCacheCreationInputTokens, GenAIUsageCacheWriteInputTokens),
		from(attributes.FindingCacheCreationInputTokens, GenAIUsageCacheCreationInputTokens),
		from(attributes.FindingReasoningOutputTokens, GenAIUsageReasoningOutputTokens),
		from(attributes.FindingTextInputTokens, GenAIUsageTextInputTokens),
		from(attributes.FindingImageInputTokens, GenAIUsageImageInputTokens),
		from(attributes.FindingAudioInputTokens, GenAIUsageAudioInputTokens),
		from(attributes.FindingVideoInputTokens, GenAIUsageVideoInputTokens),
		from(attributes.FindingTextOutputTokens, GenAIUsageTextOutputTokens),
		from(attributes.FindingAudioOutputTokens, GenAIUsageAudioOutputTokens),
		from(attributes.FindingModel, attributes.GenAIResponseModel),
		from(attributes.FindingModel, attributes.GenAIRequestModel),
		from(attributes.FindingFinishReasons, attributes.GenAIResponseFinishReasons),
		from(attributes.FindingProvider, GenAIProviderName),
		from(attributes.FindingResponseID, attributes.GenAIResponseID),
		from(attributes.FindingTimeToFirstChunk, GenAIResponseTimeToFirstChunk),
		from(attributes.FindingSessionID, GenAIConversationID),
		from(attributes.FindingAgentName, GenAIAgentName),
		from(attributes.FindingAgentID, GenAIAgentID),
		from(attributes.FindingToolName, GenAIToolName),
	}
}

// genAIDeprecated are the findings from keys the GenAI conventions
// deprecated, after every current key.
func genAIDeprecated() []FindingAction {
	return []FindingAction{
		from(attributes.FindingInputTokens, GenAIUsagePromptTokens),
		from(attributes.FindingOutputTokens, GenAIUsageCompletionTokens),
		from(attributes.FindingProvider, attributes.GenAISystem),
	}
}

// genAIRules maps the OpenTelemetry GenAI conventions as the
// semantic-conventions-genai repository defines them.
func genAIRules() []Rule {
	return []Rule{
		// The operation name as it is (see genAIStage); a StageFrom, not a
		// StageFunc, so that the start phase is known to read attributes
		// only and the processor's Sampler can place spans.
		{Name: "genai.operation", StageFrom: string(attributes.GenAIOperationName)},
		{Name: "genai.usage", Findings: genAIUsage()},
		{Name: "genai.deprecated", Findings: genAIDeprecated()},
	}
}

// stringList gives a one-string attribute as a list of one, as
// finish_reasons is a list whichever convention reported it.
func stringList(key attribute.Key) func(Span) (stagetrace.Value, bool) {
	return func(s Span) (stagetrace.Value, bool) {
		v, ok := s.Attribute(string(key))
		switch {
		case !ok:
			return stagetrace.Value{}, false
		case v.Kind() == stagetrace.KindString && v.AsString() != "":
			return stagetrace.StringSliceValue([]string{v.AsString()}), true
		case v.Kind() == stagetrace.KindStringSlice:
			return v, true
		}
		return stagetrace.Value{}, false
	}
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
				from(attributes.FindingAudioInputTokens, LLMTokenCountPromptAudio),
				from(attributes.FindingAudioOutputTokens, LLMTokenCountCompletionAudio),
				from(attributes.FindingModel, LLMResponseModelName),
				from(attributes.FindingModel, LLMModelName),
				from(attributes.FindingModel, LLMRequestModelName),
				from(attributes.FindingModel, EmbeddingModelName),
				{Name: attributes.FindingFinishReasons, Func: stringList(LLMFinishReason)},
				from(attributes.FindingProvider, LLMProvider),
				from(attributes.FindingProvider, LLMSystem),
				from(attributes.FindingSessionID, SessionID),
				from(attributes.FindingUserID, UserID),
				from(attributes.FindingToolName, ToolName),
				from(attributes.FindingAgentName, AgentName),
				from(attributes.FindingInputCost, LLMCostPrompt),
				from(attributes.FindingOutputCost, LLMCostCompletion),
			},
		},
	}
}

// openLLMetryRules maps OpenLLMetry (Traceloop). Its LLM spans carry the
// GenAI keys (0.27 onwards: gen_ai.operation.name, gen_ai.provider.name)
// or their deprecated and legacy spellings (earlier releases), beside a
// few keys of its own: the preset reads them all so that it works alone.
// With the genai preset, the genai rules come first and give the same
// values.
func openLLMetryRules() []Rule {
	usage := []FindingAction{
		from(attributes.FindingInputTokens, LLMUsagePromptTokens),
		from(attributes.FindingOutputTokens, LLMUsageCompletionTokens),
		from(attributes.FindingTotalTokens, GenAIUsageTotalTokens),
		from(attributes.FindingTotalTokens, LLMUsageTotalTokens),
		from(attributes.FindingCacheReadInputTokens, GenAIUsageCacheReadInputTokensLegacy),
		from(attributes.FindingCacheCreationInputTokens, GenAIUsageCacheCreationInputTokensLegacy),
		from(attributes.FindingSessionID, TraceloopSessionID),
		from(attributes.FindingUserID, TraceloopUserID),
	}
	return []Rule{
		{Name: "openllmetry.span_kind", StageFunc: openLLMetryStage},
		{Name: openLLMetryGenAI, Findings: genAIUsage()},
		{Name: openLLMetryGenAIDeprecated, Findings: genAIDeprecated()},
		{Name: "openllmetry.usage", Findings: usage},
	}
}
