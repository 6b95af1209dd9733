package backoff

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNextDoublesUpToTheLimit(t *testing.T) {
	cases := []struct {
		name           string
		initial, limit time.Duration
		ceilings       []time.Duration
	}{
		{"doubling", 100 * time.Millisecond, time.Second,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}},
		{"limit below initial", time.Second, time.Millisecond, []time.Duration{time.Second, time.Second}},
		{"zero", 0, time.Second, []time.Duration{0, 0, 0}},
		{"negative", -time.Second, time.Second, []time.Duration{0, 0}},
		{"no overflow", math.MaxInt64 / 3, math.MaxInt64, []time.Duration{math.MaxInt64 / 3, math.MaxInt64 / 3 * 2, math.MaxInt64, math.MaxInt64}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := New(c.initial, c.limit)
			for i, ceiling := range c.ceilings {
				assert.Equal(t, ceiling, b.ceiling, "ceiling of wait %d", i+1)
				wait := b.Next()
				assert.GreaterOrEqual(t, wait, time.Duration(0), "wait %d", i+1)
				assert.LessOrEqual(t, wait, ceiling, "wait %d", i+1)
			}
		})
	}
}

func TestNextIsJittered(t *testing.T) {
	// Full jitter: waits spread over the whole range, the low half included.
	seen := map[time.Duration]bool{}
	var low bool
	for range 200 {
		b := New(time.Second, time.Second)
		w := b.Next()
		seen[w] = true
		low = low || w < 500*time.Millisecond
	}
	assert.Greater(t, len(seen), 100, "waits should differ")
	assert.True(t, low, "some waits should fall in the lower half")
}

func TestSleep(t *testing.T) {
	start := time.Now()
	require.NoError(t, Sleep(context.Background(), 20*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)

	require.NoError(t, Sleep(context.Background(), 0))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, 0), context.Canceled, "a done context wins over a zero wait")
	start = time.Now()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	assert.Less(t, time.Since(start), time.Second, "returns when ctx is done, not after the wait")
}

func TestSleepReturnsWhenCancelledMidway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second)
}
