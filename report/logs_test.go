package report_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/report"
)

func TestLogsOnTheTimelineColouredBySeverity(t *testing.T) {
	spans, events := fixture()
	logs := []stagetrace.TraceEvent{
		{Name: stagetrace.LogEventName, RunID: "turn-1", Stage: "inference", TraceID: trace, SpanID: sid(6), Time: ms(50),
			Severity: stagetrace.Severity{Number: 13, Text: "WARN"}, Body: str("rate limited: retrying"),
			Attrs: stagetrace.Attrs{{Key: "retry_after_ms", Value: i64(20)}}},
		{Name: stagetrace.LogEventName, RunID: "turn-1", Stage: "inference", TraceID: trace, SpanID: sid(6), Time: ms(60),
			Severity: stagetrace.Severity{Number: 17}, Body: str("<script>alert(1)</script>")},
		{Name: stagetrace.LogEventName, RunID: "turn-1", Time: ms(1), Body: str("outside any span")}, // no level, no span
	}
	d := report.FromRecords(spans, append(events, logs...))
	require.Equal(t, "turn-1", d.RunID)
	doc := render(t, d)

	warn := one(t, doc, map[string]string{"class": "log sev-warn", "data-level": "warn"})
	assert.Equal(t, "inference", warn.attrs["data-stage"])
	one(t, doc, map[string]string{"class": "log sev-error", "data-level": "error"})
	one(t, doc, map[string]string{"class": "log sev-unspecified", "data-level": "unspecified"})
	assert.Contains(t, doc, "rate limited: retrying")
	assert.Contains(t, doc, "&lt;script&gt;alert(1)&lt;/script&gt;", "a body stays text")

	// On the waterfall: a mark on the row of the span each was logged in,
	// none for the one outside any span; the later one further right.
	marks := tags(doc, map[string]string{"data-level": "*", "x": "*", "y": "*"})
	require.Len(t, marks, 2)
	x0, err := strconv.ParseFloat(marks[0].attrs["x"], 64)
	require.NoError(t, err)
	x1, err := strconv.ParseFloat(marks[1].attrs["x"], 64)
	require.NoError(t, err)
	assert.Less(t, x0, x1)
	assert.Equal(t, marks[0].attrs["y"], marks[1].attrs["y"], "one row: the span's")
	assert.Equal(t, "log-mark sev-warn", marks[0].attrs["class"])
	assert.Equal(t, "log-mark sev-error", marks[1].attrs["class"])
}

func TestNoLogsNoLogSection(t *testing.T) {
	spans, events := fixture()
	doc := render(t, report.FromRecords(spans, events))
	assert.NotContains(t, doc, `id="logs"`)
}
