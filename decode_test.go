package stagetrace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func assertSpanEqual(t testing.TB, want, got *StageSpan) {
	t.Helper()
	assert.Equal(t, want.RunID, got.RunID, "run_id")
	assert.Equal(t, want.Stage, got.Stage, "stage")
	assert.Equal(t, want.Name, got.Name, "name")
	assert.Equal(t, want.TraceID, got.TraceID, "trace_id")
	assert.Equal(t, want.SpanID, got.SpanID, "span_id")
	assert.Equal(t, want.ParentSpanID, got.ParentSpanID, "parent_span_id")
	assert.True(t, want.StartTime.Equal(got.StartTime), "start_time: got %v, want %v", got.StartTime, want.StartTime)
	assert.True(t, want.EndTime.Equal(got.EndTime), "end_time: got %v, want %v", got.EndTime, want.EndTime)
	assert.Equal(t, want.Status, got.Status, "status")
	assert.Equal(t, want.StatusMessage, got.StatusMessage, "status_message")
	assert.Equal(t, want.Kind, got.Kind, "span_kind")
	assert.True(t, want.Attrs.Equal(got.Attrs), "attrs: got %#v, want %#v", got.Attrs, want.Attrs)
	assert.True(t, want.Findings.Equal(got.Findings), "findings: got %#v, want %#v", got.Findings, want.Findings)
	assert.True(t, resourceAttrs(want.Resource).Equal(resourceAttrs(got.Resource)), "resource")
	assert.Equal(t, want.Scope, got.Scope, "scope")
}

func resourceAttrs(r *Resource) Attrs {
	if r == nil {
		return nil
	}
	return r.Attrs
}

func assertEventEqual(t testing.TB, want, got *TraceEvent) {
	t.Helper()
	assert.Equal(t, want.Name, got.Name, "name")
	assert.Equal(t, want.RunID, got.RunID, "run_id")
	assert.Equal(t, want.Stage, got.Stage, "stage")
	assert.Equal(t, want.TraceID, got.TraceID, "trace_id")
	assert.Equal(t, want.SpanID, got.SpanID, "span_id")
	assert.True(t, want.Time.Equal(got.Time), "ts: got %v, want %v", got.Time, want.Time)
	assert.True(t, want.Attrs.Equal(got.Attrs), "attrs: got %#v, want %#v", got.Attrs, want.Attrs)
	assert.Equal(t, want.Severity, got.Severity, "severity")
	assert.True(t, want.Body.Equal(got.Body), "body: got %#v, want %#v", got.Body, want.Body)
}

func TestDecodeLineGolden(t *testing.T) {
	rec, err := DecodeLine([]byte(goldenSpanLine))
	require.NoError(t, err)
	require.NotNil(t, rec.Span)
	assert.Nil(t, rec.Event)
	assertSpanEqual(t, goldenSpan(t), rec.Span)
	assert.Equal(t, time.UTC, rec.Span.StartTime.Location())
	assert.InDelta(t, 12.5, rec.Span.ElapsedMS(), 0)

	rec, err = DecodeLine([]byte(goldenEventLine))
	require.NoError(t, err)
	require.NotNil(t, rec.Event)
	assert.Nil(t, rec.Span)
	assertEventEqual(t, goldenEvent(t), rec.Event)
}

func TestDecodeLineLenient(t *testing.T) {
	for name, line := range map[string]string{
		"spaced":          " \t{ \"type\" : \"trace_event\" , \"name\" : \"x\" ,\n\"ts\" : 1.5 , \"attrs\" : { \"a\" : [ 1 , 2 ] } }\r\n  ",
		"type last":       `{"name":"x","ts":1.5,"attrs":{"a":[1,2]},"type":"trace_event"}`,
		"unknown fields":  `{"type":"trace_event","name":"x","ts":1.5,"attrs":{"a":[1,2]},"new":{"deep":[true,null,"\u00e9"]},"status":5}`,
		"exponent ts":     `{"type":"trace_event","name":"x","ts":15e-1,"attrs":{"a":[1,2]}}`,
		"long ts":         `{"type":"trace_event","name":"x","ts":1.4999999999,"attrs":{"a":[1,2]}}`,
		"escaped strings": `{"type":"trace_event","name":"\u0078","ts":1.5000000000001,"attrs":{"\u0061":[1,2]}}`,
		"repeated field":  `{"type":"trace_event","name":"y","ts":1.5,"attrs":null,"name":"x","attrs":{"a":[1,2]}}`,
	} {
		rec, err := DecodeLine([]byte(line))
		require.NoError(t, err, name)
		require.NotNil(t, rec.Event, name)
		assertEventEqual(t, &TraceEvent{
			Name:  "x",
			Time:  time.Unix(1, 5e8),
			Attrs: Attrs{{Key: "a", Value: Int64SliceValue([]int64{1, 2})}},
		}, rec.Event)
	}
}

func TestDecodeLineNullAttrs(t *testing.T) {
	rec, err := DecodeLine([]byte(`{"type":"stage_span","attrs":null,"findings":{},"resource":null}`))
	require.NoError(t, err)
	assert.Nil(t, rec.Span.Attrs)
	assert.Nil(t, rec.Span.Findings)
	assert.Nil(t, rec.Span.Resource)
}

func TestDecodeLineForeignForms(t *testing.T) {
	decodeAttr := func(json string) Value {
		t.Helper()
		rec, err := DecodeLine([]byte(`{"type":"trace_event","attrs":{"v":` + json + `}}`))
		require.NoError(t, err, json)
		require.Len(t, rec.Event.Attrs, 1)
		return rec.Event.Attrs[0].Value
	}
	assert.True(t, Float64Value(1e20).Equal(decodeAttr(`100000000000000000000`)), "an integer too large for int64 is a float")
	assert.True(t, Float64Value(1.5).Equal(decodeAttr(`15E-1`)))
	assert.True(t, Int64Value(0).Equal(decodeAttr(`-0`)))
	assert.True(t, SliceValue().Equal(decodeAttr(`[]`)))
	assert.True(t, StringValue("\U0001F389").Equal(decodeAttr(`"\ud83c\udf89"`)))
	assert.True(t, StringValue("\ufffdA").Equal(decodeAttr(`"\ud83cA"`)), "a lone surrogate is U+FFFD")
	assert.True(t, StringValue("\ufffd\u0041").Equal(decodeAttr(`"\ud83c\u0041"`)))
	assert.True(t, StringValue("a\ufffd").Equal(decodeAttr("\"a\xff\"")), "invalid UTF-8 is U+FFFD")
	assert.True(t, StringValue("/").Equal(decodeAttr(`"\/"`)))
	assert.True(t, MapValue(Attr{"$float", StringValue("NaN")}, Attr{"x", Value{}}).Equal(decodeAttr(`{"$float":"NaN","x":null}`)))

	for json, want := range map[string]time.Time{
		`"2026-11-22T12:00:00.5+02:00"`:         time.Date(2026, 11, 22, 10, 0, 0, 5e8, time.UTC),
		`"2026-11-22T10:00:00Z"`:                time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		`"2026-11-22t10:00:00.1234567891z"`:     time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC),
		`"2026-11-22T08:30:00-01:30"`:           time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		`"-0001-01-01T00:00:00.000000000Z"`:     time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		`"123456789-01-01T00:00:00.000000005Z"`: time.Date(123456789, 1, 1, 0, 0, 0, 5, time.UTC),
		`"2024-02-29T00:00:00Z"`:                time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		`"-99999999999-01-01T00:00:00Z"`:        time.Date(-99999999999, 1, 1, 0, 0, 0, 0, time.UTC),
		`"99999999999-12-31T23:59:59.9+00:00"`:  time.Date(99999999999, 12, 31, 23, 59, 59, 9e8, time.UTC),
	} {
		rec, err := DecodeLine([]byte(`{"type":"stage_span","start_time":` + json + `}`))
		require.NoError(t, err, json)
		assert.True(t, want.Equal(rec.Span.StartTime), "%s: got %v", json, rec.Span.StartTime)
	}

	for json, want := range map[string]time.Time{
		`0`:                      time.Unix(0, 0),
		`-0.0`:                   time.Unix(0, 0),
		`1795255200.0125`:        time.Unix(1795255200, 12500000),
		`1.7952552000125e9`:      time.Unix(1795255200, 12500000),
		`17952552000125E-4`:      time.Unix(1795255200, 12500000),
		`0.0000000015`:           time.Unix(0, 2),
		`0.0000000014999`:        time.Unix(0, 1),
		`-0.0000000015`:          time.Unix(0, -2),
		`0.9999999996`:           time.Unix(1, 0),
		`1e-30`:                  time.Unix(0, 0),
		`1E+3`:                   time.Unix(1000, 0),
		`000001.5`[5:]:           time.Unix(1, 5e8),
		`0.00012e4`:              time.Unix(1, 2e8),
		`4611686018427387904`:    time.Unix(1<<62, 0),
		`-4611686018427387904.5`: time.Unix(-(1 << 62), -5e8),
	} {
		rec, err := DecodeLine([]byte(`{"type":"trace_event","ts":` + json + `}`))
		require.NoError(t, err, json)
		assert.True(t, want.Equal(rec.Event.Time), "%s: got %v, want %v", json, rec.Event.Time, want)
	}
}

func TestDecodeLineErrors(t *testing.T) {
	span := func(fields string) string { return `{"type":"stage_span",` + fields + `}` }
	for _, tc := range []struct{ line, want string }{
		{``, `offset 0: expected '{' starting a record, found end of input`},
		{`[]`, `expected '{' starting a record, found array`},
		{`{"type":"stage_span"`, `offset 20: expected ',' or '}', found end of input`},
		{`{"type":"stage_span","run_id":"r-4`, `field "run_id" at offset 30: unterminated string`},
		{`{"type":"stage_span","attrs":{"a":[1,2`, `field "attrs" at offset 38: expected ',' or ']', found end of input`},
		{`{"type":"stage_span","attrs":{"a":tru}}`, `invalid literal, expected true`},
		{`{"type":"stage_span","attrs":{"a":1.}}`, `invalid number: no digit after '.'`},
		{`{"type":"stage_span","attrs":{"a":1e}}`, `invalid number: no digit in exponent`},
		{`{"type":"stage_span","attrs":{"a":-}}`, `invalid number`},
		{`{"type":"stage_span","attrs":{"a":01}}`, `expected ',' or '}', found number`},
		{`{"type":"stage_span","attrs":{"a":1e400}}`, `number 1e400 is out of range`},
		{`{"type":"stage_span","attrs":{a:1}}`, `expected string key, found 'a'`},
		{`{"type":"stage_span","attrs":{"a" 1}}`, `expected ':' after key, found number`},
		{`{"type":"stage_span","attrs":{"a":"b` + "\n" + `"}}`, `unescaped control character 0x0a in string`},
		{`{"type":"stage_span","attrs":{"a":"\x"}}`, `invalid escape "\\x" in string`},
		{`{"type":"stage_span","attrs":{"a":"\u12"}}`, `invalid \u escape`},
		{`{"type":"stage_span"} x`, `unexpected 'x' after the record`},
		{`{"type":"stage_span"}{}`, `unexpected object after the record`},
		{`{"run_id":"r-42"}`, `record has no "type" field`},
		{`{}`, `record has no "type" field`},
		{`{"type":"span"}`, `field "type" at offset 8: unknown record type "span"`},
		{`{"type":7}`, `field "type" at offset 8: expected string, found number`},
		{`{"type":"stage_span","type":"trace_event"}`, `record has two types`},
		{span(`"run_id":5`), `field "run_id" at offset 30: expected string, found number`},
		{span(`"name":null`), `field "name" at offset 28: expected string, found null`},
		{span(`"attrs":[1]`), `field "attrs" at offset 29: expected object, found array`},
		{span(`"resource":"x"`), `field "resource" at offset 32: expected object, found string`},
		{span(`"trace_id":"4bf92f3577b34da6a3ce929d0e0e473"`), `field "trace_id" at offset 32: invalid trace id "4bf92f3577b34da6a3ce929d0e0e473", want 32 hex digits`},
		{span(`"trace_id":"4bf92f3577b34da6a3ce929d0e0e473g"`), `invalid trace id`},
		{span(`"trace_id":""`), `invalid trace id`},
		{span(`"span_id":"00f067aa0ba902"`), `field "span_id" at offset 31: invalid span id "00f067aa0ba902", want 16 hex digits or ""`},
		{span(`"parent_span_id":"00f067aa0ba902bx"`), `field "parent_span_id" at offset 38: invalid span id`},
		{span(`"start_time":"2026-11-22 10:00:00Z"`), `field "start_time" at offset 34: invalid time "2026-11-22 10:00:00Z", want RFC 3339`},
		{span(`"end_time":"2026-13-22T10:00:00Z"`), `field "end_time" at offset 32: invalid time`},
		{span(`"end_time":"2026-02-29T10:00:00Z"`), `invalid time`},
		{span(`"end_time":"2026-11-22T24:00:00Z"`), `invalid time`},
		{span(`"end_time":"2026-11-22T10:00:00"`), `invalid time`},
		{span(`"end_time":"2026-11-22T10:00:00.Z"`), `invalid time`},
		{span(`"end_time":"2026-11-22T10:00:00+2:00"`), `invalid time`},
		{span(`"end_time":1795255200`), `expected string, found number`},
		{span(`"end_time":"100000000000-01-01T00:00:00Z"`), `invalid time`},
		{span(`"end_time":"99999999999-12-31T23:59:59-00:01"`), `invalid time`},
		{span(`"end_time":"-99999999999-01-01T00:00:00+00:01"`), `invalid time`},
		{span(`"status":"fine"`), `field "status" at offset 30: unknown status "fine"`},
		{span(`"span_kind":"CLIENT"`), `field "span_kind" at offset 33: unknown span kind "CLIENT"`},
		{span(`"elapsed_ms":[`), `field "elapsed_ms"`},
		{span(`"attrs":{"a":{"$nope":1}}`), `field "attrs" at offset 35: unknown wrapper "$nope"`},
		{span(`"attrs":{"a":{"$":1}}`), `unknown wrapper "$"`},
		{span(`"findings":{"a":[{"$float":"nan"}]}`), `field "findings" at offset 39: wrapper "$float" holds "nan", want "NaN", "Infinity" or "-Infinity"`},
		{span(`"attrs":{"a":{"$float":1.5}}`), `wrapper "$float" holds a number, want a string`},
		{span(`"attrs":{"a":{"$float":"NaN(0x0000000000000001)"}}`), `wrapper "$float" holds "NaN(0x0000000000000001)"`},
		{span(`"attrs":{"a":{"$bytes":"!!"}}`), `wrapper "$bytes": invalid standard base64`},
		{span(`"attrs":{"a":{"$bytes":[]}}`), `wrapper "$bytes" holds a array, want a string`},
		{span(`"attrs":{"a":{"$int64[]":[1.5]}}`), `wrapper "$int64[]" holds an element that is not a int64`},
		{span(`"attrs":{"a":{"$bool[]":{}}}`), `wrapper "$bool[]" holds a object, want a array`},
		{span(`"attrs":{"a":{"$slice":{}}}`), `wrapper "$slice" holds a object, want a array`},
		{span(`"attrs":{"a":{"$map":[]}}`), `wrapper "$map" holds a array, want a object`},
		{span(`"attrs":{"a":{"$map":{"b":{"$x":1}}}}`), `unknown wrapper "$x"`},
		{span(`"attrs":{"a":{"$slice":[{"$x":1}]}}`), `unknown wrapper "$x"`},
		{`{"type":"trace_event","ts":"1795255200"}`, `field "ts" at offset 27: expected number of seconds since the epoch, found string`},
		{`{"type":"trace_event","ts":1e30}`, `field "ts" at offset 27: time 1e30 is out of range`},
		{`{"type":"trace_event","ts":4611686018427387905}`, `out of range`},
		{`{"type":"trace_event","ts":1.}`, `invalid number`},
		{span(`"attrs":{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`), `nested deeper than 10000 levels`},
	} {
		rec, err := DecodeLine([]byte(tc.line))
		if assert.Error(t, err, tc.line) {
			assert.Contains(t, err.Error(), tc.want, tc.line)
			assert.True(t, strings.HasPrefix(err.Error(), "stagetrace: "), err.Error())
		}
		assert.Equal(t, Record{}, rec)
	}
}

func TestDecodeLineDoesNotAliasInput(t *testing.T) {
	line := []byte(`{"type":"stage_span","run_id":"r","attrs":{"k":"v","b":{"$bytes":"aGk="}}}`)
	rec, err := DecodeLine(line)
	require.NoError(t, err)
	for i := range line {
		line[i] = 'x'
	}
	assert.Equal(t, "r", rec.Span.RunID)
	want := Attrs{{Key: "k", Value: StringValue("v")}, {Key: "b", Value: BytesValue([]byte("hi"))}}
	assert.True(t, want.Equal(rec.Span.Attrs))
}

func TestDecoder(t *testing.T) {
	var e Encoder
	s, ev := goldenSpan(t), goldenEvent(t)
	var stream []byte
	stream = e.AppendSpan(stream, s)                   // line 1
	stream = append(stream, "\n  \r\n"...)             // lines 2, 3: blank
	stream = e.AppendEvent(stream, ev)                 // line 4
	stream = append(stream, `{"type":"nope"}`+"\n"...) // line 5
	stream = append(stream, "{\n"...)                  // line 6
	stream = e.AppendSpan(stream, s)                   // line 7
	stream = append(stream, strings.TrimSuffix(string(e.AppendEvent(nil, ev)), "\n")+"\r"...)

	d := NewDecoder(bytes.NewReader(stream))
	rec, err := d.Next()
	require.NoError(t, err)
	require.NotNil(t, rec.Span)
	assertSpanEqual(t, s, rec.Span)
	first := rec.Span

	rec, err = d.Next()
	require.NoError(t, err)
	require.NotNil(t, rec.Event)
	assertEventEqual(t, ev, rec.Event)

	_, err = d.Next()
	assert.ErrorContains(t, err, `stagetrace: line 5: field "type" at offset 8: unknown record type "nope"`)
	_, err = d.Next()
	assert.ErrorContains(t, err, `stagetrace: line 6: offset 2: expected string key, found end of input`)

	rec, err = d.Next()
	require.NoError(t, err)
	require.NotNil(t, rec.Span)
	assertSpanEqual(t, s, rec.Span)
	assert.Same(t, first.Resource, rec.Span.Resource, "one decoder shares identical resources")

	rec, err = d.Next()
	require.NoError(t, err, "a last line without a newline")
	assertEventEqual(t, ev, rec.Event)

	_, err = d.Next()
	assert.ErrorIs(t, err, io.EOF)
	_, err = d.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestDecoderDistinctResources(t *testing.T) {
	var e Encoder
	s := goldenSpan(t)
	line1 := e.AppendSpan(nil, s)
	s.Resource = &Resource{Attrs: Attrs{{Key: "service.name", Value: StringValue("other")}}}
	line2 := e.AppendSpan(nil, s)
	d := NewDecoder(bytes.NewReader(append(append(line1, line2...), line1...)))
	var recs []Record
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	require.Len(t, recs, 3)
	assert.NotSame(t, recs[0].Span.Resource, recs[1].Span.Resource)
	assert.Same(t, recs[0].Span.Resource, recs[2].Span.Resource)

	// DecodeLine has no memory: each call has its own resource.
	a, err := DecodeLine(line1)
	require.NoError(t, err)
	b, err := DecodeLine(line1)
	require.NoError(t, err)
	assert.NotSame(t, a.Span.Resource, b.Span.Resource)
}

func TestDecoderTooLongLine(t *testing.T) {
	var e Encoder
	line := e.AppendSpan(nil, goldenSpan(t))
	long := append(bytes.Repeat([]byte("x"), 2*len(line)), '\n')
	stream := bytes.Join([][]byte{line, long, line, long[:len(long)-1]}, nil)
	// A tiny reader buffer makes lines span reads.
	d := NewDecoder(iotest.OneByteReader(bytes.NewReader(stream)))
	d.maxLine = len(line) - 1 // the span line fits exactly: the newline does not count

	rec, err := d.Next()
	require.NoError(t, err)
	assert.NotNil(t, rec.Span)
	_, err = d.Next()
	assert.ErrorContains(t, err, "stagetrace: line 2: longer than")
	rec, err = d.Next()
	require.NoError(t, err, "the decoder goes on after a long line")
	assert.NotNil(t, rec.Span)
	_, err = d.Next()
	assert.ErrorContains(t, err, "stagetrace: line 4: longer than")
	_, err = d.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestDecoderHugeLine(t *testing.T) {
	if testing.Short() {
		t.Skip("a 64 MiB line")
	}
	var e Encoder
	s := goldenSpan(t)
	s.Attrs = Attrs{{Key: "big", Value: StringValue(strings.Repeat("y", 64<<20-1024))}}
	line := e.AppendSpan(nil, s)
	require.LessOrEqual(t, len(line)-1, 64<<20)
	d := NewDecoder(io.MultiReader(bytes.NewReader(line), strings.NewReader(goldenEventLine)))
	rec, err := d.Next()
	require.NoError(t, err)
	require.NotNil(t, rec.Span)
	assert.True(t, s.Attrs.Equal(rec.Span.Attrs))
	rec, err = d.Next()
	require.NoError(t, err)
	assert.NotNil(t, rec.Event)
	assert.Nil(t, d.buf, "the huge line's buffer is not kept")
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("boom")
	d := NewDecoder(io.MultiReader(strings.NewReader(goldenSpanLine+`{"type"`), iotest.ErrReader(boom)))
	rec, err := d.Next()
	require.NoError(t, err)
	assert.NotNil(t, rec.Span)
	_, err = d.Next()
	assert.ErrorIs(t, err, boom)
	_, err = d.Next()
	assert.ErrorIs(t, err, boom, "read errors stick")
}

func TestUnmarshalJSONNull(t *testing.T) {
	s := goldenSpan(t)
	require.NoError(t, json.Unmarshal([]byte(`null`), s))
	assert.Equal(t, "r-42", s.RunID, "null leaves the span alone")
	ev := goldenEvent(t)
	require.NoError(t, ev.UnmarshalJSON([]byte(` null `)))
	assert.Equal(t, "exception", ev.Name)
}

func TestParseUnixTimeRange(t *testing.T) {
	tm, ok := parseUnixTime([]byte("4611686018427387903.9999999996"))
	require.True(t, ok)
	assert.Equal(t, time.Unix(1<<62, 0).UTC(), tm, "rounds up to the limit")
	_, ok = parseUnixTime([]byte("4611686018427387904.9999999996"))
	assert.False(t, ok, "rounds up past the limit")
	_, ok = parseUnixTime([]byte("1e19"))
	assert.False(t, ok)
	_, ok = parseUnixTime([]byte("0.1e-999999999999"))
	assert.True(t, ok)
}

func BenchmarkDecodeLine(b *testing.B) {
	var e Encoder
	line := e.AppendSpan(nil, benchSpan())
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeLine(line); err != nil {
			b.Fatal(err)
		}
	}
}

// repeatReader reads data over and over.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func BenchmarkDecoderNext(b *testing.B) {
	var e Encoder
	line := e.AppendSpan(nil, benchSpan())
	d := NewDecoder(&repeatReader{data: line})
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeDuplicateKeys checks that an object with a key given twice
// reads as Python's json module and JavaScript's JSON.parse read it: the
// key keeps its first place and takes its last value, in attributes,
// findings, resources and nested maps, small objects and large.
func TestDecodeDuplicateKeys(t *testing.T) {
	var big strings.Builder
	var want Attrs
	big.WriteString("{")
	for i := range 50 {
		if i > 0 {
			big.WriteString(",")
		}
		fmt.Fprintf(&big, `"k%d":%d`, i%20, i)
	}
	big.WriteString("}")
	for i := range 20 {
		// The last of i, i+20, i+40 below 50.
		last := i + 40
		if last >= 50 {
			last = i + 20
		}
		want = append(want, Attr{Key: fmt.Sprintf("k%d", i), Value: Int64Value(int64(last))})
	}
	tests := []struct {
		name, attrs string
		want        Attrs
	}{
		{"top level", `{"a":1,"b":true,"a":2}`, Attrs{{Key: "a", Value: Int64Value(2)}, {Key: "b", Value: BoolValue(true)}}},
		{"nested", `{"m":{"x":"first","y":0,"x":"last"}}`, Attrs{{Key: "m", Value: MapValue(
			Attr{Key: "x", Value: StringValue("last")}, Attr{Key: "y", Value: Int64Value(0)})}}},
		{"wrapper given twice", `{"f":{"$float":"NaN","$float":"-Infinity"}}`, Attrs{{Key: "f", Value: Float64Value(math.Inf(-1))}}},
		{"one key many times", `{"a":1,"a":2,"a":3,"a":4}`, Attrs{{Key: "a", Value: Int64Value(4)}}},
		{"large object", big.String(), want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := `{"type":"stage_span","name":"n","attrs":` + tt.attrs + `,"findings":` + tt.attrs +
				`,"resource":` + tt.attrs + `}`
			rec, err := DecodeLine([]byte(line))
			require.NoError(t, err)
			require.NotNil(t, rec.Span)
			assert.Equal(t, tt.want, rec.Span.Attrs, "attrs")
			assert.Equal(t, tt.want, rec.Span.Findings, "findings")
			require.NotNil(t, rec.Span.Resource)
			assert.Equal(t, tt.want, rec.Span.Resource.Attrs, "resource")
		})
	}
}
