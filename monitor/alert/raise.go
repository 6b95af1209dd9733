package alert

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Raise returns the alert of the rule moving to state at now, its
// statistic being value over count records. judged is false when the
// rule resolves because its window holds too few records to judge it.
// The monitor decides when a rule fires and resolves; the rule says what
// its alerts read.
func (r *Rule) Raise(state State, now time.Time, value float64, count int64, judged bool) Alert {
	a := Alert{
		Name:  r.Name,
		Level: r.Level,
		State: state,
		Time:  now,
		Data: map[string]any{
			dataStat:      string(r.Stat),
			dataOp:        string(r.Op),
			dataThreshold: r.Threshold,
			dataValue:     value,
			dataCount:     count,
		},
	}
	if a.Level == "" {
		a.Level = LevelWarning
	}
	what := string(r.Stat)
	if r.Stat.Windowed() {
		a.Data[dataMetric] = r.Metric
		a.Data[dataWindow] = r.Window.String()
		if r.Where != nil {
			a.Data[dataWhere] = string(r.Where.Op) + " " + num(r.Where.Value)
			what = fmt.Sprintf("count of values %s %s", r.Where.Op, num(r.Where.Value))
		}
	}
	if r.Clear != nil {
		a.Data[dataClear] = *r.Clear
	}
	verb := "breached"
	if state == StateResolved {
		verb = "back in bounds"
	}
	a.Message = fmt.Sprintf("%s%s %s = %s, threshold %s %s, over %v (%d records): %s",
		r.prefix(), r.Metric, what, num(value), r.Op, num(r.Threshold), r.Window, count, verb)
	if !judged {
		a.Message = r.prefix() + "window holds too few records: resolved"
	}
	return a
}

// RaiseForRun returns the alert of a per-run budget the run runID has
// exceeded at now, having used value over spans spans.
func (r *Rule) RaiseForRun(runID string, now time.Time, value float64, spans int64) Alert {
	a := r.Raise(StateFiring, now, value, spans, true)
	a.RunID = runID
	a.Data[dataRunID] = runID
	a.Message = fmt.Sprintf("%srun %s: %s = %s %s %s", r.prefix(), runID, r.Stat, num(value), r.Op, num(r.Threshold))
	return a
}

// prefix is the start of the rule's messages.
func (r *Rule) prefix() string {
	if r.Message != "" {
		return r.Message + ": "
	}
	return ""
}

// num formats a number for a message: whole numbers in full, others to 4
// significant digits.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
