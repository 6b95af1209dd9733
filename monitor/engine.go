package monitor

import (
	"time"

	"github.com/stagetrace/stagetrace/monitor/alert"
)

// rule is an alert rule with its parsed series and its state.
type rule struct {
	alert.Rule
	kind     SeriesKind // "" for a name without a prefix
	name     string     // series name without the prefix
	minCount int64
	index    int // of a budget, in Monitor.budgets and runState.fired

	firing bool        // the windowed rule breached and has not resolved
	last   alert.Alert // the last alert it raised

	// counts are the values meeting Where, per bucket, ascending.
	counts  []countBucket
	touched uint64 // Write generation that last counted
}

type countBucket struct {
	epoch, n int64
}

func newRule(ar alert.Rule) *rule {
	r := &rule{Rule: ar, minCount: max(ar.MinCount, 1)}
	if ar.Stat.Windowed() {
		r.kind, r.name, _ = parseSeries(ar.Metric) // validated by New
	}
	return r
}

func (r *rule) countAt(epoch, first int64) {
	n := len(r.counts)
	if n > 0 && r.counts[n-1].epoch == epoch {
		r.counts[n-1].n++
		return
	}
	r.pruneCounts(first)
	i := len(r.counts)
	for i > 0 && r.counts[i-1].epoch > epoch {
		i--
	}
	if i > 0 && r.counts[i-1].epoch == epoch {
		r.counts[i-1].n++
		return
	}
	r.counts = append(r.counts, countBucket{})
	copy(r.counts[i+1:], r.counts[i:])
	r.counts[i] = countBucket{epoch: epoch, n: 1}
}

func (r *rule) pruneCounts(first int64) {
	i := 0
	for i < len(r.counts) && r.counts[i].epoch < first {
		i++
	}
	r.counts = r.counts[i:]
}

// value returns the rule's statistic over its window ending in epoch
// nowE, and how many records it is computed from; ok is false when the
// window cannot judge it.
func (m *Monitor) value(r *rule, nowE int64) (v float64, n int64, ok bool) {
	first := m.windowStart(nowE, r.Window)
	if r.Where != nil {
		for _, c := range r.counts {
			if c.epoch >= first {
				n += c.n
			}
		}
		return float64(n), n, true
	}
	s := m.lookup(r.kind, r.name)
	if s == nil {
		return 0, 0, r.Stat == alert.StatCount
	}
	_, q := r.Stat.Quantile()
	st := s.stats(s.inWindow(first), r.Window, q, &m.sc)
	v, ok = statOf(r.Stat, &st, r.minCount)
	n = st.Count
	if r.Stat.Tokens() {
		n = st.TokenSpans
	}
	return v, n, ok
}

// evaluate evaluates the windowed rules, or with touchedOnly those whose
// series the current Write touched, appending the alerts they raise.
func (m *Monitor) evaluate(now time.Time, nowE int64, touchedOnly bool, alerts []alert.Alert) []alert.Alert {
	for _, r := range m.rules {
		if touchedOnly && !m.touched(r) {
			continue
		}
		var breached, cleared bool
		if q, ok := r.Stat.Quantile(); ok {
			breached, cleared = m.judgeQuantile(r, q, nowE)
		} else {
			v, _, ok := m.value(r, nowE)
			breached = ok && r.Op.HoldsFloat(v, r.Threshold)
			cleared = !ok || r.cleared(v)
		}
		switch {
		case !r.firing && breached:
			r.firing = true
			v, n, _ := m.value(r, nowE)
			r.last = r.Raise(alert.StateFiring, now, v, n, true)
			alerts = append(alerts, r.last)
		case r.firing && cleared:
			r.firing = false
			v, n, ok := m.value(r, nowE)
			r.last = r.Raise(alert.StateResolved, now, v, n, ok)
			alerts = append(alerts, r.last)
		}
	}
	return alerts
}

// judgeQuantile says whether a rule on the q-quantile breaches, and
// whether it is back in bounds, without computing the quantile.
func (m *Monitor) judgeQuantile(r *rule, q float64, nowE int64) (breached, cleared bool) {
	s := m.lookup(r.kind, r.name)
	if s == nil {
		return false, true
	}
	bs := s.inWindow(m.windowStart(nowE, r.Window))
	var values int64
	for i := range bs {
		values += bs[i].values
	}
	if values < r.minCount { // minCount is at least 1
		return false, true
	}
	c := compareQuantile(bs, q, r.Threshold)
	breached = r.Op.Holds(c)
	if r.Clear == nil {
		return breached, !breached
	}
	c = compareQuantile(bs, q, *r.Clear)
	if alert.Below(r.Op) {
		return breached, c >= 0
	}
	return breached, c <= 0
}

// touched reports whether the current Write added to the rule's series.
func (m *Monitor) touched(r *rule) bool {
	if r.Where != nil {
		return r.touched == m.gen
	}
	s := m.lookup(r.kind, r.name)
	return s != nil && s.touched == m.gen
}

// cleared reports whether a firing rule's value is back in bounds: past
// Clear when set, else no longer breaching.
func (r *rule) cleared(v float64) bool {
	if r.Clear == nil {
		return !r.Op.HoldsFloat(v, r.Threshold)
	}
	c := *r.Clear
	if alert.Below(r.Op) {
		return v >= c
	}
	return v <= c
}

// checkBudgets fires the per-run budgets run r has just exceeded, once per
// run: a run's usage only grows, so these never resolve.
func (m *Monitor) checkBudgets(r *runState, now time.Time, alerts []alert.Alert) []alert.Alert {
	for _, b := range m.budgets {
		if r.fired[b.index] {
			continue
		}
		v, ok := r.value(b.Stat)
		if !ok || !b.Op.HoldsFloat(v, b.Threshold) {
			continue
		}
		r.fired[b.index] = true
		r.alerts++
		alerts = append(alerts, b.RaiseForRun(r.id, now, v, int64(r.rollup.Run().Spans)))
	}
	return alerts
}

// statOf reads stat s from st; ok is false when the window holds too
// few records (minCount) to compute it from.
func statOf(s alert.Stat, st *Stats, minCount int64) (float64, bool) {
	switch s {
	case alert.StatCount:
		return float64(st.Count), true
	case alert.StatSuccessRate:
		return st.SuccessRate, st.Count >= minCount
	case alert.StatErrorRate:
		return st.ErrorRate, st.Count >= minCount
	case alert.StatMeanInputTokens:
		return st.MeanInputTokens, st.TokenSpans >= minCount
	case alert.StatMeanOutputTokens:
		return st.MeanOutputTokens, st.TokenSpans >= minCount
	case alert.StatMeanTotalTokens:
		return st.MeanTotalTokens, st.TokenSpans >= minCount
	}
	ok := st.Values >= minCount
	switch s {
	case alert.StatMean:
		return st.Mean, ok
	case alert.StatMin:
		return st.Min, ok
	case alert.StatMax:
		return st.Max, ok
	case alert.StatP50:
		return st.P50, ok
	case alert.StatP95:
		return st.P95, ok
	case alert.StatP99:
		return st.P99, ok
	}
	return 0, false
}
