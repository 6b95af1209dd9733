package exporter

import (
	"context"
	"sync/atomic"

	"github.com/stagetrace/stagetrace"
)

// Reuse keeps what an exporter's last export was mapped into, T (a
// mapping.Batcher with the batch's arrays, and whatever else the mapping
// of one export reuses), so that the next export, and each part of a
// large one, maps into the same arrays rather than allocating (and later
// collecting) a batch's worth of them. Sinks borrow their batch
// (stagetrace.Sink), so its arrays are free again once every sink's
// Write returned; a sink abandoned at its timeout may still read its
// batch, whose arrays are then left to it. The SDK exporter and the
// collector exporter both reuse through it.
//
// The zero Reuse is ready to use and safe for concurrent use: concurrent
// exports never share a T, the one that finds none kept makes its own.
type Reuse[T any] struct {
	spare atomic.Pointer[T]
}

// Take returns the T kept by the last export, or a new one (new(T)) when
// none is kept. The T is the caller's until it gives it back with Keep.
func (r *Reuse[T]) Take() *T {
	if st := r.spare.Swap(nil); st != nil {
		return st
	}
	return new(T)
}

// Write writes b, mapped into *st, to every sink of f. When a sink was
// abandoned with b (Fanout.WriteReleased), *st is replaced by a new T:
// the arrays b was mapped into are that sink's from then on, and the next
// part or export maps into the new T.
func (r *Reuse[T]) Write(ctx context.Context, f *Fanout, st **T, b stagetrace.Batch) error {
	released, err := f.WriteReleased(ctx, b)
	if !released {
		*st = new(T)
	}
	return err
}

// Keep keeps st, taken with Take, for the next export. Call it once every
// batch mapped into st was written with Write, or never handed to a sink.
func (r *Reuse[T]) Keep(st *T) { r.spare.Store(st) }

// Drop forgets the T kept, so that its arrays can be collected (at
// Shutdown, when no export follows).
func (r *Reuse[T]) Drop() { r.spare.Store(nil) }
