package stagetrace

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunJSON(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	r := Run{ID: "r-1", Start: start, End: start.Add(1500 * time.Millisecond), Stages: 2, Spans: 3, Errors: 1,
		Tokens: Tokens{InputTokens: 812, OutputTokens: 95, TotalTokens: 907},
		Cost:   0.0042, CostNanos: 4_200_000, Currency: "USD", CostSpans: 1}
	cases := []struct {
		name string
		run  func(Run) Run
		want map[string]any
	}{
		{"a cost", func(r Run) Run { return r }, map[string]any{"cost": 0.0042, "cost_nanos": 4.2e6, "currency": "USD", "cost_unknown": false}},
		{"no cost", func(r Run) Run { r.Cost, r.CostNanos, r.Currency, r.CostSpans = 0, 0, "", 0; return r }, map[string]any{"cost": nil}},
		{"currencies differ", func(r Run) Run { r.Cost, r.CostNanos, r.Currency, r.CostUnknown = 0, 0, "", true; return r },
			map[string]any{"cost": nil, "cost_unknown": true, "cost_spans": 1.0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.run(r))
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, json.Unmarshal(b, &got))
			assert.Equal(t, "r-1", got["run_id"])
			assert.Equal(t, "2026-11-22T09:00:00Z", got["start"], "times in UTC")
			assert.Equal(t, 1500.0, got["duration_ms"])
			assert.Equal(t, RunStatusError, got["status"])
			assert.Equal(t, 812.0, got["input_tokens"])
			assert.Equal(t, 907.0, got["total_tokens"])
			for k, v := range c.want {
				assert.Equal(t, v, got[k], k)
			}
		})
	}
}

// A clone shares nothing a writer may reuse: overwriting every array and
// slice of the original changes nothing in the copy.
func TestBatchCloneSharesNothing(t *testing.T) {
	header := []string{"a", "b"}
	bytes := []byte("raw")
	ints := []int64{1, 2}
	inner := Attrs{{Key: "k", Value: StringValue("v")}}
	values := []Value{Int64Value(1), MapValue(inner...)}
	res := &Resource{Attrs: Attrs{{Key: "service.name", Value: StringValue("svc")}}}
	b := Batch{
		Spans: []StageSpan{{
			RunID: "r", Name: "s", Resource: res,
			Attrs:    Attrs{{Key: "ref", Value: StringSliceRef(&header)}, {Key: "ints", Value: Int64SliceValue(ints)}},
			Findings: Attrs{{Key: "score", Value: Float64Value(0.5)}},
		}},
		Events: []TraceEvent{{
			Name:  LogEventName,
			Attrs: Attrs{{Key: "nested", Value: SliceValue(values...)}, {Key: "bytes", Value: BytesValue(bytes)}},
			Body:  MapValue(inner...),
		}},
	}
	want, err := json.Marshal(b.Spans[0])
	require.NoError(t, err)
	wantEvent, err := json.Marshal(b.Events[0])
	require.NoError(t, err)
	c := b.Clone()

	header[0], ints[0], bytes[0], inner[0].Value = "X", 9, 'X', StringValue("X")
	values[0] = StringValue("X")
	header = []string{"replaced"}
	b.Spans[0].Attrs[1] = Attr{Key: "X"}
	b.Spans[0].Findings[0] = Attr{Key: "X"}
	b.Events[0].Attrs[1] = Attr{Key: "X"}
	b.Spans[0], b.Events[0] = StageSpan{}, TraceEvent{}

	got, err := json.Marshal(c.Spans[0])
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
	gotEvent, err := json.Marshal(c.Events[0])
	require.NoError(t, err)
	assert.JSONEq(t, string(wantEvent), string(gotEvent))
	assert.Same(t, res, c.Spans[0].Resource, "resources are never reused, so shared")
	assert.Nil(t, Batch{Spans: []StageSpan{{Name: "s"}}}.Clone().Spans[0].Attrs, "nil attributes stay nil")
}
