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
// # Opening a stage
//
// A span with a stage either opens it or inherits it; the exporter
// (exporter.WithStageEvents) places stage_start and stage_end events on
// the spans that open one. The processor marks a span whose stage it set
// as inherited, with run.stage_inherited=true in the same SetAttributes
// call, when the stage came from the parent span (its attribute, or in
// wrapping mode the value a live parent gets at its end), or from a
// context stage that an earlier span already opened. Each call of
// attributes.ContextWithStage makes a new stage: the first span the
// processor places in it from that context, or from one derived from it,
// opens it (one atomic compare-and-swap decides which), and every later
// one inherits it. A span that declares run.stage by attribute opens its
// stage and leaves the context's stage for the next span; a stage from
// baggage or from a rule (WithRules) is opened by each span it places.
// Spans nested under one ContextWithStage therefore make one stage with
// one stage_start and one stage_end, on the span started first.
//
// # Rules
//
// WithRules runs the start phase of a rules.Set on each starting span, on
// its name, scope, kind and start attributes. A stage a rule yields comes
// after the span's own run.stage and before every other source: own
// attribute, rule, context, parent span, baggage. The attributes rules add
// are set in the same SetAttributes call as run.id and run.stage.
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
// Processor.Sampler avoids that cost: installed as the provider's sampler,
// it resolves each span from the attributes it is started with, which a
// sampler is given, and returns the values as sampling attributes. The SDK
// sets those before the start attributes, so the span's own values still
// win, and nothing is read or copied. The rules of resolution are the same;
// the few spans a sampler cannot place (one started with an empty run.id
// or run.stage) are left to OnStart, which then works as without the
// sampler. With WithRunIDFunc, or rules that read the instrumentation
// scope, the sampler is not used.
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
// span is live. With WithRules, a span the rules yield a stage or
// attributes for is written at start, as in the default mode.
//
// In wrapping mode only the wrapped processor sees the added values, and
// only in OnEnd; processors registered beside it do not. The added values
// are not subject to the provider's span limits, and the wrapped span
// builds a new attribute slice each time its Attributes method is called.
// A span that never ends keeps its entry, a few dozen bytes, until
// Shutdown.
package processor
