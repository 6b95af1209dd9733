package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/syncbuf"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// served is a running "stagetrace serve".
type served struct {
	grpc, http, ui string // addresses
	stdout, stderr *syncbuf.Buffer
	stop           func() int // stops it as SIGTERM does; returns the exit code
}

var (
	grpcLine = regexp.MustCompile(`OTLP/gRPC  (\S+)`)
	httpLine = regexp.MustCompile(`OTLP/HTTP  http://(\S+)`)
	uiLine   = regexp.MustCompile(`UI         http://(\S+)/`)
)

// startServe runs "stagetrace serve" with args on random loopback ports
// and waits until it prints its addresses.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	old := serveContext
	serveContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	t.Cleanup(func() { serveContext = old })
	s := &served{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}}
	code := make(chan int, 1)
	all := append([]string{"serve", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--ui", "127.0.0.1:0"}, args...)
	go func() { code <- run(all, s.stdout, s.stderr) }()
	var once sync.Once
	var exit int
	s.stop = func() int {
		once.Do(func() {
			cancel()
			exit = <-code
		})
		return exit
	}
	t.Cleanup(func() { s.stop() })
	require.Eventually(t, func() bool {
		select {
		case c := <-code:
			code <- c
			return true
		default:
		}
		return uiLine.MatchString(s.stdout.String())
	}, 10*time.Second, 10*time.Millisecond)
	out := s.stdout.String()
	require.Regexp(t, uiLine, out, "serve did not start: %s", s.stderr.String())
	s.grpc = grpcLine.FindStringSubmatch(out)[1]
	s.http = httpLine.FindStringSubmatch(out)[1]
	s.ui = uiLine.FindStringSubmatch(out)[1]
	return s
}

// pipeline records a run as an uninstrumented-by-stagetrace service
// would: plain OpenTelemetry spans, the run named by run.id on the root,
// the model call described by the GenAI conventions only.
func pipeline(tp trace.TracerProvider, runID string) {
	ctx := context.Background()
	tr := tp.Tracer("app")
	ctx, root := tr.Start(ctx, "chat turn", trace.WithAttributes(attribute.String("run.id", runID)))
	_, ret := tr.Start(ctx, "retrieve", trace.WithAttributes(attribute.String("run.stage", "retrieval")))
	ret.End()
	_, chat := tr.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
		attribute.Int("gen_ai.usage.input_tokens", 812),
		attribute.Int("gen_ai.usage.output_tokens", 95),
	))
	chat.End()
	root.End()
}

func TestServeReceivesTheGoSDKExporters(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new", "runs.db")
	s := startServe(t, "--db", db)
	assert.Contains(t, s.stdout.String(), "export OTEL_EXPORTER_OTLP_ENDPOINT=http://"+s.http)
	assert.Contains(t, s.stdout.String(), "OTEL_EXPORTER_OTLP_PROTOCOL=grpc")

	res := resource.NewSchemaless(attribute.String("service.name", "chatbot"))
	ctx := context.Background()
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.http), otlptracehttp.WithInsecure(), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	require.NoError(t, err)
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(s.grpc), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	for run, exp := range map[string]sdktrace.SpanExporter{"run-http": httpExp, "run-grpc": grpcExp} {
		tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp))
		pipeline(tp, run)
		require.NoError(t, tp.ForceFlush(ctx))
		require.NoError(t, tp.Shutdown(ctx))
	}

	// Both runs are visible through the JSON API while serving.
	require.Eventually(t, func() bool {
		var runs []json.RawMessage
		getJSON(t, "http://"+s.ui+"/api/v1/runs", &runs)
		return len(runs) == 2
	}, 5*time.Second, 20*time.Millisecond)

	// The API answers with the command's --json shapes, byte for byte.
	for api, args := range map[string][]string{
		"/api/v1/runs":          {"runs", "--json", "--db", db},
		"/api/v1/sessions":      {"sessions", "--json", "--db", db},
		"/api/v1/runs/run-http": {"show", "run-http", "--json", "--db", db},
		"/api/v1/spans?where=" + url.QueryEscape("stage=chat") + "&limit=50": {"spans", "--json", "--db", db, "--where", "stage=chat", "--desc", "--limit", "50"},
	} {
		var stdout, stderr bytes.Buffer
		require.Equal(t, exitOK, run(args, &stdout, &stderr), stderr.String())
		resp, err := http.Get("http://" + s.ui + api)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, stdout.String(), string(body), api)
	}

	require.Equal(t, exitOK, s.stop(), "stderr: %s", s.stderr.String())
	assert.Contains(t, s.stdout.String(), "6 spans")

	st, err := sqlitesink.OpenReadOnly(db)
	require.NoError(t, err)
	defer st.Close()
	for _, id := range []string{"run-http", "run-grpc"} {
		run, err := st.Run(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, 3, run.Spans, id)
		assert.Equal(t, int64(812), run.InputTokens, "%s: the genai preset read the tokens", id)
		assert.Equal(t, int64(95), run.OutputTokens, id)
		spans, err := st.Spans(ctx, query.SpanQuery{Where: []query.Filter{{Field: query.FieldRunID, Op: query.OpEq, Value: stagetrace.StringValue(id)}}})
		require.NoError(t, err)
		stages := map[string]string{}
		for _, sp := range spans {
			stages[sp.Name] = sp.Stage
			require.NotNil(t, sp.Resource)
			v, _ := sp.Resource.Attrs.Get("service.name")
			assert.Equal(t, "chatbot", v.AsString())
		}
		assert.Equal(t, map[string]string{"chat turn": "", "retrieve": "retrieval", "chat gpt-4o": "chat"}, stages, id)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, v), string(body))
}

func TestServeRefusesBadFlags(t *testing.T) {
	t.Setenv("EMPTY_TOKEN", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ui", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"--otlp-http", ":4318"}, "not a loopback address"},
		{[]string{"--auth-token-env", "EMPTY_TOKEN"}, "EMPTY_TOKEN: the variable is empty"},
		{[]string{"--presets", "nope"}, "nope"},
		{[]string{"--otlp-grpc", "", "--otlp-http", "", "--ui", ""}, "nothing to serve"},
		{[]string{"--ttl", "-1h"}, "--ttl cannot be negative"},
		{[]string{"--ui", "nonsense"}, "bad --ui"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"serve", "--db", filepath.Join(t.TempDir(), "runs.db")}, tc.args...), &stdout, &stderr)
		assert.NotEqual(t, exitOK, code, "%v", tc.args)
		assert.Contains(t, stderr.String(), tc.want, "%v", tc.args)
	}
}

func TestServeNonLoopbackWithToken(t *testing.T) {
	t.Setenv("STAGETRACE_TEST_TOKEN", "s3cret-token")
	s := startServe(t, "--db", filepath.Join(t.TempDir(), "runs.db"), "--ui", "0.0.0.0:0", "--auth-token-env", "STAGETRACE_TEST_TOKEN")
	assert.NotContains(t, s.stdout.String()+s.stderr.String(), "s3cret-token", "the token is never printed")
	_, port, _ := stringsCut(s.ui)
	ui := "http://127.0.0.1:" + port
	resp, err := http.Get(ui + "/api/v1/runs")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, _ := http.NewRequest(http.MethodGet, ui+"/api/v1/runs", nil)
	req.Header.Set("Authorization", "Bearer s3cret-token")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// OTLP wants the token too.
	resp, err = http.Post("http://"+s.http+"/v1/traces", "application/json", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, exitOK, s.stop())
}

func stringsCut(hostport string) (string, string, bool) {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			return hostport[:i], hostport[i+1:], true
		}
	}
	return "", "", false
}
