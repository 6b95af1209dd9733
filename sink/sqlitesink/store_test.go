package sqlitesink_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/sink/sqlitesink"
	"github.com/stagetrace/stagetrace/usage"
)

// assertSameSpan compares every field of two spans; values with Equal.
func assertSameSpan(t *testing.T, want, got stagetrace.StageSpan) {
	t.Helper()
	assert.Equal(t, want.RunID, got.RunID)
	assert.Equal(t, want.Stage, got.Stage)
	assert.Equal(t, want.Name, got.Name)
	assert.Equal(t, want.TraceID, got.TraceID)
	assert.Equal(t, want.SpanID, got.SpanID)
	assert.Equal(t, want.ParentSpanID, got.ParentSpanID)
	assert.True(t, want.StartTime.Equal(got.StartTime), "start %v, got %v", want.StartTime, got.StartTime)
	assert.True(t, want.EndTime.Equal(got.EndTime), "end %v, got %v", want.EndTime, got.EndTime)
	assert.Equal(t, want.Status, got.Status)
	assert.Equal(t, want.StatusMessage, got.StatusMessage)
	assert.Equal(t, want.Kind, got.Kind)
	assert.Equal(t, want.Scope, got.Scope)
	assert.True(t, want.Attrs.Equal(got.Attrs), "attrs %#v, got %#v", want.Attrs, got.Attrs)
	assert.True(t, want.Findings.Equal(got.Findings), "findings %#v, got %#v", want.Findings, got.Findings)
	if want.Resource == nil {
		assert.Nil(t, got.Resource)
	} else if assert.NotNil(t, got.Resource) {
		assert.True(t, want.Resource.Attrs.Equal(got.Resource.Attrs))
	}
}

func TestSpansReadBackAsWritten(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	ctx := context.Background()
	written := rec.mem.SpansOfRun("r1")
	require.Len(t, written, spansPerTurn)

	got, err := s.Trace(ctx, written[0].TraceID)
	require.NoError(t, err)
	require.Len(t, got, spansPerTurn)
	byID := map[stagetrace.SpanID]stagetrace.StageSpan{}
	for _, sp := range got {
		byID[sp.SpanID] = sp
	}
	for _, want := range written {
		g, ok := byID[want.SpanID]
		require.True(t, ok, "span %s missing", want.Name)
		assertSameSpan(t, want, g)
	}
	for i := 1; i < len(got); i++ {
		assert.False(t, got[i].StartTime.Before(got[i-1].StartTime), "Trace returns spans in order of start")
	}
	assert.Same(t, got[0].Resource, got[1].Resource, "spans of one resource share one *Resource")

	one, err := s.Span(ctx, written[2].TraceID, written[2].SpanID)
	require.NoError(t, err)
	assertSameSpan(t, written[2], one)
	_, err = s.Span(ctx, written[2].TraceID, stagetrace.SpanID{9})
	assert.ErrorIs(t, err, sqlitesink.ErrNotFound)
}

func TestRunRecordsHoldSpansAndEvents(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	ctx := context.Background()
	b, err := s.RunRecords(ctx, "r1")
	require.NoError(t, err)
	assert.Len(t, b.Spans, spansPerTurn)
	want := rec.mem.EventsOfRun("r1")
	slices.SortStableFunc(want, func(a, b stagetrace.TraceEvent) int { return a.Time.Compare(b.Time) })
	require.Len(t, b.Events, len(want))
	var kinds []string
	for _, ev := range want {
		if ev.Name != "stage_start" && ev.Name != "stage_end" {
			kinds = append(kinds, ev.Name)
		}
	}
	assert.Equal(t, []string{"exception", "metric"}, kinds)
	for i := range want {
		assert.Equal(t, want[i].Name, b.Events[i].Name)
		assert.Equal(t, want[i].RunID, b.Events[i].RunID)
		assert.Equal(t, want[i].Stage, b.Events[i].Stage)
		assert.Equal(t, want[i].SpanID, b.Events[i].SpanID)
		assert.Equal(t, want[i].TraceID, b.Events[i].TraceID)
		assert.True(t, want[i].Time.Equal(b.Events[i].Time))
		assert.True(t, want[i].Attrs.Equal(b.Events[i].Attrs), "%s: %#v, got %#v", want[i].Name, want[i].Attrs, b.Events[i].Attrs)
	}
	_, err = s.RunRecords(ctx, "nope")
	assert.ErrorIs(t, err, sqlitesink.ErrNotFound)
}

func TestOrphanEventsAreKept(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	ev := stagetrace.TraceEvent{
		Name: "metric", RunID: "lonely", Stage: "inference", TraceID: stagetrace.TraceID{7}, SpanID: stagetrace.SpanID{7},
		Time: base, Attrs: stagetrace.Attrs{
			{Key: "metric.name", Value: stagetrace.StringValue("queue_depth")},
			{Key: "metric.value", Value: stagetrace.Float64Value(3)},
		},
	}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Events: []stagetrace.TraceEvent{ev}}))
	b, err := s.RunRecords(ctx, "lonely")
	require.NoError(t, err)
	require.Len(t, b.Events, 1)
	assert.True(t, ev.Attrs.Equal(b.Events[0].Attrs))
	run, err := s.Run(ctx, "lonely")
	require.NoError(t, err)
	assert.Equal(t, 0, run.Spans)
	assert.True(t, run.Start.Equal(base))
	series, err := s.Metrics(ctx, sqlitesink.MetricQuery{Name: "queue_depth", Instant: true, Until: base.Add(time.Hour)})
	require.NoError(t, err)
	require.Len(t, series, 1)
	assert.Equal(t, 3.0, series[0].Points[0].Value)
}

func TestRunsRollups(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	ctx := context.Background()
	runs, err := s.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	assert.Equal(t, "r2", runs[0].ID, "newest first")
	r1 := runs[1]
	assert.Equal(t, "r1", r1.ID)
	assert.True(t, r1.Start.Equal(base))
	assert.True(t, r1.End.Equal(base.Add(100*time.Millisecond)))
	assert.Equal(t, 100*time.Millisecond, r1.Duration())
	assert.Equal(t, 3, r1.Stages)
	assert.Equal(t, spansPerTurn, r1.Spans)
	assert.Equal(t, 1, r1.Errors)
	assert.Equal(t, "error", r1.Status())
	assert.Equal(t, int64(812), r1.InputTokens)
	assert.Equal(t, int64(95), r1.OutputTokens)
	assert.True(t, r1.HasCost())
	assert.InDelta(t, 0.0042, r1.Cost, 1e-12)

	// The rollups kept by writes are those computed from the records.
	want := usage.Runs(rec.mem.Spans(), rec.mem.Events())
	assert.Equal(t, want, runs)

	one, err := s.Run(ctx, "r2")
	require.NoError(t, err)
	assert.Equal(t, runs[0], one)
	_, err = s.Run(ctx, "nope")
	assert.ErrorIs(t, err, sqlitesink.ErrNotFound)
}

func TestRollupsAddUpAcrossBatches(t *testing.T) {
	s, _ := openStore(t)
	rec := newRecorder(t)
	rec.turn("r1", base, 812, 0.0042)
	ctx := context.Background()
	// One span per batch, in the order they ended, then the events.
	for _, sp := range rec.mem.Spans() {
		require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{sp}}))
	}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Events: rec.mem.Events()}))
	runs, err := s.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	assert.Equal(t, usage.Runs(rec.mem.Spans(), rec.mem.Events()), runs)
}

// TestTokenSumsSaturate writes spans claiming the largest token count in
// separate batches and in one: the run's sums stop at usage.MaxTokens, and
// the store still reads every run (an overflowing SQL sum would turn to a
// float that no longer scans).
func TestTokenSumsSaturate(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	huge := func(run string, n byte) stagetrace.StageSpan {
		return stagetrace.StageSpan{
			RunID: run, Name: "llm", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{n},
			StartTime: base, EndTime: base.Add(time.Second),
			Findings: stagetrace.Attrs{
				{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(usage.MaxTokens)},
				{Key: attributes.FindingOutputTokens, Value: stagetrace.Int64Value(7)},
			},
		}
	}
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{huge("apart", 1)}}))
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{huge("apart", 2)}}))
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{huge("together", 3), huge("together", 4)}}))
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{{
		RunID: "fine", Name: "llm", TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{5},
		StartTime: base, EndTime: base.Add(time.Second),
		Findings: stagetrace.Attrs{{Key: attributes.FindingInputTokens, Value: stagetrace.Int64Value(3)}},
	}}}))

	runs, err := s.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err, "a run with absurd counts does not hide the others")
	require.Len(t, runs, 3)
	for _, r := range runs {
		if r.ID == "fine" {
			assert.Equal(t, int64(3), r.InputTokens)
			continue
		}
		assert.Equal(t, int64(usage.MaxTokens), r.InputTokens, "run %s", r.ID)
		assert.Equal(t, int64(14), r.OutputTokens, "run %s", r.ID)
		assert.Equal(t, int64(usage.MaxTokens), r.TotalTokens, "run %s", r.ID)
	}
}

func TestRunFilter(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	// A run without errors and without cost.
	tracer := rec.tp.Tracer("t")
	_, sp := tracer.Start(context.Background(), "ok work", at(base.Add(2*time.Hour), 0),
		inRun("clean"))
	end(sp, base.Add(2*time.Hour), 5)
	ctx := context.Background()
	tests := []struct {
		name string
		f    sqlitesink.RunFilter
		want []string
	}{
		{"all", sqlitesink.RunFilter{}, []string{"clean", "r2", "r1"}},
		{"since", sqlitesink.RunFilter{Since: base.Add(time.Hour)}, []string{"clean", "r2"}},
		{"until", sqlitesink.RunFilter{Until: base.Add(time.Hour)}, []string{"r1"}},
		{"ok", sqlitesink.RunFilter{Status: "ok"}, []string{"clean"}},
		{"error", sqlitesink.RunFilter{Status: "error"}, []string{"r2", "r1"}},
		{"where", sqlitesink.RunFilter{Where: query.MustParse("finding.input_tokens>900")}, []string{"r2"}},
		{"where one span", sqlitesink.RunFilter{Where: query.MustParse("finding.input_tokens>1 and stage=evaluation")}, nil},
		{"limit", sqlitesink.RunFilter{Limit: 1}, []string{"clean"}},
		{"offset", sqlitesink.RunFilter{Limit: 1, Offset: 1}, []string{"r2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := s.Runs(ctx, tt.f)
			require.NoError(t, err)
			var ids []string
			for _, r := range runs {
				ids = append(ids, r.ID)
			}
			assert.Equal(t, tt.want, ids)
		})
	}
	clean, err := s.Run(ctx, "clean")
	require.NoError(t, err)
	assert.False(t, clean.HasCost())
	assert.Equal(t, 0, clean.Stages)

	_, err = s.Runs(ctx, sqlitesink.RunFilter{Status: "broken"})
	assert.ErrorContains(t, err, `unknown run status "broken"`)
	_, err = s.Runs(ctx, sqlitesink.RunFilter{Limit: -1})
	assert.ErrorContains(t, err, "negative limit")
}

func TestDuplicateBatchIsStoredOnce(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	ctx := context.Background()
	before, err := s.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	// The same records again, as a retried export would send them.
	require.NoError(t, s.Write(ctx, stagetrace.Batch{Spans: rec.mem.Spans(), Events: rec.mem.Events()}))
	after, err := s.Runs(ctx, sqlitesink.RunFilter{})
	require.NoError(t, err)
	assert.Equal(t, before, after)
	spans, err := s.Spans(ctx, sqlitesink.SpanQuery{})
	require.NoError(t, err)
	assert.Len(t, spans, 2*spansPerTurn)
	b, err := s.RunRecords(ctx, "r1")
	require.NoError(t, err)
	assert.Len(t, b.Events, len(rec.mem.EventsOfRun("r1")))
}

func TestSpanTree(t *testing.T) {
	s, _ := openStore(t)
	rec := fill(t, s)
	ctx := context.Background()
	var root stagetrace.StageSpan
	for _, sp := range rec.mem.SpansOfRun("r1") {
		if !sp.ParentSpanID.IsValid() {
			root = sp
		}
	}
	require.Equal(t, "chat turn", root.Name)

	shape := func(n *sqlitesink.SpanNode) []string {
		var out []string
		n.Walk(func(n *sqlitesink.SpanNode) {
			out = append(out, string(rune('0'+n.Depth))+" "+n.Span.Name)
		})
		return out
	}
	tree, err := s.SpanTree(ctx, sqlitesink.SpanRef{TraceID: root.TraceID, SpanID: root.SpanID}, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"0 chat turn",
		"1 retrieve documents", "2 vector search",
		"1 generate answer", "2 chat gpt-4o", "2 chat gpt-4o",
		"1 judge answer",
	}, shape(tree))

	shallow, err := s.SpanTree(ctx, sqlitesink.SpanRef{SpanID: root.SpanID}, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"0 chat turn", "1 retrieve documents", "1 generate answer", "1 judge answer"}, shape(shallow))

	// A subtree, with only the attributes and findings asked for.
	infer := tree.Children[1]
	sub, err := s.SpanTree(ctx, sqlitesink.SpanRef{TraceID: root.TraceID, SpanID: infer.Span.SpanID}, 0,
		[]string{"gen_ai.request.model", "finding.input_tokens", "name"})
	require.NoError(t, err)
	assert.Equal(t, []string{"0 generate answer", "1 chat gpt-4o", "1 chat gpt-4o"}, shape(sub))
	call := sub.Children[1].Span
	assert.Equal(t, stagetrace.Attrs{{Key: "gen_ai.request.model", Value: stagetrace.StringValue("gpt-4o")}}, call.Attrs)
	assert.Equal(t, stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(812)}}, call.Findings)

	_, err = s.SpanTree(ctx, sqlitesink.SpanRef{TraceID: root.TraceID, SpanID: stagetrace.SpanID{1}}, 0, nil)
	assert.ErrorIs(t, err, sqlitesink.ErrNotFound)
	_, err = s.SpanTree(ctx, sqlitesink.SpanRef{SpanID: stagetrace.SpanID{1}}, 0, nil)
	assert.ErrorIs(t, err, sqlitesink.ErrNotFound)
}

func TestClosedStore(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	require.NoError(t, s.Shutdown(ctx))
	assert.NoError(t, s.Shutdown(ctx), "a second Shutdown returns the first one's result")
	assert.ErrorIs(t, s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{{Name: "late"}}}), stagetrace.ErrClosed)
	_, err := s.Runs(ctx, sqlitesink.RunFilter{})
	assert.ErrorIs(t, err, stagetrace.ErrClosed)
	_, err = s.Spans(ctx, sqlitesink.SpanQuery{})
	assert.ErrorIs(t, err, stagetrace.ErrClosed)
	assert.NoError(t, s.ForceFlush(ctx))
}

func TestWriteHonoursContext(t *testing.T) {
	s, _ := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{{Name: "x", RunID: "r"}}})
	assert.ErrorIs(t, err, context.Canceled)
	runs, err := s.Runs(context.Background(), sqlitesink.RunFilter{})
	require.NoError(t, err)
	assert.Empty(t, runs)
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	_, err := sqlitesink.OpenReadOnly(missing)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, statErr := os.Stat(missing)
	assert.ErrorIs(t, statErr, fs.ErrNotExist, "reading must not create the file")

	s, path := openStore(t)
	fill(t, s)
	ro, err := sqlitesink.OpenReadOnly(path)
	require.NoError(t, err)
	defer ro.Close()
	runs, err := ro.Runs(context.Background(), sqlitesink.RunFilter{})
	require.NoError(t, err)
	assert.Len(t, runs, 2)
	assert.ErrorIs(t, ro.Write(context.Background(), stagetrace.Batch{}), sqlitesink.ErrReadOnly)
	_, err = ro.Expire(context.Background())
	assert.ErrorIs(t, err, sqlitesink.ErrReadOnly)
}

func TestNotAStore(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("hello, this is not a database at all, just some text\n"), 0o600))
	_, err := sqlitesink.OpenReadOnly(text)
	assert.Error(t, err)
	_, err = sqlitesink.Open(text)
	assert.Error(t, err)

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = sqlitesink.Open(other)
	assert.ErrorIs(t, err, sqlitesink.ErrNotStore)
	_, err = sqlitesink.OpenReadOnly(other)
	assert.ErrorIs(t, err, sqlitesink.ErrNotStore)

	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = sqlitesink.OpenReadOnly(empty)
	assert.ErrorIs(t, err, sqlitesink.ErrNotStore)
}

func TestOpenRejectsBadOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	for _, tt := range []struct {
		opt  sqlitesink.Option
		want string
	}{
		{sqlitesink.WithTTL(-time.Second), "negative TTL"},
		{sqlitesink.WithRetentionInterval(0), "retention interval 0s is not positive"},
		{sqlitesink.WithRetentionChunk(0), "retention chunk 0 is not between 1 and 10000"},
		{sqlitesink.WithBusyTimeout(-1), "negative busy timeout"},
		{sqlitesink.WithReaders(0), "readers 0 is not positive"},
		{sqlitesink.WithClock(nil), "nil clock"},
		{sqlitesink.WithIndexedAttrs("gen_ai.request.model", ""), "an indexed attribute key is empty"},
	} {
		_, err := sqlitesink.Open(path, tt.opt)
		assert.ErrorContains(t, err, tt.want)
	}
	_, err := sqlitesink.Open("")
	assert.ErrorContains(t, err, "empty path")
	_, err = os.Stat(path)
	assert.True(t, errors.Is(err, fs.ErrNotExist), "bad options create nothing")
}

func TestFileIsPrivate(t *testing.T) {
	_, path := openStore(t)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

// TestWriteIndexesKeysAnotherStoreAdded writes through a store opened
// before another store of the same file indexed an attribute key: the
// write indexes that key too, so that a filter on it finds the span.
func TestWriteIndexesKeysAnotherStoreAdded(t *testing.T) {
	ctx := context.Background()
	early, path := openStore(t)
	late, err := sqlitesink.Open(path, sqlitesink.WithIndexedAttrs("k"))
	require.NoError(t, err)
	defer late.Close()
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	sp := stagetrace.StageSpan{
		RunID: "r1", Stage: "inference", Name: "s",
		TraceID: stagetrace.TraceID{1}, SpanID: stagetrace.SpanID{1},
		StartTime: start, EndTime: start.Add(time.Millisecond),
		Attrs: stagetrace.Attrs{{Key: "k", Value: stagetrace.StringValue("v")}},
	}
	require.NoError(t, early.Write(ctx, stagetrace.Batch{Spans: []stagetrace.StageSpan{sp}}))
	for _, s := range []*sqlitesink.Store{early, late} {
		got, err := s.Spans(ctx, sqlitesink.SpanQuery{Where: query.MustParse(`attr.k=v`)})
		require.NoError(t, err)
		assert.Len(t, got, 1)
	}
}
