package stagetrace

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzRecords builds a span and an event that put the fuzzed inputs in
// every field, as keys and values of every kind, and inside wrappers.
func fuzzRecords(s1, s2 string, b []byte, i int64, f float64, sec, nsec int64, sel uint8) (*StageSpan, *TraceEvent) {
	var tid TraceID
	var sid, pid SpanID
	copy(tid[:], b)
	copy(sid[:], s1)
	copy(pid[:], s2)
	bitsFloat := math.Float64frombits(uint64(i)) // any bit pattern, NaNs with payloads too
	n := int(sel % 4)                            // lengths of slices: 0 to 3
	bools := make([]bool, n)
	ints := make([]int64, n)
	floats := make([]float64, n)
	strs := make([]string, n)
	vals := make([]Value, n)
	for k := range n {
		bools[k] = sel&(1<<k) != 0
		ints[k] = i >> k
		floats[k] = f * float64(k)
		strs[k] = s1[:len(s1)*k/4]
		vals[k] = []Value{IntValue(k), Float64Value(f), StringValue(s2), BytesValue(b)}[int(sel>>4+uint8(k))%4]
	}
	attrs := Attrs{
		{Key: s1, Value: StringValue(s2)},
		{Key: s2, Value: Int64Value(i)},
		{Key: "f", Value: Float64Value(f)},
		{Key: "bits", Value: Float64Value(bitsFloat)},
		{Key: "b", Value: BytesValue(b)},
		{Key: "bools", Value: BoolSliceValue(bools)},
		{Key: "ints", Value: Int64SliceValue(ints)},
		{Key: "floats", Value: Float64SliceValue(append(floats, bitsFloat)[sel%2:])},
		{Key: "strs", Value: StringSliceValue(strs)},
		{Key: "vals", Value: SliceValue(vals...)},
		{Key: "mixed", Value: SliceValue(Value{}, BoolValue(sel&1 == 0), StringValue(s1))},
		{Key: "map1", Value: MapValue(Attr{Key: s1, Value: MapValue(Attr{Key: s2, Value: SliceValue(vals...)})})},
		{Key: "map2", Value: MapValue(Attr{Key: "$" + s2, Value: StringValue(s1)})},
		{Key: "map3", Value: MapValue(Attr{Key: s1, Value: Float64Value(f)}, Attr{Key: s2, Value: Value{}})},
		{Key: "empty", Value: Value{}},
	}
	findings := Attrs{{Key: s2, Value: Float64Value(f)}, {Key: s1, Value: Int64Value(i)}}
	var res *Resource
	if sel&0x80 == 0 {
		res = &Resource{Attrs: Attrs{{Key: s1, Value: StringValue(s2)}}}
	}
	// Span times: years that fit RFC 3339 with up to 11 digits.
	start := time.Unix(sec>>3, nsec)
	span := &StageSpan{
		RunID:         s1,
		Stage:         s2,
		Name:          s1 + s2,
		TraceID:       tid,
		SpanID:        sid,
		ParentSpanID:  pid,
		StartTime:     start,
		EndTime:       start.Add(time.Duration(i)),
		Status:        StatusCode(sel % 3),
		StatusMessage: s2,
		Kind:          SpanKind(sel % 6),
		Attrs:         attrs[:int(sel)%(len(attrs)+1)],
		Findings:      findings,
		Resource:      res,
		Scope:         s1,
	}
	event := &TraceEvent{
		Name:    s2,
		RunID:   s1,
		Stage:   s2,
		TraceID: tid,
		SpanID:  sid,
		Time:    time.Unix(sec>>2, nsec%1e9), // within the range "ts" takes
		Attrs:   attrs,
	}
	if sel&0x40 != 0 {
		// A log event: any severity number, in range or not, any text, and a
		// body of any kind.
		event.Name = LogEventName
		event.Severity = Severity{Number: i >> (sel % 64), Text: s2}
		event.Body = attrs[int(sel)%len(attrs)].Value
	} else if sel&0x20 != 0 {
		event.Severity = Severity{Text: s1}
	}
	return span, event
}

// validString is s as a line holds it: each byte that is not part of valid
// UTF-8 replaced by U+FFFD.
func validString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		sb.WriteRune(r) // RuneError for an invalid byte
		i += size
	}
	return sb.String()
}

func validAttrs(a Attrs) Attrs {
	if a == nil {
		return nil
	}
	// A key written twice reads as one, in its first place, with its last
	// value.
	out := make(Attrs, 0, len(a))
	at := make(map[string]int, len(a))
	for _, kv := range a {
		k, v := validString(kv.Key), validValue(kv.Value)
		if i, ok := at[k]; ok {
			out[i].Value = v
			continue
		}
		at[k] = len(out)
		out = append(out, Attr{Key: k, Value: v})
	}
	return out
}

func validValue(v Value) Value {
	switch v.Kind() {
	case KindString:
		return StringValue(validString(v.AsString()))
	case KindStringSlice:
		s := make([]string, len(v.AsStringSlice()))
		for i, e := range v.AsStringSlice() {
			s[i] = validString(e)
		}
		return StringSliceValue(s)
	case KindSlice:
		s := make([]Value, len(v.AsSlice()))
		for i, e := range v.AsSlice() {
			s[i] = validValue(e)
		}
		return SliceValue(s...)
	case KindMap:
		return MapValue(validAttrs(v.AsMap())...)
	}
	return v
}

func validSpan(s *StageSpan) *StageSpan {
	c := *s
	for _, p := range []*string{&c.RunID, &c.Stage, &c.Name, &c.StatusMessage, &c.Scope} {
		*p = validString(*p)
	}
	c.Attrs, c.Findings = validAttrs(c.Attrs), validAttrs(c.Findings)
	if c.Resource != nil {
		c.Resource = &Resource{Attrs: validAttrs(c.Resource.Attrs)}
	}
	return &c
}

func validEvent(e *TraceEvent) *TraceEvent {
	c := *e
	for _, p := range []*string{&c.Name, &c.RunID, &c.Stage} {
		*p = validString(*p)
	}
	c.Attrs = validAttrs(c.Attrs)
	c.Severity.Text = validString(c.Severity.Text)
	c.Body = validValue(c.Body)
	return &c
}

func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add("r-42", "inference", []byte("\x4b\xf9\x2f\x35"), int64(12500000), 12.5, int64(1795255200), int64(1), uint8(7))
	f.Add("", "", []byte{}, int64(0), 0.0, int64(0), int64(0), uint8(0))
	f.Add("$float", "$map", []byte{0xff}, int64(math.MinInt64), math.Inf(-1), int64(math.MaxInt64), int64(-1), uint8(255))
	f.Add("a\xffb\u2028", "\x00\"\\\n", []byte("\x00\x01"), int64(-0x0008000000000000), math.NaN(), int64(math.MinInt64), int64(999999999), uint8(0x93))
	f.Add("$", "$slice", []byte("bytes"), int64(0x7ff0000000000001), math.Copysign(0, -1), int64(-1), int64(1e9), uint8(0x42))
	// The same wrapper-like key twice in one map: the decoder keeps one
	// member, so the encoder must wrap the map as it would a map of one.
	f.Add("$", "$", []byte("0"), int64(-9223372036854775802), math.Inf(-1), int64(0), int64(0), uint8(0x30))
	f.Add("$\xff", "$\ufffd", []byte{}, int64(1), 1.0, int64(0), int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, s1, s2 string, b []byte, i int64, fl float64, sec, nsec int64, sel uint8) {
		span, event := fuzzRecords(s1, s2, b, i, fl, sec, nsec, sel)
		var e Encoder
		line := e.AppendSpan(nil, span)
		require.True(t, json.Valid(line), "invalid JSON: %q", line)
		rec, err := DecodeLine(line)
		require.NoError(t, err, "%q", line)
		require.NotNil(t, rec.Span)
		assertSpanEqual(t, validSpan(span), rec.Span)
		require.Equal(t, string(e.AppendSpan(nil, validSpan(span))), string(e.AppendSpan(nil, rec.Span)), "decode then encode changed the line")

		line = e.AppendEvent(nil, event)
		require.True(t, json.Valid(line), "invalid JSON: %q", line)
		rec, err = DecodeLine(line)
		require.NoError(t, err, "%q", line)
		require.NotNil(t, rec.Event)
		assertEventEqual(t, validEvent(event), rec.Event)
		require.Equal(t, string(e.AppendEvent(nil, validEvent(event))), string(e.AppendEvent(nil, rec.Event)), "decode then encode changed the line")
	})
}

func FuzzDecodeLine(f *testing.F) {
	f.Add([]byte(goldenSpanLine))
	f.Add([]byte(goldenEventLine))
	f.Add([]byte(`{"type":"trace_event","ts":-1.5e-3,"attrs":{"a":{"$map":{"$float":[1,{"$float":"NaN"}]}},"b":{"$slice":[1,2]},"c":{"$bytes":"AAE="},"d":{"$float64[]":[]}}}`))
	f.Add([]byte(`{"type":"stage_span","start_time":"-0001-02-28T23:59:59.5+01:00","attrs":{"s":"\ud83c\udf89\u2028\u0000","n":[null,true,1,1.0,"x",[],{}]}}`))
	f.Add([]byte("{\"type\":\"stage_span\",\"run_id\":\"\xff\"}\n{\"type\":\"trace_event\"}"))
	f.Add([]byte(`{"type":"stage_span","start_time":"99999999999-12-31T23:59:59.999999999-23:59","end_time":"-0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"type":"trace_event","ts":-4611686018427387904.9999999994e0}`))
	f.Add([]byte(`{"type":"trace_event","name":"log","ts":1.5,"severity":"warn","severity_number":13,"severity_text":"WARN","body":{"m":[1,{"$bytes":"AAE="}]},"attrs":{}}`))
	f.Add([]byte(`{"type":"trace_event","name":"log","severity":"ERROR","severity_number":-9223372036854775808,"severity_text":"\xff","body":null}`))
	f.Add([]byte(`{"type":"trace_event","severity":"critical","body":{"$float":"NaN"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := DecodeLine(data)
		if err == nil {
			// Whatever decodes re-encodes to a line that decodes to itself.
			var e Encoder
			var line []byte
			if rec.Span != nil {
				line = e.AppendSpan(nil, rec.Span)
			} else {
				require.NotNil(t, rec.Event)
				line = e.AppendEvent(nil, rec.Event)
			}
			require.True(t, json.Valid(line), "%q", line)
			again, err := DecodeLine(line)
			require.NoError(t, err, "%q", line)
			var line2 []byte
			if again.Span != nil {
				line2 = e.AppendSpan(nil, again.Span)
			} else {
				line2 = e.AppendEvent(nil, again.Event)
			}
			require.Equal(t, string(line), string(line2))
		} else {
			assert.Equal(t, Record{}, rec)
		}

		// The stream decoder never panics or stops early.
		d := NewDecoder(strings.NewReader(string(data)))
		for range len(data) + 2 {
			if _, err := d.Next(); errors.Is(err, io.EOF) {
				return
			}
		}
		t.Fatal("the decoder did not reach io.EOF")
	})
}
