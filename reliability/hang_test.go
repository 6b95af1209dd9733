package reliability

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/delivery"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

// hungSink never returns from Write or Shutdown, whatever its context
// says, until the test ends.
type hungSink struct{ release chan struct{} }

func newHungSink(t *testing.T) *hungSink {
	s := &hungSink{release: make(chan struct{})}
	// Let the goroutines stuck in it go, so that none outlives the tests.
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *hungSink) Write(context.Context, stagetrace.Batch) error { <-s.release; return nil }
func (s *hungSink) Shutdown(context.Context) error                { <-s.release; return nil }

// returnsBy runs f and fails the test unless it returns within limit.
func returnsBy(t *testing.T, limit time.Duration, f func() error) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(limit):
		t.Fatalf("did not return within %v", limit)
		return 0, nil
	}
}

// endedSpans returns n ended SDK spans, as an exporter receives them.
func endedSpans(n int) []sdktrace.ReadOnlySpan {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	for range n {
		_, span := tp.Tracer("t").Start(context.Background(), "step")
		span.End()
	}
	return rec.Ended()
}

// TestSinkThatNeverReturns checks that a sink that never returns, not even
// when its context is done, holds up neither the application nor the
// other sinks, and that Shutdown returns by its deadline with an error
// naming it.
func TestSinkThatNeverReturns(t *testing.T) {
	deadline := size(5*time.Second, time.Second)
	slack := 500 * time.Millisecond

	t.Run("behind delivery, through the SDK", func(t *testing.T) {
		d, err := delivery.New(newHungSink(t), delivery.WithName("hung-ingest"), delivery.WithLogger(quietLogger))
		require.NoError(t, err)
		mem := memsink.New()
		exp, err := exporter.New(exporter.WithSinks(d, mem))
		require.NoError(t, err)
		tp := newProvider(exp)

		n := 1000
		took, err := returnsBy(t, 10*time.Second, func() error {
			generate(tp, n, 4)
			return tp.ForceFlush(context.Background())
		})
		require.NoError(t, err)
		assert.Len(t, mem.Spans(), n, "the other sink got every span")

		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		shut, err := returnsBy(t, deadline+slack, func() error { return tp.Shutdown(ctx) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), `not delivered to "hung-ingest"`)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		figure(t, "%d spans ended and flushed in %v with one sink hung; TracerProvider.Shutdown returned in %v against a %v deadline: %s",
			n, took.Round(time.Millisecond), shut.Round(time.Millisecond), deadline, firstLine(err))
	})

	t.Run("exporter with two sinks", func(t *testing.T) {
		mem := memsink.New()
		exp, err := exporter.New(exporter.WithSinks(newHungSink(t), mem))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err = returnsBy(t, time.Second+slack, func() error { return exp.ExportSpans(ctx, endedSpans(10)) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "(*reliability.hungSink) write: not finished")
		assert.Len(t, mem.Spans(), 10)

		sctx, scancel := context.WithTimeout(context.Background(), deadline)
		defer scancel()
		shut, err := returnsBy(t, deadline+slack, func() error { return exp.Shutdown(sctx) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "(*reliability.hungSink) shutdown: not finished")
		figure(t, "exporter.Shutdown returned in %v against a %v deadline: %s", shut.Round(time.Millisecond), deadline, firstLine(err))
	})

	t.Run("exporter with one sink", func(t *testing.T) {
		exp, err := exporter.New(exporter.WithSinks(newHungSink(t)))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		_, err = returnsBy(t, deadline+slack, func() error { return exp.Shutdown(ctx) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "(*reliability.hungSink)")
	})

	// With no deadline from the caller, the sink timeout is all that bounds
	// the wait: the full suite measures the default one, the reduced suite a
	// short one set explicitly, so as to stay fast.
	sinkTimeout := size(exporter.DefaultSinkTimeout, time.Second)
	var timeoutOpts []exporter.Option
	if sinkTimeout != exporter.DefaultSinkTimeout {
		timeoutOpts = append(timeoutOpts, exporter.WithSinkTimeout(sinkTimeout))
	}
	newHungExporter := func(t *testing.T) *exporter.Exporter {
		exp, err := exporter.New(append(timeoutOpts, exporter.WithSinks(newHungSink(t)))...)
		require.NoError(t, err)
		return exp
	}

	t.Run("ExportSpans without a deadline", func(t *testing.T) {
		exp := newHungExporter(t)
		took, err := returnsBy(t, sinkTimeout+slack, func() error {
			return exp.ExportSpans(context.Background(), endedSpans(10))
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "(*reliability.hungSink) write: not finished")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		figure(t, "ExportSpans(context.Background()) returned in %v with a %v sink timeout: %s",
			took.Round(time.Millisecond), sinkTimeout, firstLine(err))
	})

	t.Run("behind WithSyncer", func(t *testing.T) {
		exp := newHungExporter(t)
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		ended, _ := returnsBy(t, sinkTimeout+slack, func() error {
			_, span := tp.Tracer("t").Start(context.Background(), "step")
			span.End()
			return nil
		})

		shutdownIn := size(2*time.Second, 500*time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), shutdownIn)
		defer cancel()
		shut, err := returnsBy(t, shutdownIn+slack, func() error { return tp.Shutdown(ctx) })
		// The SDK's simple span processor returns its context's error.
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		figure(t, "span.End() returned in %v with a %v sink timeout; TracerProvider.Shutdown returned in %v against a %v deadline: %s",
			ended.Round(time.Millisecond), sinkTimeout, shut.Round(time.Millisecond), shutdownIn, firstLine(err))
	})
}

// firstLine returns the first line of err's message.
func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
