package summary

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/usage"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestBar(t *testing.T) {
	tests := []struct {
		name       string
		start, end int // ms, in a run from 0 to 80
		want       string
	}{
		{"whole run", 0, 80, "████████"},
		{"first half", 0, 40, "████    "},
		{"second half", 40, 80, "    ████"},
		{"eighths", 0, 15, "█▌      "}, // 1.5 cells
		{"one eighth", 10, 11, " ▏      "},
		{"too short to see is still seen", 10, 10, " ▏      "},
		{"at the very end", 80, 80, "       ▏"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Bar(at(0), at(80), at(tt.start), at(tt.end), 8)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, 8, utf8.RuneCountInString(got), "bars are padded to the width")
		})
	}
	assert.Equal(t, "    ", Bar(at(0), at(0), at(0), at(0), 4), "a run of no duration draws nothing")
}

func TestTree(t *testing.T) {
	tr := stagetrace.TraceID{1}
	spans := []stagetrace.StageSpan{
		{Name: "child b", TraceID: tr, SpanID: stagetrace.SpanID{3}, ParentSpanID: stagetrace.SpanID{1}, StartTime: at(20), EndTime: at(30)},
		{Name: "root", TraceID: tr, SpanID: stagetrace.SpanID{1}, StartTime: at(0), EndTime: at(100)},
		{Name: "child a", TraceID: tr, SpanID: stagetrace.SpanID{2}, ParentSpanID: stagetrace.SpanID{1}, StartTime: at(10), EndTime: at(20)},
		{Name: "grandchild", TraceID: tr, SpanID: stagetrace.SpanID{4}, ParentSpanID: stagetrace.SpanID{2}, StartTime: at(11), EndTime: at(12)},
		// Its parent is in another run: it is a root of this one.
		{Name: "orphan", TraceID: tr, SpanID: stagetrace.SpanID{5}, ParentSpanID: stagetrace.SpanID{9}, StartTime: at(50), EndTime: at(60)},
	}
	var got []string
	var walk func(n *TreeNode)
	walk = func(n *TreeNode) {
		got = append(got, strings.Repeat(".", n.Depth)+n.Span.Name)
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range Tree(spans) {
		walk(r)
	}
	assert.Equal(t, []string{"root", ".child a", "..grandchild", ".child b", "orphan"}, got)
}

func TestWriteTree(t *testing.T) {
	tr := stagetrace.TraceID{1}
	records := stagetrace.Batch{
		Spans: []stagetrace.StageSpan{
			{Name: "turn", TraceID: tr, SpanID: stagetrace.SpanID{1}, StartTime: at(0), EndTime: at(80)},
			{Name: "call", Stage: "inference", TraceID: tr, SpanID: stagetrace.SpanID{2}, ParentSpanID: stagetrace.SpanID{1},
				StartTime: at(40), EndTime: at(80), Status: stagetrace.StatusError, StatusMessage: "boom",
				Findings: stagetrace.Attrs{{Key: "input_tokens", Value: stagetrace.Int64Value(5)}}},
		},
		Events: []stagetrace.TraceEvent{{Name: "exception", Stage: "inference", Time: at(50),
			Attrs: stagetrace.Attrs{{Key: "exception.message", Value: stagetrace.StringValue("boom")}}}},
	}
	run := usage.Runs(records.Spans, records.Events)[0]
	var buf bytes.Buffer
	require.NoError(t, WriteTree(&buf, run, records, TreeOptions{BarWidth: 8}))
	assert.Equal(t, `run   started 2024-05-01T10:00:00.000Z  took 80.0ms  1 stage  2 spans  1 error  tokens 5 in / 0 out

STAGE      SPAN    ELAPSED  TIMELINE  STATUS  FINDINGS
-          turn    80.0ms   ████████  -
inference    call  40.0ms       ████  error   input_tokens=5  (boom)
! exception in inference: boom
`, buf.String())
	for _, line := range strings.Split(buf.String(), "\n") {
		assert.Equal(t, strings.TrimRight(line, " "), line, "no trailing blanks")
	}
}

func TestRunCost(t *testing.T) {
	cases := []struct {
		name string
		run  stagetrace.Run
		want string
	}{
		{"none", stagetrace.Run{}, "-"},
		{"known", stagetrace.Run{Cost: 0.0123456, CostNanos: 12_345_600, CostSpans: 2, Currency: "USD"}, "0.01235"},
		{"zero is a cost", stagetrace.Run{CostSpans: 1}, "0"},
		{"currencies differ", stagetrace.Run{CostSpans: 2, CostUnknown: true}, "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, RunCost(c.run))
		})
	}
}

func TestBarWidthIsBounded(t *testing.T) {
	t0 := time.Unix(0, 0)
	bar := Bar(t0, t0.Add(time.Second), t0, t0.Add(time.Second), 1<<50)
	assert.Equal(t, MaxBarWidth, utf8.RuneCountInString(bar))
}

func TestTotalsCost(t *testing.T) {
	for _, tc := range []struct {
		name string
		tot  usage.Totals
		want string
	}{
		{"none", usage.Totals{}, "-"},
		{"cost", usage.Totals{Cost: 0.00298, CostNanos: 2_980_000, Currency: "USD", CostSpans: 1}, "0.00298"},
		{"currencies differ", usage.Totals{CostSpans: 2, CostUnknown: true}, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, TotalsCost(&tc.tot))
		})
	}
}
