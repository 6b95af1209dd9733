package sqlitesink

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/query"
)

// Formats ExportSpans writes.
const (
	// FormatJSONL writes one span per line in stagetrace's JSON line form,
	// which stagetrace.NewDecoder and the command's --jsonl read back.
	FormatJSONL = "jsonl"
	// FormatCSV writes a header and one row per span: the built-in fields,
	// then one column per field of SpanQuery.Attrs or, without Attrs, one
	// per finding name found in the spans exported.
	FormatCSV = "csv"
)

// csvFields are the first columns of a CSV export.
var csvFields = []string{
	query.FieldRunID, query.FieldTraceID, "span_id", "parent_span_id", query.FieldStage, query.FieldName,
	query.FieldKind, query.FieldStatus, "status_message", query.FieldStartTime, OrderEndTime, query.FieldElapsedMS, query.FieldScope,
}

// ExportSpans writes the spans q selects to w in format, reading them as it
// writes so that exports larger than memory work, and returns how many it
// wrote. Events are not exported.
func (s *Store) ExportSpans(ctx context.Context, q SpanQuery, format string, w io.Writer) (int, error) {
	if err := checkFormat(format); err != nil {
		return 0, err
	}
	proj, err := newProjection(q.Attrs)
	if err != nil {
		return 0, err
	}
	text, args, err := s.querySQL(ctx, q)
	if err != nil {
		return 0, err
	}
	var cols []string
	if format == FormatCSV {
		if cols, err = s.csvColumns(ctx, q); err != nil {
			return 0, err
		}
	}
	sw, err := newSpanWriter(w, format, cols, proj)
	if err != nil {
		return 0, err
	}
	err = s.eachSpan(ctx, text, args, func(st *storedSpan) error { return sw.write(&st.StageSpan) })
	if err == nil {
		err = sw.close()
	}
	if err != nil {
		return sw.n, fmt.Errorf("sqlitesink: export: %w", err)
	}
	return sw.n, nil
}

// WriteSpans writes spans held in memory to w in format, as ExportSpans
// writes the same spans from a store; attrs is SpanQuery.Attrs. It returns
// how many spans it wrote.
func WriteSpans(w io.Writer, spans []stagetrace.StageSpan, format string, attrs []string) (int, error) {
	if err := checkFormat(format); err != nil {
		return 0, err
	}
	proj, err := newProjection(attrs)
	if err != nil {
		return 0, err
	}
	cols := attrs
	if format == FormatCSV && len(cols) == 0 {
		seen := map[string]bool{}
		for i := range spans {
			for _, f := range spans[i].Findings {
				seen[f.Key] = true
			}
		}
		for name := range seen {
			cols = append(cols, attributes.FindingPrefix+name)
		}
		slices.Sort(cols)
	}
	sw, err := newSpanWriter(w, format, cols, proj)
	if err != nil {
		return 0, err
	}
	for i := range spans {
		if err := sw.write(&spans[i]); err != nil {
			return sw.n, fmt.Errorf("sqlitesink: export: %w", err)
		}
	}
	if err := sw.close(); err != nil {
		return sw.n, fmt.Errorf("sqlitesink: export: %w", err)
	}
	return sw.n, nil
}

func checkFormat(format string) error {
	switch format {
	case FormatJSONL, FormatCSV:
		return nil
	}
	return fmt.Errorf("sqlitesink: unknown export format %q: want %s or %s", format, FormatJSONL, FormatCSV)
}

// spanWriter writes spans in an export format.
type spanWriter struct {
	format string
	bw     *bufio.Writer
	proj   projection
	n      int
	// JSONL
	enc  stagetrace.Encoder
	line []byte
	// CSV
	cw     *csv.Writer
	refs   []query.Ref
	record []string
}

// newSpanWriter returns a writer of spans in format; for CSV, cols are the
// columns after the built-in ones, and the header is written.
func newSpanWriter(w io.Writer, format string, cols []string, proj projection) (*spanWriter, error) {
	sw := &spanWriter{format: format, bw: bufio.NewWriterSize(w, 64<<10), proj: proj}
	if format != FormatCSV {
		return sw, nil
	}
	sw.refs = make([]query.Ref, len(cols))
	for i, c := range cols {
		var err error
		if sw.refs[i], err = query.ParseField(c); err != nil {
			return nil, fmt.Errorf("sqlitesink: attrs: %w", err)
		}
	}
	sw.cw = csv.NewWriter(sw.bw)
	if err := sw.cw.Write(append(append([]string{}, csvFields...), cols...)); err != nil {
		return nil, err
	}
	return sw, nil
}

func (sw *spanWriter) write(span *stagetrace.StageSpan) error {
	sw.n++
	if sw.format == FormatCSV {
		sw.record = appendCSV(sw.record[:0], span, sw.refs)
		return sw.cw.Write(sw.record)
	}
	projected := sw.proj.apply(*span)
	sw.line = sw.enc.AppendSpan(sw.line[:0], &projected)
	_, err := sw.bw.Write(sw.line)
	return err
}

func (sw *spanWriter) close() error {
	if sw.cw != nil {
		sw.cw.Flush()
		if err := sw.cw.Error(); err != nil {
			return err
		}
	}
	return sw.bw.Flush()
}

// csvColumns returns the columns after the built-in ones: q.Attrs, or the
// finding names of the spans q selects, in name order.
func (s *Store) csvColumns(ctx context.Context, q SpanQuery) ([]string, error) {
	if len(q.Attrs) > 0 {
		return q.Attrs, nil
	}
	ids, args, err := spansSQL(q, false)
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
	rows, err := db.QueryContext(ctx, text, append([]any{sourceFinding}, args...)...)
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

func appendCSV(record []string, s *stagetrace.StageSpan, refs []query.Ref) []string {
	record = append(record,
		s.RunID, s.TraceID.String(), s.SpanID.String(), s.ParentSpanID.String(), s.Stage, s.Name,
		s.Kind.String(), s.Status.String(), s.StatusMessage,
		s.StartTime.UTC().Format(time.RFC3339Nano), s.EndTime.UTC().Format(time.RFC3339Nano),
		strconv.FormatFloat(s.ElapsedMS(), 'f', -1, 64), s.Scope)
	for _, ref := range refs {
		v, ok := query.Lookup(s, ref)
		if !ok {
			record = append(record, "")
			continue
		}
		record = append(record, v.String())
	}
	return record
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
	for rows.Next() {
		_, st, err := scanSpan(rows)
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
