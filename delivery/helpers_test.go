package delivery_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/delivery"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var baseTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

var testResource = &stagetrace.Resource{Attrs: stagetrace.Attrs{
	{Key: "service.name", Value: stagetrace.StringValue("trainer")},
}}

// testBatch returns batch number n: spans spans and one event, each span
// id made of n and the span's index, so tests can tell batches apart.
func testBatch(n, spans int) stagetrace.Batch {
	var b stagetrace.Batch
	var tid stagetrace.TraceID
	binary.BigEndian.PutUint64(tid[:8], uint64(n)+1)
	for j := range spans {
		var sid stagetrace.SpanID
		binary.BigEndian.PutUint32(sid[:4], uint32(n)+1)
		binary.BigEndian.PutUint32(sid[4:], uint32(j))
		b.Spans = append(b.Spans, stagetrace.StageSpan{
			RunID: "run-1", Stage: "train", Name: fmt.Sprintf("b%d", n),
			TraceID: tid, SpanID: sid,
			StartTime: baseTime, EndTime: baseTime.Add(time.Duration(j+1) * time.Millisecond),
			Status: stagetrace.StatusOK, Kind: stagetrace.SpanKindInternal,
			Attrs:    stagetrace.Attrs{{Key: "step", Value: stagetrace.IntValue(j)}},
			Findings: stagetrace.Attrs{{Key: "loss", Value: stagetrace.Float64Value(0.25)}},
			Resource: testResource,
		})
	}
	b.Events = append(b.Events, stagetrace.TraceEvent{
		Name: "metric", RunID: "run-1", Stage: "train", TraceID: tid, Time: baseTime,
		Attrs: stagetrace.Attrs{{Key: "metric.value", Value: stagetrace.Float64Value(1.5)}},
	})
	return b
}

// batchNumber returns n of a batch made by testBatch.
func batchNumber(b stagetrace.Batch) int {
	var n int
	_, _ = fmt.Sscanf(b.Spans[0].Name, "b%d", &n)
	return n
}

// testSink is a wrapped sink whose behaviour a test controls.
type testSink struct {
	mu        sync.Mutex
	batches   []stagetrace.Batch
	attempts  int
	shutdowns int
	flushes   int
	// fail, when set, decides the result of each attempt (from 1).
	fail func(attempt int) error
	// gate, when set, makes Write wait for it to be closed, or for ctx.
	gate chan struct{}
	// stuck, when set, makes Write wait for it whatever ctx says.
	stuck chan struct{}
	// entered receives a value each time Write starts, if set.
	entered chan struct{}
}

func (s *testSink) Write(ctx context.Context, b stagetrace.Batch) error {
	s.mu.Lock()
	s.attempts++
	n := s.attempts
	gate, stuck, entered, fail := s.gate, s.stuck, s.entered, s.fail
	s.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if stuck != nil {
		<-stuck
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		if err := fail(n); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, b.Clone()) // b is only lent (stagetrace.Sink)
	return nil
}

func (s *testSink) Shutdown(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdowns++
	return nil
}

func (s *testSink) ForceFlush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	return nil
}

func (s *testSink) setFail(f func(int) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = f
}

// numbers returns the batch numbers written, in order.
func (s *testSink) numbers() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, len(s.batches))
	for i, b := range s.batches {
		out[i] = batchNumber(b)
	}
	return out
}

func (s *testSink) shutdownCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdowns
}

func (s *testSink) flushCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushes
}

func (s *testSink) attemptCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

var errDown = errors.New("ingest down")

func alwaysFail(int) error { return errDown }

// permanentError is refused for good, as httpsink's 4xx errors are.
type permanentError struct{}

func (permanentError) Error() string   { return "400 Bad Request" }
func (permanentError) Permanent() bool { return true }

// quiet are options every test uses: no logs, quick retries.
func quiet(opts ...delivery.Option) []delivery.Option {
	return append([]delivery.Option{
		delivery.WithLogger(slog.New(slog.DiscardHandler)),
		delivery.WithBackoff(time.Millisecond, 5*time.Millisecond),
	}, opts...)
}

func newSink(t *testing.T, next stagetrace.Sink, opts ...delivery.Option) *delivery.Sink {
	t.Helper()
	s, err := delivery.New(next, quiet(opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func flush(t *testing.T, s *delivery.Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.ForceFlush(ctx))
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// segments returns the spill segment files in dir, oldest first.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".seg") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// recordLoc is where a spill record is: its file, where it starts and
// where it ends.
type recordLoc struct {
	path     string
	off, end int64
}

// records locates every record of the spill segments in dir, oldest
// first, read with the documented format: magic, length, crc, payload.
func records(t *testing.T, dir string) []recordLoc {
	t.Helper()
	var out []recordLoc
	for _, path := range segments(t, dir) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for off := 0; off+12 <= len(data); {
			require.Equal(t, byte(0xff), data[off], "record at %d of %s", off, path)
			end := off + 12 + int(binary.LittleEndian.Uint32(data[off+4:off+8]))
			out = append(out, recordLoc{path, int64(off), int64(end)})
			off = end
		}
	}
	return out
}

// spillAll writes batches from..to-1 into dir through a Sink whose wrapped
// sink always fails, then shuts it down, so every batch ends on disk.
func spillAll(t *testing.T, dir string, from, to int) {
	t.Helper()
	failing := &testSink{fail: alwaysFail}
	s, err := delivery.New(failing, quiet(delivery.OnFull(delivery.Spill), delivery.WithSpillDir(dir),
		delivery.WithQueueSize(1), delivery.WithMaxRetryElapsed(time.Millisecond))...)
	require.NoError(t, err)
	for i := from; i < to; i++ {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 3)))
	}
	// Shutdown spills whatever is still in memory at its deadline, so once
	// it returns every batch is on disk: no waiting on time is needed.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = s.Shutdown(ctx)
	require.Error(t, err, "the failing sink delivered nothing")
	require.Equal(t, int64(0), s.Stats().Dropped)
	require.Equal(t, int64(to-from), s.Stats().Spilled)
}
