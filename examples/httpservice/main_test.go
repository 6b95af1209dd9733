package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunIDCrossesTheServiceBoundary(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, "ask-test-1", &out))

	f, err := os.Open(filepath.Join(dir, "runs.jsonl"))
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	d := stagetrace.NewDecoder(f)
	names := map[string]stagetrace.StageSpan{}
	kinds := map[stagetrace.SpanKind]int{}
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if rec.Span == nil {
			continue
		}
		assert.Equal(t, "ask-test-1", rec.Span.RunID, "span %q", rec.Span.Name)
		names[rec.Span.Name] = *rec.Span
		kinds[rec.Span.Kind]++
	}
	require.Contains(t, names, "ask question", "client span")
	assert.Equal(t, 1, kinds[stagetrace.SpanKindServer], "the service's otelhttp server span")
	assert.Equal(t, 3, kinds[stagetrace.SpanKindClient], "two otelhttp client spans and the LLM call span")
	require.Contains(t, names, "chat fake-llm-1", "LLM call span")
	llm := names["chat fake-llm-1"]
	in, ok := llm.Findings.Get("input_tokens")
	require.True(t, ok)
	assert.Equal(t, int64(42), in.AsInt64())
	chars, ok := llm.Findings.Get("answer_chars")
	require.True(t, ok)
	assert.Equal(t, int64(len("Runs are grouped by run.id.")), chars.AsInt64())
	assert.Equal(t, names["ask question"].TraceID, llm.TraceID, "one trace across the boundary")

	assert.Contains(t, out.String(), "answer: Runs are grouped by run.id.")
	assert.Contains(t, out.String(), "run ask-test-1")
}
