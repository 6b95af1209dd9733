package sqlitesink_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

func TestMetrics(t *testing.T) {
	s, _ := openStore(t, sqlitesink.WithClock(func() time.Time { return base.Add(3 * time.Hour) }))
	rec := fill(t, s)
	rec.turn("r3", base.Add(time.Hour+10*time.Minute), 400, 0.002)
	ctx := context.Background()
	type point struct {
		at    time.Duration // after base
		value float64
		count int
	}
	flat := func(series []sqlitesink.Series) map[string][]point {
		out := map[string][]point{}
		for _, se := range series {
			key := ""
			for _, k := range []string{"run_id", "stage", "model", "metric.unit", "region", "source"} {
				if v, ok := se.Labels[k]; ok {
					key += k + "=" + v + " "
				}
			}
			for _, p := range se.Points {
				out[key] = append(out[key], point{p.Time.Sub(base), p.Value, p.Count})
			}
		}
		return out
	}
	// Steps are aligned on the Unix epoch: a day's bucket starts at
	// midnight UTC, ten hours before base.
	tests := []struct {
		name string
		q    sqlitesink.MetricQuery
		want map[string][]point
	}{
		{
			"metric event per hour",
			sqlitesink.MetricQuery{Name: "time_to_first_token", Step: time.Hour},
			map[string][]point{"": {{0, 41.5, 1}, {time.Hour, 41.5, 2}}},
		},
		{
			"finding summed per hour by run",
			sqlitesink.MetricQuery{Name: "input_tokens", Step: time.Hour, Agg: sqlitesink.AggSum, By: []string{"run_id"}},
			map[string][]point{
				"run_id=r1 ": {{0, 812, 1}},
				"run_id=r2 ": {{time.Hour, 1000, 1}},
				"run_id=r3 ": {{time.Hour, 400, 1}},
			},
		},
		{
			"instant over a window",
			sqlitesink.MetricQuery{Name: "input_tokens", Instant: true, Since: base.Add(30 * time.Minute), Until: base.Add(2 * time.Hour), Agg: sqlitesink.AggMax},
			map[string][]point{"": {{2 * time.Hour, 1000, 2}}},
		},
		{
			"instant until now by default",
			sqlitesink.MetricQuery{Name: "input_tokens", Instant: true, Agg: sqlitesink.AggCount},
			map[string][]point{"": {{3 * time.Hour, 3, 3}}},
		},
		{
			"labels: stage, model and the event's attributes",
			sqlitesink.MetricQuery{Name: "time_to_first_token", Step: 24 * time.Hour, By: []string{"stage", "model", "metric.unit", "region", "source"},
				Labels: []sqlitesink.LabelMatcher{{Name: "stage", Op: query.OpEq, Value: "inference"}}},
			map[string][]point{"stage=inference model=gpt-4o metric.unit=ms region=eu source=event ": {{-10 * time.Hour, 41.5, 3}}},
		},
		{
			"regex matchers are regexes",
			sqlitesink.MetricQuery{Name: "input_tokens", Step: 24 * time.Hour, Agg: sqlitesink.AggSum,
				Labels: []sqlitesink.LabelMatcher{{Name: "run_id", Op: query.OpMatch, Value: "^r[12]$"}}},
			map[string][]point{"": {{-10 * time.Hour, 1812, 2}}},
		},
		{
			"negative regex",
			sqlitesink.MetricQuery{Name: "input_tokens", Step: 24 * time.Hour, Agg: sqlitesink.AggSum,
				Labels: []sqlitesink.LabelMatcher{{Name: "run_id", Op: query.OpNotMatch, Value: "1|2"}}},
			map[string][]point{"": {{-10 * time.Hour, 400, 1}}},
		},
		{
			"a regex is not LIKE",
			sqlitesink.MetricQuery{Name: "input_tokens", Step: 24 * time.Hour,
				Labels: []sqlitesink.LabelMatcher{{Name: "run_id", Op: query.OpMatch, Value: "r%"}}},
			map[string][]point{},
		},
		{
			"not equal, and a missing label is empty",
			sqlitesink.MetricQuery{Name: "input_tokens", Step: 24 * time.Hour, Agg: sqlitesink.AggMin,
				Labels: []sqlitesink.LabelMatcher{{Name: "run_id", Op: query.OpNe, Value: "r3"}, {Name: "region", Op: query.OpEq, Value: ""}}},
			map[string][]point{"": {{-10 * time.Hour, 812, 2}}},
		},
		{
			"unknown metric",
			sqlitesink.MetricQuery{Name: "nope", Step: time.Minute},
			map[string][]point{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			series, err := s.Metrics(ctx, tt.q)
			require.NoError(t, err)
			assert.Equal(t, tt.want, flat(series))
			for _, se := range series {
				assert.Equal(t, tt.q.Name, se.Name)
			}
		})
	}
}

func TestMetricsRejectsBadQueries(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	for _, tt := range []struct {
		q    sqlitesink.MetricQuery
		want string
	}{
		{sqlitesink.MetricQuery{Step: time.Minute}, "no metric name"},
		{sqlitesink.MetricQuery{Name: "m", Step: 500 * time.Millisecond}, "step 500ms: must be at least 1s"},
		{sqlitesink.MetricQuery{Name: "m"}, "step 0s: must be at least 1s"},
		{sqlitesink.MetricQuery{Name: "m", Step: time.Minute, Agg: "p99"}, `unknown aggregation "p99"`},
		{sqlitesink.MetricQuery{Name: "m", Step: time.Minute, Since: base, Until: base}, "is not before until"},
		{sqlitesink.MetricQuery{Name: "m", Step: time.Minute, Labels: []sqlitesink.LabelMatcher{{Name: "stage", Op: query.OpMatch, Value: "("}}}, "missing closing )"},
		{sqlitesink.MetricQuery{Name: "m", Step: time.Minute, Labels: []sqlitesink.LabelMatcher{{Name: "stage", Op: "LIKE", Value: "%"}}}, `unknown operator "LIKE"`},
		{sqlitesink.MetricQuery{Name: "m", Step: time.Minute, By: []string{""}}, "empty label name"},
	} {
		_, err := s.Metrics(ctx, tt.q)
		assert.ErrorContains(t, err, tt.want)
	}
}

func TestParseLabelMatcher(t *testing.T) {
	for in, want := range map[string]sqlitesink.LabelMatcher{
		"stage=inference":  {Name: "stage", Op: query.OpEq, Value: "inference"},
		"stage!=inference": {Name: "stage", Op: query.OpNe, Value: "inference"},
		"model=~gpt-4.*":   {Name: "model", Op: query.OpMatch, Value: "gpt-4.*"},
		"model!~^o1":       {Name: "model", Op: query.OpNotMatch, Value: "^o1"},
		"model~gpt":        {Name: "model", Op: query.OpMatch, Value: "gpt"},
		"region=":          {Name: "region", Op: query.OpEq, Value: ""},
		"x==y":             {Name: "x", Op: query.OpEq, Value: "=y"},
	} {
		got, err := sqlitesink.ParseLabelMatcher(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"stage", "=x", "a!b", "a=~("} {
		_, err := sqlitesink.ParseLabelMatcher(bad)
		assert.Error(t, err, bad)
	}
}
