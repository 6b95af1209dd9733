package postgressink

import (
	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/usage"
)

// The columns of runs, in the order runArgs gives and scanRun reads them.
const (
	runInsertColumns = `run_id, first_start_ns, last_end_ns, stages, spans, errors,
	input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, total_tokens,
	cost_nanos, cost_currency, cost_spans, cost_errors, cost_unknown`
	runColumns = `r.run_id, r.first_start_ns, r.last_end_ns, r.stages, r.spans, r.errors,
	r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_creation_tokens, r.reasoning_tokens, r.total_tokens,
	r.cost_nanos, r.cost_currency, r.cost_spans, r.cost_errors, r.cost_unknown`
)

func runArgs(r *stagetrace.Run) []any {
	return []any{r.ID, query.StoredUnixNano(r.Start), query.StoredUnixNano(r.End), int64(r.Stages), int64(r.Spans), int64(r.Errors),
		r.InputTokens, r.OutputTokens, r.CacheReadInputTokens, r.CacheCreationInputTokens, r.ReasoningOutputTokens, r.TotalTokens,
		r.CostNanos, r.Currency, r.CostSpans, r.CostErrors, r.CostUnknown}
}

type scanner interface{ Scan(dest ...any) error }

func scanRun(row scanner) (stagetrace.Run, error) {
	var r stagetrace.Run
	var first, last, stages, spans, errs int64
	var t usage.Totals
	if err := row.Scan(&r.ID, &first, &last, &stages, &spans, &errs,
		&t.InputTokens, &t.OutputTokens, &t.CacheReadInputTokens, &t.CacheCreationInputTokens, &t.ReasoningOutputTokens, &t.TotalTokens,
		&t.CostNanos, &t.Currency, &t.CostSpans, &t.CostErrors, &t.CostUnknown); err != nil {
		return r, err
	}
	t.Cost = usage.Cost{Nanos: t.CostNanos}.Float64()
	r.Start, r.End = query.StoredTime(first), query.StoredTime(last)
	r.Stages, r.Spans, r.Errors = int(stages), int(spans), int(errs)
	usage.SetRunTotals(&r, &t)
	return r, nil
}
