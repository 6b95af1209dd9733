// Package exporter provides an OpenTelemetry SDK SpanExporter that maps
// ended spans and their events into stagetrace records and writes them to
// sinks.
//
// Register it behind a BatchSpanProcessor so that sinks never block the
// instrumented application:
//
//	exp, err := exporter.New(exporter.WithSinks(sink))
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(processor.New()),
//		sdktrace.WithBatcher(exp),
//	)
package exporter

import (
	"context"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/otelconv"
	"github.com/stagetrace/stagetrace/redact"
)

// ErrShutdown is returned by ExportSpans after Shutdown.
var ErrShutdown = errors.New("stagetrace exporter: shut down")

// Exporter is an sdktrace.SpanExporter writing stagetrace records to sinks.
// It is a mapping.Mapper, which maps each span once, followed by a Fanout,
// which writes the batch to every sink at once: the collector exporter is
// made of the same two.
type Exporter struct {
	cfg       config
	mapper    *mapping.Mapper
	resources mapping.ResourceCache[*resource.Resource]
	sinks     *Fanout
	stopped   atomic.Bool
	// arrays is what the last export mapped into, once every sink
	// released its batch: the next export maps into the same arrays.
	arrays Reuse[mapState]
}

// mapState is what one export maps into: the batcher with its arrays, the
// slab of the string slices' headers, and the reader giving the view of
// every span.
type mapState struct {
	batcher *mapping.Batcher
	slab    otelconv.Slab
	spans   mapping.SDKSpanReader
}

var (
	_ sdktrace.SpanExporter = (*Exporter)(nil)
	_ stagetrace.Flusher    = (*Exporter)(nil)
)

// New returns an Exporter writing to the sinks given with WithSinks.
func New(opts ...Option) (*Exporter, error) {
	var cfg config
	for _, o := range opts {
		cfg = o.apply(cfg)
	}
	if len(cfg.sinks) == 0 {
		return nil, errors.New("stagetrace exporter: no sink: use exporter.WithSinks")
	}
	if cfg.rulesSet && cfg.rules == nil {
		return nil, errors.New("stagetrace exporter: WithRules given a nil set")
	}
	fan, err := NewFanout(cfg.sinkTimeout, cfg.sinks...)
	if err != nil {
		return nil, err
	}
	mopts := mapping.Options{StageEvents: cfg.stageEvents, EvaluationEvents: cfg.evaluationEvents}
	if cfg.rules != nil {
		// Only a non-nil set: a nil *rules.Set in the interface would not
		// compare equal to nil.
		mopts.Enrich = cfg.rules
	}
	return &Exporter{cfg: cfg, mapper: mapping.NewMapper(mopts), sinks: fan}, nil
}

// MaxWriteSpans is the most spans ExportSpans hands a sink in one Write,
// the BatchSpanProcessor's default batch size. A larger export is mapped
// and written in parts of this size, in order, so that what one part
// touches (the spans, the mapped batch, the sink's encoding of it) stays in
// the CPU's caches: per span, a large export then costs what a small one
// does (BENCHMARKS.md, the growth figure).
const MaxWriteSpans = 512

// ExportSpans maps spans and their events and writes them to every sink,
// in parts of at most MaxWriteSpans spans, each with the events of its
// spans. A failing sink does not stop the others, nor the later parts:
// the errors are joined.
func (e *Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.stopped.Load() {
		return ErrShutdown
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st := e.arrays.Take()
	var errs error
	for len(spans) > 0 {
		n := min(len(spans), MaxWriteSpans)
		batch := e.mapInto(st, spans[:n])
		spans = spans[n:]
		if e.cfg.redactor != nil {
			e.cfg.redactor.Batch(&batch)
		}
		// A sink abandoned at its timeout may still read the batch: its
		// arrays are then left to it, and st is new.
		if err := e.arrays.Write(ctx, e.sinks, &st, batch); err != nil {
			errs = errors.Join(errs, err)
		}
	}
	// No sink holds the last batch (they copy what they keep): its arrays
	// serve the next export.
	e.arrays.Keep(st)
	return errs
}

// Map maps spans into a batch without writing it anywhere.
func (e *Exporter) Map(spans []sdktrace.ReadOnlySpan) stagetrace.Batch {
	return e.mapInto(new(mapState), spans)
}

// mapInto maps spans into st's arrays, overwriting the batch mapped there
// before, and returns the batch.
func (e *Exporter) mapInto(st *mapState, spans []sdktrace.ReadOnlySpan) stagetrace.Batch {
	st.batcher = e.mapper.Reuse(st.batcher, len(spans))
	st.slab.Reuse()
	st.spans.Slab = &st.slab
	var lastRes *resource.Resource
	var res *stagetrace.Resource
	for _, s := range spans {
		if r := s.Resource(); r != lastRes || res == nil {
			lastRes, res = r, e.resource(r)
		}
		st.batcher.Add(st.spans.View(s), res)
	}
	st.spans.View(nil) // keeps no span of the export alive
	return e.mapper.Finish(st.batcher, len(spans))
}

// resource returns the model resource of r, converted once per resource.
func (e *Exporter) resource(r *resource.Resource) *stagetrace.Resource {
	if r == nil {
		return nil
	}
	return e.resources.Get(r, func() *stagetrace.Resource {
		return &stagetrace.Resource{Attrs: otelconv.AppendKeyValues(nil, r.Attributes())}
	})
}

// Fanout returns the fan-out the exporter writes through, so that another
// exporter (the log exporter, logexporter.WithFanout) writes to the same
// sinks. The Exporter keeps owning it: its Shutdown shuts the sinks down.
func (e *Exporter) Fanout() *Fanout { return e.sinks }

// Redactor returns the redactor of WithRedactor, or nil, so that records
// written beside the spans (log events) are masked alike.
func (e *Exporter) Redactor() *redact.Redactor { return e.cfg.redactor }

// ForceFlush flushes every sink that buffers (implements stagetrace.Flusher).
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if e.stopped.Load() {
		return nil
	}
	return e.sinks.ForceFlush(ctx)
}

// Shutdown shuts every sink down, each flushing what it holds, and returns
// by ctx's deadline with an error naming any sink that had not finished.
// Calls after the first return the first call's result.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.stopped.Store(true)
	e.arrays.Drop() // the arrays of the last batch are of no more use
	return e.sinks.Shutdown(ctx)
}
