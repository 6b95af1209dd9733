package dataset_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/dataset"
	"github.com/stagetrace/stagetrace/redact"
)

func str(s string) stagetrace.Value { return stagetrace.StringValue(s) }

func spans() []stagetrace.StageSpan {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	return []stagetrace.StageSpan{
		{ // GenAI content capture, in a conversation, with an expected output finding
			RunID: "turn-1", Stage: "inference", Name: "chat gpt-4o", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1}, StartTime: t0,
			Attrs: stagetrace.Attrs{
				{Key: "gen_ai.conversation.id", Value: str("conv-7")},
				{Key: "gen_ai.input.messages", Value: str(`[{"role":"user","parts":[{"type":"text","content":"mail me at jane.doe@example.com"}]}]`)},
				{Key: "gen_ai.output.messages", Value: str(`[{"role":"assistant","parts":[{"type":"text","content":"done"}]}]`)},
			},
			Findings: stagetrace.Attrs{{Key: "expected_output", Value: str("done")}},
		},
		{ // OpenInference, a session, no stage: the step is the name
			RunID: "turn-2", Name: "retriever", TraceID: stagetrace.TraceID{2}, SpanID: stagetrace.SpanID{2}, StartTime: t0.Add(time.Second),
			Attrs: stagetrace.Attrs{
				{Key: "session.id", Value: str("sess-9")},
				{Key: "input.value", Value: str("what is RAG?")},
				{Key: "output.value", Value: stagetrace.SliceValue(str("doc-1"), stagetrace.IntValue(2))},
				{Key: "expected_output", Value: str("doc-1")},
			},
		},
		{ // neither input nor output: no row
			RunID: "turn-2", Name: "vector search", TraceID: stagetrace.TraceID{2}, SpanID: stagetrace.SpanID{3}, StartTime: t0,
		},
		{ // keys the user names, and a formula-like cell
			RunID: "turn-3", Stage: "eval", Name: "judge", TraceID: stagetrace.TraceID{3}, SpanID: stagetrace.SpanID{4}, StartTime: t0,
			Attrs:    stagetrace.Attrs{{Key: "question", Value: str("=HYPERLINK(\"x\")")}, {Key: "input.value", Value: str("ignored")}},
			Findings: stagetrace.Attrs{{Key: "answer", Value: str("é" + strings.Repeat("ü", 100))}, {Key: "gold", Value: str("yes")}},
		},
	}
}

func TestRowsReadTheOriginsFields(t *testing.T) {
	rows, err := dataset.Rows(spans(), dataset.Options{Input: []string{"question"}, Output: []string{"finding.answer"}, Expected: []string{"finding.gold"}})
	require.NoError(t, err)
	require.Len(t, rows, 3, "the span with neither input nor output makes no row")

	assert.Equal(t, "conv-7", rows[0].Session)
	assert.Equal(t, "inference", rows[0].Step)
	assert.Contains(t, rows[0].Input, "jane.doe@example.com", "no redactor given")
	assert.Contains(t, rows[0].Output, `"done"`)
	assert.Equal(t, "done", rows[0].ExpectedOutput)
	assert.Equal(t, "turn-1", rows[0].RunID)

	assert.Equal(t, "sess-9", rows[1].Session)
	assert.Equal(t, "retriever", rows[1].Step)
	assert.Equal(t, "what is RAG?", rows[1].Input)
	assert.Equal(t, `["doc-1",2]`, rows[1].Output, "a value that is no string: its JSON form")
	assert.Equal(t, "doc-1", rows[1].ExpectedOutput, "the expected_output attribute")

	assert.Equal(t, "turn-3", rows[2].Session, "no session: the run")
	assert.Equal(t, `=HYPERLINK("x")`, rows[2].Input, "the named key wins over input.value")
	assert.Equal(t, "yes", rows[2].ExpectedOutput)
}

func TestRedactionAndSizeLimit(t *testing.T) {
	r, err := redact.New(redact.Config{Presets: redact.PresetNames()})
	require.NoError(t, err)
	in := spans()
	rows, err := dataset.Rows(in, dataset.Options{Redactor: r, MaxFieldBytes: 40, Output: []string{"finding.answer"}})
	require.NoError(t, err)
	for _, row := range rows {
		assert.NotContains(t, row.Input, "jane.doe", "redacted before export")
		for _, f := range []string{row.Input, row.Output, row.ExpectedOutput} {
			assert.LessOrEqual(t, len(f), 40)
			assert.True(t, utf8.ValidString(f), "cut at a character boundary: %q", f)
		}
	}
	assert.True(t, strings.HasSuffix(rows[2].Output, dataset.TruncatedMark), rows[2].Output)
	v, _ := in[0].Attrs.Get("gen_ai.input.messages")
	assert.Contains(t, v.AsString(), "jane.doe", "the caller's spans are not changed")

	_, err = dataset.Rows(in, dataset.Options{MaxFieldBytes: -1})
	assert.Error(t, err)
	_, err = dataset.Rows(in, dataset.Options{Input: []string{"finding."}})
	assert.Error(t, err)
}

func TestWriteReadsBackWithTheSameLibraries(t *testing.T) {
	rows, err := dataset.Rows(spans(), dataset.Options{Input: []string{"question"}})
	require.NoError(t, err)
	rows[0].Input += "\xff" // invalid UTF-8 survives as one valid record

	var buf bytes.Buffer
	require.NoError(t, dataset.Write(&buf, dataset.FormatCSV, rows))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(rows)+1)
	assert.Equal(t, dataset.Columns, recs[0])
	assert.Equal(t, "'=HYPERLINK(\"x\")", recs[3][2], "a formula is neutralised")
	assert.Equal(t, "sess-9", recs[2][0])

	buf.Reset()
	require.NoError(t, dataset.Write(&buf, dataset.FormatCSVRaw, rows))
	recs, err = csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, "=HYPERLINK(\"x\")", recs[3][2])

	buf.Reset()
	require.NoError(t, dataset.Write(&buf, dataset.FormatJSONL, rows))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, len(rows))
	var got dataset.Row
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &got))
	assert.Equal(t, rows[1], got)

	buf.Reset()
	require.NoError(t, dataset.Write(&buf, dataset.FormatParquet, rows))
	back, err := parquet.Read[dataset.Row](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Len(t, back, len(rows))
	for i := range rows {
		assert.Equal(t, rows[i].Session, back[i].Session)
		assert.Equal(t, rows[i].Output, back[i].Output)
		assert.True(t, rows[i].Time.Equal(back[i].Time))
	}
	assert.Equal(t, rows[0].Input, back[0].Input, "parquet keeps the bytes")

	assert.Error(t, dataset.Write(&buf, "xml", rows))
}
