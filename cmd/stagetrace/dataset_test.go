package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/dataset"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// writeContent stores a conversation's LLM spans with GenAI content
// attributes beside the fixture's runs.
func writeContent(t *testing.T, dir string) {
	t.Helper()
	store, err := sqlitesink.Open(filepath.Join(dir, "stagetrace-out", "runs.db"))
	require.NoError(t, err)
	var spans []stagetrace.StageSpan
	for i, q := range []string{"hello, I am jane.doe@example.com", "what is RAG?"} {
		spans = append(spans, stagetrace.StageSpan{
			RunID: "chat-1", Stage: "inference", Name: "chat gpt-4o",
			TraceID: stagetrace.TraceID{9}, SpanID: stagetrace.SpanID{byte(i + 1)},
			StartTime: base.Add(-2 * time.Hour), EndTime: base.Add(-2 * time.Hour),
			Attrs: stagetrace.Attrs{
				{Key: "gen_ai.conversation.id", Value: stagetrace.StringValue("conv-1")},
				{Key: "gen_ai.input.messages", Value: stagetrace.StringValue(q)},
				{Key: "gen_ai.output.messages", Value: stagetrace.StringValue(strings.Repeat("answer ", 20))},
			},
			Findings: stagetrace.Attrs{{Key: "expected_output", Value: stagetrace.StringValue("gold")}},
		})
	}
	require.NoError(t, store.Write(context.Background(), stagetrace.Batch{Spans: spans}))
	require.NoError(t, store.Shutdown(context.Background()))
}

func TestExportEvalDataset(t *testing.T) {
	dir := inFixture(t)
	writeContent(t, dir)

	r := runCLI("export", "--dataset", "eval", "--format", "csv", "-o", "eval.csv", "--max-field-bytes", "30")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "exported 2 evaluation rows to eval.csv\n", r.stdout)
	f, err := os.Open("eval.csv")
	require.NoError(t, err)
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	require.NoError(t, err)
	require.Len(t, recs, 3, "the fixture's spans have no content: only the two LLM calls")
	assert.Equal(t, dataset.Columns, recs[0])
	assert.Equal(t, []string{"conv-1", "inference"}, recs[1][:2])
	assert.NotContains(t, recs[1][2], "jane.doe", "redacted by default")
	assert.LessOrEqual(t, len(recs[1][3]), 30)
	assert.Equal(t, "gold", recs[1][4])

	r = runCLI("export", "--dataset", "eval", "--format", "parquet", "-o", "eval.parquet", "--no-redact", "--where", "run_id=chat-1")
	require.Equal(t, 0, r.code, r.String())
	raw, err := os.ReadFile("eval.parquet")
	require.NoError(t, err)
	rows, err := parquet.Read[dataset.Row](bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Contains(t, rows[0].Input, "jane.doe", "--no-redact")
	assert.Equal(t, "chat-1", rows[1].RunID)

	r = runCLI("export", "--dataset", "eval", "--format", "jsonl", "--input", "finding.expected_output")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, 2, strings.Count(r.stdout, `"input":"gold"`), r.stdout)
}

func TestExportEvalDatasetBadInput(t *testing.T) {
	dir := inFixture(t)
	writeContent(t, dir)
	for args, want := range map[string]string{
		"export --dataset train":                     `bad --dataset "train"`,
		"export --dataset eval --format xml":         "want jsonl, csv or parquet",
		"export --format parquet":                    "want jsonl or csv",
		"export --input x":                           "go with --dataset eval",
		"export --dataset eval --max-field-bytes -1": "cannot be negative",
		"export --dataset eval --attrs a":            "--attrs does not go",
		"export --dataset eval --expected finding.":  "names no attribute",
	} {
		r := runCLI(strings.Fields(args)...)
		assert.Equal(t, exitUsage, r.code, args)
		assert.Contains(t, r.stderr, want, args)
	}
	_, err := os.Stat("eval.csv")
	assert.True(t, os.IsNotExist(err))
}
