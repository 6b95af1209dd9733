package sqlitesink

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
)

// Run is what the store knows of one run without reading its spans.
type Run = stagetrace.Run

// Values of RunFilter.Status and Run.Status.
const (
	statusOK    = stagetrace.RunStatusOK
	statusError = stagetrace.RunStatusError
)

// Rollup computes the runs of spans and events as the store would after
// storing them, newest first like Runs: the same rollups for records read
// from a JSONL file.
func Rollup(spans []stagetrace.StageSpan, events []stagetrace.TraceEvent) []Run {
	r := newRollups()
	for i := range spans {
		r.addSpan(&spans[i])
	}
	for i := range events {
		r.addEvent(&events[i])
	}
	runs := make([]Run, 0, len(r.m))
	for id, acc := range r.m {
		runs = append(runs, Run{
			ID:           id,
			Start:        timeOf(acc.first),
			End:          timeOf(acc.last),
			Stages:       len(acc.stages),
			Spans:        int(acc.spans),
			Errors:       int(acc.errors),
			InputTokens:  acc.in,
			OutputTokens: acc.out,
			Cost:         acc.cost,
			HasCost:      acc.hasCost,
		})
	}
	sortRuns(runs)
	return runs
}

// sortRuns orders runs as Runs returns them: newest start first.
func sortRuns(runs []Run) {
	slices.SortFunc(runs, func(a, b Run) int {
		return cmp.Or(b.Start.Compare(a.Start), strings.Compare(a.ID, b.ID))
	})
}

// rollup accumulates what records add to one run.
type rollup struct {
	first, last   int64 // Unix nanoseconds
	hasTime       bool
	spans, errors int64
	in, out       int64
	cost          float64
	hasCost       bool
	stages        map[string]struct{}
	stageOrder    []string
}

// rollups accumulates the rollups of the runs of some records.
type rollups struct {
	m map[string]*rollup
}

func newRollups() *rollups { return &rollups{m: make(map[string]*rollup)} }

func (r *rollups) get(id string) *rollup {
	acc, ok := r.m[id]
	if !ok {
		acc = &rollup{stages: make(map[string]struct{})}
		r.m[id] = acc
	}
	return acc
}

func (acc *rollup) cover(start, end int64) {
	if !acc.hasTime || start < acc.first {
		acc.first = start
	}
	if !acc.hasTime || end > acc.last {
		acc.last = end
	}
	acc.hasTime = true
}

func (r *rollups) addSpan(s *stagetrace.StageSpan) {
	acc := r.get(s.RunID)
	acc.cover(unixNano(s.StartTime), unixNano(s.EndTime))
	acc.spans++
	if s.Status == stagetrace.StatusError {
		acc.errors++
	}
	if s.Stage != "" {
		if _, ok := acc.stages[s.Stage]; !ok {
			acc.stages[s.Stage] = struct{}{}
			acc.stageOrder = append(acc.stageOrder, s.Stage)
		}
	}
	if v, ok := s.Findings.Get(attributes.FindingInputTokens); ok {
		acc.in += tokens(v)
	}
	if v, ok := s.Findings.Get(attributes.FindingOutputTokens); ok {
		acc.out += tokens(v)
	}
	if v, ok := s.Findings.Get(attributes.FindingCost); ok {
		if f, isNum := v.Number(); isNum && !math.IsNaN(f) && !math.IsInf(f, 0) {
			acc.cost += f
			acc.hasCost = true
		}
	}
}

// tokens returns a token count finding as an integer; a float count is
// rounded, anything else counts nothing.
func tokens(v stagetrace.Value) int64 {
	f, ok := v.Number()
	switch {
	case v.Kind() == stagetrace.KindInt64:
		return v.AsInt64()
	case !ok || math.IsNaN(f) || math.Abs(f) > 1<<62:
		return 0
	}
	return int64(math.Round(f))
}

func (r *rollups) addEvent(e *stagetrace.TraceEvent) {
	ns := unixNano(e.Time)
	r.get(e.RunID).cover(ns, ns)
}

// store adds the rollups to the runs table. stageStmt and runStmt are the
// prepared insertStageSQL and upsertRunSQL, or nil to prepare them here.
func (r *rollups) store(ctx context.Context, tx *sql.Tx, stageStmt, runStmt *sql.Stmt) error {
	if len(r.m) == 0 {
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
	ids := make([]string, 0, len(r.m))
	for id := range r.m {
		ids = append(ids, id)
	}
	// A fixed order, so that two writers touching the same runs take
	// their row locks alike (SQLite locks the file, but be tidy).
	slices.Sort(ids)
	for _, id := range ids {
		acc := r.m[id]
		var newStages int64
		for _, stage := range acc.stageOrder {
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
		var cost any
		if acc.hasCost {
			cost = acc.cost
		}
		if _, err := runStmt.ExecContext(ctx, id, acc.first, acc.last, newStages,
			acc.spans, acc.errors, acc.in, acc.out, cost); err != nil {
			return err
		}
	}
	return nil
}
