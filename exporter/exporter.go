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
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/otelconv"
)

// ErrShutdown is returned by ExportSpans after Shutdown.
var ErrShutdown = errors.New("stagetrace exporter: shut down")

// Exporter is an sdktrace.SpanExporter writing stagetrace records to sinks.
type Exporter struct {
	cfg       config
	resources resourceCache
	// attrsPerSpan remembers how many attributes the last batch had per
	// span, to size the next batch's attribute array in one allocation.
	attrsPerSpan atomic.Int64

	stopped  atomic.Bool
	stopOnce sync.Once
	stopErr  error
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
	for i, s := range cfg.sinks {
		if s == nil {
			return nil, fmt.Errorf("stagetrace exporter: sink %d is nil", i)
		}
	}
	if cfg.sinkTimeout < 0 {
		return nil, fmt.Errorf("stagetrace exporter: negative sink timeout %v", cfg.sinkTimeout)
	}
	if cfg.rulesSet && cfg.rules == nil {
		return nil, errors.New("stagetrace exporter: WithRules given a nil set")
	}
	e := &Exporter{cfg: cfg}
	e.attrsPerSpan.Store(8)
	return e, nil
}

// ExportSpans maps spans and their events and writes them to every sink.
// A failing sink does not stop the others: their errors are joined.
func (e *Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.stopped.Load() {
		return ErrShutdown
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(spans) == 0 {
		return nil
	}
	batch := e.Map(spans)
	if e.cfg.redactor != nil {
		e.cfg.redactor.Batch(&batch)
	}
	return writeAll(ctx, e.cfg.sinks, e.cfg.sinkTimeout, batch)
}

// Map maps spans into a batch without writing it anywhere.
func (e *Exporter) Map(spans []sdktrace.ReadOnlySpan) stagetrace.Batch {
	per := int(e.attrsPerSpan.Load())
	opts := mapping.Options{StageEvents: e.cfg.stageEvents, EvaluationEvents: e.cfg.evaluationEvents}
	if e.cfg.rules != nil {
		// Only a non-nil set: a nil *rules.Set in the interface would not
		// compare equal to nil.
		opts.Enrich = e.cfg.rules
	}
	b := mapping.NewBatcher(opts, len(spans), per)
	var lastRes *resource.Resource
	var res *stagetrace.Resource
	// One view serves the whole batch: a fresh SDKSpan per span would be
	// boxed into the SpanView interface, an allocation per span.
	view := &mapping.SDKSpan{}
	for _, s := range spans {
		if r := s.Resource(); r != lastRes || res == nil {
			lastRes, res = r, e.resources.get(r)
		}
		view.Span = s
		b.Add(view, res)
	}
	if n := b.AttrCount() / len(spans); n > 0 {
		e.attrsPerSpan.Store(int64(n + 1))
	}
	return b.Batch()
}

// ForceFlush flushes every sink that buffers (implements stagetrace.Flusher).
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if e.stopped.Load() {
		return nil
	}
	return eachSink(ctx, e.cfg.sinks, 0, "flush", func(ctx context.Context, s stagetrace.Sink) error {
		if f, ok := s.(stagetrace.Flusher); ok {
			return f.ForceFlush(ctx)
		}
		return nil
	})
}

// Shutdown shuts every sink down, each flushing what it holds, and returns
// by ctx's deadline with an error naming any sink that had not finished.
// Calls after the first return the first call's result.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.stopOnce.Do(func() {
		e.stopped.Store(true)
		e.stopErr = eachSink(ctx, e.cfg.sinks, 0, "shutdown", func(ctx context.Context, s stagetrace.Sink) error {
			return s.Shutdown(ctx)
		})
	})
	return e.stopErr
}

// resourceCache maps SDK resources to model resources so each resource is
// converted, and later encoded, once rather than once per span.
type resourceCache struct {
	mu sync.Mutex
	m  map[*resource.Resource]*stagetrace.Resource
}

// maxResources bounds the cache: a provider has one resource, so many
// distinct ones mean resources are being created per span upstream.
const maxResources = 256

func (c *resourceCache) get(r *resource.Resource) *stagetrace.Resource {
	if r == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if res, ok := c.m[r]; ok {
		return res
	}
	if c.m == nil || len(c.m) >= maxResources {
		c.m = make(map[*resource.Resource]*stagetrace.Resource)
	}
	res := &stagetrace.Resource{Attrs: otelconv.AppendKeyValues(nil, r.Attributes())}
	c.m[r] = res
	return res
}
