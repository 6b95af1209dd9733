package setup_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/setup"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

func TestMain(m *testing.M) { os.Exit(pgtest.MainCheckingLeaks(m)) }

// TestEnvPostgres installs with STAGETRACE_SINKS=postgres:postgres://…: the
// span is in the database once Shutdown returns.
func TestEnvPostgres(t *testing.T) {
	url := pgtest.URL(t)
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	spans := oneSpan(t, context.Background(), path, nil, env(map[string]string{
		setup.EnvSinks: "jsonl:" + path + ",postgres:" + url, setup.EnvRunID: "run-pg",
	}))
	require.Len(t, spans, 1)
	store, err := postgressink.OpenReadOnly(context.Background(), url)
	require.NoError(t, err)
	defer func() { require.NoError(t, store.Close()) }()
	run, err := store.Run(context.Background(), "run-pg")
	require.NoError(t, err)
	assert.Equal(t, 1, run.Spans)
}

// env returns a lookup over vars.
func env(vars map[string]string) setup.Option {
	return setup.WithEnv(func(k string) string { return vars[k] })
}

// readSpans reads the stage spans of the JSONL file at path.
func readSpans(t *testing.T, path string) []stagetrace.StageSpan {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	var spans []stagetrace.StageSpan
	d := stagetrace.NewDecoder(f)
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			return spans
		}
		require.NoError(t, err)
		if rec.Span != nil {
			spans = append(spans, *rec.Span)
		}
	}
}

// oneSpan installs with opts, ends one span started from ctx with attrs,
// shuts down and returns the spans of the JSONL file at path.
func oneSpan(t *testing.T, ctx context.Context, path string, attrs []attribute.KeyValue, opts ...setup.Option) []stagetrace.StageSpan {
	t.Helper()
	inst, err := setup.Install(context.Background(), opts...)
	require.NoError(t, err)
	_, span := inst.TracerProvider().Tracer("test").Start(ctx, "step")
	span.SetAttributes(attrs...)
	span.End()
	require.NoError(t, inst.Shutdown(context.Background()))
	return readSpans(t, path)
}

func TestParseSinkSpecKeepsURLColons(t *testing.T) {
	specs, err := setup.ParseSinkSpec(" jsonl:./runs.jsonl, sqlite:./runs.db ,http:https://ingest.example:8443/v1,")
	require.NoError(t, err)
	assert.Equal(t, []setup.SinkSpec{
		{Kind: "jsonl", Target: "./runs.jsonl"},
		{Kind: "sqlite", Target: "./runs.db"},
		{Kind: "http", Target: "https://ingest.example:8443/v1"},
	}, specs)
}

func TestEnvSinksOpensEveryKindAndShutdownFlushes(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		posts.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	dir := t.TempDir()
	jsonl, db := filepath.Join(dir, "out", "runs.jsonl"), filepath.Join(dir, "runs.db")

	spans := oneSpan(t, context.Background(), jsonl, nil, env(map[string]string{
		setup.EnvSinks: "jsonl:" + jsonl + ",sqlite:" + db + ",http:" + srv.URL + "/v1",
		setup.EnvRunID: "run-env",
	}))

	require.Len(t, spans, 1, "the span is in the file once Shutdown returns")
	assert.Equal(t, "run-env", spans[0].RunID)
	assert.Positive(t, posts.Load(), "the http sink posted the batch")
	store, err := sqlitesink.OpenReadOnly(db)
	require.NoError(t, err)
	defer func() { require.NoError(t, store.Close()) }()
	run, err := store.Run(context.Background(), "run-env")
	require.NoError(t, err)
	assert.Equal(t, 1, run.Spans)
}

func TestEnvBaggageKeys(t *testing.T) {
	m, err := baggage.NewMember("run.id", "from-baggage")
	require.NoError(t, err)
	b, err := baggage.New(m)
	require.NoError(t, err)
	ctx := baggage.ContextWithBaggage(context.Background(), b)

	path := filepath.Join(t.TempDir(), "a.jsonl")
	spans := oneSpan(t, ctx, path, nil, env(map[string]string{
		setup.EnvSinks: "jsonl:" + path, setup.EnvBaggageKeys: "run.id, run.stage",
	}))
	require.Len(t, spans, 1)
	assert.Equal(t, "from-baggage", spans[0].RunID)

	path = filepath.Join(t.TempDir(), "b.jsonl")
	spans = oneSpan(t, ctx, path, nil, env(map[string]string{setup.EnvSinks: "jsonl:" + path}))
	require.Len(t, spans, 1)
	assert.NotEqual(t, "from-baggage", spans[0].RunID, "baggage is not trusted unless listed")
}

func TestEnvPresets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	spans := oneSpan(t, context.Background(), path,
		[]attribute.KeyValue{attribute.Int("gen_ai.usage.input_tokens", 812), attribute.String("gen_ai.operation.name", "chat")},
		env(map[string]string{setup.EnvSinks: "jsonl:" + path, setup.EnvPresets: "genai"}))
	require.Len(t, spans, 1)
	v, ok := spans[0].Findings.Get("input_tokens")
	require.True(t, ok, "the genai preset derives input_tokens")
	assert.Equal(t, int64(812), v.AsInt64())
	assert.Equal(t, "chat", spans[0].Stage)
}

func writeRules(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

const stepRules = `presets: [genai]
rules:
  - name: step
    match:
      span_name: step
    stage: stepping
    findings:
      - {name: documents, from: app.count}
`

func TestEnvRulesCombinedWithPresetsTheFileLists(t *testing.T) {
	rulesPath := writeRules(t, stepRules)
	path := filepath.Join(t.TempDir(), "a.jsonl")
	spans := oneSpan(t, context.Background(), path,
		[]attribute.KeyValue{attribute.Int("app.count", 4), attribute.Int("gen_ai.usage.output_tokens", 9)},
		env(map[string]string{setup.EnvSinks: "jsonl:" + path, setup.EnvRules: rulesPath, setup.EnvPresets: "genai"}))
	require.Len(t, spans, 1)
	assert.Equal(t, "stepping", spans[0].Stage)
	docs, ok := spans[0].Findings.Get("documents")
	require.True(t, ok)
	assert.Equal(t, int64(4), docs.AsInt64())
	out, ok := spans[0].Findings.Get("output_tokens")
	require.True(t, ok)
	assert.Equal(t, int64(9), out.AsInt64())
}

// Presets the file does not list join it: the file's rules first, then
// every preset in precedence order.
func TestEnvPresetsJoinTheRulesFile(t *testing.T) {
	rulesPath := writeRules(t, strings.Replace(stepRules, "presets: [genai]\n", "", 1))
	path := filepath.Join(t.TempDir(), "a.jsonl")
	spans := oneSpan(t, context.Background(), path,
		[]attribute.KeyValue{attribute.Int("app.count", 4), attribute.Int("llm.token_count.prompt", 7)},
		env(map[string]string{setup.EnvSinks: "jsonl:" + path, setup.EnvRules: rulesPath, setup.EnvPresets: "openinference"}))
	require.Len(t, spans, 1)
	assert.Equal(t, "stepping", spans[0].Stage, "the file's rule applies")
	in, ok := spans[0].Findings.Get("input_tokens")
	require.True(t, ok, "the preset from the variable applies too")
	assert.Equal(t, int64(7), in.AsInt64())
}

func TestResourceFromOTelEnvironment(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "checkout")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
	path := filepath.Join(t.TempDir(), "a.jsonl")
	spans := oneSpan(t, context.Background(), path, nil, env(map[string]string{setup.EnvSinks: "jsonl:" + path}))
	require.Len(t, spans, 1)
	require.NotNil(t, spans[0].Resource)
	name, _ := spans[0].Resource.Attrs.Get("service.name")
	assert.Equal(t, "checkout", name.AsString())
	envName, _ := spans[0].Resource.Attrs.Get("deployment.environment")
	assert.Equal(t, "test", envName.AsString())
	sdk, ok := spans[0].Resource.Attrs.Get("telemetry.sdk.name")
	require.True(t, ok)
	assert.Equal(t, "opentelemetry", sdk.AsString())
}

func TestOptionsOverrideEnvironment(t *testing.T) {
	dir := t.TempDir()
	envPath, optPath := filepath.Join(dir, "env.jsonl"), filepath.Join(dir, "opt.jsonl")
	m, err := baggage.NewMember("run.id", "from-baggage")
	require.NoError(t, err)
	b, err := baggage.New(m)
	require.NoError(t, err)
	ctx := baggage.ContextWithBaggage(context.Background(), b)

	spans := oneSpan(t, ctx, optPath,
		[]attribute.KeyValue{attribute.Int("gen_ai.usage.input_tokens", 3)},
		env(map[string]string{
			setup.EnvSinks:       "jsonl:" + envPath,
			setup.EnvRunID:       "run-env",
			setup.EnvBaggageKeys: "run.id",
			setup.EnvPresets:     "genai",
			setup.EnvRules:       filepath.Join(dir, "missing.yaml"),
		}),
		setup.WithSinkSpec("jsonl:"+optPath),
		setup.WithRunID("run-opt"),
		setup.WithBaggageKeys(),
		setup.WithPresets(),
		setup.WithRulesFile(""),
	)
	require.Len(t, spans, 1)
	assert.Equal(t, "run-opt", spans[0].RunID, "WithRunID wins, and WithBaggageKeys() turns baggage off")
	_, ok := spans[0].Findings.Get("input_tokens")
	assert.False(t, ok, "WithPresets() turns the env presets off")
	assert.NoFileExists(t, envPath, "WithSinkSpec replaces STAGETRACE_SINKS")
}

func TestWithSinksReplacesEnvSinks(t *testing.T) {
	dir := t.TempDir()
	envPath := filepath.Join(dir, "env.jsonl")
	mem := &recordingSink{}
	inst, err := setup.Install(context.Background(), env(map[string]string{setup.EnvSinks: "jsonl:" + envPath}), setup.WithSinks(mem))
	require.NoError(t, err)
	_, span := inst.TracerProvider().Tracer("test").Start(context.Background(), "step")
	span.End()
	require.NoError(t, inst.Shutdown(context.Background()))
	assert.Equal(t, 1, mem.spans())
	assert.True(t, mem.isShut())
	assert.NoFileExists(t, envPath)
}

func TestBadValuesNameTheirVariable(t *testing.T) {
	dir := t.TempDir()
	rulesPath := writeRules(t, stepRules)
	badRules := writeRules(t, "rules:\n  - name: x\n    nonsense: 1\n")
	ok := "jsonl:" + filepath.Join(dir, "ok.jsonl")
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no sinks", map[string]string{}, "setup: STAGETRACE_SINKS: no sinks configured"},
		{"unknown kind", map[string]string{setup.EnvSinks: "kafka:x"}, `setup: STAGETRACE_SINKS: unknown sink kind "kafka" in "kafka:x" (known: jsonl, sqlite, http, postgres)`},
		{"postgres not a URL", map[string]string{setup.EnvSinks: "postgres:./runs.db"}, `setup: STAGETRACE_SINKS: the target of "postgres:./runs.db" is not a postgres:// URL`},
		{"unknown kind hides password", map[string]string{setup.EnvSinks: "postgress:postgres://u:s3cret@h/db"}, `unknown sink kind "postgress" in "postgress:postgres://u:xxxxx@h/db"`},
		{"no server hides password", map[string]string{setup.EnvSinks: "postgres:postgres://u:s3cret@/db?host=/nonexistent&connect_timeout=2"}, `setup: STAGETRACE_SINKS: postgres:postgres://u:xxxxx@/db?`},
		{"no colon", map[string]string{setup.EnvSinks: "runs.jsonl"}, `setup: STAGETRACE_SINKS: "runs.jsonl" is not kind:target`},
		{"empty target", map[string]string{setup.EnvSinks: "jsonl:"}, `setup: STAGETRACE_SINKS: empty target in "jsonl:"`},
		{"bad url", map[string]string{setup.EnvSinks: "http:ftp://x"}, "setup: STAGETRACE_SINKS: http:ftp://x:"},
		{"missing rules", map[string]string{setup.EnvSinks: ok, setup.EnvRules: filepath.Join(dir, "none.yaml")}, "setup: STAGETRACE_RULES:"},
		{"invalid rules", map[string]string{setup.EnvSinks: ok, setup.EnvRules: badRules}, "setup: STAGETRACE_RULES:"},
		{"unknown preset", map[string]string{setup.EnvSinks: ok, setup.EnvPresets: "genai,nope"}, "setup: STAGETRACE_PRESETS:"},
		{"unknown preset beside rules", map[string]string{setup.EnvSinks: ok, setup.EnvRules: rulesPath, setup.EnvPresets: "nope"}, `setup: STAGETRACE_PRESETS: unknown preset "nope"`},
		{"bad baggage key", map[string]string{setup.EnvSinks: ok, setup.EnvBaggageKeys: "user.id"}, `setup: STAGETRACE_BAGGAGE_KEYS: unknown baggage key "user.id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := &recordingSink{}
			opts := []setup.Option{env(tt.vars)}
			if tt.name != "no sinks" {
				opts = append(opts, setup.WithSinks(mem))
				// WithSinks replaces the variable's sinks; give them
				// back through the spec so they are still checked.
				opts = append(opts, setup.WithSinkSpec(tt.vars[setup.EnvSinks]))
			}
			inst, err := setup.Install(context.Background(), opts...)
			require.Error(t, err)
			assert.Nil(t, inst)
			if tt.name != "no sinks" && tt.vars[setup.EnvSinks] != ok {
				// The spec came from the option, which the error names.
				assert.Contains(t, err.Error(), "setup: WithSinkSpec:")
			} else {
				assert.Contains(t, err.Error(), tt.want)
			}
			if tt.name != "no sinks" {
				assert.True(t, mem.isShut(), "a given sink is shut down when Install fails")
			}

			// Through the environment alone, the error names the variable.
			_, err = setup.Install(context.Background(), env(tt.vars))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSinksOpenedBeforeAFailureAreShutDown(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	// sqlite opens first, then the http sink fails on its URL.
	_, err := setup.Install(context.Background(), env(map[string]string{setup.EnvSinks: "sqlite:" + db + ",http:not a url"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "setup: STAGETRACE_SINKS: http:not a url")
	// A store left open would hold its writer goroutines, which goleak
	// reports at the end of the package; reopening also proves it closed.
	store, err := sqlitesink.Open(db)
	require.NoError(t, err)
	require.NoError(t, store.Close())
}

func TestShutdownIsIdempotentAndFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	inst, err := setup.Install(context.Background(), setup.WithSinkSpec("jsonl:"+path))
	require.NoError(t, err)
	tracer := inst.TracerProvider().Tracer("test")
	for range 5 {
		_, span := tracer.Start(context.Background(), "step")
		span.End()
	}
	require.NoError(t, inst.Shutdown(context.Background()))
	assert.Len(t, readSpans(t, path), 5, "every ended span is written by Shutdown")
	assert.NoError(t, inst.Shutdown(context.Background()))
}

func TestWithGlobalSetsProviderAndPropagator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	inst, err := setup.Install(context.Background(), setup.WithSinkSpec("jsonl:"+path), setup.WithGlobal())
	require.NoError(t, err)
	defer func() { require.NoError(t, inst.Shutdown(context.Background())) }()
	assert.Same(t, inst.TracerProvider(), otel.GetTracerProvider())
	assert.ElementsMatch(t, []string{"traceparent", "tracestate", "baggage"}, otel.GetTextMapPropagator().Fields())
}

func TestNewExporterFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	exp, err := setup.NewExporter(context.Background(), env(map[string]string{setup.EnvSinks: "jsonl:" + path}))
	require.NoError(t, err)
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.FileExists(t, path)

	_, err = setup.NewExporter(context.Background(), env(map[string]string{setup.EnvSinks: "kafka:x"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STAGETRACE_SINKS")
}

// recordingSink counts the spans written to it and whether it was shut
// down.
type recordingSink struct {
	mu   sync.Mutex
	n    int
	shut bool
}

func (s *recordingSink) Write(_ context.Context, b stagetrace.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n += len(b.Spans)
	return nil
}

func (s *recordingSink) Shutdown(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shut = true
	return nil
}

func (s *recordingSink) spans() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *recordingSink) isShut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shut
}
