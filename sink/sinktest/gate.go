package sinktest

import (
	"context"
	"sync"
	"testing"
)

// Gate is a ready-made [Harness.Stall]: a test server's handler or a
// wrapped sink calls Wait before answering, and Stall makes Wait hold
// until released or cancelled. The zero Gate lets everything through.
type Gate struct {
	mu      sync.Mutex
	hold    chan struct{} // closed to let writes through again; nil when open
	stalled chan struct{} // closed once Wait holds a write
	once    sync.Once
}

// Stall closes the gate; it is a [Harness.Stall].
func (g *Gate) Stall(*testing.T) (stalled <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold, g.stalled = make(chan struct{}), make(chan struct{})
	hold := g.hold
	return g.stalled, func() { close(hold) }
}

// Wait returns at once while the gate is open. Once Stall has closed it,
// Wait holds until release is called, returning nil, or until ctx is
// done, returning ctx's error.
func (g *Gate) Wait(ctx context.Context) error {
	g.mu.Lock()
	hold, stalled := g.hold, g.stalled
	g.mu.Unlock()
	if hold == nil {
		return nil
	}
	g.once.Do(func() { close(stalled) })
	select {
	case <-hold:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
