package query

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
)

// ErrNotFound is returned by the queries for one thing (a run) when there
// is no such thing.
var ErrNotFound = errors.New("not found")

// Reader answers the queries on stored records. The SQLite store
// implements it by compiling queries to SQL; package query/memquery by
// evaluating them on records held in memory, with the same results.
type Reader interface {
	// Spans returns the spans q selects.
	Spans(ctx context.Context, q SpanQuery) ([]stagetrace.StageSpan, error)
	// ExportSpans writes the spans q selects to w in format (FormatJSONL
	// or FormatCSV) and returns how many it wrote.
	ExportSpans(ctx context.Context, q SpanQuery, format string, w io.Writer) (int, error)
	// Runs returns the runs f selects, newest first.
	Runs(ctx context.Context, f RunFilter) ([]stagetrace.Run, error)
	// Run returns the rollup of one run, or an error wrapping ErrNotFound.
	Run(ctx context.Context, runID string) (stagetrace.Run, error)
	// RunRecords returns every span of a run in order of start and every
	// event in order of time, or an error wrapping ErrNotFound.
	RunRecords(ctx context.Context, runID string) (stagetrace.Batch, error)
	// Metrics returns the series of q.Name, aggregated per step (or over
	// the whole range with Instant), ordered by their labels.
	Metrics(ctx context.Context, q MetricQuery) ([]Series, error)
	// Close releases what the reader holds.
	Close() error
}

// SpanQuery selects spans.
type SpanQuery struct {
	// Where holds filters every span returned matches.
	Where []Filter
	// Attrs, when not empty, names the attributes (attr.<key> or a bare
	// key) and findings (finding.<name>) each returned span holds, in
	// that order; the others are left out. Built-in fields are always
	// returned.
	Attrs []string
	// OrderBy is the field spans are sorted by: a built-in field,
	// end_time, finding.<name> or attr.<key>. Default start_time. Spans
	// without the finding or attribute come first (last with Desc), then
	// numbers (booleans as 0 and 1), then strings; ties keep the order
	// spans were written in (reversed with Desc).
	OrderBy string
	Desc    bool
	// Limit is the most spans returned, 0 for all; Offset skips the first
	// ones.
	Limit, Offset int
}

// Values of RunFilter.Status.
const (
	RunStatusOK    = stagetrace.RunStatusOK
	RunStatusError = stagetrace.RunStatusError
)

// RunFilter selects runs.
type RunFilter struct {
	// Since and Until bound when runs started: Since <= start < Until.
	// Zero values do not bound.
	Since, Until time.Time
	// Status is "ok" (no span failed), "error" (some span failed) or ""
	// for both.
	Status string
	// Where keeps runs having a span that matches every filter.
	Where []Filter
	// Limit is the most runs returned, 0 for all; Offset skips the first
	// ones.
	Limit, Offset int
}

// Validate reports whether f can be evaluated.
func (f RunFilter) Validate() error {
	switch f.Status {
	case "", RunStatusOK, RunStatusError:
	default:
		return fmt.Errorf("unknown run status %q: want ok or error", f.Status)
	}
	if err := ValidateAll(f.Where); err != nil {
		return err
	}
	return CheckPage(f.Limit, f.Offset)
}

// CheckPage reports a negative limit or offset.
func CheckPage(limit, offset int) error {
	if limit < 0 || offset < 0 {
		return fmt.Errorf("negative limit %d or offset %d", limit, offset)
	}
	return nil
}

// Page returns the part of items a limit (0: no limit) and an offset keep.
func Page[T any](items []T, limit, offset int) []T {
	if offset >= len(items) {
		return nil
	}
	items = items[offset:]
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	return items
}

// OrderEndTime is the order-by field that sorts spans by when they ended;
// the other order-by fields are the filter fields.
const OrderEndTime = "end_time"

// OrderFields are the built-in fields spans can be ordered by.
var OrderFields = []string{FieldStartTime, OrderEndTime, FieldElapsedMS, FieldName,
	FieldStage, FieldRunID, FieldStatus, FieldKind, FieldScope, FieldTraceID}

// OrderRef resolves an order-by field: a built-in field, end_time,
// finding.<name> or attr.<key>; "" is start_time. A bare key is refused
// rather than taken as an attribute, so that a mistyped field is
// reported, not silently ordered by an attribute no span has.
func OrderRef(field string) (Ref, error) {
	if field == "" {
		field = FieldStartTime
	}
	for _, f := range OrderFields {
		if f == field {
			return Ref{Source: SourceBuiltin, Name: field}, nil
		}
	}
	ref, err := ParseField(field)
	if err == nil && ref.Source != SourceBuiltin && field != ref.Name {
		return ref, nil
	}
	return Ref{}, fmt.Errorf("cannot order by %q: use %s, finding.<name> or attr.<key>", field, strings.Join(OrderFields, ", "))
}

// CompareOrder compares two spans in the order ref sorts them (see
// SpanQuery.OrderBy), ties aside.
func CompareOrder(ref Ref, a, b *stagetrace.StageSpan) int {
	switch ref.Source {
	case SourceFinding:
		return compareOrderValues(a.Findings, b.Findings, ref.Name)
	case SourceAttr:
		return compareOrderValues(a.Attrs, b.Attrs, ref.Name)
	}
	switch ref.Name {
	case FieldName:
		return strings.Compare(a.Name, b.Name)
	case FieldStage:
		return strings.Compare(a.Stage, b.Stage)
	case FieldRunID:
		return strings.Compare(a.RunID, b.RunID)
	case FieldScope:
		return strings.Compare(a.Scope, b.Scope)
	case FieldStatus:
		return cmp.Compare(a.Status, b.Status)
	case FieldKind:
		return cmp.Compare(a.Kind, b.Kind)
	case FieldTraceID:
		return bytes.Compare(a.TraceID[:], b.TraceID[:])
	case FieldElapsedMS:
		return cmp.Compare(UnixNano(a.EndTime)-UnixNano(a.StartTime), UnixNano(b.EndTime)-UnixNano(b.StartTime))
	case FieldStartTime:
		return cmp.Compare(UnixNano(a.StartTime), UnixNano(b.StartTime))
	case OrderEndTime:
		return cmp.Compare(UnixNano(a.EndTime), UnixNano(b.EndTime))
	}
	return 0
}

// UnixNano is t in Unix nanoseconds, 0 for the zero time (whose UnixNano
// is undefined), as stores keep times.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// orderKey is a value as it sorts: class 0 for none (missing, NaN, or a
// kind that does not sort), 1 for numbers, 2 for strings.
type orderKey struct {
	class int
	i     int64
	f     float64
	isInt bool
	s     string
}

func orderKeyOf(attrs stagetrace.Attrs, key string) orderKey {
	v, ok := attrs.Get(key)
	if !ok {
		return orderKey{}
	}
	switch v.Kind() {
	case stagetrace.KindInt64:
		return orderKey{class: 1, i: v.AsInt64(), isInt: true}
	case stagetrace.KindFloat64:
		if f := v.AsFloat64(); !math.IsNaN(f) {
			return orderKey{class: 1, f: f}
		}
	case stagetrace.KindBool:
		return orderKey{class: 1, i: int64(b2i(v.AsBool())), isInt: true}
	case stagetrace.KindString:
		return orderKey{class: 2, s: v.AsString()}
	}
	return orderKey{}
}

func compareOrderValues(a, b stagetrace.Attrs, key string) int {
	x, y := orderKeyOf(a, key), orderKeyOf(b, key)
	if c := cmp.Compare(x.class, y.class); c != 0 || x.class == 0 {
		return c
	}
	if x.class == 2 {
		return strings.Compare(x.s, y.s)
	}
	switch {
	case x.isInt && y.isInt:
		return cmp.Compare(x.i, y.i)
	case x.isInt:
		return cmp.Compare(float64(x.i), y.f)
	case y.isInt:
		return cmp.Compare(x.f, float64(y.i))
	}
	return cmp.Compare(x.f, y.f)
}

// Projection keeps the attributes and findings a query asks for (see
// SpanQuery.Attrs).
type Projection struct {
	refs []Ref
}

// NewProjection resolves the fields of SpanQuery.Attrs.
func NewProjection(fields []string) (Projection, error) {
	var p Projection
	for _, f := range fields {
		ref, err := ParseField(f)
		if err != nil {
			return p, fmt.Errorf("attrs: %w", err)
		}
		p.refs = append(p.refs, ref)
	}
	return p, nil
}

// Apply returns span with only the attributes and findings p names, in
// p's order; with no fields, span as it is. Built-in fields named are
// ignored: every span has them.
func (p Projection) Apply(span stagetrace.StageSpan) stagetrace.StageSpan {
	if len(p.refs) == 0 {
		return span
	}
	var attrs, findings stagetrace.Attrs
	for _, ref := range p.refs {
		switch ref.Source {
		case SourceAttr:
			if v, ok := span.Attrs.Get(ref.Name); ok {
				attrs = append(attrs, stagetrace.Attr{Key: ref.Name, Value: v})
			}
		case SourceFinding:
			if v, ok := span.Findings.Get(ref.Name); ok {
				findings = append(findings, stagetrace.Attr{Key: ref.Name, Value: v})
			}
		}
	}
	span.Attrs, span.Findings = attrs, findings
	return span
}
