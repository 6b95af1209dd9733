package sqlitesink_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// The ends of the range of Unix nanoseconds the time columns hold; the
// lowest value itself stands for the zero time.
var (
	minStored = time.Unix(0, math.MinInt64+1).UTC()
	maxStored = time.Unix(0, math.MaxInt64).UTC()
)

// Every time a span or an event carries reads back as written, or, outside
// the range of Unix nanoseconds, as the nearest end of it with the record
// marked: never another time without a word.
func TestTimesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   time.Time
		want time.Time // zero: in itself
	}{
		{"Unix 0", time.Unix(0, 0).UTC(), time.Time{}},
		{"the zero time", time.Time{}, time.Time{}},
		{"lowest stored", minStored, time.Time{}},
		{"highest stored", maxStored, time.Time{}},
		{"before 1677", minStored.Add(-time.Nanosecond), minStored},
		{"after 2262", maxStored.Add(time.Nanosecond), maxStored},
		{"year 1", time.Date(1, 6, 1, 12, 0, 0, 0, time.UTC), minStored},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), maxStored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, clamped := tc.in, !tc.want.IsZero()
			if clamped {
				want = tc.want
			}
			s, _ := openStore(t)
			ctx := context.Background()
			span := stagetrace.StageSpan{RunID: "r", Name: "s", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1},
				StartTime: tc.in, EndTime: tc.in}
			inSpan := stagetrace.TraceEvent{RunID: "r", TraceID: span.TraceID, SpanID: span.SpanID, Name: "in span", Time: tc.in}
			orphan := stagetrace.TraceEvent{RunID: "r", TraceID: stagetrace.TraceID{2}, SpanID: stagetrace.SpanID{2}, Name: "orphan", Time: tc.in}
			require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{span}, Events: []stagetrace.TraceEvent{inSpan, orphan}}))

			got, err := s.RunRecords(ctx, "r")
			require.NoError(t, err)
			require.Len(t, got.Spans, 1)
			require.Len(t, got.Events, 2)
			sp := got.Spans[0]
			assert.True(t, want.Equal(sp.StartTime), "start %v, want %v", sp.StartTime, want)
			assert.True(t, want.Equal(sp.EndTime), "end %v, want %v", sp.EndTime, want)
			mark, marked := sp.Attrs.Get(sqlitesink.ClampedTimeAttr)
			assert.Equal(t, clamped, marked, "span marked")
			if marked {
				assert.True(t, mark.Equal(stagetrace.BoolValue(true)))
			}
			for _, ev := range got.Events {
				assert.True(t, want.Equal(ev.Time), "%s: %v, want %v", ev.Name, ev.Time, want)
				_, marked := ev.Attrs.Get(sqlitesink.ClampedTimeAttr)
				assert.Equal(t, clamped && ev.Name == "orphan", marked, "%s marked (an event of a span marks its span)", ev.Name)
			}
			assert.Empty(t, span.Attrs, "the caller's span is not changed")
			if clamped {
				found, err := s.Spans(ctx, sqlitesink.SpanQuery{Where: []query.Filter{
					{Field: "attr." + sqlitesink.ClampedTimeAttr, Op: query.OpEq, Value: stagetrace.BoolValue(true)},
				}})
				require.NoError(t, err)
				assert.Len(t, found, 1, "the mark is indexed")
			}
		})
	}
}

// Version 3 stored the zero time as 0: a file of version 3 reads back its
// zero times as zero times, not as Unix 0, and its other times unchanged.
func TestMigrateV3ZeroTimes(t *testing.T) {
	s, path := openStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	span := stagetrace.StageSpan{RunID: "r", Name: "s", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1},
		StartTime: t0, EndTime: t0.Add(time.Second)}
	// Written at Unix 0 by this version, which is how version 3 wrote the
	// zero time: 0.
	unix0 := time.Unix(0, 0)
	inSpan := stagetrace.TraceEvent{RunID: "r", TraceID: span.TraceID, SpanID: span.SpanID, Name: "in span", Time: unix0}
	dated := stagetrace.TraceEvent{RunID: "r", TraceID: span.TraceID, SpanID: span.SpanID, Name: "dated", Time: t0}
	orphan := stagetrace.TraceEvent{RunID: "r", TraceID: stagetrace.TraceID{2}, SpanID: stagetrace.SpanID{2}, Name: "orphan", Time: unix0}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{span}, Events: []stagetrace.TraceEvent{inSpan, dated, orphan}}))
	require.NoError(t, s.Close())

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE spans SET end_ns = 0; DROP TABLE attr_index; DROP TABLE metric_minutes; PRAGMA user_version = 3`) // attr_index came with version 5, metric_minutes with 7
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.Equal(t, 3, userVersion(t, path))

	m, err := sqlitesink.Open(path)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, sqlitesink.SchemaVersion, userVersion(t, path))
	got, err := m.RunRecords(ctx, "r")
	require.NoError(t, err)
	require.Len(t, got.Spans, 1)
	assert.True(t, t0.Equal(got.Spans[0].StartTime))
	assert.True(t, got.Spans[0].EndTime.IsZero(), "end %v", got.Spans[0].EndTime)
	times := map[string]time.Time{}
	for _, ev := range got.Events {
		times[ev.Name] = ev.Time
	}
	assert.Equal(t, map[string]time.Time{"in span": {}, "orphan": {}, "dated": t0}, times)

	raw, err := openRaw(path)
	require.NoError(t, err)
	defer raw.Close()
	for _, col := range []string{"spans.start_ns", "spans.end_ns", "events.time_ns", "metric_points.time_ns", "runs.first_start_ns", "runs.last_end_ns"} {
		table, column, _ := strings.Cut(col, ".")
		var zeros int
		require.NoError(t, raw.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s = 0`, table, column)).Scan(&zeros))
		assert.Zero(t, zeros, "%s still holds 0", col)
	}
}
