package sqlitesink_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

func TestExportJSONLReadsBack(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	var buf bytes.Buffer
	n, err := s.ExportSpans(context.Background(), sqlitesink.SpanQuery{Where: query.MustParse("run_id=r1")}, sqlitesink.FormatJSONL, &buf)
	require.NoError(t, err)
	assert.Equal(t, spansPerTurn, n)

	written := map[stagetrace.SpanID]stagetrace.StageSpan{}
	for _, sp := range rec.mem.SpansOfRun("r1") {
		written[sp.SpanID] = sp
	}
	dec := stagetrace.NewDecoder(&buf)
	count := 0
	for {
		r, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.NotNil(t, r.Span)
		want, ok := written[r.Span.SpanID]
		require.True(t, ok)
		assertSameSpan(t, want, *r.Span)
		count++
	}
	assert.Equal(t, spansPerTurn, count)
}

func TestExportCSV(t *testing.T) {
	s, _ := openStore(t)
	fill(t, s)
	ctx := context.Background()
	read := func(q sqlitesink.SpanQuery) [][]string {
		t.Helper()
		var buf bytes.Buffer
		n, err := s.ExportSpans(ctx, q, sqlitesink.FormatCSV, &buf)
		require.NoError(t, err)
		rows, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, n+1)
		return rows
	}
	fixed := []string{"run_id", "trace_id", "span_id", "parent_span_id", "stage", "name", "kind", "status", "status_message", "start_time", "end_time", "elapsed_ms", "scope"}

	// Without attrs: a column per finding of the spans exported.
	rows := read(sqlitesink.SpanQuery{Where: query.MustParse("finding.input_tokens exists"), OrderBy: "run_id"})
	require.Len(t, rows, 3)
	assert.Equal(t, append(append([]string{}, fixed...), "finding.cost", "finding.input_tokens", "finding.output_tokens"), rows[0])
	r1 := rows[1]
	assert.Equal(t, []string{"r1", "inference", "chat gpt-4o", "client", "ok", "", "2024-05-01T10:00:00.03Z", "2024-05-01T10:00:00.075Z", "45", "chatbot/llm", "0.0042", "812", "95"},
		append(append([]string{}, r1[0]), r1[4:]...))

	// With attrs: exactly those columns, blank where a span lacks one.
	rows = read(sqlitesink.SpanQuery{Where: query.MustParse("run_id=r2"), Attrs: []string{"finding.documents", "gen_ai.request.model"}, Limit: 3})
	require.Len(t, rows, 4)
	assert.Equal(t, append(append([]string{}, fixed...), "finding.documents", "gen_ai.request.model"), rows[0])
	assert.Equal(t, []string{"", ""}, rows[1][len(fixed):], "chat turn")
	assert.Equal(t, []string{"4", ""}, rows[3][len(fixed):], "vector search")

	_, err := s.ExportSpans(ctx, sqlitesink.SpanQuery{}, "xml", io.Discard)
	assert.ErrorContains(t, err, `unknown export format "xml"`)
}

// TestMemoryExportMatchesStore checks that records read from a JSONL file
// export as the same records read from a store.
func TestMemoryExportMatchesStore(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	ctx := context.Background()
	for _, format := range []string{sqlitesink.FormatJSONL, sqlitesink.FormatCSV} {
		for _, q := range []sqlitesink.SpanQuery{
			{Where: query.MustParse("stage exists")},
			{Attrs: []string{"finding.input_tokens", "db.system"}, OrderBy: "elapsed_ms", Desc: true},
		} {
			var fromStore, fromMemory bytes.Buffer
			n, err := s.ExportSpans(ctx, q, format, &fromStore)
			require.NoError(t, err)
			m, err := inMemory(rec).ExportSpans(ctx, q, format, &fromMemory)
			require.NoError(t, err)
			assert.Equal(t, n, m)
			assert.Equal(t, fromStore.String(), fromMemory.String(), "%s %+v", format, q)
		}
	}
}
