package rules

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/usage"
)

// Prices is a price table: what a million tokens of each kind cost, per
// model.
type Prices struct {
	// Currency is the ISO 4217 code of every price, "USD" when empty.
	Currency string
	// Models are looked up by the span's model finding: an entry whose
	// Model equals it exactly wins, else the first glob entry matching it.
	Models []ModelPrice
}

// ModelPrice is the price of one model (or of the models a glob matches)
// per million tokens.
type ModelPrice struct {
	// Model is a model name, or a glob such as "gpt-4o-2024-*".
	Model string
	// Currency, when set, must equal the table's currency: a table mixing
	// currencies is rejected rather than summed.
	Currency string
	// Input and Output are the prices of a million uncached input tokens
	// and of a million output tokens (reasoning tokens included).
	Input, Output float64
	// CacheRead and CacheCreation are the prices of a million input tokens
	// read from and written to the provider's cache; nil means Input.
	CacheRead, CacheCreation *float64
}

// nanosPerUnit is the resolution of prices, that of every amount.
const nanosPerUnit = usage.NanosPerUnit

// defaultCurrency is the currency of provider costs: the conventions that
// define them (OpenInference llm.cost.*, gen_ai.usage.cost) say USD.
const defaultCurrency = "USD"

type priceTable struct {
	currency string
	exact    map[string]*modelPrice
	globs    []globPrice
}

type globPrice struct {
	m *matcher
	p *modelPrice
}

// modelPrice holds prices in nanos per million tokens.
type modelPrice struct {
	input, output, cacheRead, cacheCreation uint64
}

func (t *priceTable) lookup(model string) *modelPrice {
	if p, ok := t.exact[model]; ok {
		return p
	}
	for _, g := range t.globs {
		if g.m.match(model) {
			return g.p
		}
	}
	return nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

func compilePrices(p Prices) (*priceTable, error) {
	t := &priceTable{currency: p.Currency, exact: map[string]*modelPrice{}}
	if t.currency == "" {
		t.currency = defaultCurrency
	}
	if !validCurrency(t.currency) {
		return nil, fieldErr("prices.currency", fmt.Errorf("%q is not an ISO 4217 code such as USD", p.Currency))
	}
	seen := map[string]bool{}
	for _, m := range p.Models {
		field := "prices.models[" + m.Model + "]"
		if m.Model == "" {
			return nil, fieldErr("prices.models", errors.New("empty model name"))
		}
		if seen[m.Model] {
			return nil, fieldErr(field, fmt.Errorf("model %q priced twice", m.Model))
		}
		seen[m.Model] = true
		if m.Currency != "" && m.Currency != t.currency {
			return nil, fieldErr(field+".currency", fmt.Errorf("currency mismatch: %s, but the table is in %s", m.Currency, t.currency))
		}
		mp := &modelPrice{}
		var err error
		if mp.input, err = priceNanos(m.Input); err != nil {
			return nil, fieldErr(field+".input", err)
		}
		if mp.output, err = priceNanos(m.Output); err != nil {
			return nil, fieldErr(field+".output", err)
		}
		mp.cacheRead, mp.cacheCreation = mp.input, mp.input
		if m.CacheRead != nil {
			if mp.cacheRead, err = priceNanos(*m.CacheRead); err != nil {
				return nil, fieldErr(field+".cache_read", err)
			}
		}
		if m.CacheCreation != nil {
			if mp.cacheCreation, err = priceNanos(*m.CacheCreation); err != nil {
				return nil, fieldErr(field+".cache_creation", err)
			}
		}
		if !strings.ContainsAny(m.Model, `*?\`) {
			t.exact[m.Model] = mp
			continue
		}
		gm, err := compilePattern(Pattern{Glob: m.Model})
		if err != nil {
			return nil, fieldErr(field, err)
		}
		t.globs = append(t.globs, globPrice{m: gm, p: mp})
	}
	return t, nil
}

// maxPrice bounds a price per million tokens, far above any real one, so
// that token counts times prices fit the arithmetic.
const maxPrice = 1_000_000

func priceNanos(f float64) (uint64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("price %v is not a non-negative amount", f)
	}
	if f > maxPrice {
		return 0, fmt.Errorf("price %v per million tokens is too large", f)
	}
	return uint64(math.Round(f * nanosPerUnit)), nil
}

// Apply applies the Set to a span once it is mapped, at export: the End
// phase rules, then the cost. It fills Stage when the span has none, and
// adds the attributes and findings the span lacks; it never overwrites.
//
// The cost, unless the span already has a cost finding, comes from the
// provider when the span carries gen_ai.usage.cost or llm.cost.total
// (cost_source=provider), else is computed from the token findings, the
// model finding and the price table (cost_source=computed). A span whose
// cost cannot be had (no price for its model, a currency mismatch) gets a
// cost_error finding instead. Exporters call Apply through the
// mapping's hook; it is safe for concurrent use.
func (s *Set) Apply(span *stagetrace.StageSpan) {
	if s == nil {
		return
	}
	// A pooled Result, and the cost findings on the stack, leave one
	// allocation per span: its new findings.
	r := resultPool.Get().(*Result)
	s.Eval(PhaseEnd, stageSpan{span}, r)
	if span.Stage == "" && r.Stage != "" {
		span.Stage = r.Stage
	}
	if len(r.Attributes) > 0 {
		span.Attrs = concat(span.Attrs, r.Attributes, nil)
	}
	var cbuf [3]stagetrace.Attr
	cost := s.costFindings(cbuf[:0], findingsOf{span.Findings, r.Findings}, span.Attrs)
	if len(r.Findings) > 0 || len(cost) > 0 {
		span.Findings = concat(span.Findings, r.Findings, cost)
	}
	// Keep no value of the span alive in the pool.
	clear(r.Attributes)
	clear(r.Findings)
	r.Stage = ""
	resultPool.Put(r)
}

var resultPool = sync.Pool{New: func() any { return new(Result) }}

// concat returns a new slice holding a, b and c: the slices of a mapped
// span may share their array with other spans, so they are never
// appended to in place.
func concat(a, b, c stagetrace.Attrs) stagetrace.Attrs {
	out := make(stagetrace.Attrs, 0, len(a)+len(b)+len(c))
	return append(append(append(out, a...), b...), c...)
}

// findingsOf looks a finding up in the span's own findings, then in those
// the rules derived.
type findingsOf [2]stagetrace.Attrs

func (f findingsOf) Get(name string) (stagetrace.Value, bool) {
	if v, ok := f[0].Get(name); ok {
		return v, true
	}
	return f[1].Get(name)
}

// costFindings appends to dst the cost findings of a span with findings f
// and attributes a.
func (s *Set) costFindings(dst stagetrace.Attrs, f findingsOf, a stagetrace.Attrs) stagetrace.Attrs {
	if _, ok := f.Get(attributes.FindingCost); ok {
		return dst
	}
	if _, ok := f.Get(attributes.FindingCostError); ok {
		return dst
	}
	for _, k := range [...]string{string(GenAIUsageCost), string(LLMCostTotal)} {
		v, ok := a.Get(k)
		if !ok {
			continue
		}
		n, isAmount := usage.Amount(v)
		if !isAmount {
			return costError(dst, fmt.Sprintf("%s: %v is not a cost", k, v))
		}
		if s.prices != nil && s.prices.currency != defaultCurrency {
			return costError(dst, fmt.Sprintf("currency mismatch: %s is in %s, prices in %s", k, defaultCurrency, s.prices.currency))
		}
		return appendCostFindings(dst, n, attributes.CostSourceProvider, defaultCurrency)
	}
	if s.prices == nil {
		return dst
	}
	var tok [4]uint64
	counted := false
	for i, name := range [...]string{
		attributes.FindingInputTokens, attributes.FindingOutputTokens,
		attributes.FindingCacheReadInputTokens, attributes.FindingCacheCreationInputTokens,
	} {
		v, ok := f.Get(name)
		if !ok {
			continue
		}
		n, valid := usage.TokenCount(v)
		if !valid {
			return costError(dst, fmt.Sprintf("%s: %v is not a token count", name, v))
		}
		tok[i], counted = uint64(n), true
	}
	if !counted {
		return dst
	}
	model, _ := f.Get(attributes.FindingModel)
	if model.AsString() == "" {
		return costError(dst, "no model finding to price the tokens by")
	}
	p := s.prices.lookup(model.AsString())
	if p == nil {
		return costError(dst, fmt.Sprintf("no price for model %q", model.AsString()))
	}
	n, ok := computeNanos(p, tok[0], tok[1], tok[2], tok[3])
	if !ok {
		return costError(dst, "cost too large")
	}
	return appendCostFindings(dst, n, attributes.CostSourceComputed, s.prices.currency)
}

// computeNanos prices the tokens of one span in 128-bit integers and
// rounds once, half up, to nanos. Input tokens include the cache tokens,
// as the GenAI conventions say; when the cache counts exceed the input
// count, the input count is taken to exclude them, as Anthropic's API
// reports it.
func computeNanos(p *modelPrice, input, output, cacheRead, cacheCreation uint64) (int64, bool) {
	uncached := input
	if c, carry := bits.Add64(cacheRead, cacheCreation, 0); carry == 0 && c <= input {
		uncached = input - c
	}
	var hi, lo uint64
	add := func(tokens, price uint64) bool {
		h, l := bits.Mul64(tokens, price)
		var c uint64
		lo, c = bits.Add64(lo, l, 0)
		hi, c = bits.Add64(hi, h, c)
		return c == 0
	}
	if !add(uncached, p.input) || !add(output, p.output) || !add(cacheRead, p.cacheRead) || !add(cacheCreation, p.cacheCreation) {
		return 0, false
	}
	const perMillion = 1_000_000
	if hi >= perMillion {
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, perMillion)
	if rem*2 >= perMillion {
		q++
	}
	if q >= usage.MaxCostNanos {
		return 0, false
	}
	return int64(q), true
}

func appendCostFindings(f stagetrace.Attrs, nanos int64, source, currency string) stagetrace.Attrs {
	return append(f,
		stagetrace.Attr{Key: attributes.FindingCost, Value: stagetrace.Float64Value(usage.Cost{Nanos: nanos}.Float64())},
		stagetrace.Attr{Key: attributes.FindingCostSource, Value: stagetrace.StringValue(source)},
		stagetrace.Attr{Key: attributes.FindingCostCurrency, Value: stagetrace.StringValue(currency)},
	)
}

func costError(f stagetrace.Attrs, msg string) stagetrace.Attrs {
	return append(f, stagetrace.Attr{Key: attributes.FindingCostError, Value: stagetrace.StringValue(msg)})
}
