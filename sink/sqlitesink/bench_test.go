package sqlitesink_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// template returns the spans and events of one recorded turn: real
// exporter output, which the benchmarks copy with new ids.
func template(b *testing.B) stagetrace.Batch {
	b.Helper()
	r := newRecorder(b)
	r.turn("template", base, 812, 0.0042)
	return stagetrace.Batch{Spans: r.mem.Spans(), Events: r.mem.Events()}
}

// synth makes batches of copies of a template turn, each copy its own
// trace in its own run, with ids that never repeat.
type synth struct {
	tmpl  stagetrace.Batch
	rng   *rand.Rand
	n     uint64 // turns made
	start time.Time
	// tokens returns the input_tokens finding of turn i; nil keeps the
	// template's.
	tokens func(i uint64) int64
}

func (g *synth) batch(spans int) stagetrace.Batch {
	var out stagetrace.Batch
	for len(out.Spans) < spans {
		g.n++
		// Random ids, as real tracers make them: index inserts land
		// anywhere in the id indexes, not at their end.
		var trace stagetrace.TraceID
		binary.BigEndian.PutUint64(trace[:8], g.rng.Uint64())
		binary.BigEndian.PutUint64(trace[8:], g.rng.Uint64())
		shift := time.Duration(g.n) * time.Second
		run := fmt.Sprintf("run-%d", g.n/4) // four turns per run
		remap := map[stagetrace.SpanID]stagetrace.SpanID{}
		id := func(old stagetrace.SpanID) stagetrace.SpanID {
			if !old.IsValid() {
				return old
			}
			if n, ok := remap[old]; ok {
				return n
			}
			var n stagetrace.SpanID
			binary.BigEndian.PutUint64(n[:], g.rng.Uint64()|1)
			remap[old] = n
			return n
		}
		for _, s := range g.tmpl.Spans {
			s.TraceID, s.SpanID, s.ParentSpanID = trace, id(s.SpanID), id(s.ParentSpanID)
			s.RunID = run
			s.StartTime, s.EndTime = g.start.Add(shift+s.StartTime.Sub(base)), g.start.Add(shift+s.EndTime.Sub(base))
			if g.tokens != nil {
				if _, ok := s.Findings.Get("input_tokens"); ok {
					s.Findings = slices.Clone(s.Findings)
					for i := range s.Findings {
						if s.Findings[i].Key == "input_tokens" {
							s.Findings[i].Value = stagetrace.Int64Value(g.tokens(g.n))
						}
					}
				}
			}
			out.Spans = append(out.Spans, s)
		}
		for _, e := range g.tmpl.Events {
			e.TraceID, e.SpanID, e.RunID = trace, id(e.SpanID), run
			e.Time = g.start.Add(shift + e.Time.Sub(base))
			out.Events = append(out.Events, e)
		}
	}
	return out
}

// cpuTime returns the CPU time the process has used, to report CPU per
// span beside wall time on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsert measures write throughput with every query index in
// place: 512-span batches in one transaction each, against one
// transaction per span (the origin's pattern).
func BenchmarkInsert(b *testing.B) {
	tmpl := template(b)
	for _, bc := range []struct {
		name  string
		batch int
	}{
		{"batch=512", 512},
		{"per-span-tx", 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := openStore(b)
			g := &synth{tmpl: tmpl, start: base, rng: rand.New(rand.NewPCG(1, 2))}
			ctx := context.Background()
			b.ReportAllocs()
			written := 0
			var cpu time.Duration
			b.ResetTimer()
			for written < b.N {
				b.StopTimer()
				batch := g.batch(bc.batch)
				if bc.batch == 1 {
					// One span, with its events.
					batch.Spans = batch.Spans[:1]
				}
				c0 := cpuTime()
				b.StartTimer()
				if err := s.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += cpuTime() - c0
				b.StartTimer()
				written += len(batch.Spans)
			}
			b.StopTimer()
			b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "spans/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(written), "cpu-ns/span")
		})
	}
}

// buildDB fills a store with spans spans once per process, in a file kept
// in the system's temporary directory so that later benchmark runs with
// the same settings reuse it. tokens sets each turn's input_tokens.
func buildDB(b *testing.B, name string, spans int, tokens func(uint64) int64) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("stagetrace-bench-%s-v%d-%d.db", name, sqlitesink.SchemaVersion, spans))
	if _, err := os.Stat(path + ".done"); err == nil {
		return path
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	s, err := sqlitesink.Open(path)
	require.NoError(b, err)
	g := &synth{tmpl: template(b), start: base, tokens: tokens, rng: rand.New(rand.NewPCG(3, 4))}
	ctx := context.Background()
	t0 := time.Now()
	for written := 0; written < spans; {
		batch := g.batch(min(512, spans-written))
		require.NoError(b, s.Write(ctx, batch))
		written += len(batch.Spans)
	}
	require.NoError(b, s.Close())
	b.Logf("built %s: %d spans in %v", path, spans, time.Since(t0))
	require.NoError(b, os.WriteFile(path+".done", nil, 0o600))
	return path
}

// BenchmarkSpanTree measures the tree of one span with 10,000 descendants.
func BenchmarkSpanTree(b *testing.B) {
	s, _ := openStore(b)
	ctx := context.Background()
	var trace stagetrace.TraceID
	trace[0] = 1
	root := stagetrace.SpanID{0, 0, 0, 0, 0, 0, 0, 1}
	var batch stagetrace.Batch
	// A root with 99 children with 100 children each: 10,000 spans.
	add := func(id, parent stagetrace.SpanID, i int) {
		batch.Spans = append(batch.Spans, stagetrace.StageSpan{
			RunID: "tree", Stage: "inference", Name: fmt.Sprintf("span %d", i),
			TraceID: trace, SpanID: id, ParentSpanID: parent,
			StartTime: base.Add(time.Duration(i) * time.Millisecond), EndTime: base.Add(time.Duration(i+1) * time.Millisecond),
			Attrs:    stagetrace.Attrs{{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")}},
			Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(int64(i))}},
		})
	}
	add(root, stagetrace.SpanID{}, 0)
	n := 1
	for c := range 99 {
		var child stagetrace.SpanID
		binary.BigEndian.PutUint64(child[:], uint64(1000+c))
		add(child, root, n)
		n++
		for g := range 100 {
			var grand stagetrace.SpanID
			binary.BigEndian.PutUint64(grand[:], uint64(100000+c*1000+g))
			add(grand, child, n)
			n++
		}
	}
	require.NoError(b, s.Write(ctx, batch))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tree, err := s.SpanTree(ctx, sqlitesink.SpanRef{TraceID: trace, SpanID: root}, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		count := 0
		tree.Walk(func(*sqlitesink.SpanNode) { count++ })
		if count != 10000 {
			b.Fatalf("tree has %d spans", count)
		}
	}
}

// BenchmarkFindingFilter measures finding filters over 1,000,000 spans.
// The database is built once (minutes) and kept in the temporary
// directory for later runs.
func BenchmarkFindingFilter(b *testing.B) {
	const spans = 1_000_000
	// One turn in 1000 used more than 5000 input tokens.
	path := buildDB(b, "findings", spans, func(i uint64) int64 {
		if i%1000 == 0 {
			return 5000 + int64(i%97)
		}
		return 100 + int64(i%900)
	})
	s, err := sqlitesink.OpenReadOnly(path)
	require.NoError(b, err)
	defer s.Close()
	ctx := context.Background()
	for _, bc := range []struct {
		name    string
		where   string
		limit   int
		orderBy string
		desc    bool
		want    int
	}{
		// 1 turn in 1000: 143 spans.
		{"selective", "finding.input_tokens>5000", 0, "", false, spans / spansPerTurn / 1000},
		{"selective-and-stage", "finding.input_tokens>5000 and stage=inference", 0, "", false, spans / spansPerTurn / 1000},
		{"selective-limit-100", "finding.input_tokens>5000", 100, "", false, 100},
		// About 44% of the LLM calls: 63,000 spans, the first 100 wanted.
		{"broad-limit-100", "finding.input_tokens>500", 100, "", false, 100},
		{"broad-limit-100-desc", "finding.input_tokens>500", 100, "", true, 100},
		{"broad-top-10-by-finding", "finding.input_tokens>500", 10, "finding.input_tokens", true, 10},
		{"dotted-attr-limit-100", "gen_ai.usage.input_tokens>=812", 100, "", false, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := sqlitesink.SpanQuery{Where: query.MustParse(bc.where), Limit: bc.limit, OrderBy: bc.orderBy, Desc: bc.desc}
			b.ReportAllocs()
			for b.Loop() {
				got, err := s.Spans(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) < bc.want*9/10 || len(got) > bc.want*11/10+1 {
					b.Fatalf("%d spans, want about %d", len(got), bc.want)
				}
			}
		})
	}
}
