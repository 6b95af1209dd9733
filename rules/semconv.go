package rules

import "go.opentelemetry.io/otel/attribute"

// The third-party convention keys below are read by the presets alone:
// they live beside them, and the user-facing keys stay in package
// attributes.

// OpenTelemetry GenAI semantic convention keys read by the rule presets,
// beyond those in package attributes.
const (
	// GenAIProviderName names the GenAI provider ("openai",
	// "aws.bedrock"); it replaces the deprecated gen_ai.system.
	GenAIProviderName attribute.Key = "gen_ai.provider.name"
	// GenAIUsageCacheReadInputTokens counts input tokens served from a
	// provider-managed cache; they are included in input_tokens.
	GenAIUsageCacheReadInputTokens attribute.Key = "gen_ai.usage.cache_read.input_tokens"
	// GenAIUsageCacheCreationInputTokens counts input tokens written to a
	// provider-managed cache; they are included in input_tokens.
	GenAIUsageCacheCreationInputTokens attribute.Key = "gen_ai.usage.cache_creation.input_tokens"
	// GenAIUsageReasoningOutputTokens counts output tokens spent on
	// reasoning; they are included in output_tokens.
	GenAIUsageReasoningOutputTokens attribute.Key = "gen_ai.usage.reasoning.output_tokens"
	// GenAIUsagePromptTokens is the deprecated name of
	// gen_ai.usage.input_tokens.
	GenAIUsagePromptTokens attribute.Key = "gen_ai.usage.prompt_tokens"
	// GenAIUsageCompletionTokens is the deprecated name of
	// gen_ai.usage.output_tokens.
	GenAIUsageCompletionTokens attribute.Key = "gen_ai.usage.completion_tokens"
	// GenAIUsageCost is the cost of a call in USD as some instrumentations
	// (OpenLIT, Laminar) report it; it is not part of the conventions.
	GenAIUsageCost attribute.Key = "gen_ai.usage.cost"
)

// OpenInference semantic convention keys read by the openinference preset.
const (
	// OpenInferenceSpanKind is the kind of an OpenInference span: LLM,
	// CHAIN, RETRIEVER, EMBEDDING, TOOL, AGENT, ...
	OpenInferenceSpanKind attribute.Key = "openinference.span.kind"
	// OpenInferenceInputValue and OpenInferenceOutputValue are a span's
	// input and output (OpenInference), read by the evaluation dataset
	// export (package dataset).
	OpenInferenceInputValue  attribute.Key = "input.value"
	OpenInferenceOutputValue attribute.Key = "output.value"
	// SessionID is OpenInference's session (conversation) of a span.
	SessionID attribute.Key = "session.id"
	// LLMTokenCountPrompt counts the prompt (input) tokens.
	LLMTokenCountPrompt attribute.Key = "llm.token_count.prompt"
	// LLMTokenCountCompletion counts the completion (output) tokens.
	LLMTokenCountCompletion attribute.Key = "llm.token_count.completion"
	// LLMTokenCountTotal counts prompt and completion tokens together.
	LLMTokenCountTotal attribute.Key = "llm.token_count.total"
	// LLMTokenCountPromptCacheRead counts prompt tokens read from cache.
	LLMTokenCountPromptCacheRead attribute.Key = "llm.token_count.prompt_details.cache_read"
	// LLMTokenCountPromptCacheWrite counts prompt tokens written to cache.
	LLMTokenCountPromptCacheWrite attribute.Key = "llm.token_count.prompt_details.cache_write"
	// LLMTokenCountCompletionReasoning counts completion tokens spent on
	// reasoning.
	LLMTokenCountCompletionReasoning attribute.Key = "llm.token_count.completion_details.reasoning"
	// LLMModelName names the model of an OpenInference LLM span.
	LLMModelName attribute.Key = "llm.model_name"
	// LLMRequestModelName names the model the caller asked for.
	LLMRequestModelName attribute.Key = "llm.request.model_name"
	// LLMResponseModelName names the model that answered.
	LLMResponseModelName attribute.Key = "llm.response.model_name"
	// LLMProvider names the hosting provider ("openai", "azure").
	LLMProvider attribute.Key = "llm.provider"
	// LLMSystem names the AI product ("openai", "anthropic").
	LLMSystem attribute.Key = "llm.system"
	// LLMCostPrompt is the cost of the prompt tokens in USD.
	LLMCostPrompt attribute.Key = "llm.cost.prompt"
	// LLMCostCompletion is the cost of the completion tokens in USD.
	LLMCostCompletion attribute.Key = "llm.cost.completion"
	// LLMCostTotal is the cost of the call in USD.
	LLMCostTotal attribute.Key = "llm.cost.total"
)

// OpenLLMetry (Traceloop) keys read by the openllmetry preset.
const (
	// TraceloopSpanKind is the kind of a Traceloop span: workflow, task,
	// agent, tool.
	TraceloopSpanKind attribute.Key = "traceloop.span.kind"
	// LLMRequestType is the kind of LLM call: chat, completion,
	// embedding, rerank.
	LLMRequestType attribute.Key = "llm.request.type"
	// LLMUsagePromptTokens counts the prompt tokens (early OpenLLMetry).
	LLMUsagePromptTokens attribute.Key = "llm.usage.prompt_tokens"
	// LLMUsageCompletionTokens counts the completion tokens (early
	// OpenLLMetry).
	LLMUsageCompletionTokens attribute.Key = "llm.usage.completion_tokens"
	// LLMUsageTotalTokens counts prompt and completion tokens together.
	LLMUsageTotalTokens attribute.Key = "llm.usage.total_tokens"
	// GenAIUsageCacheReadInputTokensLegacy is the cache-read count as
	// OpenLLMetry spelled it before the conventions had one.
	GenAIUsageCacheReadInputTokensLegacy attribute.Key = "gen_ai.usage.cache_read_input_tokens"
	// GenAIUsageCacheCreationInputTokensLegacy is the cache-write count as
	// OpenLLMetry spelled it before the conventions had one.
	GenAIUsageCacheCreationInputTokensLegacy attribute.Key = "gen_ai.usage.cache_creation_input_tokens"
)

// GenAI content and conversation keys (opt-in content capture), read by
// the evaluation dataset export (package dataset).
const (
	GenAIInputMessages  attribute.Key = "gen_ai.input.messages"
	GenAIOutputMessages attribute.Key = "gen_ai.output.messages"
	GenAIConversationID attribute.Key = "gen_ai.conversation.id"
)
