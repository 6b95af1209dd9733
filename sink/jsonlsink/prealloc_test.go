package jsonlsink_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// A file system that cannot reserve blocks, or a reservation that fails,
// turns preallocation off: the sink asks once and writes every batch as
// usual. Only a failure is worth a warning; a file system without the
// call is a documented case.
func TestPreallocationOff(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		warns int
	}{
		{name: "not supported", err: &os.PathError{Op: "fallocate", Path: "runs.jsonl", Err: syscall.EOPNOTSUPP}},
		{name: "unsupported elsewhere", err: errors.ErrUnsupported},
		{name: "out of space", err: &os.PathError{Op: "fallocate", Path: "runs.jsonl", Err: syscall.ENOSPC}, warns: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			defer jsonlsink.SetFallocate(func(*os.File, int64, int64) error {
				calls++
				return tt.err
			})()
			var logs bytes.Buffer
			path := filepath.Join(t.TempDir(), "runs.jsonl")
			s := newSink(t, path, jsonlsink.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))

			var want []string
			for k := range 3 {
				b := testBatch("run", string(rune('a'+k)), 4, 1)
				require.NoError(t, s.Write(context.Background(), b), "the batch is written without a reservation")
				want = append(want, batchNames(b)...)
			}
			require.NoError(t, s.Shutdown(context.Background()))
			assert.Equal(t, want, fileNames(t, path))
			assert.Equal(t, 1, calls, "asked once, then off")
			assert.Equal(t, tt.warns, strings.Count(logs.String(), "level=WARN msg=\"jsonlsink: preallocation off"))
		})
	}
}

func TestPreallocationAsksInSteps(t *testing.T) {
	type call struct{ off, n int64 }
	var calls []call
	defer jsonlsink.SetFallocate(func(_ *os.File, off, n int64) error {
		calls = append(calls, call{off, n})
		return nil
	})()
	b := testBatch("run", "s", 4, 1)
	l := int64(encodedSize(b))
	const step = 10000
	require.Greater(t, l, int64(0))
	require.Less(t, l, int64(step), "a batch is smaller than the step")
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path, jsonlsink.WithPreallocate(step))

	// The first write reserves its own bytes and the step past them; the
	// next ones reserve nothing until they pass the end of that.
	var writes int64
	for writes = 0; writes*l <= l+step; writes++ {
		require.NoError(t, s.Write(context.Background(), b))
	}
	require.Len(t, calls, 2)
	assert.Equal(t, call{0, l + step}, calls[0])
	assert.Equal(t, call{l + step, (writes*l + step) - (l + step)}, calls[1],
		"the second reservation starts where the first ended")
}
