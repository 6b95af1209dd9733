package monitor

import (
	"cmp"
	"container/list"
	"slices"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/usage"
)

// maxStagesPerRun and maxModelsPerRun bound one run's summary; spans of
// further stages or models count in the run's totals only.
const (
	maxStagesPerRun = 256
	maxModelsPerRun = 64
)

// RunSummary is what the monitor saw of one run, with no window: every
// span it was written, however old.
type RunSummary struct {
	// Run is the run's rollup, counted as the store counts it.
	Run    stagetrace.Run `json:"run"`
	Stages []StageSummary `json:"stages"` // by first start; spans without a stage under ""
	Tokens []ModelUsage   `json:"tokens"` // per model, by name
	Alerts int            `json:"alerts"` // per-run budget alerts fired
}

// StageSummary is what one stage of a run holds.
type StageSummary struct {
	Name   string    `json:"name"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Spans  int64     `json:"spans"`
	Errors int64     `json:"errors"`
	// Tokens are the stage's token usage and cost, all models together.
	Tokens ModelUsage `json:"tokens"`
}

// Elapsed returns the wall time the stage covered.
func (s StageSummary) Elapsed() time.Duration { return s.End.Sub(s.Start) }

type runState struct {
	id     string
	rollup usage.Rollup
	stages map[string]*StageSummary
	models map[string]*ModelUsage
	fired  []bool // per budget rule
	alerts int
	elem   *list.Element
	// The stage and model of the last span, whose successors mostly
	// share them.
	lastStage *StageSummary
	lastModel *ModelUsage
}

// run returns the state of run id, creating it and forgetting the least
// recently updated run past the bound.
func (m *Monitor) run(id string) *runState {
	if r := m.lastRun; r != nil && r.id == id {
		return r
	}
	r := m.runs[id]
	if r == nil {
		if len(m.runs) >= m.cfg.maxRuns {
			old := m.runOrder.Back()
			or := old.Value.(*runState)
			m.runOrder.Remove(old)
			delete(m.runs, or.id)
			if m.lastRun == or {
				m.lastRun = nil
			}
			m.health.EvictedRuns++
		}
		r = &runState{
			id:     strings.Clone(id),
			stages: map[string]*StageSummary{},
			models: map[string]*ModelUsage{},
			fired:  make([]bool, len(m.budgets)),
		}
		r.rollup.ID = r.id
		r.elem = m.runOrder.PushFront(r)
		m.runs[r.id] = r
	} else {
		m.runOrder.MoveToFront(r.elem)
	}
	m.lastRun = r
	return r
}

func (r *runState) addSpan(s *stagetrace.StageSpan, u *usage.Usage) {
	r.rollup.AddSpan(s, u)
	isErr := s.Status == stagetrace.StatusError
	st := r.lastStage
	if st == nil || st.Name != s.Stage {
		st = r.stages[s.Stage]
	}
	if st == nil && len(r.stages) < maxStagesPerRun {
		st = &StageSummary{Name: strings.Clone(s.Stage), Start: s.StartTime, End: s.EndTime, Tokens: ModelUsage{Model: "total"}}
		r.stages[st.Name] = st
	}
	if st != nil {
		r.lastStage = st
		if s.StartTime.Before(st.Start) {
			st.Start = s.StartTime
		}
		if s.EndTime.After(st.End) {
			st.End = s.EndTime
		}
		st.Spans++
		if isErr {
			st.Errors++
		}
	}
	if !u.Counts() {
		return
	}
	if st != nil {
		st.Tokens.add(u)
	}
	mu := r.lastModel
	if mu == nil || mu.Model != u.Model {
		mu = r.models[u.Model]
	}
	if mu == nil && len(r.models) < maxModelsPerRun {
		mu = &ModelUsage{Model: strings.Clone(u.Model)}
		r.models[mu.Model] = mu
	}
	if mu != nil {
		r.lastModel = mu
		mu.add(u)
	}
}

func (r *runState) summary() RunSummary {
	s := RunSummary{
		Run: r.rollup.Run(), Alerts: r.alerts,
		Stages: make([]StageSummary, 0, len(r.stages)), Tokens: make([]ModelUsage, 0, len(r.models)),
	}
	for _, st := range r.stages {
		s.Stages = append(s.Stages, *st)
	}
	slices.SortFunc(s.Stages, func(a, b StageSummary) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Name, b.Name))
	})
	for _, mu := range r.models {
		s.Tokens = append(s.Tokens, *mu)
	}
	slices.SortFunc(s.Tokens, func(a, b ModelUsage) int { return strings.Compare(a.Model, b.Model) })
	return s
}

// value returns what the run has used of a budget's statistic.
func (r *runState) value(s alert.Stat) (float64, bool) {
	t := r.rollup.Totals()
	switch s {
	case alert.StatRunInputTokens:
		return float64(t.InputTokens), true
	case alert.StatRunOutputTokens:
		return float64(t.OutputTokens), true
	case alert.StatRunTotalTokens:
		return float64(t.TotalTokens), true
	case alert.StatRunCost:
		return t.Cost, t.HasCost()
	}
	return 0, false
}
