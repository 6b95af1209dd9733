// Package integration holds the tests and benchmarks that put stagetrace's
// packages together the way users do: a real TracerProvider, the processor,
// a BatchSpanProcessor around the exporter, and real sinks writing files.
package integration
