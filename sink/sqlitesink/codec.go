package sqlitesink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/query"
)

// The attrs, findings and resource columns hold attributes in a compact
// binary form of this package's own, read back losslessly (every Value
// kind, key order kept) and faster than JSON:
//
//	attrs = uvarint(count) { string(key) value }
//	value = kind:byte payload
//
// where string is uvarint(length) bytes, and the payload depends on the
// kind: bool one byte, int64 a zigzag varint, float64 8 bytes little
// endian, string and bytes a string, typed slices uvarint(count) and the
// elements, a slice uvarint(count) values, a map an attrs. The format is
// part of the schema: changing it needs a new schema version.

// Slices and maps nested deeper than stagetrace.MaxDepth are written as
// stagetrace.TruncatedMarker, so no column this package writes nests
// deeper. The decoder follows no deeper either, so a corrupt column cannot
// exhaust the stack; it reads a deeper value, written before the limit was
// enforced, as the marker too, so such a row still reads.

var errCorrupt = errors.New("corrupt attribute column")

func appendAttrs(dst []byte, attrs stagetrace.Attrs) []byte { return appendAttrsAt(dst, attrs, 0) }

// appendAttrsAt writes attrs, the members of a map inside level slices and
// maps.
func appendAttrsAt(dst []byte, attrs stagetrace.Attrs, level int) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(attrs)))
	for i := range attrs {
		dst = appendString(dst, attrs[i].Key)
		dst = appendValue(dst, attrs[i].Value, level)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendValue writes v, a value inside level slices and maps.
func appendValue(dst []byte, v stagetrace.Value, level int) []byte {
	if level >= stagetrace.MaxDepth && v.Kind().IsContainer() {
		v = stagetrace.StringValue(stagetrace.TruncatedMarker)
	}
	dst = append(dst, byte(v.Kind()))
	switch v.Kind() {
	case stagetrace.KindBool:
		if v.AsBool() {
			return append(dst, 1)
		}
		return append(dst, 0)
	case stagetrace.KindInt64:
		return binary.AppendVarint(dst, v.AsInt64())
	case stagetrace.KindFloat64:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.AsFloat64()))
	case stagetrace.KindString:
		return appendString(dst, v.AsString())
	case stagetrace.KindBytes:
		b := v.AsBytes()
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		return append(dst, b...)
	case stagetrace.KindBoolSlice:
		s := v.AsBoolSlice()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		for _, e := range s {
			if e {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
		return dst
	case stagetrace.KindInt64Slice:
		s := v.AsInt64Slice()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		for _, e := range s {
			dst = binary.AppendVarint(dst, e)
		}
		return dst
	case stagetrace.KindFloat64Slice:
		s := v.AsFloat64Slice()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		for _, e := range s {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e))
		}
		return dst
	case stagetrace.KindStringSlice:
		s := v.AsStringSlice()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		for _, e := range s {
			dst = appendString(dst, e)
		}
		return dst
	case stagetrace.KindSlice:
		s := v.AsSlice()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		for _, e := range s {
			dst = appendValue(dst, e, level+1)
		}
		return dst
	case stagetrace.KindMap:
		return appendAttrsAt(dst, v.AsMap(), level+1)
	}
	return dst
}

// decodeAttrs reads attributes written by appendAttrs. An empty column is
// no attributes.
func decodeAttrs(b []byte) (stagetrace.Attrs, error) {
	var d decoder
	return d.decodeAttrs(b)
}

// decodeAttrs is decodeAttrs with d's stores: a decoder reading the
// columns of many spans shares their keys.
func (d *decoder) decodeAttrs(b []byte) (stagetrace.Attrs, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d.b, d.err = b, nil
	attrs := d.attrs(0)
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return attrs, nil
}

type decoder struct {
	b   []byte
	err error
	// A decoder reading a column of many spans (shared) keeps the
	// attribute keys and short string values read, so that spans, which
	// mostly repeat each other's, share them; and it takes the attributes
	// of each span from one larger array. Only so many values are kept:
	// many are unique. Before looking one up, it compares it with the
	// one read at the same place in the column before (at: the place of
	// the attribute read), which is most often the same.
	shared               bool
	keys                 map[string]string
	values               map[string]string
	slab                 []stagetrace.Attr
	at                   int
	lastKeys, lastValues [lastKept]string
}

// sharedDecoder returns a decoder for the columns of many spans.
func sharedDecoder() decoder {
	return decoder{shared: true, keys: map[string]string{}, values: map[string]string{}}
}

const (
	lastKept       = 8       // places compared with their last key and value
	sharedValues   = 1 << 12 // values kept at most
	sharedValueLen = 64      // longest value kept
	slabAttrs      = 1 << 10 // attributes per array
)

// newAttrs returns attributes of capacity n, at level.
func (d *decoder) newAttrs(n, level int) stagetrace.Attrs {
	if !d.shared || level > 0 {
		return make(stagetrace.Attrs, 0, n)
	}
	if cap(d.slab)-len(d.slab) < n {
		d.slab = make([]stagetrace.Attr, 0, max(n, slabAttrs))
	}
	k := len(d.slab)
	d.slab = d.slab[:k+n]
	return d.slab[k : k : k+n]
}

// stringValue reads a string value.
func (d *decoder) stringValue() string {
	if !d.shared {
		return d.string()
	}
	b := d.bytes()
	if len(b) > sharedValueLen {
		return string(b)
	}
	return d.share(b, d.values, &d.lastValues, sharedValues)
}

// key reads an attribute key.
func (d *decoder) key() string {
	if !d.shared {
		return d.string()
	}
	return d.share(d.bytes(), d.keys, &d.lastKeys, math.MaxInt)
}

// share returns b as a string: the one read at the same place before
// (last), or the one in kept, else a new one, kept while kept holds fewer
// than most.
func (d *decoder) share(b []byte, kept map[string]string, last *[lastKept]string, most int) string {
	if d.at < lastKept && last[d.at] == string(b) {
		return last[d.at]
	}
	s, ok := kept[string(b)]
	if !ok {
		s = string(b)
		if len(kept) < most {
			kept[s] = s
		}
	}
	if d.at < lastKept {
		last[d.at] = s
	}
	return s
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) uvarint(what string) uint64 {
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[k:]
	return n
}

// count reads an element count, refusing one larger than the bytes left
// could hold (each element takes at least min bytes), so that a corrupt
// count cannot make the decoder allocate without bound.
func (d *decoder) count(min int) int {
	n := d.uvarint("count")
	if d.err != nil || n > uint64(len(d.b)/min) {
		d.fail("count")
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint("length")
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail("length")
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("value")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.fail("integer")
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail("float")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return f
}

// attrs reads the members of a map inside level slices and maps.
func (d *decoder) attrs(level int) stagetrace.Attrs {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	attrs := d.newAttrs(n, level)
	for j := range n {
		d.at = lastKept // no place
		if level == 0 {
			d.at = j
		}
		k := d.key()
		v := d.value(level)
		if d.err != nil {
			return nil
		}
		attrs = append(attrs, stagetrace.Attr{Key: k, Value: v})
	}
	return attrs
}

// value reads a value inside level slices and maps.
func (d *decoder) value(level int) stagetrace.Value {
	k := stagetrace.Kind(d.byte())
	if level >= stagetrace.MaxDepth && k.IsContainer() {
		d.skipContainer(k)
		return stagetrace.StringValue(stagetrace.TruncatedMarker)
	}
	return d.payload(k, level)
}

// payload reads the rest of a value of kind k inside level slices and maps.
func (d *decoder) payload(k stagetrace.Kind, level int) stagetrace.Value {
	switch k {
	case stagetrace.KindEmpty:
		return stagetrace.Value{}
	case stagetrace.KindBool:
		return stagetrace.BoolValue(d.byte() != 0)
	case stagetrace.KindInt64:
		return stagetrace.Int64Value(d.varint())
	case stagetrace.KindFloat64:
		return stagetrace.Float64Value(d.float())
	case stagetrace.KindString:
		return stagetrace.StringValue(d.stringValue())
	case stagetrace.KindBytes:
		return stagetrace.BytesValue(append([]byte{}, d.bytes()...))
	case stagetrace.KindBoolSlice:
		s := make([]bool, d.count(1))
		for i := range s {
			s[i] = d.byte() != 0
		}
		return stagetrace.BoolSliceValue(s)
	case stagetrace.KindInt64Slice:
		s := make([]int64, d.count(1))
		for i := range s {
			s[i] = d.varint()
		}
		return stagetrace.Int64SliceValue(s)
	case stagetrace.KindFloat64Slice:
		s := make([]float64, d.count(8))
		for i := range s {
			s[i] = d.float()
		}
		return stagetrace.Float64SliceValue(s)
	case stagetrace.KindStringSlice:
		s := make([]string, d.count(1))
		for i := range s {
			s[i] = d.string()
		}
		return stagetrace.StringSliceValue(s)
	case stagetrace.KindSlice:
		s := make([]stagetrace.Value, d.count(1))
		for i := range s {
			s[i] = d.value(level + 1)
		}
		return stagetrace.SliceValue(s...)
	case stagetrace.KindMap:
		return stagetrace.MapValue(d.attrs(level + 1)...)
	default:
		d.fail(fmt.Sprintf("kind %d", k))
		return stagetrace.Value{}
	}
}

// skipContainer reads past the rest of a slice or map of kind k, whose
// kind byte has been read, without recursion: each open container is a
// count of the values left in it, and a map's values each follow a key.
func (d *decoder) skipContainer(k stagetrace.Kind) {
	type open struct {
		isMap bool
		left  int
	}
	var stack []open
	push := func(k stagetrace.Kind) {
		if k == stagetrace.KindMap {
			stack = append(stack, open{isMap: true, left: d.count(2)})
		} else {
			stack = append(stack, open{left: d.count(1)})
		}
	}
	push(k)
	for len(stack) > 0 && d.err == nil {
		top := &stack[len(stack)-1]
		if top.left == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		top.left--
		if top.isMap {
			d.bytes() // the key
		}
		if k := stagetrace.Kind(d.byte()); k.IsContainer() {
			push(k)
		} else {
			d.payload(k, 0)
		}
	}
}

// The events column holds a span's events:
//
//	events = uvarint(count) { string(name) varint(unix nanoseconds) attrs }
//
// The run, stage, trace and span of each event are the span's.

func appendEvents(dst []byte, events []*stagetrace.TraceEvent) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(events)))
	for _, ev := range events {
		dst = appendEvent(dst, ev)
	}
	return dst
}

func appendEvent(dst []byte, ev *stagetrace.TraceEvent) []byte {
	dst = appendString(dst, ev.Name)
	dst = binary.AppendVarint(dst, query.StoredUnixNano(ev.Time))
	return appendAttrs(dst, ev.Attrs)
}

// decodeEvents reads the events column of span.
func decodeEvents(b []byte, span *stagetrace.StageSpan) ([]stagetrace.TraceEvent, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := decoder{b: b}
	n := d.count(3)
	events := make([]stagetrace.TraceEvent, 0, n)
	for range n {
		ev := stagetrace.TraceEvent{
			Name:    d.string(),
			RunID:   span.RunID,
			Stage:   span.Stage,
			TraceID: span.TraceID,
			SpanID:  span.SpanID,
		}
		ev.Time = query.StoredTime(d.varint())
		ev.Attrs = d.attrs(0)
		if d.err != nil {
			return nil, d.err
		}
		events = append(events, ev)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return events, nil
}

// lookupAttr returns the value of the first attribute named key in a
// column written by appendAttrs, reading past the others without decoding
// them, as stagetrace.Attrs.Get finds it.
func lookupAttr(b []byte, key string) (stagetrace.Value, bool, error) {
	if len(b) == 0 {
		return stagetrace.Value{}, false, nil
	}
	d := decoder{b: b}
	n := d.count(2)
	for range n {
		k := d.bytes()
		if d.err == nil && string(k) == key {
			v := d.value(0)
			return v, d.err == nil, d.err
		}
		d.skipValue()
		if d.err != nil {
			break
		}
	}
	return stagetrace.Value{}, false, d.err
}

// skipValue reads past a value without keeping it.
func (d *decoder) skipValue() {
	switch k := stagetrace.Kind(d.byte()); {
	case d.err != nil:
	case k.IsContainer():
		d.skipContainer(k)
	case k == stagetrace.KindString || k == stagetrace.KindBytes:
		d.bytes()
	default:
		d.payload(k, 0)
	}
}
