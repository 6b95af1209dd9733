// Package monitortest holds what the tests of the monitor and of its
// alert and export packages share: a fake clock, a monitor on it, records
// built in one line, and an alert handler that keeps what it is given.
package monitortest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
)

// T0 is where every fake clock starts: a whole minute, so that buckets
// of a second or a minute start on it.
var T0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Clock is a fake clock tests move by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at T0.
func NewClock() *Clock { return &Clock{now: T0} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// New returns a monitor on clk, with no evaluation ticker, shut down
// when the test ends.
func New(t *testing.T, clk *Clock, opts ...monitor.Option) *monitor.Monitor {
	t.Helper()
	m, err := monitor.New(append([]monitor.Option{monitor.WithClock(clk.Now), monitor.WithEvalInterval(0)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Shutdown(context.Background())) })
	return m
}

// SpanOpt shapes a span built by Span.
type SpanOpt func(*stagetrace.StageSpan)

// Span returns a span of run-1 named name that ended at end after d.
func Span(name string, end time.Time, d time.Duration, opts ...SpanOpt) stagetrace.StageSpan {
	s := stagetrace.StageSpan{RunID: "run-1", Name: name, StartTime: end.Add(-d), EndTime: end, Status: stagetrace.StatusOK}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// InStage puts the span in a stage.
func InStage(stage string) SpanOpt { return func(s *stagetrace.StageSpan) { s.Stage = stage } }

// InRun puts the span in a run.
func InRun(run string) SpanOpt { return func(s *stagetrace.StageSpan) { s.RunID = run } }

// Failed gives the span an error status.
func Failed() SpanOpt { return func(s *stagetrace.StageSpan) { s.Status = stagetrace.StatusError } }

// Finding adds a finding.
func Finding(name string, v stagetrace.Value) SpanOpt {
	return func(s *stagetrace.StageSpan) {
		s.Findings = append(s.Findings, stagetrace.Attr{Key: name, Value: v})
	}
}

// Attr adds an attribute.
func Attr(key string, v stagetrace.Value) SpanOpt {
	return func(s *stagetrace.StageSpan) {
		s.Attrs = append(s.Attrs, stagetrace.Attr{Key: key, Value: v})
	}
}

// Tokens gives a span the findings of a model call.
func Tokens(model string, in, out int64) SpanOpt {
	return func(s *stagetrace.StageSpan) {
		s.Findings = append(s.Findings,
			stagetrace.Attr{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(in)},
			stagetrace.Attr{Key: attributes.FindingOutputTokens, Value: stagetrace.Int64Value(out)},
			stagetrace.Attr{Key: attributes.FindingModel, Value: stagetrace.StringValue(model)},
		)
	}
}

// Cost gives a span a cost finding in USD.
func Cost(c float64) SpanOpt {
	return func(s *stagetrace.StageSpan) {
		s.Findings = append(s.Findings,
			stagetrace.Attr{Key: attributes.FindingCost, Value: stagetrace.Float64Value(c)},
			stagetrace.Attr{Key: attributes.FindingCostCurrency, Value: stagetrace.StringValue("USD")},
		)
	}
}

// MetricEvent returns a metric event of run-1 at t.
func MetricEvent(name string, v stagetrace.Value, unit string, t time.Time) stagetrace.TraceEvent {
	attrs := stagetrace.Attrs{
		{Key: string(attributes.MetricName), Value: stagetrace.StringValue(name)},
		{Key: string(attributes.MetricValue), Value: v},
	}
	if unit != "" {
		attrs = append(attrs, stagetrace.Attr{Key: string(attributes.MetricUnit), Value: stagetrace.StringValue(unit)})
	}
	return stagetrace.TraceEvent{Name: attributes.EventMetric, RunID: "run-1", Time: t, Attrs: attrs}
}

// Write writes spans to m.
func Write(t *testing.T, m *monitor.Monitor, spans ...stagetrace.StageSpan) {
	t.Helper()
	require.NoError(t, m.Write(context.Background(), stagetrace.Batch{Spans: spans}))
}

// WriteEvents writes events to m.
func WriteEvents(t *testing.T, m *monitor.Monitor, events ...stagetrace.TraceEvent) {
	t.Helper()
	require.NoError(t, m.Write(context.Background(), stagetrace.Batch{Events: events}))
}

// Collector is an alert handler keeping what it is given; C receives
// each alert too, while it has room.
type Collector struct {
	mu     sync.Mutex
	alerts []alert.Alert
	C      chan alert.Alert
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector { return &Collector{C: make(chan alert.Alert, 64)} }

// HandleAlert keeps a.
func (c *Collector) HandleAlert(_ context.Context, a alert.Alert) error {
	c.mu.Lock()
	c.alerts = append(c.alerts, a)
	c.mu.Unlock()
	select {
	case c.C <- a:
	default:
	}
	return nil
}

// Got returns the alerts handled so far.
func (c *Collector) Got() []alert.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]alert.Alert(nil), c.alerts...)
}

// States returns "name:state" of each alert, in order.
func States(alerts []alert.Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.Name+":"+string(a.State))
	}
	return out
}

// I64 is stagetrace.Int64Value.
func I64(v int64) stagetrace.Value { return stagetrace.Int64Value(v) }

// F64 is stagetrace.Float64Value.
func F64(v float64) stagetrace.Value { return stagetrace.Float64Value(v) }

// Ptr returns a pointer to v, for the optional fields of rules.
func Ptr[T any](v T) *T { return &v }
