package pdataview

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/mapping"
)

// Traces maps td into a batch with m, converting each distinct resource
// once through resources. Spans with an invalid trace or span id are
// dropped and counted. The collector's exporter and the command's OTLP
// receiver both map with it.
func Traces(m *mapping.Mapper, resources *mapping.ResourceCache[string], td ptrace.Traces) (stagetrace.Batch, int) {
	n := td.SpanCount()
	if n == 0 {
		return stagetrace.Batch{}, 0
	}
	b := m.Batcher(n)
	view := &Span{}
	invalid := 0
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
				if s.TraceID().IsEmpty() || s.SpanID().IsEmpty() {
					invalid++
					continue
				}
				view.Span = s
				b.Add(view, res)
			}
		}
	}
	return m.Finish(b, n), invalid
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
