//go:build linux

package reliability

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/delivery"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// mountTmpfs mounts a tmpfs of the given size (like "1m") on a new
// directory, unmounted when the test ends, and returns the directory. It
// skips the test when mounting is not allowed.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("SKIPPED: the full-disk test needs a tiny filesystem to fill, and mounting a %s tmpfs on %s failed: %v "+
			"(it needs root with CAP_SYS_ADMIN; a container without it cannot run this test)", size, dir, err)
	}
	// Registered after TempDir's cleanup, so it runs first.
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	return dir
}

// filler takes up bytes of dir's filesystem; removing it frees them.
func filler(t *testing.T, dir string, bytes int) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	require.NoError(t, os.WriteFile(path, make([]byte, bytes), 0o600))
	return path
}

// diskBatch returns batch k: spans spans whose ids say k.
func diskBatch(k, spans int) stagetrace.Batch {
	b := spillBatch(0, k)
	for len(b.Spans) < spans {
		b.Spans = append(b.Spans, spillBatch(1, k).Spans...)
	}
	b.Spans = b.Spans[:spans]
	return b
}

// TestFullDisk fills a 1 MiB filesystem under each sink that writes files:
// the sink reports a clear error, the process keeps running, what was
// written before is intact, and writing resumes once there is room again.
func TestFullDisk(t *testing.T) {
	t.Run("jsonl", func(t *testing.T) {
		dir := mountTmpfs(t, "1m")
		free := filler(t, dir, 256<<10)
		path := filepath.Join(dir, "runs.jsonl")
		sink, err := jsonlsink.New(path)
		require.NoError(t, err)
		defer sink.Shutdown(context.Background())

		acked, failures := 0, 0
		var firstErr error
		for k := 0; failures < 5 && k < 10_000; k++ {
			if err := sink.Write(context.Background(), diskBatch(k, 20)); err != nil {
				failures++
				firstErr = cmpOr(firstErr, err)
				continue
			}
			acked += 20
		}
		require.Error(t, firstErr, "the disk filled up")
		assert.ErrorIs(t, firstErr, syscall.ENOSPC)
		assert.Contains(t, firstErr.Error(), "no space left on device")
		assert.Contains(t, firstErr.Error(), path, "the error names the file")

		// Room again: the sink writes on.
		require.NoError(t, os.Remove(free))
		require.NoError(t, sink.Write(context.Background(), diskBatch(99_999, 20)))
		acked += 20
		require.NoError(t, sink.Shutdown(context.Background()))

		spans := 0
		scanJSONL(t, path, func(rec stagetrace.Record) { spans++ })
		assert.Equal(t, acked, spans, "exactly the acknowledged batches are in the file, every line whole")
		figure(t, "JSONL on a full 1 MiB tmpfs: %q; %d spans acknowledged before, all intact; writes resumed once space was freed",
			strings.ReplaceAll(firstErr.Error(), dir, "<tmpfs>"), acked-20)
	})

	t.Run("sqlite", func(t *testing.T) {
		dir := mountTmpfs(t, "2m")
		free := filler(t, dir, 512<<10)
		path := filepath.Join(dir, "runs.db")
		store, err := sqlitesink.Open(path)
		require.NoError(t, err)

		acked, failures := 0, 0
		var firstErr error
		for k := 0; failures < 5 && k < 10_000; k++ {
			if err := store.Write(context.Background(), diskBatch(k, 20)); err != nil {
				failures++
				firstErr = cmpOr(firstErr, err)
				continue
			}
			acked += 20
		}
		require.Error(t, firstErr, "the disk filled up")
		assert.True(t, strings.Contains(firstErr.Error(), "full") || errors.Is(firstErr, syscall.ENOSPC),
			"a clear error: %v", firstErr)

		require.NoError(t, os.Remove(free))
		err = store.Write(context.Background(), diskBatch(99_999, 20))
		resumed := err == nil
		if resumed {
			acked += 20
		}
		require.NoError(t, store.Close())

		ro, err := sqlitesink.OpenReadOnly(path)
		require.NoError(t, err)
		defer ro.Close()
		runs, err := ro.Runs(context.Background(), sqlitesink.RunFilter{})
		require.NoError(t, err)
		stored := 0
		for _, r := range runs {
			stored += r.Spans
		}
		assert.Equal(t, acked, stored, "exactly the acknowledged batches are in the store")
		figure(t, "SQLite on a full 2 MiB tmpfs: %q; %d spans acknowledged, all intact; writes resumed after space was freed: %v",
			strings.ReplaceAll(firstErr.Error(), dir, "<tmpfs>"), acked, resumed)
	})

	t.Run("delivery spill", func(t *testing.T) {
		dir := mountTmpfs(t, "1m")
		spillDir := filepath.Join(dir, "spill")
		// A sink that is down, and a spill limit the disk cannot hold.
		d, err := delivery.New(failingSink{}, delivery.WithLogger(quietLogger), delivery.OnFull(delivery.Spill),
			delivery.WithSpillDir(spillDir), delivery.WithSpillLimit(64<<20), delivery.WithQueueSize(1),
			delivery.WithMaxRetryElapsed(time.Hour))
		require.NoError(t, err)
		written := 0
		for k := 0; d.Stats().Dropped < 5; k++ {
			require.NoError(t, d.Write(context.Background(), diskBatch(k, 20)), "a full disk is counted, not returned")
			written++
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		require.Error(t, d.Shutdown(ctx), "the sink was down: nothing was delivered")
		first := d.Stats()

		// The sink is back: a new process replays what the disk held.
		mem := memsink.New()
		d2, err := delivery.New(mem, delivery.WithLogger(quietLogger), delivery.OnFull(delivery.Spill), delivery.WithSpillDir(spillDir))
		require.NoError(t, err)
		require.NoError(t, d2.ForceFlush(context.Background()))
		second := d2.Stats()
		require.NoError(t, d2.Shutdown(context.Background()))

		assert.Zero(t, second.Corrupted, "a spill cut short by the full disk leaves no damaged record")
		assert.Equal(t, int64(written), second.Delivered+first.Dropped, "every batch replayed or counted as dropped")
		assert.Equal(t, int64(written*20), int64(len(mem.Spans()))+first.DroppedSpans)
		figure(t, "delivery spilling to a full 1 MiB tmpfs: %d batches written, %d spilled and replayed by the next process, %d dropped and counted, 0 damaged",
			written, second.Replayed, first.Dropped)
	})
}

// cmpOr returns a unless it is nil, else b.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
