package delivery_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/delivery"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		mem := memsink.New()
		next := &stallSink{Sink: mem}
		// A queue with room for every batch the suite writes at once: the
		// suite checks delivery, not the overload policy.
		s := newSink(t, next, delivery.WithQueueSize(1024))
		return sinktest.Harness{
			Sink: s,
			Read: func(*testing.T) stagetrace.Batch {
				return stagetrace.Batch{Spans: mem.Spans(), Events: mem.Events()}
			},
			Stall: next.stall,
		}
	})
}

// stallSink is a memsink whose Write can be made to hang until released
// or cancelled, as a server that stops answering.
type stallSink struct {
	*memsink.Sink
	mu      sync.Mutex
	hold    chan struct{}
	stalled chan struct{}
	once    sync.Once
}

func (s *stallSink) stall(*testing.T) (<-chan struct{}, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.stalled = make(chan struct{}), make(chan struct{})
	hold := s.hold
	return s.stalled, func() { close(hold) }
}

func (s *stallSink) Write(ctx context.Context, b stagetrace.Batch) error {
	s.mu.Lock()
	hold, stalled := s.hold, s.stalled
	s.mu.Unlock()
	if hold != nil {
		s.once.Do(func() { close(stalled) })
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Sink.Write(ctx, b)
}
