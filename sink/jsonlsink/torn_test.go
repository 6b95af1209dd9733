package jsonlsink_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// completeLines returns two valid, complete JSON lines.
func completeLines() string {
	var enc stagetrace.Encoder
	b := testBatch("run-0", "old", 1, 1)
	buf := enc.AppendSpan(nil, &b.Spans[0])
	buf = enc.AppendEvent(buf, &b.Events[0])
	return string(buf)
}

func TestTornLastLine(t *testing.T) {
	valid := completeLines()
	chunk := jsonlsink.TornChunkSize
	tests := []struct {
		name    string
		content string
		want    string // the file after New
	}{
		{name: "complete file", content: valid, want: valid},
		{name: "empty file", content: "", want: ""},
		{name: "torn tail", content: valid + `{"name":"half`, want: valid},
		{name: "only a torn line", content: `{"name":"half`, want: ""},
		{name: "one torn byte", content: valid + "{", want: valid},
		{name: "huge torn tail", content: valid + strings.Repeat("x", 3*chunk+17), want: valid},
		{name: "torn tail of exactly one chunk", content: valid + strings.Repeat("y", chunk), want: valid},
		{name: "torn tail of one chunk less one", content: valid + strings.Repeat("y", chunk-1), want: valid},
		{name: "huge file that is only a torn line", content: strings.Repeat("z", 2*chunk+5), want: ""},
		{name: "newline only", content: "\n", want: "\n"},
		{name: "complete last line that is not JSON", content: valid + "not json at all\n", want: valid + "not json at all\n"},
		{name: "torn tail after a line that is not JSON", content: valid + "garbage\n" + `{"tr`, want: valid + "garbage\n"},
	}
	policies := []jsonlsink.TornLinePolicy{jsonlsink.TornLineTruncate, jsonlsink.TornLineMoveAside}
	for _, policy := range policies {
		for _, tt := range tests {
			t.Run(policy.String()+"/"+tt.name, func(t *testing.T) {
				ctx := context.Background()
				dir := t.TempDir()
				path := filepath.Join(dir, "runs.jsonl")
				require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
				tail := tt.content[len(tt.want):]

				s := newSink(t, path, jsonlsink.WithTornLinePolicy(policy))

				assert.EqualValues(t, len(tail), s.TornBytes())
				got, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, tt.want, string(got), "file after New")

				aside, err := filepath.Glob(filepath.Join(dir, "runs.jsonl.torn-*"))
				require.NoError(t, err)
				if policy == jsonlsink.TornLineMoveAside && tail != "" {
					require.Len(t, aside, 1)
					assert.Equal(t, aside[0], s.TornPath())
					moved, err := os.ReadFile(aside[0])
					require.NoError(t, err)
					assert.Equal(t, tail, string(moved), "the torn tail is kept whole")
					if runtime.GOOS != "windows" {
						fi, err := os.Stat(aside[0])
						require.NoError(t, err)
						assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
					}
				} else {
					assert.Empty(t, aside)
					assert.Empty(t, s.TornPath())
				}

				// New lines start on a line of their own.
				b := testBatch("run-1", "new", 2, 1)
				require.NoError(t, s.Write(ctx, b))
				require.NoError(t, s.ForceFlush(ctx))
				got, err = os.ReadFile(path)
				require.NoError(t, err)
				require.True(t, strings.HasPrefix(string(got), tt.want))
				assert.Equal(t, batchNames(b), names(decodeAll(t, got[len(tt.want):])))
			})
		}
	}
}
