package sqlitesink_test

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/sink/sqlitesink"
)

// clock is a test clock the store reads.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) set(t time.Time)           { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time            { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) option() sqlitesink.Option { return sqlitesink.WithClock(c.now) }

// count returns the rows of a table, read with a connection of its own.
func count(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var n int
	// table is one of the test's constants.
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM `+table).Scan(&n))
	return n
}

func runIDs(t *testing.T, s *sqlitesink.Store) []string {
	t.Helper()
	runs, err := s.Runs(context.Background(), sqlitesink.RunFilter{})
	require.NoError(t, err)
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestTTLExpiresWholeRuns(t *testing.T) {
	clk := newClock(base)
	s, path := openStore(t, sqlitesink.WithTTL(time.Hour), clk.option(), sqlitesink.WithRetentionInterval(time.Hour))
	rec := fill(t, s)
	ctx := context.Background()
	valuesPerTurn := count(t, path, "span_values") / 2
	require.Positive(t, valuesPerTurn)
	require.Equal(t, 2, count(t, path, "metric_points"))

	// Nothing is older than an hour yet.
	n, err := s.Expire(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	// r1 ended at base+100ms; r2 at base+1h+100ms.
	clk.set(base.Add(90 * time.Minute))
	n, err = s.Expire(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{"r2"}, runIDs(t, s))
	_, err = s.RunRecords(ctx, "r1")
	assert.ErrorIs(t, err, sqlitesink.ErrNotFound)
	// Every row of r1 is gone, and none of r2.
	assert.Equal(t, spansPerTurn, count(t, path, "spans"))
	assert.Equal(t, valuesPerTurn, count(t, path, "span_values"))
	assert.Equal(t, 1, count(t, path, "metric_points"))
	assert.Equal(t, 3, count(t, path, "run_stages"))
	assert.Equal(t, 1, count(t, path, "traces"))
	b, err := s.RunRecords(ctx, "r2")
	require.NoError(t, err)
	assert.Len(t, b.Spans, spansPerTurn)
	assert.Len(t, b.Events, len(rec.mem.EventsOfRun("r2")))
	series, err := s.Metrics(ctx, sqlitesink.MetricQuery{Name: "time_to_first_token", Instant: true})
	require.NoError(t, err)
	require.Len(t, series, 1)
	assert.Equal(t, 1, series[0].Points[0].Count)
}

func TestTTLKeepsARunWithRecentSpans(t *testing.T) {
	clk := newClock(base)
	s, path := openStore(t, sqlitesink.WithTTL(time.Hour), clk.option(), sqlitesink.WithRetentionInterval(time.Hour))
	rec := fill(t, s)
	// A late span of r1, two hours after the rest of it.
	_, sp := rec.tp.Tracer("t").Start(context.Background(), "late", at(base.Add(2*time.Hour), 0), inRun("r1"))
	end(sp, base.Add(2*time.Hour), 1)
	clk.set(base.Add(150 * time.Minute))
	n, err := s.Expire(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{"r1"}, runIDs(t, s), "r1 is kept whole; r2 is older")
	assert.Equal(t, spansPerTurn+1, count(t, path, "spans"))
}

func TestTTLOnOpen(t *testing.T) {
	s, path := openStore(t)
	fill(t, s)
	require.NoError(t, s.Close())
	clk := newClock(base.Add(90 * time.Minute))
	again, err := sqlitesink.Open(path, sqlitesink.WithTTL(time.Hour), clk.option(), sqlitesink.WithRetentionInterval(time.Hour))
	require.NoError(t, err)
	defer again.Close()
	assert.Equal(t, []string{"r2"}, runIDs(t, again))
}

func TestRetentionRunsInBackgroundAndInChunks(t *testing.T) {
	clk := newClock(base)
	s, path := openStore(t, sqlitesink.WithTTL(time.Hour), clk.option(),
		sqlitesink.WithRetentionInterval(5*time.Millisecond), sqlitesink.WithRetentionChunk(1))
	rec := fill(t, s)
	rec.turn("r3", base.Add(time.Minute), 10, 0)
	require.Len(t, runIDs(t, s), 3)
	clk.set(base.Add(24 * time.Hour))
	require.Eventually(t, func() bool { return len(runIDs(t, s)) == 0 }, 10*time.Second, 5*time.Millisecond)
	assert.Zero(t, count(t, path, "spans"))
	assert.Zero(t, count(t, path, "span_values"))
	assert.Zero(t, count(t, path, "metric_points"))
	assert.Zero(t, count(t, path, "traces"))
	// Close stops the goroutine; TestMain checks nothing leaked.
	require.NoError(t, s.Close())
}

func TestExpireChunks(t *testing.T) {
	clk := newClock(base)
	s, _ := openStore(t, sqlitesink.WithTTL(time.Hour), clk.option(),
		sqlitesink.WithRetentionInterval(time.Hour), sqlitesink.WithRetentionChunk(2))
	rec := fill(t, s)
	rec.turn("r3", base.Add(time.Minute), 10, 0)
	rec.turn("r4", base.Add(2*time.Minute), 10, 0)
	rec.turn("r5", base.Add(3*time.Minute), 10, 0)
	clk.set(base.Add(24 * time.Hour))
	n, err := s.Expire(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 5, n, "three chunks of at most two runs")
	assert.Empty(t, runIDs(t, s))
}

func TestNoTTLKeepsEverything(t *testing.T) {
	s, _ := openStore(t, sqlitesink.WithClock(func() time.Time { return base.Add(1000 * time.Hour) }))
	fill(t, s)
	n, err := s.Expire(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Len(t, runIDs(t, s), 2)
}
