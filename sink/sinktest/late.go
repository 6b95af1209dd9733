package sinktest

import (
	"context"
	"sync/atomic"

	"github.com/stagetrace/stagetrace"
)

// LateSink is a sink its fan-out abandons: its first Write holds until
// Release, past any timeout, and only then reads the batch it was given
// (with the read function of NewLateSink) and passes it on to next. A test
// of a writer that reuses its batches' arrays checks with it that a batch
// left to an abandoned sink is not overwritten by later writes.
type LateSink struct {
	next    stagetrace.Sink
	readFn  func(stagetrace.Batch) []string
	release chan struct{}
	read    chan []string
	calls   atomic.Int32
}

var _ stagetrace.Sink = (*LateSink)(nil)

// NewLateSink returns a LateSink whose late Write reads its batch with
// read, and which passes every batch to next (nil: to nowhere).
func NewLateSink(next stagetrace.Sink, read func(stagetrace.Batch) []string) *LateSink {
	return &LateSink{next: next, readFn: read, release: make(chan struct{}), read: make(chan []string, 1)}
}

// Write holds the first call until Release, then reads its batch; later
// calls pass through at once.
func (s *LateSink) Write(ctx context.Context, b stagetrace.Batch) error {
	if s.calls.Add(1) == 1 {
		<-s.release
		s.read <- s.readFn(b)
	}
	if s.next == nil {
		return nil
	}
	return s.next.Write(ctx, b)
}

// Release lets the first Write go on, and returns what it read of its
// batch then.
func (s *LateSink) Release() []string {
	close(s.release)
	return <-s.read
}

// Shutdown shuts next down.
func (s *LateSink) Shutdown(ctx context.Context) error {
	if s.next == nil {
		return nil
	}
	return s.next.Shutdown(ctx)
}
