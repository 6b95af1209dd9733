package stagetrace

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeverityLevel(t *testing.T) {
	for _, tc := range []struct {
		sev  Severity
		want Level
	}{
		{Severity{}, LevelUnspecified},
		{Severity{Number: 1}, LevelVerbose},
		{Severity{Number: 4, Text: "error"}, LevelVerbose}, // the number wins
		{Severity{Number: 5}, LevelDebug},
		{Severity{Number: 9}, LevelInfo},
		{Severity{Number: 13}, LevelWarn},
		{Severity{Number: 16}, LevelWarn},
		{Severity{Number: 17}, LevelError},
		{Severity{Number: 21}, LevelCritical},
		{Severity{Number: 24}, LevelCritical},
		{Severity{Number: 25}, LevelCritical},
		{Severity{Number: math.MaxInt64}, LevelCritical},
		{Severity{Number: -3}, LevelUnspecified},
		{Severity{Number: math.MinInt64, Text: "Warning"}, LevelWarn},
		{Severity{Text: "FATAL"}, LevelCritical},
		{Severity{Text: "ERROR3"}, LevelError},
		{Severity{Text: "loud"}, LevelUnspecified},
	} {
		assert.Equal(t, tc.want, tc.sev.Level(), "%+v", tc.sev)
	}
}

func TestLevelNamesRoundTrip(t *testing.T) {
	for l := LevelVerbose; l <= LevelCritical; l++ {
		got, ok := ParseLevel(strings.ToUpper(l.String()))
		require.True(t, ok, l.String())
		assert.Equal(t, l, got)
		assert.Equal(t, l, Severity{Number: l.Number()}.Level())
	}
	_, ok := ParseLevel("unspecified")
	assert.False(t, ok, "unspecified is no level a filter can name")
	assert.Equal(t, "unspecified", Level(200).String())
	assert.Equal(t, int64(0), Level(200).Number())
}

func TestLogEventLine(t *testing.T) {
	ev := TraceEvent{
		Name: LogEventName, RunID: "r-1", Stage: "inference", Time: time.Unix(1795255200, 5e8),
		Severity: Severity{Number: 13, Text: "WARN"},
		Body:     MapValue(Attr{Key: "msg", Value: StringValue("slow")}, Attr{Key: "raw", Value: BytesValue([]byte{0, 1})}),
		Attrs:    Attrs{{Key: "k", Value: IntValue(1)}},
	}
	line := string((*Encoder)(nil).AppendEvent(nil, &ev))
	assert.Equal(t, `{"type":"trace_event","name":"log","run_id":"r-1","stage":"inference","trace_id":"00000000000000000000000000000000","span_id":"","ts":1795255200.5,"severity":"warn","severity_number":13,"severity_text":"WARN","body":{"msg":"slow","raw":{"$bytes":"AAE="}},"attrs":{"k":1}}`+"\n", line)
	rec, err := DecodeLine([]byte(line))
	require.NoError(t, err)
	require.NotNil(t, rec.Event)
	assertEventEqual(t, &ev, rec.Event)

	// Other events have no log fields.
	other := TraceEvent{Name: "exception", Time: time.Unix(1, 0)}
	assert.NotContains(t, string((*Encoder)(nil).AppendEvent(nil, &other)), "severity")
	// A log event without severity or body still has every field.
	bare := TraceEvent{Name: LogEventName}
	assert.Contains(t, string((*Encoder)(nil).AppendEvent(nil, &bare)), `"severity":"unspecified","severity_number":0,"severity_text":"","body":null`)
}

func TestDecodeLogFieldsFromOtherTools(t *testing.T) {
	// Only the level: the number is the level's first.
	rec, err := DecodeLine([]byte(`{"type":"trace_event","name":"log","severity":"Error","body":"x"}`))
	require.NoError(t, err)
	assert.Equal(t, Severity{Number: 17}, rec.Event.Severity)
	assert.Equal(t, LevelError, rec.Event.Severity.Level())
	assert.Equal(t, "x", rec.Event.Body.AsString())
	// An unknown level name is no error: the field is derived.
	rec, err = DecodeLine([]byte(`{"type":"trace_event","name":"log","severity":"loud"}`))
	require.NoError(t, err)
	assert.Equal(t, Severity{}, rec.Event.Severity)

	for name, line := range map[string]string{
		"fractional number": `{"type":"trace_event","severity_number":1.5}`,
		"huge number":       `{"type":"trace_event","severity_number":9223372036854775808}`,
		"text not a string": `{"type":"trace_event","severity_text":3}`,
		"severity number":   `{"type":"trace_event","severity":3}`,
		"bad body wrapper":  `{"type":"trace_event","body":{"$bytes":"!"}}`,
	} {
		_, err := DecodeLine([]byte(line))
		assert.Error(t, err, name)
	}
}

func TestLogEventBadInputIsOneValidLine(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	for name, ev := range map[string]TraceEvent{
		"1 MiB body":   {Body: StringValue(big)},
		"invalid utf8": {Body: StringValue("a\xffb"), Severity: Severity{Text: "\xfe"}},
		"bytes":        {Body: BytesValue([]byte{0xff, 0})},
		"slice":        {Body: SliceValue(IntValue(1), StringValue("a\n"), Value{})},
		"empty slice":  {Body: SliceValue()},
		"range":        {Severity: Severity{Number: -1 << 40}},
	} {
		ev.Name = LogEventName
		line := (*Encoder)(nil).AppendEvent(nil, &ev)
		require.True(t, json.Valid(line), name)
		assert.Equal(t, 1, strings.Count(string(line), "\n"), name)
		rec, err := DecodeLine(line)
		require.NoError(t, err, name)
		assert.Equal(t, ev.Severity.Number, rec.Event.Severity.Number, name)
		if ev.Body.Kind() == KindString {
			assert.Equal(t, len([]rune(validString(ev.Body.AsString()))), len([]rune(rec.Event.Body.AsString())), name)
		}
	}
}

func TestBatchLimitDepthTruncatesBody(t *testing.T) {
	deep := StringValue("leaf")
	for range MaxDepth + 3 {
		deep = SliceValue(deep)
	}
	b := Batch{Events: []TraceEvent{{Name: LogEventName, Body: deep}}}
	require.Positive(t, b.LimitDepth())
	assert.Equal(t, MaxDepth, Depth(b.Events[0].Body))
	line := (*Encoder)(nil).AppendEvent(nil, &b.Events[0])
	_, err := DecodeLine(line)
	require.NoError(t, err)
}

// The log event line the README shows is what the encoder writes.
func TestReadmeLogLine(t *testing.T) {
	line := `{"type":"trace_event","name":"log","run_id":"r-42","stage":"inference","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","ts":1795255200.0125,"severity":"warn","severity_number":13,"severity_text":"WARN","body":"rate limited: retrying","attrs":{"retry_after_ms":20,"otel.scope.name":"chatbot"}}`
	rec, err := DecodeLine([]byte(line))
	require.NoError(t, err)
	assert.Equal(t, line+"\n", string((*Encoder)(nil).AppendEvent(nil, rec.Event)))
}
