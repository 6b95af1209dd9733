package attributes

import "go.opentelemetry.io/otel/attribute"

// OpenTelemetry GenAI semantic convention keys read by the rule presets
// (package rules), beyond those in keys.go.
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

// GenAI evaluation events: the result of evaluating a GenAI output, as a
// span event on the span evaluated.
const (
	// EventEvaluationResult is the name of a GenAI evaluation event.
	EventEvaluationResult = "gen_ai.evaluation.result"
	// GenAIEvaluationName names what was evaluated (the metric).
	GenAIEvaluationName attribute.Key = "gen_ai.evaluation.name"
	// GenAIEvaluationScoreValue is the numeric result (float64).
	GenAIEvaluationScoreValue attribute.Key = "gen_ai.evaluation.score.value"
	// GenAIEvaluationScoreLabel is the categorical result ("pass", ...).
	GenAIEvaluationScoreLabel attribute.Key = "gen_ai.evaluation.score.label"
)

// OpenInference semantic convention keys read by the openinference preset.
const (
	// OpenInferenceSpanKind is the kind of an OpenInference span: LLM,
	// CHAIN, RETRIEVER, EMBEDDING, TOOL, AGENT, ...
	OpenInferenceSpanKind attribute.Key = "openinference.span.kind"
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

// Names of the findings the rule presets and the cost computation record,
// beyond FindingInputTokens and FindingOutputTokens.
const (
	// FindingCacheReadInputTokens counts input tokens read from cache.
	FindingCacheReadInputTokens = "cache_read_input_tokens"
	// FindingCacheCreationInputTokens counts input tokens written to cache.
	FindingCacheCreationInputTokens = "cache_creation_input_tokens"
	// FindingReasoningOutputTokens counts output tokens spent reasoning.
	FindingReasoningOutputTokens = "reasoning_output_tokens"
	// FindingTotalTokens counts input and output tokens together, as the
	// instrumentation reported it.
	FindingTotalTokens = "total_tokens"
	// FindingModel names the model that answered, else the one asked for.
	FindingModel = "model"
	// FindingProvider names the GenAI provider.
	FindingProvider = "provider"
	// FindingFinishReasons lists why the model stopped generating.
	FindingFinishReasons = "finish_reasons"
	// FindingInputCost is the provider-reported cost of the input tokens.
	FindingInputCost = "input_cost"
	// FindingOutputCost is the provider-reported cost of the output tokens.
	FindingOutputCost = "output_cost"
	// FindingCost is what a span cost, in units of FindingCostCurrency,
	// rounded to a billionth (see rules.TotalCost for exact sums).
	FindingCost = "cost"
	// FindingCostSource says where the cost came from: CostSourceProvider
	// or CostSourceComputed.
	FindingCostSource = "cost_source"
	// FindingCostCurrency is the ISO 4217 code of the cost's currency.
	FindingCostCurrency = "cost_currency"
	// FindingCostError says why a span that used tokens has no cost.
	FindingCostError = "cost_error"
)

// Values of the cost_source finding.
const (
	// CostSourceProvider marks a cost the span carried as an attribute.
	CostSourceProvider = "provider"
	// CostSourceComputed marks a cost computed from tokens and prices.
	CostSourceComputed = "computed"
)
