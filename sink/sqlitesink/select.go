package sqlitesink

import (
	"bytes"
	"cmp"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// SelectSpans applies q to spans held in memory (read from a JSONL file,
// say) with the same results Spans gives for the same spans stored:
// filtered by query.Match, sorted as SQL sorts (ties in the order of
// spans, reversed with Desc), limited, projected. spans is not modified.
func SelectSpans(spans []stagetrace.StageSpan, q SpanQuery) ([]stagetrace.StageSpan, error) {
	if err := query.ValidateAll(q.Where); err != nil {
		return nil, fmt.Errorf("sqlitesink: %w", err)
	}
	ref, err := orderRef(q.OrderBy)
	if err != nil {
		return nil, err
	}
	proj, err := newProjection(q.Attrs)
	if err != nil {
		return nil, err
	}
	if q.Limit < 0 || q.Offset < 0 {
		return nil, fmt.Errorf("sqlitesink: negative limit %d or offset %d", q.Limit, q.Offset)
	}
	var out []stagetrace.StageSpan
	for i := range spans {
		if query.MatchAll(q.Where, &spans[i]) {
			out = append(out, spans[i])
		}
	}
	slices.SortStableFunc(out, func(a, b stagetrace.StageSpan) int { return compareOrder(ref, &a, &b) })
	if q.Desc {
		// Ties in reverse order too, as the SQL orders them.
		slices.Reverse(out)
	}
	if q.Offset >= len(out) {
		return nil, nil
	}
	out = out[q.Offset:]
	if q.Limit > 0 && q.Limit < len(out) {
		out = out[:q.Limit]
	}
	for i := range out {
		out[i] = proj.apply(out[i])
	}
	return out, nil
}

// compareOrder compares two spans as ORDER BY on ref does (see
// orderColumns).
func compareOrder(ref query.Ref, a, b *stagetrace.StageSpan) int {
	switch ref.Source {
	case query.SourceFinding:
		av, aok := a.Findings.Get(ref.Name)
		bv, bok := b.Findings.Get(ref.Name)
		return compareSQL(orderValue(av, aok), orderValue(bv, bok))
	case query.SourceAttr:
		av, aok := a.Attrs.Get(ref.Name)
		bv, bok := b.Attrs.Get(ref.Name)
		return compareSQL(orderValue(av, aok), orderValue(bv, bok))
	}
	switch ref.Name {
	case query.FieldName:
		return strings.Compare(a.Name, b.Name)
	case query.FieldStage:
		return strings.Compare(a.Stage, b.Stage)
	case query.FieldRunID:
		return strings.Compare(a.RunID, b.RunID)
	case query.FieldScope:
		return strings.Compare(a.Scope, b.Scope)
	case query.FieldStatus:
		return cmp.Compare(a.Status, b.Status)
	case query.FieldKind:
		return cmp.Compare(a.Kind, b.Kind)
	case query.FieldTraceID:
		return bytes.Compare(a.TraceID[:], b.TraceID[:])
	case query.FieldElapsedMS:
		return cmp.Compare(unixNano(a.EndTime)-unixNano(a.StartTime), unixNano(b.EndTime)-unixNano(b.StartTime))
	case query.FieldStartTime:
		return cmp.Compare(unixNano(a.StartTime), unixNano(b.StartTime))
	case OrderEndTime:
		return cmp.Compare(unixNano(a.EndTime), unixNano(b.EndTime))
	}
	return 0
}

func orderValue(v stagetrace.Value, ok bool) driver.Value {
	if !ok {
		return nil
	}
	return sortValue(v)
}

// compareSQL orders values as SQLite does: NULL, then numbers (compared
// as numbers), then text (compared by bytes).
func compareSQL(a, b driver.Value) int {
	ca, cb := sqlClass(a), sqlClass(b)
	if ca != cb {
		return cmp.Compare(ca, cb)
	}
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
		return cmp.Compare(float64(x), b.(float64))
	case float64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, float64(y))
		}
		return cmp.Compare(x, b.(float64))
	}
	return 0
}

func sqlClass(v driver.Value) int {
	switch v.(type) {
	case nil:
		return 0
	case int64, float64:
		return 1
	}
	return 2
}
