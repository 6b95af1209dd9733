// Package logexporter brings OpenTelemetry log records into stagetrace:
// each record becomes a TraceEvent named "log" (stagetrace.LogEventName)
// with its severity, body, attributes and the trace and span it was made
// in, filed in the run and stage of that span, and written to the sinks
// spans go to.
//
// Two parts, registered in a Logs SDK LoggerProvider in this order:
//
//   - NewProcessor places each record as it is emitted, when its context is
//     still at hand: it gives the record the run.id and run.stage
//     attributes that a span started from the same context would get, by
//     the span processor's own rules (processor.Processor.Place). A record
//     made inside a span lands in that span's run and stage; one made
//     outside any span keeps the run its context names, if any.
//
//   - Exporter, behind a BatchProcessor, maps the records (package
//     mapping) and writes them to sinks through an exporter.Fanout: its own
//     (WithSinks) or the span exporter's (WithFanout), so that logs and
//     spans share one JSONL file, one SQLite store.
//
//     sp := processor.New()
//     exp, _ := exporter.New(exporter.WithSinks(file))
//     tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sp), sdktrace.WithBatcher(exp))
//     lexp, _ := logexporter.New(logexporter.WithFanout(exp.Fanout()))
//     lp := sdklog.NewLoggerProvider(
//     sdklog.WithProcessor(logexporter.NewProcessor(sp)),
//     sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)),
//     )
//     defer tp.Shutdown(ctx) // after lp: the span exporter owns the sinks
//     defer lp.Shutdown(ctx)
//
// A record with no run.id after placement is filed under its trace id, as
// a span is; a record outside any trace is kept under no run (run_id ""),
// and is still stored and queryable.
package logexporter
