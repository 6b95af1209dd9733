//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// spansPerRequest is the size of each OTLP request: an SDK batcher's
// default batch.
const spansPerRequest = 512

// requestBody returns request i: one run ("bench-<i>") of
// spansPerRequest spans in one trace, a root and children, every eighth
// a GenAI chat call with tokens, protobuf-encoded.
func requestBody(tb testing.TB, i int) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bench")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("bench")
	var tid pcommon.TraceID
	tid[0], tid[1], tid[2], tid[15] = byte(i>>16), byte(i>>8), byte(i), 1
	start := time.Unix(1_700_000_000, 0).Add(time.Duration(i) * time.Second)
	for k := range spansPerRequest {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(pcommon.SpanID{byte(k >> 8), byte(k), 1})
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(k) * time.Millisecond)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(k+1) * time.Millisecond)))
		attrs := s.Attributes()
		if k == 0 {
			s.SetName("pipeline")
			attrs.PutStr("run.id", "bench-"+strconv.Itoa(i))
			continue
		}
		s.SetParentSpanID(pcommon.SpanID{0, 0, 1})
		if k%8 == 0 {
			s.SetName("chat gpt-4o")
			s.SetKind(ptrace.SpanKindClient)
			attrs.PutStr("gen_ai.operation.name", "chat")
			attrs.PutStr("gen_ai.request.model", "gpt-4o")
			attrs.PutInt("gen_ai.usage.input_tokens", 812)
			attrs.PutInt("gen_ai.usage.output_tokens", 95)
			continue
		}
		s.SetName("step " + strconv.Itoa(k))
		attrs.PutStr("run.stage", "work")
		attrs.PutInt("app.items", int64(k))
		attrs.PutStr("app.note", "a short note")
	}
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	require.NoError(tb, err)
	return b
}

// buildServe builds the stagetrace command of this repository.
func buildServe(tb testing.TB) string {
	bin := filepath.Join(tb.TempDir(), "stagetrace")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/stagetrace")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "%s", out)
	return bin
}

// ingest starts cmd, waits for addr, POSTs bodies from 4 clients (a 429
// or 503 is retried after a short pause), stops cmd with SIGTERM and
// waits for it to exit: the time from the first request to the exit,
// every span in the store, is what is measured.
func ingest(b *testing.B, cmd *exec.Cmd, addr string, bodies [][]byte) (retries int64) {
	require.NoError(b, cmd.Start())
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	waitListening(b, addr)
	url := "http://" + addr + "/v1/traces"
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				for {
					resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(bodies[i]))
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
					if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					atomic.AddInt64(&retries, 1)
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(b, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(b, cmd.Wait())
	b.StopTimer()
	return retries
}

// storedSpans counts the spans of the runs in the store at path.
func storedSpans(b *testing.B, path string) int {
	st, err := sqlitesink.OpenReadOnly(path)
	require.NoError(b, err)
	defer st.Close()
	runs, err := st.Runs(context.Background(), query.RunFilter{})
	require.NoError(b, err)
	n := 0
	for _, r := range runs {
		n += r.Spans
	}
	return n
}

// BenchmarkIngestOTLPHTTP sends the same OTLP/HTTP requests to the
// OCB-built collector (stagetrace processor and exporter, SQLite) and to
// stagetrace serve (SQLite), each a process of its own on this machine,
// and reports spans written to the store per second. Run both in one
// invocation and compare the ratio:
//
//	make collector && cd collector && go test -tags e2e -run='^$' -bench=IngestOTLPHTTP -benchtime=200x -count=3 ./e2e/
func BenchmarkIngestOTLPHTTP(b *testing.B) {
	collector := os.Getenv("OTELCOL_STAGETRACE")
	if collector == "" {
		collector = filepath.Join("..", "..", "bin", "otelcol-stagetrace")
	}
	if _, err := os.Stat(collector); err != nil {
		b.Fatalf("collector binary %s: %v (build it first: make collector)", collector, err)
	}
	serve := buildServe(b)
	for _, target := range []string{"collector", "serve"} {
		b.Run(target, func(b *testing.B) {
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = requestBody(b, i)
			}
			db := filepath.Join(b.TempDir(), "runs.db")
			addr := "127.0.0.1:" + strconv.Itoa(freePort(b))
			var cmd *exec.Cmd
			if target == "collector" {
				cmd = exec.Command(collector, "--config="+filepath.Join("testdata", "bench_sqlite.yaml"),
					"--set=receivers::otlp::protocols::http::endpoint="+addr)
				cmd.Env = append(os.Environ(), "STAGETRACE_DB="+db)
			} else {
				cmd = exec.Command(serve, "serve", "--db", db, "--otlp-http", addr, "--otlp-grpc", "", "--ui", "")
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			retries := ingest(b, cmd, addr, bodies)
			elapsed := b.Elapsed()
			got := storedSpans(b, db)
			require.Equal(b, b.N*spansPerRequest, got, "every span in the store; stderr: %s", stderr.String())
			b.ReportMetric(float64(got)/elapsed.Seconds(), "spans/s")
			b.ReportMetric(float64(retries), "retries")
			b.ReportMetric(0, "ns/op")
		})
	}
}
