package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
)

func sessionSpan(run string, at int, session string, in int64, costNanos int64) stagetrace.StageSpan {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(at) * time.Minute)
	s := stagetrace.StageSpan{RunID: run, Name: "chat", Stage: "chat", StartTime: t0, EndTime: t0.Add(time.Second),
		TraceID: stagetrace.TraceID{byte(at + 1)}, SpanID: stagetrace.SpanID{byte(at + 1)}}
	if session != "" {
		s.Findings = append(s.Findings, stagetrace.Attr{Key: "session_id", Value: stagetrace.StringValue(session)})
		s.Attrs = append(s.Attrs, stagetrace.Attr{Key: "app.thread", Value: stagetrace.StringValue("t-" + session)})
	}
	if in > 0 {
		s.Findings = append(s.Findings,
			stagetrace.Attr{Key: "input_tokens", Value: stagetrace.Int64Value(in)},
			stagetrace.Attr{Key: "cost", Value: stagetrace.Float64Value(float64(costNanos) / 1e9)},
			stagetrace.Attr{Key: "cost_currency", Value: stagetrace.StringValue("USD")})
	}
	return s
}

func TestSessions(t *testing.T) {
	r := memquery.New(stagetrace.Batch{Spans: []stagetrace.StageSpan{
		sessionSpan("a", 0, "conv-1", 100, 1_000),
		sessionSpan("a", 1, "", 50, 500), // a run's other spans count too
		sessionSpan("b", 5, "conv-1", 10, 7),
		sessionSpan("c", 3, "conv-2", 1, 1),
		sessionSpan("d", 4, "", 1000, 9_999), // no session
	}})
	ctx := context.Background()

	got, err := query.Sessions(ctx, r, query.SessionFilter{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "conv-1", got[0].ID, "newest latest run first")
	assert.Equal(t, []string{"b", "a"}, runIDs(got[0].Runs))
	assert.Equal(t, int64(160), got[0].InputTokens)
	assert.Equal(t, int64(1_507), got[0].CostNanos)
	assert.Equal(t, "USD", got[0].Currency)
	assert.Equal(t, 3, got[0].Spans)
	assert.Equal(t, "conv-2", got[1].ID)
	assert.Equal(t, int64(1), got[1].CostNanos)

	one, err := query.Sessions(ctx, r, query.SessionFilter{ID: "conv-2"})
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, []string{"c"}, runIDs(one[0].Runs))

	byAttr, err := query.Sessions(ctx, r, query.SessionFilter{Key: "app.thread"})
	require.NoError(t, err)
	require.Len(t, byAttr, 2)
	assert.Equal(t, "t-conv-1", byAttr[0].ID, "a configurable key")

	since, err := query.Sessions(ctx, r, query.SessionFilter{Since: time.Date(2026, 12, 1, 10, 2, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Len(t, since, 2)
	assert.Equal(t, []string{"b"}, runIDs(since[0].Runs), "run a started before since")

	limited, err := query.Sessions(ctx, r, query.SessionFilter{Limit: 1, Offset: 1})
	require.NoError(t, err)
	require.Len(t, limited, 1)
	assert.Equal(t, "conv-2", limited[0].ID)

	none, err := query.Sessions(ctx, r, query.SessionFilter{ID: "nope"})
	require.NoError(t, err)
	assert.Empty(t, none)

	for _, bad := range []query.SessionFilter{{Key: "run_id"}, {Key: "finding."}, {Limit: -1}} {
		_, err := query.Sessions(ctx, r, bad)
		assert.Error(t, err, "%+v", bad)
	}
}

func runIDs(runs []stagetrace.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}
