package pdataview

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/mapping"
)

// Traces maps td into one batch with m, converting each distinct resource
// once through resources. Spans with an invalid trace or span id are
// dropped and counted.
func Traces(m *mapping.Mapper, resources *mapping.ResourceCache[string], td ptrace.Traces) (stagetrace.Batch, int) {
	var out stagetrace.Batch
	invalid := 0
	TraceParts(m, resources, td, td.SpanCount(), func(b stagetrace.Batch, _, inv int) bool {
		out, invalid = b, inv
		return true
	})
	return out, invalid
}

// TraceParts maps td with m into batches of at most max spans, in the
// order of td, and calls f with each: the batch, how many of td's spans it
// covers and how many of those were dropped for an invalid trace or span
// id. It stops when f returns false. Each distinct resource is converted
// once, through resources. The collector's exporter writes a large export
// in parts so that it costs no more per span than a small one, as the SDK
// exporter does; the command's OTLP receiver maps with it too, so a span
// is mapped the same way whichever way it came.
func TraceParts(m *mapping.Mapper, resources *mapping.ResourceCache[string], td ptrace.Traces, max int, f func(b stagetrace.Batch, covered, invalid int) bool) {
	left := td.SpanCount()
	if left == 0 || max < 1 {
		return
	}
	size := min(left, max)
	b := m.Batcher(size)
	mapped, covered, invalid := 0, 0, 0
	view := &Span{}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		// One conversion per distinct resource content, across batches.
		r := rs.Resource()
		res := resources.Get(ResourceKey(r), func() *stagetrace.Resource { return Resource(r) })
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			view.ScopeName = ss.Scope().Name()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				covered++
				left--
				if s.TraceID().IsEmpty() || s.SpanID().IsEmpty() {
					invalid++
				} else {
					view.Span = s
					b.Add(view, res)
					mapped++
				}
				if mapped == max && left > 0 {
					if !f(m.Finish(b, size), covered, invalid) {
						return
					}
					size = min(left, max)
					b = m.Batcher(size)
					mapped, covered, invalid = 0, 0, 0
				}
			}
		}
	}
	f(m.Finish(b, size), covered, invalid)
}

// Logs maps ld into a batch of log events. Every record is kept, an
// invalid trace id included: it is filed under no run (mapping.AddLog).
func Logs(ld plog.Logs) stagetrace.Batch {
	n := ld.LogRecordCount()
	if n == 0 {
		return stagetrace.Batch{}
	}
	b := mapping.NewLogBatcher(n, 4)
	view := &Log{}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			view.ScopeName = sl.Scope().Name()
			records := sl.LogRecords()
			for k := 0; k < records.Len(); k++ {
				view.Record = records.At(k)
				b.AddLog(view)
			}
		}
	}
	return b.Batch()
}
