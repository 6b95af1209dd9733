package processor

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

// fakeSpan is a ReadWriteSpan that records how the processor uses it. The
// methods it does not define panic, through the nil embedded interface.
type fakeSpan struct {
	sdktrace.ReadWriteSpan
	start     []attribute.KeyValue
	sets      [][]attribute.KeyValue
	attrReads int
}

func (f *fakeSpan) Attributes() []attribute.KeyValue { f.attrReads++; return f.start }
func (f *fakeSpan) SetAttributes(kv ...attribute.KeyValue) {
	f.sets = append(f.sets, slices.Clone(kv))
}
func (f *fakeSpan) Parent() trace.SpanContext      { return trace.SpanContext{} }
func (f *fakeSpan) SpanContext() trace.SpanContext { return trace.SpanContext{} }
func (f *fakeSpan) Name() string                   { return "fake" }

func TestOnStartSetsOnlyWhatIsMissingInOneCall(t *testing.T) {
	ctx := withRun(context.Background(), "r", "s")
	cases := []struct {
		name      string
		ctx       context.Context
		opts      []Option
		start     []attribute.KeyValue
		wantSets  [][]attribute.KeyValue
		wantReads int
	}{
		{
			name:      "both missing",
			ctx:       ctx,
			wantSets:  [][]attribute.KeyValue{{attributes.Run("r"), attributes.Stage("s")}},
			wantReads: 1,
		},
		{
			name:      "stage set at start",
			ctx:       ctx,
			start:     []attribute.KeyValue{attribute.Int("n", 1), attributes.Stage("own")},
			wantSets:  [][]attribute.KeyValue{{attributes.Run("r")}},
			wantReads: 1,
		},
		{
			name:      "both set at start",
			ctx:       ctx,
			start:     []attribute.KeyValue{attributes.Stage("own"), attributes.Run("own")},
			wantReads: 1,
		},
		{
			// Reading the attributes has a cost (the SDK copies them on the
			// next SetAttributes): skip it when no source has a value.
			name: "no source",
			ctx:  context.Background(),
		},
		{
			name: "baggage allowed but empty",
			ctx:  context.Background(),
			opts: []Option{allowBoth},
		},
		{
			name:      "default run id",
			ctx:       context.Background(),
			opts:      []Option{WithDefaultRunID("d")},
			wantSets:  [][]attribute.KeyValue{{attributes.Run("d")}},
			wantReads: 1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &fakeSpan{start: c.start}
			New(c.opts...).OnStart(c.ctx, s)
			assert.Equal(t, c.wantSets, s.sets)
			assert.Equal(t, c.wantReads, s.attrReads)
		})
	}
}

func TestOnStartAfterShutdownDoesNothing(t *testing.T) {
	p := New()
	assert.NoError(t, p.Shutdown(context.Background()))
	s := &fakeSpan{}
	p.OnStart(withRun(context.Background(), "r", "s"), s)
	assert.Empty(t, s.sets)
	assert.Zero(t, s.attrReads)
}

func TestDefaultModeLifecycle(t *testing.T) {
	p := New()
	p.OnEnd(nil) // a no-op: it must not even look at the span
	assert.NoError(t, p.ForceFlush(context.Background()))

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.Shutdown(cancelled), context.Canceled)
	assert.NoError(t, p.Shutdown(context.Background()))
	assert.NoError(t, p.Shutdown(context.Background()), "second Shutdown")
	assert.NoError(t, p.ForceFlush(context.Background()))
}
