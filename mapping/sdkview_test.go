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
	"github.com/stagetrace/stagetrace/attributes"
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

// placementSpans are SDK spans whose attributes hold every case the
// placement of a span's attributes tells apart: run and stage of kinds
// other than string, run.stage_inherited of another kind, "finding."
// alone, findings of every kind, slices and maps, a value nested past
// stagetrace.MaxDepth, a finding also given by an evaluation event, keys
// that start like a placement key and are not.
func placementSpans() []sdktrace.ReadOnlySpan {
	deep := attribute.IntValue(1)
	for range stagetrace.MaxDepth + 1 {
		deep = attribute.SliceValue(deep)
	}
	eval := sdktrace.Event{Name: attributes.EventEvaluationResult, Time: time.Unix(101, 0), Attributes: []attribute.KeyValue{
		attributes.GenAIEvaluationName.String("relevance"), attributes.GenAIEvaluationScoreValue.Float64(0.5),
	}}
	sets := [][]attribute.KeyValue{
		{attributes.Run("r"), attributes.Stage("s"), attribute.Bool(string(attributes.StageInherited), true), attribute.String("k", "v")},
		{attribute.Int(string(attributes.RunID), 7), attribute.StringSlice(string(attributes.RunStage), []string{"a", "b"}),
			attribute.Int(string(attributes.StageInherited), 1)},
		{attribute.Int(attributes.FindingPrefix, 1), attribute.String("finding", "x"), attribute.String("run", "x"),
			attribute.String("run.idx", "x"), attribute.String("f", "x"), attribute.String("r", "x"), attribute.String("", "x")},
		{attributes.Finding("tokens", 3), attribute.Float64(attributes.FindingPrefix+"score", 0.25),
			attribute.Bool(attributes.FindingPrefix+"ok", true), attribute.StringSlice(attributes.FindingPrefix+"reasons", []string{"stop"}),
			attribute.StringSlice("reasons", []string{"stop"}), attribute.Int64Slice("ints", []int64{1, 2}),
			attribute.Float64Slice("floats", []float64{0.5}), attribute.BoolSlice("bools", []bool{true})},
		{{Key: "deep", Value: deep}, {Key: attributes.FindingPrefix + "deep", Value: deep},
			attribute.Map("map", attribute.String("k", "v"), attribute.Slice("s", attribute.IntValue(1))),
			{Key: "bytes", Value: attribute.ByteSliceValue([]byte{0, 0xff})}, attributes.Stage("late")},
		{attribute.Float64(attributes.FindingPrefix+"relevance", 1), attribute.String("k", "v")},
		nil,
	}
	var spans []sdktrace.ReadOnlySpan
	for i, attrs := range sets {
		stub := tracetest.SpanStub{
			Name: "s",
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{byte(i), 1}, SpanID: trace.SpanID{byte(i), 2},
			}),
			StartTime:  time.Unix(100, 0),
			EndTime:    time.Unix(101, 0),
			Attributes: attrs,
		}
		if i >= len(sets)-2 {
			stub.Events = []sdktrace.Event{eval}
		}
		spans = append(spans, stub.Snapshot())
	}
	return spans
}

// The reader's view places a span's attributes in one pass as it converts
// them: the batch must be what the generic partition of SDKSpan's makes,
// with each option that changes what Add does with them.
func TestSDKSpanReaderPlacesAsSDKSpan(t *testing.T) {
	for name, opts := range map[string]Options{
		"plain":  {},
		"events": {StageEvents: true, EvaluationEvents: true},
		"enrich": {Enrich: enrichWith{Key: "added", Value: stagetrace.IntValue(1)}},
	} {
		t.Run(name, func(t *testing.T) {
			want := NewBatcher(opts, 1, 1)
			got := NewBatcher(opts, 1, 1)
			r := SDKSpanReader{Slab: new(otelconv.Slab)}
			for _, s := range placementSpans() {
				want.Add(&SDKSpan{Span: s, Slab: new(otelconv.Slab)}, nil)
				got.Add(r.View(s), nil)
			}
			w, g := want.Batch(), got.Batch()
			require.Len(t, w.Spans, len(placementSpans()))
			assert.Equal(t, w, g)
			for i := range w.Spans {
				assert.True(t, w.Spans[i].Attrs.Equal(g.Spans[i].Attrs), "span %d attrs", i)
				assert.True(t, w.Spans[i].Findings.Equal(g.Spans[i].Findings), "span %d findings", i)
			}
		})
	}
}
