package attributes

import "go.opentelemetry.io/otel/attribute"

// Alert events: what package monitor emits, as a TraceEvent to other sinks,
// when an alert rule fires or resolves.
const (
	// EventAlert is the name of an alert event.
	EventAlert = "alert"
	// AlertPrefix starts the keys of an alert event's attributes.
	AlertPrefix = "alert."
	// AlertName is the name of the rule that fired or resolved.
	AlertName attribute.Key = "alert.name"
	// AlertLevel is the rule's level: info, warning or critical.
	AlertLevel attribute.Key = "alert.level"
	// AlertState is firing or resolved.
	AlertState attribute.Key = "alert.state"
	// AlertMessage says in words what breached or came back in bounds.
	AlertMessage attribute.Key = "alert.message"
	// AlertDataPrefix starts the key of each datum of an alert:
	// alert.data.<name> (the value, the threshold, the window, ...).
	AlertDataPrefix = "alert.data."
)

// Prefixes of the series names the monitor's readers and alert rules take:
// "stage:inference" is the series of the stage inference. A name without a
// prefix is a span name, else a metric event's metric.name.
const (
	// SeriesSpanPrefix names the series of the spans with a given name.
	SeriesSpanPrefix = "span:"
	// SeriesStagePrefix names the series of the spans of a given stage.
	SeriesStagePrefix = "stage:"
	// SeriesMetricPrefix names the series of the metric events with a
	// given metric.name.
	SeriesMetricPrefix = "metric:"
	// SeriesFindingPrefix names the series of the values of a numeric
	// finding.
	SeriesFindingPrefix = "finding:"
	// SeriesLogPrefix names the series of the log events of a level or
	// above: log:error counts the error and critical ones.
	SeriesLogPrefix = "log:"
)
