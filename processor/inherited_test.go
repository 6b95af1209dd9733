package processor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

// placed is the stage of an exported span and whether it is marked
// inherited; n counts the run.stage_inherited keys.
type placed struct {
	stage     string
	inherited bool
	n         int
}

func placedOf(attrs []attribute.KeyValue) placed {
	var p placed
	for _, a := range attrs {
		switch a.Key {
		case attributes.RunStage:
			p.stage = a.Value.String()
		case attributes.StageInherited:
			p.inherited, p.n = a.Value.AsBool(), p.n+1
		}
	}
	return p
}

func opens(stage string) placed    { return placed{stage: stage} }
func inherits(stage string) placed { return placed{stage: stage, inherited: true, n: 1} }

// assertPlaced checks the stage and mark of each named exported span.
func assertPlaced(t *testing.T, h *harness, want map[string]placed) {
	t.Helper()
	spans := h.spans(t)
	require.Len(t, spans, len(want))
	for name, w := range want {
		s, ok := spans[name]
		if assert.True(t, ok, name) {
			assert.Equal(t, w, placedOf(s.Attributes), name)
		}
	}
}

func TestStageInheritedNested(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		h := newHarness(t, m)
		ctx := attributes.ContextWithStage(attributes.ContextWithRun(context.Background(), "r"), "retrieval")
		rctx, root := h.tr.Start(ctx, "root")
		cctx, child := h.tr.Start(rctx, "child")
		_, grand := h.tr.Start(cctx, "grandchild")
		grand.End()
		child.End()
		root.End()
		// A later span from the same context: the stage is already open.
		_, late := h.tr.Start(ctx, "late")
		late.End()

		assertPlaced(t, h, map[string]placed{
			"root":       opens("retrieval"),
			"child":      inherits("retrieval"),
			"grandchild": inherits("retrieval"),
			"late":       inherits("retrieval"),
		})
	})
}

func TestStageInheritedSiblings(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		h := newHarness(t, m)
		ctx, root := h.tr.Start(attributes.ContextWithRun(context.Background(), "r"), "root")
		actx, a := h.tr.Start(attributes.ContextWithStage(ctx, "a"), "a")
		end(h.tr.Start(actx, "a.child"))
		a.End()
		bctx, b := h.tr.Start(attributes.ContextWithStage(ctx, "b"), "b")
		end(h.tr.Start(bctx, "b.child"))
		b.End()
		root.End()

		assertPlaced(t, h, map[string]placed{
			"root":    {},
			"a":       opens("a"),
			"a.child": inherits("a"),
			"b":       opens("b"),
			"b.child": inherits("b"),
		})
	})
}

func TestStageInheritedOwnAttribute(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		h := newHarness(t, m)
		ctx := attributes.ContextWithStage(attributes.ContextWithRun(context.Background(), "r"), "outer")
		// The first span from ctx declares its own stage: it opens that
		// one and leaves the context's stage unclaimed.
		octx, own := h.tr.Start(ctx, "own", trace.WithAttributes(attributes.Stage("inner")))
		// The context's stage beats the parent's attribute, and nobody
		// has opened it yet.
		end(h.tr.Start(octx, "own.child"))
		own.End()
		rctx, root := h.tr.Start(ctx, "root")
		_, decl := h.tr.Start(rctx, "declares", trace.WithAttributes(attributes.Stage("nested")))
		decl.End()
		root.End()

		assertPlaced(t, h, map[string]placed{
			"own":       opens("inner"),
			"own.child": opens("outer"),
			"root":      inherits("outer"),
			"declares":  opens("nested"),
		})
	})
}

func TestStageInheritedFromParent(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		h := newHarness(t, m)
		// The parent declares its stage by attribute; the child has no
		// stage in its context and inherits the parent's.
		pctx, parent := h.tr.Start(context.Background(), "parent", trace.WithAttributes(attributes.Stage("p")))
		end(h.tr.Start(pctx, "child"))
		parent.End()

		// A child started from a context holding only the live parent span
		// (no stage mark) inherits the parent's stage, which in wrapping
		// mode is still pending.
		sctx, staged := h.tr.Start(attributes.ContextWithStage(context.Background(), "s"), "staged")
		end(h.tr.Start(trace.ContextWithSpan(context.Background(), trace.SpanFromContext(sctx)), "detached"))
		staged.End()

		assertPlaced(t, h, map[string]placed{
			"parent":   opens("p"),
			"child":    inherits("p"),
			"staged":   opens("s"),
			"detached": inherits("s"),
		})
	})
}

func TestStageInheritedBaggage(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		h := newHarness(t, m, WithBaggageKeys(string(attributes.RunStage)))
		ctx, err := attributes.BaggageWithStage(context.Background(), "remote")
		require.NoError(t, err)
		cctx, a := h.tr.Start(ctx, "a")
		end(h.tr.Start(cctx, "a.child"))
		a.End()
		end(h.tr.Start(ctx, "b"))

		assertPlaced(t, h, map[string]placed{
			"a":       opens("remote"), // baggage carries no mark: each span it places opens
			"a.child": inherits("remote"),
			"b":       opens("remote"),
		})
	})
}

func TestStageInheritedRules(t *testing.T) {
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetGenAI}})
	require.NoError(t, err)
	forEachMode(t, func(t *testing.T, m mode) {
		h := newHarness(t, m, WithRules(set))
		ctx := attributes.ContextWithStage(context.Background(), "answer")
		cctx, chat := h.tr.Start(ctx, "chat", trace.WithAttributes(attributes.GenAIOperationName.String("chat")))
		_, own := h.tr.Start(cctx, "own", trace.WithAttributes(
			attributes.GenAIOperationName.String("chat"), attributes.Stage("mine")))
		own.End()
		chat.End()
		// The rule stage did not claim the context's stage.
		end(h.tr.Start(ctx, "plain"))
		end(h.tr.Start(ctx, "plain2"))
		// A child of a rule-staged span, from a context without a stage.
		pctx, solo := h.tr.Start(context.Background(), "solo", trace.WithAttributes(attributes.GenAIOperationName.String("chat")))
		end(h.tr.Start(pctx, "solo.child"))
		solo.End()

		assertPlaced(t, h, map[string]placed{
			"chat":       opens("chat"), // the rule's stage beats the context's
			"own":        opens("mine"), // the span's own stage beats the rule's
			"plain":      opens("answer"),
			"plain2":     inherits("answer"),
			"solo":       opens("chat"),
			"solo.child": inherits("chat"),
		})
	})
}

// TestStageEventsEndToEnd runs a retrieval stage (two nested spans) and an
// inference stage (three spans) through the stagetrace exporter with stage
// events: each stage gets exactly one stage_start and one stage_end.
func TestStageEventsEndToEnd(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			sink := memsink.New()
			exp, err := exporter.New(exporter.WithSinks(sink), exporter.WithStageEvents())
			require.NoError(t, err)
			tpOpts := m.pipeline(exp, nil)
			tp := sdktrace.NewTracerProvider(tpOpts...)
			tr := tp.Tracer("e2e")

			ctx := attributes.ContextWithRun(context.Background(), "run-1")
			rctx, retrieve := tr.Start(attributes.ContextWithStage(ctx, "retrieval"), "retrieve")
			end(tr.Start(rctx, "embed query"))
			retrieve.End()
			ictx, infer := tr.Start(attributes.ContextWithStage(ctx, "inference"), "generate")
			end(tr.Start(ictx, "tokenize"))
			end(tr.Start(ictx, "call model"))
			infer.End()
			require.NoError(t, tp.Shutdown(context.Background()))

			spans := sink.SpansOfRun("run-1")
			require.Len(t, spans, 5)
			stages := map[string]string{}
			for _, s := range spans {
				stages[s.Name] = s.Stage
			}
			assert.Equal(t, map[string]string{
				"retrieve": "retrieval", "embed query": "retrieval",
				"generate": "inference", "tokenize": "inference", "call model": "inference",
			}, stages)

			type key struct{ event, stage, span string }
			count := map[key]int{}
			for _, e := range sink.EventsOfRun("run-1") {
				if e.Name != attributes.EventStageStart && e.Name != attributes.EventStageEnd {
					continue
				}
				var span string
				for _, s := range spans {
					if s.SpanID == e.SpanID {
						span = s.Name
					}
				}
				count[key{e.Name, e.Stage, span}]++
			}
			assert.Equal(t, map[key]int{
				{attributes.EventStageStart, "retrieval", "retrieve"}: 1,
				{attributes.EventStageEnd, "retrieval", "retrieve"}:   1,
				{attributes.EventStageStart, "inference", "generate"}: 1,
				{attributes.EventStageEnd, "inference", "generate"}:   1,
			}, count)
		})
	}
}
