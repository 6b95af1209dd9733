//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func collectorBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("OTELCOL_STAGETRACE")
	if bin == "" {
		bin = filepath.Join("..", "..", "bin", "otelcol-stagetrace")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("collector binary %s: %v (build it first: make collector)", bin, err)
	}
	return bin
}

// TestCollectorRefusesProcessorPrices: the built collector refuses a price
// table in the stagetrace processor, naming where it belongs, instead of
// running without costs.
func TestCollectorRefusesProcessorPrices(t *testing.T) {
	cmd := exec.Command(collectorBinary(t), "validate", "--config="+filepath.Join("testdata", "processor_prices.yaml"))
	cmd.Env = append(os.Environ(), "STAGETRACE_JSONL="+filepath.Join(t.TempDir(), "out.jsonl"))
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "validate must fail: %s", out)
	assert.Contains(t, string(out), "prices: the stagetrace processor computes no cost")
	assert.Contains(t, string(out), "stagetrace exporter")
}

// TestCollectorWarnsOfRulesFilePrices: a rules file with prices given to
// the processor starts, with a warning saying the prices take effect in the
// exporter only.
func TestCollectorWarnsOfRulesFilePrices(t *testing.T) {
	httpAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command(collectorBinary(t),
		"--config="+filepath.Join("testdata", "processor_rules_prices.yaml"),
		"--set=receivers::otlp::protocols::http::endpoint="+httpAddr,
	)
	cmd.Env = append(os.Environ(),
		"STAGETRACE_JSONL="+filepath.Join(t.TempDir(), "out.jsonl"),
		"STAGETRACE_RULES="+filepath.Join("testdata", "rules_with_prices.yaml"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitListening(t, httpAddr)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
	exited = true
	assert.Contains(t, logs.String(), "its prices section has no effect in the stagetrace processor")
}
