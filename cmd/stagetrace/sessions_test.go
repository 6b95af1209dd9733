package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// writeSessionFixture stores four runs: turn-a and turn-b of conversation
// conv-1, turn-c of conv-2, and turn-d of none.
func writeSessionFixture(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	clock = func() time.Time { return now }
	t.Cleanup(func() { clock = time.Now })
	span := func(run string, min int, session string, in int64, cost float64) stagetrace.StageSpan {
		start := base.Add(time.Duration(min) * time.Minute)
		s := stagetrace.StageSpan{RunID: run, Name: "chat gpt-4o", Stage: "chat", StartTime: start, EndTime: start.Add(2 * time.Second),
			TraceID: stagetrace.TraceID{byte(min + 1)}, SpanID: stagetrace.SpanID{byte(min + 1)},
			Findings: stagetrace.Attrs{
				{Key: "input_tokens", Value: stagetrace.Int64Value(in)}, {Key: "output_tokens", Value: stagetrace.Int64Value(10)},
				{Key: "cost", Value: stagetrace.Float64Value(cost)}, {Key: "cost_currency", Value: stagetrace.StringValue("USD")},
			}}
		if session != "" {
			s.Findings = append(s.Findings, stagetrace.Attr{Key: "session_id", Value: stagetrace.StringValue(session)})
		}
		return s
	}
	b := stagetrace.Batch{Spans: []stagetrace.StageSpan{
		span("turn-a", 0, "conv-1", 100, 0.001),
		span("turn-b", 10, "conv-1", 200, 0.002),
		span("turn-c", 20, "conv-2", 50, 0.0005),
		span("turn-d", 30, "", 999, 0.5),
	}}
	store, err := sqlitesink.Open(filepath.Join("stagetrace-out", "runs.db"))
	require.NoError(t, err)
	file, err := jsonlsink.New(filepath.Join("stagetrace-out", "runs.jsonl"))
	require.NoError(t, err)
	for _, s := range []stagetrace.Sink{store, file} {
		require.NoError(t, s.Write(context.Background(), b))
		require.NoError(t, s.Shutdown(context.Background()))
	}
}

func TestSessionsCommand(t *testing.T) {
	writeSessionFixture(t)
	for _, src := range [][]string{nil, {"--jsonl", "stagetrace-out/runs.jsonl"}} {
		r := runCLI(append([]string{"sessions"}, src...)...)
		require.Equal(t, exitOK, r.code, r.String())
		assert.Regexp(t, `(?m)^conv-2\s+2024-05-01 10:20:00.000\s+2.00s\s+1\s+1\s+0\s+50\s+10\s+0\.0005$`, r.stdout, r.String())
		assert.Regexp(t, `(?m)^conv-1\s+2024-05-01 10:00:00.000\s+602.00s\s+2\s+2\s+0\s+300\s+20\s+0\.003$`, r.stdout, r.String())
		assert.NotContains(t, r.stdout, "turn-d")

		r = runCLI(append([]string{"sessions", "--session", "conv-1"}, src...)...)
		require.Equal(t, exitOK, r.code, r.String())
		assert.Contains(t, r.stdout, "session conv-1: 2 runs, 2 spans, 0 errors, 300 tokens in, 20 out, cost 0.003\n")
		assert.Regexp(t, `(?s)turn-b.*turn-a`, r.stdout, "its runs, newest first")
		assert.NotContains(t, r.stdout, "turn-c")

		r = runCLI(append([]string{"runs", "--session", "conv-1"}, src...)...)
		require.Equal(t, exitOK, r.code, r.String())
		assert.Contains(t, r.stdout, "turn-a")
		assert.Contains(t, r.stdout, "turn-b")
		assert.NotContains(t, r.stdout, "turn-c")
		assert.NotContains(t, r.stdout, "turn-d")

		r = runCLI(append([]string{"runs", "--session", "conv-1", "--limit", "1"}, src...)...)
		require.Equal(t, exitOK, r.code, r.String())
		assert.Contains(t, r.stdout, "turn-b")
		assert.NotContains(t, r.stdout, "turn-a")
	}

	r := runCLI("sessions", "--json")
	require.Equal(t, exitOK, r.code, r.String())
	var got []struct {
		ID        string `json:"id"`
		CostNanos int64  `json:"cost_nanos"`
		Runs      []struct {
			ID string `json:"run_id"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	require.Len(t, got, 2)
	assert.Equal(t, "conv-1", got[1].ID)
	assert.Equal(t, int64(3_000_000), got[1].CostNanos, "0.001 + 0.002 USD, exactly")
	require.Len(t, got[1].Runs, 2)
	assert.Equal(t, "turn-b", got[1].Runs[0].ID)

	r = runCLI("sessions", "--session-key", "gen_ai.conversation.id")
	require.Equal(t, exitOK, r.code, r.String())
	assert.Equal(t, "no sessions\n", r.stdout)
	assert.Contains(t, r.stderr, `no stored span has the attribute "gen_ai.conversation.id"`, "a key no span carries says so")
	assert.Contains(t, r.stderr, "--session-key gen_ai.conversation.id:", "the hint names the flag the key came from")
	assert.NotContains(t, r.stderr, "--where", "sessions was given no --where")

	r = runCLI("sessions", "--session-key", "run_id")
	assert.Equal(t, exitUsage, r.code, r.String())
	assert.Contains(t, r.stderr, "built-in field")
}

// TestReportShowsSession: the report of a run of a session shows the
// session's runs, tokens and cost; a run of none shows no session.
func TestReportShowsSession(t *testing.T) {
	writeSessionFixture(t)
	r := runCLI("report", "turn-b", "-o", "b.html")
	require.Equal(t, exitOK, r.code, r.String())
	html, err := os.ReadFile("b.html")
	require.NoError(t, err)
	page := string(html)
	assert.Contains(t, page, `<section id="session" data-session-id="conv-1" data-run-count="2" data-input-tokens="300" data-output-tokens="20">`)
	assert.Contains(t, page, `<span id="session-cost">0.003</span>`)
	assert.Contains(t, page, `<tr class="session-run current" data-run-id="turn-b">`)
	assert.Contains(t, page, `<tr class="session-run" data-run-id="turn-a">`)

	r = runCLI("report", "turn-d", "-o", "d.html")
	require.Equal(t, exitOK, r.code, r.String())
	html, err = os.ReadFile("d.html")
	require.NoError(t, err)
	assert.NotContains(t, string(html), `id="session"`)
}

// TestShowNamesSession: show ends with the run's session, when it has one.
func TestShowNamesSession(t *testing.T) {
	writeSessionFixture(t)
	r := runCLI("show", "turn-a")
	require.Equal(t, exitOK, r.code, r.String())
	assert.True(t, strings.HasSuffix(r.stdout, "\nsession conv-1: 2 runs, 300 tokens in, 20 out, cost 0.003 (stagetrace sessions --session conv-1)\n"), r.stdout)

	r = runCLI("show", "turn-d")
	require.Equal(t, exitOK, r.code, r.String())
	assert.NotContains(t, r.stdout, "session")

	r = runCLI("show", "turn-c", "--json")
	require.Equal(t, exitOK, r.code, r.String())
	var got struct {
		Session struct {
			ID   string `json:"id"`
			Runs []struct {
				ID string `json:"run_id"`
			} `json:"runs"`
		} `json:"session"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, "conv-2", got.Session.ID)
	require.Len(t, got.Session.Runs, 1)
	assert.Equal(t, "turn-c", got.Session.Runs[0].ID)
}
