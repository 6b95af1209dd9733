package stagetrace

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file writes records as JSON lines by appending to a caller's buffer,
// without reflection, so that a sink encoding a warm buffer allocates nothing
// per record. decode.go reads the same format back; the two must agree on
// every rule written down here.
//
// Line format (field order is fixed):
//
//	{"type":"stage_span","run_id":S,"stage":S,"name":S,"trace_id":ID,
//	 "span_id":ID,"parent_span_id":ID,"start_time":T,"end_time":T,
//	 "elapsed_ms":N,"status":S,"status_message":S,"span_kind":S,
//	 "attrs":A,"findings":A,"resource":A,"scope":S}
//	{"type":"trace_event","name":S,"run_id":S,"stage":S,"trace_id":ID,
//	 "span_id":ID,"ts":N,"attrs":A}
//	{"type":"trace_event","name":"log",...,"ts":N,"severity":S,
//	 "severity_number":N,"severity_text":S,"body":V,"attrs":A}
//
// The four log fields are written on log events (TraceEvent.IsLog) only.
// "severity" is the Level, derived from the other two: the decoder reads it
// only when "severity_number" is absent or 0 and "severity_text" names no
// level, as a line written by another tool may have it.
//
// IDs are lowercase hex; a zero span id is "". T is RFC 3339 in UTC with
// nine fractional digits (the zero time is 0001-01-01T00:00:00.000000000Z);
// years of up to 11 digits read back. "elapsed_ms" is derived from the two
// times and ignored by the decoder. "status" and "span_kind" are the String
// forms, so out-of-range codes write "unset" and "unspecified". "ts" is an
// exact decimal number of seconds since the epoch (sec or sec.fraction,
// trailing zeros trimmed), up to 2^62 seconds either way. A is an object of
// attribute values in slice order; nil and empty write {}, which reads back
// as nil. So does "resource" for a nil or empty *Resource.
//
// Values are written losslessly (see appendValue): JSON's own types where
// they are unambiguous, and single-key objects whose key starts with "$"
// ("wrappers") where they are not.

// timeLayout is RFC 3339 with nine fractional digits and the JSON quotes.
// Times are converted to UTC first, so the literal Z is right.
const timeLayout = `"2006-01-02T15:04:05.000000000Z"`

// maxCachedResources bounds the Encoder's resource cache, so an encoder fed
// spans of ever new resources does not grow without end.
const maxCachedResources = 64

// Encoder writes records as JSON lines. It caches the encoded form of each
// *Resource it has seen, so a resource shared by many spans is encoded once;
// a Resource must therefore not be modified after a span holding it has
// been encoded. The zero Encoder is ready to use; a nil *Encoder encodes
// without caching. An Encoder is not safe for concurrent use.
type Encoder struct {
	resources map[*Resource][]byte

	// sec and secText are the last whole second of an event time written
	// and its digits: the events of a batch are mostly of one second.
	sec     int64
	secText []byte
	// utcSec and utcText are the same for span times: the last whole
	// second written and its text up to the fraction, from the quote to
	// the '.'; a span starts and ends in one second, mostly, and so do
	// the spans of a batch.
	utcSec  int64
	utcText []byte

	// keys holds attribute keys known to be written as they are (see
	// plainString), by a hash of their length and two bytes: the keys of
	// a batch's spans are few and repeat span after span, and comparing a
	// key with the same string held here costs less than scanning it. A
	// hash holds two keys, the last two seen, so that two keys of one span
	// that hash alike do not put each other out at every span.
	keys [32][2]string
}

// plainKey is plainString for an attribute key, remembered in e.keys.
func (e *Encoder) plainKey(key string) bool {
	n := len(key)
	if e == nil || n == 0 {
		return plainString(key)
	}
	set := &e.keys[(uint(n)^uint(key[n-1])<<1^uint(key[n/2])<<2)%uint(len(e.keys))]
	if set[0] == key || set[1] == key {
		return true
	}
	if !plainString(key) {
		return false
	}
	set[1], set[0] = set[0], key
	return true
}

// AppendSpan appends s as one JSON line, newline included, to dst.
func (e *Encoder) AppendSpan(dst []byte, s *StageSpan) []byte {
	dst = append(dst, `{"type":"stage_span","run_id":`...)
	dst = appendString(dst, s.RunID)
	dst = append(dst, `,"stage":`...)
	dst = appendString(dst, s.Stage)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, s.Name)
	dst = append(dst, `,"trace_id":`...)
	dst = appendTraceID(dst, s.TraceID)
	dst = append(dst, `,"span_id":`...)
	dst = appendSpanID(dst, s.SpanID)
	dst = append(dst, `,"parent_span_id":`...)
	dst = appendSpanID(dst, s.ParentSpanID)
	dst = append(dst, `,"start_time":`...)
	dst = e.appendTime(dst, s.StartTime)
	dst = append(dst, `,"end_time":`...)
	dst = e.appendTime(dst, s.EndTime)
	dst = append(dst, `,"elapsed_ms":`...)
	dst = appendElapsedMS(dst, s.Elapsed())
	dst = append(dst, `,"status":"`...)
	dst = append(dst, s.Status.String()...)
	dst = append(dst, `","status_message":`...)
	dst = appendString(dst, s.StatusMessage)
	dst = append(dst, `,"span_kind":"`...)
	dst = append(dst, s.Kind.String()...)
	dst = append(dst, `","attrs":`...)
	dst = e.appendAttrs(dst, s.Attrs)
	dst = append(dst, `,"findings":`...)
	dst = e.appendAttrs(dst, s.Findings)
	dst = append(dst, `,"resource":`...)
	dst = e.appendResource(dst, s.Resource)
	dst = append(dst, `,"scope":`...)
	dst = appendString(dst, s.Scope)
	return append(dst, "}\n"...)
}

// AppendEvent appends ev as one JSON line, newline included, to dst.
func (e *Encoder) AppendEvent(dst []byte, ev *TraceEvent) []byte {
	dst = append(dst, `{"type":"trace_event","name":`...)
	dst = appendString(dst, ev.Name)
	dst = append(dst, `,"run_id":`...)
	dst = appendString(dst, ev.RunID)
	dst = append(dst, `,"stage":`...)
	dst = appendString(dst, ev.Stage)
	dst = append(dst, `,"trace_id":`...)
	dst = appendTraceID(dst, ev.TraceID)
	dst = append(dst, `,"span_id":`...)
	dst = appendSpanID(dst, ev.SpanID)
	dst = append(dst, `,"ts":`...)
	dst = e.appendUnixTime(dst, ev.Time)
	if ev.IsLog() {
		dst = append(dst, `,"severity":"`...)
		dst = append(dst, ev.Severity.Level().String()...)
		dst = append(dst, `","severity_number":`...)
		dst = appendInt(dst, ev.Severity.Number)
		dst = append(dst, `,"severity_text":`...)
		dst = appendString(dst, ev.Severity.Text)
		dst = append(dst, `,"body":`...)
		dst = appendValue(dst, ev.Body)
	}
	dst = append(dst, `,"attrs":`...)
	dst = e.appendAttrs(dst, ev.Attrs)
	return append(dst, "}\n"...)
}

// MarshalJSON returns the JSON line form of s, without the newline, so
// encoding/json users get the same format as Encoder.
func (s StageSpan) MarshalJSON() ([]byte, error) {
	b := (*Encoder)(nil).AppendSpan(make([]byte, 0, 512), &s)
	return b[:len(b)-1], nil
}

// MarshalJSON returns the JSON line form of e, without the newline, so
// encoding/json users get the same format as Encoder.
func (e TraceEvent) MarshalJSON() ([]byte, error) {
	b := (*Encoder)(nil).AppendEvent(make([]byte, 0, 256), &e)
	return b[:len(b)-1], nil
}

// appendResource writes r's attributes, from the cache when r was seen
// before. Only the first span of a resource pays for encoding it.
func (e *Encoder) appendResource(dst []byte, r *Resource) []byte {
	if r == nil {
		return append(dst, "{}"...)
	}
	if e == nil {
		return appendAttrs(dst, r.Attrs)
	}
	if b, ok := e.resources[r]; ok {
		return append(dst, b...)
	}
	if e.resources == nil {
		e.resources = make(map[*Resource][]byte)
	} else if len(e.resources) >= maxCachedResources {
		clear(e.resources)
	}
	b := appendAttrs(nil, r.Attrs)
	e.resources[r] = b
	return append(dst, b...)
}

// appendTime writes t in UTC as timeLayout does. It formats four-digit
// years itself, several times faster than AppendFormat, which it leaves
// the other years to.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, timeLayout)
	}
	hour, minute, sec := t.Clock()
	// Every part two digits at a time from the table, into room made
	// once: a loop of divisions per part cost as much as the rest of the
	// time's text.
	const head = len(`"2006-01-02T15:04:05.`)
	n := len(dst)
	dst = slices.Grow(dst, head)[:n+head]
	b := (*[head]byte)(dst[n:])
	b[0] = '"'
	putTwo(b[1:], uint(year/100))
	putTwo(b[3:], uint(year%100))
	b[5] = '-'
	putTwo(b[6:], uint(month))
	b[8] = '-'
	putTwo(b[9:], uint(day))
	b[11] = 'T'
	putTwo(b[12:], uint(hour))
	b[14] = ':'
	putTwo(b[15:], uint(minute))
	b[17] = ':'
	putTwo(b[18:], uint(sec))
	b[20] = '.'
	dst = appendNine(dst, t.Nanosecond())
	return append(dst, 'Z', '"')
}

// appendTime is the function appendTime, writing the text of the same
// whole second as the last time from e's copy of it.
func (e *Encoder) appendTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if e == nil || sec < 0 {
		return appendTime(dst, t)
	}
	if sec != e.utcSec || len(e.utcText) == 0 {
		text := appendTime(e.utcText[:0], t.Truncate(time.Second))
		if len(text) != len(`"2006-01-02T15:04:05.000000000Z"`) {
			e.utcText = text[:0]      // written over: cached for no second
			return appendTime(dst, t) // a year of more than four digits
		}
		e.utcSec, e.utcText = sec, text[:len(`"2006-01-02T15:04:05.`)]
	}
	dst = append(dst, e.utcText...)
	dst = appendNine(dst, t.Nanosecond())
	return append(dst, 'Z', '"')
}

// appendNine writes the nine last decimal digits of v >= 0, zero-padded,
// two digits at a time.
func appendNine(dst []byte, v int) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 9)[:n+9]
	putNine((*[9]byte)(dst[n:]), uint(v))
	return dst
}

// putNine writes the nine last decimal digits of u, zero-padded, to b.
func putNine(b *[9]byte, u uint) {
	// Split in parts whose digits are found side by side, rather than by
	// a chain of divisions.
	r := u % 1e8
	hi, lo := r/1e4, r%1e4
	b[0] = byte('0' + u/1e8%10)
	putTwo(b[1:], hi/100)
	putTwo(b[3:], hi%100)
	putTwo(b[5:], lo/100)
	putTwo(b[7:], lo%100)
}

// putTwo writes the two decimal digits of v < 100 to b.
func putTwo(b []byte, v uint) {
	b[0], b[1] = twoDigits[2*v], twoDigits[2*v+1]
}

// twoDigits holds "00" to "99".
const twoDigits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

func appendTraceID(dst []byte, id TraceID) []byte {
	dst = append(dst, '"')
	dst = binary.BigEndian.AppendUint64(dst, hexWord(binary.BigEndian.Uint32(id[0:4])))
	dst = binary.BigEndian.AppendUint64(dst, hexWord(binary.BigEndian.Uint32(id[4:8])))
	dst = binary.BigEndian.AppendUint64(dst, hexWord(binary.BigEndian.Uint32(id[8:12])))
	dst = binary.BigEndian.AppendUint64(dst, hexWord(binary.BigEndian.Uint32(id[12:16])))
	return append(dst, '"')
}

// appendSpanID writes a zero id as "", as SpanID.String does, because a
// zero parent is how a root span says it has none.
func appendSpanID(dst []byte, id SpanID) []byte {
	dst = append(dst, '"')
	if id.IsValid() {
		dst = binary.BigEndian.AppendUint64(dst, hexWord(binary.BigEndian.Uint32(id[0:4])))
		dst = binary.BigEndian.AppendUint64(dst, hexWord(binary.BigEndian.Uint32(id[4:8])))
	}
	return append(dst, '"')
}

// hexWord returns the eight lowercase hex digits of x, most significant
// first when stored big-endian: all the nibbles converted at once, where
// hex.Encode looks each up in turn (a tenth of a span's encoding).
func hexWord(x uint32) uint64 {
	const ones = 0x0101010101010101
	y := uint64(x)
	y = (y&0xffff0000)<<16 | y&0xffff
	y = (y&0x0000ff000000ff00)<<8 | y&0x000000ff000000ff
	y = (y&0x00f000f000f000f0)<<4 | y&0x000f000f000f000f // a nibble a byte
	// Nibbles from 10 up carry into bit 4 when 6 is added: those get
	// 'a'-'0'-10 more than '0'.
	return y + '0'*ones + (y+6*ones)>>4&ones*('a'-'0'-10)
}

// appendUnixTime writes t as an exact decimal number of seconds since the
// epoch: the integer seconds, then the nanoseconds with trailing zeros
// trimmed. Unlike a float64 this keeps every nanosecond.
func appendUnixTime(dst []byte, t time.Time) []byte {
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	if sec < 0 && nsec > 0 {
		// -1.25 s is Unix() -2 plus 0.75 s: write the magnitude instead.
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(-(sec + 1)), 10)
		nsec = 1e9 - nsec
	} else {
		dst = strconv.AppendInt(dst, sec, 10)
	}
	return appendNanos(dst, nsec)
}

// appendUnixTime is the function appendUnixTime, writing the digits of
// the same whole second as the last time from e's copy of them.
func (e *Encoder) appendUnixTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if e == nil || sec < 0 {
		return appendUnixTime(dst, t)
	}
	if sec != e.sec || len(e.secText) == 0 {
		e.sec, e.secText = sec, strconv.AppendInt(e.secText[:0], sec, 10)
	}
	dst = append(dst, e.secText...)
	return appendNanos(dst, int64(t.Nanosecond()))
}

// appendNanos writes nsec nanoseconds, less than a second, as the
// fraction of appendUnixTime: nothing for none, else a '.' and its
// digits without trailing zeros.
func appendNanos(dst []byte, nsec int64) []byte {
	if nsec == 0 {
		return dst
	}
	var frac [10]byte
	frac[0] = '.'
	putNine((*[9]byte)(frac[1:]), uint(nsec))
	n := len(frac)
	for frac[n-1] == '0' {
		n--
	}
	return append(dst, frac[:n]...)
}

// appendAttrs writes attrs as a JSON object in slice order. Keys are
// written as they are, even when they start with "$": at this level an
// object is always a map, so no key can be read as a wrapper.
func appendAttrs(dst []byte, attrs Attrs) []byte { return appendAttrsAt(dst, nil, attrs, 0) }

// appendAttrs is the function appendAttrs, telling plain keys by e's
// memory of them.
func (e *Encoder) appendAttrs(dst []byte, attrs Attrs) []byte {
	return appendAttrsAt(dst, e, attrs, 0)
}

// appendAttrsAt writes attrs, the members of a map inside level slices and
// maps; e, if not nil, remembers plain keys.
func appendAttrsAt(dst []byte, e *Encoder, attrs Attrs, level int) []byte {
	dst = append(dst, '{')
	for i := range attrs {
		kv := &attrs[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		// A key is almost always plain ASCII: written with its quotes
		// and the colon in three copies, without appendString's scan.
		if e.plainKey(kv.Key) {
			dst = append(dst, '"')
			dst = append(dst, kv.Key...)
			dst = append(dst, '"', ':')
		} else {
			dst = appendString(dst, kv.Key)
			dst = append(dst, ':')
		}
		// The scalars are written here, reading the value in place
		// rather than passing a copy of it to appendValueAt.
		switch kv.Value.kind {
		case KindString:
			dst = appendString(dst, kv.Value.str)
		case KindInt64:
			dst = strconv.AppendInt(dst, int64(kv.Value.num), 10)
		case KindFloat64:
			dst = appendFloat(dst, math.Float64frombits(kv.Value.num))
		case KindBool:
			dst = strconv.AppendBool(dst, kv.Value.num != 0)
		default:
			dst = appendValueAt(dst, kv.Value, level)
		}
	}
	return append(dst, '}')
}

// appendValue writes v so that the decoder reads back an Equal value:
//
//   - empty: null; bool: true or false; int64: an integer literal;
//   - float64: the shortest form that holds a '.' or an 'e', so it is never
//     read as an int64; NaN and ±Inf: {"$float":"NaN"}, {"$float":"Infinity"},
//     {"$float":"-Infinity"} (a NaN other than math.NaN() keeps its bits as
//     {"$float":"NaN(0x7ff8000000000000)"});
//   - string: a JSON string (see appendString);
//   - bytes: {"$bytes":"<standard base64>"};
//   - bool[], int64[], float64[], string[]: a JSON array, which the decoder
//     types by its elements; empty: {"$bool[]":[]} and so on (Kind.String);
//   - slice: a JSON array, or {"$slice":[...]} when it is empty or all its
//     elements have one scalar kind, which the decoder would read as typed;
//   - map: a JSON object, or {"$map":{...}} when it has exactly one key and
//     that key starts with "$", which the decoder would read as a wrapper;
//     a key given more than once counts once, since the decoder keeps one
//     member per key (its last value).
//
// A slice or map nested deeper than MaxDepth is written as TruncatedMarker,
// as LimitDepth would have it, so the decoder never meets a line nested
// deeper than it reads.
func appendValue(dst []byte, v Value) []byte { return appendValueAt(dst, v, 0) }

// appendValueAt writes v, a value inside level slices and maps.
func appendValueAt(dst []byte, v Value, level int) []byte {
	// The scalars read v's fields, not its methods: a call on v copies
	// all of it first, and that copy of a Value just stored stalls the
	// processor, a cost as large as writing the scalar.
	switch v.kind {
	case KindBool:
		return strconv.AppendBool(dst, v.num != 0)
	case KindInt64:
		return strconv.AppendInt(dst, int64(v.num), 10)
	case KindFloat64:
		return appendFloat(dst, math.Float64frombits(v.num))
	case KindString:
		return appendString(dst, v.str)
	}
	if level >= MaxDepth && v.Kind().IsContainer() {
		return appendString(dst, TruncatedMarker)
	}
	switch v.Kind() {
	case KindBytes:
		dst = append(dst, `{"$bytes":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.AsBytes())
		return append(dst, `"}`...)
	case KindBoolSlice:
		return appendTyped(dst, KindBoolSlice, v.AsBoolSlice(), strconv.AppendBool)
	case KindInt64Slice:
		return appendTyped(dst, KindInt64Slice, v.AsInt64Slice(), appendInt)
	case KindFloat64Slice:
		return appendTyped(dst, KindFloat64Slice, v.AsFloat64Slice(), appendFloat)
	case KindStringSlice:
		return appendTyped(dst, KindStringSlice, v.AsStringSlice(), appendString)
	case KindSlice:
		return appendSlice(dst, v.AsSlice(), level+1)
	case KindMap:
		return appendMap(dst, v.AsMap(), level+1)
	}
	return append(dst, "null"...)
}

func appendInt(dst []byte, i int64) []byte { return strconv.AppendInt(dst, i, 10) }

// appendTyped writes a typed slice as a plain array. An empty one has no
// element to type it by, so it is wrapped in its kind's tag.
func appendTyped[T any](dst []byte, k Kind, s []T, appendElem func([]byte, T) []byte) []byte {
	if len(s) == 0 {
		dst = append(dst, `{"$`...)
		dst = append(dst, k.String()...)
		return append(dst, `":[]}`...)
	}
	dst = append(dst, '[')
	for i, e := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendElem(dst, e)
	}
	return append(dst, ']')
}

func appendSlice(dst []byte, s []Value, level int) []byte {
	if level >= MaxDepth {
		// Elements that are slices or maps are written as the marker, a
		// string, which decides how the slice must be written to be read
		// back as LimitDepth has it.
		limited, _ := limitDepth(SliceValue(s...), level-1)
		s = limited.AsSlice()
	}
	wrap := looksTyped(s)
	if wrap {
		dst = append(dst, `{"$slice":`...)
	}
	dst = append(dst, '[')
	for i := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendValueAt(dst, s[i], level)
	}
	dst = append(dst, ']')
	if wrap {
		dst = append(dst, '}')
	}
	return dst
}

// looksTyped reports whether the decoder would read s, written as a plain
// array, as a typed slice (or, when empty, could not tell what it was).
func looksTyped(s []Value) bool {
	if len(s) == 0 {
		return true
	}
	k := s[0].Kind()
	if _, ok := typedSliceOf(k); !ok {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i].Kind() != k {
			return false
		}
	}
	return true
}

// typedSliceOf returns the typed slice kind whose elements are of kind k.
func typedSliceOf(k Kind) (Kind, bool) {
	switch k {
	case KindBool:
		return KindBoolSlice, true
	case KindInt64:
		return KindInt64Slice, true
	case KindFloat64:
		return KindFloat64Slice, true
	case KindString:
		return KindStringSlice, true
	}
	return KindEmpty, false
}

func appendMap(dst []byte, m Attrs, level int) []byte {
	if len(m) > 0 && isWrapperKey(m[0].Key) && oneWrittenKey(m) {
		dst = append(dst, `{"$map":`...)
		dst = appendAttrsAt(dst, nil, m, level)
		return append(dst, '}')
	}
	return appendAttrsAt(dst, nil, m, level)
}

// oneWrittenKey reports whether every key of m is written as the same JSON
// string, so that the decoder, which keeps one member per key, reads m as
// an object of one member.
func oneWrittenKey(m Attrs) bool {
	for _, kv := range m[1:] {
		if !sameWrittenString(kv.Key, m[0].Key) {
			return false
		}
	}
	return true
}

// sameWrittenString reports whether appendString writes a and b alike: each
// invalid UTF-8 byte is written as U+FFFD, so "\xff" and "\ufffd" are.
func sameWrittenString(a, b string) bool {
	if a == b {
		return true
	}
	if utf8.ValidString(a) && utf8.ValidString(b) {
		return false
	}
	for len(a) > 0 && len(b) > 0 {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) == len(b)
}

// isWrapperKey reports whether key, as the only key of an object value,
// makes the object a wrapper rather than a map.
func isWrapperKey(key string) bool { return len(key) > 0 && key[0] == '$' }

// appendFloat writes f as encoding/json would (shortest form, exponent
// only for very small or large magnitudes), plus ".0" when that form looks
// like an integer, so the decoder keeps f a float64.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return appendNaN(dst, f)
	case math.IsInf(f, 1):
		return append(dst, `{"$float":"Infinity"}`...)
	case math.IsInf(f, -1):
		return append(dst, `{"$float":"-Infinity"}`...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
		// Shorten e-07 to e-7, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
		return dst
	}
	if abs != 0 && abs < 1e15 { // 0 and -0 are left to strconv
		if n, k, ok := shortDecimal(abs); ok {
			if k == 0 {
				return append(appendScaled(dst, f < 0, n, 0), ".0"...)
			}
			return appendScaled(dst, f < 0, n, k)
		}
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

// pow10 holds the powers of ten shortDecimal tries, all exact float64s.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// shortDecimal finds the decimal n / 10^k (n not ending in 0 unless k is
// 0) that abs, at least 1e-6 and below 1e15, is the nearest float64 to,
// when n is below 10^15 and k at most 8: most floats people write, 0.2
// or 41.5. Such a decimal has at most 15 significant digits, and no two
// decimals of at most 15 digits round to one float64, so it is the
// shortest decimal that reads back as abs: the digits strconv's shortest
// form writes, found at the cost of a few multiplications and divisions.
func shortDecimal(abs float64) (n uint64, k int, ok bool) {
	for k := range pow10 {
		m := abs * pow10[k]
		if m >= 1e15 {
			break
		}
		// m is within a fraction of a unit of the decimal's n, if there
		// is one; dividing back checks it, exactly: n and 10^k are exact,
		// and the division rounds to the float64 nearest n / 10^k.
		n := uint64(m + 0.5)
		if float64(n)/pow10[k] == abs {
			return n, k, k == 0 || n%10 != 0
		}
	}
	return 0, 0, false
}

// appendScaled writes n / 10^k in decimal, k at most 20: the integer part,
// then a '.' and the fraction's digits, without trailing zeros, unless the
// fraction is 0. With neg, a '-' first.
func appendScaled(dst []byte, neg bool, n uint64, k int) []byte {
	var buf [24]byte // 20 digits of n, a '.', a '0' and a '-' at most
	i := len(buf)
	trimming := true
	for j := 0; j < k; j++ {
		d := byte('0' + n%10)
		n /= 10
		if trimming && d == '0' {
			continue
		}
		trimming = false
		i--
		buf[i] = d
	}
	if !trimming {
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return append(dst, buf[i:]...)
}

// appendElapsedMS writes d in milliseconds as strconv.AppendFloat writes
// float64(d) / 1e6 in the 'f' format, shortest form: a Duration in
// milliseconds is finite and below 1e13, so 'f' never needs an exponent
// and the result is always a JSON number. Below 10^15 ns (11 days), d is
// an exact float64 and d / 10^6 a decimal of at most 15 significant
// digits, so that decimal is the shortest form (see shortDecimal), and
// d's own digits write it.
func appendElapsedMS(dst []byte, d time.Duration) []byte {
	if d <= -1e15 || d >= 1e15 {
		return strconv.AppendFloat(dst, float64(d)/float64(time.Millisecond), 'f', -1, 64)
	}
	u := uint64(d)
	if d < 0 {
		dst = append(dst, '-')
		u = uint64(-d)
	}
	dst = strconv.AppendUint(dst, u/1e6, 10)
	frac := uint(u % 1e6)
	if frac == 0 {
		return dst
	}
	var b [7]byte
	b[0] = '.'
	putTwo(b[1:], frac/1e4)
	putTwo(b[3:], frac/100%100)
	putTwo(b[5:], frac%100)
	n := len(b)
	for b[n-1] == '0' {
		n--
	}
	return append(dst, b[:n]...)
}

// canonicalNaN is the bit pattern of math.NaN(), the NaN written as plain
// "NaN". Other NaNs carry their bits so that values round-trip bit for bit,
// as Value.Equal compares them.
var canonicalNaN = math.Float64bits(math.NaN())

func appendNaN(dst []byte, f float64) []byte {
	bits := math.Float64bits(f)
	if bits == canonicalNaN {
		return append(dst, `{"$float":"NaN"}`...)
	}
	dst = append(dst, `{"$float":"NaN(0x`...)
	var b [8]byte
	for i := range b {
		b[i] = byte(bits >> (56 - 8*i))
	}
	dst = hex.AppendEncode(dst, b[:])
	return append(dst, `)"}`...)
}

// jsonSafe[c] reports whether the ASCII byte c may appear unescaped in a
// JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. The result is always valid JSON,
// whatever s holds: each byte of s that is not part of valid UTF-8 is
// written as U+FFFD, as encoding/json does (lossy: such strings come back
// with U+FFFD in place of those bytes). Control characters, '"' and '\' are escaped, and
// so are U+2028 and U+2029, which JavaScript does not allow in strings.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	i := plainPrefix(s)
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0 // s[start:i] is pending, to be copied as is
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !jsonSafe[c] {
				dst = append(dst, s[start:i]...)
				dst = appendEscapedASCII(dst, c)
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// Written as the character itself, as a real U+FFFD in s is,
			// so that decoding and encoding again gives the same bytes.
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			start = i + size
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainString reports whether appendString writes s as it is, between its
// quotes: whether s is all jsonSafe ASCII.
func plainString(s string) bool { return plainPrefix(s) == len(s) }

// plainPrefix returns the length of a prefix of s that appendString writes
// as it is: all of s when s is plain, else at most up to the first byte
// that is not. Strings shorter than a word are looked up byte by byte,
// longer ones a word at a time (safePrefix).
func plainPrefix(s string) int {
	if len(s) >= 8 {
		return safePrefix(s)
	}
	for i := 0; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			return i
		}
	}
	return len(s)
}

// jsonPlain[c] is jsonSafe[c] for every byte: false from utf8.RuneSelf up.
var jsonPlain = func() (t [256]bool) {
	copy(t[:], jsonSafe[:])
	return t
}()

// safePrefix returns the length of a prefix of s that holds only ASCII
// bytes written as they are (jsonSafe): all of s, or a multiple of 8
// bytes. It tests eight bytes at a time, the last eight of a string of
// eight or more too, as most strings are keys and names of nothing else,
// so that appendString copies them at once rather than byte by byte.
func safePrefix(s string) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	if len(s) < 8 {
		return 0
	}
	for i := 0; ; {
		j := min(i, len(s)-8) // the last word overlaps the one before
		x := uint64(s[j]) | uint64(s[j+1])<<8 | uint64(s[j+2])<<16 | uint64(s[j+3])<<24 |
			uint64(s[j+4])<<32 | uint64(s[j+5])<<40 | uint64(s[j+6])<<48 | uint64(s[j+7])<<56
		// A byte's high bit is set in the mask when the byte is not
		// ASCII (x), is below 0x20 (x-0x20 wraps), or is '"' or '\\'
		// (x^q is 0, and 0-1 wraps). A byte of x from 0x80 up, already
		// flagged, is the only other way to set it: so is a borrow, which
		// comes only from a lower byte that wrapped. Whether any byte is
		// flagged is therefore exact.
		if (x|(x-0x20*lo)|(x^('"'*lo)-lo)|(x^('\\'*lo)-lo))&hi != 0 {
			return i
		}
		if i += 8; i >= len(s) {
			return len(s)
		}
	}
}

func appendEscapedASCII(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
