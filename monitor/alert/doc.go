// Package alert says what the monitor alerts on and where its alerts go.
//
// A Rule is a threshold on a statistic of a monitor series over a window
// (the p95 of stage:inference over 5 minutes above 2 seconds), or a budget
// on what each run uses (run_cost above 0.5); Load and Read take rules
// from the alerts: key of a rules file, with errors that name the file,
// the line and the rule. Give rules to monitor.WithAlerts: the monitor
// judges them against its windows as records arrive.
//
// An Alert is a rule firing or resolving. Handlers receive them, one at a
// time and in order (monitor.WithAlertHandlers): HandlerFunc for Go code,
// SlogHandler to log them, NewWebhook to post them as JSON, retried with
// backoff. Event and FromEvent carry an alert as a TraceEvent named alert,
// as the monitor forwards them to sinks and the report reads them back.
//
// The package depends on no window: the monitor imports it, not the other
// way round.
package alert
