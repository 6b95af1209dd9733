package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/stagetrace/stagetrace"
)

var (
	_ stagetrace.Sink    = (*Sink)(nil)
	_ stagetrace.Flusher = (*Sink)(nil)
)

// Reasons a batch is dropped, as logged.
const (
	reasonQueueFull  = "queue full"
	reasonSpillFull  = "spill limit reached"
	reasonSpillError = "spill write failed"
	reasonExhausted  = "retries exhausted"
	reasonRejected   = "rejected by sink"
	reasonShutdown   = "not delivered by shutdown"
)

// Stats are the counters of a [Sink]. Counts are of batches unless the
// name says otherwise, and are totals since [New] except Queued and
// SpillBytes, which are current values.
type Stats struct {
	Queued        int   // batches in memory: waiting, or being written
	SpillBytes    int64 // bytes of spill segments on disk, delivered records in them included
	Delivered     int64 // batches the wrapped sink accepted, Replayed included
	Replayed      int64 // batches read back from spill segments and delivered
	Spilled       int64 // batches written to spill segments
	Dropped       int64 // batches lost, whatever the reason; Rejected included
	DroppedSpans  int64 // spans in the batches lost
	DroppedEvents int64 // events in the batches lost
	Rejected      int64 // batches the wrapped sink refused with a permanent error
	Corrupted     int64 // damaged spill records skipped (their contents are lost)
	Retries       int64 // failed writes that were tried again
	Throttled     int64 // failed writes whose error asked for a pause (Retry-After), honoured up to WithMaxRetryAfter
}

// item is a batch on its way to the wrapped sink.
type item struct {
	b stagetrace.Batch
	// counted is set for batches written to this Sink, which ForceFlush
	// waits for; batches a previous process spilled are not counted.
	counted bool
	// ref is where a batch read back from a spill segment is, nil for a
	// batch from memory.
	ref *recordRef
}

// Sink is a [stagetrace.Sink] that hands batches to another sink from a
// bounded queue, on a goroutine of its own, retrying failed writes and
// spilling to disk what does not fit. Write never blocks on the wrapped
// sink. It is safe for concurrent use. Create one with [New].
type Sink struct {
	next     stagetrace.Sink
	name     string
	cfg      config
	warnLoss warner // drops and damaged records
	warnFail warner // failing writes
	reg      metric.Registration

	queue    chan item
	wake     chan struct{} // a batch was queued or spilled
	draining chan struct{} // closed by Shutdown: deliver what is left, then exit
	hardCtx  context.Context
	hardStop context.CancelFunc // at Shutdown's deadline: stop writing
	done     chan struct{}      // closed when the worker exits

	mu        sync.Mutex
	store     *store        // nil without spill
	closed    bool          // Write refuses batches
	finished  bool          // Shutdown has accounted for every batch it could see
	diverting bool          // memory is being moved to disk: Write must append there
	accepted  uint64        // counted batches written to this Sink and kept
	resolved  uint64        // counted batches delivered or lost, in the order accepted
	progress  chan struct{} // closed and replaced to wake ForceFlush calls
	waiters   int           // ForceFlush calls waiting on progress
	idle      bool          // the worker found nothing to do, and nothing came since
	current   *item         // the batch the worker is on
	abandoned *item         // current, when Shutdown gave up waiting for the worker
	leftover  []item        // batches from memory the worker gave back at the deadline

	delivered, replayed, spilled, dropped atomic.Int64
	droppedSpans, droppedEvents, rejected atomic.Int64
	corrupted, retries, throttled         atomic.Int64
	// notBefore is when the pause the wrapped sink last asked for ends;
	// only the worker reads and writes it.
	notBefore    time.Time
	shutdownOnce sync.Once
	shutdownErr  error
}

// New returns a Sink delivering to next, and starts its worker. With
// OnFull(Spill) it opens the spill directory, and batches spilled there
// by an earlier Sink are replayed first, in order. New fails on invalid
// options and when the spill directory cannot be created or is in use.
func New(next stagetrace.Sink, opts ...Option) (*Sink, error) {
	if next == nil {
		return nil, errors.New("delivery: nil sink")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	name := cfg.name
	if name == "" {
		name = fmt.Sprintf("%T", next)
	}
	s := &Sink{
		next:     next,
		name:     name,
		cfg:      cfg,
		queue:    make(chan item, cfg.queueSize),
		wake:     make(chan struct{}, 1),
		draining: make(chan struct{}),
		done:     make(chan struct{}),
		progress: make(chan struct{}),
	}
	logger := cfg.logger.With("sink", name)
	s.warnLoss = warner{logger: logger, interval: cfg.logInterval}
	s.warnFail = warner{logger: logger, interval: cfg.logInterval}
	if cfg.policy == Spill {
		st, err := openStore(cfg.spillDir, cfg.spillLimit, cfg.segmentSize)
		if err != nil {
			return nil, fmt.Errorf("delivery: spill directory %q: %w", cfg.spillDir, err)
		}
		s.store = st
	}
	reg, err := s.registerMetrics(cfg.meterProvider)
	if err != nil {
		if s.store != nil {
			_ = s.store.close()
		}
		return nil, fmt.Errorf("delivery: metrics: %w", err)
	}
	s.reg = reg
	s.hardCtx, s.hardStop = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Name returns the name of the wrapped sink in metrics, logs and errors.
func (s *Sink) Name() string { return s.name }

// Write queues a copy of b for the wrapped sink and returns at once. When
// the queue is full, b is spilled to disk under OnFull(Spill), or else
// dropped; a batch that cannot be spilled (spill limit, disk error) is
// dropped too.
// Drops are counted in [Sink.Stats] and the metrics, and logged, but not
// returned: Write returns an error only after Shutdown (one matching
// [stagetrace.ErrClosed]), so an overloaded sink cannot flood the caller
// with errors. While spilled batches wait, new ones are spilled behind
// them, to keep their order.
// A spill writes to the operating system but does not sync: spilled
// batches survive a crash of the process, not of the machine.
func (s *Sink) Write(_ context.Context, b stagetrace.Batch) error {
	if b.Len() > 0 {
		// The batch is delivered after Write returns, when the caller may
		// have reused its arrays: the queue holds a copy, made outside
		// the lock.
		b = b.Clone()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closedError()
	}
	if b.Len() == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.enqueueLocked(b) {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if s.store == nil {
		s.drop(b, reasonQueueFull, nil)
		return nil
	}

	rec := encodeRecord(b) // outside the lock: encoding is the slow part
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closedError()
	}
	if s.enqueueLocked(b) { // the worker caught up meanwhile
		s.mu.Unlock()
		return nil
	}
	err := s.store.append(rec)
	if err == nil {
		s.accepted++
		s.idle = false
	}
	s.mu.Unlock()
	if err != nil {
		reason := reasonSpillError
		if errors.Is(err, errSpillFull) {
			reason = reasonSpillFull
		}
		s.drop(b, reason, err)
		return nil
	}
	s.spilled.Add(1)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// closedError is Write's error after Shutdown.
func (s *Sink) closedError() error {
	return fmt.Errorf("delivery: write to %q: %w", s.name, stagetrace.ErrClosed)
}

// enqueueLocked puts b in the queue if it has room and nothing waits on
// disk, which would have to go first.
func (s *Sink) enqueueLocked(b stagetrace.Batch) bool {
	if s.store != nil && (s.diverting || !s.store.empty()) {
		return false
	}
	select {
	case s.queue <- item{b: b, counted: true}:
		s.accepted++
		s.idle = false
		select {
		case s.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
		return true
	default:
		return false
	}
}

// ForceFlush waits until every batch written before the call has been
// delivered or dropped, spilled ones included, and so have the batches an
// earlier Sink left in the spill directory, then flushes the wrapped sink
// if it buffers. It returns an error wrapping ctx's if ctx is done first.
// After Shutdown it does nothing.
func (s *Sink) ForceFlush(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	target := s.accepted
	for (s.resolved < target || s.store != nil && s.store.hasOld()) && !s.drainedLocked() {
		ch := s.progress
		s.waiters++
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			s.waiters--
			pending := target - s.resolved
			s.mu.Unlock()
			return fmt.Errorf("delivery: flush of %s: %d batches not yet delivered: %w", s.name, pending, ctx.Err())
		}
		s.mu.Lock()
		s.waiters--
	}
	s.mu.Unlock()
	if f, ok := s.next.(stagetrace.Flusher); ok {
		return f.ForceFlush(ctx)
	}
	return nil
}

// drainedLocked reports whether nothing at all is waiting.
func (s *Sink) drainedLocked() bool {
	return s.idle && s.current == nil && len(s.queue) == 0 && (s.store == nil || s.store.empty())
}

// notifyLocked wakes ForceFlush calls to check for progress.
func (s *Sink) notifyLocked() {
	if s.waiters > 0 {
		close(s.progress)
		s.progress = make(chan struct{})
	}
}

// Shutdown stops accepting batches and delivers what is queued, in memory
// and on disk, until ctx is done; it keeps the last quarter of the time
// before ctx's deadline (at most a second) to put away what is left and
// to shut the wrapped sink down, and returns a little before the
// deadline, so that a caller watching the same context gets its report. Batches still in memory then are
// spilled, to be replayed by the next Sink on the directory, or without
// spill dropped and counted. The error says how many batches and spans
// were not delivered, and why; it also reports the wrapped sink's
// Shutdown error. With nothing queued, spilled or being written, it
// returns the wrapped sink's Shutdown result even when ctx is done
// already (waiting up to a second for it then). Calls after the first
// return the first call's result.
//
// If the wrapped sink ignores its context and never returns, Shutdown
// still returns when ctx is done, leaving the worker blocked in that
// sink; the batch it holds is spilled too, so it may be delivered twice.
func (s *Sink) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() { s.shutdownErr = s.shutdown(ctx) })
	return s.shutdownErr
}

func (s *Sink) shutdown(ctx context.Context) error {
	cancelledAtStart := ctx.Err() != nil
	s.mu.Lock()
	s.closed = true
	// Nothing written is waiting, being written or spilled. Known before
	// ctx is looked at: with ctx done already, a select over ctx and the
	// worker would pick either at random.
	idle := s.accepted == s.resolved && (s.store == nil || s.store.empty())
	s.mu.Unlock()
	close(s.draining)

	drainCtx, finalCtx, cancel := shutdownContexts(ctx)
	defer cancel()
	workerDone := false
	var cause error
	if idle {
		// Write is closed and the worker holds no batch, so it exits as
		// soon as it sees draining, without calling the wrapped sink.
		<-s.done
		workerDone = true
	} else {
		select {
		case <-s.done:
			workerDone = true
		case <-drainCtx.Done():
			cause = drainCtx.Err()
		}
	}
	s.hardStop()
	if !workerDone {
		// A sink that honours its context returns at once.
		select {
		case <-s.done:
			workerDone = true
		case <-finalCtx.Done():
		}
	}

	s.mu.Lock()
	s.finished = true
	left := s.leftover
	s.leftover = nil
	if !workerDone && s.current != nil && s.current.ref == nil {
		s.abandoned = s.current
		left = append([]item{*s.current}, left...)
	}
	for more := true; more; {
		select {
		case it := <-s.queue:
			left = append(left, it)
		default:
			more = false
		}
	}
	var backlog int64
	var spilledLeft int
	var spillErr, closeErr error
	if s.store != nil {
		backlog = s.store.total
		if len(left) > 0 {
			recs := make([][]byte, len(left))
			for i := range left {
				recs[i] = encodeRecord(left[i].b)
			}
			spilledLeft, spillErr = s.store.prepend(recs)
		}
		closeErr = s.store.close()
	}
	s.mu.Unlock()
	s.spilled.Add(int64(spilledLeft))
	for _, it := range left[spilledLeft:] {
		s.drop(it.b, reasonShutdown, errors.Join(cause, spillErr))
	}
	if s.reg != nil {
		_ = s.reg.Unregister()
	}

	var errs []error
	if len(left) > 0 || backlog > 0 {
		errs = append(errs, s.shutdownError(left, spilledLeft, backlog, cause, spillErr))
	}
	if closeErr != nil {
		errs = append(errs, fmt.Errorf("delivery: shutdown: close spill segments: %w", closeErr))
	}
	if err := s.shutdownNext(finalCtx, cancelledAtStart); err != nil {
		errs = append(errs, err)
	}
	if n := s.warnLoss.heldBack() + s.warnFail.heldBack(); n > 0 {
		st := s.Stats()
		s.cfg.logger.Warn("delivery: shut down", "sink", s.name, "held_back", n,
			"delivered", st.Delivered, "dropped", st.Dropped, "dropped_spans", st.DroppedSpans,
			"spilled", st.Spilled, "corrupted", st.Corrupted, "retries", st.Retries, "throttled", st.Throttled)
	}
	return errors.Join(errs...)
}

// shutdownError says what Shutdown could not deliver:
//
//	delivery: shutdown: 3 batches (1536 spans) not delivered to "x": context deadline exceeded
func (s *Sink) shutdownError(left []item, spilledLeft int, backlog int64, cause, spillErr error) error {
	var what []string
	if len(left) > 0 {
		spans := 0
		for i := range left {
			spans += len(left[i].b.Spans)
		}
		what = append(what, fmt.Sprintf("%d batches (%d spans)", len(left), spans))
	}
	if backlog > 0 {
		what = append(what, fmt.Sprintf("%d bytes of spilled batches", backlog))
	}
	msg := fmt.Sprintf("delivery: shutdown: %s not delivered to %q", strings.Join(what, " and "), s.name)
	var notes []string
	if spilledLeft > 0 {
		notes = append(notes, fmt.Sprintf("%d batches spilled", spilledLeft))
	}
	if n := len(left) - spilledLeft; n > 0 {
		notes = append(notes, fmt.Sprintf("%d batches dropped", n))
	}
	if s.store != nil && (spilledLeft > 0 || backlog > 0) {
		notes = append(notes, "kept in "+s.cfg.spillDir+" for replay")
	}
	if len(notes) > 0 {
		msg += " (" + strings.Join(notes, ", ") + ")"
	}
	if cause == nil {
		cause = errors.New("worker stopped")
	}
	if spillErr != nil {
		return fmt.Errorf("%s: %w (spill: %w)", msg, cause, spillErr)
	}
	return fmt.Errorf("%s: %w", msg, cause)
}

// nextShutdownGrace is how long Shutdown, called with a context done
// already, waits for the wrapped sink's Shutdown, which has that context
// too: a sink that honours it answers at once, and its answer, not the
// race between it and the context, is what Shutdown reports.
const nextShutdownGrace = time.Second

// shutdownNext shuts the wrapped sink down, returning when ctx is done
// even if that sink does not; when ctx was done before Shutdown was
// called (cancelled), it waits nextShutdownGrace for the sink's answer.
func (s *Sink) shutdownNext(ctx context.Context, cancelled bool) error {
	errc := make(chan error, 1)
	go func() { errc <- s.next.Shutdown(ctx) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		notFinished := fmt.Errorf("delivery: shutdown of %q not finished: %w", s.name, ctx.Err())
		select {
		case err = <-errc:
		default:
			if !cancelled {
				return notFinished
			}
			t := time.NewTimer(nextShutdownGrace)
			defer t.Stop()
			select {
			case err = <-errc:
			case <-t.C:
				return notFinished
			}
		}
	}
	if err != nil {
		return fmt.Errorf("delivery: shutdown of %q: %w", s.name, err)
	}
	return nil
}

// shutdownContexts splits ctx's time. drain is for delivering: all of it
// without a deadline, else all but a quarter of the time left, at most a
// second, kept to put away what remains and shut the wrapped sink down.
// final ends a little before ctx, so that Shutdown returns its report
// before callers watching ctx give up on it.
func shutdownContexts(ctx context.Context) (drain, final context.Context, cancel context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		drain, cancel = context.WithCancel(ctx)
		return drain, ctx, cancel
	}
	reserve := min(time.Until(deadline)/4, time.Second)
	drain, cancelDrain := context.WithDeadline(ctx, deadline.Add(-reserve))
	final, cancelFinal := context.WithDeadline(ctx, deadline.Add(-reserve/8))
	return drain, final, func() { cancelDrain(); cancelFinal() }
}

// Stats returns the sink's counters.
func (s *Sink) Stats() Stats {
	st := Stats{
		Delivered:     s.delivered.Load(),
		Replayed:      s.replayed.Load(),
		Spilled:       s.spilled.Load(),
		Dropped:       s.dropped.Load(),
		DroppedSpans:  s.droppedSpans.Load(),
		DroppedEvents: s.droppedEvents.Load(),
		Rejected:      s.rejected.Load(),
		Corrupted:     s.corrupted.Load(),
		Retries:       s.retries.Load(),
		Throttled:     s.throttled.Load(),
	}
	s.mu.Lock()
	st.Queued = len(s.queue)
	if s.current != nil && s.current.ref == nil {
		st.Queued++
	}
	if s.store != nil {
		st.SpillBytes = s.store.total
	}
	s.mu.Unlock()
	return st
}

// drop counts b as lost and logs it, at most once per interval.
func (s *Sink) drop(b stagetrace.Batch, reason string, err error) {
	s.dropped.Add(1)
	s.droppedSpans.Add(int64(len(b.Spans)))
	s.droppedEvents.Add(int64(len(b.Events)))
	args := []any{"reason", reason, "spans", len(b.Spans), "events", len(b.Events),
		"dropped_total", s.dropped.Load(), "dropped_spans_total", s.droppedSpans.Load()}
	if err != nil {
		args = append(args, "error", err)
	}
	s.warnLoss.warn("delivery: batch dropped", args...)
}
