package exporter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
)

func TestNewFanoutRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		sinks   []stagetrace.Sink
		want    string
	}{
		{"no sink", 0, nil, "no sink"},
		{"nil sink", 0, []stagetrace.Sink{&captureSink{}, nil}, "sink 1 is nil"},
		{"negative timeout", -time.Second, []stagetrace.Sink{&captureSink{}}, "negative sink timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := exporter.NewFanout(tc.timeout, tc.sinks...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// Every sink gets the batch and is flushed and shut down once, however
// often Shutdown is called; a failing sink is named in the joined error.
func TestFanoutWritesFlushesAndShutsDownEverySink(t *testing.T) {
	bad, good := &captureSink{err: errors.New("disk full")}, &captureSink{}
	f, err := exporter.NewFanout(0, bad, good)
	require.NoError(t, err)
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{{RunID: "r", Name: "s"}}}
	err = f.Write(context.Background(), b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sink 0 (*exporter_test.captureSink) write: disk full")
	assert.NotContains(t, err.Error(), "sink 1")
	assert.Len(t, good.spans(), 1)
	assert.Len(t, bad.spans(), 1)

	require.NoError(t, f.ForceFlush(context.Background()))
	require.NoError(t, f.Shutdown(context.Background()))
	require.NoError(t, f.Shutdown(context.Background()))
	for _, s := range []*captureSink{bad, good} {
		s.mu.Lock()
		assert.Equal(t, 1, s.flushes)
		assert.Equal(t, 1, s.shutdowns)
		s.mu.Unlock()
	}
}

// A batch is released once every sink's Write has returned, failing or
// not; a sink abandoned at the timeout may still read it, so it is not.
func TestFanoutReleasesABatchOnlyWhenEverySinkReturned(t *testing.T) {
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{{RunID: "r", Name: "s"}}}
	for _, timeout := range []time.Duration{0, time.Minute} {
		f, err := exporter.NewFanout(timeout, &captureSink{err: errors.New("disk full")}, &captureSink{})
		require.NoError(t, err)
		released, err := f.WriteReleased(context.Background(), b)
		assert.Error(t, err)
		assert.True(t, released, "timeout %v", timeout)
		require.NoError(t, f.Shutdown(context.Background()))
	}

	hung := &captureSink{block: make(chan struct{})}
	f, err := exporter.NewFanout(20*time.Millisecond, &captureSink{}, hung)
	require.NoError(t, err)
	released, err := f.WriteReleased(context.Background(), b)
	assert.ErrorContains(t, err, "sink 1 (*exporter_test.captureSink) write: not finished")
	assert.False(t, released)
	close(hung.block)
	require.NoError(t, f.Shutdown(context.Background()))
}
