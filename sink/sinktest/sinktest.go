// Package sinktest checks that a [stagetrace.Sink] keeps the promises every
// sink makes, as testing/slogtest does for slog handlers. A sink's tests
// call [Run] with a function that creates the sink and says how to read
// back what it delivered:
//
//	func TestConformance(t *testing.T) {
//		sinktest.Run(t, func(t *testing.T) sinktest.Harness {
//			s := memsink.New()
//			return sinktest.Harness{Sink: s, Read: func(*testing.T) stagetrace.Batch {
//				return stagetrace.Batch{Spans: s.Spans(), Events: s.Events()}
//			}}
//		})
//	}
//
// # The promises
//
//   - Delivery: once Write has returned nil and, for a [stagetrace.Flusher],
//     ForceFlush has returned nil, or once Shutdown has returned nil, every
//     record written is delivered exactly as written: the same fields, the
//     same attribute values (their order aside), times to the nanosecond.
//     Empty batches deliver nothing. A sink may deliver the batches of
//     concurrent writers in any order.
//   - Concurrency: Write, ForceFlush and Shutdown are safe to call from
//     many goroutines, and all the batches of concurrent writers arrive.
//   - Size: an attribute value of 1 MiB is delivered whole.
//   - Borrowing: Write borrows its batch. Once Write has returned, the
//     writer may overwrite the batch's arrays (spans, events, attributes,
//     findings, the slices values hold) and write them again as the next
//     batch; what the sink delivers of the first batch is unchanged. A
//     sink that keeps records past Write keeps copies
//     ([stagetrace.Batch.Clone]).
//   - Closing: after Shutdown returns, whatever its result, Write fails
//     with an error matching [stagetrace.ErrClosed], and delivers nothing.
//     A second Shutdown returns nil or the first's result. ForceFlush after
//     Shutdown returns nil or an error matching ErrClosed. No goroutine
//     started by the sink outlives its Shutdown.
//   - Cancellation: Write, ForceFlush and Shutdown return promptly when
//     their context is done already. A Write with a done context either
//     accepts its batch (returns nil, and the batch is delivered as any
//     other) or refuses it (returns an error matching the context's, and
//     delivers none of it), as [Harness.RefusesDoneContext] says. A
//     Shutdown with a done context may report what it could not finish,
//     but loses nothing that Write and ForceFlush confirmed before it, and
//     when it returns nil it has lost nothing at all. With nothing pending
//     (never written to, or every write confirmed) it returns nil.
//   - Deadlines: Shutdown returns by its context's deadline, with a little
//     slack, even when its destination has stopped answering; it then
//     returns an error saying what it gave up on.
//
// The suite does not exercise a sink's overload policy: a sink that sheds
// load when a queue fills must be configured, by the function given to
// Run, with room for a few hundred batches.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
)

// Harness is one sink under test and the way to observe what it delivered.
// Exactly one of Read and Count is set.
type Harness struct {
	// Sink is the sink under test, open and empty.
	Sink stagetrace.Sink

	// Read returns every record the sink has delivered so far, in any
	// order: what a memory sink holds, the lines of a file, the rows of a
	// store, the requests a server received. It is called after Write
	// and ForceFlush returned, and after Shutdown, so it must work on a
	// sink that is shut down.
	Read func(t *testing.T) stagetrace.Batch

	// Count, for a sink that keeps aggregates rather than records (a
	// monitor), replaces Read: it returns how many spans and events the
	// sink has counted. The suite's events are all metric events
	// (attributes.EventMetric with a numeric attributes.MetricValue).
	Count func(t *testing.T) Counts

	// Stall, when set, makes the sink's destination stop answering until
	// release is called or the sink gives up on it: a server that holds
	// requests, a wrapped sink whose Write blocks. stalled is closed once
	// the destination holds a write. The suite uses it to check that
	// Shutdown honours its deadline with a write in flight. Sinks that
	// write nowhere that can stall (memory, a local file) leave it nil.
	// [Gate] makes one.
	Stall func(t *testing.T) (stalled <-chan struct{}, release func())

	// RefusesDoneContext says what the sink promises for a Write whose
	// context is done already: true, it refuses the batch with the
	// context's error (a sink that writes in the caller's goroutine);
	// false, it accepts it (a sink that ignores the context, or hands the
	// batch to a goroutine of its own).
	RefusesDoneContext bool
}

// Counts are the records a sink has counted.
type Counts struct {
	Spans, Events int
}

// Timing of the checks. Slack is generous so that a loaded machine under
// the race detector does not fail a sink that is merely slow.
const (
	// promptly bounds a call whose context is done before it starts.
	promptly = 5 * time.Second
	// shutdownDeadline is the deadline given to a Shutdown that must
	// give up on a stalled destination.
	shutdownDeadline = 300 * time.Millisecond
	// deadlineSlack is how late after its deadline Shutdown may return.
	deadlineSlack = 2 * time.Second
	// patience bounds calls that should succeed (writes, flushes, a
	// Shutdown with nothing stuck).
	patience = 30 * time.Second
)

// Run runs the conformance cases against sinks made by newHarness, one
// fresh sink per case. Cases run one after another, never in parallel,
// since each checks that its sink leaves no goroutine behind: the test
// calling Run must not be parallel either.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	cases := []struct {
		name string
		run  func(*suite, *testing.T)
	}{
		{"WriteThenRead", (*suite).writeThenRead},
		{"EmptyBatch", (*suite).emptyBatch},
		{"ForceFlush", (*suite).forceFlush},
		{"ShutdownTwice", (*suite).shutdownTwice},
		{"WriteAfterShutdown", (*suite).writeAfterShutdown},
		{"CancelledWrite", (*suite).cancelledWrite},
		{"CancelledShutdown", (*suite).cancelledShutdown},
		{"CancelledShutdownUnused", (*suite).cancelledShutdownUnused},
		{"CancelledShutdownIdle", (*suite).cancelledShutdownIdle},
		{"ConcurrentWriters", (*suite).concurrentWriters},
		{"LargeValue", (*suite).largeValue},
		{"BatchReused", (*suite).batchReused},
		{"ShutdownDeadline", (*suite).shutdownDeadline},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(open(t, newHarness), t)
		})
	}
}

// suite is one case's sink and the records it writes.
type suite struct {
	h   Harness
	gen *generator
}

// open makes the sink of one case. The goroutine check is registered
// first, so that it runs after every cleanup of the harness (a test
// server's, a temporary directory's) and of the sink.
func open(t *testing.T, newHarness func(t *testing.T) Harness) *suite {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, before)
	})
	h := newHarness(t)
	require.NotNil(t, h.Sink, "Harness.Sink")
	require.True(t, (h.Read == nil) != (h.Count == nil), "exactly one of Harness.Read and Harness.Count is set")
	t.Cleanup(func() {
		// A case that failed half-way still shuts its sink down, so that
		// the goroutine check reports leaks, not the failure again.
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		_ = h.Sink.Shutdown(ctx)
	})
	return &suite{h: h, gen: newGenerator()}
}

// writeThenRead: what is written is delivered exactly, once confirmed by
// ForceFlush, and still after Shutdown.
func (s *suite) writeThenRead(t *testing.T) {
	batches := []stagetrace.Batch{s.gen.batch(3, 2), s.gen.batch(1, 0), s.gen.batch(0, 2), s.gen.batch(5, 5)}
	for _, b := range batches {
		s.write(t, b)
	}
	s.flush(t)
	s.delivered(t, batches, nil)
	s.shutdown(t)
	s.delivered(t, batches, nil)
}

// emptyBatch: an empty batch is accepted and delivers nothing.
func (s *suite) emptyBatch(t *testing.T) {
	s.write(t, stagetrace.Batch{})
	s.write(t, stagetrace.Batch{Spans: []stagetrace.StageSpan{}, Events: []stagetrace.TraceEvent{}})
	b := s.gen.batch(1, 1)
	s.write(t, b)
	s.shutdown(t)
	s.delivered(t, []stagetrace.Batch{b}, nil)
}

// forceFlush: ForceFlush confirms every batch written before it, can be
// called again, and returns promptly with a done context.
func (s *suite) forceFlush(t *testing.T) {
	f, ok := s.h.Sink.(stagetrace.Flusher)
	if !ok {
		t.Skipf("%T is not a stagetrace.Flusher", s.h.Sink)
	}
	first := s.gen.batch(2, 1)
	s.write(t, first)
	s.flush(t)
	s.delivered(t, []stagetrace.Batch{first}, nil)

	second := s.gen.batch(2, 1)
	s.write(t, second)
	s.flush(t)
	s.flush(t)
	s.delivered(t, []stagetrace.Batch{first, second}, nil)

	err := promptCall(t, "ForceFlush with a cancelled context", func() error { return f.ForceFlush(cancelled()) })
	if err != nil {
		assert.ErrorIs(t, err, context.Canceled, "ForceFlush with a cancelled context fails with the context's error")
	}
	s.shutdown(t)
	s.delivered(t, []stagetrace.Batch{first, second}, nil)
}

// shutdownTwice: a second Shutdown returns nil or the first's result.
func (s *suite) shutdownTwice(t *testing.T) {
	b := s.gen.batch(2, 2)
	s.write(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	first := s.h.Sink.Shutdown(ctx)
	require.NoError(t, first, "Shutdown")
	var second error
	require.NotPanics(t, func() { second = s.h.Sink.Shutdown(ctx) }, "second Shutdown")
	assert.NoError(t, second, "second Shutdown after one that succeeded")
	s.delivered(t, []stagetrace.Batch{b}, nil)
}

// writeAfterShutdown: Write after Shutdown fails with ErrClosed and
// delivers nothing; ForceFlush after Shutdown does no harm.
func (s *suite) writeAfterShutdown(t *testing.T) {
	b := s.gen.batch(1, 1)
	s.write(t, b)
	s.shutdown(t)
	late := s.gen.batch(2, 2)
	s.assertClosed(t, late)
	if f, ok := s.h.Sink.(stagetrace.Flusher); ok {
		var err error
		require.NotPanics(t, func() { err = f.ForceFlush(context.Background()) }, "ForceFlush after Shutdown")
		if err != nil {
			assert.ErrorIs(t, err, stagetrace.ErrClosed, "ForceFlush after Shutdown")
		}
	}
	s.delivered(t, []stagetrace.Batch{b}, nil)
}

// assertClosed checks that the sink, shut down, refuses b and an empty
// batch with ErrClosed.
func (s *suite) assertClosed(t *testing.T, b stagetrace.Batch) {
	t.Helper()
	for name, b := range map[string]stagetrace.Batch{"a batch": b, "an empty batch": {}} {
		err := promptCall(t, "Write after Shutdown", func() error { return s.h.Sink.Write(context.Background(), b) })
		assert.ErrorIs(t, err, stagetrace.ErrClosed, "Write of %s after Shutdown", name)
	}
}

// cancelledWrite: a Write with a done context returns promptly, and
// either delivers all of its batch or, failing with the context's
// error, none of it; what was written before stays.
func (s *suite) cancelledWrite(t *testing.T) {
	before := s.gen.batch(2, 1)
	s.write(t, before)
	s.flush(t)

	b := s.gen.batch(3, 2)
	err := promptCall(t, "Write with a cancelled context", func() error { return s.h.Sink.Write(cancelled(), b) })
	if s.h.RefusesDoneContext {
		assert.ErrorIs(t, err, context.Canceled, "Write with a cancelled context fails with the context's error")
	} else {
		assert.NoError(t, err, "Write with a cancelled context accepts the batch (Harness.RefusesDoneContext is false)")
	}
	s.shutdown(t)
	if err == nil {
		s.delivered(t, []stagetrace.Batch{before, b}, nil)
	} else {
		s.delivered(t, []stagetrace.Batch{before}, nil)
	}
}

// cancelledShutdown: a Shutdown with a done context returns promptly,
// closes the sink whatever it returns, and loses nothing confirmed.
func (s *suite) cancelledShutdown(t *testing.T) {
	confirmed := s.gen.batch(2, 2)
	s.write(t, confirmed)
	s.flush(t)
	pending := s.gen.batch(2, 1) // written, not flushed
	s.write(t, pending)

	first := promptCall(t, "Shutdown with a cancelled context", func() error { return s.h.Sink.Shutdown(cancelled()) })
	s.assertClosed(t, s.gen.batch(1, 1))

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	second := s.h.Sink.Shutdown(ctx)
	if second != nil {
		assert.Equal(t, first, second, "a second Shutdown returns nil or the first's result")
	}
	if first == nil || second == nil {
		// Shutdown said it finished: nothing may be missing.
		s.delivered(t, []stagetrace.Batch{confirmed, pending}, nil)
		return
	}
	t.Logf("Shutdown with a cancelled context: %v", first)
	s.delivered(t, []stagetrace.Batch{confirmed}, []stagetrace.Batch{pending})
}

// cancelledShutdownUnused: a Shutdown with a done context of a sink that
// was never written to returns nil: there is nothing it could fail to
// finish.
func (s *suite) cancelledShutdownUnused(t *testing.T) {
	err := promptCall(t, "Shutdown with a cancelled context", func() error { return s.h.Sink.Shutdown(cancelled()) })
	assert.NoError(t, err, "Shutdown with a done context and nothing pending")
	s.assertClosed(t, s.gen.batch(1, 1))
	s.delivered(t, nil, nil)
}

// cancelledShutdownIdle: a Shutdown with a done context after every
// batch written was confirmed returns nil, and everything is delivered.
// Whether anything is pending is known before the context is looked at,
// so the answer must not depend on which of two ready channels a select
// happens to pick.
func (s *suite) cancelledShutdownIdle(t *testing.T) {
	confirmed := []stagetrace.Batch{s.gen.batch(2, 2), s.gen.batch(1, 1)}
	for _, b := range confirmed {
		s.write(t, b)
	}
	s.flush(t)
	err := promptCall(t, "Shutdown with a cancelled context", func() error { return s.h.Sink.Shutdown(cancelled()) })
	assert.NoError(t, err, "Shutdown with a done context and nothing pending")
	s.assertClosed(t, s.gen.batch(1, 1))
	s.delivered(t, confirmed, nil)
}

// concurrentWriters: batches written from many goroutines, with flushes
// among them, all arrive.
func (s *suite) concurrentWriters(t *testing.T) {
	const writers, perWriter = 8, 20
	batches := make([][]stagetrace.Batch, writers)
	for w := range batches {
		for range perWriter {
			batches[w] = append(batches[w], s.gen.batch(2, 1))
		}
	}
	f, _ := s.h.Sink.(stagetrace.Flusher)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i, b := range batches[w] {
				if err := s.h.Sink.Write(ctx, b); err != nil {
					errs[w] = fmt.Errorf("writer %d, batch %d: %w", w, i, err)
					return
				}
				if f != nil && i%5 == 4 {
					if err := f.ForceFlush(ctx); err != nil {
						errs[w] = fmt.Errorf("writer %d, flush after batch %d: %w", w, i, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...), "concurrent writes")
	s.shutdown(t)
	var all []stagetrace.Batch
	for _, bs := range batches {
		all = append(all, bs...)
	}
	s.delivered(t, all, nil)
}

// largeValue: a 1 MiB string value, of characters that need escaping and
// of multi-byte ones, is delivered whole, on a span and on an event.
func (s *suite) largeValue(t *testing.T) {
	big := largeString(1 << 20)
	b := s.gen.batch(2, 1)
	b.Spans[0].Attrs = append(b.Spans[0].Attrs, stagetrace.Attr{Key: keyLarge, Value: stagetrace.StringValue(big)})
	b.Events[0].Attrs = append(b.Events[0].Attrs, stagetrace.Attr{Key: keyLarge, Value: stagetrace.StringValue(big)})
	s.write(t, b)
	s.flush(t)
	s.delivered(t, []stagetrace.Batch{b}, nil)
	s.shutdown(t)
}

// shutdownDeadline: Shutdown returns by its deadline. With a stalled
// destination it gives up on the write in flight and says so; without
// one, it finishes well within the deadline, losing nothing.
func (s *suite) shutdownDeadline(t *testing.T) {
	before := s.gen.batch(2, 1)
	s.write(t, before)
	s.flush(t)
	if s.h.Stall == nil {
		b := s.gen.batch(3, 1)
		s.write(t, b)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		require.NoError(t, s.h.Sink.Shutdown(ctx), "Shutdown with a deadline and nothing stalled")
		assert.Less(t, time.Since(start), 2*time.Second, "Shutdown returns before its deadline")
		s.delivered(t, []stagetrace.Batch{before, b}, nil)
		return
	}

	stalled, release := s.h.Stall(t)
	released := sync.OnceFunc(release)
	defer released()
	stuck := s.gen.batch(1, 1)
	writeErr := make(chan error, 1)
	go func() { writeErr <- s.h.Sink.Write(context.Background(), stuck) }()
	select {
	case <-stalled:
	case <-time.After(patience):
		t.Fatal("the destination never received the write: Harness.Stall does not stall it")
	}

	ctx, cancel := context.WithTimeout(context.Background(), shutdownDeadline)
	defer cancel()
	start := time.Now()
	err := s.h.Sink.Shutdown(ctx)
	took := time.Since(start)
	assert.Less(t, took, shutdownDeadline+deadlineSlack, "Shutdown returns by its deadline (took %v)", took)
	assert.Error(t, err, "Shutdown that gave up on a stalled write says so")
	released()
	select {
	case err := <-writeErr:
		t.Logf("the stalled Write returned %v", err)
	case <-time.After(promptly):
		t.Fatal("the stalled Write did not return once Shutdown gave up on it")
	}
	s.assertClosed(t, s.gen.batch(1, 0))
	s.delivered(t, []stagetrace.Batch{before}, []stagetrace.Batch{stuck})
}

// batchReused: a writer that reuses a batch's arrays once Write has
// returned, as the exporters do, changes nothing the sink delivers.
func (s *suite) batchReused(t *testing.T) {
	b := s.gen.batch(3, 4)
	// One string slice through a header the writer owns, as the mapping
	// converts them (stagetrace.StringSliceRef).
	headers := [][]string{{"x", "y"}}
	b.Spans[0].Attrs = append(b.Spans[0].Attrs, stagetrace.Attr{Key: keyRef, Value: stagetrace.StringSliceRef(&headers[0])})
	first := b.Clone()
	s.write(t, b)

	// The next batch, in the same arrays: every record, attribute and
	// value overwritten in place, then new records over the old ones.
	next := s.gen.batch(len(b.Spans), len(b.Events))
	for _, sp := range b.Spans {
		overwrite(sp.Attrs)
		overwrite(sp.Findings)
	}
	for _, ev := range b.Events {
		overwrite(ev.Attrs)
		overwrite(ev.Body.AsMap())
	}
	headers[0][0], headers[0] = "reused", []string{"reused"}
	copy(b.Spans, next.Spans)
	copy(b.Events, next.Events)
	s.write(t, b)

	s.flush(t)
	s.delivered(t, []stagetrace.Batch{first, next}, nil)
	if t.Failed() {
		t.Log("a sink that keeps a batch past Write must keep a copy (stagetrace.Batch.Clone): the writer reused the batch's arrays")
	}
	s.shutdown(t)
}

// overwrite changes every attribute of a in place, and the elements of
// the slices its values hold, as a writer reusing a batch's arrays does.
func overwrite(a stagetrace.Attrs) {
	for i := range a {
		for j := range a[i].Value.AsStringSlice() {
			a[i].Value.AsStringSlice()[j] = "reused"
		}
		for j := range a[i].Value.AsBytes() {
			a[i].Value.AsBytes()[j] = 'r'
		}
		overwrite(a[i].Value.AsMap())
		a[i] = stagetrace.Attr{Key: "reused", Value: stagetrace.StringValue("reused")}
	}
}

// write writes b, which must succeed.
func (s *suite) write(t *testing.T, b stagetrace.Batch) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	require.NoError(t, s.h.Sink.Write(ctx, b), "Write")
}

// flush calls ForceFlush, which must succeed, when the sink has it.
func (s *suite) flush(t *testing.T) {
	t.Helper()
	f, ok := s.h.Sink.(stagetrace.Flusher)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	require.NoError(t, f.ForceFlush(ctx), "ForceFlush")
}

// shutdown shuts the sink down, which must succeed.
func (s *suite) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	require.NoError(t, s.h.Sink.Shutdown(ctx), "Shutdown")
}

// cancelled returns a context that is done already.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// promptCall calls fn, failing the test if it does not return promptly
// or panics.
func promptCall(t *testing.T, what string, fn func() error) error {
	t.Helper()
	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{panic: p}
			}
		}()
		done <- result{err: fn()}
	}()
	select {
	case r := <-done:
		require.Nil(t, r.panic, "%s panicked", what)
		return r.err
	case <-time.After(promptly):
		t.Fatalf("%s did not return within %v", what, promptly)
		return nil
	}
}

// largeString returns n bytes of valid UTF-8 mixing ASCII, characters
// JSON must escape and multi-byte characters.
func largeString(n int) string {
	const unit = `stage "inference" \ done` + "\n\t\x01 naïve 日本語 🚀 <&> "
	var sb strings.Builder
	sb.Grow(n + len(unit))
	for sb.Len() < n {
		sb.WriteString(unit)
	}
	s := strings.ToValidUTF8(sb.String()[:n], "") // cut where a character was split
	return s + strings.Repeat(".", n-len(s))
}
