//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/usage"
)

// evil is what a sender of spans may put in any string: a terminal title
// (OSC), a screen clear (CSI), a forged table row, a NUL, a C1 CSI and a
// right-to-left override.
const evil = "\x1b]0;owned\x07\x1b[2J\r\nFAKE\tROW\x00\u009b31m\u202e"

// evilRunID is the hostile run id: evil without its NUL, which no command
// line can carry.
const evilRunID = "run\x1b]0;owned\x07\x1b[2J\r\nFAKE\tROW\u009b31m\u202e"

// deepDepths are the nesting depths of the values sent: the most the
// stores keep, one more, and far more than the SDK lets anyone send.
var deepDepths = []int{stagetrace.MaxDepth, stagetrace.MaxDepth + 1, 200, 5_000}

// TestCollectorHostileInput is the hostile-input section of the
// reliability suite over the wire: what any OTLP client may send, through
// the real collector into JSON Lines and SQLite, read back with the
// project's readers and printed by the stagetrace command.
//
//   - values nested far past stagetrace.MaxDepth, in raw OTLP/HTTP JSON
//     (the SDK cannot build them): every span reads back from both stores,
//     truncated at MaxDepth with stagetrace.TruncatedMarker;
//   - token counts of MaxInt64, in two requests (two writes) and in one:
//     run totals saturate at usage.MaxTokens, nothing wraps or fails, and
//     a run with sane counts beside them is listed as it is;
//   - terminal control sequences in a run id, a span name, an attribute
//     and a status message: runs, spans and show print them escaped.
func TestCollectorHostileInput(t *testing.T) {
	dir := t.TempDir()
	jsonlPath, dbPath := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "out.db")
	c, addrs := startCollector(t, filepath.Join("testdata", "hostile.yaml"),
		[]string{"STAGETRACE_JSONL=" + jsonlPath, "STAGETRACE_DB=" + dbPath}, "http")
	httpAddr := addrs["http"]
	ctx := context.Background()

	// OTLP/JSON carries any depth: the receiver's JSON decoder has no
	// limit. Its protobuf decoder stops at 100 nested messages (about 40
	// levels of values), so a deep value in protobuf is refused there,
	// before stagetrace sees it.
	code, msg := postTraces(t, httpAddr, deepTraces(deepDepths), "application/json")
	require.Equal(t, http.StatusOK, code, "%s", msg)
	code, msg = postTraces(t, httpAddr, deepTraces([]int{200}), "application/x-protobuf")
	assert.Equal(t, http.StatusBadRequest, code, "%s", msg)
	assert.Contains(t, msg, "max recursion depth")

	// Each span exported alone, in a request of its own: the sinks add the
	// two MaxInt64 counts of "apart" up across two writes.
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(httpAddr), otlptracehttp.WithInsecure())
	require.NoError(t, err)
	one := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tr := one.Tracer("e2e-hostile")
	chat(ctx, tr, "apart", math.MaxInt64)
	chat(ctx, tr, "apart", math.MaxInt64)
	chat(ctx, tr, "fine", 12)
	_, s := tr.Start(ctx, "span"+evil, trace.WithAttributes(
		attribute.String("run.id", evilRunID),
		attribute.String("note", "attr"+evil),
	))
	s.SetStatus(codes.Error, "msg"+evil)
	s.End()
	require.NoError(t, one.Shutdown(ctx))

	// Both spans of "together" in one request, one write.
	exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(httpAddr), otlptracehttp.WithInsecure())
	require.NoError(t, err)
	batched := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	tr = batched.Tracer("e2e-hostile")
	chat(ctx, tr, "together", math.MaxInt64)
	chat(ctx, tr, "together", math.MaxInt64)
	require.NoError(t, batched.Shutdown(ctx))

	// No batch processor or sending queue: every request was written
	// before the collector answered it.
	c.stop(t)
	wantSpans := len(deepDepths) + 2 + 1 + 1 + 2

	// JSON Lines, through the reader the command uses.
	f, err := os.Open(jsonlPath)
	require.NoError(t, err)
	defer f.Close()
	recs, err := memquery.ReadJSONL(f)
	require.NoError(t, err)
	assert.Zero(t, recs.Skipped().Lines, "every line decodes")
	spans, err := recs.Spans(ctx, query.SpanQuery{})
	require.NoError(t, err)
	require.Len(t, spans, wantSpans, "every span reads back from JSONL")
	checkDeep(t, "jsonl", spans)
	fromFile, err := recs.Runs(ctx, query.RunFilter{})
	require.NoError(t, err)
	checkTokens(t, "jsonl", fromFile)

	// SQLite, through the store's own reader.
	st, err := sqlitesink.OpenReadOnly(dbPath)
	require.NoError(t, err)
	defer st.Close()
	spans, err = st.Spans(ctx, sqlitesink.SpanQuery{})
	require.NoError(t, err, "the store's span listing works")
	require.Len(t, spans, wantSpans, "every span reads back from SQLite")
	checkDeep(t, "sqlite", spans)
	stored, err := st.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err, "the store's run listing works")
	checkTokens(t, "sqlite", stored)
	assert.Equal(t, runTokens(fromFile), runTokens(stored), "the store and the JSONL file agree")

	// The command, on both files.
	cli := stagetraceCLI(t)
	for _, src := range [][]string{{"--db", dbPath}, {"--jsonl", jsonlPath}} {
		for _, args := range [][]string{
			{"runs"},
			{"spans"},
			{"spans", "--attrs", "note,payload"},
			{"show", evilRunID},
			{"show", "apart"},
			{"show", "deep"},
		} {
			r := runCLI(t, cli, append(args, src...)...)
			name := fmt.Sprintf("%q %s", args, src[0])
			require.Equal(t, 0, r.code, "%s: stderr %q", name, r.stderr)
			for _, out := range []string{r.stdout, r.stderr} {
				for _, ctl := range []string{"\x1b", "\x07", "\r", "\x00", "\u009b", "\u202e"} {
					assert.NotContains(t, out, ctl, "%s prints %q", name, ctl)
				}
				for _, line := range strings.Split(out, "\n") {
					assert.False(t, strings.HasPrefix(line, "FAKE"), "%s: a forged line", name)
				}
			}
			if args[0] == "runs" || args[0] == "spans" || args[1] == evilRunID {
				assert.Contains(t, r.stdout, `run\x1b]0;owned\x07\x1b[2J\r\nFAKE\tROW`, "%s: the run id shown escaped", name)
			}
		}
		r := runCLI(t, cli, append([]string{"runs", "--json"}, src...)...)
		require.Equal(t, 0, r.code, "runs --json %s: stderr %q", src[0], r.stderr)
		var runs []map[string]any
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&runs), r.stdout)
		got, costErrors := map[string]string{}, map[string]string{}
		for _, run := range runs {
			got[fmt.Sprint(run["run_id"])] = fmt.Sprint(run["input_tokens"])
			costErrors[fmt.Sprint(run["run_id"])] = fmt.Sprint(run["cost_errors"])
		}
		// MaxInt64 tokens at 2.5 per million is past any amount: each span's
		// cost is an error, not a wrapped number.
		assert.Equal(t, "2", costErrors["apart"], "runs --json %s", src[0])
		assert.Equal(t, "0", costErrors["fine"], "runs --json %s", src[0])
		assert.Equal(t, "9223372036854775807", got["apart"], "runs --json %s", src[0])
		assert.Equal(t, "9223372036854775807", got["together"], "runs --json %s", src[0])
		assert.Equal(t, "12", got["fine"], "runs --json %s", src[0])
		assert.Equal(t, "0", got[evilRunID], "runs --json %s: the run id exact", src[0])
	}
}

// chat records one LLM call of run with tokens input tokens, in the GenAI
// convention the exporter's genai preset reads.
func chat(ctx context.Context, tr trace.Tracer, run string, tokens int64) {
	_, s := tr.Start(ctx, "chat gpt-4o", trace.WithAttributes(
		attribute.String("run.id", run),
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
		attribute.Int64("gen_ai.usage.input_tokens", tokens),
		attribute.Int64("gen_ai.usage.output_tokens", 1),
	))
	s.End()
}

// deepTraces returns one span of run "deep" per depth, named deep-<depth>,
// whose attribute "payload" nests slices and maps, alternately, depth
// levels around the string "bottom", a map innermost.
func deepTraces(depths []int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "e2e-hostile")
	ss := rs.ScopeSpans().AppendEmpty()
	start := time.Now().Add(-time.Minute)
	for i, depth := range depths {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID{0xde, 0xe9, 1})
		sp.SetSpanID(pcommon.SpanID{0xde, 0xe9, byte(i + 1)})
		sp.SetName(fmt.Sprintf("deep-%d", depth))
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Millisecond)))
		sp.Attributes().PutStr("run.id", "deep")
		// The innermost container is a map: a slice of strings alone would
		// become a string slice, a scalar, and the value one level less.
		v := sp.Attributes().PutEmpty("payload")
		for level := range depth {
			if (depth-level)%2 == 0 {
				v = v.SetEmptySlice().AppendEmpty()
			} else {
				v = v.SetEmptyMap().PutEmpty("m")
			}
		}
		v.SetStr("bottom")
	}
	return td
}

// postTraces sends td to the collector's OTLP/HTTP receiver as protobuf
// or JSON (contentType), as any OTLP client may, and returns the status
// and the start of the body of the answer.
func postTraces(t *testing.T, addr string, td ptrace.Traces, contentType string) (int, string) {
	t.Helper()
	req := ptraceotlp.NewExportRequestFromTraces(td)
	var body []byte
	var err error
	if contentType == "application/json" {
		body, err = req.MarshalJSON()
	} else {
		body, err = req.MarshalProto()
	}
	require.NoError(t, err)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post("http://"+addr+"/v1/traces", contentType, bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(msg)
}

// checkDeep checks the spans of run "deep" read back from one store: each
// payload nests at most MaxDepth levels, those sent deeper end in the
// truncation marker, and the one sent at MaxDepth is whole.
func checkDeep(t *testing.T, store string, spans []stagetrace.StageSpan) {
	t.Helper()
	seen := 0
	for _, s := range spans {
		if s.RunID != "deep" {
			continue
		}
		seen++
		var depth int
		_, err := fmt.Sscanf(s.Name, "deep-%d", &depth)
		require.NoError(t, err, s.Name)
		v, ok := s.Attrs.Get("payload")
		require.True(t, ok, "%s: %s has its payload", store, s.Name)
		assert.LessOrEqual(t, stagetrace.Depth(v), stagetrace.MaxDepth, "%s: %s", store, s.Name)
		text := v.String()
		if depth > stagetrace.MaxDepth {
			assert.Contains(t, text, stagetrace.TruncatedMarker, "%s: %s is truncated with the marker", store, s.Name)
			assert.NotContains(t, text, "bottom", "%s: %s", store, s.Name)
		} else {
			assert.Equal(t, depth, stagetrace.Depth(v), "%s: %s is whole", store, s.Name)
			assert.Contains(t, text, "bottom", "%s: %s is whole", store, s.Name)
			assert.NotContains(t, text, stagetrace.TruncatedMarker, "%s: %s", store, s.Name)
		}
	}
	assert.Equal(t, len(deepDepths), seen, "%s: every deep span", store)
}

// checkTokens checks the token totals of the runs read back from one
// store: saturated at usage.MaxTokens, never wrapped or lost.
func checkTokens(t *testing.T, store string, runs []stagetrace.Run) {
	t.Helper()
	got := runTokens(runs)
	assert.Equal(t, map[string]int64{
		"apart": usage.MaxTokens, "together": usage.MaxTokens, "fine": 12, evilRunID: 0, "deep": 0,
	}, got, "%s: input tokens by run", store)
	for _, r := range runs {
		assert.GreaterOrEqual(t, r.TotalTokens, int64(0), "%s: run %q total", store, r.ID)
		if r.ID == "apart" || r.ID == "together" {
			assert.Equal(t, int64(usage.MaxTokens), r.TotalTokens, "%s: run %q total saturates", store, r.ID)
		}
	}
}

// runTokens returns the input tokens of each run.
func runTokens(runs []stagetrace.Run) map[string]int64 {
	out := map[string]int64{}
	for _, r := range runs {
		out[r.ID] = r.InputTokens
	}
	return out
}
