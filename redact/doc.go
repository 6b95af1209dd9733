// Package redact masks secrets and personal data in stagetrace batches
// before any sink sees them: attribute values by key (allow and deny
// lists of globs) and secrets found in string values by pattern (presets
// for API keys, bearer tokens, emails and card numbers, plus regular
// expressions of your own).
//
//	r, err := redact.New(redact.Config{
//		Deny:    []string{"http.request.header.authorization", "*.api_key"},
//		Presets: []string{redact.PresetAPIKeys, redact.PresetBearerTokens, redact.PresetEmails, redact.PresetCardNumbers},
//	})
//	n := r.Batch(&batch) // in place, copy on write
//
// Redaction happens once, before the batch is handed to the sinks (the
// exporter takes a Redactor for that), never per sink: every sink must
// see the same, already masked, records.
//
// # What is redacted
//
// Span and event attributes get Allow, Deny and the value patterns;
// findings and span status messages get the value patterns; resource
// attributes get Deny and the value patterns unless Config.SkipResources
// is set. Span names, run ids and stages are not touched: they identify
// records and should not carry secrets. Each changed span, event or
// resource carries stagetrace.redacted_count, the number of values masked
// in it; a resource is redacted once and the result reused, since
// resources are shared and immutable.
//
// # Cost
//
// Keys are matched without regular expressions (exact keys by map lookup,
// globs by prefix, suffix and substring tests). Each value pattern first
// runs a cheap test that rules out most strings (the preset API keys need
// one of a few literal prefixes, emails an '@', card numbers 13 digits),
// so the regular expressions run only on candidates. Records without
// secrets are not copied.
package redact
