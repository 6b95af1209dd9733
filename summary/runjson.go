package summary

import (
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// RunJSON is a run as "stagetrace show --json" and the JSON API of
// "stagetrace serve" write it: the run, its spans in tree order (depth
// first, children in order of start), its events and its session.
type RunJSON struct {
	Run    stagetrace.Run          `json:"run"`
	Spans  []TreeSpanJSON          `json:"spans"`
	Events []stagetrace.TraceEvent `json:"events"`
	// Session is the run's session, when it belongs to one.
	Session *query.Session `json:"session,omitempty"`
}

// TreeSpanJSON is a span of RunJSON with its depth in the tree.
type TreeSpanJSON struct {
	Depth int                  `json:"depth"`
	Span  stagetrace.StageSpan `json:"span"`
}

// NewRunJSON returns the RunJSON of a run and its records; sess may be
// nil.
func NewRunJSON(run stagetrace.Run, records stagetrace.Batch, sess *query.Session) RunJSON {
	out := RunJSON{Run: run, Events: records.Events, Session: sess, Spans: []TreeSpanJSON{}}
	var walk func(n *TreeNode)
	walk = func(n *TreeNode) {
		out.Spans = append(out.Spans, TreeSpanJSON{Depth: n.Depth, Span: n.Span})
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range Tree(records.Spans) {
		walk(r)
	}
	if out.Events == nil {
		out.Events = []stagetrace.TraceEvent{}
	}
	return out
}

// SeriesJSON is a metric series as "stagetrace metrics --json" and the
// JSON API of "stagetrace serve" write it.
type SeriesJSON struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Points []PointJSON       `json:"points"`
}

// PointJSON is a point of SeriesJSON.
type PointJSON struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
	Count int       `json:"count"`
}

// NewSeriesJSON returns series as SeriesJSON, never nil.
func NewSeriesJSON(series []query.Series) []SeriesJSON {
	out := make([]SeriesJSON, len(series))
	for i, se := range series {
		out[i] = SeriesJSON{Name: se.Name, Labels: se.Labels, Points: make([]PointJSON, len(se.Points))}
		for j, p := range se.Points {
			out[i].Points[j] = PointJSON{Time: p.Time, Value: p.Value, Count: p.Count}
		}
	}
	return out
}
