// Package setup installs stagetrace in a service with one call or with
// environment variables alone: [Install] builds the processor, the
// exporter and its sinks, registers them on a new TracerProvider and, with
// [WithGlobal], makes that provider and the W3C TraceContext and Baggage
// propagators the global ones.
//
// Options win over the environment, setting by setting. The variables are:
//
//	STAGETRACE_SINKS         comma-separated kind:target sinks, kinds jsonl,
//	                         sqlite, http and postgres, e.g.
//	                         jsonl:./runs.jsonl,http:https://ingest.example/v1
//	                         or postgres:postgres://stagetrace@db.internal/traces
//	STAGETRACE_RULES         a rules file (YAML or JSON)
//	STAGETRACE_PRESETS       comma-separated rule presets, e.g. genai,openinference
//	STAGETRACE_BAGGAGE_KEYS  comma-separated baggage members to trust
//	                         (run.id, run.stage)
//	STAGETRACE_RUN_ID        the run of spans nothing else places in one
//
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES describe the resource, as
// in every OpenTelemetry SDK; they are read from the process environment.
//
// At least one sink is required: with neither STAGETRACE_SINKS nor a sink
// option, Install fails with an error naming STAGETRACE_SINKS rather than
// writing files nobody asked for.
package setup
