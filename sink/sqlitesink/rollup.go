package sqlitesink

import (
	"context"
	"database/sql"
	"slices"
	"strconv"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/usage"
)

// Values of RunFilter.Status.
const (
	statusOK    = stagetrace.RunStatusOK
	statusError = stagetrace.RunStatusError
)

// The runs table holds each run's usage.Rollup; a write folds the rollups
// of its batch into it. The cost columns hold usage.Totals' cost state,
// merged as usage.MergeCost merges it.
const (
	runColumns = `r.run_id, r.first_start_ns, r.last_end_ns, r.stages, r.spans, r.errors,
	r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_creation_tokens, r.reasoning_tokens, r.total_tokens,
	r.cost_nanos, r.cost_currency, r.cost_spans, r.cost_errors, r.cost_unknown`
	// costsDiffer is usage.MergeCost's condition for an unknown sum of
	// two sums that both hold costs. Both sums are below 2^61, so adding
	// them does not overflow.
	costsDiffer = `(cost_unknown OR excluded.cost_unknown OR cost_currency <> excluded.cost_currency
		OR abs(cost_nanos + excluded.cost_nanos) > 2305843009213693952)`
)

// upsertRunSQL folds a batch's rollup of a run into its row.
var upsertRunSQL = `INSERT INTO runs (run_id, first_start_ns, last_end_ns, stages, spans, errors,
	input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, total_tokens,
	cost_nanos, cost_currency, cost_spans, cost_errors, cost_unknown)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id) DO UPDATE SET
	first_start_ns = min(first_start_ns, excluded.first_start_ns),
	last_end_ns = max(last_end_ns, excluded.last_end_ns),
	stages = stages + excluded.stages,
	spans = spans + excluded.spans,
	errors = errors + excluded.errors,
	input_tokens = ` + addCountSQL("input_tokens") + `,
	output_tokens = ` + addCountSQL("output_tokens") + `,
	cache_read_tokens = ` + addCountSQL("cache_read_tokens") + `,
	cache_creation_tokens = ` + addCountSQL("cache_creation_tokens") + `,
	reasoning_tokens = ` + addCountSQL("reasoning_tokens") + `,
	total_tokens = ` + addCountSQL("total_tokens") + `,
	cost_nanos = CASE WHEN excluded.cost_spans = 0 THEN cost_nanos WHEN cost_spans = 0 THEN excluded.cost_nanos
		WHEN ` + costsDiffer + ` THEN 0 ELSE cost_nanos + excluded.cost_nanos END,
	cost_currency = CASE WHEN excluded.cost_spans = 0 THEN cost_currency WHEN cost_spans = 0 THEN excluded.cost_currency
		WHEN ` + costsDiffer + ` THEN '' ELSE cost_currency END,
	cost_unknown = CASE WHEN excluded.cost_spans = 0 THEN cost_unknown WHEN cost_spans = 0 THEN excluded.cost_unknown
		WHEN ` + costsDiffer + ` THEN 1 ELSE 0 END,
	cost_spans = cost_spans + excluded.cost_spans,
	cost_errors = cost_errors + excluded.cost_errors`

// addCountSQL is usage.AddCount in SQL for column col: SQLite turns an
// integer sum that overflows into a float, which no longer scans as an
// int64, so the sum saturates at usage.MaxTokens before it can.
func addCountSQL(col string) string {
	return `CASE WHEN ` + col + ` > ` + strconv.FormatInt(usage.MaxTokens, 10) + ` - excluded.` + col +
		` THEN ` + strconv.FormatInt(usage.MaxTokens, 10) + ` ELSE ` + col + ` + excluded.` + col + ` END`
}

func scanRun(row scanner) (stagetrace.Run, error) {
	var r stagetrace.Run
	var first, last int64
	var t usage.Totals
	if err := row.Scan(&r.ID, &first, &last, &r.Stages, &r.Spans, &r.Errors,
		&t.InputTokens, &t.OutputTokens, &t.CacheReadInputTokens, &t.CacheCreationInputTokens, &t.ReasoningOutputTokens, &t.TotalTokens,
		&t.CostNanos, &t.Currency, &t.CostSpans, &t.CostErrors, &t.CostUnknown); err != nil {
		return r, err
	}
	t.Cost = usage.Cost{Nanos: t.CostNanos}.Float64()
	r.Start, r.End = query.StoredTime(first), query.StoredTime(last)
	usage.SetRunTotals(&r, &t)
	return r, nil
}

// rollups accumulates the rollups of the runs of some records.
type rollups usage.Rollups

func newRollups() rollups { return rollups{} }

func (r rollups) addSpan(s *stagetrace.StageSpan) { usage.Rollups(r).Get(s.RunID).AddSpan(s, nil) }

func (r rollups) addEvent(e *stagetrace.TraceEvent) { usage.Rollups(r).Get(e.RunID).AddEvent(e) }

// store adds the rollups to the runs table. stageStmt and runStmt are the
// prepared insertStageSQL and upsertRunSQL, or nil to prepare them here.
func (r rollups) store(ctx context.Context, tx *sql.Tx, stageStmt, runStmt *sql.Stmt) error {
	if len(r) == 0 {
		return nil
	}
	var err error
	if stageStmt == nil {
		if stageStmt, err = tx.PrepareContext(ctx, insertStageSQL); err != nil {
			return err
		}
		defer stageStmt.Close()
	}
	if runStmt == nil {
		if runStmt, err = tx.PrepareContext(ctx, upsertRunSQL); err != nil {
			return err
		}
		defer runStmt.Close()
	}
	ids := make([]string, 0, len(r))
	for id := range r {
		ids = append(ids, id)
	}
	// A fixed order, so that two writers touching the same runs take
	// their row locks alike (SQLite locks the file, but be tidy).
	slices.Sort(ids)
	for _, id := range ids {
		acc := r[id]
		var newStages int64
		for _, stage := range acc.Stages() {
			res, err := stageStmt.ExecContext(ctx, id, stage)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			newStages += n
		}
		run, t := acc.Run(), acc.Totals()
		if _, err := runStmt.ExecContext(ctx, id, query.StoredUnixNano(run.Start), query.StoredUnixNano(run.End), newStages,
			run.Spans, run.Errors, t.InputTokens, t.OutputTokens, t.CacheReadInputTokens,
			t.CacheCreationInputTokens, t.ReasoningOutputTokens, t.TotalTokens,
			t.CostNanos, t.Currency, t.CostSpans, t.CostErrors, t.CostUnknown); err != nil {
			return err
		}
	}
	return nil
}
