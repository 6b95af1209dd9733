package sinktest

import (
	"context"

	"github.com/stagetrace/stagetrace"
)

// Discard is a sink that accepts every batch and keeps nothing: what a
// pipeline costs without a sink's own work.
type Discard struct{}

var _ stagetrace.Sink = Discard{}

// Write accepts b and keeps nothing of it.
func (Discard) Write(context.Context, stagetrace.Batch) error { return nil }

// Shutdown does nothing.
func (Discard) Shutdown(context.Context) error { return nil }
