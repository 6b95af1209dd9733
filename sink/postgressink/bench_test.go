package postgressink_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/benchpair"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/postgressink"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// benchBatchSpans is the size of a batch, about what a collector's batch
// processor sends.
const benchBatchSpans = 512

// llmGen makes batches of spans shaped like an LLM pipeline's: a dozen
// attributes, token and cost findings, random trace ids, twenty spans a
// run; writer w's ids never meet another writer's. Batches are made as
// they are written, so that a million spans need not fit in memory: every
// store's rate includes making them alike.
type llmGen struct {
	w     int
	rng   *rand.Rand
	res   *stagetrace.Resource
	n     int
	trace stagetrace.TraceID
}

func newLLMGen(w int) *llmGen {
	return &llmGen{w: w, rng: rand.New(rand.NewPCG(uint64(w), 1)),
		res: &stagetrace.Resource{Attrs: stagetrace.Attrs{{Key: "service.name", Value: stagetrace.StringValue(fmt.Sprintf("svc-%d", w))}}}}
}

func (g *llmGen) next() stagetrace.Batch {
	rng, res, w := g.rng, g.res, g.w
	trace := g.trace
	n := g.n
	{
		spans := make([]stagetrace.StageSpan, benchBatchSpans)
		for j := range spans {
			if n%20 == 0 {
				binary.BigEndian.PutUint64(trace[:8], rng.Uint64())
				binary.BigEndian.PutUint64(trace[8:], rng.Uint64())
			}
			start := base.Add(time.Duration(n) * time.Millisecond)
			sp := stagetrace.StageSpan{
				TraceID: trace, RunID: fmt.Sprintf("w%d-run-%d", w, n/20), Stage: []string{"retrieval", "inference", "judge"}[n%3],
				Name: "chat gpt-4o", StartTime: start, EndTime: start.Add(time.Duration(rng.IntN(900)) * time.Millisecond),
				Kind: stagetrace.SpanKind(3), Scope: "chatbot/llm", Resource: res,
				Attrs: stagetrace.Attrs{
					{Key: "gen_ai.operation.name", Value: stagetrace.StringValue("chat")},
					{Key: "gen_ai.system", Value: stagetrace.StringValue("openai")},
					{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")},
					{Key: "gen_ai.response.model", Value: stagetrace.StringValue("gpt-4o-2024-08-06")},
					{Key: "gen_ai.request.temperature", Value: stagetrace.Float64Value(0.2)},
					{Key: "gen_ai.request.max_tokens", Value: stagetrace.Int64Value(1024)},
					{Key: "gen_ai.usage.input_tokens", Value: stagetrace.Int64Value(int64(rng.IntN(4000)))},
					{Key: "gen_ai.usage.output_tokens", Value: stagetrace.Int64Value(int64(rng.IntN(400)))},
					{Key: "gen_ai.response.id", Value: stagetrace.StringValue(fmt.Sprintf("chatcmpl-%x", rng.Uint64()))},
					{Key: "gen_ai.response.finish_reasons", Value: stagetrace.StringSliceValue([]string{"stop"})},
					{Key: "server.address", Value: stagetrace.StringValue("api.openai.com")},
					{Key: "http.response.status_code", Value: stagetrace.Int64Value(200)},
				},
				Findings: stagetrace.Attrs{
					{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(int64(rng.IntN(4000)))},
					{Key: attributes.FindingOutputTokens, Value: stagetrace.Int64Value(int64(rng.IntN(400)))},
					{Key: attributes.FindingCost, Value: stagetrace.Float64Value(float64(rng.IntN(1000)) / 1e5)},
					{Key: attributes.FindingModel, Value: stagetrace.StringValue("gpt-4o")},
				},
			}
			binary.BigEndian.PutUint64(sp.SpanID[:], rng.Uint64()|1)
			spans[j] = sp
			n++
		}
		g.n, g.trace = n, trace
		return stagetrace.Batch{Spans: spans}
	}
}

// ingestRound is how many batches each store takes in a round of
// BenchmarkIngest: 10,240 spans.
const ingestRound = 20

// BenchmarkIngest writes b.N batches of benchBatchSpans spans into the
// SQLite store and into PostgreSQL, from one writer (1writer) or from two
// (2writers: stores with pools of their own, as two collectors). The two
// stores take ingestRound batches each in turn, round after round
// (internal/benchpair), so that both grow alike and every round's rates
// are measured under the same load. It reports each store's rate over the
// whole run (spans/s-<store>) and the median over rounds of PostgreSQL's
// rate over SQLite's in the same round (postgres/sqlite-rate). make
// bench-postgres runs it at a million spans a store.
func BenchmarkIngest(b *testing.B) {
	for _, writers := range []int{1, 2} {
		b.Run(fmt.Sprintf("%dwriters", writers), func(b *testing.B) { benchIngest(b, writers) })
	}
}

func benchIngest(b *testing.B, writers int) {
	ctx := context.Background()
	sqlite, err := sqlitesink.Open(filepath.Join(b.TempDir(), "runs.db"))
	require.NoError(b, err)
	defer sqlite.Close()
	url := pgtest.URL(b)
	var pg []*postgressink.Store
	var gens []*llmGen
	for w := range writers {
		pg = append(pg, openStore(b, url))
		gens = append(gens, newLLMGen(w))
	}
	sqliteGen := newLLMGen(0)
	write := func(s stagetrace.Sink, gen *llmGen, n int) {
		for range n {
			if err := s.Write(ctx, gen.next()); err != nil {
				b.Error(err)
				return
			}
		}
	}
	sides := []func(n int){
		func(n int) { write(sqlite, sqliteGen, n) },
		func(n int) {
			var wg sync.WaitGroup
			for w, s := range pg {
				// Writer w takes batches w, w+writers, ... of the n.
				wg.Go(func() { write(s, gens[w], (n+writers-1-w)/writers) })
			}
			wg.Wait()
		},
	}
	names := []string{"sqlite", "postgres"}
	units := ingestRound * benchBatchSpans
	rounds := benchpair.New(names, []int{units, units})
	total := make([]time.Duration, len(sides))
	spans := make([]int, len(sides))
	b.ResetTimer()
	for r, done := 0, 0; done < b.N && !b.Failed(); r++ {
		n := min(ingestRound, b.N-done)
		for _, i := range benchpair.Order(len(sides), r) {
			t0 := time.Now()
			if n == ingestRound {
				rounds.Time(i, func() { sides[i](n) })
			} else {
				sides[i](n) // a short last round counts in the totals only
			}
			total[i] += time.Since(t0)
			spans[i] += n * benchBatchSpans
		}
		done += n
	}
	b.StopTimer()
	for i, name := range names {
		b.ReportMetric(float64(spans[i])/total[i].Seconds(), "spans/s-"+name)
	}
	if ratio := rounds.Ratio(1, 0, false); ratio > 0 {
		// Ratio is of times per span; its inverse, of rates.
		b.ReportMetric(1/ratio, "postgres/sqlite-rate")
	}
}

// BenchmarkQuery runs the same queries on the same spans held by the
// SQLite store and by PostgreSQL: STAGETRACE_BENCH_BATCHES batches of
// benchBatchSpans spans (default 200: 102,400 spans; make bench-postgres
// loads about a million).
func BenchmarkQuery(b *testing.B) {
	ctx := context.Background()
	batches := 200
	if n, err := strconv.Atoi(os.Getenv("STAGETRACE_BENCH_BATCHES")); err == nil && n > 0 {
		batches = n
	}
	var target stagetrace.StageSpan
	var responseID stagetrace.Value // of the target, once loaded
	queries := []struct {
		name string
		run  func(r query.Reader) error
	}{
		{"runs-newest-50", func(r query.Reader) error { _, err := r.Runs(ctx, query.RunFilter{Limit: 50}); return err }},
		{"run-records", func(r query.Reader) error { _, err := r.RunRecords(ctx, target.RunID); return err }},
		{"attr-eq-one-span", func(r query.Reader) error {
			_, err := r.Spans(ctx, query.SpanQuery{Where: []query.Filter{{Field: "gen_ai.response.id", Op: query.OpEq, Value: responseID}}})
			return err
		}},
		{"finding-gt-selective-limit-100", func(r query.Reader) error {
			_, err := r.Spans(ctx, query.SpanQuery{Where: query.MustParse("finding.input_tokens>3995"), Limit: 100})
			return err
		}},
		{"finding-and-stage-limit-100", func(r query.Reader) error {
			_, err := r.Spans(ctx, query.SpanQuery{Where: query.MustParse("finding.input_tokens>3000 and stage=inference"), Limit: 100})
			return err
		}},
		{"top-10-by-finding", func(r query.Reader) error {
			_, err := r.Spans(ctx, query.SpanQuery{Where: query.MustParse("stage=judge"), OrderBy: "finding.cost", Desc: true, Limit: 10})
			return err
		}},
		{"regexp-limit-100", func(r query.Reader) error {
			_, err := r.Spans(ctx, query.SpanQuery{Where: query.MustParse(`attr.gen_ai.response.id~"^chatcmpl-ff"`), Limit: 100})
			return err
		}},
	}
	sqlite, err := sqlitesink.Open(filepath.Join(b.TempDir(), "runs.db"))
	require.NoError(b, err)
	defer sqlite.Close()
	url := pgtest.URL(b)
	pg := openStore(b, url)
	gen := newLLMGen(0)
	for i := range batches {
		batch := gen.next()
		if i == batches/2 {
			target = batch.Spans[7]
		}
		require.NoError(b, sqlite.Write(ctx, batch))
		require.NoError(b, pg.Write(ctx, batch))
	}
	responseID, _ = target.Attrs.Get("gen_ai.response.id")
	// The statistics autovacuum gathers after a load, at once.
	conn, err := pgx.Connect(ctx, url)
	require.NoError(b, err)
	_, err = conn.Exec(ctx, `ANALYZE stagetrace.spans, stagetrace.span_values, stagetrace.runs`)
	require.NoError(b, errors.Join(err, conn.Close(ctx)))
	for _, q := range queries {
		for _, st := range []struct {
			name string
			r    query.Reader
		}{{"sqlite", sqlite}, {"postgres", pg}} {
			b.Run(q.name+"/"+st.name, func(b *testing.B) {
				for b.Loop() {
					if err := q.run(st.r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
