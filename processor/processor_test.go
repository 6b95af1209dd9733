package processor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

// want is the run.id and run.stage a span must end with; "" means the key
// must be absent.
type want struct{ run, stage string }

func withRun(ctx context.Context, run, stage string) context.Context {
	if run != "" {
		ctx = attributes.ContextWithRun(ctx, run)
	}
	if stage != "" {
		ctx = attributes.ContextWithStage(ctx, stage)
	}
	return ctx
}

func withBaggage(t *testing.T, ctx context.Context, run, stage string) context.Context {
	t.Helper()
	var err error
	if run != "" {
		ctx, err = attributes.BaggageWithRun(ctx, run)
		require.NoError(t, err)
	}
	if stage != "" {
		ctx, err = attributes.BaggageWithStage(ctx, stage)
		require.NoError(t, err)
	}
	return ctx
}

var allowBoth = WithBaggageKeys(string(attributes.RunID), string(attributes.RunStage))

func TestResolution(t *testing.T) {
	bg := context.Background()
	cases := []struct {
		name  string
		opts  []Option
		spans func(t *testing.T, tr trace.Tracer)
		want  map[string]want
	}{
		{
			name: "context",
			spans: func(t *testing.T, tr trace.Tracer) {
				end(tr.Start(withRun(bg, "r1", "s1"), "span"))
			},
			want: map[string]want{"span": {"r1", "s1"}},
		},
		{
			name: "attribute at start beats context",
			spans: func(t *testing.T, tr trace.Tracer) {
				ctx := withRun(bg, "ctx-run", "ctx-stage")
				end(tr.Start(ctx, "both", trace.WithAttributes(attributes.Run("attr-run"), attributes.Stage("attr-stage"))))
				end(tr.Start(ctx, "run-only", trace.WithAttributes(attributes.Run("attr-run"))))
				end(tr.Start(ctx, "stage-only", trace.WithAttributes(attributes.Stage("attr-stage"))))
			},
			want: map[string]want{
				"both":       {"attr-run", "attr-stage"},
				"run-only":   {"attr-run", "ctx-stage"},
				"stage-only": {"ctx-run", "attr-stage"},
			},
		},
		{
			name: "context beats parent span",
			spans: func(t *testing.T, tr trace.Tracer) {
				pctx, p := tr.Start(bg, "parent", trace.WithAttributes(attributes.Run("p-run"), attributes.Stage("p-stage")))
				end(tr.Start(withRun(pctx, "c-run", "c-stage"), "child"))
				end(tr.Start(withRun(pctx, "", "c-stage"), "child-stage-only"))
				p.End()
			},
			want: map[string]want{
				"parent":           {"p-run", "p-stage"},
				"child":            {"c-run", "c-stage"},
				"child-stage-only": {"p-run", "c-stage"},
			},
		},
		{
			name: "parent span",
			spans: func(t *testing.T, tr trace.Tracer) {
				rctx, root := tr.Start(bg, "root", trace.WithAttributes(attributes.Run("r"), attributes.Stage("s")))
				cctx, child := tr.Start(rctx, "child")
				end(tr.Start(cctx, "grandchild"))
				child.End()
				root.End()
			},
			want: map[string]want{"root": {"r", "s"}, "child": {"r", "s"}, "grandchild": {"r", "s"}},
		},
		{
			name: "parent span beats baggage",
			opts: []Option{allowBoth},
			spans: func(t *testing.T, tr trace.Tracer) {
				ctx := withBaggage(t, bg, "b-run", "b-stage")
				rctx, root := tr.Start(ctx, "root", trace.WithAttributes(attributes.Run("r")))
				end(tr.Start(rctx, "child"))
				root.End()
			},
			want: map[string]want{"root": {"r", "b-stage"}, "child": {"r", "b-stage"}},
		},
		{
			name: "baggage when allowed",
			opts: []Option{allowBoth},
			spans: func(t *testing.T, tr trace.Tracer) {
				rctx, root := tr.Start(withBaggage(t, bg, "b-run", "b-stage"), "root")
				end(tr.Start(rctx, "child"))
				root.End()
			},
			want: map[string]want{"root": {"b-run", "b-stage"}, "child": {"b-run", "b-stage"}},
		},
		{
			name: "baggage ignored by default",
			spans: func(t *testing.T, tr trace.Tracer) {
				end(tr.Start(withBaggage(t, bg, "b-run", "b-stage"), "root"))
			},
			want: map[string]want{"root": {}},
		},
		{
			name: "baggage key not in the list ignored",
			opts: []Option{WithBaggageKeys(string(attributes.RunStage))},
			spans: func(t *testing.T, tr trace.Tracer) {
				end(tr.Start(withBaggage(t, bg, "b-run", "b-stage"), "root"))
			},
			want: map[string]want{"root": {"", "b-stage"}},
		},
		{
			name: "other baggage keys do not allow run or stage",
			opts: []Option{WithBaggageKeys("tenant.id", "RUN.ID", "run.id ")},
			spans: func(t *testing.T, tr trace.Tracer) {
				end(tr.Start(withBaggage(t, bg, "b-run", "b-stage"), "root"))
			},
			want: map[string]want{"root": {}},
		},
		{
			name: "context beats baggage",
			opts: []Option{allowBoth},
			spans: func(t *testing.T, tr trace.Tracer) {
				end(tr.Start(withRun(withBaggage(t, bg, "b-run", "b-stage"), "c-run", ""), "root"))
			},
			want: map[string]want{"root": {"c-run", "b-stage"}},
		},
		{
			name: "default run id",
			opts: []Option{WithDefaultRunID("dflt")},
			spans: func(t *testing.T, tr trace.Tracer) {
				rctx, root := tr.Start(bg, "root")
				end(tr.Start(rctx, "child"))
				root.End()
			},
			want: map[string]want{"root": {"dflt", ""}, "child": {"dflt", ""}},
		},
		{
			name: "function before default, parent span before function",
			opts: []Option{
				WithDefaultRunID("dflt"),
				WithRunIDFunc(func(_ context.Context, s sdktrace.ReadOnlySpan) string {
					if s.Name() == "fn" {
						return "from-func"
					}
					return ""
				}),
			},
			spans: func(t *testing.T, tr trace.Tracer) {
				fctx, fn := tr.Start(bg, "fn")
				end(tr.Start(fctx, "fn-child"))
				fn.End()
				end(tr.Start(bg, "other"))
			},
			want: map[string]want{"fn": {"from-func", ""}, "fn-child": {"from-func", ""}, "other": {"dflt", ""}},
		},
		{
			name: "default loses to every other source",
			opts: []Option{allowBoth, WithDefaultRunID("dflt")},
			spans: func(t *testing.T, tr trace.Tracer) {
				end(tr.Start(withRun(bg, "c-run", ""), "context"))
				end(tr.Start(withBaggage(t, bg, "b-run", ""), "baggage"))
				pctx, p := tr.Start(bg, "parent", trace.WithAttributes(attributes.Run("p-run")))
				end(tr.Start(pctx, "child"))
				p.End()
			},
			want: map[string]want{
				"context": {"c-run", ""}, "baggage": {"b-run", ""},
				"parent": {"p-run", ""}, "child": {"p-run", ""},
			},
		},
		{
			name: "nothing to resolve",
			spans: func(t *testing.T, tr trace.Tracer) {
				rctx, root := tr.Start(bg, "root")
				end(tr.Start(rctx, "child"))
				root.End()
			},
			want: map[string]want{"root": {}, "child": {}},
		},
		{
			name: "child started after its parent ended, run from context",
			spans: func(t *testing.T, tr trace.Tracer) {
				pctx, p := tr.Start(withRun(bg, "r", "s"), "parent")
				p.End()
				end(tr.Start(pctx, "late-child"))
			},
			want: map[string]want{"parent": {"r", "s"}, "late-child": {"r", "s"}},
		},
		{
			name: "child started after its parent ended, run from an ancestor's attribute",
			spans: func(t *testing.T, tr trace.Tracer) {
				gctx, g := tr.Start(bg, "grandparent", trace.WithAttributes(attributes.Run("g-run"), attributes.Stage("g-stage")))
				pctx, p := tr.Start(gctx, "parent")
				p.End()
				g.End()
				end(tr.Start(pctx, "late-child"))
			},
			want: map[string]want{"grandparent": {"g-run", "g-stage"}, "parent": {"g-run", "g-stage"}, "late-child": {"g-run", "g-stage"}},
		},
		{
			name: "child started after its parent ended, run from baggage",
			opts: []Option{allowBoth},
			spans: func(t *testing.T, tr trace.Tracer) {
				pctx, p := tr.Start(withBaggage(t, bg, "b-run", "b-stage"), "parent")
				p.End()
				end(tr.Start(pctx, "late-child"))
			},
			want: map[string]want{"parent": {"b-run", "b-stage"}, "late-child": {"b-run", "b-stage"}},
		},
		{
			name: "child started after its parent ended, run from a function",
			opts: []Option{WithRunIDFunc(func(_ context.Context, s sdktrace.ReadOnlySpan) string { return "f-" + s.Name() })},
			spans: func(t *testing.T, tr trace.Tracer) {
				pctx, p := tr.Start(bg, "parent")
				p.End()
				end(tr.Start(pctx, "late-child"))
			},
			want: map[string]want{"parent": {"f-parent", ""}, "late-child": {"f-parent", ""}},
		},
		{
			name: "nested stages declared by attribute",
			spans: func(t *testing.T, tr trace.Tracer) {
				rctx, root := tr.Start(withRun(bg, "r", ""), "root")
				pctx, plan := tr.Start(rctx, "plan", trace.WithAttributes(attributes.Stage("plan")))
				sctx, step := tr.Start(pctx, "plan-step")
				tctx, tool := tr.Start(sctx, "tool", trace.WithAttributes(attributes.Stage("tool")))
				end(tr.Start(tctx, "tool-call"))
				tool.End()
				end(tr.Start(sctx, "plan-step-2"))
				step.End()
				plan.End()
				root.End()
			},
			want: map[string]want{
				"root": {"r", ""}, "plan": {"r", "plan"}, "plan-step": {"r", "plan"},
				"tool": {"r", "tool"}, "tool-call": {"r", "tool"}, "plan-step-2": {"r", "plan"},
			},
		},
		{
			name: "nested stages declared in the context",
			spans: func(t *testing.T, tr trace.Tracer) {
				octx, outer := tr.Start(withRun(bg, "r", "outer"), "outer")
				ictx, inner := tr.Start(attributes.ContextWithStage(octx, "inner"), "inner")
				end(tr.Start(ictx, "inner-child"))
				inner.End()
				end(tr.Start(octx, "outer-child"))
				outer.End()
			},
			want: map[string]want{
				"outer": {"r", "outer"}, "inner": {"r", "inner"},
				"inner-child": {"r", "inner"}, "outer-child": {"r", "outer"},
			},
		},
		{
			// The documented precedence: a stage in the context applies to
			// every span started from it, even under a span that declared
			// another stage by attribute.
			name: "stage in the context beats a parent's declared stage",
			spans: func(t *testing.T, tr trace.Tracer) {
				rctx, root := tr.Start(withRun(bg, "r", "outer"), "root")
				cctx, child := tr.Start(rctx, "child", trace.WithAttributes(attributes.Stage("declared")))
				end(tr.Start(cctx, "grandchild"))
				child.End()
				root.End()
			},
			want: map[string]want{"root": {"r", "outer"}, "child": {"r", "declared"}, "grandchild": {"r", "outer"}},
		},
		{
			name: "new root does not inherit from the span in its context",
			spans: func(t *testing.T, tr trace.Tracer) {
				pctx, p := tr.Start(bg, "parent", trace.WithAttributes(attributes.Run("p-run")))
				end(tr.Start(pctx, "new-root", trace.WithNewRoot()))
				end(tr.Start(attributes.ContextWithRun(pctx, "c-run"), "new-root-ctx", trace.WithNewRoot()))
				p.End()
			},
			want: map[string]want{"parent": {"p-run", ""}, "new-root": {}, "new-root-ctx": {"c-run", ""}},
		},
		{
			name: "remote parent is not read",
			spans: func(t *testing.T, tr trace.Tracer) {
				remote := trace.ContextWithRemoteSpanContext(bg, trace.NewSpanContext(trace.SpanContextConfig{
					TraceID:    trace.TraceID{1},
					SpanID:     trace.SpanID{2},
					TraceFlags: trace.FlagsSampled,
					Remote:     true,
				}))
				end(tr.Start(remote, "server"))
				end(tr.Start(withRun(remote, "r", ""), "server-run"))
			},
			want: map[string]want{"server": {}, "server-run": {"r", ""}},
		},
		{
			name: "value set during the span wins",
			spans: func(t *testing.T, tr trace.Tracer) {
				_, s := tr.Start(withRun(bg, "ctx-run", "ctx-stage"), "span")
				s.SetAttributes(attributes.Run("late-run"))
				s.End()
			},
			want: map[string]want{"span": {"late-run", "ctx-stage"}},
		},
		{
			// Spans of one stage share their values in wrapping mode: what
			// one span set during its life must not reach the others.
			name: "value set during a span leaves its siblings",
			spans: func(t *testing.T, tr trace.Tracer) {
				ctx := withRun(bg, "ctx-run", "ctx-stage")
				end(tr.Start(ctx, "first"))
				_, s := tr.Start(ctx, "late")
				s.SetAttributes(attributes.Run("late-run"), attributes.Stage("late-stage"))
				_, other := tr.Start(ctx, "other")
				s.End()
				other.End()
				end(tr.Start(ctx, "after"))
			},
			want: map[string]want{
				"first": {"ctx-run", "ctx-stage"}, "late": {"late-run", "late-stage"},
				"other": {"ctx-run", "ctx-stage"}, "after": {"ctx-run", "ctx-stage"},
			},
		},
	}
	forEachMode(t, func(t *testing.T, m mode) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := newHarness(t, m, c.opts...)
				c.spans(t, h.tr)
				spans := h.spans(t)
				require.Len(t, spans, len(c.want))
				for name, w := range c.want {
					s, ok := spans[name]
					require.True(t, ok, "span %q not exported", name)
					g := runStageOf(s.Attributes)
					assert.Equal(t, w.run, g.run, "run.id of %q", name)
					assert.Equal(t, w.stage, g.stage, "run.stage of %q", name)
					assert.LessOrEqual(t, g.nRun, 1, "run.id keys on %q", name)
					assert.LessOrEqual(t, g.nStage, 1, "run.stage keys on %q", name)
				}
			})
		}
	})
}

func TestBaggageKeysAccumulate(t *testing.T) {
	c := newConfig([]Option{
		WithBaggageKeys(string(attributes.RunID)),
		WithBaggageKeys(string(attributes.RunStage)),
	})
	assert.True(t, c.baggageRun)
	assert.True(t, c.baggageStage)
	assert.Equal(t, config{}, newConfig([]Option{WithBaggageKeys(), nil}))
}
