package jsonlsink_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/internal/filelock"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// A second writer of one file would cut off the first one's write in
// progress as a torn line, so it is refused, and repairs nothing.
func TestSecondWriterIsRefused(t *testing.T) {
	if !filelock.Supported {
		t.Skip("no flock on this system: nothing stops a second writer")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s1 := newSink(t, path)
	require.NoError(t, s1.Write(ctx, testBatch("run-1", "first", 2, 0)))

	// The first writer is in the middle of a write.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"type":"stage_span","run_id":"run-1"`)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	s2, err := jsonlsink.New(path)
	require.ErrorIs(t, err, jsonlsink.ErrInUse)
	assert.Nil(t, s2)
	assert.Contains(t, err.Error(), path)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the write in progress is left alone")

	// Once the first writer is gone, the file is free again.
	require.NoError(t, s1.Shutdown(ctx))
	s3 := newSink(t, path)
	assert.Positive(t, s3.TornBytes(), "a torn line no writer holds is repaired")
}

// A rotated sink holds the lock of its new file.
func TestRotatedFileIsLocked(t *testing.T) {
	if !filelock.Supported {
		t.Skip("no flock on this system: nothing stops a second writer")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path, jsonlsink.WithMaxSize(1), jsonlsink.WithMaxBackups(2))
	for i := range 3 {
		require.NoError(t, s.Write(ctx, testBatch("run", string(rune('a'+i)), 1, 0)))
	}
	require.Positive(t, s.Rotations())
	_, err := jsonlsink.New(path)
	assert.ErrorIs(t, err, jsonlsink.ErrInUse)
}
