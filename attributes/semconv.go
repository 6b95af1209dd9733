package attributes

import "go.opentelemetry.io/otel/attribute"

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
	// GenAIEvaluationExplanation is the evaluator's free-form reason for
	// the score.
	GenAIEvaluationExplanation attribute.Key = "gen_ai.evaluation.explanation"
	// GenAIResponseID identifies the completion evaluated (on an
	// evaluation event) or returned (on a span): "chatcmpl-123".
	GenAIResponseID attribute.Key = "gen_ai.response.id"
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
	// Per-modality token counts: each is part of input_tokens or
	// output_tokens and is not added to any total again.
	FindingTextInputTokens   = "text_input_tokens"
	FindingImageInputTokens  = "image_input_tokens"
	FindingAudioInputTokens  = "audio_input_tokens"
	FindingVideoInputTokens  = "video_input_tokens"
	FindingTextOutputTokens  = "text_output_tokens"
	FindingAudioOutputTokens = "audio_output_tokens"
	// FindingResponseID is the provider's identifier of the response
	// ("chatcmpl-123").
	FindingResponseID = "response_id"
	// FindingTimeToFirstChunk is the seconds from the request to the
	// first chunk of a streamed response.
	FindingTimeToFirstChunk = "time_to_first_chunk"
	// FindingSessionID names the conversation (session, thread) the call
	// belongs to.
	FindingSessionID = "session_id"
	// FindingUserID names the end user the call was made for.
	FindingUserID = "user_id"
	// FindingAgentName names the GenAI agent a span invokes or runs in.
	FindingAgentName = "agent_name"
	// FindingAgentID identifies the GenAI agent.
	FindingAgentID = "agent_id"
	// FindingToolName names the tool a span executes.
	FindingToolName = "tool_name"
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
