//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/internal/syncbuf"
)

func TestMain(m *testing.M) {
	// The OTLP client processes of TestTwoCollectorsOnePostgres.
	if spec := os.Getenv(clientEnv); spec != "" {
		os.Exit(otlpClient(spec))
	}
	os.Exit(pgtest.Main(m))
}

const (
	clientEnv = "STAGETRACE_E2E_CLIENT"
	// Each client sends clientTraces traces of traceSpans spans, in runs
	// of runTraces traces; every tenth trace goes to the shared run, whose
	// spans so arrive through both collectors.
	clientTraces = 300
	traceSpans   = 4
	runTraces    = 50
)

// pgConfig is a collector writing to the database in STAGETRACE_PG_URL,
// with the queue and retries that carry an outage of the server.
const pgConfig = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${env:STAGETRACE_GRPC}
processors:
  stagetrace: {}
exporters:
  stagetrace:
    postgres:
      url: ${env:STAGETRACE_PG_URL}
    sending_queue:
      enabled: true
      queue_size: 100000
    retry_on_failure:
      enabled: true
      initial_interval: 100ms
      max_interval: 1s
      max_elapsed_time: 5m
service:
  telemetry:
    logs:
      level: info
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [stagetrace]
      exporters: [stagetrace]
`

// countingExporter counts the spans the collector acknowledged.
type countingExporter struct {
	sdktrace.SpanExporter
	acked atomic.Int64
}

func (c *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := c.SpanExporter.ExportSpans(ctx, spans)
	if err == nil {
		c.acked.Add(int64(len(spans)))
	}
	return err
}

// otlpClient sends the traces of one service over OTLP/gRPC, spec being
// "addr service", and prints how many spans the collector acknowledged.
func otlpClient(spec string) int {
	addr, service, _ := strings.Cut(spec, " ")
	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	counted := &countingExporter{SpanExporter: exp}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(counted, sdktrace.WithMaxExportBatchSize(64), sdktrace.WithBatchTimeout(50*time.Millisecond),
			sdktrace.WithMaxQueueSize(100000)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
	)
	tr := tp.Tracer("e2e")
	for i := range clientTraces {
		run := fmt.Sprintf("%s-%d", service, i/runTraces)
		if i%10 == 0 {
			run = "shared"
		}
		rctx, root := tr.Start(ctx, "pipeline")
		root.SetAttributes(attribute.String("run.id", run), attribute.String("run.stage", "ingest"))
		for j := 1; j < traceSpans; j++ {
			_, c := tr.Start(rctx, "step "+strconv.Itoa(j))
			c.SetAttributes(attribute.String("run.id", run))
			c.End()
		}
		root.End()
		time.Sleep(20 * time.Millisecond) // a steady stream across the restart
	}
	if err := tp.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Println(counted.acked.Load())
	return 0
}

// TestTwoCollectorsOnePostgres runs two built collectors on their own
// loopback ports, each fed by its own OTLP client process, both writing one
// PostgreSQL database; the server is restarted while the clients send.
// The command then lists both services' runs, and the run both sent to,
// with exact span counts: nothing acknowledged was lost.
func TestTwoCollectorsOnePostgres(t *testing.T) {
	bin := collectorBinary(t)
	srv := pgtest.Start(t)
	if os.Getenv(pgtest.URLEnv) != "" {
		t.Skip("restarting the server needs the throwaway cluster, not " + pgtest.URLEnv)
	}
	url := srv.NewDatabase(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "collector.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(pgConfig), 0o600))

	var addrs []string
	var collectors []*exec.Cmd
	var logs []*syncbuf.Buffer
	for _, name := range []string{"a", "b"} {
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		addrs = append(addrs, addr)
		cmd := exec.Command(bin, "--config="+cfgPath)
		cmd.Env = append(os.Environ(), "STAGETRACE_GRPC="+addr, "STAGETRACE_PG_URL="+url)
		log := &syncbuf.Buffer{}
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(t, cmd.Start())
		collectors, logs = append(collectors, cmd), append(logs, log)
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
			if t.Failed() {
				t.Logf("collector %s log:\n%s", name, log.String())
			}
		})
		waitListening(t, addr)
	}

	clients := make([]*exec.Cmd, 2)
	outs := make([]*bytes.Buffer, 2)
	for i, svc := range []string{"svc-a", "svc-b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), clientEnv+"="+addrs[i]+" "+svc)
		outs[i] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[i], os.Stderr
		require.NoError(t, cmd.Start())
		clients[i] = cmd
	}
	// Mid-stream: the server goes away and comes back.
	time.Sleep(2 * time.Second)
	require.NoError(t, srv.Restart())
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); assert.NoError(t, c.Wait()) }()
	}
	wg.Wait()
	var acked int64
	for _, out := range outs {
		n, err := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
		require.NoError(t, err, "client output %q", out.String())
		acked += n
	}
	require.Equal(t, int64(2*clientTraces*traceSpans), acked, "every span acknowledged")

	// Stopping the collectors drains their queues into the database.
	for i, cmd := range collectors {
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, cmd.Wait())
		// The outage was real: the exporter's writes failed and were
		// retried from the queue.
		assert.Contains(t, logs[i].String(), "Exporting failed. Will retry", "collector %d saw the restart", i)
	}

	runs := listRuns(t, url)
	want := map[string]int{"shared": 2 * clientTraces / 10 * traceSpans}
	for _, svc := range []string{"svc-a", "svc-b"} {
		for r := 0; r < clientTraces/runTraces; r++ {
			traces := runTraces - runTraces/10 // every tenth trace is the shared run's
			want[fmt.Sprintf("%s-%d", svc, r)] = traces * traceSpans
		}
	}
	assert.Equal(t, want, runs, "exact span counts per run")
}

// listRuns runs `stagetrace runs --db URL --json` and returns each run's
// span count.
func listRuns(t *testing.T, url string) map[string]int {
	t.Helper()
	cmd := exec.Command("go", "run", "./cmd/stagetrace", "runs", "--db", url, "--json", "--limit", "0")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	require.NoError(t, err, "stagetrace runs: %s", out)
	var runs []struct {
		ID    string `json:"run_id"`
		Spans int    `json:"spans"`
	}
	require.NoError(t, json.Unmarshal(out, &runs), "%s", out)
	got := map[string]int{}
	for _, r := range runs {
		got[r.ID] = r.Spans
	}
	return got
}
