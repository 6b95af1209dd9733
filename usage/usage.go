package usage

import (
	"math"
	"strconv"
	"strings"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// UnknownModel is the model of a span that names none.
const UnknownModel = "unknown"

// NanosPerUnit is the resolution of every amount: costs are computed and
// added in billionths of the currency unit, as integers, so that sums are
// exact and independent of order.
const NanosPerUnit = 1_000_000_000

// MaxCostNanos bounds the cost of one span (about a million units) so
// that the float64 of a cost finding converts back to the same integer
// number of billionths: the division and the multiplication back err by a
// few ulps, well under half a billionth below 2^50.
const MaxCostNanos = 1 << 50

// maxTotalNanos bounds a sum of costs: two sums below it add without
// overflowing an int64, in Go as in SQL.
const maxTotalNanos = 1 << 61

// Cost is an amount of money held exactly, in billionths of a currency
// unit.
type Cost struct {
	Nanos    int64
	Currency string // ISO 4217 code; "" when the span did not say
}

// Float64 returns the amount in currency units, as the cost finding holds
// it.
func (c Cost) Float64() float64 { return float64(c.Nanos) / NanosPerUnit }

// String returns the exact amount and the currency: "0.0123 USD".
func (c Cost) String() string {
	n := c.Nanos
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strconv.FormatInt(n%NanosPerUnit+NanosPerUnit, 10)[1:]
	frac = strings.TrimRight(frac, "0")
	s := sign + strconv.FormatInt(n/NanosPerUnit, 10)
	if frac != "" {
		s += "." + frac
	}
	if c.Currency != "" {
		s += " " + c.Currency
	}
	return s
}

// Amount converts an amount in currency units (a cost finding, a
// provider's cost attribute) to billionths, rounded to the nearest: an
// int64 or a float64, not negative and below MaxCostNanos billionths.
// Costs written by the rules' Apply convert back exactly.
func Amount(v stagetrace.Value) (nanos int64, ok bool) {
	switch v.Kind() {
	case stagetrace.KindInt64:
		n := v.AsInt64()
		if n < 0 || n >= MaxCostNanos/NanosPerUnit {
			return 0, false
		}
		return n * NanosPerUnit, true
	case stagetrace.KindFloat64:
		f := v.AsFloat64() * NanosPerUnit
		if !(f >= 0 && f < MaxCostNanos) { // NaN fails both
			return 0, false
		}
		return int64(math.Round(f)), true
	}
	return 0, false
}

// TokenCount reads a token count: an int64 that is not negative, or a
// float64 holding one exactly. Anything else is not a count.
func TokenCount(v stagetrace.Value) (int64, bool) {
	switch v.Kind() {
	case stagetrace.KindInt64:
		if n := v.AsInt64(); n >= 0 {
			return n, true
		}
	case stagetrace.KindFloat64:
		if f := v.AsFloat64(); f >= 0 && f < 1<<53 && f == math.Trunc(f) {
			return int64(f), true
		}
	}
	return 0, false
}

// Usage is what one span used.
type Usage struct {
	stagetrace.Tokens
	// HasTokens is set when the span has a valid token count of any kind.
	HasTokens bool
	// BadTokens counts the span's token findings that are not counts and
	// were left out.
	BadTokens int
	// Model is the span's model (see the package documentation); "" for
	// a span that used nothing (Counts is false).
	Model string
	// Cost is the span's cost, when HasCost.
	Cost    Cost
	HasCost bool
	// CostError is set when the span's cost is unknown: a cost_error
	// finding, or a cost finding that is not an amount.
	CostError bool
}

// Counts reports whether the span used something: tokens, a cost, or a
// cost that could not be had.
func (u *Usage) Counts() bool { return u.HasTokens || u.HasCost || u.CostError }

// Of returns what span s used, read from its findings (and, for its model,
// its attributes).
func Of(s *stagetrace.StageSpan) Usage {
	var u Usage
	var total int64
	var haveSplit, haveTotal, haveCost bool
	var cost, currency stagetrace.Value
	for i := range s.Findings {
		f := &s.Findings[i]
		var n *int64
		switch f.Key {
		case attributes.FindingInputTokens:
			n = &u.InputTokens
		case attributes.FindingOutputTokens:
			n = &u.OutputTokens
		case attributes.FindingCacheReadInputTokens:
			n = &u.CacheReadInputTokens
		case attributes.FindingCacheCreationInputTokens:
			n = &u.CacheCreationInputTokens
		case attributes.FindingReasoningOutputTokens:
			n = &u.ReasoningOutputTokens
		case attributes.FindingTotalTokens:
			n = &total
		case attributes.FindingModel:
			u.Model = f.Value.AsString()
		case attributes.FindingCost:
			cost, haveCost = f.Value, true
		case attributes.FindingCostCurrency:
			currency = f.Value
		case attributes.FindingCostError:
			u.CostError = true
		}
		if n == nil {
			continue
		}
		c, ok := TokenCount(f.Value)
		if !ok {
			u.BadTokens++
			continue
		}
		*n, u.HasTokens = c, true
		switch f.Key {
		case attributes.FindingInputTokens, attributes.FindingOutputTokens:
			haveSplit = true
		case attributes.FindingTotalTokens:
			haveTotal = true
		}
	}
	switch {
	case haveSplit:
		u.TotalTokens = AddCount(u.InputTokens, u.OutputTokens)
	case haveTotal:
		u.TotalTokens = total
	}
	if haveCost && !u.CostError {
		if nanos, ok := Amount(cost); ok {
			u.Cost, u.HasCost = Cost{Nanos: nanos, Currency: currency.AsString()}, true
		} else {
			u.CostError = true
		}
	}
	if u.Counts() && u.Model == "" {
		u.Model = modelAttr(s.Attrs)
	}
	if !u.Counts() {
		u.Model = ""
	}
	return u
}

// modelAttr names the model of a span without a model finding from the
// GenAI attributes, the response's model first.
func modelAttr(a stagetrace.Attrs) string {
	var req string
	for i := range a {
		switch a[i].Key {
		case string(attributes.GenAIResponseModel):
			if m := a[i].Value.AsString(); m != "" {
				return m
			}
		case string(attributes.GenAIRequestModel):
			req = a[i].Value.AsString()
		}
	}
	if req == "" {
		return UnknownModel
	}
	return req
}
