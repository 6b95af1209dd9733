package mapping

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/otelconv"
)

// sdkSpan returns an ended SDK span with an event, told apart by n.
func sdkSpan(n byte) sdktrace.ReadOnlySpan {
	return tracetest.SpanStub{
		Name: "s" + string('0'+n),
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{n, 1}, SpanID: trace.SpanID{n, 2},
		}),
		StartTime:  time.Unix(100, 0),
		EndTime:    time.Unix(101, 0),
		Attributes: []attribute.KeyValue{attribute.Int("n", int(n)), attribute.StringSlice("ss", []string{"x", string('0' + n)})},
		Events: []sdktrace.Event{{
			Name: "e" + string('0'+n), Time: time.Unix(100, int64(n)),
			Attributes: []attribute.KeyValue{attribute.Int("e", int(n)), attribute.StringSlice("es", []string{string('0' + n)})},
		}},
	}.Snapshot()
}

// mapOne maps v alone.
func mapOne(v SpanView) stagetrace.Batch {
	b := NewBatcher(Options{}, 1, 2)
	b.Add(v, nil)
	return b.Batch()
}

// The reader's view maps a span as SDKSpan does, and what it read of one
// span never stands for the next: each view is of its own span alone.
func TestSDKSpanReaderMapsAsSDKSpan(t *testing.T) {
	spans := []sdktrace.ReadOnlySpan{sdkSpan(1), sdkSpan(2), sdkSpan(3)}
	for _, slab := range []*otelconv.Slab{nil, new(otelconv.Slab)} {
		var r SDKSpanReader
		r.Slab = slab
		for _, s := range spans {
			view := &SDKSpan{Span: s}
			if slab != nil {
				view.Slab = new(otelconv.Slab)
			}
			want := mapOne(view)
			require.Len(t, want.Spans, 1)
			require.Len(t, want.Events, 1)
			assert.Equal(t, want, mapOne(r.View(s)))
		}
		assert.Nil(t, r.View(nil))
		assert.Equal(t, sdkReadSpan{}, r.view, "nothing of the last span is kept")
	}
}
