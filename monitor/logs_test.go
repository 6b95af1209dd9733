package monitor_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
)

func logAt(at time.Time, number int64) stagetrace.TraceEvent {
	return stagetrace.TraceEvent{Name: stagetrace.LogEventName, RunID: "r", Time: at, Severity: stagetrace.Severity{Number: number}}
}

func TestAlertOnErrorLogCountPerWindow(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithAlerts(alert.Rule{
		Name: "error-logs", Level: alert.LevelWarning, Metric: "log:error",
		Stat: alert.StatCount, Op: query.OpGe, Threshold: 3, Window: time.Minute,
	}))
	writeEvents(t, m, logAt(clk.Now(), 17), logAt(clk.Now(), 13), logAt(clk.Now(), 9)) // one error, a warning, an info
	assert.Empty(t, m.Alerts())
	writeEvents(t, m, logAt(clk.Now(), 21), logAt(clk.Now(), 0)) // a critical counts as an error; unspecified does not
	assert.Empty(t, m.Alerts(), "2 in the window")
	writeEvents(t, m, logAt(clk.Now(), 18))
	assert.Equal(t, []string{"error-logs:firing"}, states(m.Alerts()))

	st, ok := m.Metrics("log:warn", time.Minute)
	require.True(t, ok)
	assert.Equal(t, int64(4), st.Count, "warn and above")
	st, ok = m.Metrics("log:ERROR", time.Minute)
	require.True(t, ok, "level names in any case")
	assert.Equal(t, int64(3), st.Count)
	assert.Equal(t, monitor.KindLog, st.Kind)
	st, _ = m.Metrics("log:verbose", time.Minute)
	assert.Equal(t, int64(5), st.Count, "every log with a level")

	// The window moves on: the errors age out and the alert resolves at
	// the next evaluation (the monitor's ticker makes them).
	clk.Advance(2 * time.Minute)
	writeEvents(t, m, logAt(clk.Now(), 9))
	raised := m.Evaluate()
	require.Len(t, raised, 1)
	assert.Equal(t, alert.StateResolved, raised[0].State)
}

func TestLogRulesAreValidated(t *testing.T) {
	for rule, want := range map[alert.Rule]string{
		{Name: "a", Metric: "log:loud", Stat: alert.StatCount, Op: query.OpGe, Threshold: 1}:      "names no log level",
		{Name: "b", Metric: "log:error", Stat: alert.StatErrorRate, Op: query.OpGe, Threshold: 1}: "applies to span and stage series",
		{Name: "c", Metric: "log:", Stat: alert.StatCount, Op: query.OpGe, Threshold: 1}:          "names no log",
	} {
		err := rule.Validate()
		require.Error(t, err, rule.Name)
		assert.Contains(t, err.Error(), want, rule.Name)
	}
	ok := alert.Rule{Name: "d", Metric: "log:critical", Stat: alert.StatCount, Op: query.OpGe, Threshold: 1}
	assert.NoError(t, ok.Validate())
}

func TestLogRuleFromFile(t *testing.T) {
	path := t.TempDir() + "/alerts.yaml"
	require.NoError(t, os.WriteFile(path, []byte("alerts:\n  - name: error-logs\n    metric: log:error\n    when: count >= 10\n    window: 5m\n"), 0o600))
	rules, err := alert.Load(path)
	require.NoError(t, err)
	require.Len(t, rules, 1)
	assert.Equal(t, "log:error", rules[0].Metric)
	assert.Equal(t, alert.StatCount, rules[0].Stat)
}
