package monitor_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/usage"
)

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		opts []monitor.Option
		want string
	}{
		{"negative retention", []monitor.Option{monitor.WithRetention(-time.Second)}, "retention -1s is negative"},
		{"zero samples", []monitor.Option{monitor.WithSampleLimit(0)}, "sample limit 0 is not positive"},
		{"zero series", []monitor.Option{monitor.WithMaxSeries(0)}, "max series 0"},
		{"zero runs", []monitor.Option{monitor.WithMaxRuns(0)}, "max runs 0"},
		{"nil clock", []monitor.Option{monitor.WithClock(nil)}, "nil clock"},
		{"too many buckets", []monitor.Option{monitor.WithRetention(24 * time.Hour), monitor.WithResolution(time.Second)}, "more than 3600 buckets"},
		{"nil handler", []monitor.Option{monitor.WithAlertHandlers(nil)}, "alert handler 0 is nil"},
		{"nil forward", []monitor.Option{monitor.WithForward(nil)}, "forward sink 0 is nil"},
		{"nil snapshot function", []monitor.Option{monitor.WithSnapshots(time.Minute, nil)}, "snapshots: nil write function"},
		{"bad snapshot period", []monitor.Option{monitor.WithSnapshots(0, func(monitor.Snapshot) error { return nil })}, "period 0s is not positive"},
		{"rule with unknown series kind", []monitor.Option{monitor.WithAlerts(alert.Rule{
			Name: "typo", Metric: "stgae:inference", Stat: alert.StatErrorRate, Op: query.OpGt, Threshold: 0.1,
		})}, `alert "typo": metric: unknown series kind "stgae:"`},
		{"rule with unknown stat", []monitor.Option{monitor.WithAlerts(alert.Rule{
			Name: "p959", Metric: "chat", Stat: "p959", Op: query.OpGt, Threshold: 1,
		})}, `alert "p959": unknown statistic "p959"`},
		{"rule with bad op", []monitor.Option{monitor.WithAlerts(alert.Rule{
			Name: "eq", Metric: "chat", Stat: alert.StatP95, Op: "==", Threshold: 1,
		})}, `alert "eq": bad operator "=="`},
		{"duplicate rule names", []monitor.Option{monitor.WithAlerts(
			alert.Rule{Name: "a", Metric: "chat", Stat: alert.StatCount, Op: query.OpGt, Threshold: 1},
			alert.Rule{Name: "a", Metric: "chat", Stat: alert.StatCount, Op: query.OpGt, Threshold: 2},
		)}, `alert "a": name given to more than one rule`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := monitor.New(c.opts...)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

func TestMetricsOfSpansAndStages(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk)
	now := clk.Now()
	write(t, m,
		span("chat", now, 10*time.Millisecond, inStage("inference")),
		span("chat", now, 20*time.Millisecond, inStage("inference")),
		span("chat", now, 30*time.Millisecond, inStage("inference"), failed()),
		span("chat", now, 40*time.Millisecond, inStage("inference")),
		span("chat", now, 100*time.Millisecond, inStage("inference")),
		span("rerank", now, 5*time.Millisecond, inStage("inference")),
	)

	st, ok := m.Metrics("chat", time.Minute)
	require.True(t, ok)
	assert.Equal(t, monitor.KindSpan, st.Kind)
	assert.Equal(t, "chat", st.Name)
	assert.Equal(t, "span:chat", st.Key())
	assert.Equal(t, int64(5), st.Count)
	assert.Equal(t, int64(1), st.Errors)
	assert.InDelta(t, 0.8, st.SuccessRate, 1e-12)
	assert.InDelta(t, 0.2, st.ErrorRate, 1e-12)
	assert.Equal(t, "ms", st.Unit)
	assert.InDelta(t, 40.0, st.Mean, 1e-9)
	assert.InDelta(t, 10.0, st.Min, 1e-9)
	assert.InDelta(t, 100.0, st.Max, 1e-9)
	// Linear interpolation over [10 20 30 40 100]: rank 0.95*4 = 3.8.
	assert.InDelta(t, 30.0, st.P50, 1e-9)
	assert.InDelta(t, 88.0, st.P95, 1e-9)
	assert.InDelta(t, 97.6, st.P99, 1e-9)
	assert.True(t, st.Exact)

	same, ok := m.Metrics("span:chat", time.Minute)
	require.True(t, ok)
	assert.Equal(t, st, same, "span: names the same series")

	stage, ok := m.Metrics("stage:inference", time.Minute)
	require.True(t, ok)
	assert.Equal(t, monitor.KindStage, stage.Kind)
	assert.Equal(t, int64(6), stage.Count)
	assert.Equal(t, int64(1), stage.Errors)
	assert.InDelta(t, 5.0, stage.Min, 1e-9)

	_, ok = m.Metrics("stage:retrieval", time.Minute)
	assert.False(t, ok, "a stage never seen")
	_, ok = m.Metrics("nothing", time.Minute)
	assert.False(t, ok, "a name never seen")
	_, ok = m.Metrics("stgae:inference", time.Minute)
	assert.False(t, ok, "an unknown series kind")
	_, ok = m.Metrics("chat", 0)
	assert.False(t, ok, "an empty window")
	_, ok = m.Metrics("chat", -time.Second)
	assert.False(t, ok, "a negative window")
}

func TestMetricsOfFindingsAndMetricEvents(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk)
	now := clk.Now()
	write(t, m,
		span("judge", now, time.Millisecond, finding("response_safe_score", f64(0.2)), finding("latency_ok", stagetrace.BoolValue(true))),
		span("judge", now, time.Millisecond, finding("response_safe_score", f64(0.6)), finding("latency_ok", stagetrace.BoolValue(false))),
		span("judge", now, time.Millisecond, finding("response_safe_score", f64(math.NaN())), finding("verdict", stagetrace.StringValue("pass"))),
	)
	writeEvents(t, m,
		metricEvent("ttft", f64(40), "ms", now),
		metricEvent("ttft", i64(50), "ms", now),
		metricEvent("ttft", f64(math.Inf(1)), "ms", now),
		metricEvent("ttft", stagetrace.StringValue("fast"), "ms", now),
		// Not metrics: ignored.
		stagetrace.TraceEvent{Name: attributes.EventException, Time: now},
		stagetrace.TraceEvent{Name: attributes.EventMetric, Time: now},
	)

	safe, ok := m.Metrics("finding:response_safe_score", time.Minute)
	require.True(t, ok)
	assert.Equal(t, monitor.KindFinding, safe.Kind)
	assert.Equal(t, int64(3), safe.Count)
	assert.Equal(t, int64(2), safe.Values)
	assert.Equal(t, int64(1), safe.Invalid, "NaN is left out")
	assert.InDelta(t, 0.4, safe.Mean, 1e-12)
	assert.Zero(t, safe.ErrorRate, "findings have no status")
	assert.False(t, math.IsNaN(safe.P99))

	ok2, ok := m.Metrics("finding:latency_ok", time.Minute)
	require.True(t, ok)
	assert.InDelta(t, 0.5, ok2.Mean, 1e-12, "true counts 1, false 0")

	_, ok = m.Metrics("finding:verdict", time.Minute)
	assert.False(t, ok, "string findings make no series")

	ttft, ok := m.Metrics("ttft", time.Minute)
	require.True(t, ok, "a name no span has is a metric's")
	assert.Equal(t, monitor.KindMetric, ttft.Kind)
	assert.Equal(t, "ms", ttft.Unit)
	assert.Equal(t, int64(4), ttft.Count)
	assert.Equal(t, int64(2), ttft.Values)
	assert.Equal(t, int64(2), ttft.Invalid, "infinity and a string")
	assert.InDelta(t, 45.0, ttft.Mean, 1e-12)
	viaPrefix, ok := m.Metrics("metric:ttft", time.Minute)
	require.True(t, ok)
	assert.Equal(t, ttft, viaPrefix)
}

func TestSingleSample(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk)
	write(t, m, span("embed", clk.Now(), 7*time.Millisecond))
	st, ok := m.Metrics("embed", time.Minute)
	require.True(t, ok)
	for _, v := range []float64{st.Mean, st.Min, st.Max, st.P50, st.P95, st.P99} {
		assert.InDelta(t, 7.0, v, 1e-9)
	}
	assert.Equal(t, 1.0, st.SuccessRate)
}

func TestWindowsSlide(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithRetention(10*time.Minute), monitor.WithResolution(time.Second))
	write(t, m, span("chat", clk.Now(), 100*time.Millisecond, failed()))
	clk.Advance(30 * time.Second)
	write(t, m, span("chat", clk.Now(), 300*time.Millisecond))

	cases := []struct {
		window     time.Duration
		count      int64
		errorRate  float64
		max        float64
		afterClock time.Duration
	}{
		{time.Second, 1, 0, 300, 0},
		{10 * time.Second, 1, 0, 300, 0},
		{31 * time.Second, 2, 0.5, 300, 0},
		{time.Hour, 2, 0.5, 300, 0}, // longer than the retention: the retention
	}
	for _, c := range cases {
		st, ok := m.Metrics("chat", c.window)
		require.True(t, ok, "%v", c.window)
		assert.Equal(t, c.count, st.Count, "%v", c.window)
		assert.InDelta(t, c.errorRate, st.ErrorRate, 1e-12, "%v", c.window)
		assert.InDelta(t, c.max, st.Max, 1e-9, "%v", c.window)
	}

	// The window empties out: the series is still known, with zeros.
	clk.Advance(2 * time.Minute)
	st, ok := m.Metrics("chat", time.Minute)
	require.True(t, ok)
	assert.Zero(t, st.Count)
	assert.Zero(t, st.SuccessRate, "no rate over an empty window")
	assert.Zero(t, st.Mean)
	assert.Zero(t, st.P95)

	// Past the retention, once swept, the series is forgotten.
	clk.Advance(11 * time.Minute)
	m.Evaluate()
	_, ok = m.Metrics("chat", time.Minute)
	assert.False(t, ok)
	assert.Zero(t, m.Health().Series)
}

func TestRecordsByTheirOwnTime(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithRetention(time.Minute), monitor.WithResolution(time.Second))
	now := clk.Now()
	write(t, m,
		span("old", now.Add(-2*time.Minute), time.Millisecond, inRun("r-old")), // past the retention
		span("chat", now.Add(-20*time.Second), time.Millisecond),
		span("chat", now.Add(time.Hour), time.Millisecond), // clock skew: counts now
	)
	_, ok := m.Metrics("old", time.Minute)
	assert.False(t, ok, "a record older than the retention makes no series")
	assert.Equal(t, int64(1), m.Health().Late)
	_, ok = m.RunSummary("r-old")
	assert.True(t, ok, "but counts in its run")

	st, _ := m.Metrics("chat", 5*time.Second)
	assert.Equal(t, int64(1), st.Count, "the future span counts now")
	st, _ = m.Metrics("chat", 30*time.Second)
	assert.Equal(t, int64(2), st.Count)
}

func TestQuantilesFromSamples(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithSampleLimit(256), monitor.WithResolution(time.Second))
	// 10 seconds of 1000 spans each, durations 1..10000 ms shuffled
	// across the buckets by a stride.
	const n = 10000
	for sec := range 10 {
		batch := make([]stagetrace.StageSpan, 0, n/10)
		for i := range n / 10 {
			d := (i*10+sec)%n + 1
			batch = append(batch, span("chat", clk.Now(), time.Duration(d)*time.Millisecond))
		}
		write(t, m, batch...)
		clk.Advance(time.Second)
	}
	st, ok := m.Metrics("chat", time.Minute)
	require.True(t, ok)
	assert.False(t, st.Exact)
	assert.Equal(t, int64(n), st.Count)
	assert.InDelta(t, 5000.5, st.Mean, 1e-6, "means are exact")
	assert.InDelta(t, 10000.0, st.Max, 1e-9, "so are extremes")
	assert.InDelta(t, 1.0, st.Min, 1e-9)
	// 2560 samples: the quantiles are within a few percent.
	assert.InEpsilon(t, 5000, st.P50, 0.06)
	assert.InEpsilon(t, 9500, st.P95, 0.03)
	assert.InEpsilon(t, 9900, st.P99, 0.02)
}

func TestSeriesBound(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithMaxSeries(3))
	for i := range 10 {
		write(t, m, span(fmt.Sprintf("span-%d", i), clk.Now(), time.Millisecond))
	}
	h := m.Health()
	assert.Equal(t, 3, h.Series)
	assert.Equal(t, int64(7), h.DroppedSeries)
	_, ok := m.Metrics("span-2", time.Minute)
	assert.True(t, ok)
	_, ok = m.Metrics("span-3", time.Minute)
	assert.False(t, ok)
}

func TestRunSummary(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk)
	now := clk.Now()
	write(t, m,
		span("retrieve", now.Add(-3*time.Second), time.Second, inStage("retrieval")),
		span("chat", now.Add(-time.Second), time.Second, inStage("inference"), tokens("gpt-4o", 800, 100), cost(0.1), failed()),
		span("chat", now, time.Second, inStage("inference"), tokens("gpt-4o", 812, 95), cost(0.2)),
		span("judge", now, 500*time.Millisecond, inStage("evaluation"), tokens("gpt-4o-mini", 300, 5)),
		span("other", now, time.Second, inRun("run-2")),
	)
	s, ok := m.RunSummary("run-1")
	require.True(t, ok)
	assert.Equal(t, "run-1", s.Run.ID)
	assert.Equal(t, 4, s.Run.Spans)
	assert.Equal(t, 1, s.Run.Errors)
	assert.Equal(t, now.Add(-4*time.Second), s.Run.Start)
	assert.Equal(t, now, s.Run.End)
	assert.Equal(t, 4*time.Second, s.Run.Duration())
	assert.Equal(t, 3, s.Run.Stages)
	require.Len(t, s.Stages, 3)
	assert.Equal(t, []string{"retrieval", "inference", "evaluation"}, []string{s.Stages[0].Name, s.Stages[1].Name, s.Stages[2].Name})
	assert.Equal(t, int64(2), s.Stages[1].Spans)
	assert.Equal(t, int64(1), s.Stages[1].Errors)
	assert.Equal(t, int64(1807), s.Stages[1].Tokens.TotalTokens)
	assert.Equal(t, int64(1912), s.Run.InputTokens)
	assert.Equal(t, int64(200), s.Run.OutputTokens)
	assert.Equal(t, int64(2112), s.Run.TotalTokens)
	assert.Equal(t, int64(300_000_000), s.Run.CostNanos, "0.1 + 0.2 added exactly")
	assert.Equal(t, 0.3, s.Run.Cost)
	require.Len(t, s.Tokens, 2)
	assert.Equal(t, "gpt-4o", s.Tokens[0].Model)
	assert.Equal(t, int64(2), s.Tokens[0].Calls)
	assert.Equal(t, "gpt-4o-mini", s.Tokens[1].Model)

	_, ok = m.RunSummary("run-3")
	assert.False(t, ok)
}

func TestRunsAreBounded(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithMaxRuns(2))
	write(t, m, span("a", clk.Now(), time.Millisecond, inRun("r1")))
	write(t, m, span("a", clk.Now(), time.Millisecond, inRun("r2")))
	write(t, m, span("a", clk.Now(), time.Millisecond, inRun("r1"))) // r1 is now the most recent
	write(t, m, span("a", clk.Now(), time.Millisecond, inRun("r3")))
	_, ok := m.RunSummary("r2")
	assert.False(t, ok, "the run updated least recently is forgotten")
	r1, ok := m.RunSummary("r1")
	require.True(t, ok)
	assert.Equal(t, 2, r1.Run.Spans)
	_, ok = m.RunSummary("r3")
	assert.True(t, ok)
	assert.Equal(t, int64(1), m.Health().EvictedRuns)
	assert.Equal(t, 2, m.Health().Runs)
}

func TestTokenUsage(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithRetention(time.Hour))
	now := clk.Now()
	cache := func(s *stagetrace.StageSpan) {
		s.Findings = append(s.Findings,
			stagetrace.Attr{Key: attributes.FindingCacheReadInputTokens, Value: i64(200)},
			stagetrace.Attr{Key: attributes.FindingCacheCreationInputTokens, Value: i64(50)},
			stagetrace.Attr{Key: attributes.FindingReasoningOutputTokens, Value: i64(7)},
		)
	}
	write(t, m,
		span("chat", now.Add(-30*time.Minute), time.Second, tokens("gpt-4o", 1000, 100), cost(0.01)),
		span("chat", now, time.Second, tokens("gpt-4o", 800, 95), cost(0.1), cache),
		span("chat", now, time.Second, tokens("gpt-4o", 12, 5), cost(0.2)),
		span("embed", now, time.Second, tokens("text-embedding-3-small", 64, 0)),
		// A span of an instrumentation without rules: the model from the
		// GenAI attributes.
		span("chat", now, time.Second,
			finding(attributes.FindingInputTokens, i64(10)),
			attr(string(attributes.GenAIRequestModel), stagetrace.StringValue("claude")),
			attr(string(attributes.GenAIResponseModel), stagetrace.StringValue("claude-sonnet-4-5"))),
		span("chat", now, time.Second, finding(attributes.FindingTotalTokens, i64(42))), // no model at all
		span("retrieve", now, time.Second),                                              // no tokens: not counted
		span("chat", now, time.Second, finding(attributes.FindingInputTokens, i64(-5))), // not a count
	)

	r := m.TokenUsage(time.Minute)
	assert.Equal(t, 60.0, r.WindowSeconds)
	byModel := map[string]monitor.ModelUsage{}
	for _, u := range r.Models {
		byModel[u.Model] = u
	}
	require.Len(t, byModel, 4, "%v", r.Models)
	gpt := byModel["gpt-4o"]
	assert.Equal(t, int64(2), gpt.Calls)
	assert.Equal(t, int64(812), gpt.InputTokens)
	assert.Equal(t, int64(100), gpt.OutputTokens)
	assert.Equal(t, int64(200), gpt.CacheReadInputTokens)
	assert.Equal(t, int64(50), gpt.CacheCreationInputTokens)
	assert.Equal(t, int64(7), gpt.ReasoningOutputTokens)
	assert.Equal(t, int64(912), gpt.TotalTokens)
	assert.Equal(t, int64(300_000_000), gpt.CostNanos)
	assert.Equal(t, 0.3, gpt.Cost)
	assert.Equal(t, "USD", gpt.Currency)
	assert.Equal(t, int64(10), byModel["claude-sonnet-4-5"].InputTokens, "the response's model first")
	assert.Equal(t, int64(42), byModel[usage.UnknownModel].TotalTokens, "total_tokens alone")
	assert.Equal(t, int64(64), byModel["text-embedding-3-small"].TotalTokens)

	assert.Equal(t, "total", r.Total.Model)
	assert.Equal(t, int64(5), r.Total.Calls)
	assert.Equal(t, int64(812+64+10), r.Total.InputTokens)
	assert.Equal(t, int64(912+64+10+42), r.Total.TotalTokens)
	assert.Equal(t, 0.3, r.Total.Cost)

	hour := m.TokenUsage(time.Hour)
	require.Len(t, hour.Models, 4)
	for _, u := range hour.Models {
		if u.Model == "gpt-4o" {
			assert.Equal(t, int64(3), u.Calls, "the older call is in the hour")
			assert.Equal(t, int64(1812), u.InputTokens)
		}
	}
	assert.Equal(t, 0.31, hour.Total.Cost)

	empty := m.TokenUsage(0)
	assert.Empty(t, empty.Models)
	assert.Zero(t, empty.Total.TotalTokens)
}

func TestUsageOfMatchesTheMonitor(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk)
	now := clk.Now()
	spans := []stagetrace.StageSpan{
		span("chat", now, time.Second, tokens("gpt-4o", 800, 95), cost(0.1)),
		span("chat", now, time.Second, tokens("gpt-4o-mini", 12, 5), cost(0.2)),
		span("retrieve", now, time.Second),
	}
	write(t, m, spans...)
	want := m.TokenUsage(time.Minute)
	got := monitor.UsageOf(spans)
	assert.Equal(t, want.Models, got.Models)
	assert.Equal(t, want.Total, got.Total)
}

func TestCostInAnotherCurrencyIsNotAdded(t *testing.T) {
	eur := func(s *stagetrace.StageSpan) {
		s.Findings = append(s.Findings,
			stagetrace.Attr{Key: attributes.FindingCost, Value: f64(1)},
			stagetrace.Attr{Key: attributes.FindingCostCurrency, Value: stagetrace.StringValue("EUR")},
		)
	}
	costErr := finding(attributes.FindingCostError, stagetrace.StringValue("no price for model"))
	r := monitor.UsageOf([]stagetrace.StageSpan{
		span("chat", t0, time.Second, tokens("gpt-4o", 1, 1), cost(0.5)),
		span("chat", t0, time.Second, tokens("gpt-4o", 1, 1), eur),
		span("chat", t0, time.Second, tokens("gpt-4o", 1, 1), costErr),
	})
	require.Len(t, r.Models, 1)
	assert.True(t, r.Models[0].CostUnknown, "USD and EUR are not summed")
	assert.False(t, r.Models[0].HasCost())
	assert.Zero(t, r.Models[0].Cost)
	assert.Empty(t, r.Models[0].Currency)
	assert.Equal(t, int64(2), r.Models[0].CostSpans)
	assert.Equal(t, int64(1), r.Models[0].CostErrors)
	assert.Equal(t, int64(3), r.Models[0].Calls)
}

func TestTimeline(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk, monitor.WithResolution(10*time.Second))
	writeEvents(t, m, metricEvent("ttft", f64(40), "ms", clk.Now()), metricEvent("ttft", f64(60), "ms", clk.Now()))
	clk.Advance(20 * time.Second)
	writeEvents(t, m, metricEvent("ttft", f64(30), "ms", clk.Now()))
	pts, ok := m.Timeline("metric:ttft", time.Minute)
	require.True(t, ok)
	require.Len(t, pts, 2, "empty buckets are skipped")
	assert.Equal(t, t0, pts[0].Time.UTC())
	assert.Equal(t, int64(2), pts[0].Count)
	assert.InDelta(t, 50.0, pts[0].Mean, 1e-12)
	assert.InDelta(t, 60.0, pts[0].Max, 1e-12)
	assert.Equal(t, t0.Add(20*time.Second), pts[1].Time.UTC())
	_, ok = m.Timeline("metric:nothing", time.Minute)
	assert.False(t, ok)
}

func TestWriteAfterShutdown(t *testing.T) {
	m, err := monitor.New()
	require.NoError(t, err)
	require.NoError(t, m.Shutdown(context.Background()))
	require.NoError(t, m.Shutdown(context.Background()), "a second Shutdown")
	err = m.Write(context.Background(), stagetrace.Batch{})
	assert.ErrorIs(t, err, stagetrace.ErrClosed)
	assert.NoError(t, m.ForceFlush(context.Background()))
}

func TestConcurrentWritesAndReads(t *testing.T) {
	m, err := monitor.New(monitor.WithAlerts(alert.Rule{
		Name: "slow", Metric: "stage:inference", Stat: alert.StatP95, Op: query.OpGt, Threshold: 1e9,
	}), monitor.WithAlertHandlers(newCollector()), monitor.WithEvalInterval(time.Millisecond))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 50 {
				now := time.Now()
				assert.NoError(t, m.Write(context.Background(), stagetrace.Batch{Spans: []stagetrace.StageSpan{
					span("chat", now, time.Millisecond, inStage("inference"), inRun(fmt.Sprintf("r%d-%d", g, i%5)), tokens("gpt-4o", 10, 1)),
				}}))
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				m.Metrics("stage:inference", time.Minute)
				m.TokenUsage(time.Minute)
				m.RunSummary("r0-0")
				m.Snapshot(time.Minute)
			}
		}()
	}
	wg.Wait()
	st, ok := m.Metrics("stage:inference", time.Minute)
	require.True(t, ok)
	assert.Equal(t, int64(200), st.Count)
	assert.Equal(t, int64(2200), m.TokenUsage(time.Minute).Total.TotalTokens)
	require.NoError(t, m.Shutdown(context.Background()))
}

func TestWindowTokenSumsSaturate(t *testing.T) {
	clk := newClock()
	m := newMonitor(t, clk)
	now := clk.Now()
	// Two writes, so the sums meet both in one bucket and across buckets'
	// addition into the window's stats.
	write(t, m, span("chat", now, time.Millisecond, tokens("gpt-4o", math.MaxInt64, 1)))
	clk.Advance(2 * time.Second)
	write(t, m, span("chat", clk.Now(), time.Millisecond, tokens("gpt-4o", math.MaxInt64, 1)))

	st, ok := m.Metrics("chat", time.Minute)
	require.True(t, ok)
	assert.Equal(t, int64(math.MaxInt64), st.InputTokens, "a sum past the largest count stops there, never wraps")
	assert.Equal(t, int64(2), st.OutputTokens)
	assert.Equal(t, int64(math.MaxInt64), st.TotalTokens)
}
