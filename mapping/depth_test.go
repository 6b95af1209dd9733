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

// enrichWith is an Enricher adding one attribute.
type enrichWith stagetrace.Attr

func (e enrichWith) Apply(s *stagetrace.StageSpan) {
	s.Attrs = append(s.Attrs[:len(s.Attrs):len(s.Attrs)], stagetrace.Attr(e))
}

// A deep value in one place alone is limited too: the batch is walked
// whenever any of its values is a slice or a map.
func TestBatchLimitsValueDepthInEachPlace(t *testing.T) {
	deep := stagetrace.IntValue(1)
	for range stagetrace.MaxDepth + 1 {
		deep = stagetrace.SliceValue(deep)
	}
	want, _ := stagetrace.LimitDepth(deep)
	plain := stagetrace.Attrs{{Key: "k", Value: stagetrace.StringValue("v")}}
	cases := map[string]struct {
		opts Options
		view fakeView
		res  *stagetrace.Resource
		pick func(stagetrace.Batch) stagetrace.Value
	}{
		"attribute": {
			view: fakeView{name: "a", attrs: stagetrace.Attrs{{Key: "payload", Value: deep}}},
			pick: func(b stagetrace.Batch) stagetrace.Value { return b.Spans[0].Attrs[0].Value },
		},
		"finding": {
			view: fakeView{name: "a", attrs: stagetrace.Attrs{{Key: "finding.f", Value: deep}}},
			pick: func(b stagetrace.Batch) stagetrace.Value { return b.Spans[0].Findings[0].Value },
		},
		"event": {
			view: fakeView{name: "a", attrs: plain, events: []fakeEvent{{name: "e", attrs: stagetrace.Attrs{{Key: "ev", Value: deep}}}}},
			pick: func(b stagetrace.Batch) stagetrace.Value { return b.Events[0].Attrs[0].Value },
		},
		"resource": {
			view: fakeView{name: "a", attrs: plain},
			res:  &stagetrace.Resource{Attrs: stagetrace.Attrs{{Key: "host", Value: deep}}},
			pick: func(b stagetrace.Batch) stagetrace.Value { return b.Spans[0].Resource.Attrs[0].Value },
		},
		"enricher": {
			opts: Options{Enrich: enrichWith{Key: "added", Value: deep}},
			view: fakeView{name: "a", attrs: plain},
			pick: func(b stagetrace.Batch) stagetrace.Value { return b.Spans[0].Attrs[1].Value },
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b := NewBatcher(c.opts, 1, 2)
			b.Add(&c.view, c.res)
			got := c.pick(b.Batch())
			assert.True(t, want.Equal(got), "%#v", got)
		})
	}
}
