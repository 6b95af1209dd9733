// Package httpsink provides a [stagetrace.Sink] that sends each batch to an
// HTTP ingest endpoint as one JSON request:
//
//	{"spans":[<span>,...],"events":[<event>,...]}
//
// where each element is a record in the JSON line form of
// [stagetrace.Encoder] (findings travel inside their span), so a server
// can read the elements with [stagetrace.DecodeLine] or any JSON parser.
//
//	sink, err := httpsink.New("https://ingest.example.com/v1/batches",
//		httpsink.WithTokenEnv("STAGETRACE_TOKEN"),
//		httpsink.WithGzip(),
//	)
//
// # Retries
//
// A batch is retried with exponential backoff and full jitter
// ([WithRetry]) on network errors, on 408 and 429, and on every 5xx; the
// Retry-After of a 429 or 503 (seconds or an HTTP-date) replaces the
// computed wait. Other 4xx and 3xx responses fail at once with a
// [*StatusError] whose Permanent method says so. Redirects are not
// followed. The retry loop ends as soon as the Write context is done, and
// gives up early when the next wait would pass the context's deadline or
// the retry limit; the error's RetryDelay then tells the delivery package
// in front how long the server asked it to wait.
//
// Write blocks for the whole retry schedule; put the sink behind the
// delivery package so that a slow or failing endpoint never holds up the
// exporter or other sinks.
//
// # Secrets
//
// The bearer token of [WithTokenEnv] is read from the environment once,
// so it never sits in configuration files. It, and the value of every
// header of [WithHeaders] that carries credentials, is scrubbed by value
// from every error and log line, status lines and response bodies quoted
// in errors included: raw or escaped, and cut short too (see
// [github.com/stagetrace/stagetrace/redact.Scrubber]), so whatever a server echoes back reaches neither the
// delivery log nor the OpenTelemetry error handler. Errors show the URL
// without user info or query.
package httpsink
