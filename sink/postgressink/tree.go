package postgressink

import (
	"context"
	"fmt"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// SpanRef names a span: by its trace and span ids, or by its span id alone.
type SpanRef = query.SpanRef

// SpanNode is a span in a span tree, with its children in order of start.
type SpanNode = query.SpanNode

// Span returns one span, or ErrNotFound.
func (s *Store) Span(ctx context.Context, traceID stagetrace.TraceID, spanID stagetrace.SpanID) (stagetrace.StageSpan, error) {
	var out []stagetrace.StageSpan
	err := s.each(ctx, &spanSelect{text: `SELECT s.record FROM spans s WHERE s.trace_id = $1 AND s.span_id = $2 ORDER BY s.id LIMIT 1`,
		args: []any{traceID[:], spanID[:]}}, func(sp *stagetrace.StageSpan) error {
		out = append(out, *sp)
		return nil
	})
	if err != nil {
		return stagetrace.StageSpan{}, err
	}
	if len(out) == 0 {
		return stagetrace.StageSpan{}, fmt.Errorf("%w: span %s in trace %s", ErrNotFound, spanID, traceID)
	}
	return out[0], nil
}

// SpanTree returns the span ref names and its descendants down to
// maxDepth levels below it (0: all), children in order of start. With
// attrs, each span holds only those attributes and findings (see
// query.SpanQuery.Attrs). It returns ErrNotFound when there is no such
// span, and an error when a span id alone names spans of two traces.
func (s *Store) SpanTree(ctx context.Context, ref SpanRef, maxDepth int, attrs []string) (*SpanNode, error) {
	proj, err := query.NewProjection(attrs)
	if err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	if !ref.TraceID.IsValid() {
		if ref.TraceID, err = s.traceOf(ctx, ref.SpanID); err != nil {
			return nil, err
		}
	}
	spans, err := s.Trace(ctx, ref.TraceID)
	if err != nil {
		return nil, err
	}
	top := query.BuildTree(spans, ref.SpanID, maxDepth, proj)
	if top == nil {
		return nil, fmt.Errorf("%w: span %s in trace %s", ErrNotFound, ref.SpanID, ref.TraceID)
	}
	return top, nil
}

// traceOf finds the trace of a span given by its span id alone.
func (s *Store) traceOf(ctx context.Context, spanID stagetrace.SpanID) (stagetrace.TraceID, error) {
	var trace stagetrace.TraceID
	if err := s.begin(); err != nil {
		return trace, err
	}
	defer s.end()
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT trace_id FROM spans WHERE span_id = $1 LIMIT 2`, spanID[:])
	if err != nil {
		return trace, fmt.Errorf("postgressink: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return trace, fmt.Errorf("postgressink: %w", err)
		}
		copy(trace[:], b)
		n++
	}
	if err := rows.Err(); err != nil {
		return trace, fmt.Errorf("postgressink: %w", err)
	}
	switch n {
	case 0:
		return trace, fmt.Errorf("%w: span %s", ErrNotFound, spanID)
	case 1:
		return trace, nil
	}
	return trace, fmt.Errorf("postgressink: span id %s is in more than one trace: give its trace id", spanID)
}
