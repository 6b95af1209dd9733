package summary

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/usage"
)

// DefaultBarWidth is the width, in cells, of the timeline bars WriteTree
// draws when TreeOptions leaves it zero.
const DefaultBarWidth = 24

// MaxBarWidth bounds the timeline bars: wider than any terminal, and
// small enough that a run's table stays a few megabytes at most.
const MaxBarWidth = 1000

// TreeOptions change what WriteTree prints.
type TreeOptions struct {
	// BarWidth is the width of the timeline column; the whole run spans
	// it. Default DefaultBarWidth; at most MaxBarWidth.
	BarWidth int
	// Color prints log lines in their level's ANSI colour (Colorize), for
	// a terminal.
	Color bool
}

// TreeNode is a span of a run in the run's span tree.
type TreeNode struct {
	Span     stagetrace.StageSpan
	Depth    int
	Children []*TreeNode
}

// Tree arranges the spans of a run by their parent links: a span whose
// parent is not among spans is a root. Roots and children are in order of
// start.
func Tree(spans []stagetrace.StageSpan) []*TreeNode {
	nodes := make([]*TreeNode, len(spans))
	byID := make(map[[24]byte]*TreeNode, len(spans))
	key := func(t stagetrace.TraceID, s stagetrace.SpanID) [24]byte {
		var k [24]byte
		copy(k[:16], t[:])
		copy(k[16:], s[:])
		return k
	}
	for i := range spans {
		nodes[i] = &TreeNode{Span: spans[i]}
		byID[key(spans[i].TraceID, spans[i].SpanID)] = nodes[i]
	}
	var roots []*TreeNode
	for _, n := range nodes {
		p := byID[key(n.Span.TraceID, n.Span.ParentSpanID)]
		if !n.Span.ParentSpanID.IsValid() || p == nil || p == n {
			roots = append(roots, n)
			continue
		}
		p.Children = append(p.Children, n)
	}
	byStart := func(a, b *TreeNode) int {
		return cmp.Or(a.Span.StartTime.Compare(b.Span.StartTime), a.Span.EndTime.Compare(b.Span.EndTime))
	}
	var setDepth func(n *TreeNode, d int)
	setDepth = func(n *TreeNode, d int) {
		n.Depth = d
		slices.SortStableFunc(n.Children, byStart)
		for _, c := range n.Children {
			setDepth(c, d+1)
		}
	}
	slices.SortStableFunc(roots, byStart)
	for _, r := range roots {
		setDepth(r, 0)
	}
	return roots
}

// WriteTree prints one run: a header with its totals, then each span of
// its tree, indented by depth, with its stage, elapsed time, a timeline
// bar scaled to the run, status and findings, then the events worth
// reading (exceptions, metrics, log lines), in order of time. The stagetrace command's show and make
// demo print runs with it.
func WriteTree(w io.Writer, run stagetrace.Run, records stagetrace.Batch, opts TreeOptions) error {
	if opts.BarWidth <= 0 {
		opts.BarWidth = DefaultBarWidth
	}
	opts.BarWidth = min(opts.BarWidth, MaxBarWidth)
	p := &printer{w: w}
	p.line("%s", header(run))
	p.line("")
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	tp := &printer{w: tw}
	tp.line("STAGE\tSPAN\tELAPSED\tTIMELINE\tSTATUS\tFINDINGS")
	var walk func(n *TreeNode)
	walk = func(n *TreeNode) {
		s := &n.Span
		status := s.Status.String()
		if s.Status == stagetrace.StatusUnset {
			status = "-"
		}
		findings := Findings(s.Findings)
		if s.StatusMessage != "" {
			findings = strings.TrimSpace(findings + "  (" + Safe(s.StatusMessage) + ")")
		}
		tp.line("%s\t%s%s\t%s\t%s\t%s\t%s", Safe(dash(s.Stage)), strings.Repeat("  ", n.Depth), Safe(s.Name),
			Duration(s.Elapsed()), Bar(run.Start, run.End, s.StartTime, s.EndTime, opts.BarWidth), status, findings)
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range Tree(records.Spans) {
		walk(r)
	}
	if tp.err == nil {
		tp.err = tw.Flush()
	}
	if tp.err != nil {
		return tp.err
	}
	// Cells are padded for the next column; the last filled one of a
	// line must not leave trailing blanks.
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		if line != "" {
			p.line("%s", strings.TrimRight(line, " \n"))
		}
	}
	for _, e := range records.Events {
		switch e.Name {
		case attributes.EventException:
			msg, _ := e.Attrs.Get(string(attributes.ExceptionMessage))
			p.line("! exception in %s: %s", Safe(stageName(e.Stage)), Safe(msg.String()))
		case attributes.EventMetric:
			name, _ := e.Attrs.Get(string(attributes.MetricName))
			value, _ := e.Attrs.Get(string(attributes.MetricValue))
			unit, _ := e.Attrs.Get(string(attributes.MetricUnit))
			p.line("~ metric %s = %s%s", Safe(name.String()), Safe(value.String()), Safe(unitSuffix(unit.String())))
		case stagetrace.LogEventName:
			p.line("%s", LogLine(&e, opts.Color))
		}
	}
	return p.err
}

// header returns the first line WriteTree prints for run.
func header(r stagetrace.Run) string {
	parts := []string{
		"run " + Safe(r.ID),
		"started " + r.Start.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"took " + Duration(r.Duration()),
		plural(r.Stages, "stage"),
		plural(r.Spans, "span"),
		plural(r.Errors, "error"),
	}
	if r.InputTokens != 0 || r.OutputTokens != 0 {
		parts = append(parts, fmt.Sprintf("tokens %d in / %d out", r.InputTokens, r.OutputTokens))
	}
	if c := RunCost(r); c != "-" {
		parts = append(parts, "cost "+c)
	}
	return strings.Join(parts, "  ")
}

// Cost formats a cost for people: four significant digits at most.
func Cost(c float64) string { return fmt.Sprintf("%.4g", c) }

// RunCost formats the cost of a run for people: Cost, "unknown" when its
// spans cost in different currencies, "-" when none had a cost.
func RunCost(r stagetrace.Run) string {
	switch {
	case r.CostUnknown:
		return "unknown"
	case r.HasCost():
		return Cost(r.Cost)
	}
	return "-"
}

// TotalsCost formats the cost of totals added up over runs (a session's)
// as RunCost formats a run's.
func TotalsCost(t *usage.Totals) string {
	var r stagetrace.Run
	usage.SetRunTotals(&r, t)
	return RunCost(r)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// eighths are the block characters for 1/8 to 7/8 of a cell.
var eighths = [...]string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}

// Bar draws the span from start to end on a timeline of width cells
// covering from runStart to runEnd: blanks up to where the span starts,
// then full blocks and a partial one for its length, to an eighth of a
// cell. A span too short to fill an eighth still shows one. The bar is
// padded with blanks to width cells; width is at most MaxBarWidth.
func Bar(runStart, runEnd, start, end time.Time, width int) string {
	width = min(width, MaxBarWidth)
	total := runEnd.Sub(runStart)
	if total <= 0 || width <= 0 {
		return strings.Repeat(" ", max(width, 0))
	}
	cells := func(d time.Duration) float64 { return float64(d) / float64(total) * float64(width) }
	offset := min(int(cells(start.Sub(runStart))), width-1)
	offset = max(offset, 0)
	length := int(cells(end.Sub(start))*8 + 0.5)
	if length < 1 {
		length = 1
	}
	length = min(length, (width-offset)*8)
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", offset))
	b.WriteString(strings.Repeat("█", length/8))
	b.WriteString(eighths[length%8])
	used := offset + length/8
	if length%8 != 0 {
		used++
	}
	b.WriteString(strings.Repeat(" ", width-used))
	return b.String()
}
