// Package attributes holds every attribute key and event name stagetrace
// reads or writes, and helpers to set them: the run and stage carried in a
// context or in W3C baggage, typed findings, and metric events.
//
// No other package spells one of these keys as a string literal.
package attributes

import "go.opentelemetry.io/otel/attribute"

// Keys of span attributes that place a span in a run and a stage.
const (
	// RunID is the span attribute (and baggage member) naming the run.
	RunID attribute.Key = "run.id"
	// RunStage is the span attribute (and baggage member) naming the stage.
	RunStage attribute.Key = "run.stage"
	// FindingPrefix starts the key of every finding attribute:
	// finding.<name>.
	FindingPrefix = "finding."
	// StageInherited is set to true by the processor on a span whose
	// stage came from its parent rather than from the span itself. A span
	// with a stage and without this mark opens that stage: the exporter
	// places stage_start / stage_end events on it.
	StageInherited attribute.Key = "run.stage_inherited"
)

// Metric events: a measurement recorded inside a span.
const (
	// EventMetric is the name of a span event carrying one metric.
	EventMetric = "metric"
	// MetricName is the metric's name on a metric event.
	MetricName attribute.Key = "metric.name"
	// MetricValue is the metric's value (float64) on a metric event.
	MetricValue attribute.Key = "metric.value"
	// MetricUnit is the metric's unit on a metric event, UCUM like "ms".
	MetricUnit attribute.Key = "metric.unit"
	// MetricSource says what recorded a metric event ("bridge" for
	// bridge.Bridge); absent for metrics recorded in instrumented code.
	MetricSource attribute.Key = "metric.source"
)

// Events stagetrace synthesizes or reads.
const (
	// EventStageStart marks the start of the span that opens a stage.
	EventStageStart = "stage_start"
	// EventStageEnd marks the end of the span that opens a stage.
	EventStageEnd = "stage_end"
	// EventException is the OpenTelemetry exception event.
	EventException = "exception"
	// ExceptionPrefix starts the keys of an exception event's attributes.
	ExceptionPrefix = "exception."
	// ExceptionMessage is the message of an exception event.
	ExceptionMessage attribute.Key = "exception.message"
	// ExceptionType is the type of an exception event.
	ExceptionType attribute.Key = "exception.type"
	// MetricPrefix starts the keys of a metric event's attributes.
	MetricPrefix = "metric."
)

// OpenTelemetry GenAI semantic convention keys stagetrace reads.
const (
	GenAIOperationName         attribute.Key = "gen_ai.operation.name"
	GenAIRequestModel          attribute.Key = "gen_ai.request.model"
	GenAIResponseModel         attribute.Key = "gen_ai.response.model"
	GenAIResponseFinishReasons attribute.Key = "gen_ai.response.finish_reasons"
	GenAIUsageInputTokens      attribute.Key = "gen_ai.usage.input_tokens"
	GenAIUsageOutputTokens     attribute.Key = "gen_ai.usage.output_tokens"
	GenAISystem                attribute.Key = "gen_ai.system"
	// GenAIProviderName names the GenAI provider ("openai",
	// "aws.bedrock"); it replaces the deprecated gen_ai.system.
	GenAIProviderName attribute.Key = "gen_ai.provider.name"
)

// Resource attribute keys stagetrace reads.
const (
	ServiceName attribute.Key = "service.name"
)

// Names of findings stagetrace itself records.
const (
	FindingInputTokens  = "input_tokens"
	FindingOutputTokens = "output_tokens"
)

// FindingKey returns the attribute key of the finding name:
// finding.<name>.
func FindingKey(name string) attribute.Key { return attribute.Key(FindingPrefix + name) }

// Keys stagetrace's delivery and redaction write.
const (
	// RedactedCount is set by the redactor on a span, event or resource
	// whose values it masked: the number of values (int) it changed.
	RedactedCount attribute.Key = "stagetrace.redacted_count"
	// DeliverySink names the sink a delivery metric is about.
	DeliverySink attribute.Key = "stagetrace.sink"
)

// Keys of a log event's attributes that the log mapping adds, from the log
// record's fields that have no place of their own in the model. Both are
// OpenTelemetry semantic convention keys.
const (
	// LogEventName is the record's event name, when it is an event.
	LogEventName attribute.Key = "event.name"
	// LogScope is the record's instrumentation scope: the logger's name.
	LogScope attribute.Key = "otel.scope.name"
)
