// Package summary prints runs for people: each run's stages in order, with
// elapsed time, status and findings, the spans under them, and the events
// worth reading (exceptions, metrics). make demo and the stagetrace command
// print runs with it.
package summary

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
)

// Run is what is known of one run.
type Run struct {
	ID     string
	Spans  []stagetrace.StageSpan
	Events []stagetrace.TraceEvent
}

// Stage is the spans of one stage within a run.
type Stage struct {
	Name   string
	Start  time.Time
	End    time.Time
	Spans  []stagetrace.StageSpan
	Errors int
}

// Elapsed returns the wall time the stage covered: from its first span's
// start to its last span's end.
func (s Stage) Elapsed() time.Duration { return s.End.Sub(s.Start) }

// Status returns "error" when a span of the stage failed, else "ok".
func (s Stage) Status() string {
	if s.Errors > 0 {
		return "error"
	}
	return "ok"
}

// GroupRuns groups records by run, runs in order of their first start.
func GroupRuns(spans []stagetrace.StageSpan, events []stagetrace.TraceEvent) []Run {
	index := map[string]int{}
	var runs []Run
	at := func(id string) *Run {
		i, ok := index[id]
		if !ok {
			i = len(runs)
			index[id] = i
			runs = append(runs, Run{ID: id})
		}
		return &runs[i]
	}
	for _, s := range spans {
		r := at(s.RunID)
		r.Spans = append(r.Spans, s)
	}
	for _, e := range events {
		r := at(e.RunID)
		r.Events = append(r.Events, e)
	}
	for i := range runs {
		slices.SortStableFunc(runs[i].Spans, func(a, b stagetrace.StageSpan) int { return a.StartTime.Compare(b.StartTime) })
		slices.SortStableFunc(runs[i].Events, func(a, b stagetrace.TraceEvent) int { return a.Time.Compare(b.Time) })
	}
	slices.SortStableFunc(runs, func(a, b Run) int { return a.Start().Compare(b.Start()) })
	return runs
}

// Start returns when the run's first span started.
func (r Run) Start() time.Time {
	if len(r.Spans) == 0 {
		if len(r.Events) > 0 {
			return r.Events[0].Time
		}
		return time.Time{}
	}
	t := r.Spans[0].StartTime
	for _, s := range r.Spans {
		if s.StartTime.Before(t) {
			t = s.StartTime
		}
	}
	return t
}

// End returns when the run's last span ended.
func (r Run) End() time.Time {
	var t time.Time
	for _, s := range r.Spans {
		if s.EndTime.After(t) {
			t = s.EndTime
		}
	}
	return t
}

// Errors returns how many spans of the run failed.
func (r Run) Errors() int {
	n := 0
	for _, s := range r.Spans {
		if s.Status == stagetrace.StatusError {
			n++
		}
	}
	return n
}

// Stages returns the run's stages in order of their first start; spans
// without a stage are gathered under the stage "".
func (r Run) Stages() []Stage {
	index := map[string]int{}
	var stages []Stage
	for _, s := range r.Spans {
		i, ok := index[s.Stage]
		if !ok {
			i = len(stages)
			index[s.Stage] = i
			stages = append(stages, Stage{Name: s.Stage, Start: s.StartTime, End: s.EndTime})
		}
		st := &stages[i]
		st.Spans = append(st.Spans, s)
		if s.StartTime.Before(st.Start) {
			st.Start = s.StartTime
		}
		if s.EndTime.After(st.End) {
			st.End = s.EndTime
		}
		if s.Status == stagetrace.StatusError {
			st.Errors++
		}
	}
	slices.SortStableFunc(stages, func(a, b Stage) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Name, b.Name))
	})
	return stages
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// Findings formats findings as name=value pairs.
func Findings(f stagetrace.Attrs) string {
	parts := make([]string, len(f))
	for i, kv := range f {
		v := kv.Value.String()
		if kv.Value.Kind() == stagetrace.KindFloat64 {
			v = fmt.Sprintf("%.3g", kv.Value.AsFloat64())
		}
		parts[i] = kv.Key + "=" + v
	}
	return strings.Join(parts, " ")
}

// Duration formats d for people: 850µs, 12.5ms, 1.24s.
func Duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func stageName(s string) string {
	if s == "" {
		return "(no stage)"
	}
	return s
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}
