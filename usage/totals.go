package usage

import (
	"math"

	"github.com/stagetrace/stagetrace"
)

// MaxTokens is where token sums stop: a sum that would pass it is
// MaxTokens, so that a span claiming an absurd count cannot wrap a total
// negative or push a stored sum out of SQLite's integers.
const MaxTokens = math.MaxInt64

// AddCount adds two token counts (neither negative), saturating at
// MaxTokens. It is the rule the SQLite store's upsert writes in SQL.
func AddCount(a, b int64) int64 {
	if a > MaxTokens-b {
		return MaxTokens
	}
	return a + b
}

// addTokens adds token counts o to t, each saturating at MaxTokens.
func addTokens(t, o *stagetrace.Tokens) {
	t.InputTokens = AddCount(t.InputTokens, o.InputTokens)
	t.OutputTokens = AddCount(t.OutputTokens, o.OutputTokens)
	t.CacheReadInputTokens = AddCount(t.CacheReadInputTokens, o.CacheReadInputTokens)
	t.CacheCreationInputTokens = AddCount(t.CacheCreationInputTokens, o.CacheCreationInputTokens)
	t.ReasoningOutputTokens = AddCount(t.ReasoningOutputTokens, o.ReasoningOutputTokens)
	t.TotalTokens = AddCount(t.TotalTokens, o.TotalTokens)
}

// Totals are the usage of some spans added up. Adding is exact and
// independent of order and grouping: the totals of a run's spans are the
// same added one by one, batch by batch or from stored partial totals.
// Token sums saturate at MaxTokens, which keeps them so: once a sum is
// MaxTokens it stays MaxTokens whatever is added.
type Totals struct {
	stagetrace.Tokens
	// Cost is CostNanos in currency units.
	Cost      float64 `json:"cost"`
	CostNanos int64   `json:"cost_nanos"`
	// Currency is the currency of every cost added; "" when none was, or
	// when CostUnknown.
	Currency string `json:"currency,omitempty"`
	// CostSpans counts the spans whose cost was added.
	CostSpans int64 `json:"cost_spans"`
	// CostErrors counts the spans whose cost is unknown (Usage.CostError).
	CostErrors int64 `json:"cost_errors"`
	// CostUnknown is set when costs cannot be summed: they are in more
	// than one currency, or their sum passes 2^61 billionths. Cost and
	// CostNanos are then zero.
	CostUnknown bool `json:"cost_unknown,omitempty"`
}

// HasCost reports whether the totals hold a cost: some span's cost was
// added and the sum is known.
func (t Totals) HasCost() bool { return t.CostSpans > 0 && !t.CostUnknown }

// Add adds the usage of one span.
func (t *Totals) Add(u *Usage) {
	addTokens(&t.Tokens, &u.Tokens)
	if u.CostError {
		t.CostErrors++
	}
	if u.HasCost {
		t.addCost(u.Cost.Nanos, u.Cost.Currency, 1, false)
	}
}

// Merge adds totals o.
func (t *Totals) Merge(o *Totals) {
	addTokens(&t.Tokens, &o.Tokens)
	t.CostErrors += o.CostErrors
	t.addCost(o.CostNanos, o.Currency, o.CostSpans, o.CostUnknown)
}

// addCost adds the cost of spans spans: nanos in currency, or an unknown
// cost.
func (t *Totals) addCost(nanos int64, currency string, spans int64, unknown bool) {
	if spans == 0 {
		return
	}
	t.CostNanos, t.Currency, t.CostUnknown = MergeCost(t.CostNanos, t.Currency, t.CostSpans, t.CostUnknown, nanos, currency, spans, unknown)
	t.CostSpans += spans
	t.Cost = Cost{Nanos: t.CostNanos}.Float64()
}

// MergeCost is the rule by which two sums of costs add: a sum of
// spansA costs of nanosA in currencyA (or unknown) and one of spansB
// costs. It is the rule the SQLite store's upsert writes in SQL; a test
// holds the two together.
func MergeCost(nanosA int64, currencyA string, spansA int64, unknownA bool,
	nanosB int64, currencyB string, spansB int64, unknownB bool,
) (nanos int64, currency string, unknown bool) {
	switch {
	case spansB == 0:
		return nanosA, currencyA, unknownA
	case spansA == 0:
		return nanosB, currencyB, unknownB
	case unknownA || unknownB || currencyA != currencyB:
		return 0, "", true
	}
	sum := nanosA + nanosB
	if sum > maxTotalNanos || sum < -maxTotalNanos {
		return 0, "", true
	}
	return sum, currencyA, false
}
