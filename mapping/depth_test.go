package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
)

// The mapping is the one entry of SDK and collector spans into the model,
// so it is where a value nested past stagetrace.MaxDepth, which OTLP
// allows, is truncated: in attributes, findings, events and the resource.
func TestBatchLimitsValueDepth(t *testing.T) {
	deep := stagetrace.IntValue(1)
	for range stagetrace.MaxDepth + 1 {
		deep = stagetrace.SliceValue(deep)
	}
	want, _ := stagetrace.LimitDepth(deep)
	res := &stagetrace.Resource{Attrs: stagetrace.Attrs{{Key: "host", Value: deep}}}
	b := NewBatcher(Options{}, 1, 2)
	b.Add(&fakeView{
		name:   "a",
		attrs:  stagetrace.Attrs{{Key: "payload", Value: deep}, {Key: "finding.f", Value: deep}},
		events: []fakeEvent{{name: "e", attrs: stagetrace.Attrs{{Key: "ev", Value: deep}}}},
	}, res)
	batch := b.Batch()
	require.Len(t, batch.Spans, 1)
	require.Len(t, batch.Events, 1)
	sp := batch.Spans[0]
	for _, got := range []stagetrace.Value{sp.Attrs[0].Value, sp.Findings[0].Value, batch.Events[0].Attrs[0].Value, sp.Resource.Attrs[0].Value} {
		assert.True(t, want.Equal(got), "%#v", got)
	}
}
