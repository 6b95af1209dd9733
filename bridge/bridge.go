// Package bridge records the measurements of code that measures without
// spans (a metric computed at the end of a job, a stage timed with a
// stopwatch) as spans of one run, so that they flow through the same
// processor, exporter and sinks as every other span.
package bridge

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
)

// Bridge records measurements of code that measures without spans: a
// metric computed at the end of a job, a stage timed with a stopwatch. It
// emits them through an OpenTelemetry tracer, bound to one run, so they flow
// through the same processor, exporter and sinks as every other span.
// A Bridge is safe for concurrent use.
type Bridge struct {
	tracer trace.Tracer
	runID  string
	parent context.Context
	known  map[string]bool
	now    func() time.Time

	mu      sync.Mutex
	emitted map[string]bool
}

// Option configures a Bridge.
type Option func(*Bridge)

// WithParent makes the bridge's spans children of the span in ctx
// (and gives them what else ctx carries, such as baggage).
func WithParent(ctx context.Context) Option {
	return func(b *Bridge) { b.parent = ctx }
}

// WithKnownMetrics limits Backfill to these metric names. By default every
// name in a snapshot is known.
func WithKnownMetrics(names ...string) Option {
	return func(b *Bridge) {
		b.known = make(map[string]bool, len(names))
		for _, n := range names {
			b.known[n] = true
		}
	}
}

// WithClock sets the clock the bridge reads; tests use it.
func WithClock(now func() time.Time) Option {
	return func(b *Bridge) { b.now = now }
}

// Span names of the spans a Bridge emits.
const (
	MetricSpanName = "stagetrace.custom_metric"
)

// New returns a Bridge that emits spans with tracer, all in run runID.
func New(tracer trace.Tracer, runID string, opts ...Option) *Bridge {
	b := &Bridge{
		tracer:  tracer,
		runID:   runID,
		parent:  context.Background(),
		now:     time.Now,
		emitted: make(map[string]bool),
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// RunID returns the run the bridge records into.
func (b *Bridge) RunID() string { return b.runID }

// CustomMetric records one metric as a span holding a metric event named
// key with value.
func (b *Bridge) CustomMetric(key string, value float64) {
	b.customMetric(key, value)
	b.mu.Lock()
	b.emitted[key] = true
	b.mu.Unlock()
}

func (b *Bridge) customMetric(key string, value float64) {
	now := b.now()
	_, span := b.tracer.Start(b.parent, MetricSpanName,
		trace.WithTimestamp(now),
		trace.WithAttributes(attributes.Run(b.runID)),
	)
	attributes.RecordMetric(span, key, value, "", attribute.String(string(attributes.MetricSource), "bridge"))
	span.End(trace.WithTimestamp(now))
}

// StageSpan records that stage took elapsed, ending now, as a span named
// after the stage with run.stage set.
func (b *Bridge) StageSpan(stage string, elapsed time.Duration) {
	end := b.now()
	_, span := b.tracer.Start(b.parent, stage,
		trace.WithTimestamp(end.Add(-elapsed)),
		trace.WithAttributes(attributes.Run(b.runID), attributes.Stage(stage)),
	)
	span.End(trace.WithTimestamp(end))
}

// Backfill records, from a probe's snapshot of metric values, each known
// metric that CustomMetric has not already recorded, in name order, and
// returns how many it recorded. NaN values are skipped: a probe reports
// NaN for what it did not measure.
func (b *Bridge) Backfill(snapshot map[string]float64) int {
	names := make([]string, 0, len(snapshot))
	b.mu.Lock()
	for name, v := range snapshot {
		if b.emitted[name] || math.IsNaN(v) || (b.known != nil && !b.known[name]) {
			continue
		}
		b.emitted[name] = true
		names = append(names, name)
	}
	b.mu.Unlock()
	sort.Strings(names)
	for _, name := range names {
		b.customMetric(name, snapshot[name])
	}
	return len(names)
}
