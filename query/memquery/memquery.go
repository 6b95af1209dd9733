// Package memquery answers the queries of package query from records held
// in memory, such as the lines of a JSONL file the jsonl sink wrote, with
// the results the SQLite store gives for the same records stored.
package memquery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/usage"
)

// Records is a query.Reader over records in memory. Spans keep the order
// they were given in, which stands for the order a store wrote them in:
// it breaks ties in ordering. It is safe for concurrent use.
type Records struct {
	spans   []stagetrace.StageSpan
	events  []stagetrace.TraceEvent
	runs    []stagetrace.Run
	skipped Skipped
}

var _ query.Reader = (*Records)(nil)

// New returns a reader of b's records; their runs are rolled up by the
// one accounting (package usage), as a store rolls them up on write.
func New(b stagetrace.Batch) *Records {
	return &Records{spans: b.Spans, events: b.Events, runs: usage.Runs(b.Spans, b.Events)}
}

// Skipped is what ReadJSONL left out: the lines that did not decode.
type Skipped struct {
	// Lines counts the lines left out, a torn last line included.
	Lines int
	// Torn is set when the last line did not decode and has no newline:
	// a write cut short, as a crash leaves it.
	Torn bool
	// First is the error of the first line left out; it names the line.
	First error
}

// ReadJSONL reads every record of stagetrace JSON lines (as the jsonl sink
// writes them) into a reader. A line that does not decode is left out and
// the reading goes on, so that one bad line (or a file torn by a crash
// mid-write) loses no other record; Records.Skipped says what was left
// out. An error reading r is returned.
func ReadJSONL(r io.Reader) (*Records, error) {
	var b stagetrace.Batch
	var sk Skipped
	src := &tailReader{r: r}
	dec := stagetrace.NewDecoder(src)
	lastBad := false
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			sk.Torn = lastBad && src.last != '\n'
			out := New(b)
			out.skipped = sk
			return out, nil
		}
		if src.err != nil {
			return nil, src.err
		}
		if lastBad = err != nil; lastBad {
			sk.Lines++
			if sk.First == nil {
				sk.First = err
			}
			continue
		}
		switch {
		case rec.Span != nil:
			b.Spans = append(b.Spans, *rec.Span)
		case rec.Event != nil:
			b.Events = append(b.Events, *rec.Event)
		}
	}
}

// Skipped returns what ReadJSONL left out; nothing for New's records.
func (r *Records) Skipped() Skipped { return r.skipped }

// tailReader remembers the last byte read and the first read error, to
// tell a torn last line and a failing read from a line that does not
// decode.
type tailReader struct {
	r    io.Reader
	last byte
	err  error
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.last = p[n-1]
	}
	if err != nil && !errors.Is(err, io.EOF) && t.err == nil {
		t.err = err
	}
	return n, err
}

// Spans returns the spans q selects.
func (r *Records) Spans(_ context.Context, q query.SpanQuery) ([]stagetrace.StageSpan, error) {
	out, err := r.selectSpans(q)
	if err != nil {
		return nil, err
	}
	proj, _ := query.NewProjection(q.Attrs) // checked by selectSpans
	for i := range out {
		out[i] = proj.Apply(out[i])
	}
	return out, nil
}

// selectSpans returns the spans q selects, in its order, unprojected.
func (r *Records) selectSpans(q query.SpanQuery) ([]stagetrace.StageSpan, error) {
	if err := query.ValidateAll(q.Where); err != nil {
		return nil, fmt.Errorf("memquery: %w", err)
	}
	ref, err := query.OrderRef(q.OrderBy)
	if err != nil {
		return nil, fmt.Errorf("memquery: %w", err)
	}
	if _, err := query.NewProjection(q.Attrs); err != nil {
		return nil, fmt.Errorf("memquery: %w", err)
	}
	if err := query.CheckPage(q.Limit, q.Offset); err != nil {
		return nil, fmt.Errorf("memquery: %w", err)
	}
	var out []stagetrace.StageSpan
	for i := range r.spans {
		if query.MatchAll(q.Where, &r.spans[i]) {
			out = append(out, r.spans[i])
		}
	}
	slices.SortStableFunc(out, func(a, b stagetrace.StageSpan) int { return query.CompareOrder(ref, &a, &b) })
	if q.Desc {
		// Ties in reverse order too, as a store orders them.
		slices.Reverse(out)
	}
	return query.Page(out, q.Limit, q.Offset), nil
}

// ExportSpans writes the spans q selects to w in format.
func (r *Records) ExportSpans(_ context.Context, q query.SpanQuery, format string, w io.Writer) (int, error) {
	if err := query.CheckFormat(format); err != nil {
		return 0, fmt.Errorf("memquery: %w", err)
	}
	spans, err := r.selectSpans(q)
	if err != nil {
		return 0, err
	}
	return query.WriteSpans(w, spans, format, q.Attrs)
}

// Runs returns the runs f selects, newest first.
func (r *Records) Runs(_ context.Context, f query.RunFilter) ([]stagetrace.Run, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("memquery: %w", err)
	}
	var keep map[string]bool
	if len(f.Where) > 0 {
		keep = map[string]bool{}
		for i := range r.spans {
			if query.MatchAll(f.Where, &r.spans[i]) {
				keep[r.spans[i].RunID] = true
			}
		}
	}
	var out []stagetrace.Run
	for _, run := range r.runs {
		switch {
		case !f.Since.IsZero() && run.Start.Before(f.Since),
			!f.Until.IsZero() && !run.Start.Before(f.Until),
			f.Status != "" && run.Status() != f.Status,
			keep != nil && !keep[run.ID]:
			continue
		}
		out = append(out, run)
	}
	return query.Page(out, f.Limit, f.Offset), nil
}

// Run returns the rollup of one run.
func (r *Records) Run(_ context.Context, runID string) (stagetrace.Run, error) {
	for _, run := range r.runs {
		if run.ID == runID {
			return run, nil
		}
	}
	return stagetrace.Run{}, fmt.Errorf("%w: run %q", query.ErrNotFound, runID)
}

// RunRecords returns every span of a run in order of start and every
// event in order of time.
func (r *Records) RunRecords(_ context.Context, runID string) (stagetrace.Batch, error) {
	var b stagetrace.Batch
	for _, sp := range r.spans {
		if sp.RunID == runID {
			b.Spans = append(b.Spans, sp)
		}
	}
	for _, ev := range r.events {
		if ev.RunID == runID {
			b.Events = append(b.Events, ev)
		}
	}
	if b.Len() == 0 {
		return b, fmt.Errorf("%w: run %q", query.ErrNotFound, runID)
	}
	slices.SortStableFunc(b.Spans, func(a, c stagetrace.StageSpan) int { return a.StartTime.Compare(c.StartTime) })
	slices.SortStableFunc(b.Events, func(a, c stagetrace.TraceEvent) int { return a.Time.Compare(c.Time) })
	return b, nil
}

// Metrics returns the series of q.Name: the metric events named q.Name and
// the numeric findings named q.Name (at the end of their span).
func (r *Records) Metrics(_ context.Context, q query.MetricQuery) ([]query.Series, error) {
	if err := q.Normalize(time.Now()); err != nil {
		return nil, fmt.Errorf("memquery: %w", err)
	}
	since, until := query.UnixNano(q.Since), q.Until.UnixNano()
	in := func(ns int64) bool { return ns >= since && ns < until }
	agg := query.NewAggregator(q)
	type spanKey struct {
		trace stagetrace.TraceID
		span  stagetrace.SpanID
	}
	byID := make(map[spanKey]*stagetrace.StageSpan, len(r.spans))
	for i := range r.spans {
		sp := &r.spans[i]
		byID[spanKey{sp.TraceID, sp.SpanID}] = sp
		v, ok := sp.Findings.Get(q.Name)
		f, isNum := v.Number()
		if !ok || !isNum || v.Kind() == stagetrace.KindBool || math.IsNaN(f) || !in(query.UnixNano(sp.EndTime)) {
			continue
		}
		if err := agg.Add(query.UnixNano(sp.EndTime), f, spanLabels(sp, query.LabelSourceFinding, nil)); err != nil {
			return nil, fmt.Errorf("memquery: %w", err)
		}
	}
	for i := range r.events {
		ev := &r.events[i]
		name, value, ok := query.MetricOf(ev)
		if !ok || name != q.Name || !in(query.UnixNano(ev.Time)) {
			continue
		}
		// The labels of the span when it is known, as a store keeps the
		// event with its span.
		sp := byID[spanKey{ev.TraceID, ev.SpanID}]
		if sp == nil {
			sp = &stagetrace.StageSpan{RunID: ev.RunID, Stage: ev.Stage}
		}
		if err := agg.Add(query.UnixNano(ev.Time), value, spanLabels(sp, query.LabelSourceEvent, ev.Attrs)); err != nil {
			return nil, fmt.Errorf("memquery: %w", err)
		}
	}
	return agg.Series(), nil
}

// spanLabels returns the labels of a data point of span: from source
// ("event" or "finding"), with the metric event's attributes.
func spanLabels(sp *stagetrace.StageSpan, source string, event stagetrace.Attrs) func(string) (string, error) {
	return func(name string) (string, error) {
		switch name {
		case query.LabelStage:
			return sp.Stage, nil
		case query.LabelRunID:
			return sp.RunID, nil
		case query.LabelName:
			return sp.Name, nil
		case query.LabelSource:
			return source, nil
		case query.LabelModel:
			return query.ModelOf(sp.Attrs), nil
		}
		return query.EventLabel(event, name), nil
	}
}

// Close does nothing: the records are only memory.
func (r *Records) Close() error { return nil }

var _ query.LogReader = (*Records)(nil)

// Logs returns the log events q selects, in order of time.
func (r *Records) Logs(_ context.Context, q query.LogQuery) ([]stagetrace.TraceEvent, error) {
	return query.SelectLogs(r.events, q)
}
