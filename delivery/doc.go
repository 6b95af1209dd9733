// Package delivery puts a bounded queue, a worker goroutine, retries and an
// on-disk spill in front of any [stagetrace.Sink], so that a slow, failing
// or hung sink neither slows the application nor holds up other sinks, and
// so that every batch is either delivered or counted as lost.
//
//	d, err := delivery.New(ingest,
//		delivery.WithName("ingest"),
//		delivery.OnFull(delivery.Spill),
//		delivery.WithSpillDir("/var/lib/myapp/stagetrace-spill"),
//	)
//	exp, err := exporter.New(exporter.WithSinks(d, local))
//
// # Queue and spill
//
// [Sink.Write] puts the batch in a queue of [WithQueueSize] batches and
// returns at once; one worker per Sink writes batches to the wrapped sink,
// oldest first. When the queue is full, the batch is dropped and counted
// ([Drop], the default) or written to a segment file in the spill
// directory ([Spill]) and replayed, in order, once the sink keeps up. While
// spilled batches wait, new ones are spilled behind them. Spill records are
// length-prefixed and CRC-32C checksummed; a damaged one is skipped and
// counted, never fatal. A new Sink on the directory replays what an earlier
// process left there first, so spilled batches survive a crash or a restart
// (at least once: a batch delivered just before a crash may come again).
//
// # Retries
//
// A failed write is retried with exponential backoff and full jitter. A
// batch from memory is retried for [WithMaxRetryElapsed], then spilled, or
// dropped without spill; a spilled batch is retried until it is delivered.
// An error with a method Permanent() bool that returns true, such as
// httpsink's StatusError for most 4xx answers, is not retried: the batch is
// dropped and counted as rejected. An error with a method RetryDelay()
// time.Duration, such as httpsink's StatusError for a 429 or 503 with a
// Retry-After, pauses every write for that long, up to
// [WithMaxRetryAfter], and is counted as throttled.
//
// # Accounting
//
// [Sink.Stats] returns the counts of batches delivered, replayed, spilled,
// dropped (and the spans and events in them), rejected and damaged, which
// are also OpenTelemetry metrics (stagetrace.delivery.*, with the
// attribute stagetrace.sink) through the global MeterProvider or
// [WithMeterProvider]. Losses are logged at most once per
// [WithLogInterval]. [Sink.ForceFlush] waits until everything written
// before it is delivered or dropped; [Sink.Shutdown] returns by its
// deadline with an error saying what it could not deliver.
package delivery
