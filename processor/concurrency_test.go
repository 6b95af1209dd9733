package processor

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

// TestManyGoroutines starts spans from many goroutines at once, each in
// its own run and in every way a span can get its run, and checks that no
// span took another goroutine's run.
func TestManyGoroutines(t *testing.T) {
	const goroutines, iterations = 32, 500
	keyG := attribute.Key("test.goroutine")
	for _, m := range []string{"default", "sampler", "wrapping"} {
		t.Run(m, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			var p *Processor
			var opts []sdktrace.TracerProviderOption
			switch m {
			case "wrapping":
				p = NewWrapping(sdktrace.NewSimpleSpanProcessor(exp), allowBoth)
				opts = append(opts, sdktrace.WithSpanProcessor(p))
			case "sampler":
				p = New(allowBoth)
				opts = append(opts, sdktrace.WithSampler(p.Sampler(nil)), sdktrace.WithSpanProcessor(p), sdktrace.WithSyncer(exp))
			default:
				p = New(allowBoth)
				opts = append(opts, sdktrace.WithSpanProcessor(p), sdktrace.WithSyncer(exp))
			}
			tp := sdktrace.NewTracerProvider(opts...)
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			tr := tp.Tracer("concurrency")

			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					run, stage := fmt.Sprintf("run-%d", g), fmt.Sprintf("stage-%d", g)
					mine := trace.WithAttributes(keyG.Int(g))
					ctx := withRun(context.Background(), run, stage)
					bag := withBaggage(t, context.Background(), run, stage)
					for i := range iterations {
						switch i % 5 {
						case 0: // from the context, with a child
							cctx, s := tr.Start(ctx, "ctx", mine)
							end(tr.Start(cctx, "ctx-child", mine))
							s.End()
						case 1: // declared by attribute, inherited by a child
							actx, s := tr.Start(context.Background(), "attr", mine,
								trace.WithAttributes(attributes.Run(run), attributes.Stage(stage)))
							end(tr.Start(actx, "attr-child", mine))
							s.End()
						case 2: // a child that starts after its parent ended
							pctx, s := tr.Start(context.Background(), "late-parent", mine,
								trace.WithAttributes(attributes.Run(run), attributes.Stage(stage)))
							s.End()
							end(tr.Start(pctx, "late-child", mine))
						case 3: // from baggage, with a child
							bctx, s := tr.Start(bag, "baggage", mine)
							end(tr.Start(bctx, "baggage-child", mine))
							s.End()
						case 4: // empty values at start, replaced from the context
							ectx, s := tr.Start(ctx, "empty", mine,
								trace.WithAttributes(attributes.Run(""), attributes.Stage("")))
							end(tr.Start(ectx, "empty-child", mine, trace.WithAttributes(attributes.Run(""))))
							s.End()
						}
					}
				})
			}
			wg.Wait()

			spans := exp.GetSpans()
			require.Len(t, spans, goroutines*iterations*2)
			wrong := 0
			for _, s := range spans {
				var g int64 = -1
				for _, a := range s.Attributes {
					if a.Key == keyG {
						g = a.Value.AsInt64()
					}
				}
				require.GreaterOrEqual(t, g, int64(0), "span %q lacks %s", s.Name, keyG)
				w := got{run: fmt.Sprintf("run-%d", g), stage: fmt.Sprintf("stage-%d", g), nRun: 1, nStage: 1}
				if got := runStageOf(s.Attributes); got != w {
					wrong++
					if wrong <= 5 {
						assert.Equal(t, w, got, "span %q of goroutine %d", s.Name, g)
					}
				}
			}
			assert.Zero(t, wrong, "spans with a wrong run or stage")
			if p.pending != nil {
				assert.Zero(t, p.pending.len(), "entries left for ended spans")
			}
			assert.Zero(t, p.deferred.n.Load(), "spans left to OnStart and not taken")
			assert.Empty(t, p.deferred.m, "spans left to OnStart and not taken")
		})
	}
}

// len counts the entries of t, checking each shard's count on the way;
// tests use it to check that nothing leaks.
func (t *pendingTable) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		used := 0
		for _, s := range sh.slots {
			if s.sid != 0 {
				used++
			}
		}
		if used != sh.n {
			panic("pending shard count is off")
		}
		n += used
		sh.mu.Unlock()
	}
	return n
}
