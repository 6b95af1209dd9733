// Package rules derives stages, attributes and findings from spans by
// declarative rules, the way Monocle's per-call accessors do, but over the
// span's name, scope, kind and attributes rather than over a call's
// arguments. One compiled Set serves the SDK span processor, the exporter
// and the collector alike.
//
// # Rules files
//
// A rules file is YAML or JSON (docs/rules.md has the full reference):
//
//	presets: [genai, openinference]
//	rules:
//	  - name: retrieval
//	    match:
//	      span_name: "retrieve *"            # glob; {regex: "^retrieve"} for a regex
//	      scope: "app/*"                     # instrumentation scope, glob or {regex: ...}
//	      span_kind: [internal, client]
//	      attributes:
//	        - {key: db.system, exists: true}
//	        - {key: app.tier, equals: gold}
//	        - {key: gen_ai.request.model, matches: "^gpt-4"}   # or glob: "gpt-4*"
//	    stage: retrieval                     # or {from: <attribute>}
//	    attributes:
//	      - {attribute: app.kind, value: search}
//	      - {attribute: app.model, from: gen_ai.request.model}
//	    findings:
//	      - {name: documents, from: app.retrieval.count}
//	prices:
//	  currency: USD
//	  models:
//	    gpt-4o-mini*: {input: 0.15, output: 0.60, cache_read: 0.075}
//
// LoadFile and Load compile a file; unknown keys, wrong types, bad
// patterns, unknown presets and duplicate rule names fail with the file,
// the line, the rule and the field: rules.yaml:12: rule 3 ("chat"):
// match.span_name: bad regex: .... New and Compile build the same Set from
// Go values, which may also carry functions for what a file cannot say
// (Match.Func, Rule.StageFunc, AttributeAction.Func, FindingAction.Func).
//
// # Order
//
// A rule applies to a span when all its conditions hold. Rules apply in
// order, the file's own rules first and then the presets'. The first
// applying rule that yields a stage gives the span its stage. Attribute and
// finding actions accumulate in order; the first value for a given
// attribute key or finding name wins, and a span's own attributes and
// findings are never overwritten. An action whose source attribute is
// absent yields nothing, so a later rule may still fill its key: that is
// how a preset prefers gen_ai.response.model to gen_ai.request.model.
//
// # Phases
//
// Set.Start (PhaseStart) runs as a span starts, on its name, scope, kind
// and start attributes; only rules with a stage or attribute actions run,
// and they yield a stage and attributes. Set.End (PhaseEnd) runs on an
// ended span, whose attributes include those set during the span (token
// counts arrive when the call returns); every rule runs, and findings are
// derived then only. Rules are evaluated afresh in each phase, so a rule
// whose conditions only hold at the end applies at the end.
//
// The caller decides how a rule's stage ranks against a stage the span
// has. Set.Apply, which the exporter runs on each mapped span, fills the
// stage only of spans that have none. A span processor running Start
// should rank the span's own run.stage attribute first, then the rule's
// stage, then stages inherited from the context or the parent span.
//
// # Presets
//
// Presets map the GenAI, OpenInference and OpenLLMetry conventions onto
// stages and findings (input_tokens, output_tokens, model, ...). They are
// applied after a file's own rules, in the fixed order genai,
// openinference, openllmetry, so that when two conventions report the same
// quantity the documented one wins and it is counted once. Preset returns
// a preset's rules for use with New. Each preset works alone.
//
// The presets give one stage to one kind of call whichever convention
// described it: the GenAI operation names (StageChat, StageEmbeddings,
// StageExecuteTool, ...; StageVocabulary lists the mapping). A rule of
// one's own, which comes first, gives another.
//
// # Cost
//
// Set.Apply also records a span's cost: the provider's, when the span
// carries gen_ai.usage.cost or llm.cost.total (cost_source=provider), else
// one computed from the token findings, the model finding and the price
// table (cost_source=computed); never both. Amounts are computed in
// integer billionths of the currency and the cost finding is a float64
// that converts back to the same integer, so that package usage adds a run's
// spans exactly, in any order. A table mixing currencies is rejected at
// load; a provider cost in USD against a table in another currency, or
// tokens of a model without a price, give a cost_error finding instead of
// a cost.
//
// # Spans
//
// Rules read a Span: Name, Scope, Kind and Attribute. SpanData and
// KeyValueSpan hold a span's parts as model values or as OpenTelemetry
// key-values; StageSpanView views a mapped span. Evaluating a Set into a
// reused Result allocates nothing; with these views, a span's attributes
// are scanned once to rule out absent keys cheaply. A Set whose start
// phase yields only a stage from names, kinds and attributes
// (StartStageOnly, as the genai preset's) also answers StartStage over
// OpenTelemetry key-values, with no Span at all: what a sampler calls on
// every span.
package rules
