package sqlitesink

import (
	"context"
	"fmt"
	"io"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/sqlfields"
	"github.com/stagetrace/stagetrace/query"
)

// Formats ExportSpans writes: see query.FormatJSONL and query.FormatCSV.
const (
	FormatJSONL = query.FormatJSONL
	FormatCSV   = query.FormatCSV
)

// ExportSpans writes the spans q selects to w in format, reading them as it
// writes so that exports larger than memory work, and returns how many it
// wrote. Events are not exported.
func (s *Store) ExportSpans(ctx context.Context, q SpanQuery, format string, w io.Writer) (int, error) {
	if err := query.CheckFormat(format); err != nil {
		return 0, fmt.Errorf("sqlitesink: %w", err)
	}
	if _, err := query.NewProjection(q.Attrs); err != nil {
		return 0, fmt.Errorf("sqlitesink: %w", err)
	}
	text, args, err := s.querySQL(ctx, q)
	if err != nil {
		return 0, err
	}
	var cols []string
	if query.IsCSV(format) {
		if cols, err = s.csvColumns(ctx, q); err != nil {
			return 0, err
		}
	}
	sw, err := query.NewSpanWriter(w, format, cols, q.Attrs)
	if err != nil {
		return 0, fmt.Errorf("sqlitesink: %w", err)
	}
	err = s.eachSpan(ctx, text, args, func(st *storedSpan) error { return sw.Write(&st.StageSpan) })
	if err == nil {
		err = sw.Close()
	}
	if err != nil {
		return sw.Count(), fmt.Errorf("sqlitesink: export: %w", err)
	}
	return sw.Count(), nil
}

// csvColumns returns the columns after the built-in ones: q.Attrs, or the
// finding names of the spans q selects, in name order.
func (s *Store) csvColumns(ctx context.Context, q SpanQuery) ([]string, error) {
	if len(q.Attrs) > 0 {
		return q.Attrs, nil
	}
	ix, err := s.indexedKeys(ctx)
	if err != nil {
		return nil, err
	}
	ids, args, err := spansSQL(q, false, ix)
	if err != nil {
		return nil, err
	}
	db, err := s.readDB()
	if err != nil {
		return nil, err
	}
	// spansSQL selects spanColumns; only the ids are needed here.
	text := `SELECT DISTINCT k.name FROM span_values v JOIN keys k ON k.id = v.key_id
WHERE v.source = ? AND v.span_id IN (SELECT id FROM (` + ids + `)) ORDER BY k.name`
	rows, err := db.QueryContext(ctx, text, append([]any{sqlfields.SourceFinding}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: export: %w", err)
	}
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlitesink: export: %w", err)
		}
		cols = append(cols, attributes.FindingPrefix+name)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("sqlitesink: export: %w", err)
	}
	return cols, nil
}

// eachSpan runs a query selecting spanColumns and calls fn with each span,
// its resource attached, as it reads them.
func (s *Store) eachSpan(ctx context.Context, text string, args []any, fn func(*storedSpan) error) error {
	db, err := s.readDB()
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, text, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	r := newSpanRow()
	for rows.Next() {
		_, st, err := r.scan(rows)
		if err != nil {
			return err
		}
		if st.resourceID.Valid {
			if st.Resource, err = s.resource(ctx, db, st.resourceID.Int64); err != nil {
				return err
			}
		}
		if err := fn(&st); err != nil {
			return err
		}
	}
	return closeRows(rows)
}
