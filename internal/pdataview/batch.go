package pdataview

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/mapping"
)

// Traces maps td into one batch with m, converting each distinct resource
// once through resources. Spans with an invalid trace or span id are
// dropped and counted. The batch is the caller's: it shares no array with
// another.
func Traces(m *mapping.Mapper, resources *mapping.ResourceCache[string], td ptrace.Traces) (stagetrace.Batch, int) {
	var out stagetrace.Batch
	invalid := 0
	a := new(Arrays)
	TraceParts(m, resources, td, td.SpanCount(), &a, func(b stagetrace.Batch, _, inv int) bool {
		out, invalid = b, inv
		return true
	})
	return out, invalid
}

// Arrays is what TraceParts and LogsInto map into: a batcher with the
// batch's arrays, the slab of its string slices, and the one view of
// every span or record (a view per span would be boxed into the
// mapping's interface, an allocation per span). Kept from one call to the
// next (exporter.Reuse), it lets each batch be mapped into the arrays of
// the last. Mapping into Arrays overwrites whatever batch, of spans or of
// log records, was mapped into them before. The zero Arrays is ready to
// use.
type Arrays struct {
	// batcher maps spans, logs log records: a log batcher has no
	// mapping.Options.
	batcher, logs *mapping.Batcher
	slab          Slab
	span          Span
	log           Log
}

// TraceParts maps td with m into batches of at most max spans, in the
// order of td, and calls f with each: the batch, how many of td's spans it
// covers and how many of those were dropped for an invalid trace or span
// id. It stops when f returns false. Each distinct resource is converted
// once, through resources. The collector's exporter writes a large export
// in parts so that it costs no more per span than a small one, as the SDK
// exporter does; the command's OTLP receiver maps with it too, so a span
// is mapped the same way whichever way it came.
//
// Each part is mapped into *a, overwriting the part or batch mapped there
// before (see Arrays): f must be done with a batch when it returns, or
// point *a at other Arrays (exporter.Reuse.Write does, when a sink keeps
// the batch), which the next part is mapped into.
func TraceParts(m *mapping.Mapper, resources *mapping.ResourceCache[string], td ptrace.Traces, max int, a **Arrays, f func(b stagetrace.Batch, covered, invalid int) bool) {
	left := td.SpanCount()
	if left == 0 || max < 1 {
		return
	}
	size := min(left, max)
	st := (*a).reuse(m, size)
	mapped, covered, invalid := 0, 0, 0
	scope := ""
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		// One conversion per distinct resource content, across batches.
		r := rs.Resource()
		res := resources.Get(ResourceKey(r), func() *stagetrace.Resource { return Resource(r) })
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scope = ss.Scope().Name()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				covered++
				left--
				if s.TraceID().IsEmpty() || s.SpanID().IsEmpty() {
					invalid++
				} else {
					view := &st.span
					view.Span, view.ScopeName, view.Slab = s, scope, &st.slab
					st.batcher.Add(view, res)
					mapped++
				}
				if mapped == max && left > 0 {
					st.span = Span{} // keeps no span of td alive
					if !f(m.Finish(st.batcher, size), covered, invalid) {
						return
					}
					size = min(left, max)
					st = (*a).reuse(m, size)
					mapped, covered, invalid = 0, 0, 0
				}
			}
		}
	}
	st.span = Span{}
	f(m.Finish(st.batcher, size), covered, invalid)
}

// reuse empties a for a batch of spans spans mapped with m, keeping its
// arrays, and returns it.
func (a *Arrays) reuse(m *mapping.Mapper, spans int) *Arrays {
	a.batcher = m.Reuse(a.batcher, spans)
	a.slab.Reuse()
	return a
}

// Logs maps ld into a batch of log events. Every record is kept, an
// invalid trace id included: it is filed under no run (mapping.AddLog).
// The batch is the caller's: it shares no array with another.
func Logs(ld plog.Logs) stagetrace.Batch { return LogsInto(new(Arrays), ld) }

// LogsInto is Logs mapping into a's arrays, overwriting the batch mapped
// there before (see Arrays).
func LogsInto(a *Arrays, ld plog.Logs) stagetrace.Batch {
	n := ld.LogRecordCount()
	if n == 0 {
		return stagetrace.Batch{}
	}
	a.logs = mapping.ReuseLogBatcher(a.logs, n, 4)
	a.slab.Reuse()
	view := &a.log
	view.Slab = &a.slab
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			view.ScopeName = sl.Scope().Name()
			records := sl.LogRecords()
			for k := 0; k < records.Len(); k++ {
				view.Record = records.At(k)
				a.logs.AddLog(view)
			}
		}
	}
	*view = Log{} // keeps no record of ld alive
	return a.logs.Batch()
}
