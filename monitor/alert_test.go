package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/sink/memsink"
)

func ptr[T any](v T) *T { return &v }

func TestAlertFiresOncePerBreachAndResolves(t *testing.T) {
	clk := newClock()
	col := newCollector()
	m := newMonitor(t, clk, monitor.WithAlertHandlers(col), monitor.WithAlerts(monitor.AlertRule{
		Name: "inference-errors", Level: monitor.LevelCritical, Metric: "stage:inference",
		Stat: monitor.StatErrorRate, Op: monitor.OpGreater, Threshold: 0.5, Window: time.Minute, MinCount: 2,
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
	got := col.got()
	require.Len(t, got, 3, "the handler got each alert once")
	first := got[0]
	assert.Equal(t, monitor.LevelCritical, first.Level)
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
	assert.Equal(t, monitor.StateFiring, firing[0].State)
}

func TestAlertClearBand(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithResolution(time.Second), monitor.WithAlerts(monitor.AlertRule{
		Name: "queue", Metric: "metric:queue_depth", Stat: monitor.StatMean, Op: monitor.OpGreater,
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
	_, err := monitor.New(monitor.WithAlerts(monitor.AlertRule{
		Name: "q", Metric: "metric:q", Stat: monitor.StatMean, Op: monitor.OpGreater, Threshold: 100, Clear: ptr(120.0),
	}))
	assert.ErrorContains(t, err, `alert "q": clear 120 is on the breaching side of the threshold > 100`)
}

func TestAlertResolvesWhenTheWindowEmpties(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithAlerts(monitor.AlertRule{
		Name: "slow", Metric: "chat", Stat: monitor.StatP95, Op: monitor.OpGreater, Threshold: 2000, Window: time.Minute,
	}))
	write(t, m, span("chat", clk.Now(), 3*time.Second))
	assert.Equal(t, []string{"slow:firing"}, states(m.Alerts()))
	clk.Advance(30 * time.Second)
	assert.Empty(t, m.Evaluate(), "still in the window")
	clk.Advance(31 * time.Second)
	raised := m.Evaluate()
	require.Len(t, raised, 1)
	assert.Equal(t, monitor.StateResolved, raised[0].State)
	assert.Contains(t, raised[0].Message, "too few records")
	assert.Empty(t, m.Evaluate(), "resolved once")
}

func TestEvalTickerResolves(t *testing.T) {
	clk := newClock()
	col := newCollector()
	m, err := monitor.New(monitor.WithClock(clk.Now), monitor.WithEvalInterval(5*time.Millisecond),
		monitor.WithAlertHandlers(col), monitor.WithAlerts(monitor.AlertRule{
			Name: "slow", Metric: "chat", Stat: monitor.StatMax, Op: monitor.OpGreater, Threshold: 2000, Window: time.Minute,
		}))
	require.NoError(t, err)
	write(t, m, span("chat", clk.Now(), 3*time.Second))
	select {
	case a := <-col.ch:
		assert.Equal(t, monitor.StateFiring, a.State)
	case <-time.After(5 * time.Second):
		t.Fatal("no firing alert")
	}
	clk.Advance(2 * time.Minute) // no Write: only the ticker can see it
	select {
	case a := <-col.ch:
		assert.Equal(t, monitor.StateResolved, a.State)
	case <-time.After(5 * time.Second):
		t.Fatal("the ticker did not resolve the alert")
	}
	require.NoError(t, m.Shutdown(context.Background()))
}

func TestAlertOnFindingCount(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithAlerts(monitor.AlertRule{
		Name: "unsafe", Metric: "finding:response_safe_score", Where: &monitor.Condition{Op: monitor.OpLess, Value: 0.5},
		Stat: monitor.StatCount, Op: monitor.OpGreaterEqual, Threshold: 3, Window: 10 * time.Minute,
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
	assert.Equal(t, monitor.StateFiring, raised[0].State)
	assert.Equal(t, 3.0, raised[0].Data["value"])
	assert.Equal(t, "< 0.5", raised[0].Data["where"])
	assert.Contains(t, raised[0].Message, "count of values < 0.5 = 3")

	clk.Advance(6 * time.Minute) // the first two leave the window
	raised = m.Evaluate()
	require.Len(t, raised, 1)
	assert.Equal(t, monitor.StateResolved, raised[0].State)
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
		rule  monitor.AlertRule
		steps []step
	}{
		{"minimum success rate", monitor.AlertRule{
			Name: "r", Metric: "stage:inference", Stat: monitor.StatSuccessRate, Op: monitor.OpLess, Threshold: 0.9, MinCount: 5,
		}, []step{
			{[]stagetrace.StageSpan{ok(1, failed()), ok(1), ok(1), ok(1)}, nil},                             // 4 < MinCount
			{[]stagetrace.StageSpan{ok(1)}, []string{"r:firing"}},                                           // 0.8
			{[]stagetrace.StageSpan{ok(1), ok(1), ok(1), ok(1), ok(1)}, []string{"r:firing", "r:resolved"}}, // 0.9
		}},
		{"maximum p95 duration", monitor.AlertRule{
			Name: "r", Metric: "chat", Stat: monitor.StatP95, Op: monitor.OpGreater, Threshold: 1000,
		}, []step{
			{[]stagetrace.StageSpan{ok(100 * time.Millisecond), ok(200 * time.Millisecond)}, nil},
			{[]stagetrace.StageSpan{ok(5 * time.Second)}, []string{"r:firing"}},
		}},
		{"maximum mean prompt tokens", monitor.AlertRule{
			Name: "r", Metric: "stage:inference", Stat: monitor.StatMeanInputTokens, Op: monitor.OpGreater, Threshold: 1000,
		}, []step{
			{[]stagetrace.StageSpan{ok(1)}, nil}, // no tokens: nothing to judge
			{[]stagetrace.StageSpan{ok(1, tokens("gpt-4o", 900, 10))}, nil},
			{[]stagetrace.StageSpan{ok(1, tokens("gpt-4o", 1200, 10))}, []string{"r:firing"}}, // mean 1050
		}},
		{"maximum mean completion tokens", monitor.AlertRule{
			Name: "r", Metric: "chat", Stat: monitor.StatMeanOutputTokens, Op: monitor.OpGreaterEqual, Threshold: 500,
		}, []step{
			{[]stagetrace.StageSpan{ok(1, tokens("gpt-4o", 10, 400)), ok(1, tokens("gpt-4o", 10, 600))}, []string{"r:firing"}},
		}},
		{"maximum mean total tokens", monitor.AlertRule{
			Name: "r", Metric: "chat", Stat: monitor.StatMeanTotalTokens, Op: monitor.OpGreater, Threshold: 100,
		}, []step{
			{[]stagetrace.StageSpan{ok(1, tokens("gpt-4o", 60, 50))}, []string{"r:firing"}},
		}},
		{"count without where", monitor.AlertRule{
			Name: "r", Metric: "chat", Stat: monitor.StatCount, Op: monitor.OpGreaterEqual, Threshold: 3,
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
		monitor.AlertRule{Name: "tokens", Stat: monitor.StatRunTotalTokens, Op: monitor.OpGreater, Threshold: 1000},
		monitor.AlertRule{Name: "cost", Level: monitor.LevelCritical, Stat: monitor.StatRunCost, Op: monitor.OpGreater, Threshold: 0.25},
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
	assert.Equal(t, monitor.LevelCritical, alerts[1].Level)
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
	m := newMonitor(t, clk, monitor.WithForward(fwd), monitor.WithAlerts(monitor.AlertRule{
		Name: "errors", Metric: "stage:inference", Stat: monitor.StatErrorRate, Op: monitor.OpGreater, Threshold: 0,
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

	back, ok := monitor.AlertFromEvent(ev)
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

func TestSlogHandler(t *testing.T) {
	var buf bytes.Buffer
	h := monitor.SlogHandler(slog.New(slog.NewJSONHandler(&buf, nil)))
	require.NoError(t, h.HandleAlert(context.Background(), monitor.Alert{
		Name: "cost", Level: monitor.LevelCritical, State: monitor.StateFiring, Message: "too dear", RunID: "r1",
		Data: map[string]any{"value": 0.3},
	}))
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	assert.Equal(t, "ERROR", rec["level"])
	assert.Equal(t, "alert firing", rec["msg"])
	assert.Equal(t, "cost", rec["alert"])
	assert.Equal(t, "critical", rec["alert_level"])
	assert.Equal(t, "firing", rec["state"])
	assert.Equal(t, "too dear", rec["message"])
	assert.Equal(t, "r1", rec["run_id"])
	assert.Equal(t, map[string]any{"value": 0.3}, rec["data"])
}

func TestWebhook(t *testing.T) {
	alert := monitor.Alert{Name: "slow", Level: monitor.LevelWarning, State: monitor.StateFiring, Message: "p95", Time: t0,
		Data: map[string]any{"value": 2500.0}}
	cases := []struct {
		name     string
		answers  []int // status of each attempt; the last repeats
		attempts int32
		wantErr  string
	}{
		{"accepted at once", []int{200}, 1, ""},
		{"retried after 503 and 429", []int{503, 429, 204}, 3, ""},
		{"refused for good", []int{400}, 1, "400 Bad Request"},
		{"out of attempts", []int{500}, 3, "attempt 3 of 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int32
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
				assert.Equal(t, "Bearer t0ken", r.Header.Get("Authorization"))
				body, _ = io.ReadAll(r.Body)
				w.WriteHeader(c.answers[min(i, len(c.answers)-1)])
			}))
			defer srv.Close()
			require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"))
			wh, err := monitor.NewWebhook(srv.URL, monitor.WithWebhookHeader("Authorization", "Bearer t0ken"),
				monitor.WithWebhookRetry(3, time.Millisecond, 4*time.Millisecond))
			require.NoError(t, err)
			err = wh.HandleAlert(context.Background(), alert)
			if c.wantErr == "" {
				require.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, c.wantErr)
			}
			assert.Equal(t, c.attempts, n.Load())
			var got monitor.Alert
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, alert.Name, got.Name)
			assert.Equal(t, alert.State, got.State)
			assert.True(t, alert.Time.Equal(got.Time))
			assert.Equal(t, 2500.0, got.Data["value"])
		})
	}
}

func TestWebhookStopsWhenCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	wh, err := monitor.NewWebhook(srv.URL, monitor.WithWebhookRetry(1000, time.Second, time.Minute))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = wh.HandleAlert(ctx, monitor.Alert{Name: "x"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestNewWebhookRejectsBadConfig(t *testing.T) {
	for _, c := range []struct {
		url  string
		opts []monitor.WebhookOption
		want string
	}{
		{"ftp://127.0.0.1/x", nil, "not an http or https URL"},
		{"http://user:secret@/x", nil, "not an http or https URL"},
		{"http://127.0.0.1/x", []monitor.WebhookOption{monitor.WithWebhookRetry(0, time.Second, time.Second)}, "0 attempts"},
		{"http://127.0.0.1/x", []monitor.WebhookOption{monitor.WithWebhookRetry(2, time.Second, time.Millisecond)}, "backoff"},
		{"http://127.0.0.1/x", []monitor.WebhookOption{monitor.WithWebhookTimeout(0)}, "timeout"},
	} {
		_, err := monitor.NewWebhook(c.url, c.opts...)
		assert.ErrorContains(t, err, c.want, c.url)
		if err != nil {
			assert.NotContains(t, err.Error(), "secret")
		}
	}
}

func TestHandlerFailuresAreCountedNotFatal(t *testing.T) {
	clk := newClock()
	var calls atomic.Int32
	failing := monitor.HandlerFunc(func(context.Context, monitor.Alert) error {
		calls.Add(1)
		return errors.New("boom")
	})
	panicking := monitor.HandlerFunc(func(context.Context, monitor.Alert) error { panic("bug") })
	col := newCollector()
	m := newMonitor(t, clk, monitor.WithAlertHandlers(failing, panicking, col), monitor.WithAlerts(monitor.AlertRule{
		Name: "any", Metric: "chat", Stat: monitor.StatCount, Op: monitor.OpGreater, Threshold: 0,
	}))
	write(t, m, span("chat", clk.Now(), 1))
	require.NoError(t, m.ForceFlush(context.Background()))
	assert.Equal(t, int32(1), calls.Load())
	assert.Equal(t, int64(2), m.Health().HandlerErrors)
	assert.Len(t, col.got(), 1, "the handlers after a failing one still run")
}

func TestFullQueueDropsAlerts(t *testing.T) {
	clk := newClock()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var handled atomic.Int32
	blocking := monitor.HandlerFunc(func(ctx context.Context, a monitor.Alert) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		handled.Add(1)
		return nil
	})
	m := newMonitor(t, clk, monitor.WithResolution(time.Second), monitor.WithAlertHandlers(blocking), monitor.WithAlerts(monitor.AlertRule{
		Name: "flap", Metric: "metric:x", Stat: monitor.StatMean, Op: monitor.OpGreater, Threshold: 0, Window: time.Second,
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
	stuck := monitor.HandlerFunc(func(ctx context.Context, a monitor.Alert) error {
		<-ctx.Done()
		return ctx.Err()
	})
	m, err := monitor.New(monitor.WithClock(clk.Now), monitor.WithAlertHandlers(stuck), monitor.WithAlerts(monitor.AlertRule{
		Name: "any", Metric: "chat", Stat: monitor.StatCount, Op: monitor.OpGreater, Threshold: 0,
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

func TestAlertEventThroughJSON(t *testing.T) {
	a := monitor.Alert{Name: "budget", Level: monitor.LevelInfo, State: monitor.StateFiring, Message: "run r1: run_cost = 0.6 > 0.5",
		Time: t0, RunID: "r1", Data: map[string]any{"value": 0.6, "count": int64(3), "stat": "run_cost"}}
	line, err := json.Marshal(a.Event())
	require.NoError(t, err)
	var ev stagetrace.TraceEvent
	require.NoError(t, json.Unmarshal(line, &ev), "%s", line)
	back, ok := monitor.AlertFromEvent(ev)
	require.True(t, ok)
	assert.Equal(t, a.Name, back.Name)
	assert.Equal(t, a.RunID, back.RunID)
	assert.True(t, a.Time.Equal(back.Time))
	assert.Equal(t, a.Data, back.Data)

	_, ok = monitor.AlertFromEvent(stagetrace.TraceEvent{Name: attributes.EventMetric})
	assert.False(t, ok)
}
