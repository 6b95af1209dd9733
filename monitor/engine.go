package monitor

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// rule is an AlertRule with its parsed series and its state.
type rule struct {
	AlertRule
	kind     SeriesKind // "" for a name without a prefix
	name     string     // series name without the prefix
	minCount int64
	index    int // of a budget, in Monitor.budgets and runState.fired

	firing bool  // the windowed rule breached and has not resolved
	last   Alert // the last alert it raised

	// counts are the values meeting Where, per bucket, ascending.
	counts  []countBucket
	touched uint64 // Write generation that last counted
}

type countBucket struct {
	epoch, n int64
}

func newRule(ar AlertRule) *rule {
	r := &rule{AlertRule: ar, minCount: max(ar.MinCount, 1)}
	if r.Level == "" {
		r.Level = LevelWarning
	}
	if ar.Stat.windowed() {
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
		return 0, 0, r.Stat == StatCount
	}
	st := s.stats(s.inWindow(first), r.Window, r.Stat.quantile(), &m.sc)
	v, ok = r.Stat.of(&st, r.minCount)
	n = st.Count
	if r.Stat.tokens() {
		n = st.TokenSpans
	}
	return v, n, ok
}

// evaluate evaluates the windowed rules, or with touchedOnly those whose
// series the current Write touched, appending the alerts they raise.
func (m *Monitor) evaluate(now time.Time, nowE int64, touchedOnly bool, alerts []Alert) []Alert {
	for _, r := range m.rules {
		if touchedOnly && !m.touched(r) {
			continue
		}
		var breached, cleared bool
		if r.Stat.quantile() {
			breached, cleared = m.judgeQuantile(r, nowE)
		} else {
			v, _, ok := m.value(r, nowE)
			breached = ok && r.Op.HoldsFloat(v, r.Threshold)
			cleared = !ok || r.cleared(v)
		}
		switch {
		case !r.firing && breached:
			r.firing = true
			v, n, _ := m.value(r, nowE)
			r.last = r.alert(StateFiring, now, v, n)
			alerts = append(alerts, r.last)
		case r.firing && cleared:
			r.firing = false
			v, n, ok := m.value(r, nowE)
			r.last = r.alert(StateResolved, now, v, n)
			if !ok {
				r.last.Message = r.prefix() + "window holds too few records: resolved"
			}
			alerts = append(alerts, r.last)
		}
	}
	return alerts
}

// judgeQuantile says whether a percentile rule breaches, and whether it is
// back in bounds, without computing the percentile.
func (m *Monitor) judgeQuantile(r *rule, nowE int64) (breached, cleared bool) {
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
	q := r.Stat.q()
	c := compareQuantile(bs, q, r.Threshold)
	breached = r.Op.Holds(c)
	if r.Clear == nil {
		return breached, !breached
	}
	c = compareQuantile(bs, q, *r.Clear)
	if below(r.Op) {
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
	if below(r.Op) {
		return v >= c
	}
	return v <= c
}

// checkBudgets fires the per-run budgets run r has just exceeded, once per
// run: a run's usage only grows, so these never resolve.
func (m *Monitor) checkBudgets(r *runState, now time.Time, alerts []Alert) []Alert {
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
		a := b.alert(StateFiring, now, v, r.spans)
		a.RunID = r.id
		a.Data[dataRunID] = r.id
		a.Message = fmt.Sprintf("%srun %s: %s = %s %s %s", b.prefix(), r.id, b.Stat, num(v), b.Op, num(b.Threshold))
		alerts = append(alerts, a)
	}
	return alerts
}

// prefix is the start of the rule's messages.
func (r *rule) prefix() string {
	if r.Message != "" {
		return r.Message + ": "
	}
	return ""
}

func (r *rule) alert(state State, now time.Time, v float64, n int64) Alert {
	a := Alert{
		Name:  r.Name,
		Level: r.Level,
		State: state,
		Time:  now,
		Data: map[string]any{
			dataStat:      string(r.Stat),
			dataOp:        string(r.Op),
			dataThreshold: r.Threshold,
			dataValue:     v,
			dataCount:     n,
		},
	}
	what := string(r.Stat)
	if r.Stat.windowed() {
		a.Data[dataMetric] = r.Metric
		a.Data[dataWindow] = r.Window.String()
		if r.Where != nil {
			a.Data[dataWhere] = string(r.Where.Op) + " " + num(r.Where.Value)
			what = fmt.Sprintf("count of values %s %s", r.Where.Op, num(r.Where.Value))
		}
	}
	if r.Clear != nil {
		a.Data[dataClear] = *r.Clear
	}
	verb := "breached"
	if state == StateResolved {
		verb = "back in bounds"
	}
	a.Message = fmt.Sprintf("%s%s %s = %s, threshold %s %s, over %v (%d records): %s",
		r.prefix(), r.Metric, what, num(v), r.Op, num(r.Threshold), r.Window, n, verb)
	return a
}

// num formats a number for a message: whole numbers in full, others to 4
// significant digits.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
