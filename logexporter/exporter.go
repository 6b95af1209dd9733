package logexporter

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/mapping"
)

// Exporter is an sdklog.Exporter writing each log record as a log event
// to sinks. Register it behind an sdklog.BatchProcessor, after
// NewProcessor. It is safe for concurrent use.
type Exporter struct {
	cfg   config
	sinks *exporter.Fanout
	owned bool // sinks were made from WithSinks: Shutdown shuts them down

	// attrsPerRecord sizes the next batch's attribute array from the last.
	attrsPerRecord atomic.Int64
	// arrays keeps the batcher of the last export whose batch every sink
	// released: the next export maps into its arrays rather than
	// allocating (and later collecting) a batch's worth of them.
	arrays exporter.Reuse[logState]

	stopped  atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

var (
	_ sdklog.Exporter    = (*Exporter)(nil)
	_ stagetrace.Flusher = (*Exporter)(nil)
)

// New returns an Exporter writing to the sinks of WithSinks or through
// the fan-out of WithFanout; exactly one of the two is required.
func New(opts ...Option) (*Exporter, error) {
	var cfg config
	for _, o := range opts {
		cfg = o.apply(cfg)
	}
	e := &Exporter{cfg: cfg}
	e.attrsPerRecord.Store(4)
	switch {
	case cfg.fanout != nil && len(cfg.sinks) > 0:
		return nil, errors.New("stagetrace log exporter: WithSinks and WithFanout given: use one")
	case cfg.fanout != nil:
		e.sinks = cfg.fanout
	case len(cfg.sinks) == 0:
		return nil, errors.New("stagetrace log exporter: no sink: use logexporter.WithSinks or WithFanout")
	default:
		fan, err := exporter.NewFanout(cfg.sinkTimeout, cfg.sinks...)
		if err != nil {
			return nil, err
		}
		e.sinks, e.owned = fan, true
	}
	return e, nil
}

// Export maps records into log events and writes them to every sink. A
// failing sink does not stop the others: their errors are joined. After
// Shutdown it returns sdklog.ErrExporterShutdown.
func (e *Exporter) Export(ctx context.Context, records []sdklog.Record) error {
	if e.stopped.Load() {
		return sdklog.ErrExporterShutdown
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(records) == 0 {
		return nil
	}
	st := e.arrays.Take()
	batch := e.mapInto(st, records)
	if e.cfg.redactor != nil {
		e.cfg.redactor.Batch(&batch)
	}
	// A sink abandoned at its timeout keeps the batch's arrays: Write
	// then gives st new ones.
	err := e.arrays.Write(ctx, e.sinks, &st, batch)
	e.arrays.Keep(st)
	return err
}

// logState is what one export maps its records into, kept for the next
// (exporter.Reuse): the batcher with its arrays, and the one view of
// every record (a view per export would be boxed into the mapping's
// interface, an allocation per export).
type logState struct {
	batcher *mapping.Batcher
	view    mapping.SDKLog
}

// Map maps records into a batch of log events without writing it
// anywhere. The batch shares nothing with records.
func (e *Exporter) Map(records []sdklog.Record) stagetrace.Batch {
	return e.mapInto(new(logState), records)
}

// mapInto maps records into st's arrays, overwriting the batch mapped
// there before, and returns the batch.
func (e *Exporter) mapInto(st *logState, records []sdklog.Record) stagetrace.Batch {
	b := mapping.ReuseLogBatcher(st.batcher, len(records), int(e.attrsPerRecord.Load()))
	st.batcher = b
	for i := range records {
		st.view.Record = &records[i]
		b.AddLog(&st.view)
	}
	st.view.Record = nil // keeps no record of the export alive
	// The mean rounded up: a batch like the last fits its array exactly,
	// which matters as much as the batch's events to the garbage
	// collector; a batch with more attributes grows it once.
	if n := b.AttrCount(); n > 0 {
		e.attrsPerRecord.Store(int64((n + len(records) - 1) / len(records)))
	}
	return b.Batch()
}

// ForceFlush flushes every sink that buffers. It does nothing after
// Shutdown.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if e.stopped.Load() {
		return nil
	}
	return e.sinks.ForceFlush(ctx)
}

// Shutdown stops the exporter. Sinks of WithSinks are shut down, each
// flushing what it holds; a fan-out of WithFanout is flushed and left to
// its owner. It returns by ctx's deadline, with an error naming any sink
// that had not finished. Calls after the first return the first call's
// result.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.stopOnce.Do(func() {
		e.stopped.Store(true)
		e.arrays.Drop() // the arrays of the last batch are of no more use
		if e.owned {
			e.stopErr = e.sinks.Shutdown(ctx)
			return
		}
		e.stopErr = e.sinks.ForceFlush(ctx)
	})
	return e.stopErr
}
