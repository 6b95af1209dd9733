package monitor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is where every fake clock starts: a whole minute, so that buckets
// of a second or a minute start on it.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newMonitor returns a monitor on clk, shut down when the test ends.
func newMonitor(t *testing.T, clk *clock, opts ...monitor.Option) *monitor.Monitor {
	t.Helper()
	m, err := monitor.New(append([]monitor.Option{monitor.WithClock(clk.Now), monitor.WithEvalInterval(0)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Shutdown(context.Background())) })
	return m
}

// spanOpt shapes a span built by span.
type spanOpt func(*stagetrace.StageSpan)

// span returns a span named name that ended at end after d.
func span(name string, end time.Time, d time.Duration, opts ...spanOpt) stagetrace.StageSpan {
	s := stagetrace.StageSpan{RunID: "run-1", Name: name, StartTime: end.Add(-d), EndTime: end, Status: stagetrace.StatusOK}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func inStage(stage string) spanOpt { return func(s *stagetrace.StageSpan) { s.Stage = stage } }
func inRun(run string) spanOpt     { return func(s *stagetrace.StageSpan) { s.RunID = run } }
func failed() spanOpt              { return func(s *stagetrace.StageSpan) { s.Status = stagetrace.StatusError } }

func finding(name string, v stagetrace.Value) spanOpt {
	return func(s *stagetrace.StageSpan) {
		s.Findings = append(s.Findings, stagetrace.Attr{Key: name, Value: v})
	}
}

func attr(key string, v stagetrace.Value) spanOpt {
	return func(s *stagetrace.StageSpan) {
		s.Attrs = append(s.Attrs, stagetrace.Attr{Key: key, Value: v})
	}
}

// tokens gives a span the findings of a model call.
func tokens(model string, in, out int64) spanOpt {
	return func(s *stagetrace.StageSpan) {
		s.Findings = append(s.Findings,
			stagetrace.Attr{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(in)},
			stagetrace.Attr{Key: attributes.FindingOutputTokens, Value: stagetrace.Int64Value(out)},
			stagetrace.Attr{Key: attributes.FindingModel, Value: stagetrace.StringValue(model)},
		)
	}
}

// cost gives a span a cost finding in USD.
func cost(c float64) spanOpt {
	return func(s *stagetrace.StageSpan) {
		s.Findings = append(s.Findings,
			stagetrace.Attr{Key: attributes.FindingCost, Value: stagetrace.Float64Value(c)},
			stagetrace.Attr{Key: attributes.FindingCostCurrency, Value: stagetrace.StringValue("USD")},
		)
	}
}

// metricEvent returns a metric event at t.
func metricEvent(name string, v stagetrace.Value, unit string, t time.Time) stagetrace.TraceEvent {
	attrs := stagetrace.Attrs{
		{Key: string(attributes.MetricName), Value: stagetrace.StringValue(name)},
		{Key: string(attributes.MetricValue), Value: v},
	}
	if unit != "" {
		attrs = append(attrs, stagetrace.Attr{Key: string(attributes.MetricUnit), Value: stagetrace.StringValue(unit)})
	}
	return stagetrace.TraceEvent{Name: attributes.EventMetric, RunID: "run-1", Time: t, Attrs: attrs}
}

func write(t *testing.T, m *monitor.Monitor, spans ...stagetrace.StageSpan) {
	t.Helper()
	require.NoError(t, m.Write(context.Background(), stagetrace.Batch{Spans: spans}))
}

func writeEvents(t *testing.T, m *monitor.Monitor, events ...stagetrace.TraceEvent) {
	t.Helper()
	require.NoError(t, m.Write(context.Background(), stagetrace.Batch{Events: events}))
}

// collector is an alert handler keeping what it is given.
type collector struct {
	mu     sync.Mutex
	alerts []monitor.Alert
	ch     chan monitor.Alert
}

func newCollector() *collector { return &collector{ch: make(chan monitor.Alert, 64)} }

func (c *collector) HandleAlert(_ context.Context, a monitor.Alert) error {
	c.mu.Lock()
	c.alerts = append(c.alerts, a)
	c.mu.Unlock()
	select {
	case c.ch <- a:
	default:
	}
	return nil
}

func (c *collector) got() []monitor.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]monitor.Alert(nil), c.alerts...)
}

// states returns "name:state" of each alert, in order.
func states(alerts []monitor.Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.Name+":"+string(a.State))
	}
	return out
}

func i64(v int64) stagetrace.Value   { return stagetrace.Int64Value(v) }
func f64(v float64) stagetrace.Value { return stagetrace.Float64Value(v) }
