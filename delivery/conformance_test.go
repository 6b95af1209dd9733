package delivery_test

import (
	"context"
	"testing"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/delivery"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Harness {
		mem := memsink.New()
		next := &gatedSink{Sink: mem}
		// A queue with room for every batch the suite writes at once: the
		// suite checks delivery, not the overload policy.
		s := newSink(t, next, delivery.WithQueueSize(1024))
		return sinktest.Harness{
			Sink: s,
			Read: func(*testing.T) stagetrace.Batch {
				return stagetrace.Batch{Spans: mem.Spans(), Events: mem.Events()}
			},
			Stall: next.gate.Stall,
		}
	})
}

// gatedSink is a memsink whose Write hangs while its gate is closed, as a
// server that stops answering.
type gatedSink struct {
	*memsink.Sink
	gate sinktest.Gate
}

func (s *gatedSink) Write(ctx context.Context, b stagetrace.Batch) error {
	if err := s.gate.Wait(ctx); err != nil {
		return err
	}
	return s.Sink.Write(ctx, b)
}
