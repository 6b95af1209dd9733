package monitor_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

func TestAlertFiresOncePerBreachAndResolves(t *testing.T) {
	clk := newClock()
	col := newCollector()
	m := newMonitor(t, clk, monitor.WithAlertHandlers(col), monitor.WithAlerts(alert.Rule{
		Name: "inference-errors", Level: alert.LevelCritical, Metric: "stage:inference",
		Stat: alert.StatErrorRate, Op: query.OpGt, Threshold: 0.5, Window: time.Minute, MinCount: 2,
	}))
	bad := func() stagetrace.StageSpan {
		return span("chat", clk.Now(), time.Millisecond, inStage("inference"), failed())
	}
	good := func() stagetrace.StageSpan { return span("chat", clk.Now(), time.Millisecond, inStage("inference")) }

	steps := []struct {
		spans []stagetrace.StageSpan
		want  []string // alerts raised so far
	}{
		{[]stagetrace.StageSpan{bad()}, nil}, // one span: under MinCount
		{[]stagetrace.StageSpan{bad()}, []string{"inference-errors:firing"}},
		{[]stagetrace.StageSpan{bad(), bad()}, []string{"inference-errors:firing"}},                        // still breached: no second alert
		{[]stagetrace.StageSpan{good(), good(), good()}, []string{"inference-errors:firing"}},              // 4/7 errors
		{[]stagetrace.StageSpan{good()}, []string{"inference-errors:firing", "inference-errors:resolved"}}, // 4/8 = 0.5
		{[]stagetrace.StageSpan{good()}, []string{"inference-errors:firing", "inference-errors:resolved"}},
		{[]stagetrace.StageSpan{bad(), bad(), bad()}, []string{"inference-errors:firing", "inference-errors:resolved", "inference-errors:firing"}}, // 7/12
	}
	for i, s := range steps {
		write(t, m, s.spans...)
		assert.Equal(t, s.want, states(m.Alerts()), "step %d", i)
	}

	require.NoError(t, m.ForceFlush(context.Background()))
	got := col.Got()
	require.Len(t, got, 3, "the handler got each alert once")
	first := got[0]
	assert.Equal(t, alert.LevelCritical, first.Level)
	assert.Equal(t, t0, first.Time)
	assert.Equal(t, "stage:inference", first.Data["metric"])
	assert.Equal(t, "error_rate", first.Data["stat"])
	assert.Equal(t, ">", first.Data["op"])
	assert.Equal(t, 0.5, first.Data["threshold"])
	assert.Equal(t, 1.0, first.Data["value"])
	assert.Equal(t, int64(2), first.Data["count"])
	assert.Equal(t, "1m0s", first.Data["window"])
	assert.Contains(t, first.Message, "stage:inference error_rate = 1, threshold > 0.5")
	assert.Contains(t, got[1].Message, "back in bounds")
	assert.Equal(t, 0.5, got[1].Data["value"])

	firing := m.Firing()
	require.Len(t, firing, 1)
	assert.Equal(t, alert.StateFiring, firing[0].State)
}

func TestAlertClearBand(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithResolution(time.Second), monitor.WithAlerts(alert.Rule{
		Name: "queue", Metric: "metric:queue_depth", Stat: alert.StatMean, Op: query.OpGt,
		Threshold: 100, Clear: ptr(80.0), Window: time.Second,
	}))
	// One value a second, a window of one second: the mean is the value.
	cases := []struct {
		value float64
		want  string // the state of the alert raised, "" for none
	}{
		{50, ""},
		{120, "firing"},
		{90, ""}, // between clear and threshold: still firing
		{101, ""},
		{80, "resolved"}, // at clear
		{95, ""},         // under the threshold: not firing again
		{130, "firing"},
	}
	var want []string
	for _, c := range cases {
		writeEvents(t, m, metricEvent("queue_depth", f64(c.value), "", clk.Now()))
		if c.want != "" {
			want = append(want, "queue:"+c.want)
		}
		assert.Equal(t, want, states(m.Alerts()), "after %v", c.value)
		clk.Advance(time.Second)
	}
}

func TestAlertClearMustBeOnTheSafeSide(t *testing.T) {
	_, err := monitor.New(monitor.WithAlerts(alert.Rule{
		Name: "q", Metric: "metric:q", Stat: alert.StatMean, Op: query.OpGt, Threshold: 100, Clear: ptr(120.0),
	}))
	assert.ErrorContains(t, err, `alert "q": clear 120 is on the breaching side of the threshold > 100`)
}

func TestAlertResolvesWhenTheWindowEmpties(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithAlerts(alert.Rule{
		Name: "slow", Metric: "chat", Stat: alert.StatP95, Op: query.OpGt, Threshold: 2000, Window: time.Minute,
	}))
	write(t, m, span("chat", clk.Now(), 3*time.Second))
	assert.Equal(t, []string{"slow:firing"}, states(m.Alerts()))
	clk.Advance(30 * time.Second)
	assert.Empty(t, m.Evaluate(), "still in the window")
	clk.Advance(31 * time.Second)
	raised := m.Evaluate()
	require.Len(t, raised, 1)
	assert.Equal(t, alert.StateResolved, raised[0].State)
	assert.Contains(t, raised[0].Message, "too few records")
	assert.Empty(t, m.Evaluate(), "resolved once")
}

func TestEvalTickerResolves(t *testing.T) {
	clk := newClock()
	col := newCollector()
	m, err := monitor.New(monitor.WithClock(clk.Now), monitor.WithEvalInterval(5*time.Millisecond),
		monitor.WithAlertHandlers(col), monitor.WithAlerts(alert.Rule{
			Name: "slow", Metric: "chat", Stat: alert.StatMax, Op: query.OpGt, Threshold: 2000, Window: time.Minute,
		}))
	require.NoError(t, err)
	write(t, m, span("chat", clk.Now(), 3*time.Second))
	select {
	case a := <-col.C:
		assert.Equal(t, alert.StateFiring, a.State)
	case <-time.After(5 * time.Second):
		t.Fatal("no firing alert")
	}
	clk.Advance(2 * time.Minute) // no Write: only the ticker can see it
	select {
	case a := <-col.C:
		assert.Equal(t, alert.StateResolved, a.State)
	case <-time.After(5 * time.Second):
		t.Fatal("the ticker did not resolve the alert")
	}
	require.NoError(t, m.Shutdown(context.Background()))
}

func TestAlertOnFindingCount(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithAlerts(alert.Rule{
		Name: "unsafe", Metric: "finding:response_safe_score", Where: &alert.Condition{Op: query.OpLt, Value: 0.5},
		Stat: alert.StatCount, Op: query.OpGe, Threshold: 3, Window: 10 * time.Minute,
	}))
	score := func(v float64) stagetrace.StageSpan {
		return span("judge", clk.Now(), time.Millisecond, finding("response_safe_score", f64(v)))
	}
	write(t, m, score(0.9), score(0.4), score(0.3), score(0.5))
	assert.Empty(t, m.Alerts(), "two values under 0.5")
	clk.Advance(5 * time.Minute)
	write(t, m, score(0.1))
	raised := m.Alerts()
	require.Len(t, raised, 1)
	assert.Equal(t, alert.StateFiring, raised[0].State)
	assert.Equal(t, 3.0, raised[0].Data["value"])
	assert.Equal(t, "< 0.5", raised[0].Data["where"])
	assert.Contains(t, raised[0].Message, "count of values < 0.5 = 3")

	clk.Advance(6 * time.Minute) // the first two leave the window
	raised = m.Evaluate()
	require.Len(t, raised, 1)
	assert.Equal(t, alert.StateResolved, raised[0].State)
	assert.Equal(t, 1.0, raised[0].Data["value"])
}

func TestAlertRulesOnStatistics(t *testing.T) {
	type step struct {
		spans []stagetrace.StageSpan
		want  []string
	}
	now := t0
	ok := func(d time.Duration, opts ...spanOpt) stagetrace.StageSpan {
		return span("chat", now, d, append([]spanOpt{inStage("inference")}, opts...)...)
	}
	cases := []struct {
		name  string
		rule  alert.Rule
		steps []step
	}{
		{"minimum success rate", alert.Rule{
			Name: "r", Metric: "stage:inference", Stat: alert.StatSuccessRate, Op: query.OpLt, Threshold: 0.9, MinCount: 5,
		}, []step{
			{[]stagetrace.StageSpan{ok(1, failed()), ok(1), ok(1), ok(1)}, nil},                             // 4 < MinCount
			{[]stagetrace.StageSpan{ok(1)}, []string{"r:firing"}},                                           // 0.8
			{[]stagetrace.StageSpan{ok(1), ok(1), ok(1), ok(1), ok(1)}, []string{"r:firing", "r:resolved"}}, // 0.9
		}},
		{"maximum p95 duration", alert.Rule{
			Name: "r", Metric: "chat", Stat: alert.StatP95, Op: query.OpGt, Threshold: 1000,
		}, []step{
			{[]stagetrace.StageSpan{ok(100 * time.Millisecond), ok(200 * time.Millisecond)}, nil},
			{[]stagetrace.StageSpan{ok(5 * time.Second)}, []string{"r:firing"}},
		}},
		{"maximum mean prompt tokens", alert.Rule{
			Name: "r", Metric: "stage:inference", Stat: alert.StatMeanInputTokens, Op: query.OpGt, Threshold: 1000,
		}, []step{
			{[]stagetrace.StageSpan{ok(1)}, nil}, // no tokens: nothing to judge
			{[]stagetrace.StageSpan{ok(1, tokens("gpt-4o", 900, 10))}, nil},
			{[]stagetrace.StageSpan{ok(1, tokens("gpt-4o", 1200, 10))}, []string{"r:firing"}}, // mean 1050
		}},
		{"maximum mean completion tokens", alert.Rule{
			Name: "r", Metric: "chat", Stat: alert.StatMeanOutputTokens, Op: query.OpGe, Threshold: 500,
		}, []step{
			{[]stagetrace.StageSpan{ok(1, tokens("gpt-4o", 10, 400)), ok(1, tokens("gpt-4o", 10, 600))}, []string{"r:firing"}},
		}},
		{"maximum mean total tokens", alert.Rule{
			Name: "r", Metric: "chat", Stat: alert.StatMeanTotalTokens, Op: query.OpGt, Threshold: 100,
		}, []step{
			{[]stagetrace.StageSpan{ok(1, tokens("gpt-4o", 60, 50))}, []string{"r:firing"}},
		}},
		{"count without where", alert.Rule{
			Name: "r", Metric: "chat", Stat: alert.StatCount, Op: query.OpGe, Threshold: 3,
		}, []step{
			{[]stagetrace.StageSpan{ok(1), ok(1)}, nil},
			{[]stagetrace.StageSpan{ok(1)}, []string{"r:firing"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			m := newMonitor(t, clk, monitor.WithAlerts(c.rule))
			for i, s := range c.steps {
				write(t, m, s.spans...)
				assert.Equal(t, s.want, states(m.Alerts()), "step %d", i)
			}
		})
	}
}

func TestRunBudgets(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithAlerts(
		alert.Rule{Name: "tokens", Stat: alert.StatRunTotalTokens, Op: query.OpGt, Threshold: 1000},
		alert.Rule{Name: "cost", Level: alert.LevelCritical, Stat: alert.StatRunCost, Op: query.OpGt, Threshold: 0.25},
	))
	now := clk.Now()
	write(t, m, span("chat", now, 1, tokens("gpt-4o", 500, 100), cost(0.1)))
	assert.Empty(t, m.Alerts())
	write(t, m, span("chat", now, 1, tokens("gpt-4o", 400, 1)), span("chat", now, 1, inRun("run-2"), tokens("gpt-4o", 10, 10)))
	require.Equal(t, []string{"tokens:firing"}, states(m.Alerts()), "1001 tokens")
	write(t, m, span("chat", now, 1, tokens("gpt-4o", 400, 1), cost(0.2)))
	assert.Equal(t, []string{"tokens:firing", "cost:firing"}, states(m.Alerts()), "once per run: 0.3 of cost")
	write(t, m, span("chat", now, 1, inRun("run-2"), tokens("gpt-4o", 2000, 10)))
	alerts := m.Alerts()
	require.Equal(t, []string{"tokens:firing", "cost:firing", "tokens:firing"}, states(alerts))
	assert.Equal(t, "run-1", alerts[0].RunID)
	assert.Equal(t, "run-1", alerts[0].Data["run_id"])
	assert.Equal(t, 1001.0, alerts[0].Data["value"])
	assert.Contains(t, alerts[0].Message, "run run-1: run_total_tokens = 1001 > 1000")
	assert.Equal(t, alert.LevelCritical, alerts[1].Level)
	assert.InDelta(t, 0.3, alerts[1].Data["value"], 1e-12)
	assert.Equal(t, "run-2", alerts[2].RunID)
	s, ok := m.RunSummary("run-1")
	require.True(t, ok)
	assert.Equal(t, 2, s.Alerts)
	assert.Empty(t, m.Firing(), "budgets never resolve, so they are not listed as firing windows")
}

func TestForwardWritesAlertEvents(t *testing.T) {
	clk := newClock()
	fwd := memsink.New()
	m := newMonitor(t, clk, monitor.WithForward(fwd), monitor.WithAlerts(alert.Rule{
		Name: "errors", Metric: "stage:inference", Stat: alert.StatErrorRate, Op: query.OpGt, Threshold: 0,
	}))
	write(t, m, span("chat", clk.Now(), 1, inStage("inference"), failed()))
	require.NoError(t, m.ForceFlush(context.Background()))
	events := fwd.Events()
	require.Len(t, events, 1)
	ev := events[0]
	assert.Equal(t, attributes.EventAlert, ev.Name)
	assert.Equal(t, "inference", ev.Stage)
	assert.Equal(t, t0, ev.Time)
	name, _ := ev.Attrs.Get(string(attributes.AlertName))
	assert.Equal(t, "errors", name.AsString())
	state, _ := ev.Attrs.Get(string(attributes.AlertState))
	assert.Equal(t, "firing", state.AsString())
	value, _ := ev.Attrs.Get(attributes.AlertDataPrefix + "value")
	assert.Equal(t, 1.0, value.AsFloat64())
	assert.Empty(t, fwd.Spans())

	back, ok := alert.FromEvent(ev)
	require.True(t, ok)
	want := m.Alerts()[0]
	assert.Equal(t, want.Name, back.Name)
	assert.Equal(t, want.Level, back.Level)
	assert.Equal(t, want.State, back.State)
	assert.Equal(t, want.Message, back.Message)
	assert.Equal(t, want.Data["metric"], back.Data["metric"])
	assert.Equal(t, want.Data["count"], back.Data["count"])

	// A monitor written its own alert events ignores them: no loops.
	require.NoError(t, m.Write(context.Background(), stagetrace.Batch{Events: events}))
	assert.Equal(t, 2, m.Health().Series, "chat and stage:inference: no series of alert events")
	assert.Len(t, m.Alerts(), 1)
}

func TestHandlerFailuresAreCountedNotFatal(t *testing.T) {
	clk := newClock()
	var calls atomic.Int32
	failing := alert.HandlerFunc(func(context.Context, alert.Alert) error {
		calls.Add(1)
		return errors.New("boom")
	})
	panicking := alert.HandlerFunc(func(context.Context, alert.Alert) error { panic("bug") })
	col := newCollector()
	m := newMonitor(t, clk, monitor.WithAlertHandlers(failing, panicking, col), monitor.WithAlerts(alert.Rule{
		Name: "any", Metric: "chat", Stat: alert.StatCount, Op: query.OpGt, Threshold: 0,
	}))
	write(t, m, span("chat", clk.Now(), 1))
	require.NoError(t, m.ForceFlush(context.Background()))
	assert.Equal(t, int32(1), calls.Load())
	assert.Equal(t, int64(2), m.Health().HandlerErrors)
	assert.Len(t, col.Got(), 1, "the handlers after a failing one still run")
}

func TestFullQueueDropsAlerts(t *testing.T) {
	clk := newClock()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var handled atomic.Int32
	blocking := alert.HandlerFunc(func(ctx context.Context, a alert.Alert) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		handled.Add(1)
		return nil
	})
	m := newMonitor(t, clk, monitor.WithResolution(time.Second), monitor.WithAlertHandlers(blocking), monitor.WithAlerts(alert.Rule{
		Name: "flap", Metric: "metric:x", Stat: alert.StatMean, Op: query.OpGt, Threshold: 0, Window: time.Second,
	}))
	flip := func(v float64) {
		writeEvents(t, m, metricEvent("x", f64(v), "", clk.Now()))
		clk.Advance(time.Second)
	}
	flip(1) // fires: the handler takes it and blocks
	<-started
	for i := range 299 {
		flip(float64(i % 2)) // resolves, fires, ... 299 alerts
	}
	h := m.Health()
	assert.Equal(t, int64(299-256), h.DroppedAlerts)
	close(release)
	require.NoError(t, m.ForceFlush(context.Background()))
	assert.Equal(t, int32(257), handled.Load())
	assert.Len(t, m.Alerts(), 256, "the history keeps the last 256")
}

func TestShutdownCancelsAHandlerPastTheDeadline(t *testing.T) {
	clk := newClock()
	stuck := alert.HandlerFunc(func(ctx context.Context, a alert.Alert) error {
		<-ctx.Done()
		return ctx.Err()
	})
	m, err := monitor.New(monitor.WithClock(clk.Now), monitor.WithAlertHandlers(stuck), monitor.WithAlerts(alert.Rule{
		Name: "any", Metric: "chat", Stat: alert.StatCount, Op: query.OpGt, Threshold: 0,
	}))
	require.NoError(t, err)
	write(t, m, span("chat", clk.Now(), 1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = m.Shutdown(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "undelivered")
	assert.Equal(t, err, m.Shutdown(context.Background()), "later calls return the first result")
}
