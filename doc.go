// Package stagetrace holds the model that stagetrace turns OpenTelemetry
// traces into: runs made of stages, each stage span carrying findings, and
// the events that happened inside spans.
//
// A [StageSpan] is one ended span seen as a step of a run; a [TraceEvent] is
// one instant inside a span. The exporter (package exporter) and the
// collector exporter map spans into these records and hand them, in a
// [Batch], to every configured [Sink]. Sinks never see OpenTelemetry types.
//
// Each record has one JSON line form, written by [Encoder] without
// reflection and read back by [DecodeLine] and [Decoder].
package stagetrace
