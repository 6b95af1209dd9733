package usage_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/usage"
)

func f(key string, v stagetrace.Value) stagetrace.Attr { return stagetrace.Attr{Key: key, Value: v} }
func i64(n int64) stagetrace.Value                     { return stagetrace.Int64Value(n) }
func f64(x float64) stagetrace.Value                   { return stagetrace.Float64Value(x) }
func str(s string) stagetrace.Value                    { return stagetrace.StringValue(s) }

func TestTokenCount(t *testing.T) {
	cases := []struct {
		name string
		v    stagetrace.Value
		want int64
		ok   bool
	}{
		{"int", i64(812), 812, true},
		{"zero", i64(0), 0, true},
		{"whole float", f64(95), 95, true},
		{"negative", i64(-5), 0, false},
		{"negative float", f64(-1), 0, false},
		{"fractional", f64(10.6), 0, false},
		{"NaN", f64(math.NaN()), 0, false},
		{"infinity", f64(math.Inf(1)), 0, false},
		{"beyond 2^53", f64(1 << 60), 0, false},
		{"string", str("12"), 0, false},
		{"bool", stagetrace.BoolValue(true), 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, ok := usage.TokenCount(c.v)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, n)
		})
	}
}

func TestOfLeavesBadCountsOut(t *testing.T) {
	s := stagetrace.StageSpan{Findings: stagetrace.Attrs{
		f(attributes.FindingInputTokens, f64(10.6)),
		f(attributes.FindingOutputTokens, i64(-5)),
		f(attributes.FindingCacheReadInputTokens, str("3")),
		f(attributes.FindingReasoningOutputTokens, i64(7)),
		f(attributes.FindingTotalTokens, i64(40)),
	}}
	u := usage.Of(&s)
	assert.Equal(t, stagetrace.Tokens{ReasoningOutputTokens: 7, TotalTokens: 40}, u.Tokens,
		"bad counts count as absent; with no input or output, the total is total_tokens")
	assert.Equal(t, 3, u.BadTokens)
	assert.True(t, u.HasTokens)

	s.Findings[0] = f(attributes.FindingInputTokens, f64(10))
	u = usage.Of(&s)
	assert.Equal(t, int64(10), u.InputTokens)
	assert.Equal(t, int64(10), u.TotalTokens, "input plus output wins over total_tokens")
}

func TestModelPrecedence(t *testing.T) {
	tokens := f(attributes.FindingInputTokens, i64(1))
	req := f(string(attributes.GenAIRequestModel), str("asked"))
	resp := f(string(attributes.GenAIResponseModel), str("answered"))
	cases := []struct {
		name     string
		findings stagetrace.Attrs
		attrs    stagetrace.Attrs
		want     string
	}{
		{"finding first", stagetrace.Attrs{tokens, f(attributes.FindingModel, str("found"))}, stagetrace.Attrs{req, resp}, "found"},
		{"then the response", stagetrace.Attrs{tokens}, stagetrace.Attrs{req, resp}, "answered"},
		{"then the request", stagetrace.Attrs{tokens}, stagetrace.Attrs{req}, "asked"},
		{"else unknown", stagetrace.Attrs{tokens}, nil, usage.UnknownModel},
		{"none for a span that used nothing", nil, stagetrace.Attrs{req}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := usage.Of(&stagetrace.StageSpan{Findings: c.findings, Attrs: c.attrs})
			assert.Equal(t, c.want, u.Model)
		})
	}
}

func TestOfCost(t *testing.T) {
	cases := []struct {
		name      string
		findings  stagetrace.Attrs
		cost      usage.Cost
		hasCost   bool
		costError bool
	}{
		{"float", stagetrace.Attrs{f(attributes.FindingCost, f64(0.0042)), f(attributes.FindingCostCurrency, str("USD"))},
			usage.Cost{Nanos: 4_200_000, Currency: "USD"}, true, false},
		{"int, no currency", stagetrace.Attrs{f(attributes.FindingCost, i64(2))}, usage.Cost{Nanos: 2_000_000_000}, true, false},
		{"negative", stagetrace.Attrs{f(attributes.FindingCost, f64(-0.5))}, usage.Cost{}, false, true},
		{"NaN", stagetrace.Attrs{f(attributes.FindingCost, f64(math.NaN()))}, usage.Cost{}, false, true},
		{"too large", stagetrace.Attrs{f(attributes.FindingCost, f64(2e6))}, usage.Cost{}, false, true},
		{"string", stagetrace.Attrs{f(attributes.FindingCost, str("free"))}, usage.Cost{}, false, true},
		{"cost error", stagetrace.Attrs{f(attributes.FindingCostError, str("no price"))}, usage.Cost{}, false, true},
		{"none", nil, usage.Cost{}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := usage.Of(&stagetrace.StageSpan{Findings: c.findings})
			assert.Equal(t, c.cost, u.Cost)
			assert.Equal(t, c.hasCost, u.HasCost)
			assert.Equal(t, c.costError, u.CostError)
		})
	}
}

// TestTheIssueExample is the batch on which the store and the monitor
// used to disagree: a float count, a negative count, two currencies.
func TestTheIssueExample(t *testing.T) {
	spans := []stagetrace.StageSpan{
		{RunID: "r", Findings: stagetrace.Attrs{f(attributes.FindingInputTokens, f64(10.6)),
			f(attributes.FindingCost, f64(2)), f(attributes.FindingCostCurrency, str("USD"))}},
		{RunID: "r", Findings: stagetrace.Attrs{f(attributes.FindingOutputTokens, i64(-5)),
			f(attributes.FindingCost, f64(1.5)), f(attributes.FindingCostCurrency, str("EUR"))}},
	}
	runs := usage.Runs(spans, nil)
	require.Len(t, runs, 1)
	r := runs[0]
	assert.Zero(t, r.InputTokens)
	assert.Zero(t, r.OutputTokens)
	assert.True(t, r.CostUnknown, "USD and EUR are never summed")
	assert.False(t, r.HasCost())
	assert.Zero(t, r.CostNanos)
	assert.Equal(t, int64(2), r.CostSpans)
}

func costly(nanos int64, currency string) usage.Usage {
	return usage.Usage{HasCost: true, Cost: usage.Cost{Nanos: nanos, Currency: currency}}
}

// TestTotalsIndependentOfOrderAndGrouping adds random usages one by one,
// shuffled, and in random groups merged: the totals are the same.
func TestTotalsIndependentOfOrderAndGrouping(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var us []usage.Usage
		for range 1 + rng.IntN(20) {
			u := costly(rng.Int64N(1<<40), []string{"USD", "USD", "USD", "EUR", ""}[rng.IntN(5)])
			u.HasCost = rng.IntN(4) != 0
			u.CostError = !u.HasCost && rng.IntN(2) == 0
			u.InputTokens = rng.Int64N(1000)
			us = append(us, u)
		}
		var want usage.Totals
		for i := range us {
			want.Add(&us[i])
		}
		rng.Shuffle(len(us), func(i, j int) { us[i], us[j] = us[j], us[i] })
		var got usage.Totals
		for len(us) > 0 {
			n := 1 + rng.IntN(len(us))
			var part usage.Totals
			for i := range us[:n] {
				part.Add(&us[i])
			}
			got.Merge(&part)
			us = us[n:]
		}
		require.Equal(t, want, got)
	}
}

func TestTotalsCost(t *testing.T) {
	add := func(us ...usage.Usage) usage.Totals {
		var t usage.Totals
		for i := range us {
			t.Add(&us[i])
		}
		return t
	}
	one := add(costly(100_000_000, "USD"), costly(200_000_000, "USD"), usage.Usage{CostError: true})
	assert.Equal(t, int64(300_000_000), one.CostNanos, "0.1 + 0.2 added exactly")
	assert.Equal(t, 0.3, one.Cost)
	assert.Equal(t, "USD", one.Currency)
	assert.Equal(t, int64(2), one.CostSpans)
	assert.Equal(t, int64(1), one.CostErrors)
	assert.True(t, one.HasCost())

	mixed := add(costly(1, "USD"), costly(1, "EUR"), costly(1, "USD"))
	assert.True(t, mixed.CostUnknown)
	assert.Empty(t, mixed.Currency)
	assert.Zero(t, mixed.CostNanos)
	assert.False(t, mixed.HasCost())

	huge := add(costly(usage.MaxCostNanos-1, "USD"))
	for range 1 << 11 {
		huge.Merge(&huge)
		if huge.CostUnknown {
			break
		}
	}
	assert.True(t, huge.CostUnknown, "a sum past 2^61 billionths is unknown, not wrapped")
	none := add()
	assert.False(t, none.HasCost())
}

func TestRollup(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	span := func(stage string, start, d time.Duration, status stagetrace.StatusCode) stagetrace.StageSpan {
		return stagetrace.StageSpan{RunID: "r", Stage: stage, StartTime: t0.Add(start), EndTime: t0.Add(start + d), Status: status,
			Findings: stagetrace.Attrs{f(attributes.FindingInputTokens, i64(10)), f(attributes.FindingOutputTokens, i64(1))}}
	}
	r := usage.Rollup{ID: "r"}
	for _, s := range []stagetrace.StageSpan{
		span("retrieval", time.Second, time.Second, stagetrace.StatusOK),
		span("", 0, 500*time.Millisecond, stagetrace.StatusUnset),
		span("inference", 2*time.Second, time.Second, stagetrace.StatusError),
		span("retrieval", 3*time.Second, time.Second, stagetrace.StatusOK),
	} {
		r.AddSpan(&s, nil)
	}
	r.AddEvent(&stagetrace.TraceEvent{RunID: "r", Time: t0.Add(5 * time.Second)})
	run := r.Run()
	assert.Equal(t, "r", run.ID)
	assert.Equal(t, t0, run.Start)
	assert.Equal(t, t0.Add(5*time.Second), run.End, "events count in the run's time")
	assert.Equal(t, 4, run.Spans)
	assert.Equal(t, 1, run.Errors)
	assert.Equal(t, 2, run.Stages, "distinct non-empty stages")
	assert.Equal(t, []string{"retrieval", "inference"}, r.Stages())
	assert.Equal(t, int64(40), run.InputTokens)
	assert.Equal(t, int64(44), run.TotalTokens)
	assert.Equal(t, stagetrace.RunStatusError, run.Status())
}

func TestCostFloatRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 100_000 {
		n := rng.Int64N(usage.MaxCostNanos)
		if i < 100 {
			n = int64(i) // small amounts too
		}
		got, ok := usage.Amount(f64(usage.Cost{Nanos: n}.Float64()))
		require.True(t, ok)
		require.Equal(t, n, got, "billionths %d survive the float64 finding", n)
	}
}

func TestCostString(t *testing.T) {
	for c, want := range map[usage.Cost]string{
		{Nanos: 0}:                               "0",
		{Nanos: 1, Currency: "USD"}:              "0.000000001 USD",
		{Nanos: 311_100, Currency: "USD"}:        "0.0003111 USD",
		{Nanos: 12_500_000_000, Currency: "EUR"}: "12.5 EUR",
		{Nanos: -2_000_000_000}:                  "-2",
	} {
		assert.Equal(t, want, c.String())
	}
}

func TestTokenSumsSaturate(t *testing.T) {
	huge := stagetrace.StageSpan{Findings: stagetrace.Attrs{
		f(attributes.FindingInputTokens, i64(usage.MaxTokens)),
		f(attributes.FindingOutputTokens, i64(5)),
	}}
	u := usage.Of(&huge)
	assert.Equal(t, int64(usage.MaxTokens), u.TotalTokens, "a span's own total saturates")

	var one, merged usage.Totals
	one.Add(&u)
	one.Add(&u)
	assert.Equal(t, int64(usage.MaxTokens), one.InputTokens, "never wraps negative")
	assert.Equal(t, int64(10), one.OutputTokens)
	merged.Merge(&one)
	merged.Merge(&one)
	assert.Equal(t, int64(usage.MaxTokens), merged.InputTokens)
	assert.Equal(t, int64(usage.MaxTokens), merged.TotalTokens)

	assert.Equal(t, int64(usage.MaxTokens), usage.AddCount(usage.MaxTokens, 1))
	assert.Equal(t, int64(usage.MaxTokens), usage.AddCount(usage.MaxTokens-1, 1))
	assert.Equal(t, int64(3), usage.AddCount(1, 2))
}

// TestRunTotalsRoundTrip: a run's totals read back are the totals set, so
// that runs add up (a session) by the same rules as spans.
func TestRunTotalsRoundTrip(t *testing.T) {
	tot := usage.Totals{CostNanos: 1_507, Currency: "USD", CostSpans: 3, CostErrors: 1}
	tot.InputTokens, tot.OutputTokens, tot.TotalTokens = 160, 20, 180
	tot.Cost = usage.Cost{Nanos: tot.CostNanos}.Float64()
	var run stagetrace.Run
	usage.SetRunTotals(&run, &tot)
	assert.Equal(t, tot, usage.RunTotals(run))

	other := usage.Totals{CostNanos: 1, Currency: "EUR", CostSpans: 1}
	sum := usage.RunTotals(run)
	sum.Merge(&other)
	assert.True(t, sum.CostUnknown, "runs in two currencies never sum")
}
