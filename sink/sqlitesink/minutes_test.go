package sqlitesink_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// minuteRecords are runs of one span each over three hours, every span
// with metric events named "lat" in its row and as numeric finding "lat",
// and metric events of spans never seen, in batches of a few runs.
func minuteRecords(rng *rand.Rand, t0 time.Time) []stagetrace.Batch {
	metric := func(sp stagetrace.StageSpan, at time.Time, v float64) stagetrace.TraceEvent {
		return stagetrace.TraceEvent{Name: attributes.EventMetric, RunID: sp.RunID, Stage: sp.Stage, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: at,
			Attrs: stagetrace.Attrs{
				{Key: string(attributes.MetricName), Value: stagetrace.StringValue("lat")},
				{Key: string(attributes.MetricValue), Value: stagetrace.Float64Value(v)},
			}}
	}
	var batches []stagetrace.Batch
	for r := range 60 {
		if r%4 == 0 {
			batches = append(batches, stagetrace.Batch{})
		}
		b := &batches[len(batches)-1]
		start := t0.Add(time.Duration(r) * 3 * time.Minute).Add(time.Duration(rng.IntN(60_000)) * time.Millisecond)
		sp := stagetrace.StageSpan{RunID: fmt.Sprintf("r%02d", r), Stage: "inference", Name: "call",
			TraceID: stagetrace.TraceID{byte(r + 1)}, SpanID: stagetrace.SpanID{byte(r + 1)},
			StartTime: start, EndTime: start.Add(4 * time.Minute),
			Findings: stagetrace.Attrs{{Key: "lat", Value: stagetrace.Float64Value(rng.Float64())}}}
		b.Spans = append(b.Spans, sp)
		for range 1 + rng.IntN(8) {
			at := start.Add(time.Duration(rng.IntN(240_000)) * time.Millisecond)
			b.Events = append(b.Events, metric(sp, at, rng.NormFloat64()*1e3))
		}
		orphan := sp
		orphan.SpanID[7] = 0xff
		b.Events = append(b.Events, metric(orphan, start.Add(time.Duration(rng.IntN(240_000))*time.Millisecond), rng.ExpFloat64()))
	}
	return batches
}

// checkMetrics compares the store's answers with the in-memory
// executor's: ranges cut inside minutes and on them, steps of whole
// minutes (answered from metric_minutes) and not, every aggregation.
func checkMetrics(t *testing.T, s *sqlitesink.Store, mem *memquery.Records, t0 time.Time, wantPoints bool) {
	t.Helper()
	ctx := context.Background()
	for _, agg := range []query.Agg{query.AggAvg, query.AggSum, query.AggMin, query.AggMax, query.AggCount} {
		for _, q := range []query.MetricQuery{
			{Step: time.Minute},
			{Step: 5 * time.Minute, Since: t0.Add(90 * time.Second), Until: t0.Add(2*time.Hour + 17*time.Second)},
			{Step: 15 * time.Minute, Since: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)},
			{Step: 90 * time.Second, Since: t0.Add(7 * time.Minute)},
			{Step: 10 * time.Second, Since: t0.Add(20 * time.Minute), Until: t0.Add(30 * time.Minute)},
			{Instant: true, Since: t0.Add(30*time.Minute + time.Second), Until: t0.Add(150*time.Minute - time.Second)},
			{Step: time.Minute, Since: t0.Add(10*time.Minute + time.Second), Until: t0.Add(10*time.Minute + 50*time.Second)},
			{Step: 5 * time.Minute, By: []string{"source"}},
		} {
			q.Name, q.Agg = "lat", agg
			if q.Until.IsZero() {
				q.Until = t0.Add(4 * time.Hour)
			}
			want, err := mem.Metrics(ctx, q)
			require.NoError(t, err)
			got, err := s.Metrics(ctx, q)
			require.NoError(t, err)
			assert.Equal(t, want, got, "%+v", q)
			if wantPoints {
				assert.NotEmpty(t, want, "%+v", q)
			}
		}
	}
}

func TestMetricMinutes(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	clk := newClock(t0.Add(4 * time.Hour))
	s, path := openStore(t, sqlitesink.WithTTL(3*time.Hour), clk.option(), sqlitesink.WithRetentionInterval(time.Hour))
	ctx := context.Background()
	batches := minuteRecords(rand.New(rand.NewPCG(11, 12)), t0)
	var all stagetrace.Batch
	for _, b := range batches {
		require.NoError(t, s.Write(ctx, b))
		all.Spans = append(all.Spans, b.Spans...)
		all.Events = append(all.Events, b.Events...)
	}
	// A batch delivered twice is stored once, its minutes too.
	require.NoError(t, s.Write(ctx, batches[3]))
	for _, ev := range batches[3].Events {
		if ev.SpanID[7] == 0xff {
			all.Events = append(all.Events, ev) // events without their span are stored again
		}
	}
	assert.Positive(t, count(t, path, "metric_minutes"))
	checkMetrics(t, s, memquery.New(all), t0, true)

	// Expiry takes the points of the runs it deletes out of their minutes.
	clk.set(t0.Add(4*time.Hour + 30*time.Minute))
	n, err := s.Expire(ctx)
	require.NoError(t, err)
	require.Positive(t, n)
	cutoff := clk.now().Add(-3 * time.Hour)
	var kept stagetrace.Batch
	for _, sp := range all.Spans {
		if !sp.EndTime.Before(cutoff) {
			kept.Spans = append(kept.Spans, sp)
		}
	}
	for _, ev := range all.Events {
		if _, err := s.Run(ctx, ev.RunID); err == nil {
			kept.Events = append(kept.Events, ev)
		}
	}
	require.Less(t, len(kept.Spans), len(all.Spans))
	checkMetrics(t, s, memquery.New(kept), t0, false)

	// Everything expired: no minute is left.
	clk.set(t0.Add(24 * time.Hour))
	_, err = s.Expire(ctx)
	require.NoError(t, err)
	assert.Zero(t, count(t, path, "metric_minutes"))
}
