// Package usage is stagetrace's one accounting: what a span used (tokens
// of five kinds, the model, the cost) and the rollup of a run from its
// spans. The SQLite store, the monitor, the HTML report, the run summary
// and the stagetrace command all count with it, so that they agree.
//
// # Tokens
//
// [Of] reads the token findings of a span: input_tokens, output_tokens,
// cache_read_input_tokens, cache_creation_input_tokens,
// reasoning_output_tokens and total_tokens. Input tokens include the cache
// tokens and output tokens the reasoning tokens, as the GenAI conventions
// count them. A span's total is input plus output when it reports either,
// else its total_tokens finding.
//
// A token count is a non-negative whole number: an int64, or a float64
// holding one exactly (below 2^53). Anything else (a negative or
// fractional number, NaN, an infinity, a string, a bool) is not a count:
// the finding counts as absent, adding nothing to any total, and the
// span's Usage says so in BadTokens. [TokenCount] is that rule.
//
// Token sums saturate: a sum that would pass [MaxTokens] (the largest
// int64) is MaxTokens, in a span's own total, in [Totals] and in the
// SQLite store's rollup alike ([AddCount] is that rule). A run whose spans
// claim absurd counts thus shows MaxTokens, never a negative or wrapped
// total, and reads like every other run.
//
// # Model
//
// A span's model is its model finding, else its gen_ai.response.model
// attribute, else its gen_ai.request.model attribute, else [UnknownModel].
//
// # Cost
//
// A cost is held exactly, in integer billionths of a currency unit
// ([Cost]). A span's cost is its cost finding, an amount in units of its
// cost_currency finding ("" when it has none): an int64 or a float64, not
// negative and below [MaxCostNanos] billionths ([Amount] is that rule). A
// span with a cost_error finding, or whose cost finding is not an amount,
// has no cost and counts as a cost error.
//
// [Totals] add costs exactly, in any order. Costs in different currencies
// are never summed: the totals' cost is then unknown (CostUnknown), and
// stays so whatever is added later, so that the same spans give the same
// totals in any order and in any grouping into batches.
package usage
