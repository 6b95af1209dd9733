package rules

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/stagetrace/stagetrace/attributes"
)

// The third-party convention keys below are read by the presets alone:
// they live beside them, and the user-facing keys stay in package
// attributes.

// OpenTelemetry GenAI semantic convention keys read by the rule presets:
// those beyond package attributes, and GenAIProviderName, kept here under
// its old name as the same constant.
const (
	// GenAIProviderName is attributes.GenAIProviderName, which the
	// monitor and the stores read too.
	GenAIProviderName = attributes.GenAIProviderName
	// GenAIUsageCacheReadInputTokens counts input tokens served from a
	// provider-managed cache; they are included in input_tokens.
	GenAIUsageCacheReadInputTokens attribute.Key = "gen_ai.usage.cache_read.input_tokens"
	// GenAIUsageCacheWriteInputTokens counts input tokens written to a
	// provider-managed cache; they are included in input_tokens.
	GenAIUsageCacheWriteInputTokens attribute.Key = "gen_ai.usage.cache_write.input_tokens"
	// GenAIUsageCacheCreationInputTokens is the name
	// gen_ai.usage.cache_write.input_tokens had before the conventions
	// renamed it.
	GenAIUsageCacheCreationInputTokens attribute.Key = "gen_ai.usage.cache_creation.input_tokens"
	// GenAIUsageReasoningOutputTokens counts output tokens spent on
	// reasoning; they are included in output_tokens.
	GenAIUsageReasoningOutputTokens attribute.Key = "gen_ai.usage.reasoning.output_tokens"
	// GenAIResponseTimeToFirstChunk is the seconds from the request to
	// the first chunk of a streamed response (float64).
	GenAIResponseTimeToFirstChunk attribute.Key = "gen_ai.response.time_to_first_chunk"
	// GenAIConversationID names the conversation (session, thread).
	GenAIConversationID attribute.Key = "gen_ai.conversation.id"
	// GenAIAgentName names the agent; GenAIAgentID identifies it.
	GenAIAgentName attribute.Key = "gen_ai.agent.name"
	GenAIAgentID   attribute.Key = "gen_ai.agent.id"
	// GenAIToolName names the tool an execute_tool span runs.
	GenAIToolName attribute.Key = "gen_ai.tool.name"
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
	// LLMTokenCountPromptAudio counts audio prompt tokens.
	LLMTokenCountPromptAudio attribute.Key = "llm.token_count.prompt_details.audio"
	// LLMTokenCountCompletionAudio counts audio completion tokens.
	LLMTokenCountCompletionAudio attribute.Key = "llm.token_count.completion_details.audio"
	// LLMFinishReason is why the model stopped, one string (OpenInference
	// JS 4.x).
	LLMFinishReason attribute.Key = "llm.finish_reason"
	// EmbeddingModelName names the model of an OpenInference EMBEDDING
	// span.
	EmbeddingModelName attribute.Key = "embedding.model_name"
	// SessionID names the conversation an OpenInference span belongs to.
	SessionID attribute.Key = "session.id"
	// UserID names the end user of an OpenInference span.
	UserID attribute.Key = "user.id"
	// ToolName names the tool of an OpenInference TOOL span.
	ToolName attribute.Key = "tool.name"
	// AgentName names the agent of an OpenInference AGENT span.
	AgentName attribute.Key = "agent.name"
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
	// GenAIUsageTotalTokens counts input and output tokens together, as
	// OpenLLMetry 0.27 records it; the conventions have no such key.
	GenAIUsageTotalTokens attribute.Key = "gen_ai.usage.total_tokens"
	// TraceloopSessionID and TraceloopUserID are the session and user
	// association properties of the Traceloop SDK.
	TraceloopSessionID attribute.Key = "traceloop.association.properties.session_id"
	TraceloopUserID    attribute.Key = "traceloop.association.properties.user_id"
	// GenAIUsageCacheReadInputTokensLegacy is the cache-read count as
	// OpenLLMetry spelled it before the conventions had one.
	GenAIUsageCacheReadInputTokensLegacy attribute.Key = "gen_ai.usage.cache_read_input_tokens"
	// GenAIUsageCacheCreationInputTokensLegacy is the cache-write count as
	// OpenLLMetry spelled it before the conventions had one.
	GenAIUsageCacheCreationInputTokensLegacy attribute.Key = "gen_ai.usage.cache_creation_input_tokens"
)

// Per-modality token counts of the GenAI conventions (text, image, audio
// and video input; text and audio output): each is included in
// the input or output total of its direction.
const (
	GenAIUsageTextInputTokens   attribute.Key = "gen_ai.usage.text.input_tokens"
	GenAIUsageImageInputTokens  attribute.Key = "gen_ai.usage.image.input_tokens"
	GenAIUsageAudioInputTokens  attribute.Key = "gen_ai.usage.audio.input_tokens"
	GenAIUsageVideoInputTokens  attribute.Key = "gen_ai.usage.video.input_tokens"
	GenAIUsageTextOutputTokens  attribute.Key = "gen_ai.usage.text.output_tokens"
	GenAIUsageAudioOutputTokens attribute.Key = "gen_ai.usage.audio.output_tokens"
)

// GenAI content keys (opt-in content capture), read by the evaluation
// dataset export (package dataset).
const (
	GenAIInputMessages  attribute.Key = "gen_ai.input.messages"
	GenAIOutputMessages attribute.Key = "gen_ai.output.messages"
)
