package stagetraceprocessor

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/benchpair"
	"github.com/stagetrace/stagetrace/rules"
)

// benchTraces returns 10 resources × 100 spans with 8 attributes each,
// half of the spans named like LLM calls.
func benchTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := range 10 {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "chatbot")
		rs.Resource().Attributes().PutStr("session.id", "session-"+strconv.Itoa(r))
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("chatbot/llm")
		for i := range 100 {
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(pcommon.TraceID{byte(r), 1})
			s.SetSpanID(pcommon.SpanID{byte(r), byte(i), 1})
			if i%2 == 0 {
				s.SetName("chat gpt-4o")
			} else {
				s.SetName("vector search")
			}
			a := s.Attributes()
			a.PutStr("gen_ai.request.model", "gpt-4o")
			a.PutStr("gen_ai.operation.name", "chat")
			a.PutInt("gen_ai.usage.input_tokens", 812)
			a.PutInt("gen_ai.usage.output_tokens", 95)
			a.PutDouble("llm.temperature", 0.2)
			a.PutBool("llm.stream", false)
			a.PutStr("http.method", "POST")
			a.PutInt("llm.attempt", 1)
		}
	}
	return td
}

// BenchmarkProcessor compares the processor, setting a run id from a
// resource attribute and a stage from a span-name rule, with a plain pdata
// loop making the same two PutStr calls. Each iteration works on a fresh
// copy; the copy is not timed.
func BenchmarkProcessor(b *testing.B) {
	src := benchTraces()
	set, err := rules.New(rules.Rule{Name: "chat", Match: rules.Match{SpanName: rules.Glob("chat *")}, Stage: "inference"})
	require.NoError(b, err)
	cfg := defaultConfig()
	cfg.RunIDResourceAttribute = "session.id"
	p := newSpanProcessor(cfg, set)

	variants := []struct {
		name string
		run  func(ptrace.Traces)
	}{
		{"plain-loop", plainLoop},
		{"stagetrace", func(td ptrace.Traces) {
			if _, err := p.processTraces(context.Background(), td); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				td := ptrace.NewTraces()
				src.CopyTo(td)
				b.StartTimer()
				v.run(td)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/span")
		})
	}
}

// plainLoop is the hand-written peer: run id from the resource, stage from
// the span name, two PutStr calls per span.
func plainLoop(td ptrace.Traces) {
	for _, rs := range td.ResourceSpans().All() {
		run, _ := rs.Resource().Attributes().Get("session.id")
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				a := s.Attributes()
				a.PutStr(string(attributes.RunID), run.Str())
				if strings.HasPrefix(s.Name(), "chat ") {
					a.PutStr(string(attributes.RunStage), "inference")
				}
			}
		}
	}
}

// BenchmarkProcessorPaired is the paired form of BenchmarkProcessor, the
// figure BENCHMARKS.md records: the plain loop and the processor run in
// turn on fresh copies of the same batch, so that the machine's load falls
// on both alike. "stagetrace/loop" is our time per span over the loop's
// (goal: at most 1/0.9 = 1.11). The batch is 10 resources × 100 spans, and
// 10× that for the growth figure ("10000/1000", ours per span on 10,000
// spans over ours on 1,000; goal: at most 1.10), beside the loop's own
// growth. See internal/benchpair.
func BenchmarkProcessorPaired(b *testing.B) {
	set, err := rules.New(rules.Rule{Name: "chat", Match: rules.Match{SpanName: rules.Glob("chat *")}, Stage: "inference"})
	require.NoError(b, err)
	cfg := defaultConfig()
	cfg.RunIDResourceAttribute = "session.id"
	p := newSpanProcessor(cfg, set)
	ours := func(td ptrace.Traces) {
		if _, err := p.processTraces(context.Background(), td); err != nil {
			b.Fatal(err)
		}
	}
	small := benchTraces()
	large := ptrace.NewTraces()
	for range 10 {
		for _, rs := range small.ResourceSpans().All() {
			rs.CopyTo(large.ResourceSpans().AppendEmpty())
		}
	}
	// In a round, each side works on fresh copies of its batches, made
	// before it is timed: reps copies of the batch, so that a side runs
	// some milliseconds, its share of garbage collection included.
	run := func(b *testing.B, names []string, srcs []ptrace.Traces, reps []int, fns []func(ptrace.Traces)) *benchpair.Rounds {
		units := make([]int, len(names))
		for i := range names {
			units[i] = reps[i] * srcs[i].SpanCount()
		}
		rounds := benchpair.New(names, units)
		round := 0
		for b.Loop() {
			for _, i := range benchpair.Order(len(names), round) {
				b.StopTimer()
				tds := make([]ptrace.Traces, reps[i])
				for k := range tds {
					tds[k] = ptrace.NewTraces()
					srcs[i].CopyTo(tds[k])
				}
				b.StartTimer()
				rounds.Time(i, func() {
					for _, td := range tds {
						fns[i](td)
					}
				})
			}
			round++
		}
		rounds.Report(b, "span", 0)
		return rounds
	}
	b.Run("vs-loop", func(b *testing.B) {
		run(b, []string{"loop", "stagetrace"}, []ptrace.Traces{small, small}, []int{10, 10},
			[]func(ptrace.Traces){plainLoop, ours})
	})
	b.Run("growth", func(b *testing.B) {
		// The loop on both sizes too: how much of the growth is pdata's.
		r := run(b, []string{"1000", "10000", "loop-1000", "loop-10000"},
			[]ptrace.Traces{small, large, small, large}, []int{10, 1, 10, 1},
			[]func(ptrace.Traces){ours, ours, plainLoop, plainLoop})
		b.ReportMetric(r.Ratio(3, 2, false), "loop-10000/loop-1000")
		b.ReportMetric(r.Ratio(1, 3, false), "10000/loop-10000")
	})
}
