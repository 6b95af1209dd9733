// Package monitor aggregates stagetrace records over sliding time windows
// and judges alert rules on them. A Monitor is a stagetrace.Sink: give it
// to the SDK exporter (exporter.WithSinks) or to the collector exporter
// like any other sink, and read it while the program runs. The rules and
// their handlers are package alert's; writing snapshots to files is
// package export's.
//
//	mon, err := monitor.New(
//		monitor.WithRetention(15*time.Minute),
//		monitor.WithAlerts(alert.Rule{
//			Name: "inference-errors", Metric: "stage:inference",
//			Stat: alert.StatErrorRate, Op: query.OpGt, Threshold: 0.05,
//			Window: 5 * time.Minute, MinCount: 20,
//		}),
//		monitor.WithAlertHandlers(alert.SlogHandler(slog.Default())),
//	)
//	exp, err := exporter.New(exporter.WithSinks(file, mon))
//	...
//	st, ok := mon.Metrics("stage:inference", time.Minute) // count, rates, p95 ...
//	usage := mon.TokenUsage(time.Hour)                     // tokens and cost per model
//
// # Series
//
// Every span adds to the series of its name and to that of its stage
// (stage:<stage>); every numeric finding to finding:<name>; every metric
// event to metric:<metric.name>. Span and stage series count spans and
// errors and hold durations in milliseconds; metric and finding series
// hold the values. A name without a prefix is a span's name, or else a
// metric's; span:<name> names a span whose name has a colon.
//
// Records count in the bucket of their own time: a span's end, an event's
// time. Buckets are WithResolution wide and kept for WithRetention; a
// window is the bucket now filling and whole buckets before it. Records
// older than the retention are left out of windows (Health().Late) but
// still count in RunSummary. Memory is bounded by WithMaxSeries series of
// at most retention/resolution buckets, each keeping at most
// WithSampleLimit values for quantiles, and WithMaxRuns run summaries.
//
// Quantiles (p50, p95, p99) are exact, by linear interpolation between
// closest ranks, over a window whose buckets kept all their values, and
// estimated from each bucket's uniform sample, weighted by the bucket's
// count, otherwise (Stats.Exact says which).
//
// # Tokens and cost
//
// Token usage comes from the token findings the rule presets record
// (input_tokens, output_tokens, cache tokens, total_tokens), the model
// from the model finding (else gen_ai.response.model or
// gen_ai.request.model), and the cost from the cost finding, added
// exactly as rules.TotalCost adds it. Spans without tokens or cost do not
// count in token usage.
//
// # Alerts
//
// An alert.Rule compares a statistic of a series over a window with a
// threshold, or what each run has used with a budget. Rules are evaluated
// on every Write, for the series it touched, and every WithEvalInterval,
// so that a rule whose window empties out resolves. A rule fires once per
// breach and resolves once back in bounds. Each alert goes to the
// handlers (alert.HandlerFunc, alert.SlogHandler, alert.NewWebhook) and,
// as a TraceEvent named alert, to the WithForward sinks, on a goroutine of
// the monitor's own so that Write never waits for them. alert.Load reads
// rules from the alerts: key of a rules file.
//
// # Snapshots
//
// Snapshot returns the series active in a window and the token usage over
// it; export.Write writes one as JSON, CSV or Parquet, and WithSnapshots
// with export.ToDir writes one to a file every period.
package monitor
