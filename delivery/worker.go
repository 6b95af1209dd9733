package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/stagetrace/stagetrace/internal/backoff"
)

// run is the worker: it writes batches to the wrapped sink one at a time,
// from memory first, then from disk, until Shutdown says to stop.
func (s *Sink) run() {
	defer close(s.done)
	for {
		it, ok := s.take()
		if !ok {
			return
		}
		s.process(it)
	}
}

// take returns the next batch to write, waiting for one; false means the
// worker is to exit.
func (s *Sink) take() (*item, bool) {
	for {
		if s.hardCtx.Err() != nil {
			return nil, false
		}
		s.mu.Lock()
		it, ok := s.receiveLocked()
		s.mu.Unlock()
		if ok {
			return it, true
		}
		if it, ok := s.takeSpilled(); ok {
			return &it, true
		}

		// Nothing to do: let ForceFlush see that, then wait. Write clears
		// idle when it adds work, so idle never hides a batch, and wakes
		// the worker after it queued or spilled one.
		s.mu.Lock()
		nothingLeft := len(s.queue) == 0 && (s.store == nil || s.store.empty())
		if nothingLeft {
			s.idle = true
			s.notifyLocked()
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-s.draining:
			// nothingLeft was read before the select: a Write may have
			// queued a batch since, and select picks at random among
			// ready cases. Shutdown closes the Sink to writes before it
			// closes draining, so a fresh look now is the last word.
			s.mu.Lock()
			nothingLeft = len(s.queue) == 0 && (s.store == nil || s.store.empty())
			s.mu.Unlock()
			if nothingLeft {
				return nil, false
			}
		case <-s.hardCtx.Done():
			return nil, false
		}
		s.mu.Lock()
		s.idle = false
		s.mu.Unlock()
	}
}

// receiveLocked takes the next batch from memory and makes it current in
// the same step, so that Shutdown and Stats, which read both under s.mu,
// never miss a batch the worker holds: Shutdown would otherwise return,
// having seen it in neither, while the worker drops it.
func (s *Sink) receiveLocked() (*item, bool) {
	select {
	case it := <-s.queue:
		s.current = &it
		return &it, true
	default:
		return nil, false
	}
}

// takeSpilled reads the oldest pending batch from disk.
func (s *Sink) takeSpilled() (item, bool) {
	if s.store == nil {
		return item{}, false
	}
	for {
		s.mu.Lock()
		payload, ref, corrupted, ok := s.store.next()
		counted := ok && !ref.seg.old
		// Counted before the lock is let go: next may have emptied the
		// store, and ForceFlush, which reads the store under this lock,
		// may return as soon as it sees that. Every damaged record is
		// thus counted by the time a caller can see delivery finished.
		total := s.corrupted.Add(int64(corrupted))
		s.mu.Unlock()
		if corrupted > 0 {
			s.warnCorrupted(corrupted, total, nil)
		}
		if !ok {
			return item{}, false
		}
		b, err := decodeRecord(payload)
		if err != nil {
			// The checksum held, so the record was written damaged: it
			// can never be delivered. The record stays in the store until
			// consume, so counting it before that is counting it in time.
			s.warnCorrupted(1, s.corrupted.Add(1), err)
			s.mu.Lock()
			s.store.consume(ref)
			s.resolveLocked(counted)
			s.mu.Unlock()
			continue
		}
		return item{b: b, counted: counted, ref: &ref}, true
	}
}

// warnCorrupted logs that n damaged spill records were skipped; they are
// already counted in total.
func (s *Sink) warnCorrupted(n int, total int64, err error) {
	args := []any{"records", n, "corrupted_total", total, "dir", s.cfg.spillDir}
	if err != nil {
		args = append(args, "error", err)
	}
	s.warnLoss.warn("delivery: skipped damaged spill records", args...)
}

// process writes it to the wrapped sink until it is delivered, refused
// for good, out of retry time, or Shutdown's deadline comes.
func (s *Sink) process(it *item) {
	s.mu.Lock()
	s.current = it
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.current = nil
		s.mu.Unlock()
	}()

	// A pause the sink asked for holds back every batch, not only the one
	// refused; it does not count against this batch's retry time.
	if backoff.Sleep(s.hardCtx, time.Until(s.notBefore)) != nil {
		s.abandon(it)
		return
	}
	start := time.Now()
	bo := backoff.New(s.cfg.backoffInitial, s.cfg.backoffMax)
	for {
		err := s.writeOnce(it)
		if err == nil {
			s.delivered.Add(1)
			s.mu.Lock()
			if it.ref != nil {
				s.replayed.Add(1)
				s.store.consume(*it.ref)
			}
			s.finishLocked(it)
			s.mu.Unlock()
			return
		}
		if s.hardCtx.Err() != nil {
			s.abandon(it)
			return
		}
		if permanent(err) {
			s.rejected.Add(1)
			s.drop(it.b, reasonRejected, err)
			s.mu.Lock()
			if it.ref != nil {
				s.store.consume(*it.ref)
			}
			s.finishLocked(it)
			s.mu.Unlock()
			return
		}
		wait := bo.Next()
		if d := s.retryDelay(err); d > 0 {
			// The sink asked for a pause (an HTTP Retry-After): retrying
			// sooner only earns another refusal and adds to its load.
			s.throttled.Add(1)
			wait = max(wait, d)
			s.notBefore = time.Now().Add(wait)
		}
		// A spilled batch is already safe: it is retried until the sink
		// takes it, however long that is.
		if it.ref == nil && time.Since(start)+wait > s.cfg.maxRetryElapsed {
			s.exhausted(it, err)
			return
		}
		s.retries.Add(1)
		s.warnFail.warn("delivery: write failed, will retry", "error", err, "wait", wait,
			"from_spill", it.ref != nil, "retries_total", s.retries.Load())
		if backoff.Sleep(s.hardCtx, wait) != nil {
			s.abandon(it)
			return
		}
	}
}

func (s *Sink) writeOnce(it *item) error {
	ctx, cancel := context.WithTimeout(s.hardCtx, s.cfg.writeTimeout)
	defer cancel()
	return s.next.Write(ctx, it.b)
}

// retryDelay returns the pause err asks for before the next write, by a
// method RetryDelay() time.Duration as httpsink's StatusError has for a
// Retry-After, capped by WithMaxRetryAfter; zero when it asks for none.
func (s *Sink) retryDelay(err error) time.Duration {
	var r interface{ RetryDelay() time.Duration }
	if !errors.As(err, &r) {
		return 0
	}
	return min(max(r.RetryDelay(), 0), s.cfg.maxRetryAfter)
}

// permanent reports whether err says that writing the same batch again
// cannot succeed, as httpsink's StatusError does for most 4xx answers.
func permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// finishLocked records that the batch being written left the pipeline.
// It stops being current in the same step as it is resolved, so that once
// ForceFlush returns Stats no longer counts it as queued.
func (s *Sink) finishLocked(it *item) {
	if s.current == it {
		s.current = nil
	}
	s.resolveLocked(it.counted)
}

// resolveLocked records that a batch left the pipeline, for ForceFlush.
func (s *Sink) resolveLocked(counted bool) {
	if counted {
		s.resolved++
		s.notifyLocked()
	}
}

// abandon gives a batch from memory back to Shutdown at its deadline;
// spilled batches stay where they are.
func (s *Sink) abandon(it *item) {
	if it.ref != nil {
		return
	}
	s.mu.Lock()
	if !s.finished {
		s.leftover = append(s.leftover, *it)
		s.mu.Unlock()
		return
	}
	accounted := s.abandoned == it
	s.mu.Unlock()
	if !accounted {
		// Shutdown gave up on the worker before it got here.
		s.drop(it.b, reasonShutdown, context.DeadlineExceeded)
	}
}

// exhausted handles a batch from memory that ran out of retry time. With
// spill on, it goes to disk, in front of what is there, together with the
// rest of the queue: the sink is failing, so the batches behind it would
// only wait out their own retry time, and on disk they survive a crash.
// Without spill it is dropped.
func (s *Sink) exhausted(it *item, cause error) {
	if s.store == nil {
		s.drop(it.b, reasonExhausted, cause)
		s.mu.Lock()
		s.finishLocked(it)
		s.mu.Unlock()
		return
	}
	// While the queue is moved out, new batches must go to disk behind
	// it, not into the queue in front of it.
	s.mu.Lock()
	s.diverting = true
	items := []item{*it}
	for more := true; more; {
		select {
		case q := <-s.queue:
			items = append(items, q)
		default:
			more = false
		}
	}
	s.mu.Unlock()

	recs := make([][]byte, len(items))
	for i := range items {
		recs[i] = encodeRecord(items[i].b)
	}
	s.mu.Lock()
	k, err := s.store.prepend(recs)
	s.diverting = false
	for i := k; i < len(items); i++ {
		s.resolveLocked(items[i].counted)
	}
	s.mu.Unlock()
	s.spilled.Add(int64(k))
	s.warnFail.warn("delivery: write failed past the retry limit, batches spilled", "error", cause,
		"batches", k, "spilled_total", s.spilled.Load())
	for i := k; i < len(items); i++ {
		reason := reasonSpillError
		if errors.Is(err, errSpillFull) {
			reason = reasonSpillFull
		}
		s.drop(items[i].b, reason, errors.Join(cause, err))
	}
}
