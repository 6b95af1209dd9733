// Package memsink provides a [stagetrace.Sink] that keeps every record in
// memory, for tests and examples.
//
// A Sink records the spans and events of each batch in the order it
// receives them and hands out copies through its accessors, so a test can
// inspect what an exporter produced:
//
//	sink := memsink.New()
//	// ... configure an exporter with sink, run, flush ...
//	for _, s := range sink.SpansOfRun("run-1") {
//		fmt.Println(s.Stage, s.Name)
//	}
//
// Memory is never released except by [Sink.Reset]; do not use it in
// long-running programs.
package memsink

import (
	"context"
	"slices"
	"sync"

	"github.com/stagetrace/stagetrace"
)

var (
	_ stagetrace.Sink    = (*Sink)(nil)
	_ stagetrace.Flusher = (*Sink)(nil)
)

// Sink is an in-memory [stagetrace.Sink]. It is safe for concurrent use.
// The zero value is not usable; call [New].
type Sink struct {
	mu      sync.Mutex
	spans   []stagetrace.StageSpan
	events  []stagetrace.TraceEvent
	batches int
	runs    []string
	seen    map[string]struct{}
	closed  bool
}

// New returns an empty, open Sink.
func New() *Sink {
	return &Sink{seen: make(map[string]struct{})}
}

// Write records copies of the spans and events of b. Empty batches are
// counted too.
// It returns [stagetrace.ErrClosed] after [Sink.Shutdown].
func (s *Sink) Write(_ context.Context, b stagetrace.Batch) error {
	// The caller may reuse b's arrays once Write returns: the copy is made
	// before taking the lock, which the readers take too.
	b = b.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return stagetrace.ErrClosed
	}
	s.batches++
	s.spans = append(s.spans, b.Spans...)
	s.events = append(s.events, b.Events...)
	for i := range b.Spans {
		s.addRun(b.Spans[i].RunID)
	}
	for i := range b.Events {
		s.addRun(b.Events[i].RunID)
	}
	return nil
}

func (s *Sink) addRun(id string) {
	if _, ok := s.seen[id]; ok {
		return
	}
	s.seen[id] = struct{}{}
	s.runs = append(s.runs, id)
}

// ForceFlush does nothing: every record is visible as soon as Write
// returns.
func (s *Sink) ForceFlush(context.Context) error { return nil }

// Shutdown makes later calls to Write fail. The records already written stay
// readable. Calling it more than once is harmless.
func (s *Sink) Shutdown(context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Spans returns a copy of every span written, in the order written.
func (s *Sink) Spans() []stagetrace.StageSpan {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.spans)
}

// Events returns a copy of every event written, in the order written.
func (s *Sink) Events() []stagetrace.TraceEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Batches returns the number of successful Write calls, empty batches
// included.
func (s *Sink) Batches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches
}

// Runs returns the distinct run ids of the spans and events written, in the
// order they were first seen (within a batch, spans before events).
func (s *Sink) Runs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.runs)
}

// SpansOfRun returns a copy of the spans of run runID, in the order written.
func (s *Sink) SpansOfRun(runID string) []stagetrace.StageSpan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stagetrace.StageSpan
	for i := range s.spans {
		if s.spans[i].RunID == runID {
			out = append(out, s.spans[i])
		}
	}
	return out
}

// EventsOfRun returns a copy of the events of run runID, in the order
// written.
func (s *Sink) EventsOfRun(runID string) []stagetrace.TraceEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stagetrace.TraceEvent
	for i := range s.events {
		if s.events[i].RunID == runID {
			out = append(out, s.events[i])
		}
	}
	return out
}

// Reset forgets every record, batch and run written so far. It does not
// reopen a sink that was shut down.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = nil
	s.events = nil
	s.batches = 0
	s.runs = nil
	s.seen = make(map[string]struct{})
}
