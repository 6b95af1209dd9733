package monitor

import (
	"cmp"
	"slices"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/usage"
)

// ModelUsage is the token usage and cost of one model, or of all of them,
// added up as package usage counts them.
type ModelUsage struct {
	Model string `json:"model"`
	Calls int64  `json:"calls"` // spans that reported tokens or a cost
	usage.Totals
}

// add adds one span's usage.
func (m *ModelUsage) add(u *usage.Usage) {
	m.Calls++
	m.Totals.Add(u)
}

// merge adds o into m.
func (m *ModelUsage) merge(o *ModelUsage) {
	m.Calls += o.Calls
	m.Totals.Merge(&o.Totals)
}

// TokenUsageReport is the token usage and cost per model over a window,
// and their totals.
type TokenUsageReport struct {
	Window        time.Duration `json:"-"`
	WindowSeconds float64       `json:"window_seconds"`
	Models        []ModelUsage  `json:"models"` // by model name
	Total         ModelUsage    `json:"total"`  // Model is "total"
}

// UsageOf returns the token usage and cost of spans per model, as the
// monitor counts them, with no window: the report of one run.
func UsageOf(spans []stagetrace.StageSpan) TokenUsageReport {
	byModel := map[string]*ModelUsage{}
	for i := range spans {
		u := usage.Of(&spans[i])
		if !u.Counts() {
			continue
		}
		mu := byModel[u.Model]
		if mu == nil {
			mu = &ModelUsage{Model: u.Model}
			byModel[u.Model] = mu
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
