// Package report writes a run as one self-contained HTML file a person can
// open from disk: the stage waterfall, findings per stage, token usage and
// cost by model, metric charts and alerts. The file needs no network and
// no JavaScript: its CSS and SVG charts are inline.
//
//	spans, events := ... // the records of one run, from a sink
//	f, _ := os.Create("report.html")
//	err := report.Write(f, report.FromRecords(spans, events))
//
// Elements carry stable ids, classes and data attributes (data-stage,
// data-span-count, data-total-tokens, ...) for tools and tests to read.
package report

import (
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/summary"
	"github.com/stagetrace/stagetrace/usage"
)

// Data is what a report shows.
type Data struct {
	// Title heads the page; "stagetrace run <RunID>" when empty.
	Title string
	// RunID names the run; FromRecords sets it when the records are of
	// one run.
	RunID string
	// Generated is printed at the foot of the page when set.
	Generated time.Time
	// Spans and Events are the run's records. Metric events are charted,
	// exception events listed and alert events shown with Alerts.
	Spans  []stagetrace.StageSpan
	Events []stagetrace.TraceEvent
	// Tokens is the token usage to show; nil computes it from Spans as
	// the monitor does (monitor.UsageOf).
	Tokens *monitor.TokenUsageReport
	// Series are metric series to chart besides the metric events, such
	// as a monitor's Timeline (SeriesFromTimeline).
	Series []Series
	// Alerts are alerts to show besides the alert events among Events,
	// such as a monitor's Alerts.
	Alerts []alert.Alert
	// Session, when set, is the session (conversation) the run belongs
	// to, shown with its runs, tokens and cost.
	Session *Session
}

// Session is a group of runs (a conversation) as the report shows it.
type Session struct {
	ID string
	// Runs are the session's runs, in the order to list them.
	Runs []stagetrace.Run
	// Totals are the runs' tokens and cost added up.
	Totals usage.Totals
}

// Series is a metric over time.
type Series struct {
	Name   string
	Unit   string
	Points []Point
}

// Point is one value of a Series.
type Point struct {
	Time  time.Time
	Value float64
}

// FromRecords returns the Data of records as a sink holds them, typically
// those of one run. RunID is set when
// every record has the same run.
func FromRecords(spans []stagetrace.StageSpan, events []stagetrace.TraceEvent) Data {
	d := Data{Spans: spans, Events: events}
	runs := map[string]bool{}
	for i := range spans {
		runs[spans[i].RunID] = true
	}
	for i := range events {
		if events[i].RunID != "" {
			runs[events[i].RunID] = true
		}
	}
	if len(runs) == 1 {
		for id := range runs {
			d.RunID = id
		}
	}
	return d
}

// SeriesFromTimeline returns a monitor series (Monitor.Timeline) as a
// Series of its buckets' means.
func SeriesFromTimeline(name, unit string, pts []monitor.Point) Series {
	s := Series{Name: name, Unit: unit, Points: make([]Point, 0, len(pts))}
	for _, p := range pts {
		if p.Count > 0 {
			s.Points = append(s.Points, Point{Time: p.Time, Value: p.Mean})
		}
	}
	return s
}

//go:embed report.html.tmpl
var files embed.FS

var page = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"int":   func(v int64) string { return group(strconv.FormatInt(v, 10)) },
	"float": func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) },
}).ParseFS(files, "report.html.tmpl"))

// Write writes the report of d to w as one HTML document.
func Write(w io.Writer, d Data) error {
	v := build(d)
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// view is what the template renders: every number computed, every
// coordinate placed.
type view struct {
	Title      string
	RunID      string
	Start      string
	Duration   string
	SpanCount  int
	ErrorCount int
	StageCount int // named stages, as the command counts them
	Generated  string
	Waterfall  waterfall
	Stages     []stageView
	Tokens     tokensView
	Charts     []chart
	Alerts     []alertView
	Exceptions []exceptionView
	Session    *sessionView
	Logs       []logView
}

type sessionView struct {
	ID           string
	Runs         []sessionRunView
	InputTokens  int64
	OutputTokens int64
	Cost         string
}

type sessionRunView struct {
	ID, Start, Duration       string
	Spans, Errors             int
	InputTokens, OutputTokens int64
	Cost                      string
	Current                   bool
}

func buildSession(s *Session, runID string) *sessionView {
	if s == nil {
		return nil
	}
	v := &sessionView{ID: s.ID, InputTokens: s.Totals.InputTokens, OutputTokens: s.Totals.OutputTokens, Cost: summary.TotalsCost(&s.Totals)}
	for _, r := range s.Runs {
		v.Runs = append(v.Runs, sessionRunView{
			ID: r.ID, Start: r.Start.UTC().Format(time.RFC3339Nano), Duration: summary.Duration(r.Duration()),
			Spans: r.Spans, Errors: r.Errors, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens,
			Cost: summary.RunCost(r), Current: r.ID == runID,
		})
	}
	return v
}

func build(d Data) view {
	v := view{Title: d.Title, RunID: d.RunID, SpanCount: len(d.Spans)}
	if v.Title == "" {
		v.Title = "stagetrace run " + d.RunID
		if d.RunID == "" {
			v.Title = "stagetrace run report"
		}
	}
	if !d.Generated.IsZero() {
		v.Generated = d.Generated.UTC().Format(time.RFC3339)
	}
	spans := slices.Clone(d.Spans)
	slices.SortStableFunc(spans, func(a, b stagetrace.StageSpan) int { return a.StartTime.Compare(b.StartTime) })
	var rollup usage.Rollup
	for i := range spans {
		rollup.AddSpan(&spans[i], nil)
	}
	run := rollup.Run()
	v.ErrorCount, v.StageCount = run.Errors, run.Stages
	start, end := run.Start, run.End
	if len(d.Spans) > 0 {
		v.Start = start.UTC().Format(time.RFC3339Nano)
		v.Duration = summary.Duration(end.Sub(start))
	}
	stages := summary.Stages(spans)
	palette := map[string]int{}
	for i, st := range stages {
		palette[st.Name] = i % paletteSize
	}
	v.Waterfall = buildWaterfall(spans, start, end, palette)
	v.Waterfall.Marks = logMarks(v.Waterfall, d.Events, start, end)
	v.Logs = buildLogs(d.Events)
	v.Stages = buildStages(stages, palette)
	usage := d.Tokens
	if usage == nil {
		u := monitor.UsageOf(d.Spans)
		usage = &u
	}
	v.Tokens = buildTokens(*usage)
	v.Charts = buildCharts(d.Events, d.Series)
	v.Alerts = buildAlerts(d.Events, d.Alerts)
	v.Session = buildSession(d.Session, d.RunID)
	for _, e := range d.Events {
		if e.Name != attributes.EventException {
			continue
		}
		msg, _ := e.Attrs.Get(string(attributes.ExceptionMessage))
		typ, _ := e.Attrs.Get(string(attributes.ExceptionType))
		v.Exceptions = append(v.Exceptions, exceptionView{
			Time: e.Time.UTC().Format(time.RFC3339Nano), Stage: e.Stage, Type: typ.String(), Message: msg.String(),
		})
	}
	return v
}

// paletteSize is how many stage colours the stylesheet has.
const paletteSize = 8

// Waterfall geometry, in SVG user units.
const (
	wfWidth  = 1200.0
	wfLabel  = 340.0 // the label column
	wfRight  = 20.0
	wfRow    = 22.0
	wfTop    = 28.0 // the axis
	wfIndent = 14.0 // per depth
)

type waterfall struct {
	Width, Height float64
	Rows          []spanRow
	Marks         []logMark // log events on the row of the span they were logged in
	Ticks         []tick
	AxisX, AxisW  float64
}

type spanRow struct {
	ID, Parent, Name, Stage, Status string
	Depth                           int
	Color                           int // stage colour, -1 for no stage
	Y, TextY, LabelX                float64
	X, W                            float64
	Duration                        string
	Tooltip                         string
	DurX                            float64 // where the duration's label is
	DurAnchor                       string  // start after the bar, end inside it near the right edge
}

type tick struct {
	X      float64
	Label  string
	Anchor string // text-anchor: the end ticks' labels stay inside
}

// buildWaterfall lays spans out in tree order: each span under its parent,
// siblings by start; a span whose parent is not among spans is a root.
func buildWaterfall(spans []stagetrace.StageSpan, start, end time.Time, palette map[string]int) waterfall {
	total := end.Sub(start)
	if total <= 0 {
		total = time.Microsecond
	}
	barW := wfWidth - wfLabel - wfRight
	x := func(t time.Time) float64 { return wfLabel + barW*float64(t.Sub(start))/float64(total) }

	byID := map[stagetrace.SpanID]bool{}
	for _, s := range spans {
		byID[s.SpanID] = true
	}
	children := map[stagetrace.SpanID][]int{}
	var roots []int
	for i, s := range spans { // spans are sorted by start
		if s.ParentSpanID.IsValid() && byID[s.ParentSpanID] && s.ParentSpanID != s.SpanID {
			children[s.ParentSpanID] = append(children[s.ParentSpanID], i)
		} else {
			roots = append(roots, i)
		}
	}
	wf := waterfall{Width: wfWidth, AxisX: wfLabel, AxisW: barW}
	seen := make([]bool, len(spans))
	var walk func(i, depth int)
	walk = func(i, depth int) {
		if seen[i] { // a cycle of parents, or an id given twice
			return
		}
		seen[i] = true
		s := &spans[i]
		y := wfTop + float64(len(wf.Rows))*wfRow
		color := -1
		if s.Stage != "" {
			color = palette[s.Stage]
		}
		r := spanRow{
			ID: s.SpanID.String(), Parent: s.ParentSpanID.String(), Name: s.Name, Stage: s.Stage,
			Status: s.Status.String(), Depth: depth, Color: color,
			Y: y + 3, TextY: y + 15, LabelX: 8 + wfIndent*float64(min(depth, 12)),
			X: round1(x(s.StartTime)), Duration: summary.Duration(s.Elapsed()),
		}
		r.W = max(round1(x(s.EndTime)-r.X), 1)
		r.DurX, r.DurAnchor = r.X+r.W+4, "start"
		if r.DurX > wfWidth-60 {
			r.DurX, r.DurAnchor = r.X+r.W-4, "end"
		}
		r.Tooltip = s.Name + " — " + r.Duration
		if s.Stage != "" {
			r.Tooltip += " — stage " + s.Stage
		}
		if s.Status == stagetrace.StatusError {
			r.Tooltip += " — error"
			if s.StatusMessage != "" {
				r.Tooltip += ": " + s.StatusMessage
			}
		}
		wf.Rows = append(wf.Rows, r)
		for _, c := range children[s.SpanID] {
			walk(c, depth+1)
		}
	}
	for _, i := range roots {
		walk(i, 0)
	}
	for i := range spans { // spans only reachable through a cycle
		walk(i, 0)
	}
	for i := range 5 {
		f := float64(i) / 4
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		wf.Ticks = append(wf.Ticks, tick{X: round1(wfLabel + barW*f), Label: summary.Duration(time.Duration(f * float64(total))), Anchor: anchor})
	}
	wf.Height = wfTop + float64(len(wf.Rows))*wfRow + 8
	return wf
}

type stageView struct {
	Name       string // "" for spans without a stage
	Label      string
	Color      int
	Spans      int
	Errors     int
	Status     string
	DurationMS string
	Duration   string
	Tokens     int64
	Cost       string
	Findings   []findingView
}

type findingView struct {
	Span  string
	Name  string
	Value string
	Kind  string
}

func buildStages(stages []summary.Stage, palette map[string]int) []stageView {
	out := make([]stageView, 0, len(stages))
	for _, st := range stages {
		sv := stageView{
			Name: st.Name, Label: st.Name, Color: palette[st.Name], Spans: len(st.Spans), Errors: st.Errors,
			Status: st.Status(), Duration: summary.Duration(st.Elapsed()),
			DurationMS: strconv.FormatFloat(float64(st.Elapsed())/float64(time.Millisecond), 'f', 3, 64),
		}
		if st.Name == "" {
			sv.Label = "(no stage)"
		}
		u := monitor.UsageOf(st.Spans)
		sv.Tokens = u.Total.TotalTokens
		sv.Cost = costText(u.Total)
		for _, s := range st.Spans {
			for _, f := range s.Findings {
				fv := findingView{Span: s.Name, Name: f.Key, Value: f.Value.String(), Kind: f.Value.Kind().String()}
				if f.Value.Kind() == stagetrace.KindFloat64 {
					fv.Value = strconv.FormatFloat(f.Value.AsFloat64(), 'g', 6, 64)
				}
				sv.Findings = append(sv.Findings, fv)
			}
		}
		out = append(out, sv)
	}
	return out
}

type tokensView struct {
	Models  []modelView
	Total   modelView
	Chart   []tokenBar
	ChartH  float64
	HasCost bool
}

type modelView struct {
	monitor.ModelUsage
	CostText string
}

type tokenBar struct {
	Model            string
	Y, TextY         float64
	InW, OutW, OutX  float64
	Total            int64
	TotalX           float64
	Input, Output    int64
	InputTT, OutTT   string
	CachedW, CachedX float64
}

// costText is a cost for people: exact, with its currency; "unknown" for
// costs in different currencies, "" for none.
func costText(u monitor.ModelUsage) string {
	switch {
	case u.CostUnknown:
		return "unknown"
	case !u.HasCost():
		return ""
	}
	return usage.Cost{Nanos: u.CostNanos, Currency: u.Currency}.String()
}

// Token chart geometry.
const (
	tkLabel = 260.0
	tkBar   = 760.0
	tkRow   = 26.0
)

func buildTokens(u monitor.TokenUsageReport) tokensView {
	tv := tokensView{Total: modelView{ModelUsage: u.Total, CostText: costText(u.Total)}}
	var most int64
	for _, m := range u.Models {
		tv.Models = append(tv.Models, modelView{ModelUsage: m, CostText: costText(m)})
		most = max(most, m.InputTokens+m.OutputTokens)
		if costText(m) != "" {
			tv.HasCost = true
		}
	}
	for i, m := range u.Models {
		y := float64(i)*tkRow + 6
		b := tokenBar{Model: m.Model, Y: y, TextY: y + 14, Total: m.TotalTokens, Input: m.InputTokens, Output: m.OutputTokens}
		if most > 0 {
			b.InW = round1(tkBar * float64(m.InputTokens) / float64(most))
			b.OutW = round1(tkBar * float64(m.OutputTokens) / float64(most))
			b.CachedW = round1(tkBar * float64(min(m.CacheReadInputTokens, m.InputTokens)) / float64(most))
		}
		b.CachedX = tkLabel
		b.OutX = tkLabel + b.InW
		b.TotalX = b.OutX + b.OutW + 6
		b.InputTT = fmt.Sprintf("%s: %s input tokens (%s read from cache)", m.Model, group(strconv.FormatInt(m.InputTokens, 10)), group(strconv.FormatInt(m.CacheReadInputTokens, 10)))
		b.OutTT = fmt.Sprintf("%s: %s output tokens", m.Model, group(strconv.FormatInt(m.OutputTokens, 10)))
		tv.Chart = append(tv.Chart, b)
	}
	tv.ChartH = float64(len(u.Models))*tkRow + 12
	return tv
}

// Metric chart geometry.
const (
	chW    = 560.0
	chH    = 220.0
	chLeft = 64.0
	chTop  = 16.0
	chPlot = chW - chLeft - 16
	chPlH  = chH - chTop - 40
)

type chart struct {
	Name, Unit       string
	Source           string // events or series
	Points           []chartPoint
	Line             string // polyline points, "" under two points
	Count            int
	Min, Max, Last   string
	YTop, YBot       string // axis labels
	XLeft, XRight    string
	PlotX, PlotY     float64
	PlotW, PlotH     float64
	PlotB, LabelY    float64
	XRightX, YLabelX float64
	YTopY, YBotY     float64
}

type chartPoint struct {
	X, Y  float64
	Title string
}

func buildCharts(events []stagetrace.TraceEvent, extra []Series) []chart {
	byName := map[string]*Series{}
	var names []string
	for _, e := range events {
		if e.Name != attributes.EventMetric {
			continue
		}
		n, _ := e.Attrs.Get(string(attributes.MetricName))
		val, _ := e.Attrs.Get(string(attributes.MetricValue))
		unit, _ := e.Attrs.Get(string(attributes.MetricUnit))
		f, ok := val.Number()
		if n.AsString() == "" || !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		s := byName[n.AsString()]
		if s == nil {
			s = &Series{Name: n.AsString(), Unit: unit.AsString()}
			byName[s.Name] = s
			names = append(names, s.Name)
		}
		s.Points = append(s.Points, Point{Time: e.Time, Value: f})
	}
	slices.Sort(names)
	var out []chart
	for _, n := range names {
		out = append(out, buildChart(*byName[n], "events"))
	}
	for _, s := range extra {
		out = append(out, buildChart(s, "series"))
	}
	return out
}

func buildChart(s Series, source string) chart {
	pts := slices.Clone(s.Points)
	pts = slices.DeleteFunc(pts, func(p Point) bool { return math.IsNaN(p.Value) || math.IsInf(p.Value, 0) })
	slices.SortStableFunc(pts, func(a, b Point) int { return a.Time.Compare(b.Time) })
	c := chart{Name: s.Name, Unit: s.Unit, Source: source, Count: len(pts),
		PlotX: chLeft, PlotY: chTop, PlotW: chPlot, PlotH: chPlH, PlotB: chTop + chPlH,
		LabelY: chTop + chPlH + 18, XRightX: chLeft + chPlot, YLabelX: chLeft - 6, YTopY: chTop + 4, YBotY: chTop + chPlH}
	if len(pts) == 0 {
		return c
	}
	lo, hi := pts[0].Value, pts[0].Value
	for _, p := range pts {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	c.Min, c.Max, c.Last = num(lo), num(hi), num(pts[len(pts)-1].Value)
	if hi == lo { // one value: centre it in a band around it
		pad := math.Max(math.Abs(hi)*0.1, 1)
		lo, hi = lo-pad, hi+pad
	}
	t0, t1 := pts[0].Time, pts[len(pts)-1].Time
	span := t1.Sub(t0)
	c.YTop, c.YBot = num(hi), num(lo)
	c.XLeft = t0.UTC().Format("15:04:05.000")
	c.XRight = "+" + summary.Duration(span)
	var line []string
	for _, p := range pts {
		x := chLeft + chPlot/2
		if span > 0 {
			x = chLeft + chPlot*float64(p.Time.Sub(t0))/float64(span)
		}
		y := chTop + chPlH*(1-(p.Value-lo)/(hi-lo))
		title := num(p.Value)
		if s.Unit != "" {
			title += " " + s.Unit
		}
		title += " at " + p.Time.UTC().Format("15:04:05.000")
		c.Points = append(c.Points, chartPoint{X: round1(x), Y: round1(y), Title: title})
		line = append(line, coord(x)+","+coord(y))
	}
	if len(line) > 1 {
		c.Line = strings.Join(line, " ")
	}
	return c
}

type alertView struct {
	Name, Level, State, Message, Time, RunID string
}

func buildAlerts(events []stagetrace.TraceEvent, extra []alert.Alert) []alertView {
	var all []alert.Alert
	for _, e := range events {
		if a, ok := alert.FromEvent(e); ok {
			all = append(all, a)
		}
	}
	all = append(all, extra...)
	slices.SortStableFunc(all, func(a, b alert.Alert) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Name, b.Name))
	})
	out := make([]alertView, 0, len(all))
	for i, a := range all {
		// The same alert as an event and from the monitor: show it once.
		if i > 0 && a.Name == all[i-1].Name && a.State == all[i-1].State && a.Time.Equal(all[i-1].Time) && a.RunID == all[i-1].RunID {
			continue
		}
		out = append(out, alertView{
			Name: a.Name, Level: string(a.Level), State: string(a.State), Message: a.Message,
			Time: a.Time.UTC().Format(time.RFC3339), RunID: a.RunID,
		})
	}
	return out
}

type exceptionView struct {
	Time, Stage, Type, Message string
}

// logView is a log event in the report's list of logs; Level is its
// level's name, which picks its colour.
type logView struct {
	Time, Stage, Level, Body, Attrs string
}

// logMark is a log event drawn on the waterfall, a tick on its span's row.
type logMark struct {
	X, Y    float64
	Level   string
	Tooltip string
}

// buildLogs lists the log events in order of time.
func buildLogs(events []stagetrace.TraceEvent) []logView {
	var out []logView
	for i := range events {
		e := &events[i]
		if e.Name != stagetrace.LogEventName {
			continue
		}
		out = append(out, logView{
			Time: e.Time.UTC().Format(time.RFC3339Nano), Stage: e.Stage, Level: e.Severity.Level().String(),
			Body: summary.Cut(e.Body.String(), 2000), Attrs: summary.Findings(e.Attrs),
		})
	}
	slices.SortStableFunc(out, func(a, b logView) int { return strings.Compare(a.Time, b.Time) })
	return out
}

// logMarks places each log event made in a span of the waterfall on that
// span's row, at its time.
func logMarks(wf waterfall, events []stagetrace.TraceEvent, start, end time.Time) []logMark {
	total := end.Sub(start)
	if total <= 0 || len(wf.Rows) == 0 {
		return nil
	}
	rowOf := make(map[string]int, len(wf.Rows))
	for i, r := range wf.Rows {
		if _, dup := rowOf[r.ID]; !dup {
			rowOf[r.ID] = i
		}
	}
	var marks []logMark
	for i := range events {
		e := &events[i]
		if e.Name != stagetrace.LogEventName || !e.SpanID.IsValid() {
			continue
		}
		row, ok := rowOf[e.SpanID.String()]
		if !ok {
			continue
		}
		at := min(max(e.Time.Sub(start), 0), total)
		marks = append(marks, logMark{
			X: round1(wf.AxisX + wf.AxisW*float64(at)/float64(total)), Y: wf.Rows[row].Y,
			Level:   e.Severity.Level().String(),
			Tooltip: summary.Severity(e.Severity) + ": " + summary.Cut(e.Body.String(), 200),
		})
	}
	return marks
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// group puts thousands separators in a decimal integer: 12,345.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// CSS returns the report's style sheet, for a page that embeds reports
// (Fragment) to serve as a file of its own.
func CSS() (string, error) {
	var b strings.Builder
	if err := page.ExecuteTemplate(&b, "css", nil); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	return b.String(), nil
}

// Fragment returns the report of d without the document around it (no
// head, no style sheet, no footer), to embed in a page that links CSS.
// Every value in it is escaped.
func Fragment(d Data) (template.HTML, error) {
	var b strings.Builder
	if err := page.ExecuteTemplate(&b, "content", build(d)); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	//nolint:gosec // the output of html/template, escaped as it was executed.
	return template.HTML(b.String()), nil
}

// Charts returns the metric charts of series, as the report draws them,
// without the document around them, to embed in a page that links CSS.
func Charts(series []Series) (template.HTML, error) {
	var b strings.Builder
	if err := page.ExecuteTemplate(&b, "charts", buildCharts(nil, series)); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	//nolint:gosec // the output of html/template, escaped as it was executed.
	return template.HTML(b.String()), nil
}
