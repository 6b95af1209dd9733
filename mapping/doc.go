// Package mapping is the one mapping from an ended span to the stagetrace
// model, shared by the SDK exporter (package exporter) and the collector
// exporter (module github.com/stagetrace/stagetrace/collector), so that a
// span maps to the same StageSpan and TraceEvents whichever path it takes.
//
// The package is public on purpose: the collector is a module of its own
// and may import no internal package of this one. Its API is what the two
// exporters need and is kept stable as the rest of stagetrace is:
//
//   - SpanView is what the mapping reads of a span. SDKSpan is the view of
//     an OpenTelemetry Go SDK span, and SDKSpanReader gives the views of
//     the spans of an export in turn, reading each span once; the
//     collector has its own view of a pdata span. A new span source needs
//     only a SpanView.
//   - Batcher maps the spans of one export call into one stagetrace.Batch,
//     all attributes in one backing array; Options say what it adds
//     (stage events, evaluation events) and the Enricher (a rules.Set) it
//     applies to each mapped span: rules' findings and costs.
//   - Mapper makes the Batcher of each call with the same Options, sized
//     from the calls before; ResourceCache converts each resource once.
//
// The mapping is a pure function of the span and the Options: it writes
// nowhere and keeps no state but sizes and the resource cache. Writing a
// batch to sinks is the exporters' part (exporter.Fanout).
package mapping
