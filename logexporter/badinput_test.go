package logexporter_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagetrace/stagetrace"
)

// TestBadInputIsOneValidLineEach emits, through the real SDK, records with
// bodies of every value type, a 1 MiB body, invalid UTF-8, severities out
// of range and invalid trace ids: each is one valid JSON line, and reads
// back as it was written (invalid UTF-8 as U+FFFD).
func TestBadInputIsOneValidLineEach(t *testing.T) {
	p := newPipeline(t)
	logger := p.lp.Logger("bad-input")
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	deep := attribute.StringValue("leaf")
	for range 80 {
		deep = attribute.SliceValue(deep)
	}
	var tid trace.TraceID
	tid[15] = 1
	sid := trace.SpanID{0, 0, 0, 0, 0, 0, 0, 9}
	validSC := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})
	noTrace := trace.NewSpanContext(trace.SpanContextConfig{SpanID: sid}) // span id, no trace id
	noSpan := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid}) // trace id, no span id
	bg := context.Background()

	cases := []struct {
		name string
		ctx  context.Context
		body attribute.Value
		sev  log.Severity
		text string
		want stagetrace.Value
	}{
		{"map", bg, attribute.MapValue(attribute.String("k", "v"), attribute.Int("n", 1)), log.SeverityInfo, "", stagetrace.MapValue(stagetrace.Attr{Key: "k", Value: stagetrace.StringValue("v")}, stagetrace.Attr{Key: "n", Value: stagetrace.IntValue(1)})},
		{"bytes", bg, attribute.ByteSliceValue([]byte{0, 0xff, '"'}), log.SeverityInfo, "", stagetrace.BytesValue([]byte{0, 0xff, '"'})},
		{"slice", bg, attribute.SliceValue(attribute.IntValue(1), attribute.StringValue("a\nb"), attribute.BoolValue(true)), log.SeverityInfo, "", stagetrace.SliceValue(stagetrace.IntValue(1), stagetrace.StringValue("a\nb"), stagetrace.BoolValue(true))},
		{"empty map", bg, attribute.MapValue(), log.SeverityInfo, "", stagetrace.MapValue()},
		{"empty", bg, attribute.Value{}, log.SeverityInfo, "", stagetrace.Value{}},
		{"float", bg, attribute.Float64Value(0.5), log.SeverityInfo, "", stagetrace.Float64Value(0.5)},
		{"1 MiB", bg, attribute.StringValue(big), log.SeverityInfo, "", stagetrace.StringValue(big)},
		{"invalid utf8", bg, attribute.StringValue("ok \xff\xfe end\u2028"), log.SeverityInfo, "\xff", stagetrace.StringValue("ok \ufffd\ufffd end\u2028")},
		{"severity above range", bg, attribute.StringValue("above"), log.Severity(99), "", stagetrace.StringValue("above")},
		{"severity below range", bg, attribute.StringValue("below"), log.Severity(-7), "error", stagetrace.StringValue("below")},
		{"no trace id", trace.ContextWithSpanContext(bg, noTrace), attribute.StringValue("no trace"), log.SeverityWarn, "", stagetrace.StringValue("no trace")},
		{"no span id", trace.ContextWithSpanContext(bg, noSpan), attribute.StringValue("no span"), log.SeverityWarn, "", stagetrace.StringValue("no span")},
		{"valid remote", trace.ContextWithSpanContext(bg, validSC), attribute.StringValue("remote"), log.SeverityWarn, "", stagetrace.StringValue("remote")},
	}
	for _, c := range cases {
		var r log.Record
		r.SetTimestamp(time.Unix(1795255200, 0))
		r.SetBody(c.body)
		r.SetSeverity(c.sev)
		r.SetSeverityText(c.text)
		r.AddAttributes(attribute.String("case", c.name))
		logger.Emit(c.ctx, r)
	}
	{
		var r log.Record
		r.SetBody(deep)
		r.AddAttributes(attribute.String("case", "deep"))
		logger.Emit(bg, r)
	}
	require.NoError(t, p.lp.ForceFlush(bg))

	raw, err := os.ReadFile(p.path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Len(t, lines, len(cases)+1, "one line each, nothing lost")
	for _, l := range lines {
		require.True(t, json.Valid([]byte(l)), "%.200s", l)
	}
	_, logs := p.lines(t)
	byCase := map[string]stagetrace.TraceEvent{}
	for _, l := range logs {
		c, _ := l.Attrs.Get("case")
		byCase[c.AsString()] = l
	}
	for _, c := range cases {
		got, ok := byCase[c.name]
		require.True(t, ok, c.name)
		assert.True(t, c.want.Equal(got.Body), "%s: body %.100s", c.name, got.Body.String())
		assert.Equal(t, int64(c.sev), got.Severity.Number, c.name)
	}
	assert.Equal(t, stagetrace.LevelCritical, byCase["severity above range"].Severity.Level())
	assert.Equal(t, stagetrace.LevelError, byCase["severity below range"].Severity.Level(), "the text decides")
	assert.Equal(t, "\ufffd", byCase["invalid utf8"].Severity.Text)

	nt := byCase["no trace id"]
	assert.Empty(t, nt.RunID, "no trace: no run")
	assert.Equal(t, stagetrace.SpanID(sid), nt.SpanID, "the span id is kept as given")
	ns := byCase["no span id"]
	assert.Equal(t, stagetrace.TraceID(tid).String(), ns.RunID, "a trace id is a run, as for spans")
	assert.False(t, ns.SpanID.IsValid())
	assert.Equal(t, stagetrace.TraceID(tid).String(), byCase["valid remote"].RunID, "a remote span is not read: its trace id")

	d := byCase["deep"]
	assert.LessOrEqual(t, stagetrace.Depth(d.Body), stagetrace.MaxDepth, "nested past the limit is truncated, not refused")
}
