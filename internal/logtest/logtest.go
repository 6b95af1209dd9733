// Package logtest holds a log processor for tests that need log records
// as the SDK hands them to an exporter.
package logtest

import (
	"context"
	"slices"
	"sync"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Recorder is a log processor keeping a clone of every record, as the
// SDK's batch processor hands them to an exporter.
type Recorder struct {
	mu      sync.Mutex
	records []sdklog.Record
}

var _ sdklog.Processor = (*Recorder)(nil)

// OnEmit keeps a clone of r.
func (k *Recorder) OnEmit(_ context.Context, r *sdklog.Record) error {
	k.mu.Lock()
	k.records = append(k.records, r.Clone())
	k.mu.Unlock()
	return nil
}

// Records returns the records kept so far, in the order they were emitted.
func (k *Recorder) Records() []sdklog.Record {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.records) // later emits append to k.records
}

// Enabled reports true: every record is kept.
func (k *Recorder) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// Shutdown does nothing.
func (k *Recorder) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (k *Recorder) ForceFlush(context.Context) error { return nil }
