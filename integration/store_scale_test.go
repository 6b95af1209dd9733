//go:build scale

package integration

// The store at scale: a million spans end to end into the SQLite store and
// into JSON lines in the same process, and the queries of the store's goals
// at that size, each beside the in-memory executor reading the JSON lines.
// Behind the scale build tag (minutes, gigabytes): `make bench-store`.
//
//	go test -tags scale -run '^$' -bench 'StoreIngest' -benchtime 1x -timeout 60m ./integration/
//	go test -tags scale -run '^$' -bench 'StoreQueries' -count 5 -timeout 60m ./integration/
//
// STAGETRACE_SCALE_SPANS sets the number of spans (default 1,000,000).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/processor"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/rules"
	"github.com/stagetrace/stagetrace/sink/jsonlsink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// scaleBase is when the generated day starts.
var scaleBase = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const (
	spansPerRun = 8
	scaleDay    = 24 * time.Hour
	bigTrace    = 10_000 // spans of the one large trace
)

func scaleSpans(tb testing.TB) int {
	if v := os.Getenv("STAGETRACE_SCALE_SPANS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(tb, err)
		return n
	}
	return 1_000_000
}

// inputTokens is the usage of LLM call c of run r: spread evenly over
// 100..10,099, so that a threshold picks a known share.
func inputTokens(r, c int) int { return 100 + (r*7919+c*104729)%10000 }

// generateRuns ends n spans (n/8 runs of 8 spans, each run one trace)
// from workers goroutines, their times spread over one day: a turn
// (root), a retrieval, five LLM calls with GenAI attributes and a
// time-to-first-token metric event, and a judge with a score finding.
// Every tenth span fails.
func generateRuns(tp trace.TracerProvider, n, workers int) {
	tracer := tp.Tracer("scale/agent")
	runs := n / spansPerRun
	step := scaleDay / time.Duration(runs)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := w; r < runs; r += workers {
				t0 := scaleBase.Add(time.Duration(r) * step)
				at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
				k := 0 // span number in the run, for the errors
				finish := func(s trace.Span, ms int) {
					if (r*spansPerRun+k)%10 == 9 {
						s.SetStatus(codes.Error, "429 rate limited")
					}
					k++
					s.End(trace.WithTimestamp(at(ms)))
				}
				ctx := attributes.ContextWithRun(context.Background(), fmt.Sprintf("run-%07d", r))
				ctx, root := tracer.Start(ctx, "agent turn", trace.WithTimestamp(at(0)), trace.WithSpanKind(trace.SpanKindServer))
				_, search := tracer.Start(attributes.ContextWithStage(ctx, "retrieval"), "vector search", trace.WithTimestamp(at(1)),
					trace.WithAttributes(attribute.String("db.system", "qdrant"), attribute.Int("search.top_k", 4)))
				attributes.SetFinding(search, "documents", 4)
				finish(search, 10)
				for c := range 5 {
					_, call := tracer.Start(ctx, "chat gpt-4o", trace.WithTimestamp(at(20+c*100)), trace.WithSpanKind(trace.SpanKindClient),
						trace.WithAttributes(
							attribute.String("gen_ai.operation.name", "chat"),
							attribute.String("gen_ai.system", "openai"),
							attribute.String("gen_ai.request.model", []string{"gpt-4o", "gpt-4o-mini"}[c%2]),
							attribute.Float64("gen_ai.request.temperature", 0.2),
							attribute.Int("gen_ai.usage.input_tokens", inputTokens(r, c)),
							attribute.Int("gen_ai.usage.output_tokens", 20+(r+c)%400),
							attribute.StringSlice("gen_ai.response.finish_reasons", []string{"stop"}),
							attribute.String("gen_ai.response.id", fmt.Sprintf("chatcmpl-%d-%d", r, c)),
						))
					call.AddEvent(attributes.EventMetric, trace.WithTimestamp(at(60+c*100)), trace.WithAttributes(
						attributes.MetricName.String("time_to_first_token"), attributes.MetricValue.Float64(float64(30+(r+c)%70)),
						attributes.MetricUnit.String("ms")))
					finish(call, 90+c*100)
				}
				_, judge := tracer.Start(attributes.ContextWithStage(ctx, "evaluation"), "judge answer", trace.WithTimestamp(at(600)))
				attributes.SetFinding(judge, "score", float64(r%1000)/1000)
				finish(judge, 650)
				finish(root, 700)
			}
		}()
	}
	wg.Wait()
}

// timedSink records when the sink below it had taken a third and two
// thirds of the spans it is to get.
type timedSink struct {
	stagetrace.Sink
	total   int
	written atomic.Int64
	marks   [3]time.Time // the start, a third, two thirds
}

func (s *timedSink) Write(ctx context.Context, b stagetrace.Batch) error {
	err := s.Sink.Write(ctx, b)
	n := int(s.written.Add(int64(len(b.Spans))))
	before := n - len(b.Spans)
	for i, mark := range []int{s.total / 3, 2 * s.total / 3} {
		if before < mark && n >= mark {
			s.marks[i+1] = time.Now()
		}
	}
	return err
}

func (s *timedSink) ForceFlush(ctx context.Context) error {
	if f, ok := s.Sink.(stagetrace.Flusher); ok {
		return f.ForceFlush(ctx)
	}
	return nil
}

// ingestResult is one run of the pipeline into one sink.
type ingestResult struct {
	total                time.Duration
	cpu                  time.Duration // the process's CPU time meanwhile
	firstThird, lastRate float64       // spans/s
	bytes                int64
}

func (r ingestResult) rate(n int) float64 { return float64(n) / r.total.Seconds() }

// ingest sends n spans through the processor, a blocking batch span
// processor and the exporter (with the GenAI preset) into sink, which is
// shut down at the end, and returns the times.
func ingest(tb testing.TB, n int, sink stagetrace.Sink, size func() int64) ingestResult {
	tb.Helper()
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetGenAI}})
	require.NoError(tb, err)
	timed := &timedSink{Sink: sink, total: n}
	exp, err := exporter.New(exporter.WithSinks(timed), exporter.WithRules(set))
	require.NoError(tb, err)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(processor.New(processor.WithRules(set))),
		sdktrace.WithBatcher(exp, sdktrace.WithBlocking()),
	)
	cpu0 := processCPU()
	start := time.Now()
	timed.marks[0] = start
	generateRuns(tp, n, 8)
	require.NoError(tb, tp.Shutdown(context.Background()))
	end := time.Now()
	cpu := processCPU() - cpu0
	require.Equal(tb, int64(n), timed.written.Load())
	third := float64(n / 3)
	return ingestResult{
		total:      end.Sub(start),
		cpu:        cpu,
		firstThird: third / timed.marks[1].Sub(timed.marks[0]).Seconds(),
		lastRate:   float64(n-2*n/3) / end.Sub(timed.marks[2]).Seconds(),
		bytes:      size(),
	}
}

// processCPU returns the CPU time the process has used: on a shared
// machine, CPU per span varies less than spans per second.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fileSize is the size of path and of its SQLite companions, if any.
func fileSize(path string) func() int64 {
	return func() int64 {
		var total int64
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if fi, err := os.Stat(p); err == nil {
				total += fi.Size()
			}
		}
		return total
	}
}

// BenchmarkStoreIngest sends the same spans end to end into JSON lines and
// into the store, in the same process, and reports both rates, their
// ratio, the store's rate over the last third against the first, and the
// bytes per span of each file. Run it with -benchtime 1x.
func BenchmarkStoreIngest(b *testing.B) {
	n := scaleSpans(b)
	for b.Loop() {
		dir := b.TempDir()
		jsonlPath, dbPath := filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "runs.db")
		j, err := jsonlsink.New(jsonlPath)
		require.NoError(b, err)
		jr := ingest(b, n, j, fileSize(jsonlPath))
		s, err := sqlitesink.Open(dbPath)
		require.NoError(b, err)
		sr := ingest(b, n, s, fileSize(dbPath))
		b.ReportMetric(jr.rate(n), "jsonl-spans/s")
		b.ReportMetric(sr.rate(n), "store-spans/s")
		b.ReportMetric(sr.rate(n)/jr.rate(n), "store/jsonl")
		b.ReportMetric(sr.lastRate/sr.firstThird, "store-last/first-third")
		b.ReportMetric(jr.lastRate/jr.firstThird, "jsonl-last/first-third")
		b.ReportMetric(float64(jr.cpu.Nanoseconds())/float64(n), "jsonl-cpu-ns/span")
		b.ReportMetric(float64(sr.cpu.Nanoseconds())/float64(n), "store-cpu-ns/span")
		b.ReportMetric(float64(jr.bytes)/float64(n), "jsonl-B/span")
		b.ReportMetric(float64(sr.bytes)/float64(n), "store-B/span")
		b.Logf("%d spans: JSONL %.0f spans/s (%v, CPU %.1f µs/span), store %.0f spans/s (%v, CPU %.1f µs/span), ratio %.3f; store first third %.0f spans/s, last third %.0f (%.2f); bytes per span JSONL %.0f, store %.0f",
			n, jr.rate(n), jr.total.Round(time.Millisecond), float64(jr.cpu.Microseconds())/float64(n),
			sr.rate(n), sr.total.Round(time.Millisecond), float64(sr.cpu.Microseconds())/float64(n), sr.rate(n)/jr.rate(n),
			sr.firstThird, sr.lastRate, sr.lastRate/sr.firstThird, float64(jr.bytes)/float64(n), float64(sr.bytes)/float64(n))
	}
}

// scaleFiles builds, once per schema version and size, a store and a JSON
// lines file holding the generated spans and one trace of 10,000 spans,
// kept in the temporary directory for later runs.
func scaleFiles(b *testing.B, n int) (dbPath, jsonlPath string) {
	b.Helper()
	prefix := filepath.Join(os.TempDir(), fmt.Sprintf("stagetrace-scale-v%d-%d", sqlitesink.SchemaVersion, n))
	dbPath, jsonlPath = prefix+".db", prefix+".jsonl"
	if _, err := os.Stat(prefix + ".done"); err == nil {
		return dbPath, jsonlPath
	}
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm", jsonlPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			require.NoError(b, err)
		}
	}
	s, err := sqlitesink.Open(dbPath)
	require.NoError(b, err)
	j, err := jsonlsink.New(jsonlPath)
	require.NoError(b, err)
	both, err := exporter.NewFanout(0, s, j)
	require.NoError(b, err)
	// The large trace: a root, 99 children of 100 children each.
	require.NoError(b, both.Write(context.Background(), bigTraceBatch()))
	ingest(b, n, both, fileSize(dbPath)) // shuts both down
	require.NoError(b, os.WriteFile(prefix+".done", nil, 0o600))
	return dbPath, jsonlPath
}

var bigTraceID = stagetrace.TraceID{0xb1, 0x9, 15: 1}

func bigTraceBatch() stagetrace.Batch {
	var batch stagetrace.Batch
	root := stagetrace.SpanID{7: 1}
	add := func(id, parent stagetrace.SpanID, i int) {
		t := scaleBase.Add(time.Duration(i) * time.Millisecond)
		batch.Spans = append(batch.Spans, stagetrace.StageSpan{
			RunID: "big-trace", Stage: "inference", Name: fmt.Sprintf("span %d", i),
			TraceID: bigTraceID, SpanID: id, ParentSpanID: parent, StartTime: t, EndTime: t.Add(time.Millisecond),
			Attrs:    stagetrace.Attrs{{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")}},
			Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(int64(i))}},
		})
	}
	add(root, stagetrace.SpanID{}, 0)
	i := 1
	for c := range 99 {
		child := stagetrace.SpanID{6: byte(c >> 8), 7: byte(c), 0: 1}
		add(child, root, i)
		i++
		for g := range 100 {
			add(stagetrace.SpanID{0: 2, 4: byte(c), 6: byte(g >> 8), 7: byte(g)}, child, i)
			i++
		}
	}
	return batch
}

// BenchmarkStoreQueries runs the queries of the store's goals on the
// store and on the in-memory executor holding the same records.
func BenchmarkStoreQueries(b *testing.B) {
	n := scaleSpans(b)
	dbPath, jsonlPath := scaleFiles(b, n)
	store, err := sqlitesink.OpenReadOnly(dbPath)
	require.NoError(b, err)
	defer store.Close()
	f, err := os.Open(jsonlPath)
	require.NoError(b, err)
	mem, err := memquery.ReadJSONL(f)
	require.NoError(b, err)
	require.NoError(b, f.Close())
	ctx := context.Background()
	runs := n / spansPerRun
	oneRun := fmt.Sprintf("run-%07d", rand.IntN(runs))
	llmCalls := runs * 5

	type check func(tb testing.TB, r query.Reader)
	spans := func(q query.SpanQuery, lo, hi int) check {
		return func(tb testing.TB, r query.Reader) {
			got, err := r.Spans(ctx, q)
			if err != nil || len(got) < lo || len(got) > hi {
				tb.Fatalf("%d spans (want %d..%d): %v", len(got), lo, hi, err)
			}
		}
	}
	cases := []struct {
		name string
		run  check
	}{
		{"runs-page", func(tb testing.TB, r query.Reader) {
			got, err := r.Runs(ctx, query.RunFilter{Limit: 50})
			if err != nil || len(got) != 50 {
				tb.Fatalf("%d runs: %v", len(got), err)
			}
		}},
		{"run-records", func(tb testing.TB, r query.Reader) {
			got, err := r.RunRecords(ctx, oneRun)
			if err != nil || len(got.Spans) != spansPerRun {
				tb.Fatalf("%d spans: %v", len(got.Spans), err)
			}
		}},
		{"trace-10000", spans(query.SpanQuery{Where: []query.Filter{{Field: query.FieldTraceID, Op: query.OpEq, Value: stagetrace.StringValue(bigTraceID.String())}}}, bigTrace, bigTrace)},
		// input_tokens > 10,095: 4 in 10,000 LLM calls.
		{"selective-finding", spans(query.SpanQuery{Where: query.MustParse("finding.input_tokens>10095")}, llmCalls*4/10000*8/10, llmCalls*4/10000*12/10+1)},
		{"dotted-attr-limit-100", spans(query.SpanQuery{Where: query.MustParse("gen_ai.usage.input_tokens>=9000"), Limit: 100}, 100, 100)},
		// input_tokens > 9,099: 10% of the LLM calls, 62,500 of a million spans.
		{"top-10-by-finding", spans(query.SpanQuery{Where: query.MustParse("finding.input_tokens>9099"), OrderBy: "finding.input_tokens", Desc: true, Limit: 10}, 10, 10)},
		{"metric-24h-5m", func(tb testing.TB, r query.Reader) {
			got, err := r.Metrics(ctx, query.MetricQuery{Name: "time_to_first_token", Since: scaleBase, Until: scaleBase.Add(scaleDay), Step: 5 * time.Minute})
			if err != nil || len(got) != 1 || len(got[0].Points) != 288 {
				tb.Fatalf("%v: %v", got, err)
			}
		}},
	}
	for _, c := range cases {
		b.Run(c.name+"/store", func(b *testing.B) { medianOf(b, func() { c.run(b, store) }) })
		b.Run(c.name+"/memquery", func(b *testing.B) { medianOf(b, func() { c.run(b, mem) }) })
	}
	b.Run("span-tree-10000/store", func(b *testing.B) {
		medianOf(b, func() {
			tree, err := store.SpanTree(ctx, sqlitesink.SpanRef{TraceID: bigTraceID, SpanID: stagetrace.SpanID{7: 1}}, 0, nil)
			if err != nil {
				b.Fatal(err)
			}
			count := 0
			tree.Walk(func(*sqlitesink.SpanNode) { count++ })
			if count != bigTrace {
				b.Fatalf("tree has %d spans", count)
			}
		})
	})
}

// medianOf runs fn b.N times and reports the median time of one run beside
// the mean: the median is the goals' figure, less moved by a busy machine.
func medianOf(b *testing.B, fn func()) {
	var times []time.Duration
	for b.Loop() {
		t0 := time.Now()
		fn()
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}
