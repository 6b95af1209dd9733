package jsonlsink_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// rotBatch returns batch k of a rotation test: one span, the same size for
// every k below 1000.
func rotBatch(k int) stagetrace.Batch {
	return testBatch("run", fmt.Sprintf("b%03d", k), 1, 0)
}

func rotNames(ks ...int) []string {
	var out []string
	for _, k := range ks {
		out = append(out, batchNames(rotBatch(k))...)
	}
	return out
}

// fileNames returns the names of the records in the file at path, or nil
// when it does not exist.
func fileNames(t *testing.T, path string) []string {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	return names(readRecords(t, path))
}

func TestRotation(t *testing.T) {
	l := int64(encodedSize(rotBatch(0)))
	require.Equal(t, l, int64(encodedSize(rotBatch(999))), "rotation batches have one size")

	tests := []struct {
		name      string
		maxSize   int64
		backups   int // -1: WithMaxBackups not given
		writes    int
		want      map[string][]int // file suffix -> batches in it; other suffixes must not exist
		rotations int64
	}{
		{
			name: "three batches a file, two backups", maxSize: 3 * l, backups: 2, writes: 10,
			want:      map[string][]int{"": {9}, ".1": {6, 7, 8}, ".2": {3, 4, 5}},
			rotations: 3,
		},
		{
			name: "limit between batch sizes", maxSize: 3*l + l/2, backups: 5, writes: 7,
			want:      map[string][]int{"": {6}, ".1": {3, 4, 5}, ".2": {0, 1, 2}},
			rotations: 2,
		},
		{
			name: "no rotation needed", maxSize: 10 * l, backups: 1, writes: 10,
			want:      map[string][]int{"": {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
			rotations: 0,
		},
		{
			name: "no backups kept", maxSize: 3 * l, backups: 0, writes: 7,
			want:      map[string][]int{"": {6}},
			rotations: 2,
		},
		{
			name: "every batch larger than the limit", maxSize: l - 1, backups: 3, writes: 5,
			want:      map[string][]int{"": {4}, ".1": {3}, ".2": {2}, ".3": {1}},
			rotations: 4,
		},
		{
			name: "default backups", maxSize: l, backups: -1, writes: 6,
			want:      map[string][]int{"": {5}, ".1": {4}, ".2": {3}, ".3": {2}},
			rotations: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, "runs.jsonl")
			opts := []jsonlsink.Option{jsonlsink.WithMaxSize(tt.maxSize)}
			if tt.backups >= 0 {
				opts = append(opts, jsonlsink.WithMaxBackups(tt.backups))
			}
			s := newSink(t, path, opts...)
			for k := range tt.writes {
				require.NoError(t, s.Write(ctx, rotBatch(k)))
			}
			require.NoError(t, s.Shutdown(ctx))

			for i := range 8 {
				suffix := ""
				if i > 0 {
					suffix = fmt.Sprintf(".%d", i)
				}
				ks, ok := tt.want[suffix]
				if !ok {
					assert.NoFileExists(t, path+suffix)
					continue
				}
				assert.Equal(t, rotNames(ks...), fileNames(t, path+suffix), "runs.jsonl%s", suffix)
				fi, err := os.Stat(path + suffix)
				require.NoError(t, err)
				assert.LessOrEqual(t, fi.Size(), max(tt.maxSize, l), "runs.jsonl%s within the limit, or one batch", suffix)
				if runtime.GOOS != "windows" {
					assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "runs.jsonl%s mode", suffix)
				}
			}
			assert.EqualValues(t, tt.rotations, s.Rotations())
		})
	}
}

func TestRotationBatchLargerThanLimit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	small := func(i int) stagetrace.Batch { return testBatch("run", fmt.Sprintf("small%d", i), 1, 0) }
	big := testBatch("run", "big", 12, 3)
	limit := int64(3 * encodedSize(small(0)))
	require.Greater(t, int64(encodedSize(big)), limit)

	s := newSink(t, path, jsonlsink.WithMaxSize(limit), jsonlsink.WithMaxBackups(4))
	for _, b := range []stagetrace.Batch{small(0), small(1), big, small(2)} {
		require.NoError(t, s.Write(ctx, b))
	}
	require.NoError(t, s.Shutdown(ctx))

	assert.Equal(t, batchNames(small(2)), fileNames(t, path))
	assert.Equal(t, batchNames(big), fileNames(t, path+".1"), "the big batch whole, alone in its file")
	assert.Equal(t, append(batchNames(small(0)), batchNames(small(1))...), fileNames(t, path+".2"))
	assert.NoFileExists(t, path+".3")
	assert.EqualValues(t, 2, s.Rotations())
}

func TestRotationCountsExistingFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	l := int64(encodedSize(rotBatch(0)))

	s1, err := jsonlsink.New(path)
	require.NoError(t, err)
	require.NoError(t, s1.Write(ctx, rotBatch(0)))
	require.NoError(t, s1.Write(ctx, rotBatch(1)))
	require.NoError(t, s1.Shutdown(ctx))

	s2 := newSink(t, path, jsonlsink.WithMaxSize(3*l), jsonlsink.WithMaxBackups(1))
	require.NoError(t, s2.Write(ctx, rotBatch(2)))
	require.NoError(t, s2.Write(ctx, rotBatch(3)))
	require.NoError(t, s2.Shutdown(ctx))

	assert.Equal(t, rotNames(0, 1, 2), fileNames(t, path+".1"))
	assert.Equal(t, rotNames(3), fileNames(t, path))
}

func TestRotationReplacesStaleBackups(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	l := int64(encodedSize(rotBatch(0)))
	require.NoError(t, os.WriteFile(path+".1", []byte("stale one\n"), 0o600))
	require.NoError(t, os.WriteFile(path+".2", []byte("stale two\n"), 0o600))

	s := newSink(t, path, jsonlsink.WithMaxSize(l), jsonlsink.WithMaxBackups(2))
	for k := range 3 {
		require.NoError(t, s.Write(ctx, rotBatch(k)))
	}
	require.NoError(t, s.Shutdown(ctx))

	assert.Equal(t, rotNames(2), fileNames(t, path))
	assert.Equal(t, rotNames(1), fileNames(t, path+".1"))
	assert.Equal(t, rotNames(0), fileNames(t, path+".2"))
	assert.NoFileExists(t, path+".3")
}
