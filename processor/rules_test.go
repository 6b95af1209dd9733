package processor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

func TestWithRules(t *testing.T) {
	set, err := rules.Compile(rules.Config{
		Rules: []rules.Rule{{
			Name:       "retrieve",
			Match:      rules.Match{SpanName: rules.Glob("retrieve *")},
			Stage:      "retrieval",
			Attributes: []rules.AttributeAction{{Attribute: "app.kind", From: "app.source"}},
		}},
		Presets: []string{rules.PresetGenAI},
	})
	require.NoError(t, err)
	forEachMode(t, func(t *testing.T, m mode) {
		h := newHarness(t, m, WithRules(set))
		ctx := attributes.ContextWithRun(context.Background(), "r-1")
		ctx = attributes.ContextWithStage(ctx, "answer")
		cctx, chat := h.tr.Start(ctx, "chat gpt-4o", trace.WithAttributes(attributes.GenAIOperationName.String("chat")))
		_, http := h.tr.Start(cctx, "POST /v1/chat")
		http.End()
		chat.End()
		_, own := h.tr.Start(ctx, "chat own", trace.WithAttributes(attributes.GenAIOperationName.String("chat"), attributes.Stage("mine")))
		own.End()
		_, ret := h.tr.Start(ctx, "retrieve docs", trace.WithAttributes(attribute.String("app.source", "index")))
		ret.End()
		_, plain := h.tr.Start(ctx, "plain")
		plain.End()

		spans := h.spans(t)
		for name, want := range map[string]got{
			"chat gpt-4o":   {run: "r-1", stage: "chat", nRun: 1, nStage: 1},   // the rule beats the context
			"POST /v1/chat": {run: "r-1", stage: "answer", nRun: 1, nStage: 1}, // the context beats the parent, as without rules
			"chat own":      {run: "r-1", stage: "mine", nRun: 1, nStage: 1},   // the span's own stage beats the rule
			"retrieve docs": {run: "r-1", stage: "retrieval", nRun: 1, nStage: 1},
			"plain":         {run: "r-1", stage: "answer", nRun: 1, nStage: 1},
		} {
			assert.Equal(t, want, runStageOf(spans[name].Attributes), name)
		}
		var kind string
		for _, a := range spans["retrieve docs"].Attributes {
			if a.Key == "app.kind" {
				kind = a.Value.AsString()
			}
		}
		assert.Equal(t, "index", kind, "attribute actions are set at start")
	})
}
