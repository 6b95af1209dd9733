// Package retention runs a store's expiry on a timer: the loop both SQL
// stores (SQLite and PostgreSQL) start when a TTL is set.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Check returns what is wrong with a store's retention options, in the
// order the options are documented: a negative TTL, an interval that is
// not positive, a chunk (runs deleted per transaction) not between 1 and
// maxChunk.
func Check(ttl, interval time.Duration, chunk, maxChunk int) []error {
	var errs []error
	if ttl < 0 {
		errs = append(errs, fmt.Errorf("negative TTL %v", ttl))
	}
	if interval <= 0 {
		errs = append(errs, fmt.Errorf("retention interval %v is not positive", interval))
	}
	if chunk <= 0 || chunk > maxChunk {
		errs = append(errs, fmt.Errorf("retention chunk %d is not between 1 and %d", chunk, maxChunk))
	}
	return errs
}

// Loop calls expire every interval until ctx is done, and logs what each
// call did: a failure as a warning (unless ctx ended it, which is the
// store shutting down), deleted runs at debug level. store names the
// store in the messages ("sqlite", "postgres"); attrs, key-value pairs
// naming the database, are added to each.
func Loop(ctx context.Context, interval time.Duration, expire func(context.Context) (int, error), logger *slog.Logger, store string, attrs ...any) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := expire(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				logger.Warn("stagetrace "+store+" store: retention failed", append(attrs, "deleted_runs", n, "error", err)...)
			case n > 0:
				logger.Debug("stagetrace "+store+" store: expired runs", append(attrs, "deleted_runs", n)...)
			}
		}
	}
}
