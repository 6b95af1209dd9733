package query

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// Labels every data point has. A metric event's attributes other than
// metric.name and metric.value are labels too, under their keys
// (metric.unit, ...). A label a point lacks has the value "".
const (
	LabelStage  = "stage"  // the stage of the span
	LabelRunID  = "run_id" // the run of the span
	LabelName   = "name"   // the name of the span
	LabelModel  = "model"  // the span's gen_ai.request.model attribute
	LabelSource = "source" // "event" for a metric event, "finding" for a finding
)

// Values of LabelSource.
const (
	LabelSourceEvent   = "event"
	LabelSourceFinding = "finding"
)

// LabelMatcher keeps the data points whose label Name compares with
// Value as Op says: =, !=, ~ (also spelled =~, as in PromQL) or !~. The
// regular expressions are Go RE2, matched anywhere in the label's value
// (anchor them with ^ and $), as the ~ filter operator matches.
type LabelMatcher struct {
	Name  string
	Op    Op
	Value string
}

// String returns the matcher as name op "value".
func (m LabelMatcher) String() string { return fmt.Sprintf("%s%s%q", m.Name, m.Op, m.Value) }

// ParseLabelMatcher reads name=value, name!=value, name=~regexp (or
// name~regexp) or name!~regexp.
func ParseLabelMatcher(s string) (LabelMatcher, error) {
	i := strings.IndexAny(s, "=!~")
	if i <= 0 {
		return LabelMatcher{}, fmt.Errorf("label matcher %q: want name=value, name!=value, name=~regexp or name!~regexp", s)
	}
	m := LabelMatcher{Name: s[:i]}
	rest := s[i:]
	for _, spelling := range []string{"=~", "!~", "!=", "~", "="} {
		if strings.HasPrefix(rest, spelling) {
			m.Op, _ = ParseOp(spelling)
			m.Value = rest[len(spelling):]
			return m, m.validate()
		}
	}
	return LabelMatcher{}, fmt.Errorf("label matcher %q: want name=value, name!=value, name=~regexp or name!~regexp", s)
}

func (m LabelMatcher) validate() error {
	if m.Name == "" {
		return fmt.Errorf("label matcher %s: empty label name", m)
	}
	switch m.Op {
	case OpEq, OpNe:
	case OpMatch, OpNotMatch:
		if _, err := Regexp(m.Value); err != nil {
			return fmt.Errorf("label matcher %s: %w", m, err)
		}
	default:
		return fmt.Errorf("label matcher %s: unknown operator %q", m, string(m.Op))
	}
	return nil
}

// Matches reports whether a point whose label has value is kept.
func (m LabelMatcher) Matches(value string) bool {
	switch m.Op {
	case OpEq:
		return value == m.Value
	case OpNe:
		return value != m.Value
	}
	re, err := Regexp(m.Value)
	if err != nil {
		return false
	}
	return re.MatchString(value) == (m.Op == OpMatch)
}

// Agg says how the data points of one step are combined.
type Agg string

// Aggregations.
const (
	AggAvg   Agg = "avg"
	AggSum   Agg = "sum"
	AggMin   Agg = "min"
	AggMax   Agg = "max"
	AggCount Agg = "count"
)

// MetricQuery selects data points of one metric and aggregates them.
//
// The data points of a metric are the metric events named Name
// (metric.name, at the event's time, worth its metric.value) and the
// numeric findings named Name (at the end of their span).
type MetricQuery struct {
	Name string
	// Since and Until bound the points' times: Since <= time < Until.
	// A zero Since does not bound; a zero Until is now.
	Since, Until time.Time
	// Step is the width of the buckets a range query aggregates points
	// into, at least one second. Buckets are aligned on multiples of Step
	// since the Unix epoch; a point is the bucket's start.
	Step time.Duration
	// Instant aggregates all the points into one per series, at Until,
	// instead of one per step.
	Instant bool
	// Labels keeps the points every matcher matches. A label a point
	// lacks has the value "".
	Labels []LabelMatcher
	// By lists the labels series are split by; none: one series.
	By []string
	// Agg combines the points of a step; default AggAvg.
	Agg Agg
}

// MetricPoint is the aggregate of the data points of one step.
type MetricPoint struct {
	Time  time.Time
	Value float64
	Count int // data points aggregated
}

// Series is the points of one combination of the By labels, in order of
// time.
type Series struct {
	Name   string
	Labels map[string]string // the By labels
	Points []MetricPoint
}

// Normalize checks q and fills in its defaults: AggAvg, and now for a
// zero Until.
func (q *MetricQuery) Normalize(now time.Time) error {
	var errs []error
	if q.Name == "" {
		errs = append(errs, errors.New("no metric name"))
	}
	if q.Agg == "" {
		q.Agg = AggAvg
	}
	switch q.Agg {
	case AggAvg, AggSum, AggMin, AggMax, AggCount:
	default:
		errs = append(errs, fmt.Errorf("unknown aggregation %q: want avg, sum, min, max or count", string(q.Agg)))
	}
	if !q.Instant && q.Step < time.Second {
		errs = append(errs, fmt.Errorf("step %v: must be at least 1s", q.Step))
	}
	if q.Until.IsZero() {
		q.Until = now
	}
	if !q.Since.IsZero() && !q.Since.Before(q.Until) {
		errs = append(errs, fmt.Errorf("since %s is not before until %s", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339)))
	}
	for _, m := range q.Labels {
		if err := m.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, b := range q.By {
		if b == "" {
			errs = append(errs, errors.New("empty label name in by"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// Aggregator combines the data points of a metric query into series.
type Aggregator struct {
	q   MetricQuery
	all map[string]*aggSeries
	one *aggSeries // the only series, when q.By is empty
}

// Partial is the aggregate of some data points: their count, least and
// greatest value, and exact sum. Partials of disjoint sets of points merge
// into the partial of their union, whatever the order, so that a store may
// keep partials (rollups) and an executor read points in any order, and
// every AggAvg, AggSum, AggMin, AggMax and AggCount comes out the same bit
// for bit.
type Partial struct {
	Count    int
	Min, Max float64 // meaningful when Count > 0
	Sum      ExactSum
}

// Add adds one point worth v.
func (p *Partial) Add(v float64) {
	if p.Count == 0 {
		p.Min, p.Max = v, v
	} else {
		p.Min, p.Max = least(p.Min, v), greatest(p.Max, v)
	}
	p.Count++
	p.Sum.Add(v)
}

// Merge adds the points of o.
func (p *Partial) Merge(o *Partial) {
	if o.Count == 0 {
		return
	}
	if p.Count == 0 {
		p.Min, p.Max = o.Min, o.Max
	} else {
		p.Min, p.Max = least(p.Min, o.Min), greatest(p.Max, o.Max)
	}
	p.Count += o.Count
	p.Sum.Merge(&o.Sum)
}

// least and greatest order as cmp.Compare does (NaN first), and -0 before
// +0, so that which of two equal values is kept does not depend on order.
func least(a, b float64) float64 {
	if c := cmp.Compare(a, b); c > 0 || c == 0 && math.Signbit(b) {
		return b
	}
	return a
}

func greatest(a, b float64) float64 {
	if c := cmp.Compare(a, b); c < 0 || c == 0 && !math.Signbit(b) {
		return b
	}
	return a
}

// Value returns the aggregate agg of the points.
func (p *Partial) Value(agg Agg) float64 {
	switch agg {
	case AggSum:
		return p.Sum.Float64()
	case AggMin:
		return p.Min
	case AggMax:
		return p.Max
	case AggCount:
		return float64(p.Count)
	}
	return p.Sum.Float64() / float64(p.Count)
}

// AppendBinary appends the partial's encoding, which UnmarshalPartial
// reads.
func (p *Partial) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(p.Count))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Min))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Max))
	return p.Sum.AppendBinary(b)
}

// UnmarshalPartial reads a partial AppendBinary encoded, and nothing else.
func UnmarshalPartial(b []byte) (Partial, error) {
	var p Partial
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 1<<62 || len(b) < k+16 {
		return p, errBadPartial
	}
	p.Count = int(n)
	p.Min = math.Float64frombits(binary.LittleEndian.Uint64(b[k:]))
	p.Max = math.Float64frombits(binary.LittleEndian.Uint64(b[k+8:]))
	var err error
	var rest []byte
	if p.Sum, rest, err = UnmarshalExactSum(b[k+16:]); err != nil || len(rest) != 0 {
		return p, errBadPartial
	}
	return p, nil
}

var errBadPartial = errors.New("bad encoding of a metric partial")

type aggSeries struct {
	labels  map[string]string
	buckets map[int64]*Partial
	last    *Partial // the bucket of the last point, at lastT
	lastT   int64
}

// NewAggregator returns an aggregator for q, which Normalize accepted.
func NewAggregator(q MetricQuery) *Aggregator {
	return &Aggregator{q: q, all: map[string]*aggSeries{}}
}

// Add adds the data point at ns (Unix nanoseconds) worth value, unless a
// label matcher drops it; label returns the value of one of its labels.
// A point outside the query's range is the caller's to leave out.
func (a *Aggregator) Add(ns int64, value float64, label func(name string) (string, error)) error {
	q := &a.q
	for _, m := range q.Labels {
		v, err := label(m.Name)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		if !m.Matches(v) {
			return nil
		}
	}
	if len(q.By) == 0 {
		// One series: no labels to read, no key to build for each point.
		a.single().bucket(q, ns).Add(value)
		return nil
	}
	labels := make(map[string]string, len(q.By))
	var key strings.Builder
	for _, name := range q.By {
		v, err := label(name)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		labels[name] = v
		fmt.Fprintf(&key, "%q,", v)
	}
	se := a.all[key.String()]
	if se == nil {
		se = &aggSeries{labels: labels, buckets: map[int64]*Partial{}}
		a.all[key.String()] = se
	}
	se.bucket(q, ns).Add(value)
	return nil
}

// bucket returns the bucket of the step of time ns.
func (se *aggSeries) bucket(q *MetricQuery, ns int64) *Partial {
	t := q.Until.UnixNano()
	if !q.Instant {
		step := q.Step.Nanoseconds()
		t = floorDiv(ns, step) * step
	}
	// Points mostly come in order of time: the bucket is often the last.
	b := se.last
	if b == nil || se.lastT != t {
		b = se.buckets[t]
		if b == nil {
			b = &Partial{}
			se.buckets[t] = b
		}
		se.last, se.lastT = b, t
	}
	return b
}

// AddPartial adds the points p aggregates, all of them in the step of
// time ns, to the series of a query with no Labels and no By (the caller
// checks both: a partial has no labels to match or split by).
func (a *Aggregator) AddPartial(ns int64, p *Partial) {
	if p.Count == 0 {
		return
	}
	a.single().bucket(&a.q, ns).Merge(p)
}

func (a *Aggregator) single() *aggSeries {
	if a.one == nil {
		a.one = &aggSeries{labels: map[string]string{}, buckets: map[int64]*Partial{}}
		a.all[""] = a.one
	}
	return a.one
}

// Series returns the series of the points added, ordered by their labels,
// their points in order of time.
func (a *Aggregator) Series() []Series {
	q := &a.q
	out := make([]Series, 0, len(a.all))
	for _, se := range a.all {
		s := Series{Name: q.Name, Labels: se.labels}
		for t, b := range se.buckets {
			s.Points = append(s.Points, MetricPoint{Time: time.Unix(0, t).UTC(), Value: b.Value(q.Agg), Count: b.Count})
		}
		slices.SortFunc(s.Points, func(a, b MetricPoint) int { return a.Time.Compare(b.Time) })
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Series) int {
		for _, name := range q.By {
			if c := cmp.Compare(a.Labels[name], b.Labels[name]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// floorDiv divides rounding towards minus infinity, so that buckets of
// times before the epoch are aligned too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// MetricOf returns the name and value of a metric event: one named
// "metric" with a string metric.name and a numeric, not NaN, metric.value.
func MetricOf(ev *stagetrace.TraceEvent) (name string, value float64, ok bool) {
	if ev.Name != attributes.EventMetric {
		return "", 0, false
	}
	n, okName := ev.Attrs.Get(string(attributes.MetricName))
	v, okValue := ev.Attrs.Get(string(attributes.MetricValue))
	f, isNum := v.Number()
	if !okName || !okValue || !isNum || math.IsNaN(f) || n.Kind() != stagetrace.KindString {
		return "", 0, false
	}
	return n.AsString(), f, true
}

// ModelOf returns the model label of a span's attributes.
func ModelOf(attrs stagetrace.Attrs) string {
	v, _ := attrs.Get(string(attributes.GenAIRequestModel))
	return v.String()
}

// EventLabel returns the label name of a metric event with attributes
// attrs, other than the labels of its span: metric.name and metric.value
// are not labels.
func EventLabel(attrs stagetrace.Attrs, name string) string {
	if name == string(attributes.MetricName) || name == string(attributes.MetricValue) {
		return ""
	}
	v, _ := attrs.Get(name)
	return v.String()
}
