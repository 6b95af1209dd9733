// Package ingest receives OTLP traces and logs over HTTP and gRPC, as the
// OTLP specification says, and writes them to a sink: the receiver behind
// "stagetrace serve".
//
// A request is decoded with the collector's pdata (ptraceotlp,
// plogotlp), its spans placed in runs and stages and mapped by the same
// code as the collector's stagetrace processor and exporter
// (internal/pdataview, mapping, rules), and the batch put on a bounded
// queue that one goroutine drains into the sink. When the queue is full
// the client is told to retry later (HTTP 429, gRPC UNAVAILABLE, with a
// retry delay): memory stays bounded and no client is blocked.
// Shutdown stops accepting and drains the queue into the sink.
package ingest
