// Package summary prints runs for people: each run's stages in order, with
// elapsed time, status and findings, the spans under them, and the events
// worth reading (exceptions, metrics). make demo and the stagetrace command
// print runs with it; the run's totals come from package usage.
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

// Stages returns the stages of a run's spans in order of their first
// start; spans without a stage are gathered under the stage "".
func Stages(spans []stagetrace.StageSpan) []Stage {
	index := map[string]int{}
	var stages []Stage
	for _, s := range spans {
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

// Findings formats findings as name=value pairs, made Safe.
func Findings(f stagetrace.Attrs) string {
	parts := make([]string, len(f))
	for i, kv := range f {
		v := kv.Value.String()
		if kv.Value.Kind() == stagetrace.KindFloat64 {
			v = fmt.Sprintf("%.3g", kv.Value.AsFloat64())
		}
		parts[i] = Safe(kv.Key + "=" + v)
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
