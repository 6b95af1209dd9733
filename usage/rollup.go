package usage

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
)

// Rollup is a run seen as a whole, built by adding its records one at a
// time: what the SQLite store keeps of a run and what the monitor, the
// report and the command print. The zero Rollup is an empty run; set ID.
type Rollup struct {
	ID            string
	start, end    time.Time
	hasTime       bool
	spans, errors int
	stages        map[string]struct{}
	stageOrder    []string
	lastStage     string
	totals        Totals
}

// AddSpan adds span s, whose usage is u (nil to compute Of(s)).
func (r *Rollup) AddSpan(s *stagetrace.StageSpan, u *Usage) {
	r.cover(s.StartTime, s.EndTime)
	r.spans++
	if s.Status == stagetrace.StatusError {
		r.errors++
	}
	// Spans come mostly in runs of one stage: the last span's needs no
	// lookup.
	if s.Stage != "" && s.Stage != r.lastStage {
		r.lastStage = s.Stage
		if r.stages == nil {
			r.stages = make(map[string]struct{})
		}
		if _, ok := r.stages[s.Stage]; !ok {
			r.stages[s.Stage] = struct{}{}
			r.stageOrder = append(r.stageOrder, s.Stage)
		}
	}
	if u == nil {
		own := Of(s)
		u = &own
	}
	r.totals.Add(u)
}

// AddEvent adds event e: the run covers its time.
func (r *Rollup) AddEvent(e *stagetrace.TraceEvent) { r.cover(e.Time, e.Time) }

func (r *Rollup) cover(start, end time.Time) {
	if !r.hasTime || start.Before(r.start) {
		r.start = start
	}
	if !r.hasTime || end.After(r.end) {
		r.end = end
	}
	r.hasTime = true
}

// Stages returns the run's distinct non-empty stages in the order they
// were first added.
func (r *Rollup) Stages() []string { return r.stageOrder }

// Totals returns the usage of the run's spans added up.
func (r *Rollup) Totals() Totals { return r.totals }

// Run returns the run as added so far.
func (r *Rollup) Run() stagetrace.Run {
	run := stagetrace.Run{
		ID: r.ID, Start: r.start, End: r.end,
		Stages: len(r.stageOrder), Spans: r.spans, Errors: r.errors,
	}
	SetRunTotals(&run, &r.totals)
	return run
}

// SetRunTotals sets the token and cost fields of run from t.
func SetRunTotals(run *stagetrace.Run, t *Totals) {
	run.Tokens = t.Tokens
	run.Cost = t.Cost
	run.CostNanos = t.CostNanos
	run.Currency = t.Currency
	run.CostSpans = t.CostSpans
	run.CostErrors = t.CostErrors
	run.CostUnknown = t.CostUnknown
}

// RunTotals returns the token and cost fields of run as Totals, to add
// runs up (a session of runs) by the same rules as spans.
func RunTotals(run stagetrace.Run) Totals {
	return Totals{
		Tokens: run.Tokens, Cost: run.Cost, CostNanos: run.CostNanos, Currency: run.Currency,
		CostSpans: run.CostSpans, CostErrors: run.CostErrors, CostUnknown: run.CostUnknown,
	}
}

// Rollups accumulates the rollups of the runs of some records.
type Rollups map[string]*Rollup

// Get returns the rollup of run id, creating it.
func (rs Rollups) Get(id string) *Rollup {
	r, ok := rs[id]
	if !ok {
		r = &Rollup{ID: id}
		rs[id] = r
	}
	return r
}

// Runs returns the runs, newest first (see SortRuns).
func (rs Rollups) Runs() []stagetrace.Run {
	runs := make([]stagetrace.Run, 0, len(rs))
	for _, r := range rs {
		runs = append(runs, r.Run())
	}
	SortRuns(runs)
	return runs
}

// Runs returns the runs of spans and events, newest first: the runs a
// store holding these records lists.
func Runs(spans []stagetrace.StageSpan, events []stagetrace.TraceEvent) []stagetrace.Run {
	rs := Rollups{}
	for i := range spans {
		rs.Get(spans[i].RunID).AddSpan(&spans[i], nil)
	}
	for i := range events {
		if events[i].RunID == "" {
			continue // a log record kept under no run makes no run
		}
		rs.Get(events[i].RunID).AddEvent(&events[i])
	}
	return rs.Runs()
}

// SortRuns orders runs newest start first, then by id.
func SortRuns(runs []stagetrace.Run) {
	slices.SortFunc(runs, func(a, b stagetrace.Run) int {
		return cmp.Or(b.Start.Compare(a.Start), strings.Compare(a.ID, b.ID))
	})
}
