package monitor

import (
	"context"
	"fmt"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor/alert"
)

// dispatchItem is an alert to deliver, or a flush marker.
type dispatchItem struct {
	alert   alert.Alert
	flushed chan struct{}
}

// dispatch delivers queued alerts to the handlers and forward sinks, in
// order, until the queue is closed.
func (m *Monitor) dispatch() {
	defer close(m.dispatchDone)
	ctx := m.dispatchCtx
	for it := range m.queue {
		if it.flushed != nil {
			close(it.flushed)
			continue
		}
		m.dispatchAlert(ctx, it.alert)
		m.mu.Lock()
		m.undelivered--
		m.mu.Unlock()
	}
}

// dispatchAlert delivers a to the handlers and forward sinks, unless ctx
// is done: past Shutdown's deadline what is left is dropped.
func (m *Monitor) dispatchAlert(ctx context.Context, a alert.Alert) {
	if ctx.Err() != nil {
		return
	}
	for _, h := range m.cfg.handlers {
		if err := callHandler(ctx, h, a); err != nil {
			m.handlerError("monitor: alert handler failed", a, err)
		}
	}
	if len(m.cfg.forward) == 0 {
		return
	}
	b := stagetrace.Batch{Events: []stagetrace.TraceEvent{a.Event()}}
	for i, s := range m.cfg.forward {
		if err := s.Write(ctx, b); err != nil {
			m.handlerError(fmt.Sprintf("monitor: forward sink %d (%T) failed", i, s), a, err)
		}
	}
}

// callHandler calls h, turning a panic into an error: a handler's bug must
// not take the program down from the monitor's goroutine.
func callHandler(ctx context.Context, h alert.Handler, a alert.Alert) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return h.HandleAlert(ctx, a)
}

func (m *Monitor) handlerError(msg string, a alert.Alert, err error) {
	m.mu.Lock()
	m.health.HandlerErrors++
	m.mu.Unlock()
	m.cfg.logger.Error(msg, "alert", a.Name, "state", string(a.State), "error", err)
}
