package sqlitesink

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/query"
)

// LabelOp is the operator of a label matcher: =, !=, ~ or !~ of the
// filter language.
type LabelOp = query.Op

// Label matcher operators, as in PromQL (=~ is the PromQL spelling of ~).
// The regular expressions are Go RE2, matched anywhere in the label's
// value (anchor them with ^ and $), as the ~ filter operator matches.
const (
	LabelEq       = query.OpEq
	LabelNe       = query.OpNe
	LabelMatch    = query.OpMatch
	LabelNotMatch = query.OpNotMatch
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
	SourceEvent   = "event"
	SourceFinding = "finding"
)

// LabelMatcher keeps the data points whose label Name compares with
// Value as Op says.
type LabelMatcher struct {
	Name  string
	Op    LabelOp
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
			m.Op, _ = query.ParseOp(spelling)
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
	case LabelEq, LabelNe:
	case LabelMatch, LabelNotMatch:
		if _, err := query.Regexp(m.Value); err != nil {
			return fmt.Errorf("label matcher %s: %w", m, err)
		}
	default:
		return fmt.Errorf("label matcher %s: unknown operator %q", m, string(m.Op))
	}
	return nil
}

func (m LabelMatcher) matches(value string) bool {
	switch m.Op {
	case LabelEq:
		return value == m.Value
	case LabelNe:
		return value != m.Value
	}
	re, err := query.Regexp(m.Value)
	if err != nil {
		return false
	}
	return re.MatchString(value) == (m.Op == LabelMatch)
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
	// Labels keeps the points every matcher matches.
	Labels []LabelMatcher
	// By lists the labels series are split by; none: one series.
	By []string
	// Agg combines the points of a step; default AggAvg.
	Agg Agg
}

// Point is the aggregate of the data points of one step.
type Point struct {
	Time  time.Time
	Value float64
	Count int // data points aggregated
}

// Series is the points of one combination of the By labels, in order of
// time.
type Series struct {
	Name   string
	Labels map[string]string // the By labels
	Points []Point
}

// sample is one data point with what its labels are read from.
type sample struct {
	ns     int64
	value  float64
	source string
	run    string
	stage  string
	name   string
	attrs  []byte // the span's attrs column, for the model
	events []byte // the span's events column, for the event's attributes
	seq    int    // the event's place in events
	orphan stagetrace.Attrs
	parsed stagetrace.Attrs // the event's attributes, once read
	read   bool
}

// label returns the value of a label of the point.
func (p *sample) label(name string) (string, error) {
	switch name {
	case LabelStage:
		return p.stage, nil
	case LabelRunID:
		return p.run, nil
	case LabelName:
		return p.name, nil
	case LabelSource:
		return p.source, nil
	case LabelModel:
		attrs, err := decodeAttrs(p.attrs)
		if err != nil {
			return "", err
		}
		v, _ := attrs.Get(string(attributes.GenAIRequestModel))
		return v.String(), nil
	}
	if p.source != SourceEvent {
		return "", nil
	}
	if !p.read {
		p.read = true
		p.parsed = p.orphan
		if p.events != nil {
			events, err := decodeEvents(p.events, &stagetrace.StageSpan{})
			if err != nil {
				return "", err
			}
			if p.seq < len(events) {
				p.parsed = events[p.seq].Attrs
			}
		}
	}
	if name == string(attributes.MetricName) || name == string(attributes.MetricValue) {
		return "", nil
	}
	v, _ := p.parsed.Get(name)
	return v.String(), nil
}

func (q *MetricQuery) validate(now time.Time) error {
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
		return fmt.Errorf("sqlitesink: metrics: %w", err)
	}
	return nil
}

// Metrics returns the series of q.Name, aggregated per step (or over the
// whole range with Instant), ordered by their labels.
func (s *Store) Metrics(ctx context.Context, q MetricQuery) ([]Series, error) {
	if err := q.validate(s.cfg.now()); err != nil {
		return nil, err
	}
	db, err := s.readDB()
	if err != nil {
		return nil, err
	}
	since, until := unixNano(q.Since), q.Until.UnixNano()
	var samples []sample
	collect := func(text string, scan func(*sql.Rows, *sample) error, args ...any) error {
		rows, err := db.QueryContext(ctx, text, args...)
		if err != nil {
			return fmt.Errorf("sqlitesink: metrics: %w", err)
		}
		for rows.Next() {
			var p sample
			if err := scan(rows, &p); err != nil {
				rows.Close()
				return fmt.Errorf("sqlitesink: metrics: %w", err)
			}
			samples = append(samples, p)
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("sqlitesink: metrics: %w", err)
		}
		return nil
	}
	// Metric events kept in their span's row.
	if err := collect(`SELECT p.time_ns, p.value, p.seq, s.run_id, s.stage, s.name, s.attrs, s.events
FROM metric_points p JOIN spans s ON s.id = p.span_id
WHERE p.name = ? AND p.time_ns >= ? AND p.time_ns < ?`, func(rows *sql.Rows, p *sample) error {
		p.source = SourceEvent
		return rows.Scan(&p.ns, &p.value, &p.seq, &p.run, &p.stage, &p.name, &p.attrs, &p.events)
	}, q.Name, since, until); err != nil {
		return nil, err
	}
	// Metric events that came without their span.
	if err := collect(`SELECT e.time_ns, e.metric_value, e.run_id, e.stage, coalesce(s.name, ''), s.attrs, e.attrs
FROM events e LEFT JOIN traces t ON t.trace_id = e.trace_id LEFT JOIN spans s ON s.tno = t.tno AND s.span_id = e.span_id
WHERE e.metric_name = ? AND e.time_ns >= ? AND e.time_ns < ?`, func(rows *sql.Rows, p *sample) error {
		p.source = SourceEvent
		var attrs []byte
		if err := rows.Scan(&p.ns, &p.value, &p.run, &p.stage, &p.name, &p.attrs, &attrs); err != nil {
			return err
		}
		var err error
		p.orphan, err = decodeAttrs(attrs)
		return err
	}, q.Name, since, until); err != nil {
		return nil, err
	}
	// Numeric findings, through the value index.
	if err := collect(`SELECT s.end_ns, v.val, s.run_id, s.stage, s.name, s.attrs
FROM span_values v JOIN spans s ON s.id = v.span_id
WHERE v.source = ? AND v.key_id = (SELECT k.id FROM keys k WHERE k.name = ?) AND v.type = ?
	AND s.end_ns >= ? AND s.end_ns < ?`, func(rows *sql.Rows, p *sample) error {
		p.source = SourceFinding
		return rows.Scan(&p.ns, &p.value, &p.run, &p.stage, &p.name, &p.attrs)
	}, sourceFinding, q.Name, typeNumber, since, until); err != nil {
		return nil, err
	}
	return aggregate(q, samples)
}

// aggregate filters samples by the label matchers and combines them into
// series.
func aggregate(q MetricQuery, samples []sample) ([]Series, error) {
	type bucket struct {
		sum, min, max float64
		n             int
	}
	type series struct {
		labels  map[string]string
		buckets map[int64]*bucket
	}
	all := map[string]*series{}
	step := q.Step.Nanoseconds()
	for i := range samples {
		p := &samples[i]
		keep := true
		for _, m := range q.Labels {
			v, err := p.label(m.Name)
			if err != nil {
				return nil, fmt.Errorf("sqlitesink: metrics: %w", err)
			}
			if !m.matches(v) {
				keep = false
				break
			}
		}
		if !keep {
			continue
		}
		labels := make(map[string]string, len(q.By))
		var key strings.Builder
		for _, name := range q.By {
			v, err := p.label(name)
			if err != nil {
				return nil, fmt.Errorf("sqlitesink: metrics: %w", err)
			}
			labels[name] = v
			fmt.Fprintf(&key, "%q,", v)
		}
		se := all[key.String()]
		if se == nil {
			se = &series{labels: labels, buckets: map[int64]*bucket{}}
			all[key.String()] = se
		}
		t := q.Until.UnixNano()
		if !q.Instant {
			t = floorDiv(p.ns, step) * step
		}
		b := se.buckets[t]
		if b == nil {
			b = &bucket{min: math.Inf(1), max: math.Inf(-1)}
			se.buckets[t] = b
		}
		b.sum += p.value
		b.min = min(b.min, p.value)
		b.max = max(b.max, p.value)
		b.n++
	}
	out := make([]Series, 0, len(all))
	for _, se := range all {
		s := Series{Name: q.Name, Labels: se.labels}
		for t, b := range se.buckets {
			v := b.sum / float64(b.n)
			switch q.Agg {
			case AggSum:
				v = b.sum
			case AggMin:
				v = b.min
			case AggMax:
				v = b.max
			case AggCount:
				v = float64(b.n)
			}
			s.Points = append(s.Points, Point{Time: time.Unix(0, t).UTC(), Value: v, Count: b.n})
		}
		slices.SortFunc(s.Points, func(a, b Point) int { return a.Time.Compare(b.Time) })
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
	return out, nil
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
