package rules

import (
	"strings"

	"github.com/stagetrace/stagetrace/attributes"
)

// The stage vocabulary: the stages the presets give, whichever convention
// described the call. They are the operation names of the GenAI semantic
// conventions, so that a chat call is in stage "chat" whether OpenInference
// (span kind LLM), OpenLLMetry (llm.request.type chat) or the GenAI
// conventions (gen_ai.operation.name chat) described it. A stage the
// conventions do not name (an OpenInference CHAIN, a Traceloop task) keeps
// the convention's own name, lowercased. A rule of one's own, which comes
// before the presets, gives a span another stage.
const (
	StageChat            = "chat"
	StageTextCompletion  = "text_completion"
	StageGenerateContent = "generate_content"
	StageEmbeddings      = "embeddings"
	StageRetrieval       = "retrieval"
	StageRerank          = "rerank"
	StageExecuteTool     = "execute_tool"
	StageCreateAgent     = "create_agent"
	StageInvokeAgent     = "invoke_agent"
	StageInvokeWorkflow  = "invoke_workflow"
	StageGuardrail       = "guardrail"
	StageEvaluation      = "evaluation"
)

// openInferenceStages maps the span kinds of the OpenInference
// specification to the vocabulary; other kinds are lowercased.
var openInferenceStages = map[string]string{
	"LLM":       StageChat,
	"EMBEDDING": StageEmbeddings,
	"RETRIEVER": StageRetrieval,
	"RERANKER":  StageRerank,
	"TOOL":      StageExecuteTool,
	"AGENT":     StageInvokeAgent,
	"GUARDRAIL": StageGuardrail,
	"EVALUATOR": StageEvaluation,
	"CHAIN":     "chain",
	"PROMPT":    "prompt",
}

// openLLMetryRequestTypes maps OpenLLMetry's llm.request.type values to
// the vocabulary; other values are kept.
var openLLMetryRequestTypes = map[string]string{
	"chat":       StageChat,
	"completion": StageTextCompletion,
	"embedding":  StageEmbeddings,
	"rerank":     StageRerank,
}

// openLLMetrySpanKinds maps OpenLLMetry's traceloop.span.kind values to
// the vocabulary; other values (task) are kept.
var openLLMetrySpanKinds = map[string]string{
	"workflow": StageInvokeWorkflow,
	"agent":    StageInvokeAgent,
	"tool":     StageExecuteTool,
}

// StageVocabulary returns, for each convention value the presets read, the
// stage they give: "openinference.span.kind=LLM" → "chat". It is the table
// docs/rules.md prints, for tools and tests.
func StageVocabulary() map[string]string {
	out := make(map[string]string)
	for k, v := range openInferenceStages {
		out[string(OpenInferenceSpanKind)+"="+k] = v
	}
	for k, v := range openLLMetryRequestTypes {
		out[string(LLMRequestType)+"="+k] = v
	}
	for k, v := range openLLMetrySpanKinds {
		out[string(TraceloopSpanKind)+"="+k] = v
	}
	return out
}

func openInferenceStage(s Span) (string, bool) {
	v, ok := s.Attribute(string(OpenInferenceSpanKind))
	if !ok || v.AsString() == "" {
		return "", false
	}
	k := v.AsString()
	if st, ok := openInferenceStages[k]; ok {
		return st, true
	}
	if strings.EqualFold(k, "UNKNOWN") {
		return "", false
	}
	if st, ok := openInferenceStages[strings.ToUpper(k)]; ok {
		return st, true
	}
	return strings.ToLower(k), true
}

// openLLMetryStage reads, in order, traceloop.span.kind (set by the SDK's
// decorators), llm.request.type (releases before 0.27) and
// gen_ai.operation.name (0.27 onwards).
func openLLMetryStage(s Span) (string, bool) {
	if v, ok := s.Attribute(string(TraceloopSpanKind)); ok {
		if k := v.AsString(); k != "" && k != "unknown" {
			if st, ok := openLLMetrySpanKinds[k]; ok {
				return st, true
			}
			return k, true
		}
	}
	if v, ok := s.Attribute(string(LLMRequestType)); ok {
		if k := v.AsString(); k != "" && k != "unknown" {
			if st, ok := openLLMetryRequestTypes[k]; ok {
				return st, true
			}
			return k, true
		}
	}
	return genAIStage(s)
}

// genAIStage is gen_ai.operation.name as it is: the operation names are
// the vocabulary, and a provider-specific name the conventions allow is
// kept.
func genAIStage(s Span) (string, bool) {
	v, ok := s.Attribute(string(attributes.GenAIOperationName))
	if !ok {
		return "", false
	}
	k := v.AsString()
	return k, k != ""
}
