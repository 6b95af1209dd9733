package exporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stagetrace/stagetrace"
)

// Fanout writes each batch to several sinks at once, so that a slow sink
// does not delay the others, and names the sink in each error. It is the
// writing half of an exporter, shared by the SDK exporter and the
// collector exporter. A Fanout is safe for concurrent use.
type Fanout struct {
	sinks   []stagetrace.Sink
	timeout time.Duration

	stopOnce sync.Once
	stopErr  error
}

var (
	_ stagetrace.Sink    = (*Fanout)(nil)
	_ stagetrace.Flusher = (*Fanout)(nil)
)

// DefaultSinkTimeout bounds how long one sink may take to write or flush
// one batch when WithSinkTimeout is not given. It is shorter than the
// BatchSpanProcessor's 30 s export timeout, so that a hung sink is named
// before the processor gives up on the batch, and it bounds the wait of a
// caller whose context has no deadline, such as span.End() behind
// WithSyncer.
const DefaultSinkTimeout = 10 * time.Second

// NewFanout returns a Fanout over sinks, which it owns: its Shutdown shuts
// them down. timeout bounds how long one sink may take to write or flush
// one batch (see WithSinkTimeout); zero means DefaultSinkTimeout. The
// caller's deadline, when sooner, applies as well.
func NewFanout(timeout time.Duration, sinks ...stagetrace.Sink) (*Fanout, error) {
	if len(sinks) == 0 {
		return nil, errors.New("stagetrace exporter: no sink")
	}
	for i, s := range sinks {
		if s == nil {
			return nil, fmt.Errorf("stagetrace exporter: sink %d is nil", i)
		}
	}
	if timeout < 0 {
		return nil, fmt.Errorf("stagetrace exporter: negative sink timeout %v", timeout)
	}
	if timeout == 0 {
		timeout = DefaultSinkTimeout
	}
	return &Fanout{sinks: sinks, timeout: timeout}, nil
}

// Write writes b to every sink. A failing sink does not stop the others:
// their errors are joined, each naming its sink.
func (f *Fanout) Write(ctx context.Context, b stagetrace.Batch) error {
	_, err := f.WriteReleased(ctx, b)
	return err
}

// WriteReleased is Write, and also reports whether b is released: every
// sink's Write has returned, so none can still read b, and its arrays may
// be reused for the next batch (see stagetrace.Sink). A sink abandoned at
// its timeout, or at ctx's end, may read b later: b is then not released,
// and must be left to that sink.
func (f *Fanout) WriteReleased(ctx context.Context, b stagetrace.Batch) (released bool, err error) {
	return eachSinkFinished(ctx, f.sinks, f.timeout, "write", func(ctx context.Context, s stagetrace.Sink) error {
		return s.Write(ctx, b)
	})
}

// ForceFlush flushes every sink that buffers (implements stagetrace.Flusher).
func (f *Fanout) ForceFlush(ctx context.Context) error {
	return eachSink(ctx, f.sinks, f.timeout, "flush", func(ctx context.Context, s stagetrace.Sink) error {
		if fl, ok := s.(stagetrace.Flusher); ok {
			return fl.ForceFlush(ctx)
		}
		return nil
	})
}

// Shutdown shuts every sink down, each flushing what it holds, and returns
// by ctx's deadline with an error naming any sink that had not finished.
// The sink timeout does not apply: a sink may need longer to hand over
// what it holds, and ctx says how long the caller will wait. Calls after
// the first return the first call's result.
func (f *Fanout) Shutdown(ctx context.Context) error {
	f.stopOnce.Do(func() {
		f.stopErr = eachSink(ctx, f.sinks, 0, "shutdown", func(ctx context.Context, s stagetrace.Sink) error {
			return s.Shutdown(ctx)
		})
	})
	return f.stopErr
}

// eachSink runs op on every sink at once, so that a slow sink does not delay
// the others, and returns when all are done, ctx is done or timeout (if
// not zero) has passed. A sink still running then is abandoned: its
// goroutine ends when the sink returns, and the error names it.
func eachSink(ctx context.Context, sinks []stagetrace.Sink, timeout time.Duration, what string, op func(context.Context, stagetrace.Sink) error) error {
	_, err := eachSinkFinished(ctx, sinks, timeout, what, op)
	return err
}

// eachSinkFinished is eachSink, and also reports whether every sink's op
// returned (none was abandoned).
func eachSinkFinished(ctx context.Context, sinks []stagetrace.Sink, timeout time.Duration, what string, op func(context.Context, stagetrace.Sink) error) (bool, error) {
	if len(sinks) == 1 && timeout == 0 && ctx.Done() == nil {
		// Nothing could interrupt the sink anyway: no goroutine is needed.
		if err := op(ctx, sinks[0]); err != nil {
			return true, sinkError(0, sinks[0], what, err)
		}
		return true, nil
	}
	if timeout > 0 {
		// One deadline for all: they start together. Waiting on it below,
		// not only handing it to the sinks, is what abandons a sink that
		// ignores its context.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	done := make(chan result, len(sinks))
	for i, s := range sinks {
		go func() { done <- result{i, op(ctx, s)} }()
	}
	finished := make([]bool, len(sinks))
	var errs []error
	for range sinks {
		select {
		case r := <-done:
			finished[r.index] = true
			if r.err != nil {
				errs = append(errs, sinkError(r.index, sinks[r.index], what, r.err))
			}
		case <-ctx.Done():
			for i, f := range finished {
				if !f {
					errs = append(errs, sinkError(i, sinks[i], what, fmt.Errorf("not finished: %w", ctx.Err())))
				}
			}
			return false, errors.Join(errs...)
		}
	}
	return true, errors.Join(errs...)
}

type result struct {
	index int
	err   error
}

func sinkError(i int, s stagetrace.Sink, what string, err error) error {
	return fmt.Errorf("stagetrace exporter: sink %d (%T) %s: %w", i, s, what, err)
}
