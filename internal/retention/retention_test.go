package retention

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/internal/syncbuf"
)

func TestLoopExpiresLogsAndStops(t *testing.T) {
	var out syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var calls atomic.Int32
	expire := func(context.Context) (int, error) {
		switch calls.Add(1) {
		case 1:
			return 3, nil
		case 2:
			return 1, errors.New("disk full")
		default:
			return 0, nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Loop(ctx, time.Millisecond, expire, logger, "sqlite", "path", "runs.db")
	}()
	require.Eventually(t, func() bool { return calls.Load() >= 3 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Loop did not return after its context ended")
	}
	log := out.String()
	assert.Contains(t, log, `level=DEBUG msg="stagetrace sqlite store: expired runs" path=runs.db deleted_runs=3`)
	assert.Contains(t, log, `level=WARN msg="stagetrace sqlite store: retention failed" path=runs.db deleted_runs=1 error="disk full"`)
	assert.NotContains(t, log, "deleted_runs=0", "a call that deleted nothing is not logged")
}

func TestLoopQuietWhenShutdownEndsExpire(t *testing.T) {
	var out syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	expire := func(ctx context.Context) (int, error) {
		cancel() // the store shuts down while an expiry runs
		<-ctx.Done()
		return 0, ctx.Err()
	}
	Loop(ctx, time.Millisecond, expire, logger, "postgres", "db", "stagetrace")
	assert.Empty(t, out.String(), "an expiry ended by shutdown is not a failure")
}

func TestCheck(t *testing.T) {
	assert.Empty(t, Check(0, time.Minute, 500, 10000))
	assert.Empty(t, Check(time.Hour, time.Second, 10000, 10000))
	errs := Check(-time.Second, 0, 10001, 10000)
	require.Len(t, errs, 3)
	assert.EqualError(t, errs[0], "negative TTL -1s")
	assert.EqualError(t, errs[1], "retention interval 0s is not positive")
	assert.EqualError(t, errs[2], "retention chunk 10001 is not between 1 and 10000")
	assert.Len(t, Check(0, time.Minute, 0, 10000), 1)
}
