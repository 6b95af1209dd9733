package postgressink_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/internal/pgtest"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/postgressink"
)

// TestRetentionDeletesRunsWhole: with a TTL, Open deletes the expired runs
// before it returns, spans, values and events with them, and keeps the
// others; the background loop deletes those that expire later.
func TestRetentionDeletesRunsWhole(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	w := openStore(t, url)
	old := sharedRuns(3, 4) // runs ending about base
	recent := sharedRuns(1, 4)
	for i := range recent {
		recent[i].RunID = "recent"
		recent[i].TraceID[2] = 9
		recent[i].StartTime = recent[i].StartTime.Add(10 * time.Hour)
		recent[i].EndTime = recent[i].EndTime.Add(10 * time.Hour)
	}
	ev := stagetrace.TraceEvent{Name: "exception", RunID: old[0].RunID, TraceID: old[0].TraceID, SpanID: old[0].SpanID, Time: old[0].StartTime}
	require.NoError(t, w.Write(ctx, stagetrace.Batch{Spans: append(old, recent...), Events: []stagetrace.TraceEvent{ev}}))

	var now atomicTime
	now.set(base.Add(5 * time.Hour))
	s := openStore(t, url, postgressink.WithTTL(4*time.Hour), postgressink.WithClock(now.get),
		postgressink.WithRetentionInterval(20*time.Millisecond), postgressink.WithRetentionChunk(2))
	runs, err := s.Runs(ctx, query.RunFilter{})
	require.NoError(t, err)
	require.Len(t, runs, 1, "expired before Open returned")
	assert.Equal(t, "recent", runs[0].ID)
	_, err = s.RunRecords(ctx, old[0].RunID)
	assert.ErrorIs(t, err, query.ErrNotFound, "spans and events go with their run")
	spans, err := s.Spans(ctx, query.SpanQuery{Where: query.MustParse("finding.input_tokens>0")})
	require.NoError(t, err)
	assert.Len(t, spans, 4, "the values of deleted spans are gone")

	now.set(base.Add(20 * time.Hour))
	require.Eventually(t, func() bool {
		runs, err := s.Runs(ctx, query.RunFilter{})
		return err == nil && len(runs) == 0
	}, 30*time.Second, 20*time.Millisecond, "the loop expires the last run")
}

type atomicTime struct{ v atomic.Int64 }

func (a *atomicTime) set(t time.Time) { a.v.Store(t.UnixNano()) }
func (a *atomicTime) get() time.Time  { return time.Unix(0, a.v.Load()).UTC() }
