package jsonlsink_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

func newSink(t *testing.T, path string, opts ...jsonlsink.Option) *jsonlsink.Sink {
	t.Helper()
	s, err := jsonlsink.New(path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func TestWriteRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path)
	assert.Equal(t, path, s.Path())

	b1 := testBatch("run-1", "b1", 5, 3)
	b2 := testBatch("run-2", "b2", 2, 0)
	b3 := testBatch("run-2", "b3", 0, 2)
	for _, b := range []stagetrace.Batch{b1, b2, b3} {
		require.NoError(t, s.Write(ctx, b))
	}
	require.NoError(t, s.Shutdown(ctx))

	recs := readRecords(t, path)
	var want []any
	for _, b := range []stagetrace.Batch{b1, b2, b3} {
		for _, sp := range b.Spans {
			want = append(want, sp)
		}
		for _, ev := range b.Events {
			want = append(want, ev)
		}
	}
	require.Len(t, recs, len(want))
	for i, w := range want {
		switch w := w.(type) {
		case stagetrace.StageSpan:
			assert.Nil(t, recs[i].Event, "line %d", i+1)
			assertSpanEqual(t, w, recs[i].Span)
		case stagetrace.TraceEvent:
			assert.Nil(t, recs[i].Span, "line %d", i+1)
			assertEventEqual(t, w, recs[i].Event)
		}
	}

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, len(want), bytes.Count(data, []byte("\n")), "one line per record")
	assert.True(t, bytes.HasSuffix(data, []byte("\n")))
}

func TestEmptyBatchWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path)
	require.NoError(t, s.Write(context.Background(), stagetrace.Batch{}))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Zero(t, fi.Size())
}

func TestFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	tests := []struct {
		name     string
		existing os.FileMode // 0: the file does not exist before New
		opts     []jsonlsink.Option
		want     os.FileMode
	}{
		{name: "default", want: 0o600},
		{name: "WithFileMode", opts: []jsonlsink.Option{jsonlsink.WithFileMode(0o640)}, want: 0o640},
		{name: "WithFileMode wider than umask", opts: []jsonlsink.Option{jsonlsink.WithFileMode(0o666)}, want: 0o666},
		{name: "existing file keeps its mode", existing: 0o644, opts: []jsonlsink.Option{jsonlsink.WithFileMode(0o600)}, want: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "runs.jsonl")
			if tt.existing != 0 {
				require.NoError(t, os.WriteFile(path, nil, tt.existing))
				require.NoError(t, os.Chmod(path, tt.existing))
			}
			s := newSink(t, path, tt.opts...)
			require.NoError(t, s.Write(context.Background(), testBatch("r", "b", 1, 0)))
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, fi.Mode().Perm())
		})
	}
}

func TestCreatesParentDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stagetrace-out", "nested")
	path := filepath.Join(dir, "runs.jsonl")
	s := newSink(t, path)
	require.NoError(t, s.Write(context.Background(), testBatch("r", "b", 1, 1)))
	assert.Len(t, readRecords(t, path), 2)

	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	if runtime.GOOS != "windows" {
		assert.Zero(t, fi.Mode().Perm()&^jsonlsink.DirMode, "no permission beyond DirMode")
	}
}

func TestAppendToExistingFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")

	first := testBatch("run-1", "first", 3, 1)
	s1, err := jsonlsink.New(path)
	require.NoError(t, err)
	require.NoError(t, s1.Write(ctx, first))
	require.NoError(t, s1.Shutdown(ctx))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	second := testBatch("run-2", "second", 2, 2)
	s2 := newSink(t, path)
	assert.Zero(t, s2.TornBytes())
	require.NoError(t, s2.Write(ctx, second))
	require.NoError(t, s2.Shutdown(ctx))

	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(after, before), "existing lines are kept as they were")
	want := append(batchNames(first), batchNames(second)...)
	assert.Equal(t, want, names(decodeAll(t, after)))
}

func TestConcurrentWriters(t *testing.T) {
	const (
		writers   = 16
		batches   = 40
		perBatchS = 3
		perBatchE = 2
	)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path)

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				b := testBatch(fmt.Sprintf("run-%d", w), fmt.Sprintf("w%d-b%d", w, i), perBatchS, perBatchE)
				assert.NoError(t, s.Write(ctx, b))
				if i%10 == 0 {
					assert.NoError(t, s.ForceFlush(ctx))
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.Shutdown(ctx))

	recs := readRecords(t, path) // fails on any line that is not valid
	const perBatch = perBatchS + perBatchE
	require.Len(t, recs, writers*batches*perBatch)

	// The lines of each batch are contiguous and in order, and every batch
	// of a writer comes after that writer's previous one.
	next := make(map[int]int) // writer -> next batch index
	for i := 0; i < len(recs); i += perBatch {
		var w, b int
		_, err := fmt.Sscanf(recordName(recs[i]), "w%d-b%d-", &w, &b)
		require.NoError(t, err, "line %d: %q", i+1, recordName(recs[i]))
		assert.Equal(t, next[w], b, "writer %d's batches in order", w)
		next[w] = b + 1
		want := batchNames(testBatch("", fmt.Sprintf("w%d-b%d", w, b), perBatchS, perBatchE))
		assert.Equal(t, want, names(recs[i:i+perBatch]), "lines %d-%d form one batch", i+1, i+perBatch)
	}
}

func TestForceFlushMakesLinesVisible(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path)

	var want []string
	for i := range 5 {
		b := testBatch("run", fmt.Sprintf("b%d", i), 4, 1)
		want = append(want, batchNames(b)...)
		require.NoError(t, s.Write(ctx, b))
	}
	require.NoError(t, s.ForceFlush(ctx))

	// The sink is still open: a reader sees every line.
	assert.Equal(t, want, names(readRecords(t, path)))

	b := testBatch("run", "late", 1, 0)
	want = append(want, batchNames(b)...)
	require.NoError(t, s.Write(ctx, b))
	require.NoError(t, s.ForceFlush(ctx))
	assert.Equal(t, want, names(readRecords(t, path)), "second read after a second ForceFlush")
}

func TestSyncOnWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path, jsonlsink.WithSyncOnWrite(true))
	b := testBatch("run", "b", 2, 2)
	require.NoError(t, s.Write(ctx, b))
	assert.Equal(t, batchNames(b), names(readRecords(t, path)))
}

func TestLargeBatchBufferNotRetained(t *testing.T) {
	ctx := context.Background()
	s := newSink(t, filepath.Join(t.TempDir(), "runs.jsonl"))

	small := testBatch("run", "small", 4, 0)
	require.NoError(t, s.Write(ctx, small))
	assert.Positive(t, s.BufCap(), "a small buffer is reused")

	n := jsonlsink.MaxRetainedBuf/encodedSize(testBatch("run", "x", 1, 0)) + 10
	big := testBatch("run", "big", n, 0)
	require.Greater(t, encodedSize(big), jsonlsink.MaxRetainedBuf)
	require.NoError(t, s.Write(ctx, big))
	assert.LessOrEqual(t, s.BufCap(), jsonlsink.MaxRetainedBuf)

	require.NoError(t, s.Write(ctx, small))
	assert.LessOrEqual(t, s.BufCap(), jsonlsink.MaxRetainedBuf)
}

func TestShutdown(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s, err := jsonlsink.New(path)
	require.NoError(t, err)
	b := testBatch("run", "b", 2, 1)
	require.NoError(t, s.Write(ctx, b))

	require.NoError(t, s.Shutdown(ctx))
	assert.NoError(t, s.Shutdown(ctx), "second Shutdown")

	assert.ErrorIs(t, s.Write(ctx, testBatch("run", "late", 1, 0)), stagetrace.ErrClosed)
	assert.ErrorIs(t, s.Write(ctx, stagetrace.Batch{}), stagetrace.ErrClosed, "empty batch too")
	assert.NoError(t, s.ForceFlush(ctx), "ForceFlush after Shutdown has nothing to do")
	assert.Equal(t, batchNames(b), names(readRecords(t, path)))
}

func TestContextDoneBeforeLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path)
	ctx := context.Background()
	b := testBatch("run", "before", 1, 1)
	require.NoError(t, s.Write(ctx, b))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	assert.ErrorIs(t, s.ForceFlush(cancelled), context.Canceled)
	assert.ErrorIs(t, s.Write(cancelled, testBatch("run", "cancelled", 1, 0)), context.Canceled)
	// Nothing holds the lock: a done context does not keep Shutdown from
	// closing the file.
	require.NoError(t, s.Shutdown(cancelled))
	assert.ErrorIs(t, s.Write(ctx, testBatch("run", "late", 1, 0)), stagetrace.ErrClosed)
	assert.Equal(t, batchNames(b), names(readRecords(t, path)), "nothing written with a cancelled context")
}

func TestShutdownDeadlineWhileLockHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path)
	ctx := context.Background()
	b := testBatch("run", "before", 1, 1)
	require.NoError(t, s.Write(ctx, b))

	release := s.HoldLock()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err := s.Shutdown(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, s.Write(ctx, testBatch("run", "late", 1, 0)), stagetrace.ErrClosed,
		"a Shutdown that gave up still closes the sink to writes")
	release()
	assert.NoError(t, s.Shutdown(ctx), "second Shutdown")
	assert.Equal(t, batchNames(b), names(readRecords(t, path)))
}

func TestShutdownWaitsForWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s, err := jsonlsink.New(path)
	require.NoError(t, err)

	var wg sync.WaitGroup
	var written sync.Map
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				b := testBatch("run", fmt.Sprintf("w%d-%d", w, i), 2, 0)
				if s.Write(ctx, b) == nil {
					written.Store(b.Spans[0].Name, true)
				}
			}
		})
	}
	time.Sleep(time.Millisecond)
	require.NoError(t, s.Shutdown(ctx))
	wg.Wait()

	// Every batch whose Write succeeded is whole in the file, and no other.
	recs := readRecords(t, path)
	require.Zero(t, len(recs)%2)
	n := 0
	written.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, n, len(recs)/2)
	for i := 0; i < len(recs); i += 2 {
		_, ok := written.Load(recordName(recs[i]))
		assert.True(t, ok, "line %d: %s", i+1, recordName(recs[i]))
	}
}

func TestNewErrors(t *testing.T) {
	root := t.TempDir()
	regular := filepath.Join(root, "file")
	require.NoError(t, os.WriteFile(regular, []byte("x\n"), 0o600))
	dirAsPath := filepath.Join(root, "dir.jsonl")
	require.NoError(t, os.Mkdir(dirAsPath, 0o750))

	tests := []struct {
		name    string
		path    string
		opts    []jsonlsink.Option
		wantMsg string
	}{
		{name: "under a regular file", path: filepath.Join(regular, "sub", "runs.jsonl")},
		{name: "parent is a regular file", path: filepath.Join(regular, "runs.jsonl")},
		{name: "a directory", path: dirAsPath},
		{name: "empty path", path: "", wantMsg: "empty path"},
		{name: "negative max size", path: filepath.Join(root, "a.jsonl"),
			opts: []jsonlsink.Option{jsonlsink.WithMaxSize(-1)}, wantMsg: "max size -1 is negative"},
		{name: "negative max backups", path: filepath.Join(root, "b.jsonl"),
			opts: []jsonlsink.Option{jsonlsink.WithMaxSize(10), jsonlsink.WithMaxBackups(-2)}, wantMsg: "max backups -2 is negative"},
		{name: "unknown torn line policy", path: filepath.Join(root, "c.jsonl"),
			opts: []jsonlsink.Option{jsonlsink.WithTornLinePolicy(9)}, wantMsg: "unknown torn line policy"},
		{name: "negative preallocation", path: filepath.Join(root, "e.jsonl"),
			opts: []jsonlsink.Option{jsonlsink.WithPreallocate(-1)}, wantMsg: "preallocation -1 is negative"},
		{name: "file mode with type bits", path: filepath.Join(root, "d.jsonl"),
			opts: []jsonlsink.Option{jsonlsink.WithFileMode(os.ModeDir | 0o600)}, wantMsg: "file mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := jsonlsink.New(tt.path, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), "jsonlsink: ")
			if tt.wantMsg != "" {
				assert.Contains(t, err.Error(), tt.wantMsg)
			} else {
				assert.Contains(t, err.Error(), fmt.Sprintf("open %q", tt.path), "the error names the path")
			}
			if tt.path != "" && tt.opts != nil {
				assert.NoFileExists(t, tt.path, "invalid options create nothing")
			}
		})
	}
}

func TestNewReadOnlyDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	if os.Geteuid() == 0 {
		t.Skip("running as root, which ignores directory permissions")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	require.NoError(t, os.Mkdir(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })

	for _, path := range []string{filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "sub", "runs.jsonl")} {
		_, err := jsonlsink.New(path)
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrPermission)
		assert.Contains(t, err.Error(), fmt.Sprintf("jsonlsink: open %q", path))
	}
}

func TestLogger(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("{\"partial"), 0o600))

	s := newSink(t, path, jsonlsink.WithLogger(logger))
	assert.EqualValues(t, 9, s.TornBytes())
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "torn")
	assert.Contains(t, logs.String(), "bytes=9")
}

func TestTornLinePolicyString(t *testing.T) {
	assert.Equal(t, "truncate", jsonlsink.TornLineTruncate.String())
	assert.Equal(t, "move-aside", jsonlsink.TornLineMoveAside.String())
	assert.True(t, strings.HasPrefix(jsonlsink.TornLinePolicy(7).String(), "TornLinePolicy("))
}
