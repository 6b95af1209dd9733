package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, "turn-test", &out))

	f, err := os.Open(filepath.Join(dir, "runs.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	stages := map[string]bool{}
	var exceptions, metrics int
	var logs []*stagetrace.TraceEvent
	var tokens int64
	dec := stagetrace.NewDecoder(f)
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if s := rec.Span; s != nil {
			assert.Equal(t, "turn-test", s.RunID)
			stages[s.Stage] = true
			if v, ok := s.Findings.Get(attributes.FindingInputTokens); ok {
				tokens += v.AsInt64()
			}
			continue
		}
		switch rec.Event.Name {
		case attributes.EventException:
			exceptions++
		case attributes.EventMetric:
			metrics++
		case stagetrace.LogEventName:
			logs = append(logs, rec.Event)
		}
	}
	require.Len(t, logs, 2, "a warning and an error, through slog")
	for _, l := range logs {
		assert.Equal(t, "turn-test", l.RunID)
		assert.Equal(t, "inference", l.Stage)
		assert.True(t, l.SpanID.IsValid())
	}
	assert.ElementsMatch(t, []stagetrace.Level{stagetrace.LevelError, stagetrace.LevelWarn},
		[]stagetrace.Level{logs[0].Severity.Level(), logs[1].Severity.Level()})
	assert.Equal(t, map[string]bool{"": true, "retrieval": true, "inference": true, "evaluation": true}, stages)
	assert.Equal(t, 1, exceptions, "the rate-limited call recorded one exception")
	assert.Equal(t, 2, metrics, "one metric in a span, one through the bridge")
	assert.Equal(t, int64(812), tokens)

	summary := out.String()
	for _, want := range []string{"run turn-test", "retrieval", "inference", "evaluation", "input_tokens=812", "response_safe_score=0.97", "exception in inference", "error",
		"* error in inference: gpt-4o call failed", "* warn in inference: rate limited: retrying",
		"error-logs (firing): the chatbot logged errors"} {
		assert.Contains(t, summary, want)
	}
}

func TestQuickstartUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	err := run(context.Background(), filepath.Join(file, "out"), "r", io.Discard)
	assert.Error(t, err)
}

func TestQuickstartWritesTheStore(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, "turn-db", &out))
	store, err := sqlitesink.OpenReadOnly(filepath.Join(dir, "runs.db"))
	require.NoError(t, err)
	defer store.Close()
	r, err := store.Run(context.Background(), "turn-db")
	require.NoError(t, err)
	assert.Equal(t, 3, r.Stages)
	assert.Equal(t, 1, r.Errors)
	assert.Equal(t, int64(812), r.InputTokens)
	// The summary printed is the store's run, drawn as "stagetrace show"
	// draws it: a header with the rollup and a timeline per span.
	assert.Contains(t, out.String(), "run turn-db  started ")
	assert.Contains(t, out.String(), "3 stages  8 spans  1 error  tokens 812 in / 95 out")
	assert.Contains(t, out.String(), "TIMELINE")
	assert.Contains(t, out.String(), "█")
}

func TestQuickstartMonitorAndReport(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), dir, "turn-report", &out))
	text := out.String()

	// The token table, below the run summary: the monitor names the
	// model the response reported (gen_ai.response.model).
	usage := strings.Index(text, "token usage by model\n")
	require.Positive(t, usage, text)
	assert.Less(t, strings.Index(text, "TIMELINE"), usage, "the table follows the run summary")
	assert.Regexp(t, `(?m)^  MODEL +INPUT +OUTPUT +CACHE +TOTAL +COST$`, text)
	assert.Regexp(t, `(?m)^  gpt-4o-2024-08-06 +812 +95 +0 +907 +0\.0030 USD$`, text, "tokens from the GenAI preset, cost from the price table")

	// The error-rate rule fires on the rate-limited call, the error-log
	// rule on its log line; the safety rule does not.
	assert.Regexp(t, `(?m)^  warning  inference-errors \(firing\): inference spans are failing: stage:inference error_rate = 0\.3333`, text)
	assert.Regexp(t, `(?m)^  warning  error-logs \(firing\): the chatbot logged errors: log:error count = 1,`, text)
	assert.NotContains(t, text, "unsafe-answers")
	assert.NotContains(t, text, "no alerts fired")

	path := filepath.Join(dir, "report.html")
	assert.True(t, strings.HasSuffix(text, "\nwrote "+path+"\n"), text)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	html := string(data)
	assert.Contains(t, html, `data-run-id="turn-report" data-span-count="8" data-error-count="1"`)
	for _, stage := range []string{"retrieval", "inference", "evaluation"} {
		assert.Contains(t, html, `<tr class="stage" data-stage="`+stage+`"`, stage)
	}
	assert.Contains(t, html, `data-model="gpt-4o-2024-08-06" data-calls="1" data-input-tokens="812" data-output-tokens="95"`)
	assert.Contains(t, html, `<tr class="alert" data-alert="inference-errors" data-level="warning" data-state="firing"`)
	assert.Contains(t, html, `data-metric="time_to_first_token"`)
	assert.Contains(t, html, `<li class="log sev-error" data-level="error" data-stage="inference">`, "the log lines in the report")
	assert.Contains(t, html, `<rect class="log-mark sev-warn"`, "on the timeline")
}

func TestDemoAlertsAreValid(t *testing.T) {
	rules := demoAlerts()
	require.Len(t, rules, 3)
	for i := range rules {
		assert.NoError(t, rules[i].Validate(), rules[i].Name)
	}
}
