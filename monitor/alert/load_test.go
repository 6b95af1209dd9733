package alert_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/rules"
)

// exampleFile is the rules file of docs/monitor.md: rules, prices and
// alerts in one file.
const exampleFile = `presets: [genai]
prices:
  currency: USD
  models:
    gpt-4o: {input: 2.50, output: 10.00}

alerts:
  - name: inference-errors
    metric: stage:inference
    when: error_rate > 0.05
    window: 5m
    min_count: 20
    level: critical
  - name: slow-chat
    metric: chat gpt-4o
    when: p95 > 2s                # a duration, for span and stage series
    window: 10m
    clear: 1500
  - name: prompt-heavy
    metric: stage:inference
    when: mean_prompt_tokens > 4000
    window: 15m
  - name: unsafe-answers
    metric: finding:response_safe_score
    where: value < 0.5
    when: count >= 3
    window: 10m
    message: answers judged unsafe
  - name: run-budget
    when: run_cost > 0.50
    level: info
`

func TestLoadAlerts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(exampleFile), 0o600))

	set, err := rules.LoadFile(path)
	require.NoError(t, err, "the rules loader skips alerts:")
	assert.Equal(t, []string{rules.PresetGenAI}, set.Presets())

	got, err := alert.Load(path)
	require.NoError(t, err)
	want := []alert.Rule{
		{Name: "inference-errors", Metric: "stage:inference", Stat: alert.StatErrorRate, Op: query.OpGt,
			Threshold: 0.05, Window: 5 * time.Minute, MinCount: 20, Level: alert.LevelCritical},
		{Name: "slow-chat", Metric: "chat gpt-4o", Stat: alert.StatP95, Op: query.OpGt, Threshold: 2000,
			Window: 10 * time.Minute, Clear: ptr(1500.0)},
		{Name: "prompt-heavy", Metric: "stage:inference", Stat: alert.StatMeanInputTokens, Op: query.OpGt,
			Threshold: 4000, Window: 15 * time.Minute},
		{Name: "unsafe-answers", Metric: "finding:response_safe_score", Where: &alert.Condition{Op: query.OpLt, Value: 0.5},
			Stat: alert.StatCount, Op: query.OpGe, Threshold: 3, Window: 10 * time.Minute, Message: "answers judged unsafe"},
		{Name: "run-budget", Stat: alert.StatRunCost, Op: query.OpGt, Threshold: 0.5, Level: alert.LevelInfo},
	}
	assert.Equal(t, want, got)

	// They make a monitor, whose retention covers the longest window.
	m, err := monitor.New(monitor.WithAlerts(got...), monitor.WithEvalInterval(0))
	require.NoError(t, err)
	require.NoError(t, m.Shutdown(t.Context()))
}

func TestLoadAlertsJSON(t *testing.T) {
	in := `{"rules": [], "alerts": [{"name": "slow", "metric": "stage:inference", "when": "p99 >= 1500", "window": "1m"}]}`
	got, err := alert.Read(strings.NewReader(in), "rules.json")
	require.NoError(t, err)
	assert.Equal(t, []alert.Rule{{Name: "slow", Metric: "stage:inference", Stat: alert.StatP99,
		Op: query.OpGe, Threshold: 1500, Window: time.Minute}}, got)
}

func TestLoadAlertsWithoutAlerts(t *testing.T) {
	for _, in := range []string{"", "presets: [genai]\n", "alerts:\n", "alerts: []\n", "- a\n"} {
		got, err := alert.Read(strings.NewReader(in), "rules.yaml")
		require.NoError(t, err, "%q", in)
		assert.Empty(t, got, "%q", in)
	}
}

func TestLoadAlertsErrors(t *testing.T) {
	const head = "presets: [genai]\nalerts:\n  - name: ok\n    metric: chat\n    when: p95 > 10\n"
	cases := []struct {
		name string
		in   string
		want string // the start of the message
	}{
		{"unknown statistic", head + "  - name: slow\n    metric: chat\n    when: p959 > 10\n",
			`rules.yaml:8: alert 2 "slow": when: unknown statistic "p959" (known: count, success_rate`},
		{"bad operator", head + "  - name: eq\n    metric: chat\n    when: p95 == 10\n",
			`rules.yaml:8: alert 2 "eq": when: bad operator "=="`},
		{"no operator", head + "  - name: eq\n    metric: chat\n    when: p95 10\n",
			`rules.yaml:8: alert 2 "eq": when: want <statistic> <op> <threshold>`},
		{"unknown series kind", head + "  - name: typo\n    metric: stgae:inference\n    when: error_rate > 0.1\n",
			`rules.yaml:7: alert 2 "typo": metric: unknown series kind "stgae:"`},
		{"statistic of another kind", head + "  - name: rate\n    metric: finding:score\n    when: error_rate > 0.1\n",
			`rules.yaml:8: alert 2 "rate": error_rate applies to span and stage series, not to finding:score`},
		{"missing metric", head + "  - name: nometric\n    when: p95 > 1\n",
			`rules.yaml:6: alert 2 "nometric": metric: missing`},
		{"missing when", head + "  - name: nowhen\n    metric: chat\n",
			`rules.yaml:6: alert 2 "nowhen": when: missing`},
		{"unknown key", head + "  - name: k\n    metric: chat\n    when: p95 > 1\n    windw: 5m\n",
			`rules.yaml:9: alert 2 "k": unknown key "windw" (known: name, level`},
		{"bad window", head + "  - name: w\n    metric: chat\n    when: p95 > 1\n    window: soon\n",
			`rules.yaml:9: alert 2 "w": window: want a positive duration such as 5m, got "soon"`},
		{"bad level", head + "  - name: l\n    metric: chat\n    when: p95 > 1\n    level: urgent\n",
			`rules.yaml:9: alert 2 "l": level: unknown level "urgent"`},
		{"where without count", head + "  - name: w\n    metric: finding:score\n    where: value < 0.5\n    when: mean > 1\n",
			`rules.yaml:8: alert 2 "w": where: only with count, not with mean`},
		{"where on something else", head + "  - name: w\n    metric: finding:score\n    where: score < 0.5\n    when: count > 1\n",
			`rules.yaml:8: alert 2 "w": where: compares the series' value`},
		{"budget with a series", head + "  - name: b\n    metric: chat\n    when: run_cost > 1\n",
			`rules.yaml:7: alert 2 "b": metric: run_cost is a per-run budget`},
		{"duration for a rate", head + "  - name: d\n    metric: chat\n    when: error_rate > 2s\n",
			`rules.yaml:8: alert 2 "d": when: threshold: "2s" is not a number`},
		// YAML reads a number too large for a float as a string: say what it is.
		{"clear out of range", head + "  - name: c\n    metric: chat\n    when: p95 > 1\n    clear: 1e400\n",
			`rules.yaml:9: alert 2 "c": clear: want a number, got 1e400, a number out of range`},
		{"threshold out of range", head + "  - name: t\n    metric: chat\n    when: p95 > 1e400\n",
			`rules.yaml:8: alert 2 "t": when: threshold: 1e400 is a number out of range`},
		{"duplicate name", head + "  - name: ok\n    metric: chat\n    when: p95 > 1\n",
			`rules.yaml:6: alert 2 "ok": name: also the name of alert 1`},
		{"not a list", "alerts: {name: x}\n", `rules.yaml:1: alerts: want a list, got a mapping`},
		{"not a mapping", "alerts:\n  - slow\n", `rules.yaml:2: alert 1: want a mapping, got a string`},
		{"bad yaml", "alerts: [\n", `rules.yaml: yaml: line 1:`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := alert.Read(strings.NewReader(c.in), "rules.yaml")
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), c.want), "got  %s\nwant %s...", err, c.want)
			var re *alert.RuleError
			assert.True(t, errors.As(err, &re))
		})
	}
}

func TestLoadAlertsFileErrors(t *testing.T) {
	_, err := alert.Load(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
