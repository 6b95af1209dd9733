package sinktest

import (
	"context"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
)

// Arrays is a sink that notes, of each batch written to it, where the
// batch's arrays are: what tells whether a writer maps each batch into the
// arrays of the last one, as the Sink contract lets it. It keeps those
// arrays alive, reading nothing in them: an array the writer dropped could
// otherwise be collected and its memory handed out again for the next
// batch, which would then look like one mapped into the arrays of the last.
type Arrays struct {
	mu     sync.Mutex
	writes []BatchArrays
	keep   []unsafe.Pointer
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
	var spans, events, attrs unsafe.Pointer
	if len(b.Spans) > 0 {
		spans = unsafe.Pointer(&b.Spans[0])
		if len(b.Spans[0].Attrs) > 0 {
			attrs = unsafe.Pointer(&b.Spans[0].Attrs[0])
		}
	}
	if len(b.Events) > 0 {
		events = unsafe.Pointer(&b.Events[0])
		if attrs == nil && len(b.Events[0].Attrs) > 0 {
			attrs = unsafe.Pointer(&b.Events[0].Attrs[0])
		}
	}
	w := BatchArrays{Spans: uintptr(spans), Events: uintptr(events), Attrs: uintptr(attrs)}
	a.mu.Lock()
	a.writes = append(a.writes, w)
	for _, p := range [...]unsafe.Pointer{spans, events, attrs} {
		if p != nil {
			a.keep = append(a.keep, p)
		}
	}
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

// CheckReused checks that writes batches were written, each with events
// and attributes, and each into the arrays of the first.
func (a *Arrays) CheckReused(t testing.TB, writes int) {
	t.Helper()
	got := a.Writes()
	require.Len(t, got, writes)
	require.NotZero(t, got[0].Events, "the batches have events")
	require.NotZero(t, got[0].Attrs, "the batches have attributes")
	for i, w := range got {
		assert.Equal(t, got[0], w, "write %d is mapped into the first write's arrays", i)
	}
}
