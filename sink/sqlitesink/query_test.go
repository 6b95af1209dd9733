package sqlitesink_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// TestSpansFilters runs each filter against the store and, through
// package memquery, against the same spans in memory: both must give the
// expected spans, in the same order.
func TestSpansFilters(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	mem := inMemory(rec)
	ctx := context.Background()
	both := []string{"r1/chat gpt-4o", "r2/chat gpt-4o"}
	tests := []struct {
		where string
		want  []string
	}{
		// Numbers compare as numbers: 1000 > 99 although "1000" < "99".
		{"finding.input_tokens>99", both},
		{"finding.input_tokens>999", []string{"r2/chat gpt-4o"}},
		{"finding.input_tokens<=812", []string{"r1/chat gpt-4o"}},
		{"finding.input_tokens=812.0", []string{"r1/chat gpt-4o"}},
		{"finding.input_tokens!=812", []string{"r2/chat gpt-4o"}},
		{`finding.input_tokens="1000"`, nil},
		{"finding.retrieval_score>=0.82 and finding.retrieval_score<0.83", []string{"r1/vector search", "r2/vector search"}},
		{"finding.cost>0.005", []string{"r2/chat gpt-4o"}},
		// Dotted keys are keys, as bare fields or with attr.
		{"gen_ai.usage.input_tokens>900", []string{"r2/chat gpt-4o"}},
		{"attr.gen_ai.usage.input_tokens>=812", both},
		{"gen_ai.usage exists", nil},
		// A string attribute compares as a string only.
		{"http.status=200", nil},
		{`http.status="200"`, both},
		{`http.status>"1000"`, both},
		{"http.status~^2", both},
		// Booleans.
		{"finding.safe=true", []string{"r1/judge answer", "r2/judge answer"}},
		{"finding.safe!=true", nil},
		{"finding.safe=1", nil},
		// Regular expressions are regular expressions, not LIKE.
		{`name~"^chat (turn|gpt)"`, []string{"r1/chat turn", "r1/chat gpt-4o", "r1/chat gpt-4o", "r2/chat turn", "r2/chat gpt-4o", "r2/chat gpt-4o"}},
		{`name~"gpt-4.$"`, []string{"r1/chat gpt-4o", "r1/chat gpt-4o", "r2/chat gpt-4o", "r2/chat gpt-4o"}},
		{`name~"%"`, nil},
		{"finding.label~^pa and finding.label!=fail", []string{"r1/judge answer", "r2/judge answer"}},
		// Built-in fields.
		{"stage=retrieval and kind=client", []string{"r1/vector search", "r2/vector search"}},
		{"status=error", []string{"r1/chat gpt-4o", "r2/chat gpt-4o"}},
		{"status!=unset and run_id=r2", []string{"r2/chat gpt-4o", "r2/chat gpt-4o"}},
		{`status~"^(ok|error)$" and run_id=r1`, []string{"r1/chat gpt-4o", "r1/chat gpt-4o"}},
		{"stage exists and run_id=r1 and scope=chatbot/rag", []string{"r1/retrieve documents", "r1/vector search", "r1/generate answer", "r1/judge answer"}},
		{"stage!=inference and run_id=r1", []string{"r1/retrieve documents", "r1/vector search", "r1/judge answer"}},
		{"elapsed_ms>=45 and elapsed_ms<=64", []string{"r1/generate answer", "r1/chat gpt-4o", "r2/generate answer", "r2/chat gpt-4o"}},
		{"elapsed_ms=3", []string{"r1/chat gpt-4o", "r2/chat gpt-4o"}},
		{"start_time>=2024-05-01T11:00:00Z and start_time<1714561200.017", []string{"r2/chat turn", "r2/retrieve documents", "r2/vector search", "r2/generate answer"}},
		{"kind=server", []string{"r1/chat turn", "r2/chat turn"}},
		{"finding.documents exists and finding.documents=4", []string{"r1/vector search", "r2/vector search"}},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			filters, err := query.Parse(tt.where)
			require.NoError(t, err)
			q := sqlitesink.SpanQuery{Where: filters}
			got, err := s.Spans(ctx, q)
			require.NoError(t, err)
			assert.Equal(t, tt.want, names(got), "store")
			inMem, err := mem.Spans(ctx, q)
			require.NoError(t, err)
			assert.Equal(t, tt.want, names(inMem), "in memory")
		})
	}
}

func TestSpansTraceIDFilter(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	id := rec.mem.SpansOfRun("r2")[0].TraceID.String()
	for _, where := range []string{"trace_id=" + id, "trace_id~^" + id[:6]} {
		got, err := s.Spans(context.Background(), sqlitesink.SpanQuery{Where: query.MustParse(where)})
		require.NoError(t, err)
		assert.Len(t, got, spansPerTurn, where)
		for _, sp := range got {
			assert.Equal(t, "r2", sp.RunID)
		}
	}
}

func TestSpansOrderLimitAttrs(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	mem := inMemory(rec)
	ctx := context.Background()
	tests := []struct {
		name string
		q    sqlitesink.SpanQuery
		want []string
	}{
		{"elapsed desc", sqlitesink.SpanQuery{OrderBy: "elapsed_ms", Desc: true, Limit: 3},
			// Ties in reverse order of writing, with Desc.
			[]string{"r2/chat turn", "r1/chat turn", "r2/generate answer"}},
		{"offset", sqlitesink.SpanQuery{OrderBy: "elapsed_ms", Desc: true, Limit: 2, Offset: 2},
			[]string{"r2/generate answer", "r1/generate answer"}},
		{"finding order, missing first", sqlitesink.SpanQuery{Where: query.MustParse("run_id=r1"), OrderBy: "finding.input_tokens", Limit: 2},
			// Ties keep the order spans were written in: as they ended.
			[]string{"r1/vector search", "r1/retrieve documents"}},
		{"finding order desc", sqlitesink.SpanQuery{OrderBy: "finding.input_tokens", Desc: true, Limit: 2},
			[]string{"r2/chat gpt-4o", "r1/chat gpt-4o"}},
		{"attr order", sqlitesink.SpanQuery{Where: query.MustParse("llm.attempt exists"), OrderBy: "attr.llm.attempt", Desc: true},
			[]string{"r2/chat gpt-4o", "r1/chat gpt-4o", "r2/chat gpt-4o", "r1/chat gpt-4o"}},
		{"name", sqlitesink.SpanQuery{Where: query.MustParse("run_id=r1"), OrderBy: "name"},
			[]string{"r1/chat gpt-4o", "r1/chat gpt-4o", "r1/chat turn", "r1/generate answer", "r1/judge answer", "r1/retrieve documents", "r1/vector search"}},
		{"end_time desc", sqlitesink.SpanQuery{OrderBy: "end_time", Desc: true, Limit: 2},
			[]string{"r2/chat turn", "r2/judge answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Spans(ctx, tt.q)
			require.NoError(t, err)
			assert.Equal(t, tt.want, names(got), "store")
			inMem, err := mem.Spans(ctx, tt.q)
			require.NoError(t, err)
			assert.Equal(t, tt.want, names(inMem), "in memory")
		})
	}

	got, err := s.Spans(ctx, sqlitesink.SpanQuery{
		Where: query.MustParse("finding.input_tokens>900"),
		Attrs: []string{"finding.input_tokens", "gen_ai.request.model", "finding.missing"},
	})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, stagetrace.Attrs{{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")}}, got[0].Attrs)
	assert.Equal(t, stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(1000)}}, got[0].Findings)
}

func TestSpansRejectsBadQueries(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	for _, tt := range []struct {
		q    sqlitesink.SpanQuery
		want string
	}{
		{sqlitesink.SpanQuery{OrderBy: "elapsed"}, `cannot order by "elapsed"`},
		{sqlitesink.SpanQuery{OrderBy: "start_time; DROP TABLE spans"}, "cannot order by"},
		{sqlitesink.SpanQuery{Limit: -1}, "negative limit"},
		{sqlitesink.SpanQuery{Where: []query.Filter{{Field: "x", Op: "LIKE", Value: stagetrace.StringValue("%")}}}, `unknown operator "LIKE"`},
		{sqlitesink.SpanQuery{Where: []query.Filter{{Field: "status", Op: query.OpGt, Value: stagetrace.StringValue("ok")}}}, "does not apply to status"},
		{sqlitesink.SpanQuery{Attrs: []string{"finding."}}, "names no finding"},
	} {
		_, err := s.Spans(ctx, tt.q)
		assert.ErrorContains(t, err, tt.want)
		_, err = memquery.New(stagetrace.Batch{}).Spans(ctx, tt.q)
		assert.ErrorContains(t, err, tt.want)
	}
}

// TestInjection puts SQL into every place a user's text reaches: keys,
// values, regular expressions, order-by, attrs, run ids. Each must be
// taken as data: the query runs (or is refused by a whitelist) and the
// store is intact afterwards.
func TestInjection(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	ctx := context.Background()
	evil := []string{
		`'; DROP TABLE spans; --`,
		`") OR 1=1 --`,
		`x' OR '1'='1`,
		`$.a'); DELETE FROM runs; --`,
		`name; DROP TABLE spans`,
		"\x00",
	}
	for _, e := range evil {
		for _, f := range []query.Filter{
			{Field: e, Op: query.OpEq, Value: stagetrace.StringValue("x")},
			{Field: "finding." + e, Op: query.OpExists},
			{Field: "attr." + e, Op: query.OpGt, Value: stagetrace.Int64Value(1)},
			{Field: "name", Op: query.OpEq, Value: stagetrace.StringValue(e)},
			{Field: "run_id", Op: query.OpNe, Value: stagetrace.StringValue(e)},
			{Field: "gen_ai.request.model", Op: query.OpLt, Value: stagetrace.StringValue(e)},
		} {
			got, err := s.Spans(ctx, sqlitesink.SpanQuery{Where: []query.Filter{f}})
			require.NoError(t, err, "%s", f)
			if f.Op == query.OpNe {
				assert.Len(t, got, 2*spansPerTurn, "%s matches every span, as data", f)
			} else if f.Field != "gen_ai.request.model" {
				assert.Empty(t, got, "%s", f)
			}
			_, err = s.Runs(ctx, sqlitesink.RunFilter{Where: []query.Filter{f}})
			require.NoError(t, err)
		}
		// A quoted regular expression of SQL is a regular expression.
		if re, err := query.Parse(`name~` + quote(e)); err == nil {
			_, err = s.Spans(ctx, sqlitesink.SpanQuery{Where: re})
			require.NoError(t, err)
		} else {
			assert.ErrorContains(t, err, "regexp")
		}
		_, err := s.Spans(ctx, sqlitesink.SpanQuery{OrderBy: e})
		assert.ErrorContains(t, err, "cannot order by")
		got, err := s.Spans(ctx, sqlitesink.SpanQuery{OrderBy: "finding." + e, Attrs: []string{e, "finding." + e}})
		require.NoError(t, err)
		assert.Len(t, got, 2*spansPerTurn)
		_, err = s.Run(ctx, e)
		assert.ErrorIs(t, err, sqlitesink.ErrNotFound)
		_, err = s.Metrics(ctx, sqlitesink.MetricQuery{Name: e, Step: 60e9, Labels: []sqlitesink.LabelMatcher{{Name: e, Op: query.OpEq, Value: e}}})
		require.NoError(t, err)
	}
	// Everything is still there.
	spans, err := s.Spans(ctx, sqlitesink.SpanQuery{})
	require.NoError(t, err)
	assert.Len(t, spans, 2*spansPerTurn)
	runs, err := s.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	assert.Len(t, runs, 2)
}

func quote(s string) string {
	return query.Filter{Field: "f", Op: query.OpEq, Value: stagetrace.StringValue(s)}.String()[2:]
}

func TestKeysAreStoredAsWritten(t *testing.T) {
	// Keys that look like SQL or JSON paths are keys like any other.
	s, _ := openStore(t)
	ctx := context.Background()
	keys := []string{`a'b`, `$.x`, `x"); DROP TABLE spans; --`, "finding.nested", "with space", "ünïcode"}
	var attrs stagetrace.Attrs
	for i, k := range keys {
		attrs = append(attrs, stagetrace.Attr{Key: k, Value: stagetrace.Int64Value(int64(i + 1))})
	}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{{
		RunID: "k", Name: "keys", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1},
		StartTime: base, EndTime: base.Add(1), Attrs: attrs, Findings: attrs,
	}}}))
	for i, k := range keys {
		for _, field := range []string{"attr." + k, "finding." + k} {
			f := query.Filter{Field: field, Op: query.OpEq, Value: stagetrace.Int64Value(int64(i + 1))}
			// Through the filter language too.
			parsed, err := query.Parse(f.String())
			require.NoError(t, err)
			got, err := s.Spans(ctx, sqlitesink.SpanQuery{Where: parsed})
			require.NoError(t, err)
			assert.Len(t, got, 1, "%s", f)
		}
	}
}
