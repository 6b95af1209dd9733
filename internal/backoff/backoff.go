// Package backoff is the one retry schedule of stagetrace: exponential
// backoff with full jitter, as the HTTP sink, the delivery queue and the
// monitor's webhook retry with it. Full jitter (each wait drawn anywhere
// between zero and the ceiling) spreads out the retries of many clients
// that failed together, so that they do not come back in step.
package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// Backoff draws the waits between the attempts of one operation. The n-th
// wait is drawn uniformly from [0, min(max, initial·2ⁿ⁻¹)]. A Backoff is
// not safe for concurrent use: each retry loop has its own.
type Backoff struct {
	ceiling time.Duration // of the next wait
	limit   time.Duration
}

// New returns the schedule of one operation: waits up to initial first,
// doubling up to limit. A negative initial counts as zero, and a limit below
// initial as initial.
func New(initial, limit time.Duration) Backoff {
	initial = max(initial, 0)
	return Backoff{ceiling: initial, limit: max(limit, initial)}
}

// Next returns the wait before the next attempt and doubles the ceiling of
// the one after, up to the maximum.
func (b *Backoff) Next() time.Duration {
	wait := rand.N(min(b.ceiling, math.MaxInt64-1) + 1)
	if b.ceiling > b.limit/2 {
		b.ceiling = b.limit // doubling would pass it, or overflow
	} else {
		b.ceiling *= 2
	}
	return wait
}

// Sleep waits d, or until ctx is done, and returns ctx's error in that
// case; with d zero or negative it returns at once, ctx's error if it is
// done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
