package sinktest

import (
	"context"
	"sync"
	"unsafe"

	"github.com/stagetrace/stagetrace"
)

// Arrays is a sink that keeps, of each batch written to it, only where
// the batch's arrays are: what tells whether a writer maps each batch
// into the arrays of the last one, as the Sink contract lets it, without
// keeping any batch alive.
type Arrays struct {
	mu     sync.Mutex
	writes []BatchArrays
}

// BatchArrays is where the arrays of one batch were: the address of its
// first span, of its first event and of its first attribute (of its first
// span, else of its first event); 0 for an empty one.
type BatchArrays struct {
	Spans, Events, Attrs uintptr
}

var _ stagetrace.Sink = (*Arrays)(nil)

// Write notes where b's arrays are.
func (a *Arrays) Write(_ context.Context, b stagetrace.Batch) error {
	var w BatchArrays
	if len(b.Spans) > 0 {
		w.Spans = uintptr(unsafe.Pointer(&b.Spans[0]))
		if len(b.Spans[0].Attrs) > 0 {
			w.Attrs = uintptr(unsafe.Pointer(&b.Spans[0].Attrs[0]))
		}
	}
	if len(b.Events) > 0 {
		w.Events = uintptr(unsafe.Pointer(&b.Events[0]))
		if w.Attrs == 0 && len(b.Events[0].Attrs) > 0 {
			w.Attrs = uintptr(unsafe.Pointer(&b.Events[0].Attrs[0]))
		}
	}
	a.mu.Lock()
	a.writes = append(a.writes, w)
	a.mu.Unlock()
	return nil
}

// Shutdown does nothing.
func (a *Arrays) Shutdown(context.Context) error { return nil }

// Writes returns where the arrays of each batch written were, in order.
func (a *Arrays) Writes() []BatchArrays {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]BatchArrays(nil), a.writes...)
}
