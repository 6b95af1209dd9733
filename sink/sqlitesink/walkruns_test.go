package sqlitesink

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/query/memquery"
)

// TestRunFilterPlans runs span-filtered run queries both ways the store
// may answer them, walking the runs newest first or collecting every
// matching span: both give what the in-memory executor gives, in its
// order and pages, and the store walks only when many spans match.
func TestRunFilterPlans(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	defer s.Close()
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var b stagetrace.Batch
	const runs, perRun = 60, 40
	for r := range runs {
		for k := range perRun {
			i := r*perRun + k
			sp := stagetrace.StageSpan{
				RunID: fmt.Sprintf("r%02d", r), Stage: []string{"retrieval", "inference"}[k%2], Name: "s",
				TraceID: stagetrace.TraceID{byte(r), 1}, SpanID: stagetrace.SpanID{byte(i), byte(i >> 8), 1},
				// Runs two by two start together: the run ID orders them.
				StartTime: base.Add(time.Duration(r/2)*time.Second + time.Duration(k)*time.Millisecond),
				EndTime:   base.Add(time.Duration(r/2)*time.Second + time.Duration(k+1)*time.Millisecond),
				Findings:  stagetrace.Attrs{{Key: "n", Value: stagetrace.Int64Value(int64(i % 50))}},
			}
			if r%3 == 0 && k == 7 {
				sp.Status = stagetrace.StatusError
			}
			if i == 45 || i == 1203 || i == 1204 {
				sp.Findings = append(sp.Findings, stagetrace.Attr{Key: "rare", Value: stagetrace.Int64Value(1)})
			}
			b.Spans = append(b.Spans, sp)
		}
	}
	require.NoError(t, s.Write(context.Background(), b))
	require.NoError(t, s.ForceFlush(context.Background()))
	mem := memquery.New(b)
	ctx := context.Background()
	ix, err := s.indexedKeys(ctx)
	require.NoError(t, err)

	for _, c := range []struct {
		f    RunFilter
		walk bool
	}{
		{RunFilter{Where: query.MustParse("finding.n>2"), Limit: 10}, true},
		{RunFilter{Where: query.MustParse("finding.n>2"), Limit: 10, Offset: 5, Status: query.RunStatusOK}, true},
		{RunFilter{Where: query.MustParse("finding.n>=45 and stage=inference"), Limit: 7, Offset: 3, Status: query.RunStatusError}, true},
		{RunFilter{Where: query.MustParse("finding.n>2"), Limit: 4, Since: base.Add(5 * time.Second), Until: base.Add(20 * time.Second)}, true},
		// Matches past the end: the walk goes through every run.
		{RunFilter{Where: query.MustParse("finding.n<49"), Limit: 20, Offset: 50}, true},
		{RunFilter{Where: query.MustParse("finding.rare exists"), Limit: 10}, false},
		{RunFilter{Where: query.MustParse("finding.rare exists"), Limit: 1, Offset: 1}, false},
		{RunFilter{Where: query.MustParse("finding.n>2 and finding.rare=1"), Limit: 10}, false},
		{RunFilter{Where: query.MustParse("finding.n>100"), Limit: 10}, false},
		// No page: every match is wanted, so collect them.
		{RunFilter{Where: query.MustParse("finding.n>2")}, false},
	} {
		want, err := mem.Runs(ctx, c.f)
		require.NoError(t, err)
		walk, err := s.walkRuns(ctx, c.f, ix)
		require.NoError(t, err)
		assert.Equal(t, c.walk, walk, "%+v", c.f)
		got, err := s.Runs(ctx, c.f)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%+v", c.f)
		for _, walk := range []bool{false, true} {
			text, args, err := runsSQL(c.f, walk, ix)
			require.NoError(t, err)
			plan := explain(t, s, text, args)
			if walk {
				assert.Contains(t, plan, "r USING INDEX runs_first_start", "%+v", c.f)
				assert.Contains(t, plan, "INDEX spans_run_start (run_id=?)", "%+v", c.f)
				assert.NotContains(t, plan, "USE TEMP B-TREE FOR ORDER BY", "%+v", c.f)
			} else {
				assert.Contains(t, plan, "SEARCH v USING PRIMARY KEY", "%+v", c.f)
			}
			got, err := s.queryRuns(ctx, text, args...)
			require.NoError(t, err)
			assert.Equal(t, want, got, "%+v walk=%v", c.f, walk)
		}
	}
}
