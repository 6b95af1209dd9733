package delivery

import (
	"log/slog"
	"sync"
	"time"
)

// warner logs warnings at most once per interval. Each warning says how
// many were held back since the previous one; the counters in Stats say
// the rest.
type warner struct {
	logger   *slog.Logger
	interval time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// warn logs msg unless another warning was logged less than an interval
// ago. attrs are evaluated by the caller, so keep them cheap.
func (w *warner) warn(msg string, attrs ...any) {
	w.mu.Lock()
	now := time.Now()
	if !w.last.IsZero() && now.Sub(w.last) < w.interval {
		w.suppressed++
		w.mu.Unlock()
		return
	}
	held := w.suppressed
	w.last, w.suppressed = now, 0
	w.mu.Unlock()
	if held > 0 {
		attrs = append(attrs, "held_back", held)
	}
	w.logger.Warn(msg, attrs...)
}

// heldBack returns and resets the number of warnings not logged.
func (w *warner) heldBack() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.suppressed
	w.suppressed = 0
	return n
}
