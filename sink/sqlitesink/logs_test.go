package sqlitesink_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// logEvents are log events of every kind of body and severity, in two
// runs and under none.
func logEvents(t0 time.Time) []stagetrace.TraceEvent {
	big := strings.Repeat("x", 1<<20)
	ev := func(run, stage string, sec int, number int64, text string, body stagetrace.Value) stagetrace.TraceEvent {
		return stagetrace.TraceEvent{
			Name: stagetrace.LogEventName, RunID: run, Stage: stage, Time: t0.Add(time.Duration(sec) * time.Second),
			TraceID: stagetrace.TraceID{byte(sec)}, SpanID: stagetrace.SpanID{byte(sec)},
			Severity: stagetrace.Severity{Number: number, Text: text}, Body: body,
			Attrs: stagetrace.Attrs{{Key: "n", Value: stagetrace.IntValue(sec)}},
		}
	}
	return []stagetrace.TraceEvent{
		ev("r1", "inference", 1, 13, "WARN", stagetrace.StringValue("rate limited: retry after 20ms")),
		ev("r1", "inference", 2, 17, "ERROR", stagetrace.MapValue(stagetrace.Attr{Key: "error", Value: stagetrace.StringValue("timeout")})),
		ev("r1", "retrieval", 3, 9, "INFO", stagetrace.BytesValue([]byte{0, 0xff})),
		ev("r2", "", 4, 99, "", stagetrace.SliceValue(stagetrace.IntValue(1), stagetrace.StringValue("a"))),
		ev("r2", "", 5, -4, "warning", stagetrace.StringValue(big)),
		ev("", "", 6, 0, "", stagetrace.Value{}),
		ev("", "", 7, 5, "DEBUG", stagetrace.StringValue("bad \ufffd utf8")),
	}
}

func TestLogsQueriedLikeMemory(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	events := logEvents(t0)
	// Written with a span event in the same batch, in two batches.
	other := stagetrace.TraceEvent{Name: "exception", RunID: "r1", Time: t0}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Events: append([]stagetrace.TraceEvent{other}, events[:3]...)}))
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Events: events[3:]}))
	mem := memquery.New(stagetrace.Batch{Events: append([]stagetrace.TraceEvent{other}, events...)})

	for _, q := range []query.LogQuery{
		{},
		{Run: "r1"},
		{Run: "r2"},
		{Where: query.MustParse("severity>=warn")},
		{Where: query.MustParse("severity>=warn"), Run: "r1"},
		{Where: query.MustParse("severity<info")},
		{Where: query.MustParse("severity=critical")},
		{Where: query.MustParse(`body~"rate limit|timeout"`)},
		{Where: query.MustParse(`run_id="" and body exists`)},
		{Where: query.MustParse(`stage=inference and n>1`)},
		{Where: query.MustParse(`severity>error and severity<warn`)},
		{Limit: 2},
	} {
		got, err := s.Logs(ctx, q)
		require.NoError(t, err, "%+v", q)
		want, err := mem.Logs(ctx, q)
		require.NoError(t, err)
		require.Len(t, got, len(want), "%+v", q)
		for i := range want {
			assert.Equal(t, want[i].RunID, got[i].RunID)
			assert.Equal(t, want[i].Stage, got[i].Stage)
			assert.Equal(t, want[i].TraceID, got[i].TraceID)
			assert.Equal(t, want[i].SpanID, got[i].SpanID)
			assert.True(t, want[i].Time.Equal(got[i].Time))
			assert.Equal(t, want[i].Severity, got[i].Severity)
			assert.True(t, want[i].Body.Equal(got[i].Body), "%+v: body %.80s", q, got[i].Body.String())
			assert.True(t, want[i].Attrs.Equal(got[i].Attrs))
		}
	}
	warn, err := s.Logs(ctx, query.LogQuery{Where: query.MustParse("severity>=warn")})
	require.NoError(t, err)
	assert.Len(t, warn, 4, "warn, error, 99 (critical) and -4 with text warning")

	_, err = s.Logs(ctx, query.LogQuery{Where: query.MustParse("severity>=loud")})
	assert.ErrorContains(t, err, "unknown severity")
	_, err = s.Logs(ctx, query.LogQuery{Limit: -1})
	assert.Error(t, err)

	// A run's records hold its logs; no run is made of the unplaced ones.
	b, err := s.RunRecords(ctx, "r1")
	require.NoError(t, err)
	names := map[string]int{}
	for _, ev := range b.Events {
		names[ev.Name]++
	}
	assert.Equal(t, map[string]int{"exception": 1, "log": 3}, names)
	assert.ElementsMatch(t, []string{"r1", "r2"}, runIDs(t, s))
}

func TestLogsExpireWithTheirRun(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clk := newClock(t0.Add(time.Minute))
	s, path := openStore(t, sqlitesink.WithTTL(time.Hour), clk.option(), sqlitesink.WithRetentionInterval(time.Hour))
	ctx := context.Background()
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Events: logEvents(t0)}))
	require.Equal(t, 7, count(t, path, "logs"))
	clk.set(t0.Add(2 * time.Hour))
	n, err := s.Expire(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, 0, count(t, path, "logs"), "the runs' logs, and those under no run that are as old")
}

func TestMigrateV5AddsLogs(t *testing.T) {
	s, path := openStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{{RunID: "r", Name: "s", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1}, StartTime: t0, EndTime: t0}}}))
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`DROP TABLE logs; DROP TABLE metric_minutes; PRAGMA user_version = 5`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = sqlitesink.OpenReadOnly(path)
	assert.ErrorIs(t, err, sqlitesink.ErrSchemaTooOld)
	m, err := sqlitesink.Open(path)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, sqlitesink.SchemaVersion, userVersion(t, path))
	require.NoError(t, m.Write(ctx, stagetrace.Batch{Events: logEvents(t0)[:1]}))
	b, err := m.RunRecords(ctx, "r1")
	require.NoError(t, err)
	require.Len(t, b.Events, 1)
	assert.Equal(t, stagetrace.LevelWarn, b.Events[0].Severity.Level())
}

func TestLogsDeliveredTwiceAreStoredOnce(t *testing.T) {
	s, path := openStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	events := logEvents(t0)
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Events: events}))
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Events: events}), "a retry")
	assert.Equal(t, len(events), count(t, path, "logs"))
	other := events[0]
	other.Body = stagetrace.StringValue("another message at the same time")
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Events: []stagetrace.TraceEvent{other}}))
	assert.Equal(t, len(events)+1, count(t, path, "logs"), "records that differ are all kept")
}
