package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/logexporter"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// writeLogs logs into the fixture's runs through slog, the otelslog
// bridge and the log exporter, to its store and JSONL file.
func writeLogs(t *testing.T, dir string) {
	t.Helper()
	out := filepath.Join(dir, "stagetrace-out")
	store, err := sqlitesink.Open(filepath.Join(out, "runs.db"))
	require.NoError(t, err)
	file, err := jsonlsink.New(filepath.Join(out, "runs.jsonl"))
	require.NoError(t, err)
	exp, err := logexporter.New(logexporter.WithSinks(store, file))
	require.NoError(t, err)
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(logexporter.NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)),
	)
	log := otelslog.NewLogger("chatbot", otelslog.WithLoggerProvider(lp))
	turn1 := attributes.ContextWithStage(attributes.ContextWithRun(context.Background(), "turn-1"), "inference")
	log.InfoContext(turn1, "calling gpt-4o")
	log.WarnContext(turn1, "rate limited: retrying", slog.Int("retry_ms", 20))
	log.ErrorContext(attributes.ContextWithRun(context.Background(), "turn-2"), "judge timed out\x1b[2J")
	log.Debug("started")
	require.NoError(t, lp.Shutdown(context.Background()))
}

func TestLogsCommand(t *testing.T) {
	dir := inFixture(t)
	writeLogs(t, dir)
	for _, src := range [][]string{nil, {"--jsonl", "stagetrace-out/runs.jsonl"}} {
		r := runCLI(append([]string{"logs", "turn-1"}, src...)...)
		require.Equal(t, 0, r.code, r.String())
		assert.Contains(t, r.stdout, "calling gpt-4o")
		assert.Contains(t, r.stdout, "rate limited: retrying")
		assert.Contains(t, r.stdout, "retry_ms=20")
		assert.NotContains(t, r.stdout, "judge", "another run's")

		r = runCLI(append([]string{"logs", "--where", "severity>=warn"}, src...)...)
		require.Equal(t, 0, r.code, r.String())
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		require.Len(t, lines, 3, r.stdout)
		assert.Contains(t, lines[0], "SEVERITY")
		assert.Contains(t, lines[1], "warn")
		assert.Contains(t, lines[2], "error")
		assert.Contains(t, lines[2], `judge timed out\x1b[2J`, "control characters escaped")

		r = runCLI(append([]string{"logs", "--json", "--where", `run_id="" and body exists`}, src...)...)
		require.Equal(t, 0, r.code, r.String())
		var got []map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
		require.Len(t, got, 1)
		assert.Equal(t, "debug", got[0]["severity"])
		assert.Equal(t, "", got[0]["run_id"], "logged outside any run")
		assert.Equal(t, "started", got[0]["body"])
	}
}

func TestLogsCommandBadInput(t *testing.T) {
	dir := inFixture(t)
	writeLogs(t, dir)
	for args, want := range map[string]string{
		"logs --where severity>=loud": "unknown severity",
		"logs --where name=x":         "log events have no name",
		"logs --limit -1":             "cannot be negative",
		"logs a b":                    "want [RUN]",
		"logs --where severity>=":     "bad --where",
	} {
		r := runCLI(strings.Fields(args)...)
		assert.NotEqual(t, 0, r.code, args)
		assert.Contains(t, r.stderr, want, args)
	}
	r := runCLI("logs", "no-such-run")
	assert.Equal(t, 0, r.code)
	assert.Equal(t, "no log events in run no-such-run\n", r.stdout)
}

func TestShowPrintsLogLines(t *testing.T) {
	dir := inFixture(t)
	writeLogs(t, dir)
	r := runCLI("show", "turn-1")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "* warn in inference: rate limited: retrying  retry_ms=20")
	assert.Contains(t, r.stdout, "* info in inference: calling gpt-4o")
	r = runCLI("show", "turn-1", "--color")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "\x1b[33m* warn in inference")
}
