package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/internal/syncbuf"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

const alertRules = `alerts:
  - name: chat-calls
    metric: stage:chat
    when: count >= 1
    window: 5m
    level: warning
    message: the chatbot called a model
`

// TestServeProcessDrainsOnSIGTERM runs serve as a process of its own,
// with an alert rules file: the alert fires and is shown by the API, and
// SIGTERM stops it cleanly with every received span in the store.
func TestServeProcessDrainsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	rulesFile := filepath.Join(dir, "alerts.yaml")
	require.NoError(t, os.WriteFile(rulesFile, []byte(alertRules), 0o644))
	cmd := exec.Command(os.Args[0], "serve", "--db", db, "--alerts", rulesFile,
		"--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--ui", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), asCommandEnv+"=1")
	stdout, stderr := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	require.Eventually(t, func() bool { return uiLine.MatchString(stdout.String()) }, 30*time.Second, 20*time.Millisecond, "stderr: %s", stderr.String())
	out := stdout.String()
	grpcAddr, ui := grpcLine.FindStringSubmatch(out)[1], uiLine.FindStringSubmatch(out)[1]

	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(grpcAddr), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "chatbot"))), sdktrace.WithBatcher(exp))
	const runs = 20
	for i := range runs {
		pipeline(tp, "run-"+string(rune('a'+i)))
	}
	require.NoError(t, tp.Shutdown(ctx))

	require.Eventually(t, func() bool {
		var alerts []alert.Alert
		getJSON(t, "http://"+ui+"/api/v1/alerts", &alerts)
		return len(alerts) > 0 && alerts[0].Name == "chat-calls" && alerts[0].State == alert.StateFiring
	}, 10*time.Second, 50*time.Millisecond, "the alert rule fired")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
		require.NoError(t, waitErr, "exit status; stderr: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	assert.Contains(t, stdout.String(), "stopped; 60 spans")

	st, err := sqlitesink.OpenReadOnly(db)
	require.NoError(t, err)
	defer st.Close()
	for i := range runs {
		run, err := st.Run(ctx, "run-"+string(rune('a'+i)))
		require.NoError(t, err)
		assert.Equal(t, 3, run.Spans)
	}
}
