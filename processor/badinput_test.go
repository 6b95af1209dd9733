package processor

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

func make1MiB(c byte) []byte { return []byte(strings.Repeat(string(c), 1<<20)) }

func TestBadInput(t *testing.T) {
	bg := context.Background()
	long := string(make1MiB('x'))
	forEachMode(t, func(t *testing.T, m mode) {
		t.Run("empty strings count as unset", func(t *testing.T) {
			h := newHarness(t, m, WithDefaultRunID(""))
			// An empty run in the context is no run.
			end(h.tr.Start(withRun(bg, "", ""), "empty-context", trace.WithAttributes(attribute.Int("n", 1))))
			// An empty attribute at start is filled in, not repeated.
			end(h.tr.Start(withRun(bg, "r", "s"), "empty-attr",
				trace.WithAttributes(attributes.Run(""), attributes.Stage(""))))
			// With nothing to fill it, it stays as it was.
			end(h.tr.Start(bg, "empty-attr-alone", trace.WithAttributes(attributes.Run(""))))
			spans := h.spans(t)

			g := runStageOf(spans["empty-context"].Attributes)
			assert.Zero(t, g.nRun)
			assert.Zero(t, g.nStage)

			g = runStageOf(spans["empty-attr"].Attributes)
			assert.Equal(t, got{run: "r", stage: "s", nRun: 1, nStage: 1}, g)

			g = runStageOf(spans["empty-attr-alone"].Attributes)
			assert.Equal(t, got{nRun: 1}, g)
		})

		t.Run("1 MiB run id kept whole", func(t *testing.T) {
			h := newHarness(t, m)
			pctx, p := h.tr.Start(withRun(bg, long, long), "ctx")
			end(h.tr.Start(bg, "attr", trace.WithAttributes(attributes.Run(long))))
			_, c := h.tr.Start(trace.ContextWithSpan(bg, p), "child-of-ctx")
			c.End()
			p.End()
			_ = pctx
			for name, s := range h.spans(t) {
				g := runStageOf(s.Attributes)
				assert.Len(t, g.run, len(long), "run.id of %q", name)
				assert.Equal(t, long, g.run, "run.id of %q", name)
			}
		})

		t.Run("non-string run.id counts as set and is kept", func(t *testing.T) {
			h := newHarness(t, m, WithDefaultRunID("dflt"))
			pctx, p := h.tr.Start(withRun(bg, "ctx-run", "ctx-stage"), "int-run",
				trace.WithAttributes(attributes.RunID.Int(42), attributes.RunStage.Bool(true)))
			// A child does not inherit a run id it cannot read as a string;
			// here it has the context anyway.
			end(h.tr.Start(pctx, "child"))
			p.End()
			_, q := h.tr.Start(bg, "int-run-alone", trace.WithAttributes(attributes.RunID.Int(7)))
			end(h.tr.Start(trace.ContextWithSpan(bg, q), "child-alone"))
			q.End()
			spans := h.spans(t)

			var run, stage attribute.Value
			for _, a := range spans["int-run"].Attributes {
				switch a.Key {
				case attributes.RunID:
					run = a.Value
				case attributes.RunStage:
					stage = a.Value
				}
			}
			assert.Equal(t, attribute.INT64, run.Type())
			assert.Equal(t, int64(42), run.AsInt64())
			assert.Equal(t, attribute.BOOL, stage.Type())
			assert.Equal(t, got{run: "42", stage: "true", nRun: 1, nStage: 1}, runStageOf(spans["int-run"].Attributes))
			assert.Equal(t, got{run: "ctx-run", stage: "ctx-stage", nRun: 1, nStage: 1}, runStageOf(spans["child"].Attributes))
			assert.Equal(t, got{run: "7", nRun: 1}, runStageOf(spans["int-run-alone"].Attributes))
			assert.Equal(t, got{run: "dflt", nRun: 1}, runStageOf(spans["child-alone"].Attributes))
		})

		t.Run("nil options and functions are ignored", func(t *testing.T) {
			h := newHarness(t, m, nil, WithRunIDFunc(nil), WithDefaultRunID("d"))
			end(h.tr.Start(bg, "span"))
			spans := h.spans(t)
			require.Contains(t, spans, "span")
			assert.Equal(t, "d", runStageOf(spans["span"].Attributes).run)
		})
	})
}
