package exporter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stagetrace/stagetrace"
)

func writeAll(ctx context.Context, sinks []stagetrace.Sink, timeout time.Duration, b stagetrace.Batch) error {
	return eachSink(ctx, sinks, timeout, "write", func(ctx context.Context, s stagetrace.Sink) error {
		return s.Write(ctx, b)
	})
}

// eachSink runs op on every sink at once, so that a slow sink does not delay
// the others, and returns when all are done, ctx is done or timeout (if
// not zero) has passed. A sink still running then is abandoned: its goroutine ends when the sink returns, and
// the error names it.
func eachSink(ctx context.Context, sinks []stagetrace.Sink, timeout time.Duration, what string, op func(context.Context, stagetrace.Sink) error) error {
	if len(sinks) == 1 && timeout == 0 && ctx.Done() == nil {
		// Nothing could interrupt the sink anyway: no goroutine is needed.
		if err := op(ctx, sinks[0]); err != nil {
			return sinkError(0, sinks[0], what, err)
		}
		return nil
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
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}

type result struct {
	index int
	err   error
}

func sinkError(i int, s stagetrace.Sink, what string, err error) error {
	return fmt.Errorf("stagetrace exporter: sink %d (%T) %s: %w", i, s, what, err)
}
