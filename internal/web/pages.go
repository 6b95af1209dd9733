package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/query"
	"github.com/stagetrace/stagetrace/report"
	"github.com/stagetrace/stagetrace/summary"
)

var funcs = template.FuncMap{
	"duration": summary.Duration,
	"runURL":   runURL,
	"spanURL":  func(run string, id stagetrace.SpanID) string { return runURL(run) + "/spans/" + id.String() },
	"elapsed":  func(s stagetrace.StageSpan) string { return summary.Duration(s.Elapsed()) },
	"time":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") },
	"cost":     summary.RunCost,
	"findings": summary.Findings,
	"value":    func(v stagetrace.Value) string { return v.String() },
	"status": func(c stagetrace.StatusCode) string {
		if c == stagetrace.StatusUnset {
			return "-"
		}
		return c.String()
	},
	"tokens": func(r stagetrace.Run) int64 { return r.InputTokens + r.OutputTokens },
	"aggs": func() []string {
		return []string{string(query.AggAvg), string(query.AggSum), string(query.AggMin), string(query.AggMax), string(query.AggCount)}
	},
	"sessionURL":  func(id string) string { return "/?" + url.Values{"session": {id}}.Encode() },
	"sessionCost": func(ss query.Session) string { return summary.TotalsCost(&ss.Totals) },
	"sortKeys":    func() []string { return []string{"", "start", "duration", "spans", "errors", "tokens", "cost"} },
}

// runURL returns the path of a run's page; the id is one path segment
// whatever it holds.
func runURL(id string) string { return "/runs/" + url.PathEscape(id) }

// page is what the layout renders around a page's content.
type page struct {
	Title string
	Poll  int64 // milliseconds between polls of the runs list
	Data  any
}

func (s *server) render(w http.ResponseWriter, req *http.Request, name string, code int, p page) {
	p.Poll = s.cfg.poll.Milliseconds()
	var b bytes.Buffer
	if err := s.pages[name].Execute(&b, p); err != nil {
		s.cfg.logger.Error("stagetrace serve: rendering a page failed", "path", req.URL.Path, "err", err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

func (s *server) fail(w http.ResponseWriter, req *http.Request, code int, err error) {
	if code >= 500 {
		s.cfg.logger.Error("stagetrace serve: request failed", "path", req.URL.Path, "err", err)
	}
	s.render(w, req, "runs", code, page{Title: "stagetrace", Data: runsView{Error: err.Error()}})
}

// runsView is the runs list page.
type runsView struct {
	Params     runsParams
	Runs       []stagetrace.Run
	Error      string
	API        string // the API URL the page polls
	Prev, Next string // the other pages' queries, "" when none
	HasPrev    bool
	HasNext    bool
}

func (s *server) runsPage(w http.ResponseWriter, req *http.Request) {
	p, err := parseRuns(req.URL.Query(), time.Now())
	if err != nil {
		s.render(w, req, "runs", http.StatusBadRequest, page{Title: "stagetrace runs", Data: runsView{Params: p, Error: err.Error()}})
		return
	}
	runs, err := s.runs(req, p)
	if err != nil {
		s.fail(w, req, http.StatusInternalServerError, err)
		return
	}
	v := runsView{Params: p, Runs: runs, API: "/api/v1/runs?" + p.query(p.Offset)}
	if p.Offset > 0 {
		v.HasPrev, v.Prev = true, "/?"+p.query(max(0, p.Offset-p.Limit))
	}
	if len(runs) == p.Limit {
		v.HasNext, v.Next = true, "/?"+p.query(p.Offset+p.Limit)
	}
	s.render(w, req, "runs", http.StatusOK, page{Title: "stagetrace runs", Data: v})
}

// runOrFail returns the run the request names with its records, or
// answers 404 (no such run) or 500 and returns false.
func (s *server) runOrFail(w http.ResponseWriter, req *http.Request) (stagetrace.Run, stagetrace.Batch, bool) {
	run, records, err := s.runRecords(req)
	if errors.Is(err, query.ErrNotFound) {
		s.fail(w, req, http.StatusNotFound, errors.New("no run "+strconv.Quote(req.PathValue("run"))))
		return run, records, false
	}
	if err != nil {
		s.fail(w, req, http.StatusInternalServerError, err)
		return run, records, false
	}
	return run, records, true
}

// runView is the run page.
type runView struct {
	Run    stagetrace.Run
	Report template.HTML
	Spans  []summary.TreeSpanJSON
}

func (s *server) runPage(w http.ResponseWriter, req *http.Request) {
	run, records, ok := s.runOrFail(w, req)
	if !ok {
		return
	}
	d := report.FromRecords(records.Spans, records.Events)
	d.RunID = run.ID
	usage := monitor.UsageOf(records.Spans)
	d.Tokens = &usage
	d.Alerts = runAlerts(s.alerts(), run.ID)
	frag, err := report.Fragment(d)
	if err != nil {
		s.fail(w, req, http.StatusInternalServerError, err)
		return
	}
	v := runView{Run: run, Report: frag, Spans: summary.NewRunJSON(run, records, nil).Spans}
	s.render(w, req, "run", http.StatusOK, page{Title: "run " + run.ID, Data: v})
}

// runAlerts returns the alerts a run's page shows besides the run's own
// alert events: those of the run (a per-run budget) and those of no run
// (a window over every run).
func runAlerts(all []alert.Alert, runID string) []alert.Alert {
	var out []alert.Alert
	for _, a := range all {
		if a.RunID == "" || a.RunID == runID {
			out = append(out, a)
		}
	}
	return out
}

// spanView is the span page.
type spanView struct {
	Run      stagetrace.Run
	Span     stagetrace.StageSpan
	Parent   *stagetrace.StageSpan
	Children []stagetrace.StageSpan
	Events   []stagetrace.TraceEvent
}

func (s *server) spanPage(w http.ResponseWriter, req *http.Request) {
	run, records, ok := s.runOrFail(w, req)
	if !ok {
		return
	}
	id := req.PathValue("span")
	i := slices.IndexFunc(records.Spans, func(sp stagetrace.StageSpan) bool { return sp.SpanID.String() == id })
	if i < 0 {
		s.fail(w, req, http.StatusNotFound, errors.New("no span "+strconv.Quote(id)+" in run "+strconv.Quote(run.ID)))
		return
	}
	v := spanView{Run: run, Span: records.Spans[i]}
	for j := range records.Spans {
		sp := records.Spans[j]
		switch {
		case sp.SpanID == v.Span.ParentSpanID && sp.TraceID == v.Span.TraceID:
			v.Parent = &records.Spans[j]
		case sp.ParentSpanID == v.Span.SpanID && sp.TraceID == v.Span.TraceID:
			v.Children = append(v.Children, sp)
		}
	}
	for _, e := range records.Events {
		if e.SpanID == v.Span.SpanID {
			v.Events = append(v.Events, e)
		}
	}
	s.render(w, req, "span", http.StatusOK, page{Title: "span " + v.Span.Name, Data: v})
}

// spansView is the span search page.
type spansView struct {
	Params spansParams
	Spans  []stagetrace.StageSpan
	Error  string
}

func (s *server) spansPage(w http.ResponseWriter, req *http.Request) {
	p, err := parseSpans(req.URL.Query())
	if err != nil {
		s.render(w, req, "spans", http.StatusBadRequest, page{Title: "stagetrace spans", Data: spansView{Params: p, Error: err.Error()}})
		return
	}
	var spans []stagetrace.StageSpan
	if p.Where != "" {
		if spans, err = s.r.Spans(req.Context(), p.q); err != nil {
			s.fail(w, req, http.StatusInternalServerError, err)
			return
		}
	}
	s.render(w, req, "spans", http.StatusOK, page{Title: "stagetrace spans", Data: spansView{Params: p, Spans: spans}})
}

// sessionsView is the sessions page.
type sessionsView struct {
	Params   sessionsParams
	Sessions []query.Session
	Error    string
}

func (s *server) sessionsPage(w http.ResponseWriter, req *http.Request) {
	p, err := parseSessions(req.URL.Query(), time.Now())
	if err != nil {
		s.render(w, req, "sessions", http.StatusBadRequest, page{Title: "stagetrace sessions", Data: sessionsView{Params: p, Error: err.Error()}})
		return
	}
	sessions, err := query.Sessions(req.Context(), s.r, p.f)
	if err != nil {
		s.fail(w, req, http.StatusInternalServerError, err)
		return
	}
	s.render(w, req, "sessions", http.StatusOK, page{Title: "stagetrace sessions", Data: sessionsView{Params: p, Sessions: sessions}})
}

// metricsView is the metric chart page.
type metricsView struct {
	Params metricsParams
	Charts template.HTML
	Series int
	Error  string
}

func (s *server) metricsPage(w http.ResponseWriter, req *http.Request) {
	p, err := parseMetrics(req.URL.Query(), time.Now())
	if err != nil {
		s.render(w, req, "metrics", http.StatusBadRequest, page{Title: "stagetrace metrics", Data: metricsView{Params: p, Error: err.Error()}})
		return
	}
	v := metricsView{Params: p}
	if p.Name != "" {
		series, err := s.r.Metrics(req.Context(), p.q)
		if err != nil {
			s.render(w, req, "metrics", http.StatusBadRequest, page{Title: "stagetrace metrics", Data: metricsView{Params: p, Error: err.Error()}})
			return
		}
		charts := make([]report.Series, len(series))
		for i, se := range series {
			charts[i] = report.Series{Name: seriesName(se, p.q.By)}
			for _, pt := range se.Points {
				charts[i].Points = append(charts[i].Points, report.Point{Time: pt.Time, Value: pt.Value})
			}
		}
		v.Series = len(series)
		if v.Charts, err = report.Charts(charts); err != nil {
			s.fail(w, req, http.StatusInternalServerError, err)
			return
		}
	}
	s.render(w, req, "metrics", http.StatusOK, page{Title: "stagetrace metrics", Data: v})
}

// seriesName names a series by its metric and its labels, in the order
// of by.
func seriesName(se query.Series, by []string) string {
	name := se.Name
	for _, l := range by {
		name += " " + l + "=" + se.Labels[l]
	}
	return name
}
