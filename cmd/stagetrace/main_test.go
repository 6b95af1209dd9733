package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// asCommandEnv makes the test binary run as the command itself, so that
// a test can run it as a process of its own and signal it.
const asCommandEnv = "STAGETRACE_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommandEnv) == "1" {
		main()
	}
	// pgtest stops the PostgreSQL cluster the tests started.
	os.Exit(pgtest.MainCheckingLeaks(m))
}

// base is when the test runs start; now is when the tests run.
var (
	base = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	now  = base.Add(3 * time.Hour)
)

// seqIDs makes trace and span ids that are the same on every run.
type seqIDs struct {
	mu sync.Mutex
	n  uint64
}

func (g *seqIDs) next() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return g.n
}

func (g *seqIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	var t trace.TraceID
	binary.BigEndian.PutUint64(t[8:], g.next()|0x1000)
	return t, g.NewSpanID(context.Background(), t)
}

func (g *seqIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var s trace.SpanID
	binary.BigEndian.PutUint64(s[:], g.next())
	return s
}

func ms(start time.Time, n float64) time.Time {
	return start.Add(time.Duration(n * float64(time.Millisecond)))
}

// writeFixture records two chatbot turns, with fixed ids and times, into
// dir/stagetrace-out/runs.db and runs.jsonl, through the real exporter.
func writeFixture(t *testing.T, dir string) {
	t.Helper()
	out := filepath.Join(dir, "stagetrace-out")
	store, err := sqlitesink.Open(filepath.Join(out, "runs.db"))
	require.NoError(t, err)
	file, err := jsonlsink.New(filepath.Join(out, "runs.jsonl"))
	require.NoError(t, err)
	exp, err := exporter.New(exporter.WithSinks(store, file))
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attribute.String(string(attributes.ServiceName), "chatbot"))),
		sdktrace.WithIDGenerator(&seqIDs{}),
		sdktrace.WithSpanProcessor(processor.New()),
		sdktrace.WithSyncer(exp),
	)
	turn(tp, "turn-1", base, 812, 0.0042, true)
	turn(tp, "turn-2", base.Add(time.Hour), 1500, 0.011, false)
	require.NoError(t, tp.Shutdown(context.Background()))
}

func turn(tp trace.TracerProvider, runID string, start time.Time, inputTokens int, cost float64, rateLimited bool) {
	tracer := tp.Tracer("chatbot/rag")
	llm := tp.Tracer("chatbot/llm")
	ctx := attributes.ContextWithRun(context.Background(), runID)
	ctx, root := tracer.Start(ctx, "chat turn", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start))

	rctx, retrieve := tracer.Start(attributes.ContextWithStage(ctx, "retrieval"), "retrieve documents", trace.WithTimestamp(ms(start, 1)))
	_, search := tracer.Start(rctx, "vector search", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(ms(start, 2)),
		trace.WithAttributes(attribute.String("db.system", "qdrant")))
	attributes.SetFinding(search, "documents", 4)
	attributes.SetFinding(search, "retrieval_score", 0.82)
	search.End(trace.WithTimestamp(ms(start, 14)))
	retrieve.End(trace.WithTimestamp(ms(start, 15)))

	ictx, infer := tracer.Start(attributes.ContextWithStage(ctx, "inference"), "generate answer", trace.WithTimestamp(ms(start, 16)))
	callStart := 17.0
	if rateLimited {
		_, failed := llm.Start(ictx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(ms(start, 17)),
			trace.WithAttributes(attribute.String(string(attributes.GenAIRequestModel), "gpt-4o")))
		failed.RecordError(errors.New("429 rate limited"), trace.WithTimestamp(ms(start, 19)))
		failed.SetStatus(codes.Error, "429 rate limited")
		failed.End(trace.WithTimestamp(ms(start, 20)))
		callStart = 30
	}
	_, call := llm.Start(ictx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(ms(start, callStart)),
		trace.WithAttributes(
			attribute.String(string(attributes.GenAIRequestModel), "gpt-4o"),
			attribute.Int(string(attributes.GenAIUsageInputTokens), inputTokens),
		))
	call.AddEvent(attributes.EventMetric, trace.WithTimestamp(ms(start, 71)), trace.WithAttributes(
		attributes.MetricName.String("time_to_first_token"), attributes.MetricValue.Float64(41.5+float64(inputTokens)/100),
		attributes.MetricUnit.String("ms")))
	attributes.SetFinding(call, attributes.FindingInputTokens, inputTokens)
	attributes.SetFinding(call, attributes.FindingOutputTokens, 95)
	attributes.SetFinding(call, attributes.FindingCost, cost)
	call.SetStatus(codes.Ok, "")
	call.End(trace.WithTimestamp(ms(start, 75)))
	infer.End(trace.WithTimestamp(ms(start, 80)))

	_, judge := tracer.Start(attributes.ContextWithStage(ctx, "evaluation"), "judge answer", trace.WithTimestamp(ms(start, 81)))
	attributes.SetFinding(judge, "score", 0.88)
	attributes.SetFinding(judge, "safe", true)
	judge.End(trace.WithTimestamp(ms(start, 95)))
	root.End(trace.WithTimestamp(ms(start, 100)))
}

// result is what one command line did.
type result struct {
	code           int
	stdout, stderr string
}

func runCLI(args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

func (r result) String() string {
	return "exit " + string(rune('0'+r.code)) + "\n-- stdout --\n" + r.stdout + "-- stderr --\n" + r.stderr
}

// inFixture runs the test in a directory holding the fixture, with the
// clock fixed, and returns the directory.
func inFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFixture(t, dir)
	t.Chdir(dir)
	clock = func() time.Time { return now }
	t.Cleanup(func() { clock = time.Now })
	return dir
}

// golden compares got with testdata/name.golden, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testdata, name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write %s", path)
	assert.Equal(t, string(want), got, "output differs from %s; run go test -update if the change is meant", path)
}

// testdata is the absolute path of the testdata directory, found before
// tests change directory.
var testdata = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "testdata")
}()

func TestGolden(t *testing.T) {
	inFixture(t)
	tests := []struct {
		name string
		args []string
	}{
		{"help", []string{"help"}},
		{"runs", []string{"runs"}},
		{"runs_json", []string{"runs", "--json"}},
		{"runs_filtered", []string{"runs", "--status", "error", "--since", "4h", "--where", "finding.input_tokens>500"}},
		{"show", []string{"show", "turn-1"}},
		{"show_narrow", []string{"show", "--width", "10", "turn-2"}},
		{"show_json", []string{"show", "turn-2", "--json"}},
		{"spans_where", []string{"spans", "--where", "finding.input_tokens>500"}},
		{"spans_dotted_key", []string{"spans", "--where", "gen_ai.usage.input_tokens>=1000"}},
		{"spans_attrs_order", []string{"spans", "--where", "stage exists", "--attrs", "finding.input_tokens,gen_ai.request.model",
			"--order-by", "elapsed_ms", "--desc", "--limit", "4"}},
		{"spans_json", []string{"spans", "--json", "--where", "stage=evaluation"}},
		{"spans_none", []string{"spans", "--where", `name~"^nothing"`}},
		{"spans_unknown_field", []string{"spans", "--where", "run=turn-1"}},
		{"spans_unknown_field_jsonl", []string{"spans", "--jsonl", "stagetrace-out/runs.jsonl", "--where", "finding.tokens>5 and stage=inference"}},
		{"runs_unknown_field", []string{"runs", "--where", "finding.modle=gpt-4o"}},
		{"export_unknown_field", []string{"export", "--where", "zzzzzzzz exists"}},
		{"metrics", []string{"metrics", "time_to_first_token", "--since", "2024-05-01T00:00:00Z", "--until", "2024-05-02", "--step", "1h"}},
		{"metrics_by_run", []string{"metrics", "input_tokens", "--since", "6h", "--step", "30m", "--agg", "sum", "--by", "run_id"}},
		{"metrics_label", []string{"metrics", "time_to_first_token", "--since", "1d", "--instant", "--label", "run_id=~^turn-[2-9]$", "--agg", "max"}},
		{"metrics_json", []string{"metrics", "input_tokens", "--since", "1d", "--step", "1h", "--by", "stage,model", "--json"}},
		{"export_csv", []string{"export", "--format", "csv", "--where", "run_id=turn-1"}},
		{"export_jsonl", []string{"export", "--where", "finding.score exists"}},
		{"error_missing_db", []string{"runs", "--db", "nowhere/runs.db"}},
		{"error_bad_filter", []string{"spans", "--where", "finding.input_tok 500"}},
		{"error_bad_filter_value", []string{"spans", "--where", "status>ok"}},
		{"error_unknown_run", []string{"show", "turn-9"}},
		{"error_unknown_subcommand", []string{"report-card"}},
		{"error_bad_flag", []string{"runs", "--colour"}},
		{"error_missing_argument", []string{"show"}},
		{"error_db_and_jsonl", []string{"spans", "--db", "a.db", "--jsonl", "b.jsonl"}},
		{"error_bad_since", []string{"runs", "--since", "yesterday"}},
		{"error_bad_order", []string{"spans", "--order-by", "elapsed"}},
		{"error_small_step", []string{"metrics", "input_tokens", "--step", "500ms"}},
		{"error_bad_label", []string{"metrics", "input_tokens", "--label", "stage"}},
		{"error_missing_jsonl", []string{"runs", "--jsonl", "nowhere.jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(tt.args...)
			golden(t, tt.name, "$ stagetrace "+strings.Join(quoteArgs(tt.args), " ")+"\n"+r.String())
		})
	}
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"<>~$*") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

func TestHelpForEverySubcommand(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			r := runCLI(name, "-h")
			assert.Equal(t, exitOK, r.code)
			assert.Empty(t, r.stderr)
			assert.Contains(t, r.stdout, "Usage: stagetrace "+name)
			assert.Equal(t, r, runCLI("help", name), "help NAME is NAME -h")
			golden(t, "help_"+name, r.stdout)
		})
	}
}

func TestJSONLReadsLikeTheStore(t *testing.T) {
	inFixture(t)
	for _, args := range [][]string{
		{"runs"},
		{"runs", "--json"},
		{"runs", "--status", "ok", "--where", "stage=inference"},
		{"show", "turn-1"},
		{"show", "turn-2", "--json"},
		{"spans", "--where", "finding.input_tokens>500 and stage=inference"},
		{"spans", "--where", "stage exists", "--attrs", "finding.input_tokens,gen_ai.request.model", "--order-by", "elapsed_ms", "--desc"},
		{"spans", "--json", "--order-by", "finding.score", "--desc", "--limit", "3"},
		{"export", "--format", "csv"},
		{"export", "--format", "jsonl", "--where", "kind=client"},
		{"show", "turn-9"},
		{"spans", "--order-by", "bogus"},
		{"spans", "--where", "status~^(ok"},
		{"metrics", "time_to_first_token", "--since", "2024-05-01T00:00:00Z", "--until", "2024-05-02", "--step", "1h"},
		{"metrics", "input_tokens", "--since", "1d", "--step", "1h", "--by", "stage,model,source", "--json"},
		{"metrics", "time_to_first_token", "--since", "1d", "--instant", "--label", "run_id=~^turn-[2-9]$", "--agg", "max"},
	} {
		fromStore := runCLI(args...)
		fromFile := runCLI(append(args, "--jsonl", "stagetrace-out/runs.jsonl")...)
		assert.Equal(t, fromStore.code, fromFile.code, "%v", args)
		assert.Equal(t, fromStore.stdout, fromFile.stdout, "%v", args)
		// The messages are the same but for the source they name.
		assert.Equal(t, strings.ReplaceAll(fromStore.stderr, "./stagetrace-out/runs.db", "SOURCE"),
			strings.ReplaceAll(fromFile.stderr, "stagetrace-out/runs.jsonl", "SOURCE"), "%v", args)
	}
}

func TestExportToFile(t *testing.T) {
	dir := inFixture(t)
	r := runCLI("export", "--format", "csv", "--where", "finding.input_tokens>1000", "-o", "big.csv")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "exported 1 spans to big.csv\n", r.stdout)
	data, err := os.ReadFile(filepath.Join(dir, "big.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[1], "turn-2,"), lines[1])

	// A failed export leaves no file behind.
	r = runCLI("export", "--where", "finding.x>1", "--order-by", "bogus", "-o", "bad.jsonl")
	assert.Equal(t, exitFail, r.code)
	_, err = os.Stat(filepath.Join(dir, "bad.jsonl"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestReadingNeverCreatesAStore(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{{"runs"}, {"show", "x"}, {"spans"}, {"metrics", "m"}, {"export"}} {
		r := runCLI(args...)
		assert.Equal(t, exitFail, r.code, "%v", args)
		assert.Contains(t, r.stderr, "no store at ./stagetrace-out/runs.db", "%v", args)
	}
	_, err := os.Stat(filepath.Join(dir, "stagetrace-out"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90m": 90 * time.Minute, "1h": time.Hour, "7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour,
	} {
		got, err := parseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "d", "xd", "-1h", "1d-2h", "soon"} {
		_, err := parseDuration(bad)
		assert.Error(t, err, bad)
	}
}
