package postgressink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// decodeSpan reads a span's record column.
func decodeSpan(record []byte) (stagetrace.StageSpan, error) {
	rec, err := stagetrace.DecodeLine(record)
	if err != nil || rec.Span == nil {
		return stagetrace.StageSpan{}, fmt.Errorf("corrupt span record: %w", errors.Join(err, errors.New("not a span")))
	}
	return *rec.Span, nil
}

func decodeEvent(record []byte) (stagetrace.TraceEvent, error) {
	rec, err := stagetrace.DecodeLine(record)
	if err != nil || rec.Event == nil {
		return stagetrace.TraceEvent{}, fmt.Errorf("corrupt event record: %w", errors.Join(err, errors.New("not an event")))
	}
	return *rec.Event, nil
}

// spanSelect is a compiled span query: the statement selecting the
// records of the spans the SQL conditions keep, in order, and what is
// left to Go: the filters SQL cannot check (splitFilters), the order when
// it is by an attribute that is not indexed, and then the page.
type spanSelect struct {
	text          string
	args          []any
	inGo          []query.Filter
	sort          *query.Ref // the order, when Go sorts; SQL then orders by write
	desc          bool
	limit, offset int
}

// compile checks q as every executor does and compiles it, with the
// attribute keys in indexed read from span_values.
func compile(q query.SpanQuery, indexed indexedSet) (*spanSelect, error) {
	if err := query.ValidateAll(q.Where); err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	ref, err := query.OrderRef(q.OrderBy)
	if err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	if _, err := query.NewProjection(q.Attrs); err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	if err := query.CheckPage(q.Limit, q.Offset); err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	inSQL, inGo := splitFilters(q.Where, indexed)
	sel := &spanSelect{inGo: inGo, desc: q.Desc}
	if ref.Source == query.SourceAttr && !indexed.has(ref.Name) {
		// Only the records hold the values to sort by: Go sorts the
		// candidates, read in order of writing for the ties.
		sortRef := ref
		sel.sort = &sortRef
		ref = query.Ref{Source: query.SourceBuiltin}
	}
	var b builder
	join := b.orderJoin(ref)
	b.WriteString(`SELECT s.record FROM spans s` + join + ` WHERE true`)
	if err := b.where(inSQL); err != nil {
		return nil, err
	}
	b.prefilter(inGo, indexed)
	b.orderBy(ref, q.Desc)
	if len(inGo) == 0 && sel.sort == nil {
		b.limit(q.Limit, q.Offset)
	} else {
		sel.limit, sel.offset = q.Limit, q.Offset
	}
	sel.text, sel.args = b.String(), b.args
	return sel, nil
}

// each runs the query and calls fn with each span selected, in order, as
// it reads them, or, when Go sorts, once all are read and sorted.
func (s *Store) each(ctx context.Context, sel *spanSelect, fn func(*stagetrace.StageSpan) error) error {
	if sel.sort != nil {
		var spans []stagetrace.StageSpan
		unpaged := *sel
		unpaged.sort, unpaged.limit, unpaged.offset = nil, 0, 0
		if err := s.each(ctx, &unpaged, func(sp *stagetrace.StageSpan) error {
			spans = append(spans, *sp)
			return nil
		}); err != nil {
			return err
		}
		// Stable: ties stay in order of writing, reversed with desc as
		// SQL reads them.
		slices.SortStableFunc(spans, func(a, b stagetrace.StageSpan) int {
			if sel.desc {
				return query.CompareOrder(*sel.sort, &b, &a)
			}
			return query.CompareOrder(*sel.sort, &a, &b)
		})
		page := query.Page(spans, sel.limit, sel.offset)
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	skip, kept := sel.offset, 0
	visit := func(record []byte) (more bool, err error) {
		sp, err := decodeSpan(record)
		if err != nil {
			return false, fmt.Errorf("postgressink: %w", err)
		}
		if len(sel.inGo) > 0 {
			if !query.MatchAll(sel.inGo, &sp) {
				return true, nil
			}
			if skip > 0 {
				skip--
				return true, nil
			}
		}
		if err := fn(&sp); err != nil {
			return false, err
		}
		kept++
		return sel.limit == 0 || kept < sel.limit, nil
	}
	if len(sel.inGo) > 0 && sel.limit > 0 {
		return s.fetch(ctx, sel, visit)
	}
	rows, err := s.pool.Query(ctx, sel.text, sel.args...)
	if err != nil {
		return fmt.Errorf("postgressink: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if more, err := visit(rows.RawValues()[0]); err != nil || !more {
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgressink: %w", err)
	}
	return nil
}

// Rows fetch reads at a time: few at first, as a limit may be reached
// soon, and then more.
const (
	fetchFirst = 128
	fetchMax   = 8192
)

// fetch reads the records of sel through a cursor, a few rows at a time,
// and calls visit with each until it returns false. A query whose page Go
// cuts (filters checked in Go, then a limit) stops the server's work
// there, where a plain query would have it send every candidate.
func (s *Store) fetch(ctx context.Context, sel *spanSelect, visit func(record []byte) (bool, error)) error {
	var visitErr error // returned as it is
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DECLARE spans_page NO SCROLL CURSOR FOR `+sel.text, sel.args...); err != nil {
			return err
		}
		for n := fetchFirst; ; n = min(2*n, fetchMax) {
			rows, err := tx.Query(ctx, `FETCH `+strconv.Itoa(n)+` FROM spans_page`)
			if err != nil {
				return err
			}
			got := 0
			for rows.Next() {
				got++
				more, err := visit(rows.RawValues()[0])
				if err != nil || !more {
					rows.Close()
					visitErr = err
					return err
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if got < n {
				return nil
			}
		}
	})
	if visitErr != nil {
		return visitErr
	}
	if err != nil {
		return fmt.Errorf("postgressink: %w", err)
	}
	return nil
}

// Spans returns the spans q selects.
func (s *Store) Spans(ctx context.Context, q query.SpanQuery) ([]stagetrace.StageSpan, error) {
	sel, err := compile(q, s.indexed())
	if err != nil {
		return nil, err
	}
	proj, _ := query.NewProjection(q.Attrs) // checked by compile
	var out []stagetrace.StageSpan
	err = s.each(ctx, sel, func(sp *stagetrace.StageSpan) error {
		out = append(out, proj.Apply(*sp))
		return nil
	})
	return out, err
}

// ExportSpans writes the spans q selects to w in format and returns how
// many it wrote. JSON lines are written as the spans are read, so exports
// larger than memory work; a CSV export without q.Attrs reads the finding
// names of the spans first, for its columns. Events are not exported.
func (s *Store) ExportSpans(ctx context.Context, q query.SpanQuery, format string, w io.Writer) (int, error) {
	if err := query.CheckFormat(format); err != nil {
		return 0, fmt.Errorf("postgressink: %w", err)
	}
	sel, err := compile(q, s.indexed())
	if err != nil {
		return 0, err
	}
	cols := q.Attrs
	if query.IsCSV(format) && len(cols) == 0 {
		var spans []stagetrace.StageSpan
		if err := s.each(ctx, sel, func(sp *stagetrace.StageSpan) error {
			spans = append(spans, stagetrace.StageSpan{Findings: sp.Findings})
			return nil
		}); err != nil {
			return 0, err
		}
		cols = query.FindingColumns(spans)
	}
	sw, err := query.NewSpanWriter(w, format, cols, q.Attrs)
	if err != nil {
		return 0, fmt.Errorf("postgressink: %w", err)
	}
	err = s.each(ctx, sel, sw.Write)
	if err == nil {
		err = sw.Close()
	}
	if err != nil {
		return sw.Count(), fmt.Errorf("postgressink: export: %w", err)
	}
	return sw.Count(), nil
}

// Runs returns the runs f selects, newest first.
func (s *Store) Runs(ctx context.Context, f query.RunFilter) ([]stagetrace.Run, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	var b builder
	b.WriteString(`SELECT ` + runColumns + ` FROM runs r WHERE true`)
	if !f.Since.IsZero() {
		b.WriteString(` AND r.first_start_ns >= ` + b.arg(query.StoredUnixNano(f.Since)))
	}
	if !f.Until.IsZero() {
		b.WriteString(` AND r.first_start_ns < ` + b.arg(query.StoredUnixNano(f.Until)))
	}
	switch f.Status {
	case query.RunStatusOK:
		b.WriteString(` AND r.errors = 0`)
	case query.RunStatusError:
		b.WriteString(` AND r.errors > 0`)
	}
	if len(f.Where) > 0 {
		inSQL, inGo := splitFilters(f.Where, s.indexed())
		if len(inGo) == 0 {
			b.WriteString(` AND r.run_id IN (SELECT s.run_id FROM spans s WHERE true`)
			if err := b.where(inSQL); err != nil {
				return nil, err
			}
			b.WriteString(`)`)
		} else {
			ids, err := s.runsMatching(ctx, f.Where)
			if err != nil {
				return nil, err
			}
			b.WriteString(` AND r.run_id = ANY(` + b.arg(ids) + `::text[])`)
		}
	}
	b.WriteString(` ORDER BY r.first_start_ns DESC, r.run_id`)
	b.limit(f.Limit, f.Offset)
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	rows, err := s.pool.Query(ctx, b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stagetrace.Run, error) { return scanRun(row) })
	if err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	if len(runs) == 0 {
		return nil, nil // as the other executors say none
	}
	return runs, nil
}

// runsMatching returns the runs with a span matching every filter, some of
// them regular expressions.
func (s *Store) runsMatching(ctx context.Context, where []query.Filter) ([]string, error) {
	sel, err := compile(query.SpanQuery{Where: where}, s.indexed())
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	ids := []string{}
	err = s.each(ctx, sel, func(sp *stagetrace.StageSpan) error {
		if !seen[sp.RunID] {
			seen[sp.RunID] = true
			ids = append(ids, text(sp.RunID))
		}
		return nil
	})
	return ids, err
}

// Run returns the rollup of one run, or ErrNotFound.
func (s *Store) Run(ctx context.Context, runID string) (stagetrace.Run, error) {
	if err := s.begin(); err != nil {
		return stagetrace.Run{}, err
	}
	defer s.end()
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.run_id = $1`, text(runID)))
	if errors.Is(err, pgx.ErrNoRows) {
		return stagetrace.Run{}, fmt.Errorf("%w: run %q", ErrNotFound, runID)
	}
	if err != nil {
		return stagetrace.Run{}, fmt.Errorf("postgressink: %w", err)
	}
	return r, nil
}

// RunRecords returns every span of a run in order of start, and every
// event in order of time, or ErrNotFound when the store has no such run.
func (s *Store) RunRecords(ctx context.Context, runID string) (stagetrace.Batch, error) {
	var b stagetrace.Batch
	err := s.each(ctx, &spanSelect{text: `SELECT s.record FROM spans s WHERE s.run_id = $1 ORDER BY s.start_ns, s.id`, args: []any{text(runID)}},
		func(sp *stagetrace.StageSpan) error {
			b.Spans = append(b.Spans, *sp)
			return nil
		})
	if err != nil {
		return b, err
	}
	if b.Events, err = s.events(ctx, `SELECT record FROM events WHERE run_id = $1 ORDER BY time_ns, id`, text(runID)); err != nil {
		return b, err
	}
	slices.SortStableFunc(b.Events, func(x, y stagetrace.TraceEvent) int { return x.Time.Compare(y.Time) })
	if b.Len() == 0 {
		return b, fmt.Errorf("%w: run %q", ErrNotFound, runID)
	}
	return b, nil
}

// Trace returns the spans of a trace, in order of start.
func (s *Store) Trace(ctx context.Context, traceID stagetrace.TraceID) ([]stagetrace.StageSpan, error) {
	var out []stagetrace.StageSpan
	err := s.each(ctx, &spanSelect{text: `SELECT s.record FROM spans s WHERE s.trace_id = $1 ORDER BY s.start_ns, s.id`, args: []any{traceID[:]}},
		func(sp *stagetrace.StageSpan) error {
			out = append(out, *sp)
			return nil
		})
	return out, err
}

func (s *Store) events(ctx context.Context, text string, args ...any) ([]stagetrace.TraceEvent, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	rows, err := s.pool.Query(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	defer rows.Close()
	var out []stagetrace.TraceEvent
	for rows.Next() {
		ev, err := decodeEvent(rows.RawValues()[0])
		if err != nil {
			return nil, fmt.Errorf("postgressink: %w", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgressink: %w", err)
	}
	return out, nil
}
