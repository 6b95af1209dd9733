package monitor

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/rules"
)

// UnknownModel is the model of token usage whose span named no model.
const UnknownModel = "unknown"

// ModelUsage is the token usage and cost of one model, or of all of them.
// Input tokens include the cache tokens and output tokens the reasoning
// tokens, as the GenAI conventions count them.
type ModelUsage struct {
	Model                    string `json:"model"`
	Calls                    int64  `json:"calls"` // spans that reported tokens or a cost
	InputTokens              int64  `json:"input_tokens"`
	OutputTokens             int64  `json:"output_tokens"`
	CacheReadInputTokens     int64  `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64  `json:"cache_creation_input_tokens"`
	ReasoningOutputTokens    int64  `json:"reasoning_output_tokens"`
	// TotalTokens is input plus output tokens, or the total_tokens
	// finding of a span that reported no split.
	TotalTokens int64 `json:"total_tokens"`
	// Cost is the sum of the spans' cost findings in Currency, added
	// exactly in billionths (CostNanos).
	Cost      float64 `json:"cost"`
	CostNanos int64   `json:"cost_nanos"`
	Currency  string  `json:"currency,omitempty"`
	// CostErrors counts spans whose cost is unknown: a cost_error
	// finding, a cost that is not an amount, or a cost in a currency other
	// than Currency (left out of Cost rather than summed wrongly).
	CostErrors int64 `json:"cost_errors"`
}

// TokenUsageReport is the token usage and cost per model over a window,
// and their totals.
type TokenUsageReport struct {
	Window        time.Duration `json:"-"`
	WindowSeconds float64       `json:"window_seconds"`
	Models        []ModelUsage  `json:"models"` // by model name
	Total         ModelUsage    `json:"total"`  // Model is "total"
}

// spanUsage is what one span reported: its tokens, model and cost.
type spanUsage struct {
	in, out, cacheRead, cacheCreation, reasoning, total int64

	tokens      bool // any token count
	model       string
	costFinding bool // a cost finding, to read with rules.SpanCost
	cost        rules.Cost
	costOK      bool
	costError   bool
}

func (u *spanUsage) counts() bool { return u.tokens || u.costOK || u.costError }

// tokenCount reads a token count: a non-negative int64, or a float64
// holding one.
func tokenCount(v stagetrace.Value) (int64, bool) {
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

// readUsage scans the findings of s for tokens, model and cost, calling
// numeric for each numeric finding (nil to skip) on the way, so that a
// span's findings are scanned once.
func readUsage(s *stagetrace.StageSpan, u *spanUsage, numeric func(name string, v float64)) {
	var haveTotal bool
	var total int64
	for i := range s.Findings {
		f := &s.Findings[i]
		var n *int64
		switch f.Key {
		case attributes.FindingInputTokens:
			n = &u.in
		case attributes.FindingOutputTokens:
			n = &u.out
		case attributes.FindingCacheReadInputTokens:
			n = &u.cacheRead
		case attributes.FindingCacheCreationInputTokens:
			n = &u.cacheCreation
		case attributes.FindingReasoningOutputTokens:
			n = &u.reasoning
		case attributes.FindingTotalTokens:
			if c, ok := tokenCount(f.Value); ok {
				haveTotal, total = true, c
			}
		case attributes.FindingModel:
			u.model = f.Value.AsString()
		case attributes.FindingCost:
			u.costFinding = true
		case attributes.FindingCostError:
			u.costError = true
		}
		if n != nil {
			if c, ok := tokenCount(f.Value); ok {
				*n, u.tokens = c, true
			}
		}
		if numeric != nil {
			switch f.Value.Kind() {
			case stagetrace.KindInt64:
				numeric(f.Key, float64(f.Value.AsInt64()))
			case stagetrace.KindFloat64:
				numeric(f.Key, f.Value.AsFloat64())
			case stagetrace.KindBool:
				b := 0.0
				if f.Value.AsBool() {
					b = 1
				}
				numeric(f.Key, b)
			}
		}
	}
	if u.tokens {
		u.total = u.in + u.out
	} else if haveTotal {
		u.total, u.tokens = total, true
	}
	if u.costFinding {
		c, ok, err := rules.SpanCost(s)
		switch {
		case err != nil:
			u.costError = true
		case ok:
			u.cost, u.costOK = c, true
		}
	}
	if u.model == "" && u.counts() {
		u.model = modelAttr(s.Attrs)
	}
}

// modelAttr names the model of a span without a model finding (no rules
// ran on it) from the GenAI attributes, the response's model first.
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

// add adds one span's usage.
func (m *ModelUsage) add(u *spanUsage) {
	m.Calls++
	m.InputTokens += u.in
	m.OutputTokens += u.out
	m.CacheReadInputTokens += u.cacheRead
	m.CacheCreationInputTokens += u.cacheCreation
	m.ReasoningOutputTokens += u.reasoning
	m.TotalTokens += u.total
	if u.costError {
		m.CostErrors++
	}
	if u.costOK {
		m.addCost(u.cost.Nanos, u.cost.Currency, 1)
	}
}

// addCost adds nanos in currency; errs is what a currency mismatch counts.
func (m *ModelUsage) addCost(nanos int64, currency string, errs int64) {
	if m.Currency == "" && m.CostNanos == 0 {
		m.Currency = currency
	}
	if currency != m.Currency {
		m.CostErrors += errs
		return
	}
	m.CostNanos += nanos
	m.Cost = rules.Cost{Nanos: m.CostNanos}.Float64()
}

// merge adds o into m.
func (m *ModelUsage) merge(o *ModelUsage) {
	m.Calls += o.Calls
	m.InputTokens += o.InputTokens
	m.OutputTokens += o.OutputTokens
	m.CacheReadInputTokens += o.CacheReadInputTokens
	m.CacheCreationInputTokens += o.CacheCreationInputTokens
	m.ReasoningOutputTokens += o.ReasoningOutputTokens
	m.TotalTokens += o.TotalTokens
	m.CostErrors += o.CostErrors
	if o.CostNanos != 0 || o.Currency != "" {
		m.addCost(o.CostNanos, o.Currency, o.Calls)
	}
}

// UsageOf returns the token usage and cost of spans per model, as the
// monitor counts them, with no window: the report of one run.
func UsageOf(spans []stagetrace.StageSpan) TokenUsageReport {
	byModel := map[string]*ModelUsage{}
	for i := range spans {
		var u spanUsage
		readUsage(&spans[i], &u, nil)
		if !u.counts() {
			continue
		}
		mu := byModel[u.model]
		if mu == nil {
			mu = &ModelUsage{Model: u.model}
			byModel[u.model] = mu
		}
		mu.add(&u)
	}
	return buildReport(byModel, 0)
}

func buildReport(byModel map[string]*ModelUsage, window time.Duration) TokenUsageReport {
	r := TokenUsageReport{Window: window, WindowSeconds: window.Seconds(), Models: []ModelUsage{}, Total: ModelUsage{Model: "total"}}
	for _, mu := range byModel {
		r.Models = append(r.Models, *mu)
	}
	slices.SortFunc(r.Models, func(a, b ModelUsage) int { return cmp.Compare(a.Model, b.Model) })
	for i := range r.Models {
		r.Total.merge(&r.Models[i])
	}
	return r
}

// usageSeries is the windowed usage of one model.
type usageSeries struct {
	buckets []usageBucket
}

type usageBucket struct {
	epoch int64
	u     ModelUsage
}

func (s *usageSeries) at(epoch int64) *ModelUsage {
	n := len(s.buckets)
	if n > 0 && s.buckets[n-1].epoch == epoch {
		return &s.buckets[n-1].u
	}
	i := n
	for i > 0 && s.buckets[i-1].epoch > epoch {
		i--
	}
	if i > 0 && s.buckets[i-1].epoch == epoch {
		return &s.buckets[i-1].u
	}
	s.buckets = slices.Insert(s.buckets, i, usageBucket{epoch: epoch})
	return &s.buckets[i].u
}

func (s *usageSeries) prune(first int64) bool {
	i := 0
	for i < len(s.buckets) && s.buckets[i].epoch < first {
		i++
	}
	s.buckets = s.buckets[i:]
	return len(s.buckets) == 0
}
