package stagetraceexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/exporter"
	"github.com/stagetrace/stagetrace/mapping"
	"github.com/stagetrace/stagetrace/sink/memsink"
	"github.com/stagetrace/stagetrace/sink/sinktest"
)

// tagged returns n spans named s<first+i>, each with the attribute i
// (from first on), the string slice tags ([name]) and an event with the
// string slice tags ([name, name]).
func tagged(first, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i, name := range taggedNames(first, n) {
		i += first
		s := spans.AppendEmpty()
		s.SetName(name)
		s.SetTraceID(pcommon.TraceID{1})
		s.SetSpanID(pcommon.SpanID{byte(i), byte(i >> 8), 1})
		s.Attributes().PutInt("i", int64(i))
		s.Attributes().PutEmptySlice("tags").AppendEmpty().SetStr(name)
		e := s.Events().AppendEmpty()
		e.SetName("e")
		tags := e.Attributes().PutEmptySlice("tags")
		tags.AppendEmpty().SetStr(name)
		tags.AppendEmpty().SetStr(name)
	}
	return td
}

// taggedNames returns the names of the n spans tagged returns from first on.
func taggedNames(first, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("s%d", first+i)
	}
	return names
}

// Each write, and each part of a large one, maps into the arrays of the
// last: what the sinks kept of the earlier ones stays as it was written.
func TestWritesKeepEarlierSpans(t *testing.T) {
	mem := memsink.New()
	w := newWriter(mapping.Options{}, nil)
	require.NoError(t, w.setSinks([]stagetrace.Sink{mem}))
	ctx := context.Background()
	sizes := []int{3, 1, exporter.MaxWriteSpans + 7, 2}
	first := 0
	for _, n := range sizes {
		require.NoError(t, w.write(ctx, tagged(first, n)))
		first += n
	}
	require.NoError(t, w.shutdown(ctx))
	sinktest.CheckTagged(t, mem.Spans(), mem.Events(), taggedNames(0, first))
}

// Each write, and each part of a large one, is mapped into the arrays of
// the last.
func TestWritesReuseTheirArrays(t *testing.T) {
	arrays := &sinktest.Arrays{}
	w := newWriter(mapping.Options{}, nil)
	require.NoError(t, w.setSinks([]stagetrace.Sink{arrays}))
	ctx := context.Background()
	require.NoError(t, w.write(ctx, tagged(0, 2*exporter.MaxWriteSpans))) // two parts
	require.NoError(t, w.write(ctx, tagged(0, 3)))
	require.NoError(t, w.shutdown(ctx))
	require.NotZero(t, arrays.Writes()[0].Spans)
	arrays.CheckReused(t, 3)
}

// A batch a sink was abandoned with is not reused by later writes: the
// sink still reads it whole once it wakes up. The failed write is retried
// whole, since no part of it was written.
func TestAbandonedBatchIsNotReused(t *testing.T) {
	late := sinktest.NewLateSink(nil, sinktest.ReadTags)
	w := newWriter(mapping.Options{}, nil)
	require.NoError(t, w.setSinks([]stagetrace.Sink{late}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	const n = exporter.MaxWriteSpans + 1 // two parts: the first is abandoned
	err := w.write(ctx, tagged(0, n))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not finished")
	for range 3 {
		require.NoError(t, w.write(context.Background(), tagged(n, exporter.MaxWriteSpans)))
	}
	sinktest.CheckReadTags(t, late.Release(), taggedNames(0, exporter.MaxWriteSpans))
	require.NoError(t, w.shutdown(context.Background()))
}

// taggedLogs returns n log records with the body r<first+i> and the
// attributes i and tags ([body]).
func taggedLogs(first, n int) plog.Logs {
	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := first; i < first+n; i++ {
		body := fmt.Sprintf("r%d", i)
		r := records.AppendEmpty()
		r.Body().SetStr(body)
		r.Attributes().PutInt("i", int64(i))
		r.Attributes().PutEmptySlice("tags").AppendEmpty().SetStr(body)
	}
	return ld
}

// Each logs write maps into the arrays of the last, as traces do, and
// apart from them: what the sinks kept of the earlier writes stays as it
// was written, with traces written in between.
func TestLogWritesKeepEarlierRecords(t *testing.T) {
	mem := memsink.New()
	w := newWriter(mapping.Options{}, nil)
	require.NoError(t, w.setSinks([]stagetrace.Sink{mem}))
	ctx := context.Background()
	first := 0
	for _, n := range []int{3, 1, 40, 2} {
		require.NoError(t, w.writeLogs(ctx, taggedLogs(first, n)))
		require.NoError(t, w.write(ctx, tagged(first, n)))
		first += n
	}
	require.NoError(t, w.shutdown(ctx))
	var bodies []string
	for _, e := range mem.Events() {
		if e.Name != stagetrace.LogEventName {
			continue
		}
		body := e.Body.String()
		bodies = append(bodies, body)
		n, _ := e.Attrs.Get("i")
		assert.Equal(t, body, fmt.Sprintf("r%d", n.AsInt64()))
		tags, _ := e.Attrs.Get("tags")
		assert.Equal(t, []string{body}, tags.AsStringSlice())
	}
	require.Len(t, bodies, first)
	for i, body := range bodies {
		assert.Equal(t, fmt.Sprintf("r%d", i), body)
	}
	require.Len(t, mem.Spans(), first)
	for i, sp := range mem.Spans() {
		assert.Equal(t, fmt.Sprintf("s%d", i), sp.Name)
	}
}
