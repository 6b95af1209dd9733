package report_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/attributes"
	"github.com/stagetrace/stagetrace/monitor"
	"github.com/stagetrace/stagetrace/monitor/alert"
	"github.com/stagetrace/stagetrace/report"
	"github.com/stagetrace/stagetrace/usage"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func sid(b byte) stagetrace.SpanID { return stagetrace.SpanID{7, 7, 7, 7, 7, 7, 7, b} }

var trace = stagetrace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func str(s string) stagetrace.Value   { return stagetrace.StringValue(s) }
func i64(v int64) stagetrace.Value    { return stagetrace.Int64Value(v) }
func f64(v float64) stagetrace.Value  { return stagetrace.Float64Value(v) }
func boolean(v bool) stagetrace.Value { return stagetrace.BoolValue(v) }

// fixture is one chatbot turn, as the quickstart records it: retrieval,
// inference with a rate-limited first call, evaluation; a metric series,
// an exception and an alert. One span's name tries to inject markup.
func fixture() ([]stagetrace.StageSpan, []stagetrace.TraceEvent) {
	sp := func(id, parent byte, name, stage string, start, end int, status stagetrace.StatusCode, findings ...stagetrace.Attr) stagetrace.StageSpan {
		s := stagetrace.StageSpan{RunID: "turn-1", Stage: stage, Name: name, TraceID: trace, SpanID: sid(id),
			StartTime: ms(start), EndTime: ms(end), Status: status, Findings: findings}
		if parent != 0 {
			s.ParentSpanID = sid(parent)
		}
		return s
	}
	f := func(k string, v stagetrace.Value) stagetrace.Attr { return stagetrace.Attr{Key: k, Value: v} }
	spans := []stagetrace.StageSpan{
		sp(6, 4, "chat gpt-4o", "inference", 46, 78, stagetrace.StatusOK,
			f(attributes.FindingInputTokens, i64(812)), f(attributes.FindingOutputTokens, i64(95)),
			f(attributes.FindingCacheReadInputTokens, i64(200)), f(attributes.FindingModel, str("gpt-4o-2024-08-06")),
			f(attributes.FindingCost, f64(0.0027)), f(attributes.FindingCostCurrency, str("USD"))),
		sp(1, 0, "chat turn", "", 0, 100, stagetrace.StatusUnset),
		sp(2, 1, "retrieve documents", "retrieval", 2, 20, stagetrace.StatusOK),
		sp(3, 2, "vector search", "retrieval", 3, 15, stagetrace.StatusOK,
			f("documents", i64(4)), f("retrieval_score", f64(0.82))),
		sp(4, 1, "generate answer", "inference", 22, 80, stagetrace.StatusOK),
		sp(5, 4, "chat gpt-4o", "inference", 23, 26, stagetrace.StatusError),
		sp(7, 1, `judge <script>alert("x")</script>`, "evaluation", 82, 95, stagetrace.StatusOK,
			f("response_safe_score", f64(0.97)), f("latency_budget_ok", boolean(true)),
			f(attributes.FindingInputTokens, i64(300)), f(attributes.FindingOutputTokens, i64(5)),
			f(attributes.FindingModel, str("gpt-4o-mini")),
			f(attributes.FindingCost, f64(0.000048)), f(attributes.FindingCostCurrency, str("USD"))),
	}
	spans[5].StatusMessage = "429 rate limited"
	metric := func(name string, v float64, at int) stagetrace.TraceEvent {
		return stagetrace.TraceEvent{Name: attributes.EventMetric, RunID: "turn-1", Stage: "inference", TraceID: trace, SpanID: sid(6), Time: ms(at),
			Attrs: stagetrace.Attrs{
				{Key: string(attributes.MetricName), Value: str(name)},
				{Key: string(attributes.MetricValue), Value: f64(v)},
				{Key: string(attributes.MetricUnit), Value: str("tok/s")},
			}}
	}
	fired := alert.Alert{Name: "inference-errors", Level: alert.LevelCritical, State: alert.StateFiring,
		Message: "stage:inference error_rate = 0.5, threshold > 0.1", Time: ms(30), Data: map[string]any{"value": 0.5}}
	events := []stagetrace.TraceEvent{
		{Name: attributes.EventException, RunID: "turn-1", Stage: "inference", TraceID: trace, SpanID: sid(5), Time: ms(26),
			Attrs: stagetrace.Attrs{
				{Key: string(attributes.ExceptionType), Value: str("*errors.errorString")},
				{Key: string(attributes.ExceptionMessage), Value: str("429 rate limited")},
			}},
		metric("tokens_per_second", 30, 50),
		metric("tokens_per_second", 42, 60),
		metric("tokens_per_second", 38, 70),
		metric("tokens_per_second", 45, 78),
		fired.Event(),
	}
	events[len(events)-1].RunID = "turn-1"
	return spans, events
}

func render(t *testing.T, d report.Data) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, report.Write(&buf, d))
	return buf.String()
}

// tag is one element's start tag.
type tag struct {
	name  string
	attrs map[string]string
}

var (
	tagRE  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)(\s[^>]*)?>`)
	attrRE = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"`)
)

// tags returns the start tags of the document that have every attribute
// of want (a value of "*" matches any value).
func tags(doc string, want map[string]string) []tag {
	var out []tag
	for _, m := range tagRE.FindAllStringSubmatch(doc, -1) {
		t := tag{name: m[1], attrs: map[string]string{}}
		for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
			t.attrs[a[1]] = a[2]
		}
		ok := true
		for k, v := range want {
			got, has := t.attrs[k]
			if !has || (v != "*" && got != v) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, t)
		}
	}
	return out
}

// one returns the single tag with the attributes of want.
func one(t *testing.T, doc string, want map[string]string) tag {
	t.Helper()
	got := tags(doc, want)
	require.Len(t, got, 1, "tags with %v", want)
	return got[0]
}

// checkRun asserts what the report of the fixture must show. The HTML
// written and the DOM Chromium builds from it both pass it.
func checkRun(t *testing.T, doc string) {
	t.Helper()
	body := one(t, doc, map[string]string{"data-run-id": "turn-1", "data-span-count": "*"})
	assert.Equal(t, "body", body.name)
	assert.Equal(t, "7", body.attrs["data-span-count"])
	assert.Equal(t, "1", body.attrs["data-error-count"])

	// The waterfall: every span, in tree order, nested by parent.
	assert.Equal(t, "7", one(t, doc, map[string]string{"id": "waterfall"}).attrs["data-span-count"])
	rows := tags(doc, map[string]string{"data-span-id": "*", "data-depth": "*"})
	require.Len(t, rows, 7)
	var order []string
	for _, r := range rows {
		order = append(order, r.attrs["data-depth"]+":"+r.attrs["data-stage"]+":"+r.attrs["data-status"])
	}
	assert.Equal(t, []string{
		"0::unset", "1:retrieval:ok", "2:retrieval:ok", "1:inference:ok", "2:inference:error", "2:inference:ok", "1:evaluation:ok",
	}, order)
	assert.Equal(t, sid(4).String(), rows[4].attrs["data-parent-id"])
	assert.Contains(t, rows[4].attrs["class"], "status-error")

	// The header counts named stages, as the command does.
	assert.Equal(t, "3", one(t, doc, map[string]string{"id": "summary"}).attrs["data-stage-count"])

	// Stages, in order of their start.
	for _, c := range []struct {
		stage          string
		spans, errors  string
		tokens, findMe string
	}{
		{"", "1", "0", "0", ""},
		{"retrieval", "2", "0", "0", "retrieval_score"},
		{"inference", "3", "1", "907", "cache_read_input_tokens"},
		{"evaluation", "1", "0", "305", "response_safe_score"},
	} {
		st := one(t, doc, map[string]string{"class": "stage", "data-stage": c.stage})
		assert.Equal(t, "tr", st.name)
		assert.Equal(t, c.spans, st.attrs["data-span-count"], c.stage)
		assert.Equal(t, c.errors, st.attrs["data-error-count"], c.stage)
		assert.Equal(t, c.tokens, st.attrs["data-total-tokens"], c.stage)
		if c.findMe != "" {
			assert.Len(t, tags(doc, map[string]string{"class": "stage-findings", "data-stage": c.stage}), 1, c.stage)
		}
	}
	safe := one(t, doc, map[string]string{"data-finding": "response_safe_score"})
	assert.Equal(t, "0.97", safe.attrs["data-value"])

	// Tokens and cost by model, and their totals.
	gpt := one(t, doc, map[string]string{"class": "model", "data-model": "gpt-4o-2024-08-06"})
	assert.Equal(t, "812", gpt.attrs["data-input-tokens"])
	assert.Equal(t, "907", gpt.attrs["data-total-tokens"])
	assert.Equal(t, "0.0027", gpt.attrs["data-cost"])
	total := one(t, doc, map[string]string{"id": "token-total"})
	assert.Equal(t, "1212", total.attrs["data-total-tokens"])
	assert.Equal(t, "0.002748", total.attrs["data-cost"])
	assert.Equal(t, "USD", total.attrs["data-currency"])
	assert.Contains(t, doc, "0.002748 USD", "the exact cost, as text")
	assert.Contains(t, doc, "1,212", "token counts with separators")

	// A chart of the metric events, an alert, the exception.
	chart := one(t, doc, map[string]string{"class": "metric-chart", "data-metric": "tokens_per_second"})
	assert.Equal(t, "4", chart.attrs["data-points"])
	assert.Equal(t, "30", chart.attrs["data-min"])
	assert.Equal(t, "45", chart.attrs["data-max"])
	assert.Len(t, tags(doc, map[string]string{"class": "point", "cx": "*", "cy": "*"}), 4)
	assert.Len(t, tags(doc, map[string]string{"points": "*"}), 1, "a polyline through them")
	alert := one(t, doc, map[string]string{"class": "alert", "data-alert": "inference-errors"})
	assert.Equal(t, "firing", alert.attrs["data-state"])
	assert.Equal(t, "critical", alert.attrs["data-level"])
	assert.Len(t, tags(doc, map[string]string{"class": "exception", "data-stage": "inference"}), 1)

	// Markup in the records stays text.
	for _, tg := range tagRE.FindAllStringSubmatch(doc, -1) {
		assert.NotEqual(t, "script", strings.ToLower(tg[1]), "no script element, injected or not")
	}
	assert.Contains(t, doc, "judge &lt;script&gt;")
}

func TestWriteShowsTheRun(t *testing.T) {
	spans, events := fixture()
	d := report.FromRecords(spans, events)
	require.Equal(t, "turn-1", d.RunID)
	doc := render(t, d)
	checkRun(t, doc)
	assert.Contains(t, doc, "<title>stagetrace run turn-1</title>")
}

func TestWriteIsSelfContained(t *testing.T) {
	spans, events := fixture()
	doc := render(t, report.FromRecords(spans, events))
	for _, banned := range []string{"<script", "src=", "href=", "@import", "url(", "http://", "https://"} {
		assert.NotContains(t, strings.ToLower(doc), banned)
	}
	assert.Contains(t, doc, "<style>")
	assert.Contains(t, doc, "<svg")
}

func TestFromRecordsOfSeveralRuns(t *testing.T) {
	spans, events := fixture()
	spans[0].RunID = "turn-2"
	d := report.FromRecords(spans, events)
	assert.Empty(t, d.RunID)
	assert.Len(t, d.Spans, 7)
	doc := render(t, d)
	assert.Contains(t, doc, "<title>stagetrace run report</title>")
}

func TestWriteOfNothing(t *testing.T) {
	doc := render(t, report.Data{})
	assert.Contains(t, doc, "No spans.")
	assert.Contains(t, doc, `id="tokens-empty"`)
	assert.Contains(t, doc, `id="alerts-empty"`)
	assert.Equal(t, "0", one(t, doc, map[string]string{"id": "summary"}).attrs["data-span-count"])
}

func TestMonitorDataInTheReport(t *testing.T) {
	spans, events := fixture()
	tokens := usage.Totals{Tokens: stagetrace.Tokens{InputTokens: 5, OutputTokens: 6, TotalTokens: 11}}
	u := monitor.TokenUsageReport{Models: []monitor.ModelUsage{{Model: "m", Calls: 1, Totals: tokens}},
		Total: monitor.ModelUsage{Model: "total", Calls: 1, Totals: tokens}}
	d := report.FromRecords(spans, events)
	d.Tokens = &u
	d.Title = "nightly <eval>"
	d.Generated = t0
	d.Series = []report.Series{
		report.SeriesFromTimeline("stage:inference", "ms", []monitor.Point{
			{Time: t0, Count: 2, Mean: 40}, {Time: t0.Add(time.Second)}, {Time: t0.Add(2 * time.Second), Count: 1, Mean: 1},
		}),
		{Name: "single", Points: []report.Point{{Time: t0, Value: 7}}},
	}
	// The monitor's copy of the alert event is shown once.
	a, ok := alert.FromEvent(events[len(events)-1])
	require.True(t, ok)
	d.Alerts = []alert.Alert{a, {Name: "budget", Level: alert.LevelInfo, State: alert.StateFiring, Time: ms(90), RunID: "turn-1"}}
	doc := render(t, d)

	assert.Equal(t, "11", one(t, doc, map[string]string{"id": "token-total"}).attrs["data-total-tokens"], "the monitor's usage")
	inf := one(t, doc, map[string]string{"class": "metric-chart", "data-metric": "stage:inference"})
	assert.Equal(t, "2", inf.attrs["data-points"], "empty buckets are not points")
	assert.Equal(t, "series", inf.attrs["data-source"])
	single := one(t, doc, map[string]string{"class": "metric-chart", "data-metric": "single"})
	assert.Equal(t, "1", single.attrs["data-points"])
	assert.Len(t, tags(doc, map[string]string{"class": "alert", "data-alert": "*"}), 2)
	assert.Equal(t, "turn-1", one(t, doc, map[string]string{"data-alert": "budget"}).attrs["data-run-id"])
	assert.Contains(t, doc, "<title>nightly &lt;eval&gt;</title>")
	assert.Contains(t, doc, "at 2025-06-01T12:00:00Z")
}

func TestWaterfallSurvivesBadRecords(t *testing.T) {
	a := stagetrace.StageSpan{RunID: "r", Name: "a", SpanID: sid(1), ParentSpanID: sid(2), StartTime: t0, EndTime: t0}
	b := stagetrace.StageSpan{RunID: "r", Name: "b", SpanID: sid(2), ParentSpanID: sid(1), StartTime: t0, EndTime: t0}
	self := stagetrace.StageSpan{RunID: "r", Name: "self", SpanID: sid(3), ParentSpanID: sid(3), StartTime: t0, EndTime: t0.Add(-time.Second)}
	nan := stagetrace.TraceEvent{Name: attributes.EventMetric, RunID: "r", Time: t0, Attrs: stagetrace.Attrs{
		{Key: string(attributes.MetricName), Value: str("x")}, {Key: string(attributes.MetricValue), Value: f64(math64(0) / math64(0))},
	}}
	doc := render(t, report.FromRecords([]stagetrace.StageSpan{a, b, self}, []stagetrace.TraceEvent{nan}))
	assert.Len(t, tags(doc, map[string]string{"data-span-id": "*", "data-depth": "*"}), 3, "a cycle of parents shows each span once")
	assert.Contains(t, doc, "No metrics.", "a NaN value is no point")
}

// math64 hides constant folding from the compiler: 0/0 must be computed.
func math64(v float64) float64 { return v }
