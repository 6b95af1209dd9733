package postgressink

import (
	"context"
	"fmt"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// sample is one data point with what its labels are read from: the span
// (when known) and, for a metric event, the event.
type sample struct {
	source    string
	run       string
	stage     string
	name      string
	spanRec   []byte // the span's record, for the model; nil when unknown
	eventRec  []byte // the event's record, for its attributes
	spanAttrs stagetrace.Attrs
	evAttrs   stagetrace.Attrs
	read      bool
}

func (p *sample) label(name string) (string, error) {
	switch name {
	case query.LabelStage:
		return p.stage, nil
	case query.LabelRunID:
		return p.run, nil
	case query.LabelName:
		return p.name, nil
	case query.LabelSource:
		return p.source, nil
	}
	if !p.read {
		p.read = true
		if p.spanRec != nil {
			sp, err := decodeSpan(p.spanRec)
			if err != nil {
				return "", err
			}
			p.spanAttrs = sp.Attrs
		}
		if p.eventRec != nil {
			ev, err := decodeEvent(p.eventRec)
			if err != nil {
				return "", err
			}
			p.evAttrs = ev.Attrs
		}
	}
	if name == query.LabelModel {
		return query.ModelOf(p.spanAttrs), nil
	}
	if p.source != query.LabelSourceEvent {
		return "", nil
	}
	return query.EventLabel(p.evAttrs, name), nil
}

// Metrics returns the series of q.Name, aggregated per step (or over the
// whole range with Instant), ordered by their labels: metric events at
// their time, labelled by their span when it is stored, and numeric
// findings at their span's end.
func (s *Store) Metrics(ctx context.Context, q query.MetricQuery) ([]query.Series, error) {
	if err := q.Normalize(s.cfg.now()); err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	since, until := query.UnixNano(q.Since), q.Until.UnixNano()
	agg := query.NewAggregator(q)
	collect := func(text string, source string, args ...any) error {
		rows, err := s.pool.Query(ctx, text, args...)
		if err != nil {
			return fmt.Errorf("postgressink: metrics: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p := sample{source: source}
			var ns int64
			var value float64
			var name *string
			if err := rows.Scan(&ns, &value, &p.run, &p.stage, &name, &p.spanRec, &p.eventRec); err != nil {
				return fmt.Errorf("postgressink: metrics: %w", err)
			}
			if name != nil {
				p.name = *name
			}
			if err := agg.Add(ns, value, p.label); err != nil {
				return fmt.Errorf("postgressink: %w", err)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgressink: metrics: %w", err)
		}
		return nil
	}
	// Metric events; of two spans with the same ids, the last written
	// labels them.
	if err := collect(`SELECT e.time_ns, e.metric_value, coalesce(sp.run_id, e.run_id), coalesce(sp.stage, e.stage), sp.name, sp.record, e.record
FROM events e LEFT JOIN LATERAL (SELECT s.run_id, s.stage, s.name, s.record FROM spans s
	WHERE s.trace_id = e.trace_id AND s.span_id = e.span_id ORDER BY s.id DESC LIMIT 1) sp ON true
WHERE e.metric_name = $1 AND e.time_ns >= $2 AND e.time_ns < $3`, query.LabelSourceEvent, text(q.Name), since, until); err != nil {
		return nil, err
	}
	// Numeric findings, booleans not.
	if err := collect(`SELECT s.end_ns, v.num, s.run_id, s.stage, s.name, s.record, NULL::bytea
FROM span_values v JOIN spans s ON s.id = v.span_id
WHERE v.source = $1 AND v.key = $2 AND v.type = $3 AND s.end_ns >= $4 AND s.end_ns < $5`,
		query.LabelSourceFinding, int16(sqlfields.SourceFinding), text(q.Name), int16(sqlfields.TypeNumber), since, until); err != nil {
		return nil, err
	}
	return agg.Series(), nil
}
