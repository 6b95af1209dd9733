// Package querytest holds the differential test of query executors: a
// generated corpus of records and queries that every executor (the
// in-memory one, the SQLite and PostgreSQL stores) must answer alike.
package querytest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
)

// base is when the corpus's first span starts: fixed, so that results are
// the same on every run.
var base = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// Spans returns spans made to trip the executors up: an attribute
// that is a number on some spans, a numeric string on others, a bool or
// missing; dotted keys; few distinct names, stages, times and durations,
// so that orderings tie.
func Spans(rng *rand.Rand, n int) []stagetrace.StageSpan {
	pick := func(vs ...stagetrace.Value) stagetrace.Value { return vs[rng.IntN(len(vs))] }
	values := []stagetrace.Value{
		stagetrace.Int64Value(5), stagetrace.Int64Value(10), stagetrace.Int64Value(-3),
		stagetrace.Float64Value(5), stagetrace.Float64Value(5.5), stagetrace.Float64Value(9.99),
		stagetrace.StringValue("5"), stagetrace.StringValue("10"), stagetrace.StringValue("b"), stagetrace.StringValue("B"),
		stagetrace.StringValue(""), stagetrace.BoolValue(true), stagetrace.BoolValue(false),
	}
	spans := make([]stagetrace.StageSpan, n)
	for i := range spans {
		start := base.Add(time.Duration(rng.IntN(6)) * time.Second)
		sp := stagetrace.StageSpan{
			RunID:     fmt.Sprintf("r%d", rng.IntN(5)),
			Stage:     []string{"", "retrieval", "inference", "Inference"}[rng.IntN(4)],
			Name:      []string{"chat gpt-4o", "chat", "vector search", "judge"}[rng.IntN(4)],
			StartTime: start,
			EndTime:   start.Add(time.Duration(rng.IntN(4)) * 1500 * time.Microsecond),
			Status:    stagetrace.StatusCode(rng.IntN(3)),
			Kind:      stagetrace.SpanKind(rng.IntN(6)),
			Scope:     []string{"", "chatbot/rag"}[rng.IntN(2)],
		}
		sp.TraceID[0], sp.TraceID[15] = byte(1+rng.IntN(3)), 1
		sp.SpanID[0], sp.SpanID[7] = byte(i>>8), byte(i)
		for _, key := range []string{"k", "gen_ai.usage.input_tokens", "name"} {
			if rng.IntN(4) > 0 {
				sp.Attrs = append(sp.Attrs, stagetrace.Attr{Key: key, Value: pick(values...)})
			}
		}
		for _, key := range []string{"input_tokens", "score"} {
			if rng.IntN(3) > 0 {
				sp.Findings = append(sp.Findings, stagetrace.Attr{Key: key, Value: pick(values...)})
			}
		}
		spans[i] = sp
	}
	return spans
}

// corpusFilters returns every operator on every kind of field with values
// of every type, the invalid combinations included: both executors must
// refuse those alike.
func corpusFilters(traceID string) []query.Filter {
	fields := []string{
		"name", "stage", "run_id", "status", "kind", "scope", "trace_id", "elapsed_ms", "start_time",
		"k", "attr.k", "attr.name", "gen_ai.usage.input_tokens", "finding.input_tokens", "finding.score",
		"missing.key", "finding.missing",
	}
	ops := []query.Op{query.OpEq, query.OpNe, query.OpGt, query.OpGe, query.OpLt, query.OpLe,
		query.OpMatch, query.OpNotMatch, query.OpExists}
	values := []stagetrace.Value{
		stagetrace.Int64Value(5), stagetrace.Float64Value(5.5), stagetrace.Int64Value(3),
		stagetrace.StringValue("5"), stagetrace.StringValue("b"), stagetrace.StringValue("^(b|chat)"),
		stagetrace.StringValue(""), stagetrace.BoolValue(true), stagetrace.StringValue("inference"),
		stagetrace.StringValue("error"), stagetrace.StringValue("client"), stagetrace.StringValue(traceID),
		stagetrace.StringValue("2024-05-01T10:00:03Z"), stagetrace.Float64Value(1714557602.5),
	}
	var out []query.Filter
	for _, field := range fields {
		for _, op := range ops {
			if op == query.OpExists {
				out = append(out, query.Filter{Field: field, Op: op})
				continue
			}
			for _, v := range values {
				out = append(out, query.Filter{Field: field, Op: op, Value: v})
			}
		}
	}
	return out
}

// Events returns the events of the corpus: metric events of some of
// spans, and (odd i) of spans never seen, and an event of a run with no
// spans.
func Events(spans []stagetrace.StageSpan) []stagetrace.TraceEvent {
	events := []stagetrace.TraceEvent{{Name: "exception", RunID: "r7", Time: base.Add(time.Hour)}}
	for i := 0; i < len(spans); i += 3 {
		sp := spans[i]
		if i%2 == 1 {
			sp.SpanID[1] = 0xff
		}
		events = append(events, stagetrace.TraceEvent{
			Name: attributes.EventMetric, RunID: sp.RunID, Stage: sp.Stage, TraceID: sp.TraceID, SpanID: sp.SpanID,
			Time: sp.StartTime.Add(time.Duration(i) * time.Millisecond),
			Attrs: stagetrace.Attrs{
				{Key: string(attributes.MetricName), Value: stagetrace.StringValue([]string{"score", "latency"}[i%2])},
				{Key: string(attributes.MetricValue), Value: stagetrace.Float64Value(float64(i % 17))},
				{Key: "region", Value: stagetrace.StringValue([]string{"eu", "us", ""}[(i/3)%3])},
			},
		})
	}
	return events
}

// Agree runs a generated corpus of queries against the executor open
// returns, holding the corpus's records (Spans, Events; written by open),
// and against the in-memory executor holding the same records (Check).
func Agree(t *testing.T, open func(t *testing.T, b stagetrace.Batch) query.Reader) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	spans := Spans(rng, 240)
	events := Events(spans)
	s := open(t, stagetrace.Batch{Spans: spans, Events: events})
	Check(t, s, memquery.New(stagetrace.Batch{Spans: spans, Events: events}), spans[0].TraceID.String(), rng)
}

// Check runs the corpus of queries against s and mem, which must hold the
// same records as the corpus (Spans, Events) and maybe more: every filter
// alone and in pairs, ordered by the finding a filter compares, every
// ordering both ways, with pages, run filters, metric queries and run
// records. They must return the same answers in the same order, and
// refuse the same queries. traceID is a trace of the records.
func Check(t *testing.T, s query.Reader, mem *memquery.Records, traceID string, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	ids := func(spans []stagetrace.StageSpan) []string {
		out := make([]string, len(spans))
		for i := range spans {
			out[i] = spans[i].SpanID.String() + " " + fmt.Sprint(spans[i].Attrs, spans[i].Findings)
		}
		return out
	}
	agree := func(t *testing.T, q query.SpanQuery) int {
		t.Helper()
		want, errMem := mem.Spans(ctx, q)
		got, errStore := s.Spans(ctx, q)
		desc := fmt.Sprintf("where %s order %s desc %v limit %d offset %d", query.Format(q.Where), q.OrderBy, q.Desc, q.Limit, q.Offset)
		if !assert.Equal(t, errMem == nil, errStore == nil, "%s: memory %v, store %v", desc, errMem, errStore) {
			return 0
		}
		assert.Equal(t, ids(want), ids(got), desc)
		return len(want)
	}

	filters := corpusFilters(traceID)
	matched, valid := 0, 0
	for i, f := range filters {
		if n := agree(t, query.SpanQuery{Where: []query.Filter{f}}); n > 0 {
			matched++
		}
		if f.Validate() == nil {
			valid++
			g := filters[rng.IntN(len(filters))]
			agree(t, query.SpanQuery{Where: []query.Filter{f, g}, Limit: 1 + i%7, Offset: i % 3})
		}
	}
	// Ordered by the finding a filter compares with a number: a store may
	// take the order from its value index.
	for i, f := range filters {
		if ref, err := f.Ref(); err == nil && ref.Source == query.SourceFinding && f.Validate() == nil {
			for _, desc := range []bool{false, true} {
				agree(t, query.SpanQuery{Where: []query.Filter{f}, OrderBy: f.Field, Desc: desc})
				agree(t, query.SpanQuery{Where: []query.Filter{f, filters[rng.IntN(len(filters))]}, OrderBy: f.Field, Desc: desc, Limit: 1 + i%7, Offset: i % 3})
			}
		}
	}
	// The corpus must exercise something: most valid filters match.
	assert.Greater(t, matched, valid/3, "filters matching some span")

	orders := append(append([]string{}, query.OrderFields...), "finding.input_tokens", "finding.score", "attr.k",
		"attr.gen_ai.usage.input_tokens", "attr.missing", "bogus")
	for _, order := range orders {
		for _, desc := range []bool{false, true} {
			for _, page := range [][2]int{{0, 0}, {7, 0}, {7, 230}, {5, 300}} {
				agree(t, query.SpanQuery{OrderBy: order, Desc: desc, Limit: page[0], Offset: page[1],
					Attrs: []string{"k", "finding.score", "missing"}})
			}
		}
	}

	for _, f := range []query.RunFilter{
		{}, {Status: query.RunStatusOK}, {Status: query.RunStatusError}, {Limit: 2, Offset: 1},
		{Since: base.Add(2 * time.Second), Until: base.Add(5 * time.Second)},
		{Where: query.MustParse("finding.score>5 and stage~^inf")}, {Status: "bad"},
		// Paged, so that a store may walk the runs rather than collect
		// every matching span.
		{Where: query.MustParse("finding.score exists"), Limit: 2, Offset: 1},
		{Where: query.MustParse("finding.score>5 and stage~^inf"), Limit: 3},
		{Where: query.MustParse("finding.score exists"), Status: query.RunStatusError, Limit: 3, Offset: 1},
		{Where: query.MustParse("finding.score>1000"), Limit: 2},
	} {
		want, errMem := mem.Runs(ctx, f)
		got, errStore := s.Runs(ctx, f)
		require.Equal(t, errMem == nil, errStore == nil, "%+v: memory %v, store %v", f, errMem, errStore)
		assert.Equal(t, want, got, "%+v", f)
	}
	for _, q := range []query.MetricQuery{
		{Name: "score", Step: time.Second, Until: base.Add(time.Minute)},
		{Name: "latency", Step: 2 * time.Second, Until: base.Add(time.Minute), Agg: query.AggMax, By: []string{"region", "run_id"}},
		{Name: "score", Instant: true, Since: base.Add(time.Second), Until: base.Add(4 * time.Second), Agg: query.AggCount,
			By: []string{"source", "name", "model", "stage"}},
		{Name: "input_tokens", Step: time.Second, Until: base.Add(time.Minute), Agg: query.AggSum,
			Labels: []query.LabelMatcher{{Name: "stage", Op: query.OpMatch, Value: "^inf"}, {Name: "region", Op: query.OpNe, Value: "eu"}}},
		{Name: "latency", Step: time.Second, Until: base.Add(time.Minute), Labels: []query.LabelMatcher{{Name: "region", Op: query.OpNotMatch, Value: "u"}}},
		{Name: "score", Step: time.Millisecond},
		// No label read: the points alone, of events in span rows and not.
		{Name: "latency", Step: 2 * time.Second, Until: base.Add(time.Minute), Agg: query.AggSum},
		{Name: "input_tokens", Instant: true, Until: base.Add(time.Minute), Agg: query.AggMax},
		// Steps of whole minutes, a range cut inside minutes: a store
		// keeping partials per minute merges them with the points it cuts.
		{Name: "latency", Step: time.Minute, Since: base.Add(-30 * time.Second), Until: base.Add(time.Hour + 30*time.Second), Agg: query.AggSum},
		{Name: "score", Step: 5 * time.Minute, Agg: query.AggAvg},
	} {
		want, errMem := mem.Metrics(ctx, q)
		got, errStore := s.Metrics(ctx, q)
		require.Equal(t, errMem == nil, errStore == nil, "%+v: memory %v, store %v", q, errMem, errStore)
		assert.Equal(t, want, got, "%+v", q)
		if errMem == nil {
			assert.NotEmpty(t, want, "%+v", q)
		}
	}

	for _, id := range []string{"r0", "r7", "nope"} {
		want, errMem := mem.RunRecords(ctx, id)
		got, errStore := s.RunRecords(ctx, id)
		assert.Equal(t, errMem == nil, errStore == nil, id)
		assert.Equal(t, len(want.Spans), len(got.Spans), id)
		assert.Equal(t, len(want.Events), len(got.Events), id)
	}
}
