package rules_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/usage"
)

func ptr(f float64) *float64 { return &f }

func pricedSet(t testing.TB, currency string, presets ...string) *rules.Set {
	t.Helper()
	set, err := rules.Compile(rules.Config{
		Presets: presets,
		Prices: &rules.Prices{Currency: currency, Models: []rules.ModelPrice{
			{Model: "gpt-4o-mini", Input: 0.15, Output: 0.60, CacheRead: ptr(0.075)},
			{Model: "gpt-4o-mini-*", Input: 0.15, Output: 0.60, CacheRead: ptr(0.075)},
			{Model: "claude-sonnet-4-5*", Input: 3, Output: 15, CacheRead: ptr(0.30), CacheCreation: ptr(3.75)},
			{Model: "gpt-4o", Input: 2.50, Output: 10},
		}},
	})
	require.NoError(t, err)
	return set
}

// mapped returns a fixture as the exporter maps it: attributes, no
// findings yet.
func mapped(f *fixture) *stagetrace.StageSpan {
	return &stagetrace.StageSpan{Name: f.Name, Scope: f.Scope, Kind: f.Kind, Attrs: f.endSpan().Attrs}
}

func findings(s *stagetrace.StageSpan) map[string]string { return attrsMap(s.Findings) }

func TestComputedCost(t *testing.T) {
	set := pricedSet(t, "", rules.PresetGenAI, rules.PresetOpenInference, rules.PresetOpenLLMetry)
	cases := []struct {
		fixture string
		nanos   int64
	}{
		// 1234 × 0.15 + 210 × 0.60 = 185.1 + 126 = 311.1 micro-USD; the
		// response model gpt-4o-mini-2024-07-18 is priced by the glob.
		{"genai_openai_chat.json", 311_100},
		// (12000 − 10000 − 1500) × 3 + 10000 × 0.30 + 1500 × 3.75 + 800 × 15
		// = 1500 + 3000 + 5625 + 12000 = 22125 micro-USD.
		{"genai_anthropic_cache.json", 22_125_000},
		// (431 − 256) × 0.15 + 256 × 0.075 + 58 × 0.60 = 26.25 + 19.2 + 34.8
		// = 80.25 micro-USD.
		{"openinference_llama_index_llm.json", 80_250},
		// 25 × 0.15 + 49 × 0.60 = 3.75 + 29.4 = 33.15 micro-USD.
		{"traceloop_openai_chat.json", 33_150},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			s := mapped(loadFixture(t, filepath.Join("testdata", "spans", c.fixture)))
			set.Apply(s)
			got, ok, err := spanCost(s)
			require.NoError(t, err)
			require.True(t, ok, "findings: %v", findings(s))
			assert.Equal(t, usage.Cost{Nanos: c.nanos, Currency: "USD"}, got)
			f := findings(s)
			assert.Equal(t, "string:computed", f[attributes.FindingCostSource])
			assert.Equal(t, "string:USD", f[attributes.FindingCostCurrency])
			assert.NotContains(t, f, attributes.FindingCostError)
		})
	}
}

func TestProviderCostWins(t *testing.T) {
	// gpt-4o has a price, but the span reports its own cost: that one is
	// used, and nothing is computed besides.
	set := pricedSet(t, "USD", rules.PresetOpenInference)
	s := mapped(loadFixture(t, filepath.Join("testdata", "spans", "openinference_cost.json")))
	set.Apply(s)
	c, ok, err := spanCost(s)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, usage.Cost{Nanos: 6_000_000, Currency: "USD"}, c)
	f := findings(s)
	assert.Equal(t, "string:provider", f[attributes.FindingCostSource])
	assert.Equal(t, "float64:0.006", f[attributes.FindingCost])
	n := 0
	for _, kv := range s.Findings {
		if kv.Key == attributes.FindingCost || kv.Key == attributes.FindingCostSource {
			n++
		}
	}
	assert.Equal(t, 2, n, "one cost, one source: never both provider and computed")

	// gen_ai.usage.cost is a provider cost too, and wins over llm.cost.total.
	s = &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
		{Key: string(rules.LLMCostTotal), Value: stagetrace.Float64Value(1)},
		{Key: string(rules.GenAIUsageCost), Value: stagetrace.Float64Value(0.25)},
	}}
	rulesNoPrices, err := rules.New()
	require.NoError(t, err)
	rulesNoPrices.Apply(s)
	c, _, err = spanCost(s)
	require.NoError(t, err)
	assert.Equal(t, usage.Cost{Nanos: 250_000_000, Currency: "USD"}, c, "a provider cost needs no price table")

	// A cost the span recorded as a finding is left alone.
	s = &stagetrace.StageSpan{
		Attrs:    stagetrace.Attrs{{Key: string(rules.GenAIUsageCost), Value: stagetrace.Float64Value(0.25)}},
		Findings: stagetrace.Attrs{{Key: attributes.FindingCost, Value: stagetrace.Float64Value(9)}},
	}
	set.Apply(s)
	assert.Equal(t, map[string]string{attributes.FindingCost: "float64:9"}, findings(s))
}

func TestCostErrors(t *testing.T) {
	tokens := func(model string) *stagetrace.StageSpan {
		return &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
			{Key: string(attributes.GenAIResponseModel), Value: str(model)},
			{Key: string(attributes.GenAIUsageInputTokens), Value: i64(10)},
		}}
	}
	cases := []struct {
		name string
		set  *rules.Set
		span *stagetrace.StageSpan
		want string
	}{
		{"no price", pricedSet(t, "", rules.PresetGenAI), tokens("o3-pro"), `no price for model "o3-pro"`},
		{"no model", pricedSet(t, "", rules.PresetGenAI), &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
			{Key: string(attributes.GenAIUsageOutputTokens), Value: i64(10)},
		}}, "no model finding"},
		{"bad token count", pricedSet(t, "", rules.PresetGenAI), &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
			{Key: string(attributes.GenAIResponseModel), Value: str("gpt-4o")},
			{Key: string(attributes.GenAIUsageInputTokens), Value: i64(-3)},
		}}, "input_tokens: -3 is not a token count"},
		{"provider currency mismatch", pricedSet(t, "EUR", rules.PresetOpenInference), &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
			{Key: string(rules.LLMCostTotal), Value: stagetrace.Float64Value(0.5)},
		}}, "currency mismatch: llm.cost.total is in USD, prices in EUR"},
		{"provider cost not a number", pricedSet(t, "", rules.PresetOpenInference), &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
			{Key: string(rules.LLMCostTotal), Value: str("cheap")},
		}}, "llm.cost.total: cheap is not a cost"},
		{"too large", pricedSet(t, "", rules.PresetGenAI), &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
			{Key: string(attributes.GenAIResponseModel), Value: str("gpt-4o")},
			{Key: string(attributes.GenAIUsageOutputTokens), Value: i64(math.MaxInt64)},
		}}, "cost too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.set.Apply(c.span)
			f := findings(c.span)
			assert.Contains(t, f[attributes.FindingCostError], c.want)
			assert.NotContains(t, f, attributes.FindingCost)
			assert.NotContains(t, f, attributes.FindingCostSource)
		})
	}

	// Counts recorded as whole floats count; int costs are amounts too.
	s := &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
		{Key: string(attributes.GenAIResponseModel), Value: str("gpt-4o")},
		{Key: string(attributes.GenAIUsageInputTokens), Value: stagetrace.Float64Value(1_000_000)},
	}}
	pricedSet(t, "", rules.PresetGenAI).Apply(s)
	c, ok, err := spanCost(s)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(2_500_000_000), c.Nanos)
	s = &stagetrace.StageSpan{Attrs: stagetrace.Attrs{
		{Key: string(attributes.GenAIResponseModel), Value: str("gpt-4o")},
		{Key: string(attributes.GenAIUsageInputTokens), Value: stagetrace.Float64Value(1.5)},
	}}
	pricedSet(t, "", rules.PresetGenAI).Apply(s)
	assert.Contains(t, findings(s)[attributes.FindingCostError], "input_tokens: 1.5 is not a token count")
	c, ok, err = spanCost(&stagetrace.StageSpan{Findings: stagetrace.Attrs{{Key: attributes.FindingCost, Value: i64(3)}}})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(3_000_000_000), c.Nanos)

	// Spans without tokens get no cost and no error.
	s = &stagetrace.StageSpan{Name: "retrieve"}
	pricedSet(t, "", rules.PresetGenAI).Apply(s)
	assert.Empty(t, s.Findings)
}

func TestPricesAtCompile(t *testing.T) {
	cases := []struct {
		name   string
		prices rules.Prices
		want   string
	}{
		{"entry currency", rules.Prices{Currency: "EUR", Models: []rules.ModelPrice{{Model: "m", Currency: "USD", Input: 1, Output: 1}}},
			"prices.models[m].currency: currency mismatch: USD, but the table is in EUR"},
		{"default currency is USD", rules.Prices{Models: []rules.ModelPrice{{Model: "m", Currency: "EUR", Input: 1, Output: 1}}},
			"currency mismatch: EUR, but the table is in USD"},
		{"negative", rules.Prices{Models: []rules.ModelPrice{{Model: "m", Input: -1, Output: 1}}}, "prices.models[m].input: price -1"},
		{"NaN", rules.Prices{Models: []rules.ModelPrice{{Model: "m", Input: 1, Output: math.NaN()}}}, "prices.models[m].output: price NaN"},
		{"cache read", rules.Prices{Models: []rules.ModelPrice{{Model: "m", Input: 1, Output: 1, CacheRead: ptr(math.Inf(1))}}}, "prices.models[m].cache_read"},
		{"twice", rules.Prices{Models: []rules.ModelPrice{{Model: "m", Input: 1, Output: 1}, {Model: "m", Input: 2, Output: 1}}}, `model "m" priced twice`},
		{"empty model", rules.Prices{Models: []rules.ModelPrice{{Input: 1, Output: 1}}}, "empty model name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rules.Compile(rules.Config{Prices: &c.prices})
			assert.ErrorContains(t, err, c.want)
		})
	}
}

func TestPriceLookupOrder(t *testing.T) {
	set, err := rules.Compile(rules.Config{
		Rules: []rules.Rule{{Findings: []rules.FindingAction{
			{Name: attributes.FindingModel, From: "m"},
			{Name: attributes.FindingInputTokens, Value: i64(1_000_000)},
		}}},
		Prices: &rules.Prices{Models: []rules.ModelPrice{
			{Model: "gpt-*", Input: 1, Output: 1},
			{Model: "gpt-4*", Input: 2, Output: 1},
			{Model: "gpt-4o", Input: 3, Output: 1},
		}},
	})
	require.NoError(t, err)
	for model, want := range map[string]int64{"gpt-4o": 3e9, "gpt-4o-mini": 1e9, "gpt-4": 1e9} {
		s := &stagetrace.StageSpan{Attrs: stagetrace.Attrs{{Key: "m", Value: str(model)}}}
		set.Apply(s)
		c, ok, err := spanCost(s)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, want, c.Nanos, "%s: exact name first, then the first glob in order", model)
	}
}

// TestTotalCostExact checks that a run's total is the exact sum of its
// spans' costs, whatever their order, where summing the floats is not.
func TestTotalCostExact(t *testing.T) {
	set := pricedSet(t, "", rules.PresetGenAI)
	rng := rand.New(rand.NewPCG(1, 2))
	models := []string{"gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5-20250929", "gpt-4o-mini-2024-07-18"}
	var spans []stagetrace.StageSpan
	var want int64
	for range 5000 {
		in := rng.Int64N(200_000)
		s := stagetrace.StageSpan{Attrs: stagetrace.Attrs{
			{Key: string(attributes.GenAIResponseModel), Value: str(models[rng.IntN(len(models))])},
			{Key: string(attributes.GenAIUsageInputTokens), Value: i64(in)},
			{Key: string(rules.GenAIUsageCacheReadInputTokens), Value: i64(rng.Int64N(in + 1))},
			{Key: string(attributes.GenAIUsageOutputTokens), Value: i64(rng.Int64N(8000))},
		}}
		set.Apply(&s)
		c, ok, err := spanCost(&s)
		require.NoError(t, err)
		require.True(t, ok)
		want += c.Nanos
		spans = append(spans, s)
	}
	total := totalCost(spans)
	assert.Equal(t, usage.Cost{Nanos: want, Currency: "USD"}, total)

	floatSum := func(spans []stagetrace.StageSpan) float64 {
		var f float64
		for _, s := range spans {
			v, _ := s.Findings.Get(attributes.FindingCost)
			f += v.AsFloat64()
		}
		return f
	}
	forward := floatSum(spans)
	for range 5 {
		rng.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
		again := totalCost(spans)
		assert.Equal(t, total, again, "the total does not depend on the order")
	}
	// Not an assertion of the float sum's error, which depends on the
	// data, but a reminder of why costs add in billionths.
	t.Logf("exact %s, float sum %.12f (shuffled %.12f)", total, forward, floatSum(spans))
}

// spanCost returns the cost of a span as the accounting reads it; err is
// set when the span has a cost that is unknown.
func spanCost(s *stagetrace.StageSpan) (usage.Cost, bool, error) {
	u := usage.Of(s)
	if u.CostError {
		return usage.Cost{}, false, errors.New("cost error")
	}
	return u.Cost, u.HasCost, nil
}

// totalCost adds the costs of spans as the accounting does.
func totalCost(spans []stagetrace.StageSpan) usage.Cost {
	var t usage.Totals
	for i := range spans {
		u := usage.Of(&spans[i])
		t.Add(&u)
	}
	return usage.Cost{Nanos: t.CostNanos, Currency: t.Currency}
}
