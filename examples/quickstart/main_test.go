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

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, "turn-test", &out))

	f, err := os.Open(filepath.Join(dir, "runs.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	stages := map[string]bool{}
	var exceptions, metrics int
	var tokens int64
	dec := stagetrace.NewDecoder(f)
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if s := rec.Span; s != nil {
			assert.Equal(t, "turn-test", s.RunID)
			stages[s.Stage] = true
			if v, ok := s.Findings.Get(attributes.FindingInputTokens); ok {
				tokens += v.AsInt64()
			}
			continue
		}
		switch rec.Event.Name {
		case attributes.EventException:
			exceptions++
		case attributes.EventMetric:
			metrics++
		}
	}
	assert.Equal(t, map[string]bool{"": true, "retrieval": true, "inference": true, "evaluation": true}, stages)
	assert.Equal(t, 1, exceptions, "the rate-limited call recorded one exception")
	assert.Equal(t, 2, metrics, "one metric in a span, one through the bridge")
	assert.Equal(t, int64(812), tokens)

	summary := out.String()
	for _, want := range []string{"run turn-test", "retrieval", "inference", "evaluation", "input_tokens=812", "response_safe_score=0.97", "exception in inference", "error"} {
		assert.Contains(t, summary, want)
	}
}

func TestQuickstartUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	err := run(context.Background(), filepath.Join(file, "out"), "r", io.Discard)
	assert.Error(t, err)
}
