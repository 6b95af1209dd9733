package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// requireNodeEnv makes a missing Node fail the test rather than skip it;
// CI sets it (CI=true does too).
const requireNodeEnv = "STAGETRACE_REQUIRE_NODE"

// nodeClient returns the directory of the Node client, its packages
// installed from the committed lockfile, or skips the test loudly.
func nodeClient(t *testing.T) string {
	t.Helper()
	_, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if nodeErr != nil || npmErr != nil {
		msg := "!!! node or npm not found: stagetrace serve was NOT tested with the Node OpenTelemetry SDK. Install them with `make node`."
		if os.Getenv(requireNodeEnv) != "" || os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "node"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@opentelemetry", "exporter-trace-otlp-proto")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci: %s", out)
	}
	return dir
}

// TestServeReceivesTheNodeSDK sends a run from the Node OpenTelemetry
// SDK's OTLP/protobuf exporter, configured only by
// OTEL_EXPORTER_OTLP_ENDPOINT as serve prints it, and reads it back from
// the store.
func TestServeReceivesTheNodeSDK(t *testing.T) {
	dir := nodeClient(t)
	db := filepath.Join(t.TempDir(), "runs.db")
	s := startServe(t, "--db", db)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "send.mjs", "node-run-1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+s.http, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "node: %s", out)
	require.Contains(t, string(out), "flushed node-run-1")

	require.Equal(t, exitOK, s.stop(), "stderr: %s", s.stderr.String())
	st, err := sqlitesink.OpenReadOnly(db)
	require.NoError(t, err)
	defer st.Close()
	run, err := st.Run(context.Background(), "node-run-1")
	require.NoError(t, err)
	assert.Equal(t, 3, run.Spans)
	assert.Equal(t, 2, run.Stages, "retrieval from run.stage, chat from the genai preset")
	assert.Equal(t, int64(812), run.InputTokens)
	assert.Equal(t, int64(95), run.OutputTokens)
	records, err := st.RunRecords(context.Background(), "node-run-1")
	require.NoError(t, err)
	for _, sp := range records.Spans {
		require.NotNil(t, sp.Resource)
		v, _ := sp.Resource.Attrs.Get("service.name")
		assert.Equal(t, "node-chatbot", v.AsString())
		assert.Equal(t, "node-app", sp.Scope)
	}
}
