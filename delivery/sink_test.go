package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/delivery"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

func TestNewRejectsInvalidOptions(t *testing.T) {
	tests := map[string][]delivery.Option{
		"zero queue":         {delivery.WithQueueSize(0)},
		"spill without dir":  {delivery.OnFull(delivery.Spill)},
		"dir without spill":  {delivery.WithSpillDir(t.TempDir())},
		"unknown policy":     {delivery.OnFull(delivery.Policy(9))},
		"tiny spill limit":   {delivery.OnFull(delivery.Spill), delivery.WithSpillDir(t.TempDir()), delivery.WithSpillLimit(4)},
		"bad backoff":        {delivery.WithBackoff(time.Second, time.Millisecond)},
		"zero write timeout": {delivery.WithWriteTimeout(0)},
		"negative retry":     {delivery.WithMaxRetryElapsed(-time.Second)},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := delivery.New(memsink.New(), opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), "delivery: invalid options")
		})
	}
	_, err := delivery.New(nil)
	assert.Error(t, err)
}

func TestDeliversEveryBatchInOrder(t *testing.T) {
	next := &testSink{}
	s := newSink(t, next, delivery.WithName("jsonl"))
	assert.Equal(t, "jsonl", s.Name())
	for i := range 100 {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 4)))
	}
	require.NoError(t, s.Write(context.Background(), stagetrace.Batch{}), "an empty batch is accepted and ignored")
	flush(t, s)
	assert.Equal(t, seq(0, 100), next.numbers())
	st := s.Stats()
	assert.Equal(t, int64(100), st.Delivered)
	assert.Zero(t, st.Dropped)
	assert.Zero(t, st.Queued)
	assert.Equal(t, 1, next.flushCount(), "ForceFlush flushes the wrapped sink")
}

func TestDefaultNameIsTheSinkType(t *testing.T) {
	s := newSink(t, memsink.New())
	assert.Equal(t, "*memsink.Sink", s.Name())
}

func TestWriteReturnsAtOnceWhileTheSinkIsSlow(t *testing.T) {
	next := &testSink{gate: make(chan struct{})}
	s := newSink(t, next, delivery.WithQueueSize(64))
	start := time.Now()
	for i := range 50 {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 8)))
	}
	assert.Less(t, time.Since(start), 500*time.Millisecond, "Write does not wait for the sink")
	// The worker holds one batch at the gate; the gauge counts it once the
	// worker is writing it (see Stats).
	require.Eventually(t, func() bool { return s.Stats().Queued == 50 }, 10*time.Second, time.Millisecond,
		"every batch, waiting or being written, is counted")
	close(next.gate)
	flush(t, s)
	assert.Equal(t, seq(0, 50), next.numbers())
}

func TestSlowSinkDoesNotHoldUpOthers(t *testing.T) {
	slow := &testSink{gate: make(chan struct{})}
	defer close(slow.gate)
	fast := &testSink{}
	a := newSink(t, slow)
	b := newSink(t, fast)
	for i := range 10 {
		for _, s := range []*delivery.Sink{a, b} {
			require.NoError(t, s.Write(context.Background(), testBatch(i, 2)))
		}
	}
	flush(t, b)
	assert.Equal(t, seq(0, 10), fast.numbers())
	assert.Empty(t, slow.numbers())
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	var logs bytes.Buffer
	s, err := delivery.New(next, delivery.WithQueueSize(2), delivery.WithLogInterval(time.Hour),
		delivery.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	defer s.Shutdown(context.Background())

	require.NoError(t, s.Write(context.Background(), testBatch(0, 5)))
	<-next.entered // batch 0 is with the sink; the queue holds 2 more
	for i := 1; i < 10; i++ {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 5)), "a drop is counted, not returned")
	}
	st := s.Stats()
	assert.Equal(t, int64(7), st.Dropped)
	assert.Equal(t, int64(35), st.DroppedSpans)
	assert.Equal(t, int64(7), st.DroppedEvents)
	assert.Equal(t, 3, st.Queued)

	close(next.gate)
	flush(t, s)
	assert.Equal(t, []int{0, 1, 2}, next.numbers())
	assert.Equal(t, 1, strings.Count(logs.String(), "batch dropped"), "one warning per interval:\n%s", logs.String())
	assert.Contains(t, logs.String(), "reason=\"queue full\"")
}

func TestLogIntervalZeroLogsEveryDrop(t *testing.T) {
	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	defer close(next.gate)
	var logs bytes.Buffer
	s := newSink(t, next, delivery.WithQueueSize(1), delivery.WithLogInterval(0),
		delivery.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, s.Write(context.Background(), testBatch(0, 1)))
	<-next.entered
	for i := 1; i < 6; i++ {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 1)))
	}
	assert.Equal(t, 4, strings.Count(logs.String(), "batch dropped"))
}

func TestFailedWritesAreRetried(t *testing.T) {
	next := &testSink{fail: func(n int) error {
		if n <= 3 {
			return errDown
		}
		return nil
	}}
	s := newSink(t, next)
	require.NoError(t, s.Write(context.Background(), testBatch(7, 3)))
	flush(t, s)
	assert.Equal(t, []int{7}, next.numbers())
	st := s.Stats()
	assert.Equal(t, int64(3), st.Retries)
	assert.Equal(t, int64(1), st.Delivered)
	assert.Zero(t, st.Dropped)
}

func TestRetriesExhaustedWithoutSpillDrops(t *testing.T) {
	next := &testSink{fail: alwaysFail}
	s := newSink(t, next, delivery.WithMaxRetryElapsed(30*time.Millisecond))
	for i := range 3 {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 4)))
	}
	flush(t, s) // returns: every batch was dropped, which resolves it
	st := s.Stats()
	assert.Equal(t, int64(3), st.Dropped)
	assert.Equal(t, int64(12), st.DroppedSpans)
	assert.Zero(t, st.Delivered)
	assert.Greater(t, next.attemptCount(), 3, "each batch was retried before it was dropped")
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	next := &testSink{fail: func(int) error { return permanentError{} }}
	s := newSink(t, next, delivery.WithMaxRetryElapsed(time.Hour))
	require.NoError(t, s.Write(context.Background(), testBatch(0, 2)))
	flush(t, s)
	st := s.Stats()
	assert.Equal(t, int64(1), st.Rejected)
	assert.Equal(t, int64(1), st.Dropped)
	assert.Zero(t, st.Retries)
	assert.Equal(t, 1, next.attemptCount())
}

func TestRetriesExhaustedWithSpillKeepsBatchesInOrder(t *testing.T) {
	dir := t.TempDir()
	next := &testSink{fail: alwaysFail}
	s := newSink(t, next, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir),
		delivery.WithQueueSize(4), delivery.WithMaxRetryElapsed(20*time.Millisecond))
	for i := range 20 {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 2)))
	}
	require.Eventually(t, func() bool { return s.Stats().Spilled == 20 }, 5*time.Second, time.Millisecond,
		"the failing batch and those queued behind it go to disk")
	assert.NotEmpty(t, segments(t, dir))

	next.setFail(nil) // the sink recovers
	flush(t, s)
	assert.Equal(t, seq(0, 20), next.numbers(), "replayed in the order written")
	st := s.Stats()
	assert.Equal(t, int64(20), st.Replayed)
	assert.Equal(t, int64(20), st.Delivered)
	assert.Zero(t, st.Dropped)
	assert.Zero(t, st.SpillBytes)
	assert.Empty(t, segments(t, dir), "delivered segments are deleted")
}

func TestSpillWhenFullThenReplayInOrder(t *testing.T) {
	dir := t.TempDir()
	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 64)}
	s := newSink(t, next, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir), delivery.WithQueueSize(2))
	require.NoError(t, s.Write(context.Background(), testBatch(0, 3)))
	<-next.entered
	for i := 1; i < 30; i++ {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 3)))
	}
	st := s.Stats()
	assert.Equal(t, int64(27), st.Spilled)
	assert.Positive(t, st.SpillBytes)
	assert.Zero(t, st.Dropped)

	close(next.gate)
	flush(t, s)
	assert.Equal(t, seq(0, 30), next.numbers())
	assert.Equal(t, int64(27), s.Stats().Replayed)
	assert.Empty(t, segments(t, dir))

	// With the backlog gone, batches go through memory again.
	require.NoError(t, s.Write(context.Background(), testBatch(30, 3)))
	flush(t, s)
	assert.Equal(t, int64(27), s.Stats().Spilled)
	assert.Equal(t, seq(0, 31), next.numbers())
}

func TestReplayAfterRestart(t *testing.T) {
	dir := t.TempDir()
	spillAll(t, dir, 0, 10)
	require.NotEmpty(t, segments(t, dir))

	// The sink holds the first replayed batch until batch 10 is written,
	// so that batches 1 to 9 are still on disk then, however fast the
	// worker is.
	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	s := newSink(t, next, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir))
	<-next.entered
	// New batches wait behind the replayed ones.
	require.NoError(t, s.Write(context.Background(), testBatch(10, 3)))
	close(next.gate)
	flush(t, s)
	assert.Equal(t, seq(0, 11), next.numbers())
	st := s.Stats()
	assert.Equal(t, int64(11), st.Replayed, "batch 10 waited on disk behind the others")
	assert.Zero(t, st.Corrupted)
	assert.Empty(t, segments(t, dir))
}

func TestRestartDoesNotReplayDeliveredBatches(t *testing.T) {
	dir := t.TempDir()
	spillAll(t, dir, 0, 10)

	// A second process delivers four batches, then the sink goes down.
	partial := &testSink{fail: func(n int) error {
		if n > 4 {
			return errDown
		}
		return nil
	}}
	s, err := delivery.New(partial, quiet(delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir))...)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(partial.numbers()) == 4 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = s.Shutdown(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bytes of spilled batches not delivered")

	// A third delivers the rest, once each.
	next := &testSink{}
	s3 := newSink(t, next, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir))
	flush(t, s3)
	assert.Equal(t, seq(4, 10), next.numbers())
}

func TestDamagedSpillRecordsAreSkippedAndCounted(t *testing.T) {
	// Each case damages records of the 8 spilled batches, located with
	// the documented format, and says which batches must still arrive.
	tests := []struct {
		name      string
		damage    func(t *testing.T, recs []recordLoc)
		delivered []int
		corrupted int64
	}{
		{"flipped payload byte", func(t *testing.T, recs []recordLoc) {
			flipByte(t, recs[5].path, recs[5].off+40)
		}, []int{0, 1, 2, 3, 4, 6, 7}, 1},
		{"flipped length", func(t *testing.T, recs []recordLoc) {
			flipByte(t, recs[4].path, recs[4].off+5)
		}, []int{0, 1, 2, 3, 5, 6, 7}, 1},
		{"flipped checksum", func(t *testing.T, recs []recordLoc) {
			flipByte(t, recs[3].path, recs[3].off+9)
		}, []int{0, 1, 2, 4, 5, 6, 7}, 1},
		{"damaged magic", func(t *testing.T, recs []recordLoc) {
			flipByte(t, recs[6].path, recs[6].off)
		}, []int{0, 1, 2, 3, 4, 5, 7}, 1},
		{"two records zeroed", func(t *testing.T, recs []recordLoc) {
			require.Equal(t, recs[4].path, recs[5].path)
			data, err := os.ReadFile(recs[4].path)
			require.NoError(t, err)
			clear(data[recs[4].off:recs[5].end])
			require.NoError(t, os.WriteFile(recs[4].path, data, 0o600))
		}, []int{0, 1, 2, 3, 6, 7}, 1},
		{"torn tail", func(t *testing.T, recs []recordLoc) {
			require.NoError(t, os.Truncate(recs[7].path, recs[7].off+20))
		}, []int{0, 1, 2, 3, 4, 5, 6}, 1},
		{"garbage appended", func(t *testing.T, recs []recordLoc) {
			f, err := os.OpenFile(recs[7].path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.Write([]byte("\xffSTRgarbage that is not a record"))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, []int{0, 1, 2, 3, 4, 5, 6, 7}, 1},
		{"empty segment left by a crash", func(t *testing.T, recs []recordLoc) {
			empty := filepath.Join(filepath.Dir(recs[0].path), "0000000000000001.seg")
			require.NoError(t, os.WriteFile(empty, nil, 0o600))
		}, []int{0, 1, 2, 3, 4, 5, 6, 7}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			spillAll(t, dir, 0, 8)
			recs := records(t, dir)
			require.Len(t, recs, 8)
			tt.damage(t, recs)

			next := &testSink{}
			s := newSink(t, next, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir))
			flush(t, s)
			assert.Equal(t, tt.delivered, next.numbers())
			assert.Equal(t, tt.corrupted, s.Stats().Corrupted)
			assert.Empty(t, segments(t, dir))
		})
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data[off] ^= 0x5a
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

func TestUnrelatedFilesInTheSpillDirAreLeftAlone(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(other, []byte("keep me"), 0o600))
	next := &testSink{}
	s := newSink(t, next, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir))
	require.NoError(t, s.Write(context.Background(), testBatch(0, 1)))
	flush(t, s)
	assert.FileExists(t, other)
	assert.Zero(t, s.Stats().Corrupted)
}

func TestSpillLimitDropsAndCountsExactly(t *testing.T) {
	dir := t.TempDir()
	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 256)}
	s := newSink(t, next, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir),
		delivery.WithQueueSize(1), delivery.WithSpillLimit(8<<10))
	const batches, spans = 60, 4
	for i := range batches {
		require.NoError(t, s.Write(context.Background(), testBatch(i, spans)))
	}
	st := s.Stats()
	require.Positive(t, st.Dropped, "8 KiB cannot hold 60 batches")
	assert.LessOrEqual(t, st.SpillBytes, int64(8<<10))
	close(next.gate)
	flush(t, s)

	st = s.Stats()
	delivered := next.numbers()
	assert.Equal(t, int64(len(delivered)), st.Delivered)
	assert.Equal(t, int64(batches), st.Delivered+st.Dropped, "every batch is delivered or counted as dropped")
	assert.Equal(t, int64(batches*spans), int64(len(delivered)*spans)+st.DroppedSpans)
	for i := 1; i < len(delivered); i++ {
		assert.Less(t, delivered[i-1], delivered[i], "what is delivered stays in order")
	}
}

func TestSpillDirIsExclusive(t *testing.T) {
	dir := t.TempDir()
	newSink(t, memsink.New(), delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir))
	_, err := delivery.New(memsink.New(), delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use")
}

func TestForceFlushIsBoundedByItsContext(t *testing.T) {
	next := &testSink{gate: make(chan struct{})}
	s := newSink(t, next)
	require.NoError(t, s.Write(context.Background(), testBatch(0, 1)))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.ForceFlush(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "1 batches not yet delivered")
	close(next.gate)
	flush(t, s)
}

func TestForceFlushDoesNotWaitForLaterBatches(t *testing.T) {
	// Each batch the sink takes writes another, so the queue is never
	// empty: ForceFlush must still return once the batches written
	// before it are through. The sink holds batch 0 until batches 1 to 9
	// are queued, so the feed runs behind them whatever the timing.
	var s *delivery.Sink
	started, release := make(chan struct{}), make(chan struct{})
	var feeding atomic.Bool
	feeding.Store(true)
	next := &testSink{fail: func(attempt int) error {
		if attempt == 1 {
			close(started)
			<-release
		}
		if feeding.Load() {
			_ = s.Write(context.Background(), testBatch(100+attempt, 1)) // ErrClosed once Shutdown starts
		}
		return nil
	}}
	s = newSink(t, next, delivery.WithQueueSize(32))
	require.NoError(t, s.Write(context.Background(), testBatch(0, 1)))
	<-started
	for i := 1; i < 10; i++ {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 1)))
	}
	close(release)
	flush(t, s) // would time out if it waited for an empty queue
	feeding.Store(false)
	got := next.numbers()
	require.GreaterOrEqual(t, len(got), 10)
	assert.Equal(t, seq(0, 10), got[:10])
}

func TestShutdownDeliversWhatIsQueued(t *testing.T) {
	next := &testSink{}
	s, err := delivery.New(next, quiet()...)
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 1)))
	}
	require.NoError(t, s.Shutdown(context.Background()))
	assert.Equal(t, seq(0, 20), next.numbers())
	assert.Equal(t, 1, next.shutdownCount())
	require.NoError(t, s.Shutdown(context.Background()), "idempotent")
	assert.Equal(t, 1, next.shutdownCount(), "the wrapped sink is shut down once")
	assert.ErrorIs(t, s.Write(context.Background(), testBatch(99, 1)), stagetrace.ErrClosed)
	assert.NoError(t, s.ForceFlush(context.Background()))
}

func TestShutdownReportsWhatItCouldNotDeliver(t *testing.T) {
	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	defer close(next.gate)
	s, err := delivery.New(next, quiet(delivery.WithName("ingest"))...)
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), testBatch(0, 512)))
	<-next.entered
	for i := 1; i < 3; i++ {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 512)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Shutdown(ctx)
	// The sink holds its batch until the test ends, so any bound short of
	// that shows Shutdown kept to its deadline; the slack is for -race on a
	// loaded machine.
	assert.Less(t, time.Since(start), 200*time.Millisecond+time.Second, "Shutdown returns by its deadline")
	require.Error(t, err)
	first, _, _ := strings.Cut(err.Error(), "\n")
	assert.Equal(t, `delivery: shutdown: 3 batches (1536 spans) not delivered to "ingest" (3 batches dropped): context deadline exceeded`, first)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	st := s.Stats()
	assert.Equal(t, int64(3), st.Dropped)
	assert.Equal(t, int64(1536), st.DroppedSpans)
	assert.Eventually(t, func() bool { return next.shutdownCount() == 1 }, 5*time.Second, time.Millisecond,
		"the wrapped sink is shut down even so")
}

func TestShutdownSpillsWhatItCouldNotDeliver(t *testing.T) {
	dir := t.TempDir()
	next := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	s, err := delivery.New(next, quiet(delivery.WithName("ingest"), delivery.OnFull(delivery.Spill),
		delivery.WithSpillDir(dir), delivery.WithMaxRetryElapsed(time.Hour))...)
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), testBatch(0, 10)))
	<-next.entered
	for i := 1; i < 4; i++ {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 10)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = s.Shutdown(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `delivery: shutdown: 4 batches (40 spans) not delivered to "ingest" (4 batches spilled, kept in `)
	assert.Zero(t, s.Stats().Dropped)
	close(next.gate)

	// The next process delivers them, in order.
	again := &testSink{}
	s2 := newSink(t, again, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir))
	flush(t, s2)
	assert.Equal(t, seq(0, 4), again.numbers())
}

func TestShutdownReturnsWhenTheSinkNeverDoes(t *testing.T) {
	before := goleak.IgnoreCurrent()
	stuck := make(chan struct{})
	next := &testSink{stuck: stuck, entered: make(chan struct{}, 8)}
	s, err := delivery.New(next, quiet(delivery.WithName("hung"))...)
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), testBatch(0, 2)))
	<-next.entered

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Shutdown(ctx)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `not delivered to "hung"`)
	assert.Less(t, elapsed, 200*time.Millisecond+time.Second, "the sink never returns: Shutdown keeps to its deadline")
	assert.Equal(t, int64(1), s.Stats().Dropped, "the batch the sink holds is counted")

	// Once the sink lets go, the worker ends: no goroutine is left.
	close(stuck)
	goleak.VerifyNone(t, before)
}

func TestShutdownReportsTheWrappedSinksError(t *testing.T) {
	next := &failingShutdown{}
	s, err := delivery.New(next, quiet(delivery.WithName("db"))...)
	require.NoError(t, err)
	err = s.Shutdown(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `delivery: shutdown of "db": disk gone`)
}

type failingShutdown struct{ testSink }

func (*failingShutdown) Shutdown(context.Context) error { return errors.New("disk gone") }

// With its context done already and nothing pending, Shutdown reports the
// wrapped sink's own answer, every time, not a race between that answer
// and the context; a wrapped sink that never answers is given a second.
func TestCancelledShutdownWithNothingPending(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		next := &failingShutdown{}
		s, err := delivery.New(next, quiet(delivery.WithName("db"))...)
		require.NoError(t, err)
		require.NoError(t, s.Write(context.Background(), testBatch(0, 2)))
		flush(t, s)
		err = s.Shutdown(cancelled)
		require.Error(t, err)
		assert.Equal(t, `delivery: shutdown of "db": disk gone`, err.Error())
	}

	before := goleak.IgnoreCurrent()
	next := &hungShutdown{release: make(chan struct{})}
	s, err := delivery.New(next, quiet(delivery.WithName("hung"))...)
	require.NoError(t, err)
	start := time.Now()
	err = s.Shutdown(cancelled)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Equal(t, `delivery: shutdown of "hung" not finished: context canceled`, err.Error())
	assert.GreaterOrEqual(t, elapsed, time.Second, "the wrapped sink is given a second to answer")
	assert.Less(t, elapsed, 3*time.Second)
	close(next.release)
	goleak.VerifyNone(t, before)
}

// hungShutdown is a sink whose Shutdown waits for release, whatever its
// context says.
type hungShutdown struct {
	testSink
	release chan struct{}
}

func (h *hungShutdown) Shutdown(context.Context) error { <-h.release; return nil }

func TestConcurrentWritersLoseNothing(t *testing.T) {
	dir := t.TempDir()
	next := memsink.New()
	s := newSink(t, next, delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir), delivery.WithQueueSize(4))
	const writers, per = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				assert.NoError(t, s.Write(context.Background(), testBatch(w*per+i, 2)))
			}
		}()
	}
	wg.Wait()
	flush(t, s)
	seen := map[stagetrace.SpanID]bool{}
	for _, sp := range next.Spans() {
		assert.False(t, seen[sp.SpanID], "span delivered twice")
		seen[sp.SpanID] = true
	}
	assert.Len(t, seen, writers*per*2)
	assert.Zero(t, s.Stats().Dropped)
}
