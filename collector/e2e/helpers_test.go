//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("collector not listening on %s", addr)
}

// collectorBin returns the collector binary under test: the one named by
// OTELCOL_STAGETRACE, else bin/otelcol-stagetrace, which make collector
// builds.
func collectorBin(t *testing.T) string {
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

// collector is a running collector process.
type collector struct {
	cmd    *exec.Cmd
	exited bool
}

// startCollector runs the collector with config and env added to this
// process's environment, its OTLP receiver listening on a free port of
// 127.0.0.1 for each protocol given ("grpc", "http"). It returns the
// process and the address of each protocol; the process is killed at the
// end of the test if it is still running.
func startCollector(t *testing.T, config string, env []string, protocols ...string) (*collector, map[string]string) {
	t.Helper()
	addrs := map[string]string{}
	args := []string{"--config=" + config}
	for _, p := range protocols {
		addrs[p] = "127.0.0.1:" + strconv.Itoa(freePort(t))
		args = append(args, "--set=receivers::otlp::protocols::"+p+"::endpoint="+addrs[p])
	}
	c := &collector{cmd: exec.Command(collectorBin(t), args...)}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = os.Stdout, os.Stderr
	require.NoError(t, c.cmd.Start())
	t.Cleanup(func() {
		if !c.exited {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
	})
	for _, p := range protocols {
		waitListening(t, addrs[p])
	}
	return c, addrs
}

// stop stops the collector with SIGTERM, as a service manager does, and
// requires a clean exit within 30 s: its pipelines flush on the way out.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		c.exited = true
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
		c.exited = true
		t.Fatal("the collector did not stop within 30 s of SIGTERM")
	}
}

// stagetraceCLI returns the stagetrace command to run: the binary named by
// STAGETRACE_BIN (make e2e builds bin/stagetrace), else one built from
// this repository into a temporary directory.
func stagetraceCLI(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("STAGETRACE_BIN"); bin != "" {
		_, err := os.Stat(bin)
		require.NoError(t, err, "STAGETRACE_BIN")
		return bin
	}
	bin := filepath.Join(t.TempDir(), "stagetrace")
	build := exec.Command("go", "build", "-o", bin, "./cmd/stagetrace")
	build.Dir = filepath.Join("..", "..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/stagetrace: %s", out)
	return bin
}

// cliResult is what one run of the command printed, and its exit code.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the stagetrace command bin with args, for at most 30 s.
func runCLI(t *testing.T, bin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	timer := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}
