package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/delivery"
	"github.com/stagetrace/stagetrace/sink/httpsink"
)

// throttlingServer is an ingest server on 127.0.0.1 that answers the
// first throttled requests with 503 and the given Retry-After, and the
// rest with 204. It records when each request came.
type throttlingServer struct {
	*httptest.Server
	mu         sync.Mutex
	times      []time.Time
	throttled  int
	retryAfter string
}

func newThrottlingServer(t *testing.T, throttled int, retryAfter string) *throttlingServer {
	t.Helper()
	ts := &throttlingServer{throttled: throttled, retryAfter: retryAfter}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ts.mu.Lock()
		ts.times = append(ts.times, time.Now())
		n := len(ts.times)
		ts.mu.Unlock()
		if ts.throttled < 0 || n <= ts.throttled {
			w.Header().Set("Retry-After", ts.retryAfter)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *throttlingServer) requests() []time.Time {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]time.Time(nil), ts.times...)
}

// newHTTPSink returns an httpsink posting to ts. With its default retry
// schedule a Retry-After of an hour is past its retry limit, so it returns
// the 503 at once and leaves the wait to delivery.
func newHTTPSink(t *testing.T, ts *throttlingServer, opts ...httpsink.Option) *httpsink.Sink {
	t.Helper()
	hs, err := httpsink.New(ts.URL+"/v1/batches", opts...)
	require.NoError(t, err)
	return hs
}

// A server that says "Retry-After: 3600" must not see the batch again
// within the hour (capped by WithMaxRetryAfter), nor the batches queued
// behind it: quick backoff would otherwise hammer it.
func TestRetryAfterHoldsBackEveryBatch(t *testing.T) {
	ts := newThrottlingServer(t, -1, "3600")
	s, err := delivery.New(newHTTPSink(t, ts), quiet()...)
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, s.Write(context.Background(), testBatch(i, 2)))
	}
	// The first request comes at once; nothing may follow it. Half a
	// second is a hundred backoff ceilings of 5 ms.
	require.Eventually(t, func() bool { return len(ts.requests()) >= 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, 1, len(ts.requests()), "requests while the server asked for an hour's pause")

	st := s.Stats()
	assert.Equal(t, int64(1), st.Throttled)
	assert.Equal(t, int64(1), st.Dropped, "the first batch is past its retry time (30 s) at once")
	assert.Zero(t, st.Retries)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = s.Shutdown(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 batches (4 spans) not delivered")
	assert.Equal(t, 1, len(ts.requests()), "Shutdown does not send in the pause either")
}

// A Retry-After longer than WithMaxRetryAfter waits the maximum; a
// shorter one waits what it says; then the batch is delivered.
func TestRetryAfterIsCappedByItsMaximum(t *testing.T) {
	for _, tt := range []struct {
		name, retryAfter string
		max, wait        time.Duration
	}{
		{"capped", "3600", 300 * time.Millisecond, 300 * time.Millisecond},
		{"as said", "1", 5 * time.Second, time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newThrottlingServer(t, 1, tt.retryAfter)
			// One attempt per Write: the waiting is delivery's.
			hs := newHTTPSink(t, ts, httpsink.WithRetry(time.Millisecond, time.Millisecond, 0))
			s := newSink(t, hs, delivery.WithMaxRetryAfter(tt.max))
			require.NoError(t, s.Write(context.Background(), testBatch(0, 2)))
			flush(t, s)

			times := ts.requests()
			require.Len(t, times, 2)
			assert.GreaterOrEqual(t, times[1].Sub(times[0]), tt.wait)
			st := s.Stats()
			assert.Equal(t, int64(1), st.Delivered)
			assert.Equal(t, int64(1), st.Throttled)
			assert.Equal(t, int64(1), st.Retries)
		})
	}
}

func TestMaxRetryAfterMustNotBeNegative(t *testing.T) {
	_, err := delivery.New(&testSink{}, delivery.WithMaxRetryAfter(-time.Second))
	require.ErrorContains(t, err, "max retry after -1s is negative")
}
