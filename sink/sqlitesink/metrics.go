package sqlitesink

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// The label names and values, matchers, aggregations and results of
// metric queries: see package query.
const (
	LabelStage    = query.LabelStage
	LabelRunID    = query.LabelRunID
	LabelName     = query.LabelName
	LabelModel    = query.LabelModel
	LabelSource   = query.LabelSource
	SourceEvent   = query.LabelSourceEvent
	SourceFinding = query.LabelSourceFinding
	AggAvg        = query.AggAvg
	AggSum        = query.AggSum
	AggMin        = query.AggMin
	AggMax        = query.AggMax
	AggCount      = query.AggCount
)

type (
	// LabelMatcher keeps the data points whose label matches.
	LabelMatcher = query.LabelMatcher
	// Agg says how the data points of one step are combined.
	Agg = query.Agg
	// MetricQuery selects data points of one metric and aggregates them.
	MetricQuery = query.MetricQuery
	// Point is the aggregate of the data points of one step.
	Point = query.MetricPoint
	// Series is the points of one combination of labels.
	Series = query.Series
)

// ParseLabelMatcher reads a label matcher; see query.ParseLabelMatcher.
func ParseLabelMatcher(s string) (LabelMatcher, error) { return query.ParseLabelMatcher(s) }

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
		return query.ModelOf(attrs), nil
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
	return query.EventLabel(p.parsed, name), nil
}

// Metrics returns the series of q.Name, aggregated per step (or over the
// whole range with Instant), ordered by their labels.
func (s *Store) Metrics(ctx context.Context, q MetricQuery) ([]Series, error) {
	if err := q.Normalize(s.cfg.now()); err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	db, err := s.readDB()
	if err != nil {
		return nil, err
	}
	since, until := query.StoredUnixNano(q.Since), query.StoredUnixNano(q.Until)
	agg := query.NewAggregator(q)
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
			if err := agg.Add(p.ns, p.value, p.label); err != nil {
				rows.Close()
				return fmt.Errorf("sqlitesink: %w", err)
			}
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("sqlitesink: metrics: %w", err)
		}
		return nil
	}
	if len(q.Labels) == 0 && len(q.By) == 0 {
		if err := s.unlabelledMetrics(ctx, db, q, agg, since, until); err != nil {
			return nil, err
		}
		return agg.Series(), nil
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
	}, sqlfields.SourceFinding, q.Name, sqlfields.TypeNumber, since, until); err != nil {
		return nil, err
	}
	return agg.Series(), nil
}

// unlabelledMetrics adds the points of q, which has no labels to match or
// split by, to agg: the minutes of metric events q covers whole from
// metric_minutes, the other metric events and the numeric findings as
// points, packed into one blob per source (stagetrace_points). One
// statement reads them all, so that they are of one state of the file.
func (s *Store) unlabelledMetrics(ctx context.Context, db *sql.DB, q MetricQuery, agg *query.Aggregator, since, until int64) error {
	step := q.Step.Nanoseconds()
	if q.Instant {
		step = 0
	}
	// Without whole minutes, the range of minutes is empty and the points
	// of [since, until) are read from the point indexes.
	lo, hi, ok := minuteSplit(since, until, step)
	if !ok {
		lo, hi = until, until
	}
	var blobs [5][]byte
	var partials []byte
	err := db.QueryRowContext(ctx, `SELECT
	(SELECT `+pointsFunc+`(time_ns, value) FROM metric_points WHERE name = ?1 AND time_ns >= ?2 AND time_ns < ?3),
	(SELECT `+pointsFunc+`(time_ns, value) FROM metric_points WHERE name = ?1 AND time_ns >= ?4 AND time_ns < ?5),
	(SELECT `+pointsFunc+`(time_ns, metric_value) FROM events WHERE metric_name = ?1 AND time_ns >= ?2 AND time_ns < ?3),
	(SELECT `+pointsFunc+`(time_ns, metric_value) FROM events WHERE metric_name = ?1 AND time_ns >= ?4 AND time_ns < ?5),
	(SELECT `+pointsFunc+`(s.end_ns, v.val) FROM span_values v JOIN spans s ON s.id = v.span_id
		WHERE v.source = ?6 AND v.key_id = (SELECT k.id FROM keys k WHERE k.name = ?1) AND v.type = ?7
		AND s.end_ns >= ?2 AND s.end_ns < ?5),
	(SELECT `+packPartialsFunc+`(minute_ns, partial) FROM metric_minutes WHERE name = ?1 AND minute_ns >= ?3 AND minute_ns < ?4)`,
		q.Name, since, lo, hi, until, sqlfields.SourceFinding, sqlfields.TypeNumber,
	).Scan(&blobs[0], &blobs[1], &blobs[2], &blobs[3], &blobs[4], &partials)
	if err != nil {
		return fmt.Errorf("sqlitesink: metrics: %w", err)
	}
	noLabel := func(string) (string, error) { return "", nil }
	for _, b := range blobs {
		if err := unpackPoints(b, func(ns int64, value float64) error { return agg.Add(ns, value, noLabel) }); err != nil {
			return fmt.Errorf("sqlitesink: metrics: %w", err)
		}
	}
	if err := unpackPartials(partials, agg.AddPartial); err != nil {
		return fmt.Errorf("sqlitesink: metrics: %w", err)
	}
	return nil
}
