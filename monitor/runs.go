package monitor

import (
	"cmp"
	"container/list"
	"slices"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
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
	RunID    string         `json:"run_id"`
	Start    time.Time      `json:"start"` // first span's start
	End      time.Time      `json:"end"`   // last span's end
	Spans    int64          `json:"spans"`
	Errors   int64          `json:"errors"`
	Stages   []StageSummary `json:"stages"` // by first start; spans without a stage under ""
	Tokens   []ModelUsage   `json:"tokens"` // per model, by name
	Total    ModelUsage     `json:"total"`  // all models
	Alerts   int            `json:"alerts"` // per-run budget alerts fired
	Duration time.Duration  `json:"-"`      // End - Start
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
	start  time.Time
	end    time.Time
	spans  int64
	errors int64
	stages map[string]*StageSummary
	models map[string]*ModelUsage
	total  ModelUsage
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
		r.total.Model = "total"
		r.elem = m.runOrder.PushFront(r)
		m.runs[r.id] = r
	} else {
		m.runOrder.MoveToFront(r.elem)
	}
	m.lastRun = r
	return r
}

func (r *runState) addSpan(s *stagetrace.StageSpan, u *spanUsage) {
	if r.spans == 0 || s.StartTime.Before(r.start) {
		r.start = s.StartTime
	}
	if r.spans == 0 || s.EndTime.After(r.end) {
		r.end = s.EndTime
	}
	r.spans++
	isErr := s.Status == stagetrace.StatusError
	if isErr {
		r.errors++
	}
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
	if !u.counts() {
		return
	}
	r.total.add(u)
	if st != nil {
		st.Tokens.add(u)
	}
	mu := r.lastModel
	if mu == nil || mu.Model != u.model {
		mu = r.models[u.model]
	}
	if mu == nil && len(r.models) < maxModelsPerRun {
		mu = &ModelUsage{Model: strings.Clone(u.model)}
		r.models[mu.Model] = mu
	}
	if mu != nil {
		r.lastModel = mu
		mu.add(u)
	}
}

func (r *runState) summary() RunSummary {
	s := RunSummary{
		RunID: r.id, Start: r.start, End: r.end, Duration: r.end.Sub(r.start),
		Spans: r.spans, Errors: r.errors, Total: r.total, Alerts: r.alerts,
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
func (r *runState) value(s Stat) (float64, bool) {
	switch s {
	case StatRunInputTokens:
		return float64(r.total.InputTokens), true
	case StatRunOutputTokens:
		return float64(r.total.OutputTokens), true
	case StatRunTotalTokens:
		return float64(r.total.TotalTokens), true
	case StatRunCost:
		return r.total.Cost, r.total.CostNanos != 0 || r.total.Currency != ""
	}
	return 0, false
}
