package processor

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/internal/benchpair"
	"github.com/stagetrace/stagetrace/rules"
)

// noopProcessor is the baseline: a processor that does nothing.
type noopProcessor struct{}

func (noopProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (noopProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (noopProcessor) Shutdown(context.Context) error                  { return nil }
func (noopProcessor) ForceFlush(context.Context) error                { return nil }

// naiveProcessor sets run.id and run.stage from the context on every span,
// without looking at what the span already has.
type naiveProcessor struct{ noopProcessor }

func (naiveProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	run, _ := attributes.RunFromContext(ctx)
	stage, _ := attributes.StageFromContext(ctx)
	s.SetAttributes(attributes.Run(run), attributes.Stage(stage))
}

// readingProcessor reads the attributes of each ended span, as an
// exporter does.
type readingProcessor struct{ noopProcessor }

var attrSink []attribute.KeyValue

func (readingProcessor) OnEnd(s sdktrace.ReadOnlySpan) { attrSink = s.Attributes() }

// BenchmarkSpanStartEnd measures starting and ending a child span with 8
// attributes and one event, under a parent whose context carries a run
// and a stage, with only the processor under test registered: no exporter,
// so that the processor's cost is not lost in the exporter's. It reports
// wall time (ns/op) and process CPU time (cpu-ns/op).
func BenchmarkSpanStartEnd(b *testing.B) {
	cases := []struct {
		name string
		sps  func() []sdktrace.SpanProcessor
	}{
		{"noop", func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{noopProcessor{}} }},
		{"naive", func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{naiveProcessor{}} }},
		{"processor", func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{New()} }},
		{"sampler", func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{New()} }},
		{"wrapping", func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{NewWrapping(noopProcessor{})} }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) { benchSpans(b, c.name == "sampler", c.sps()...) })
	}
}

// BenchmarkSpanWithReader is BenchmarkSpanStartEnd with a processor that
// reads each ended span's attributes, as an exporter would: the wrapping
// mode builds that slice when it is read, so part of its cost moves there,
// off the goroutine that ends the span when the reader is a
// BatchSpanProcessor.
func BenchmarkSpanWithReader(b *testing.B) {
	cases := []struct {
		name string
		sps  func() []sdktrace.SpanProcessor
	}{
		{"noop", func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{readingProcessor{}} }},
		{"processor", func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{New(), readingProcessor{}} }},
		{"wrapping", func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{NewWrapping(readingProcessor{})} }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) { benchSpans(b, false, c.sps()...) })
	}
}

// benchSpans measures spans under sps. With sampled, the first of sps is
// a Processor that places spans through its Sampler.
func benchSpans(b *testing.B, sampled bool, sps ...sdktrace.SpanProcessor) {
	var smp sdktrace.Sampler = sdktrace.AlwaysSample()
	if sampled {
		smp = sps[0].(*Processor).Sampler(smp)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(smp)}
	for _, sp := range sps {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("bench")

	ctx := attributes.ContextWithRun(context.Background(), "run-0001")
	ctx = attributes.ContextWithStage(ctx, "retrieve")
	ctx, parent := tr.Start(ctx, "parent")
	b.Cleanup(func() { parent.End() })

	start := trace.WithAttributes(
		attribute.String("http.method", "GET"),
		attribute.String("url.path", "/v1/search"),
		attribute.Int("http.status_code", 200),
		attribute.Int64("gen_ai.usage.input_tokens", 1234),
		attribute.Float64("score", 0.87),
		attribute.Bool("cache.hit", false),
		attribute.StringSlice("tags", []string{"a", "b"}),
		attribute.String("gen_ai.request.model", "m-1"),
	)
	event := trace.WithAttributes(
		attribute.String("doc.id", "d-42"),
		attribute.Int("rank", 3),
	)

	b.ReportAllocs()
	cpu0, cpuOK := benchpair.ProcessCPUTime()
	for b.Loop() {
		_, s := tr.Start(ctx, "child", start)
		s.AddEvent("retrieved", event)
		s.End()
	}
	// CPU time, unlike wall time, does not grow while other processes hold
	// the CPU: it compares variants better on a busy machine.
	if cpu1, ok := benchpair.ProcessCPUTime(); cpuOK && ok {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// overheadVariant is one processor set-up of BenchmarkOverhead.
type overheadVariant struct {
	name    string
	sampled bool // place spans through the first processor's Sampler
	// floor, when set, are attributes that a sampler around AlwaysSample
	// adds to every span, without looking at anything: the least any
	// design that sets them as the span is created can cost.
	floor []attribute.KeyValue
	sps   func() []sdktrace.SpanProcessor
}

// floorSampler is AlwaysSample with constant attributes.
type floorSampler struct {
	inner sdktrace.Sampler
	kv    []attribute.KeyValue
}

func (f floorSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	res := f.inner.ShouldSample(p)
	res.Attributes = f.kv
	return res
}

func (f floorSampler) Description() string { return "floor{" + f.inner.Description() + "}" }

// BenchmarkOverhead is the paired form of BenchmarkSpanStartEnd and
// BenchmarkSpanStartEndRules: every variant runs in turn, a chunk of spans
// each, within one benchmark, so that a change in the machine's load
// falls on all of them alike. It reports each variant's cost per span
// and the median over rounds of its ratio to the no-op processor:
// "<variant>/noop" by wall time, "<variant>/noop-cpu" by process CPU time
// (see internal/benchpair). One op is one round: 2,000 spans of each
// variant.
func BenchmarkOverhead(b *testing.B) {
	set, err := rules.Compile(rules.Config{Presets: []string{rules.PresetGenAI}})
	if err != nil {
		b.Fatal(err)
	}
	noop := func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{noopProcessor{}} }
	b.Run("plain", func(b *testing.B) {
		benchOverhead(b, benchAttrs, []overheadVariant{
			{name: "noop", sps: noop},
			{name: "naive", sps: func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{naiveProcessor{}} }},
			// What the Sampler gives these spans: run, stage, inherited.
			{name: "floor", floor: []attribute.KeyValue{attributes.Run("run-0001"), attributes.Stage("retrieve"), inheritedAttr}, sps: noop},
			// Run and stage alone: the floor of a design that would not
			// need run.stage_inherited on these spans.
			{name: "floor2", floor: []attribute.KeyValue{attributes.Run("run-0001"), attributes.Stage("retrieve")}, sps: noop},
			{name: "processor", sps: func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{New()} }},
			{name: "sampler", sampled: true, sps: func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{New()} }},
			{name: "wrapping", sps: func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{NewWrapping(noopProcessor{})} }},
		})
	})
	genai := append(append([]attribute.KeyValue{}, benchAttrs[:7]...), attributes.GenAIOperationName.String("chat"))
	b.Run("genai", func(b *testing.B) {
		benchOverhead(b, genai, []overheadVariant{
			{name: "noop", sps: noop},
			// What the Sampler gives these spans: run, and the stage the
			// preset's rule names, which they open.
			{name: "floor", floor: []attribute.KeyValue{attributes.Run("run-0001"), attributes.Stage("chat")}, sps: noop},
			{name: "rules", sps: func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{New(WithRules(set))} }},
			{name: "sampler+rules", sampled: true, sps: func() []sdktrace.SpanProcessor { return []sdktrace.SpanProcessor{New(WithRules(set))} }},
			{name: "wrapping+rules", sps: func() []sdktrace.SpanProcessor {
				return []sdktrace.SpanProcessor{NewWrapping(noopProcessor{}, WithRules(set))}
			}},
		})
	})
}

// benchAttrs are the 8 start attributes of the benchmarks' spans.
var benchAttrs = []attribute.KeyValue{
	attribute.String("http.method", "GET"),
	attribute.String("url.path", "/v1/search"),
	attribute.Int("http.status_code", 200),
	attribute.Int64("gen_ai.usage.input_tokens", 1234),
	attribute.Float64("score", 0.87),
	attribute.Bool("cache.hit", false),
	attribute.StringSlice("tags", []string{"a", "b"}),
	attribute.String("gen_ai.request.model", "m-1"),
}

func benchOverhead(b *testing.B, attrs []attribute.KeyValue, variants []overheadVariant) {
	// Each side's run in a round lasts some milliseconds, long enough to
	// include its share of garbage collection.
	const chunk = 2000
	type runner struct {
		tr  trace.Tracer
		ctx context.Context
	}
	start := trace.WithAttributes(attrs...)
	event := trace.WithAttributes(attribute.String("doc.id", "d-42"), attribute.Int("rank", 3))
	rs := make([]runner, len(variants))
	names, units := make([]string, len(variants)), make([]int, len(variants))
	for i, v := range variants {
		sps := v.sps()
		var smp sdktrace.Sampler = sdktrace.AlwaysSample()
		switch {
		case v.sampled:
			smp = sps[0].(*Processor).Sampler(smp)
		case v.floor != nil:
			smp = floorSampler{inner: smp, kv: v.floor}
		}
		opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(smp)}
		for _, sp := range sps {
			opts = append(opts, sdktrace.WithSpanProcessor(sp))
		}
		tp := sdktrace.NewTracerProvider(opts...)
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		tr := tp.Tracer("bench")
		ctx := attributes.ContextWithRun(context.Background(), "run-0001")
		ctx = attributes.ContextWithStage(ctx, "retrieve")
		ctx, parent := tr.Start(ctx, "parent")
		b.Cleanup(func() { parent.End() })
		rs[i] = runner{tr: tr, ctx: ctx}
		names[i], units[i] = v.name, chunk
	}
	rounds := benchpair.New(names, units)
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		for _, i := range benchpair.Order(len(rs), round) {
			r := rs[i]
			rounds.Time(i, func() {
				for range chunk {
					_, s := r.tr.Start(r.ctx, "child", start)
					s.AddEvent("retrieved", event)
					s.End()
				}
			})
		}
		round++
	}
	rounds.Report(b, "span", 0)
}
