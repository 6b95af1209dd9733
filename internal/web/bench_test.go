package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// benchSpansEnv sets the size of the benchmarks' store; default a
// million spans, in runs of spansPerRun.
const benchSpansEnv = "STAGETRACE_BENCH_SPANS"

// benchDBEnv names a file for the benchmarks' store: written there when
// absent, reused as it is when present, so that a store of a million
// spans is built once across runs.
const benchDBEnv = "STAGETRACE_BENCH_DB"

const spansPerRun = 1000

var (
	benchOnce sync.Once
	benchDB   string
	benchErr  error
)

// benchStore writes, once per process, a store of runs of spansPerRun
// spans (a root, stages, every eighth a chat call with tokens) and
// returns its path.
func benchStore(b *testing.B) string {
	benchOnce.Do(func() {
		total := 1_000_000
		if s := os.Getenv(benchSpansEnv); s != "" {
			total, benchErr = strconv.Atoi(s)
			if benchErr != nil {
				return
			}
		}
		if benchDB = os.Getenv(benchDBEnv); benchDB != "" {
			if _, err := os.Stat(benchDB); err == nil {
				return
			}
		} else {
			dir, err := os.MkdirTemp("", "stagetrace-web-bench")
			if err != nil {
				benchErr = err
				return
			}
			benchDB = filepath.Join(dir, "runs.db")
		}
		st, err := sqlitesink.Open(benchDB)
		if err != nil {
			benchErr = err
			return
		}
		defer st.Shutdown(context.Background())
		for r := 0; r < total/spansPerRun; r++ {
			run := "run-" + strconv.Itoa(r)
			start := t0.Add(time.Duration(r) * time.Second)
			spans := make([]stagetrace.StageSpan, spansPerRun)
			for k := range spans {
				sp := &spans[k]
				sp.RunID, sp.Name = run, "step "+strconv.Itoa(k)
				sp.TraceID = stagetrace.TraceID{byte(r >> 16), byte(r >> 8), byte(r), 1}
				sp.SpanID = stagetrace.SpanID{byte(k >> 8), byte(k), 1}
				sp.StartTime, sp.EndTime = start.Add(time.Duration(k)*time.Microsecond), start.Add(time.Duration(k+1)*time.Microsecond)
				if k > 0 {
					sp.ParentSpanID = stagetrace.SpanID{0, 0, 1}
					sp.Stage = []string{"retrieval", "inference", "evaluation"}[k%3]
				}
				if k%8 == 1 {
					sp.Name = "chat gpt-4o"
					sp.Findings = stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(812)},
						{Key: "output_tokens", Value: stagetrace.Int64Value(95)}, {Key: "model", Value: stagetrace.StringValue("gpt-4o")}}
				}
			}
			if benchErr = st.Write(context.Background(), stagetrace.Batch{Spans: spans}); benchErr != nil {
				return
			}
		}
	})
	require.NoError(b, benchErr)
	return benchDB
}

// BenchmarkPages renders the UI's pages over a store of a million spans
// (STAGETRACE_BENCH_SPANS): the server time of one page, by ns/op.
// STAGETRACE_BENCH_DB keeps the store in a file for the next run.
//
//	go test -run='^$' -bench=Pages -benchtime=10x ./internal/web/
func BenchmarkPages(b *testing.B) {
	st, err := sqlitesink.OpenReadOnly(benchStore(b))
	require.NoError(b, err)
	defer st.Close()
	h, err := New(st)
	require.NoError(b, err)
	for _, p := range []struct{ name, path string }{
		{"runs", "/"},
		{"runs-filtered", "/?where=finding.input_tokens%3E500&status=ok"},
		{"runs-filtered-none", "/?where=finding.input_tokens%3E1000"},
		{"runs-page-10", "/?offset=500"},
		{"run", "/runs/run-7"},
		{"span", "/runs/run-7/spans/0101010000000000"},
		{"api-runs", "/api/v1/runs"},
		{"api-run", "/api/v1/runs/run-7"},
		{"span-search", "/spans?where=stage%3Dinference%20and%20name%3D%22chat%20gpt-4o%22"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p.path, rec.Code, rec.Body.String())
				}
			}
		})
	}
}
