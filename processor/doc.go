// Package processor provides an OpenTelemetry span processor that places
// every span in a run and a stage: it gives each span the run.id and
// run.stage attributes (see package attributes) that the span lacks.
//
// # Resolution
//
// When a span starts, the processor looks for its run id in these
// sources and takes the first that has one:
//
//  1. the run.id attribute the span was started with;
//  2. the context the span starts from (attributes.ContextWithRun);
//  3. the in-process parent span: its run.id, which this processor has
//     usually set (a remote parent, or a span of another SDK, is not read);
//  4. W3C baggage, only when WithBaggageKeys lists run.id;
//  5. the function of WithRunIDFunc, then the id of WithDefaultRunID.
//
// A span none of them places keeps no run.id, and the exporter files it
// under its trace id. The stage follows the same order (attribute,
// attributes.ContextWithStage, parent span, baggage when run.stage is
// listed) and has no default.
//
// The processor sets only what the span lacks, in one SetAttributes call,
// and makes no call when nothing is missing. An empty string counts as
// unset wherever it appears: in the context, in baggage, or as the
// attribute's value (which is then replaced). A run.id or run.stage of
// another type, such as an int, counts as set and is left as it is; a
// child does not inherit it, since it is no run id the processor can read.
//
// A stage in the context applies to every span started from that context,
// so it wins over a stage a parent span declared by attribute. To nest a
// stage inside another, start the nested spans from a context made with
// attributes.ContextWithStage, or declare stages by attribute only.
//
// Baggage crosses trust boundaries: whoever can send a request can set
// its baggage, and so choose the run of the spans it causes. It is
// ignored unless WithBaggageKeys trusts it, key by key.
//
// # Values known only at the end of a span
//
// The OpenTelemetry Go SDK (v1.47) calls a span processor when a span
// starts and after it ended, with a read-only span, but it has no OnEnding
// hook that runs just before the span becomes read-only. A processor can
// therefore not turn values known only at the end, such as token counts
// set just before End, into attributes that the other processors see. Set
// such values as findings (attributes.SetFinding) before ending the span:
// the stagetrace exporter lifts the finding.* attributes when it exports.
// To decorate ended spans before a given processor sees them, use the
// wrapping mode.
//
// # Modes
//
// New returns a processor for the default mode: it sets the attributes on
// the span as it starts, so that every processor and exporter sees them.
// Deciding what a span lacks means reading its start attributes; the SDK
// then de-duplicates them and copies them on the next SetAttributes. The
// processor reads them only when some source has a value.
//
// NewWrapping returns a processor that stands in front of another one,
// typically a BatchSpanProcessor, and hands it each ended span wrapped so
// that its attributes include run.id and run.stage. Values that a later
// child can find again in its own context (those from the context, from
// baggage or from the default) wait in the processor until the span ends:
// the span is not written to at start, which is what makes this mode
// cheaper. Values inherited from a parent's attributes or returned by the
// run id function are set at start, as in the default mode, because a
// child that starts after the span ended must find them on it. A child
// started from a context made with trace.ContextWithSpan, rather than
// derived from the span's own, finds the waiting values only while the
// span is live.
//
// In wrapping mode only the wrapped processor sees the added values, and
// only in OnEnd; processors registered beside it do not. The added values
// are not subject to the provider's span limits, and the wrapped span
// builds a new attribute slice each time its Attributes method is called.
// A span that never ends keeps its entry, a few dozen bytes, until
// Shutdown.
package processor
