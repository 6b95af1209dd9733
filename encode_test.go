package stagetrace

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	goldenSpanLine  = `{"type":"stage_span","run_id":"r-42","stage":"inference","name":"chat gpt-4o","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":"","start_time":"2026-11-22T10:00:00.000000001Z","end_time":"2026-11-22T10:00:00.012500001Z","elapsed_ms":12.5,"status":"ok","status_message":"","span_kind":"client","attrs":{"gen_ai.request.model":"gpt-4o"},"findings":{"input_tokens":812,"output_tokens":95},"resource":{"service.name":"chatbot"},"scope":"chatbot/llm"}` + "\n"
	goldenEventLine = `{"type":"trace_event","name":"exception","run_id":"r-42","stage":"inference","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","ts":1795255200.0125,"attrs":{"exception.message":"rate limited"}}` + "\n"
)

func mustTraceID(t testing.TB, s string) TraceID {
	var id TraceID
	n, err := hex.Decode(id[:], []byte(s))
	require.NoError(t, err)
	require.Equal(t, len(id), n)
	return id
}

func mustSpanID(t testing.TB, s string) SpanID {
	var id SpanID
	n, err := hex.Decode(id[:], []byte(s))
	require.NoError(t, err)
	require.Equal(t, len(id), n)
	return id
}

func goldenSpan(t testing.TB) *StageSpan {
	start := time.Date(2026, 11, 22, 10, 0, 0, 1, time.UTC)
	return &StageSpan{
		RunID:     "r-42",
		Stage:     "inference",
		Name:      "chat gpt-4o",
		TraceID:   mustTraceID(t, "4bf92f3577b34da6a3ce929d0e0e4736"),
		SpanID:    mustSpanID(t, "00f067aa0ba902b7"),
		StartTime: start,
		EndTime:   start.Add(12500 * time.Microsecond),
		Status:    StatusOK,
		Kind:      SpanKindClient,
		Attrs:     Attrs{{Key: "gen_ai.request.model", Value: StringValue("gpt-4o")}},
		Findings: Attrs{
			{Key: "input_tokens", Value: IntValue(812)},
			{Key: "output_tokens", Value: IntValue(95)},
		},
		Resource: &Resource{Attrs: Attrs{{Key: "service.name", Value: StringValue("chatbot")}}},
		Scope:    "chatbot/llm",
	}
}

func goldenEvent(t testing.TB) *TraceEvent {
	return &TraceEvent{
		Name:    "exception",
		RunID:   "r-42",
		Stage:   "inference",
		TraceID: mustTraceID(t, "4bf92f3577b34da6a3ce929d0e0e4736"),
		SpanID:  mustSpanID(t, "00f067aa0ba902b7"),
		Time:    time.Unix(1795255200, 12500000),
		Attrs:   Attrs{{Key: "exception.message", Value: StringValue("rate limited")}},
	}
}

func TestEncoderGolden(t *testing.T) {
	var e Encoder
	assert.Equal(t, goldenSpanLine, string(e.AppendSpan(nil, goldenSpan(t))))
	assert.Equal(t, goldenEventLine, string(e.AppendEvent(nil, goldenEvent(t))))
	// The second span of a resource comes from the cache: same bytes.
	assert.Equal(t, goldenSpanLine, string(e.AppendSpan(nil, goldenSpan(t))))
}

func TestEncoderAppendsToDst(t *testing.T) {
	var e Encoder
	dst := e.AppendSpan([]byte("x"), goldenSpan(t))
	dst = e.AppendEvent(dst, goldenEvent(t))
	assert.Equal(t, "x"+goldenSpanLine+goldenEventLine, string(dst))
}

func TestEncoderResourceCacheIsBounded(t *testing.T) {
	var e Encoder
	s := goldenSpan(t)
	for i := range 3 * maxCachedResources {
		s.Resource = &Resource{Attrs: Attrs{{Key: "i", Value: IntValue(i)}}}
		line := e.AppendSpan(nil, s)
		assert.Contains(t, string(line), `"resource":{"i":`)
		assert.LessOrEqual(t, len(e.resources), maxCachedResources)
	}
}

func TestEncoderZeroValues(t *testing.T) {
	var e Encoder
	line := e.AppendSpan(nil, &StageSpan{})
	assert.Equal(t, `{"type":"stage_span","run_id":"","stage":"","name":"","trace_id":"00000000000000000000000000000000","span_id":"","parent_span_id":"","start_time":"0001-01-01T00:00:00.000000000Z","end_time":"0001-01-01T00:00:00.000000000Z","elapsed_ms":0,"status":"unset","status_message":"","span_kind":"unspecified","attrs":{},"findings":{},"resource":{},"scope":""}`+"\n", string(line))
	rec, err := DecodeLine(line)
	require.NoError(t, err)
	require.NotNil(t, rec.Span)
	assert.Equal(t, StageSpan{}, *rec.Span)

	line = e.AppendEvent(nil, &TraceEvent{})
	assert.Equal(t, `{"type":"trace_event","name":"","run_id":"","stage":"","trace_id":"00000000000000000000000000000000","span_id":"","ts":-62135596800,"attrs":{}}`+"\n", string(line))
	rec, err = DecodeLine(line)
	require.NoError(t, err)
	require.NotNil(t, rec.Event)
	assert.True(t, rec.Event.Time.IsZero())
	assert.Equal(t, TraceEvent{}, *rec.Event)
}

func TestEncoderEmptyResourceIsEmptyObject(t *testing.T) {
	var e Encoder
	s := goldenSpan(t)
	s.Resource = &Resource{}
	line := e.AppendSpan(nil, s)
	assert.Contains(t, string(line), `"resource":{},`)
	rec, err := DecodeLine(line)
	require.NoError(t, err)
	assert.Nil(t, rec.Span.Resource, "an empty resource reads back as none")
}

func TestEncodeUnixTime(t *testing.T) {
	enc := &Encoder{}
	for _, tc := range []struct {
		sec, nsec int64
		want      string
	}{
		{0, 0, "0"},
		{1795255200, 12500000, "1795255200.0125"},
		{1795255200, 1, "1795255200.000000001"},
		{1795255200, 999999999, "1795255200.999999999"},
		{-1, 0, "-1"},
		{-1, 500000000, "-0.5"},
		{-2, 750000000, "-1.25"},
		{0, -1, "-0.000000001"},
		{math.MaxInt64 >> 2, 0, "2305843009213693951"},
		{1795255200, 5, "1795255200.000000005"},
		{1795255201, 5, "1795255201.000000005"},
		{0, 5, "0.000000005"},
	} {
		tm := time.Unix(tc.sec, tc.nsec)
		got := string(appendUnixTime(nil, tm))
		assert.Equal(t, tc.want, got)
		// An Encoder keeps the digits of the last second: the same
		// time twice reuses them, the next case replaces them.
		assert.Equal(t, tc.want, string(enc.appendUnixTime(nil, tm)))
		assert.Equal(t, tc.want, string(enc.appendUnixTime([]byte{}, tm)))
		assert.Equal(t, tc.want, string((*Encoder)(nil).appendUnixTime(nil, tm)))
		back, ok := parseUnixTime([]byte(got))
		if assert.True(t, ok, got) {
			assert.True(t, tm.Equal(back), "%s: got %v, want %v", got, back, tm)
		}
	}
}

// appendNanos writes the digits of appendDigits without the trailing zeros,
// for every count of them and values drawn across the second.
func TestAppendNanosMatchesAppendDigits(t *testing.T) {
	want := func(nsec int64) string {
		if nsec == 0 {
			return ""
		}
		return "." + strings.TrimRight(string(appendDigits(nil, int(nsec), 9)), "0")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 100000 {
		nsec := r.Int64N(1e9)
		if i < 20 {
			nsec = [...]int64{0, 1, 9, 10, 99, 100, 5e8, 1e8, 999999999, 123456789, 120000000, 100000001,
				10, 1000, 100000, 10000000, 7, 70, 700000, 999000000}[i]
		}
		require.Equal(t, want(nsec), string(appendNanos(nil, nsec)), "%d", nsec)
	}
}

// valueCases covers every Kind and the edges of the format.
func valueCases() map[string]Value {
	big := strings.Repeat("abcdefgh", 1<<17) // 1 MiB
	otherNaN := math.Float64frombits(0xfff8000000000000)
	return map[string]Value{
		"empty":               {},
		"true":                BoolValue(true),
		"false":               BoolValue(false),
		"int zero":            Int64Value(0),
		"int max":             Int64Value(math.MaxInt64),
		"int min":             Int64Value(math.MinInt64),
		"int negative":        Int64Value(-42),
		"float zero":          Float64Value(0),
		"float negative zero": Float64Value(math.Copysign(0, -1)),
		"float integral":      Float64Value(3),
		"float fraction":      Float64Value(1.5),
		"float 1e300":         Float64Value(1e300),
		"float -1e300":        Float64Value(-1e300),
		"float 1e20":          Float64Value(1e20),
		"float 1e21":          Float64Value(1e21),
		"float 1e-7":          Float64Value(1e-7),
		"float max":           Float64Value(math.MaxFloat64),
		"float smallest":      Float64Value(math.SmallestNonzeroFloat64),
		"float NaN":           Float64Value(math.NaN()),
		"float other NaN":     Float64Value(otherNaN),
		"float +Inf":          Float64Value(math.Inf(1)),
		"float -Inf":          Float64Value(math.Inf(-1)),
		"string empty":        StringValue(""),
		"string":              StringValue("hello, world"),
		"string control":      StringValue("\x00\x01\b\f\n\r\t\x1f\x7f end"),
		"string quotes":       StringValue(`"quoted" \back\slash\ /`),
		"string separators":   StringValue("a\u2028b\u2029c"),
		"string unicode":      StringValue("héllo 世界 🎉 \ufffd"),
		"string wrapper-like": StringValue(`{"$float":"NaN"}`),
		"string 1 MiB":        StringValue(big),
		"bytes nil":           BytesValue(nil),
		"bytes":               BytesValue([]byte{0, 1, 2, 0xfe, 0xff, '"', '\\'}),
		"bool[] empty":        BoolSliceValue([]bool{}),
		"bool[]":              BoolSliceValue([]bool{true, false, true}),
		"int64[] empty":       Int64SliceValue(nil),
		"int64[]":             Int64SliceValue([]int64{math.MinInt64, 0, math.MaxInt64}),
		"float64[] empty":     Float64SliceValue([]float64{}),
		"float64[]":           Float64SliceValue([]float64{1, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e300, otherNaN}),
		"float64[] one NaN":   Float64SliceValue([]float64{math.NaN()}),
		"string[] empty":      StringSliceValue([]string{}),
		"string[]":            StringSliceValue([]string{"a", "", "\n"}),
		"slice empty":         SliceValue(),
		"slice all ints":      SliceValue(IntValue(1), IntValue(2)),
		"slice all floats":    SliceValue(Float64Value(1), Float64Value(math.NaN())),
		"slice all strings":   SliceValue(StringValue("a")),
		"slice all bools":     SliceValue(BoolValue(true)),
		"slice int and float": SliceValue(IntValue(1), Float64Value(1)),
		"slice mixed":         SliceValue(Value{}, BoolValue(true), IntValue(1), Float64Value(2.5), StringValue("s"), BytesValue([]byte("b"))),
		"slice of empties":    SliceValue(Value{}, Value{}),
		"slice of bytes":      SliceValue(BytesValue([]byte("a")), BytesValue(nil)),
		"slice nested":        SliceValue(SliceValue(), SliceValue(IntValue(1)), Int64SliceValue(nil), MapValue()),
		"map empty":           MapValue(),
		"map":                 MapValue(Attr{"a", IntValue(1)}, Attr{"b", StringValue("x")}),
		"map key $float":      MapValue(Attr{"$float", StringValue("NaN")}),
		"map key $map":        MapValue(Attr{"$map", MapValue(Attr{"$x", IntValue(1)})}),
		"map key $":           MapValue(Attr{"$", Value{}}),
		"map two $ keys":      MapValue(Attr{"$float", StringValue("NaN")}, Attr{"$bytes", IntValue(1)}),
		"map first key $":     MapValue(Attr{"$slice", IntValue(1)}, Attr{"b", IntValue(2)}),
		"map odd keys":        MapValue(Attr{"", IntValue(1)}, Attr{"\x00\n\"", IntValue(2)}, Attr{"\u2028", IntValue(3)}),
		"map nested":          MapValue(Attr{"m", MapValue(Attr{"s", SliceValue(MapValue(Attr{"$bytes", BytesValue([]byte{1})}))})}),
	}
}

// encodeValue encodes v as an attribute and a finding of a span, and as an
// attribute of an event, decodes all three and checks they agree.
func roundTripValue(t *testing.T, v Value) (line []byte, got Value) {
	t.Helper()
	var e Encoder
	s := goldenSpan(t)
	s.Attrs = Attrs{{Key: "v", Value: v}}
	s.Findings = Attrs{{Key: "v", Value: v}}
	line = e.AppendSpan(nil, s)
	require.True(t, json.Valid(line), "invalid JSON: %.200s", line)
	rec, err := DecodeLine(line)
	require.NoError(t, err)
	require.NotNil(t, rec.Span)
	require.Len(t, rec.Span.Attrs, 1)
	require.Len(t, rec.Span.Findings, 1)
	got = rec.Span.Attrs[0].Value
	assert.True(t, got.Equal(rec.Span.Findings[0].Value))
	assert.Equal(t, string(line), string(e.AppendSpan(nil, rec.Span)), "decode then encode changed the line")

	ev := goldenEvent(t)
	ev.Attrs = Attrs{{Key: "v", Value: v}}
	evLine := e.AppendEvent(nil, ev)
	require.True(t, json.Valid(evLine))
	rec, err = DecodeLine(evLine)
	require.NoError(t, err)
	require.NotNil(t, rec.Event)
	require.Len(t, rec.Event.Attrs, 1)
	assert.True(t, got.Equal(rec.Event.Attrs[0].Value))
	return line, got
}

func TestValueRoundTrip(t *testing.T) {
	for name, v := range valueCases() {
		t.Run(name, func(t *testing.T) {
			_, got := roundTripValue(t, v)
			assert.True(t, v.Equal(got), "got %#v, want %#v", got, v)
			assert.Equal(t, v.Kind(), got.Kind())
		})
	}
}

func TestValueRoundTripNested(t *testing.T) {
	// Every case inside a slice, a typed-looking slice and a map, so the
	// wrappers meet every kind of neighbour.
	var all []Value
	var kvs []Attr
	for name, v := range valueCases() {
		if strings.HasPrefix(name, "string 1 MiB") {
			continue
		}
		all = append(all, v)
		kvs = append(kvs, Attr{Key: name, Value: v})
		for _, w := range []Value{SliceValue(v), SliceValue(v, v), MapValue(Attr{"$k", v}), MapValue(Attr{"k", v})} {
			_, got := roundTripValue(t, w)
			assert.True(t, w.Equal(got), "%s: got %#v, want %#v", name, got, w)
		}
	}
	for _, w := range []Value{SliceValue(all...), MapValue(kvs...), MapValue(Attr{"$all", SliceValue(all...)})} {
		_, got := roundTripValue(t, w)
		assert.True(t, w.Equal(got))
	}
}

func TestValueDeeplyNested(t *testing.T) {
	// Down to MaxDepth a value round-trips exactly; past it, it comes back
	// truncated as LimitDepth truncates it.
	v := IntValue(1)
	for i := range 500 {
		if i%2 == 0 {
			v = SliceValue(v)
		} else {
			v = MapValue(Attr{"$m", v})
		}
		if i+1 == MaxDepth {
			_, got := roundTripValue(t, v)
			assert.True(t, v.Equal(got), "at the limit")
		}
	}
	_, got := roundTripValue(t, v)
	want, n := LimitDepth(v)
	assert.Equal(t, 1, n)
	assert.True(t, want.Equal(got), "past the limit")
}

func TestValueJSONForms(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{Value{}, `null`},
		{BoolValue(true), `true`},
		{Int64Value(math.MinInt64), `-9223372036854775808`},
		{Float64Value(3), `3.0`},
		{Float64Value(math.Copysign(0, -1)), `-0.0`},
		{Float64Value(1e20), `100000000000000000000.0`},
		{Float64Value(1e21), `1e+21`},
		{Float64Value(1e-7), `1e-7`},
		{Float64Value(0.000001), `0.000001`},
		{Float64Value(math.NaN()), `{"$float":"NaN"}`},
		{Float64Value(math.Float64frombits(0xfff8000000000000)), `{"$float":"NaN(0xfff8000000000000)"}`},
		{Float64Value(math.Inf(1)), `{"$float":"Infinity"}`},
		{Float64Value(math.Inf(-1)), `{"$float":"-Infinity"}`},
		{StringValue("a\"\\\n\t\r\b\f\x00\x1f\u2028\u2029\x7f<>&é"), `"a\"\\\n\t\r\b\f\u0000\u001f\u2028\u2029` + "\x7f<>&é\""},
		{StringValue("a\xffb\xc3"), "\"a\ufffdb\ufffd\""},
		{BytesValue([]byte("hi!")), `{"$bytes":"aGkh"}`},
		{BoolSliceValue(nil), `{"$bool[]":[]}`},
		{Int64SliceValue([]int64{}), `{"$int64[]":[]}`},
		{Float64SliceValue(nil), `{"$float64[]":[]}`},
		{StringSliceValue(nil), `{"$string[]":[]}`},
		{Int64SliceValue([]int64{1, -2}), `[1,-2]`},
		{Float64SliceValue([]float64{1, math.Inf(1)}), `[1.0,{"$float":"Infinity"}]`},
		{SliceValue(), `{"$slice":[]}`},
		{SliceValue(IntValue(1), IntValue(2)), `{"$slice":[1,2]}`},
		{SliceValue(IntValue(1), Float64Value(2)), `[1,2.0]`},
		{SliceValue(Value{}), `[null]`},
		{MapValue(), `{}`},
		{MapValue(Attr{"$float", StringValue("NaN")}), `{"$map":{"$float":"NaN"}}`},
		{MapValue(Attr{"a", IntValue(1)}, Attr{"$b", IntValue(2)}), `{"a":1,"$b":2}`},
		// One key given twice reads as a map of one member, so it is
		// wrapped as one; invalid bytes are written as U+FFFD, so they count.
		{MapValue(Attr{"$", IntValue(1)}, Attr{"$", Value{}}), `{"$map":{"$":1,"$":null}}`},
		{MapValue(Attr{"$\xff", IntValue(1)}, Attr{"$\ufffd", IntValue(2)}), "{\"$map\":{\"$\ufffd\":1,\"$\ufffd\":2}}"},
		{MapValue(Attr{"$a", IntValue(1)}, Attr{"$b", IntValue(2)}), `{"$a":1,"$b":2}`},
	} {
		assert.Equal(t, tc.want, string(appendValue(nil, tc.v)), "%#v", tc.v)
		assert.True(t, json.Valid(appendValue(nil, tc.v)), tc.want)
	}
}

// TestDuplicateWrapperKeyRoundTrips checks that a map holding one
// wrapper-like key twice decodes as the map of that key's last value, not
// as a wrapper (a fuzzer's find: the line was refused as "unknown wrapper").
func TestDuplicateWrapperKeyRoundTrips(t *testing.T) {
	v := MapValue(Attr{"$", MapValue(Attr{"$float", StringValue("x")})}, Attr{"$", Value{}})
	want := MapValue(Attr{"$", Value{}})
	var e Encoder
	s := goldenSpan(t)
	s.Attrs = Attrs{{Key: "v", Value: v}}
	rec, err := DecodeLine(e.AppendSpan(nil, s))
	require.NoError(t, err)
	require.NotNil(t, rec.Span)
	require.Len(t, rec.Span.Attrs, 1)
	assert.True(t, want.Equal(rec.Span.Attrs[0].Value), "got %#v", rec.Span.Attrs[0].Value)
	_, got := roundTripValue(t, want)
	assert.True(t, want.Equal(got), "the map of one member round-trips")
}

func TestValueStringUsesJSON(t *testing.T) {
	assert.Equal(t, `[1,2]`, Int64SliceValue([]int64{1, 2}).String())
	assert.Equal(t, `{"a":true}`, MapValue(Attr{"a", BoolValue(true)}).String())
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	var e Encoder
	s := goldenSpan(t)
	s.RunID = "run\xff"
	s.Name = "\xc3\x28"
	s.Attrs = Attrs{{Key: "k\xfe", Value: StringValue("v\xed\xa0\x80")}}
	line := e.AppendSpan(nil, s)
	require.True(t, json.Valid(line))
	rec, err := DecodeLine(line)
	require.NoError(t, err)
	assert.Equal(t, "run\ufffd", rec.Span.RunID)
	assert.Equal(t, "\ufffd(", rec.Span.Name)
	want := Attrs{{Key: "k\ufffd", Value: StringValue("v\ufffd\ufffd\ufffd")}} // a surrogate's three bytes
	assert.True(t, want.Equal(rec.Span.Attrs), "got %#v", rec.Span.Attrs)
}

func TestLinesAreValidJSONWithTheFieldNames(t *testing.T) {
	spanFields := []string{"type", "run_id", "stage", "name", "trace_id", "span_id", "parent_span_id",
		"start_time", "end_time", "elapsed_ms", "status", "status_message", "span_kind", "attrs",
		"findings", "resource", "scope"}
	eventFields := []string{"type", "name", "run_id", "stage", "trace_id", "span_id", "ts", "attrs"}
	var e Encoder
	for name, v := range valueCases() {
		s := goldenSpan(t)
		s.Attrs = Attrs{{Key: name, Value: v}}
		ev := goldenEvent(t)
		ev.Attrs = s.Attrs
		for _, tc := range []struct {
			line   []byte
			fields []string
		}{{e.AppendSpan(nil, s), spanFields}, {e.AppendEvent(nil, ev), eventFields}} {
			require.True(t, json.Valid(tc.line), "%s: %.200s", name, tc.line)
			var m map[string]any
			require.NoError(t, json.Unmarshal(tc.line, &m))
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			want := append([]string(nil), tc.fields...)
			sort.Strings(keys)
			sort.Strings(want)
			assert.Equal(t, want, keys, name)
			attrs, ok := m["attrs"].(map[string]any)
			if assert.True(t, ok) {
				assert.Contains(t, attrs, name)
			}
		}
	}
}

func TestMarshalJSON(t *testing.T) {
	s, ev := goldenSpan(t), goldenEvent(t)
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSuffix(goldenSpanLine, "\n"), string(b))
	b, err = json.Marshal(ev)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSuffix(goldenEventLine, "\n"), string(b))

	type both struct {
		Spans  []StageSpan
		Events []TraceEvent
		Ptr    *StageSpan
	}
	in := both{Spans: []StageSpan{*s, {}}, Events: []TraceEvent{*ev}}
	b, err = json.Marshal(in)
	require.NoError(t, err)
	var out both
	require.NoError(t, json.Unmarshal(b, &out))
	require.Len(t, out.Spans, 2)
	require.Len(t, out.Events, 1)
	assert.Nil(t, out.Ptr)
	assertSpanEqual(t, s, &out.Spans[0])
	assertSpanEqual(t, &StageSpan{}, &out.Spans[1])
	assertEventEqual(t, ev, &out.Events[0])

	var wrong TraceEvent
	err = json.Unmarshal([]byte(goldenSpanLine), &wrong)
	assert.ErrorContains(t, err, "not a trace_event")
	var bad StageSpan
	err = json.Unmarshal([]byte(`{"type":"stage_span","trace_id":"x"}`), &bad)
	assert.ErrorContains(t, err, "trace id")
}

func TestEncoderAllocs(t *testing.T) {
	var e Encoder
	s, ev := benchSpan(), goldenEvent(t)
	buf := make([]byte, 0, 4096)
	buf = e.AppendSpan(buf, s)
	allocs := testing.AllocsPerRun(100, func() {
		buf = e.AppendSpan(buf[:0], s)
		buf = e.AppendEvent(buf, ev)
	})
	assert.Zero(t, allocs)
}

func benchSpan() *StageSpan {
	start := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	res := &Resource{Attrs: Attrs{
		{Key: "service.name", Value: StringValue("chatbot")},
		{Key: "service.version", Value: StringValue("1.4.2")},
		{Key: "host.name", Value: StringValue("worker-7")},
	}}
	return &StageSpan{
		RunID:        "run-2026-11-22-0042",
		Stage:        "inference",
		Name:         "chat gpt-4o",
		TraceID:      TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:       SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		ParentSpanID: SpanID{0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8},
		StartTime:    start,
		EndTime:      start.Add(812345678 * time.Nanosecond),
		Status:       StatusOK,
		Kind:         SpanKindClient,
		Attrs: Attrs{
			{Key: "gen_ai.system", Value: StringValue("openai")},
			{Key: "gen_ai.request.model", Value: StringValue("gpt-4o")},
			{Key: "gen_ai.request.temperature", Value: Float64Value(0.7)},
			{Key: "gen_ai.request.max_tokens", Value: IntValue(1024)},
			{Key: "gen_ai.request.stream", Value: BoolValue(false)},
			{Key: "gen_ai.response.finish_reasons", Value: StringSliceValue([]string{"stop"})},
			{Key: "http.response.status_code", Value: IntValue(200)},
			{Key: "user.prompt", Value: StringValue("Summarize \"the report\"\nin 3 bullet points.")},
		},
		Findings: Attrs{
			{Key: "input_tokens", Value: IntValue(812)},
			{Key: "output_tokens", Value: IntValue(95)},
			{Key: "latency_ok", Value: BoolValue(true)},
		},
		Resource: res,
		Scope:    "chatbot/llm",
	}
}

func BenchmarkEncoderAppendSpan(b *testing.B) {
	var e Encoder
	s := benchSpan()
	buf := e.AppendSpan(nil, s)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendSpan(buf[:0], s)
	}
}

func BenchmarkEncoderAppendEvent(b *testing.B) {
	var e Encoder
	ev := goldenEvent(b)
	buf := e.AppendEvent(nil, ev)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendEvent(buf[:0], ev)
	}
}

func TestAppendTimeMatchesAppendFormat(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 22, 10, 0, 0, 1, time.FixedZone("x", 5*3600+1800)),
		time.Unix(1<<40, 123).In(time.Local),
		time.Now(), // with a monotonic reading
	} {
		want := tm.UTC().AppendFormat(nil, timeLayout)
		assert.Equal(t, string(want), string(appendTime(nil, tm)))
	}
	// Every part of the text at each of its values: times drawn over the
	// four-digit years, and every year's first instant.
	r := rand.New(rand.NewPCG(3, 4))
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for i := range 200000 {
		tm := time.Unix(lo+r.Int64N(hi-lo+1), r.Int64N(1e9)).UTC()
		if i < 10000 {
			tm = time.Date(i, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		want := tm.AppendFormat(nil, timeLayout)
		require.Equal(t, string(want), string(appendTime(nil, tm)), "%v", tm)
	}
}

// The Encoder remembers plain keys two to a hash: keys that hash alike,
// hostile ones among them, must each be written as the Encoder without
// memory writes them, whichever were seen before and in whatever order.
func TestEncoderKeyMemoWritesKeysAsWithout(t *testing.T) {
	// Of one length, with the same middle and last bytes: one hash.
	var keys []string
	for _, c := range []string{"a", "b", "c", "\"", "\\", "\n", "\x00", "\xff", "\u2028"[:1], "d"} {
		keys = append(keys, c+"bc.mid.xyz")
	}
	enc := &Encoder{}
	for round := range 3 {
		for i := range keys {
			// Each round in another order, so that every key meets every
			// other in both places of its hash.
			k := keys[(i*(round+1)+round)%len(keys)]
			attrs := Attrs{{Key: k, Value: IntValue(1)}, {Key: keys[0], Value: IntValue(2)}}
			want := appendAttrs(nil, attrs)
			// Twice, as a span's keys come again in the next span: the
			// second time is read from the memory where a key is kept.
			for range 2 {
				assert.Equal(t, string(want), string(enc.appendAttrs(nil, attrs)), "%q", k)
			}
		}
	}
}

// An Encoder keeps the text of the last whole second of a span time: the
// same second again reuses it, another replaces it, and a year it cannot
// keep (past 9999, before 1970) leaves nothing stale behind.
func TestEncoderAppendTimeKeepsTheLastSecond(t *testing.T) {
	base := time.Date(2026, 12, 6, 19, 4, 5, 0, time.UTC)
	enc := &Encoder{}
	for _, tm := range []time.Time{
		base.Add(123),
		base.Add(999999999),
		base.Add(time.Second),
		base.Add(-time.Nanosecond),
		base.Add(7).In(time.FixedZone("x", 5*3600+1800)),
		time.Date(10000, 1, 1, 0, 0, 0, 5, time.UTC),
		base.Add(8),
		time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC),
		base.Add(9),
		time.Unix(base.Unix(), 10), // with no location
		time.Now(),
	} {
		want := tm.UTC().AppendFormat(nil, timeLayout)
		assert.Equal(t, string(want), string(enc.appendTime(nil, tm)), "%v", tm)
		assert.Equal(t, string(want), string(enc.appendTime([]byte("x"), tm))[1:], "%v", tm)
		assert.Equal(t, string(want), string((*Encoder)(nil).appendTime(nil, tm)), "%v", tm)
	}
}

// TestSafePrefixStopsAtEveryUnsafeByte puts each byte value at each place
// of strings otherwise safe, of every length up to three words: safePrefix
// must stop at the word holding the first byte appendString escapes or
// decodes (not jsonSafe ASCII), take the whole of a safe string of a word
// or more, and appendString must write what it writes byte by byte.
func TestSafePrefixStopsAtEveryUnsafeByte(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for pos := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("abcdefgh", 3)[:n])
				b[pos] = byte(c)
				s := string(b)
				var want int
				switch {
				case c >= utf8.RuneSelf || !jsonSafe[c]:
					want = pos / 8 * 8
				case n >= 8:
					want = n
				}
				require.Equal(t, want, safePrefix(s), "byte %#x at %d of %d", c, pos, n)
				assert.Equal(t, appendStringBytewise(s), string(appendString(nil, s)), "byte %#x at %d of %d", c, pos, n)
			}
		}
	}
}

// appendStringBytewise is appendString as it reads a string byte by
// byte, its reference.
func appendStringBytewise(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				b.WriteByte(c)
			} else {
				b.Write(appendEscapedASCII(nil, c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString("\ufffd")
		case r == '\u2028' || r == '\u2029':
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// exportBatch returns 512 spans and their events as the exporter maps the
// spans of BenchmarkExportPaired (integration): six attributes, two
// findings, one resource, one metric event each, a few microseconds long.
func exportBatch() ([]StageSpan, []TraceEvent) {
	res := &Resource{Attrs: Attrs{{Key: "service.name", Value: StringValue("bench")}}}
	base := time.Date(2026, 12, 6, 20, 4, 52, 168184274, time.UTC)
	trace := TraceID{0x1f, 0xf0, 0x27, 0xa3, 0xbe, 0xbe, 0xe4, 0xd2, 0x8b, 0xa1, 0x69, 0xa0, 0x38, 0x05, 0x6d, 0xa4}
	parent := SpanID{0xbf, 0x8d, 0xab, 0x20, 0xa7, 0x67, 0xcc, 0x87}
	spans := make([]StageSpan, 512)
	events := make([]TraceEvent, 512)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range spans {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		var id SpanID
		for j := range id {
			id[j] = byte(x >> (8 * j))
		}
		start := base.Add(time.Duration(i) * 5123 * time.Nanosecond)
		end := start.Add(time.Duration(900 + x%3500))
		spans[i] = StageSpan{
			RunID: "r-42", Stage: "inference", Name: "chat gpt-4o",
			TraceID: trace, SpanID: id, ParentSpanID: parent,
			StartTime: start, EndTime: end, Kind: SpanKindClient,
			Attrs: Attrs{
				{Key: "gen_ai.request.model", Value: StringValue("gpt-4o")},
				{Key: "gen_ai.operation.name", Value: StringValue("chat")},
				{Key: "llm.attempt", Value: IntValue(1)},
				{Key: "llm.temperature", Value: Float64Value(0.2)},
				{Key: "llm.stream", Value: BoolValue(false)},
				{Key: "gen_ai.response.finish_reasons", Value: StringSliceValue([]string{"stop"})},
			},
			Findings: Attrs{
				{Key: "input_tokens", Value: IntValue(800 + i)},
				{Key: "output_tokens", Value: IntValue(95)},
			},
			Resource: res,
			Scope:    "bench/llm",
		}
		events[i] = TraceEvent{
			Name: "metric", RunID: "r-42", Stage: "inference", TraceID: trace, SpanID: id,
			Time: start.Add(3000),
			Attrs: Attrs{
				{Key: "metric.name", Value: StringValue("time_to_first_token")},
				{Key: "metric.value", Value: Float64Value(41.5)},
				{Key: "metric.unit", Value: StringValue("ms")},
			},
		}
	}
	return spans, events
}

// BenchmarkEncoderExportBatch encodes the records of one exported batch of
// 512 spans, as the JSONL sink does, into a warm buffer.
func BenchmarkEncoderExportBatch(b *testing.B) {
	spans, events := exportBatch()
	var e Encoder
	var buf []byte
	encode := func() {
		buf = buf[:0]
		for i := range spans {
			buf = e.AppendSpan(buf, &spans[i])
		}
		for i := range events {
			buf = e.AppendEvent(buf, &events[i])
		}
	}
	encode()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		encode()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
}

// variedBatch is n spans that vary as a pipeline's do: runs of 8 spans,
// each run its own trace; stages, four models, token counts, response
// ids, temperatures and finish reasons drawn from a fixed seed. Little but
// the model and the operation repeats from one span to the next.
func variedBatch(n int) []StageSpan {
	r := rand.New(rand.NewPCG(1, 2))
	res := &Resource{Attrs: Attrs{{Key: "service.name", Value: StringValue("chatbot")}}}
	stages := []string{"retrieval", "inference", "inference", "inference", "inference", "inference", "evaluation", ""}
	models := []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "llama-3.1-70b"}
	finish := [][]string{{"stop"}, {"length"}, {"tool_calls"}, {"stop", "stop"}}
	base := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	out := make([]StageSpan, n)
	for i := range out {
		var tid TraceID
		binary.BigEndian.PutUint64(tid[:8], uint64(i/8))
		binary.BigEndian.PutUint64(tid[8:], r.Uint64())
		var sid SpanID
		binary.BigEndian.PutUint64(sid[:], r.Uint64())
		m := models[r.IntN(len(models))]
		start := base.Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
		out[i] = StageSpan{
			RunID: fmt.Sprintf("run-%06d", i/8), Stage: stages[i%8], Name: "chat " + m,
			TraceID: tid, SpanID: sid, StartTime: start, EndTime: start.Add(time.Duration(r.Int64N(int64(3 * time.Second)))),
			Kind: SpanKindClient, Resource: res, Scope: "openai",
			Attrs: Attrs{
				{Key: "gen_ai.request.model", Value: StringValue(m)},
				{Key: "gen_ai.operation.name", Value: StringValue("chat")},
				{Key: "gen_ai.response.id", Value: StringValue(fmt.Sprintf("chatcmpl-%016x", r.Uint64()))},
				{Key: "llm.attempt", Value: IntValue(1 + r.IntN(3))},
				{Key: "llm.temperature", Value: Float64Value(float64(r.IntN(10)) / 10)},
				{Key: "llm.stream", Value: BoolValue(r.IntN(2) == 0)},
				{Key: "gen_ai.response.finish_reasons", Value: StringSliceValue(finish[r.IntN(len(finish))])},
			},
			Findings: Attrs{
				{Key: "input_tokens", Value: IntValue(100 + r.IntN(10000))},
				{Key: "output_tokens", Value: IntValue(10 + r.IntN(1000))},
			},
		}
	}
	return out
}

// BenchmarkEncoderVariedBatch encodes 512 spans of variedBatch into a warm
// buffer: the encoder's cost on records that share little, where
// BenchmarkEncoderExportBatch's share all but one value.
func BenchmarkEncoderVariedBatch(b *testing.B) {
	spans := variedBatch(512)
	var e Encoder
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for i := range spans {
			buf = e.AppendSpan(buf, &spans[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
}

// appendFloatStrconv is appendFloat as strconv alone writes it, which the
// decimal fast path of appendFloat must match byte for byte.
func appendFloatStrconv(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return string(appendFloat(nil, f))
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return string(appendFloat(nil, f))
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func TestAppendFloatMatchesStrconv(t *testing.T) {
	floats := []float64{0.2, 41.5, 0.1 + 0.2, 1, 10, 100, 1e14, 1e15 - 1, 1e15, 1e15 + 1, 999999999999999.9,
		123456789012345, 12345678901234.5, 1e-6, 1.5e-6, 0.000001234, 0.999999, 1 - 1e-16,
		math.Nextafter(0.2, 1), math.Nextafter(0.2, 0), 4503599627370496.5, 9007199254740993,
		0.12345678, 0.123456789, 1.0000001, 3.14159265358979, math.MaxInt64, 1e20, 1e21 - 1}
	x := uint64(1)
	for range 20000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		// Decimals of a few digits scaled by powers of ten, and random bits.
		floats = append(floats, float64(x%100000)/math.Pow(10, float64(x>>20%12)), math.Float64frombits(x))
	}
	for _, f := range floats {
		for _, g := range []float64{f, -f} {
			require.Equal(t, appendFloatStrconv(g), string(appendFloat(nil, g)), "%b", g)
		}
	}
}

func TestAppendElapsedMSMatchesStrconv(t *testing.T) {
	ds := []time.Duration{0, 1, 999, 1000, 1000000, 12500000, 1e15 - 1, 1e15, 1e15 + 1, math.MaxInt64, math.MinInt64,
		-1, -1e15 + 1, -1e15, 3986, 971, 123456789012345, 1 << 53, 1<<53 + 1}
	x := uint64(7)
	for range 20000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		ds = append(ds, time.Duration(x>>(x%64)), time.Duration(x))
	}
	for _, d := range ds {
		want := strconv.AppendFloat(nil, float64(d)/float64(time.Millisecond), 'f', -1, 64)
		require.Equal(t, string(want), string(appendElapsedMS(nil, d)), "%d", d)
	}
}

func TestAppendIDsMatchHex(t *testing.T) {
	x := uint64(3)
	for range 2000 {
		var tid TraceID
		var sid SpanID
		for i := range tid {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			tid[i] = byte(x)
			if i < len(sid) {
				sid[i] = byte(x >> 8)
			}
		}
		assert.Equal(t, `"`+hex.EncodeToString(tid[:])+`"`, string(appendTraceID(nil, tid)))
		assert.Equal(t, `"`+hex.EncodeToString(sid[:])+`"`, string(appendSpanID(nil, sid)))
	}
	assert.Equal(t, `""`, string(appendSpanID(nil, SpanID{})))
}

func FuzzAppendFloatMatchesStrconv(f *testing.F) {
	f.Add(0.2)
	f.Add(41.5)
	f.Add(1e15 - 1)
	f.Fuzz(func(t *testing.T, g float64) {
		require.Equal(t, appendFloatStrconv(g), string(appendFloat(nil, g)), "%b", g)
		d := time.Duration(math.Float64bits(g))
		want := strconv.AppendFloat(nil, float64(d)/float64(time.Millisecond), 'f', -1, 64)
		require.Equal(t, string(want), string(appendElapsedMS(nil, d)), "%d", d)
		d >>= d & 63
		want = strconv.AppendFloat(nil, float64(d)/float64(time.Millisecond), 'f', -1, 64)
		require.Equal(t, string(want), string(appendElapsedMS(nil, d)), "%d", d)
	})
}

func TestAppendNineMatchesAppendDigits(t *testing.T) {
	x := uint64(5)
	for _, v := range []int{0, 1, 9, 10, 99, 100, 999999999, 123456789, 100000000, 1e9, 1e9 + 5} {
		assert.Equal(t, string(appendDigits(nil, v, 9)), string(appendNine(nil, v)), "%d", v)
	}
	for range 10000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v := int(x % 1e9)
		require.Equal(t, string(appendDigits(nil, v, 9)), string(appendNine(nil, v)), "%d", v)
	}
}

// appendDigits writes the n last decimal digits of v >= 0, zero-padded,
// one at a time: the reference appendNine is checked against.
func appendDigits(dst []byte, v, n int) []byte {
	dst = append(dst, "000000000"[:n]...)
	for i := len(dst) - 1; v > 0 && i >= len(dst)-n; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
	return dst
}
