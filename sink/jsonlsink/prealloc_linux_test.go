package jsonlsink_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/sink/jsonlsink"
)

// diskUsage returns the size and the bytes of disk the file at path uses.
func diskUsage(t *testing.T, path string) (size, used int64) {
	t.Helper()
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(path, &st))
	return st.Size, st.Blocks * 512
}

// canReserve tells whether the file system of dir reserves blocks past the
// end of a file, as the sink asks; tmpfs and ext4 do.
func canReserve(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.CreateTemp(dir, "probe")
	require.NoError(t, err)
	defer f.Close()
	return syscall.Fallocate(int(f.Fd()), 1, 0, 1<<20) == nil
}

func TestPreallocationReservesPastTheEndAndGivesBack(t *testing.T) {
	dir := t.TempDir()
	reserves := canReserve(t, dir)
	const prealloc = 1 << 20
	path := filepath.Join(dir, "runs.jsonl")
	s, err := jsonlsink.New(path, jsonlsink.WithPreallocate(prealloc))
	require.NoError(t, err)
	b := testBatch("run", "p", 20, 5)
	require.NoError(t, s.Write(context.Background(), b))

	size, used := diskUsage(t, path)
	assert.EqualValues(t, encodedSize(b), size, "the file's size is that of its lines alone")
	if reserves {
		assert.GreaterOrEqual(t, used, size+prealloc, "the next blocks are reserved")
	} else {
		assert.Less(t, used, size+64<<10, "a file system that cannot reserve is written as usual")
	}
	assert.Equal(t, batchNames(b), fileNames(t, path))

	require.NoError(t, s.Shutdown(context.Background()))
	size2, used2 := diskUsage(t, path)
	assert.Equal(t, size, size2)
	assert.Less(t, used2, size+64<<10, "shutdown gives the reserved blocks back")
	assert.Equal(t, batchNames(b), fileNames(t, path))
}

// With rotation on, the reservation stops at the rotation limit: the file
// will not grow past it. (A file rotated at the limit has nothing reserved
// past its end; TestPreallocationGivenBackAtRotationBelowTheLimit checks
// that rotation gives a reservation back.)
func TestPreallocationStopsAtTheRotationLimit(t *testing.T) {
	dir := t.TempDir()
	l := int64(encodedSize(rotBatch(0)))
	path := filepath.Join(dir, "runs.jsonl")
	s := newSink(t, path, jsonlsink.WithMaxSize(2*l), jsonlsink.WithPreallocate(8<<20))
	for k := range 3 {
		require.NoError(t, s.Write(context.Background(), rotBatch(k)))
	}
	require.EqualValues(t, 1, s.Rotations())

	size, used := diskUsage(t, path+".1")
	assert.Equal(t, 2*l, size)
	assert.Less(t, used, size+64<<10, "the rotated file keeps no reserved blocks")
	_, used = diskUsage(t, path)
	assert.Less(t, used, 2*l+64<<10, "the reservation stops at the rotation limit")
	assert.Equal(t, rotNames(0, 1), fileNames(t, path+".1"))
	assert.Equal(t, rotNames(2), fileNames(t, path))
}

func TestPreallocationZeroReservesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s := newSink(t, path, jsonlsink.WithPreallocate(0))
	b := testBatch("run", "z", 20, 5)
	require.NoError(t, s.Write(context.Background(), b))
	size, used := diskUsage(t, path)
	assert.Less(t, used, size+64<<10)
}

// A file rotated before it reaches the rotation limit keeps no blocks past
// its end: the reservation, up to the limit, is given back at rotation.
func TestPreallocationGivenBackAtRotationBelowTheLimit(t *testing.T) {
	dir := t.TempDir()
	if !canReserve(t, dir) {
		t.Skip("the file system does not reserve blocks")
	}
	path := filepath.Join(dir, "runs.jsonl")
	const limit = 1 << 20
	s := newSink(t, path, jsonlsink.WithMaxSize(limit), jsonlsink.WithPreallocate(8<<20))
	small := testBatch("run", "s", 4, 1)
	require.NoError(t, s.Write(context.Background(), small))
	// Reserved up to the limit, far past the end of the file.
	size, used := diskUsage(t, path)
	require.GreaterOrEqual(t, used, size+limit/2)

	// A batch that does not fit under the limit rotates the small file.
	big := testBatch("run", "b", 1, 0)
	for encodedSize(big) <= limit {
		big = testBatch("run", "b", 2*len(big.Spans), 0)
	}
	require.NoError(t, s.Write(context.Background(), big))
	require.EqualValues(t, 1, s.Rotations())

	size, used = diskUsage(t, path+".1")
	assert.EqualValues(t, encodedSize(small), size)
	assert.Less(t, used, size+64<<10, "the rotated file keeps no reserved blocks")
	assert.Equal(t, batchNames(small), fileNames(t, path+".1"))
}

// A reservation that fails part way (ext4 and XFS keep the blocks they got
// before running out of space) is given back, not left past the end of
// the file, where it would stay after rotation and shutdown.
func TestPreallocationFailedPartWayIsGivenBack(t *testing.T) {
	dir := t.TempDir()
	if !canReserve(t, dir) {
		t.Skip("the file system does not reserve blocks")
	}
	defer jsonlsink.SetFallocate(func(f *os.File, off, n int64) error {
		// Half of what was asked for, then no space left.
		if err := syscall.Fallocate(int(f.Fd()), 1, off, n/2); err != nil {
			return err
		}
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: syscall.ENOSPC}
	})()
	path := filepath.Join(dir, "runs.jsonl")
	s, err := jsonlsink.New(path, jsonlsink.WithPreallocate(8<<20))
	require.NoError(t, err)
	b := testBatch("run", "p", 20, 5)
	require.NoError(t, s.Write(context.Background(), b))
	size, used := diskUsage(t, path)
	assert.Less(t, used, size+64<<10, "what a failed reservation got is given back at once")
	require.NoError(t, s.Shutdown(context.Background()))
	size, used = diskUsage(t, path)
	assert.Less(t, used, size+64<<10, "nothing reserved stays past the end of the file")
	assert.Equal(t, batchNames(b), fileNames(t, path))
}
