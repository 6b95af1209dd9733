package stagetrace

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reads the JSON lines encode.go writes, with a hand-written
// scanner. Decoded records never alias the input, so callers may reuse
// their buffers. Fields a record type does not have are skipped, so lines
// from newer writers still decode; only a missing or unknown "type" is
// fatal for a line. A key given twice in an object (hand-written lines,
// other writers) is read as Python's json module and JavaScript's
// JSON.parse read it, so that a filter matches what those tools show: the
// key keeps its first place and takes its last value.

// Record is one decoded JSON line: exactly one of Span and Event is set.
type Record struct {
	Span  *StageSpan
	Event *TraceEvent
}

// DecodeLine decodes one JSON line written by an Encoder. Leading and
// trailing white space, such as the newline, is allowed.
func DecodeLine(line []byte) (Record, error) {
	var s scanner
	rec, err := s.record(line)
	if err != nil {
		return Record{}, fmt.Errorf("stagetrace: %w", err)
	}
	return rec, nil
}

// UnmarshalJSON decodes the JSON form of a stage span, as MarshalJSON
// writes it.
func (s *StageSpan) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil // encoding/json's convention for null
	}
	rec, err := DecodeLine(data)
	if err != nil {
		return err
	}
	if rec.Span == nil {
		return errors.New(`stagetrace: record is a trace_event, not a stage_span`)
	}
	*s = *rec.Span
	return nil
}

// UnmarshalJSON decodes the JSON form of a trace event, as MarshalJSON
// writes it.
func (e *TraceEvent) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil // encoding/json's convention for null
	}
	rec, err := DecodeLine(data)
	if err != nil {
		return err
	}
	if rec.Event == nil {
		return errors.New(`stagetrace: record is a stage_span, not a trace_event`)
	}
	*e = *rec.Event
	return nil
}

const (
	// defaultMaxLine is the longest line, newline excluded, a Decoder reads.
	defaultMaxLine = 64 << 20
	// maxKeptLineBuffer is the largest line buffer a Decoder keeps between
	// lines; one long line should not pin its memory for the whole stream.
	maxKeptLineBuffer = 4 << 20
	// maxSharedResources bounds the Decoder's table of resources.
	maxSharedResources = 256
	// maxInternedKeys and maxInternedKeyLen bound a Decoder's table of
	// attribute keys.
	maxInternedKeys   = 4096
	maxInternedKeyLen = 256
	// maxKeptStack is the most members or elements a Decoder keeps room
	// for between lines.
	maxKeptStack = 4096
)

// Decoder reads records from a stream of JSON lines. Spans of one stream
// that carry the same resource (byte for byte) share one *Resource.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	r       *bufio.Reader
	buf     []byte // the current line, when it spans reads
	line    int    // number of the line last read, from 1
	maxLine int
	scan    scanner // kept, with its tables and buffers, from line to line
	err     error   // read error, returned from then on
}

// NewDecoder returns a Decoder reading JSON lines from r. Lines may be up
// to 64 MiB long.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{
		r:       bufio.NewReaderSize(r, 64<<10),
		maxLine: defaultMaxLine,
		scan: scanner{
			resources: &resourceTable{},
			keys:      make(map[string]string),
		},
	}
}

// Next returns the next record. Blank lines are skipped. At the end of the
// stream it returns io.EOF. When a line cannot be decoded, the error names
// the line number, and the next call goes on with the following line.
func (d *Decoder) Next() (Record, error) {
	for {
		line, tooLong, err := d.readLine()
		if err != nil {
			return Record{}, err
		}
		d.line++
		if tooLong {
			return Record{}, fmt.Errorf("stagetrace: line %d: longer than %d bytes", d.line, d.maxLine)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, err := d.scan.record(line)
		if err != nil {
			return Record{}, fmt.Errorf("stagetrace: line %d: %w", d.line, err)
		}
		return rec, nil
	}
}

// readLine returns the next line with its newline, valid until the next
// call. A line longer than d.maxLine is read to its end but not kept.
func (d *Decoder) readLine() (line []byte, tooLong bool, err error) {
	if d.err != nil {
		return nil, false, d.err
	}
	if cap(d.buf) > maxKeptLineBuffer {
		d.buf = nil
	}
	d.buf = d.buf[:0]
	n := 0 // bytes of this line read so far, kept or not
	for {
		chunk, err := d.r.ReadSlice('\n')
		n += len(chunk)
		content := n
		if err == nil {
			content-- // the newline
		}
		if content > d.maxLine && !tooLong {
			tooLong = true
			d.buf = d.buf[:0]
		}
		if !tooLong {
			if err == nil && len(d.buf) == 0 {
				return chunk, false, nil // the common case: no copy
			}
			d.buf = append(d.buf, chunk...)
		}
		switch {
		case err == nil:
			return d.buf, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && n > 0:
			return d.buf, tooLong, nil // a last line without a newline
		default:
			d.err = err
			return nil, false, err
		}
	}
}

// resourceTable hands out one *Resource per distinct encoded resource.
type resourceTable struct {
	m map[string]*Resource
}

// get returns the resource encoded as raw, made from attrs when raw is new.
func (t *resourceTable) get(raw []byte, attrs Attrs) *Resource {
	if t == nil {
		return &Resource{Attrs: attrs}
	}
	if r, ok := t.m[string(raw)]; ok {
		return r
	}
	if t.m == nil {
		t.m = make(map[string]*Resource)
	} else if len(t.m) >= maxSharedResources {
		clear(t.m)
	}
	r := &Resource{Attrs: attrs}
	t.m[string(raw)] = r
	return r
}

// decodeError says what is wrong with a line and where.
type decodeError struct {
	off   int    // byte offset in the line
	field string // top-level field being decoded, if any
	msg   string
}

func (e *decodeError) Error() string {
	if e.field != "" {
		return fmt.Sprintf("field %q at offset %d: %s", e.field, e.off, e.msg)
	}
	return fmt.Sprintf("offset %d: %s", e.off, e.msg)
}

// maxDepth bounds the nesting of values, so hostile input cannot exhaust
// the stack. It is encoding/json's limit.
const maxDepth = 10000

// scanner reads JSON lines, one at a time.
type scanner struct {
	data  []byte // the line
	pos   int
	depth int
	field string // top-level field being read, for errors

	// Reused from value to value and line to line.
	tmp     []byte  // unescaped string
	members []Attr  // members of the objects being read, innermost last
	elems   []Value // elements of the arrays being read, innermost last

	// Shared across the lines of a Decoder; nil for DecodeLine.
	resources *resourceTable
	keys      map[string]string // interned attribute keys
}

// keyString returns k as a string. A Decoder returns one string for every
// occurrence of a key, so keys repeated from line to line are allocated once.
func (s *scanner) keyString(k []byte) string {
	if s.keys == nil || len(k) > maxInternedKeyLen {
		return string(k)
	}
	if key, ok := s.keys[string(k)]; ok {
		return key
	}
	if len(s.keys) >= maxInternedKeys {
		clear(s.keys)
	}
	key := string(k)
	s.keys[key] = key
	return key
}

// releaseLargeBuffers drops buffers grown by an unusually large line, so a
// Decoder does not keep their memory for the rest of the stream.
func (s *scanner) releaseLargeBuffers() {
	if cap(s.tmp) > maxKeptLineBuffer {
		s.tmp = nil
	}
	if cap(s.members) > maxKeptStack {
		s.members = nil
	}
	if cap(s.elems) > maxKeptStack {
		s.elems = nil
	}
}

func (s *scanner) errorf(off int, format string, args ...any) error {
	return &decodeError{off: off, field: s.field, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// found describes what is at the current position, for errors.
func (s *scanner) found() string {
	if s.pos >= len(s.data) {
		return "end of input"
	}
	switch s.data[s.pos] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "number"
	}
	if c := s.data[s.pos]; ' ' <= c && c < utf8.RuneSelf {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", s.data[s.pos])
}

// expectedErr reports that something else than what was wanted is here.
func (s *scanner) expectedErr(what string) error {
	return s.errorf(s.pos, "expected %s, found %s", what, s.found())
}

// open starts the object or array whose opening byte is at s.pos, and
// reports whether it is empty, in which case it is closed too.
func (s *scanner) open(close byte) (empty bool, err error) {
	if s.depth >= maxDepth {
		return false, s.errorf(s.pos, "nested deeper than %d levels", maxDepth)
	}
	s.depth++
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == close {
		s.pos++
		s.depth--
		return true, nil
	}
	return false, nil
}

// next is called after an object member or array element: it consumes
// ',' and reports true, or consumes close and reports false.
func (s *scanner) next(close byte) (more bool, err error) {
	s.skipSpace()
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',':
			s.pos++
			return true, nil
		case close:
			s.pos++
			s.depth--
			return false, nil
		}
	}
	return false, s.expectedErr(fmt.Sprintf("',' or '%c'", close))
}

// key reads an object key and the ':' after it. The bytes are valid until
// the next string is read.
func (s *scanner) key() ([]byte, error) {
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, s.expectedErr("string key")
	}
	k, err := s.strBytes()
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		return nil, s.expectedErr("':' after key")
	}
	s.pos++
	return k, nil
}

// strBytes reads the string at s.pos, unescaped. Bytes that are not valid
// UTF-8 become U+FFFD, as in encoding/json. The result aliases s.data or
// s.tmp, so it is valid until the next string is read.
func (s *scanner) strBytes() ([]byte, error) {
	start := s.pos
	for i := start + 1; i < len(s.data); {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return s.data[start+1 : i], nil
		case c == '\\' || c < 0x20:
			return s.strSlow(start, i)
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(s.data[i:])
			if r == utf8.RuneError && size == 1 {
				return s.strSlow(start, i)
			}
			i += size
		}
	}
	return nil, s.errorf(start, "unterminated string")
}

// strSlow goes on reading the string that starts at start from i, the
// first byte that needs more than copying.
func (s *scanner) strSlow(start, i int) ([]byte, error) {
	s.tmp = append(s.tmp[:0], s.data[start+1:i]...)
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return s.tmp, nil
		case c < 0x20:
			return nil, s.errorf(i, "unescaped control character 0x%02x in string", c)
		case c == '\\':
			n, err := s.unescape(i)
			if err != nil {
				return nil, err
			}
			i += n
		case c < utf8.RuneSelf:
			s.tmp = append(s.tmp, c)
			i++
		default:
			r, size := utf8.DecodeRune(s.data[i:])
			if r == utf8.RuneError && size == 1 {
				s.tmp = utf8.AppendRune(s.tmp, utf8.RuneError)
			} else {
				s.tmp = append(s.tmp, s.data[i:i+size]...)
			}
			i += size
		}
	}
	return nil, s.errorf(start, "unterminated string")
}

// unescape appends the character whose escape starts at s.data[i] to
// s.tmp, and returns the length of the escape.
func (s *scanner) unescape(i int) (int, error) {
	if i+1 >= len(s.data) {
		return 0, s.errorf(i, "unterminated string")
	}
	c := s.data[i+1]
	switch c {
	case '"', '\\', '/':
		s.tmp = append(s.tmp, c)
		return 2, nil
	case 'b':
		s.tmp = append(s.tmp, '\b')
		return 2, nil
	case 'f':
		s.tmp = append(s.tmp, '\f')
		return 2, nil
	case 'n':
		s.tmp = append(s.tmp, '\n')
		return 2, nil
	case 'r':
		s.tmp = append(s.tmp, '\r')
		return 2, nil
	case 't':
		s.tmp = append(s.tmp, '\t')
		return 2, nil
	case 'u':
		r, ok := hex4(s.data[i+2:])
		if !ok {
			return 0, s.errorf(i, `invalid \u escape, want 4 hex digits`)
		}
		n := 6
		if utf16.IsSurrogate(r) {
			// Only a high surrogate escape followed by a low one is a
			// character; anything else becomes U+FFFD, as in encoding/json.
			lo, ok := rune(0), false
			if i+12 <= len(s.data) && s.data[i+6] == '\\' && s.data[i+7] == 'u' {
				lo, ok = hex4(s.data[i+8:])
			}
			if dec := utf16.DecodeRune(r, lo); ok && dec != utf8.RuneError {
				r, n = dec, 12
			} else {
				r = utf8.RuneError
			}
		}
		s.tmp = utf8.AppendRune(s.tmp, r)
		return n, nil
	}
	return 0, s.errorf(i, "invalid escape %q in string", s.data[i:i+2])
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		d, ok := hexValue(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// numberBytes reads the number at s.pos, checking JSON's grammar, and
// reports whether it is an integer (no fraction, no exponent).
func (s *scanner) numberBytes() (num []byte, isInt bool, err error) {
	start, i := s.pos, s.pos
	digits := func() bool {
		j := i
		for i < len(s.data) && isDigit(s.data[i]) {
			i++
		}
		return i > j
	}
	if i < len(s.data) && s.data[i] == '-' {
		i++
	}
	switch {
	case i < len(s.data) && s.data[i] == '0':
		i++
	case !digits():
		return nil, false, s.errorf(start, "invalid number")
	}
	isInt = true
	if i < len(s.data) && s.data[i] == '.' {
		i++
		isInt = false
		if !digits() {
			return nil, false, s.errorf(start, "invalid number: no digit after '.'")
		}
	}
	if i < len(s.data) && (s.data[i] == 'e' || s.data[i] == 'E') {
		i++
		isInt = false
		if i < len(s.data) && (s.data[i] == '+' || s.data[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false, s.errorf(start, "invalid number: no digit in exponent")
		}
	}
	s.pos = i
	return s.data[start:i], isInt, nil
}

// parseInt parses an integer literal exactly; ok is false when it does not
// fit an int64.
func parseInt(b []byte) (int64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var n uint64
	for _, c := range b {
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		return int64(-n), true
	}
	return int64(n), true
}

func (s *scanner) literal(word string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(word)) {
		return s.errorf(s.pos, "invalid literal, expected %s", word)
	}
	s.pos += len(word)
	return nil
}

// skip reads past one value, checking its syntax only.
func (s *scanner) skip() error {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.expectedErr("value")
	}
	switch c := s.data[s.pos]; c {
	case '{', '[':
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		empty, err := s.open(close)
		for more := !empty; err == nil && more; {
			if c == '{' {
				if _, err = s.key(); err != nil {
					break
				}
			}
			if err = s.skip(); err == nil {
				more, err = s.next(close)
			}
		}
		return err
	case '"':
		_, err := s.strBytes()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	_, _, err := s.numberBytes()
	return err
}

// A reading is a JSON value as the format reads it. An object with exactly
// one key that starts with "$" is a wrapper, except directly inside a
// {"$map":...} wrapper, where it is a map; which one an object is cannot be
// known until its end. So every object is read both ways at once, each
// reading keeping the error that makes it invalid, and the enclosing value
// picks one. This keeps decoding linear in the input.
type reading struct {
	json byte  // what the JSON is: '"', '{', '[', 't', 'f', 'n', or '0' for a number
	v    Value // the value
	err  error // why v is invalid: a bad wrapper somewhere inside

	members    Attrs // objects: the object read as a map
	membersErr error // why members are invalid
}

// value reads any JSON value.
func (s *scanner) value() (reading, error) {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return reading{}, s.expectedErr("value")
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return s.object(false)
	case '[':
		return s.array()
	case '"':
		b, err := s.strBytes()
		return reading{json: c, v: StringValue(string(b))}, err
	case 't':
		return reading{json: c, v: BoolValue(true)}, s.literal("true")
	case 'f':
		return reading{json: c, v: BoolValue(false)}, s.literal("false")
	case 'n':
		return reading{json: c}, s.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return s.number()
	}
	return reading{}, s.expectedErr("value")
}

// number reads an integer literal as an int64, exactly, and anything else
// (or an integer too large for an int64) as a float64.
func (s *scanner) number() (reading, error) {
	off := s.pos
	b, isInt, err := s.numberBytes()
	if err != nil {
		return reading{}, err
	}
	if isInt {
		if i, ok := parseInt(b); ok {
			return reading{json: '0', v: Int64Value(i)}, nil
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return reading{}, s.errorf(off, "number %s is out of range", b)
	}
	return reading{json: '0', v: Float64Value(f)}, nil
}

// object reads an object. With onlyMembers, the caller wants only the map
// reading, and the value is not made.
func (s *scanner) object(onlyMembers bool) (reading, error) {
	r := reading{json: '{'}
	empty, err := s.open('}')
	if err != nil || empty {
		r.v = MapValue()
		return r, err
	}
	// Members pile up on s.members (nested objects pop theirs before
	// this one pushes the next) and are copied out once, at their number.
	base := len(s.members)
	defer func() { s.members = s.members[:base] }()
	var first reading // the first member, kept in case it is a wrapper
	firstOff := 0
	var index map[string]int // member by key, once the object is large
	for more := true; more; {
		s.skipSpace()
		off := s.pos
		k, err := s.key()
		if err != nil {
			return r, err
		}
		key := s.keyString(k)
		m, err := s.value()
		if err != nil {
			return r, err
		}
		if m.err != nil && r.membersErr == nil {
			r.membersErr = m.err
		}
		// A key given twice keeps its first place and takes its last
		// value, as Python's json module and JavaScript's JSON.parse
		// read it.
		at := s.memberIndex(base, key, &index)
		if at == base && isWrapperKey(key) {
			first, firstOff = m, off
		}
		if at < len(s.members) {
			s.members[at].Value = m.v
		} else {
			s.members = append(s.members, Attr{Key: key, Value: m.v})
		}
		if more, err = s.next('}'); err != nil {
			return r, err
		}
	}
	r.members = append(Attrs(nil), s.members[base:]...)
	switch {
	case onlyMembers:
	case len(r.members) == 1 && isWrapperKey(r.members[0].Key):
		r.v, r.err = s.unwrap(r.members[0].Key, firstOff, &first)
	default:
		r.v, r.err = MapValue(r.members...), r.membersErr
	}
	return r, nil
}

// smallObject is the number of members of an object up to which
// memberIndex looks for a key by a scan; past it, by a map.
const smallObject = 16

// memberIndex returns the index in s.members of the member named key of
// the object whose members start at base, or len(s.members) when it has
// none. index is the object's map from keys to indexes, made when it grows
// past smallObject members.
func (s *scanner) memberIndex(base int, key string, index *map[string]int) int {
	n := len(s.members)
	if *index == nil && n-base < smallObject {
		for i := base; i < n; i++ {
			if s.members[i].Key == key {
				return i
			}
		}
		return n
	}
	if *index == nil {
		*index = make(map[string]int, 2*smallObject)
		for i := base; i < n; i++ {
			(*index)[s.members[i].Key] = i
		}
	}
	if i, ok := (*index)[key]; ok {
		return i
	}
	(*index)[key] = n
	return n
}

func (s *scanner) array() (reading, error) {
	r := reading{json: '['}
	empty, err := s.open(']')
	base := len(s.elems) // as for object's members
	defer func() { s.elems = s.elems[:base] }()
	for more := !empty; err == nil && more; {
		var e reading
		if e, err = s.value(); err != nil {
			break
		}
		if e.err != nil && r.err == nil {
			r.err = e.err
		}
		s.elems = append(s.elems, e.v)
		more, err = s.next(']')
	}
	if err != nil {
		return r, err
	}
	r.v = inferSlice(s.elems[base:])
	return r, nil
}

// inferSlice types a plain array by its elements: all of one scalar kind
// make a typed slice, anything else (an empty array too) a slice. It does
// not keep elems.
func inferSlice(elems []Value) Value {
	if len(elems) > 0 {
		if v, ok := typedSlice(elems[0].Kind(), elems); ok {
			return v
		}
	}
	return SliceValue(append([]Value(nil), elems...)...)
}

// elemsOf returns the elements of an array's value, which inferSlice made.
func elemsOf(v Value) []Value {
	switch v.Kind() {
	case KindBoolSlice:
		return convert(v.AsBoolSlice(), BoolValue)
	case KindInt64Slice:
		return convert(v.AsInt64Slice(), Int64Value)
	case KindFloat64Slice:
		return convert(v.AsFloat64Slice(), Float64Value)
	case KindStringSlice:
		return convert(v.AsStringSlice(), StringValue)
	}
	return v.AsSlice()
}

// typedSlice makes the typed slice of elements of kind elem from elems; ok
// is false when elem is not a scalar kind or an element is of another kind.
func typedSlice(elem Kind, elems []Value) (Value, bool) {
	if _, ok := typedSliceOf(elem); !ok {
		return Value{}, false
	}
	for _, e := range elems {
		if e.Kind() != elem {
			return Value{}, false
		}
	}
	switch elem {
	case KindBool:
		return BoolSliceValue(convert(elems, Value.AsBool)), true
	case KindInt64:
		return Int64SliceValue(convert(elems, Value.AsInt64)), true
	case KindFloat64:
		return Float64SliceValue(convert(elems, Value.AsFloat64)), true
	default:
		return StringSliceValue(convert(elems, Value.AsString)), true
	}
}

func convert[S, T any](elems []S, as func(S) T) []T {
	out := make([]T, len(elems))
	for i, e := range elems {
		out[i] = as(e)
	}
	return out
}

// jsonNames names the JSON types of reading.json, for errors.
var jsonNames = map[byte]string{'"': "string", '{': "object", '[': "array", 't': "boolean", 'f': "boolean", 'n': "null", '0': "number"}

// unwrap reads the wrapper {tag: r}, whose key is at off.
func (s *scanner) unwrap(tag string, off int, r *reading) (Value, error) {
	want := func(json byte) error {
		if r.json != json {
			return s.errorf(off, "wrapper %q holds a %s, want a %s", tag, jsonNames[r.json], jsonNames[json])
		}
		return nil
	}
	switch tag {
	case "$float":
		if err := want('"'); err != nil {
			return Value{}, err
		}
		f, ok := parseSpecialFloat(r.v.AsString())
		if !ok {
			return Value{}, s.errorf(off, `wrapper "$float" holds %q, want "NaN", "Infinity" or "-Infinity"`, r.v.AsString())
		}
		return Float64Value(f), nil
	case "$bytes":
		if err := want('"'); err != nil {
			return Value{}, err
		}
		b, err := base64.StdEncoding.DecodeString(r.v.AsString())
		if err != nil {
			return Value{}, s.errorf(off, `wrapper "$bytes": invalid standard base64: %v`, err)
		}
		return BytesValue(b), nil
	case "$slice":
		if err := want('['); err != nil {
			return Value{}, err
		}
		return SliceValue(elemsOf(r.v)...), r.err
	case "$map":
		if err := want('{'); err != nil {
			return Value{}, err
		}
		return MapValue(r.members...), r.membersErr
	}
	for _, k := range [...]Kind{KindBool, KindInt64, KindFloat64, KindString} {
		sk, _ := typedSliceOf(k)
		if tag[1:] != sk.String() {
			continue
		}
		if err := want('['); err != nil {
			return Value{}, err
		}
		if r.err != nil {
			return Value{}, r.err
		}
		v, ok := r.v, r.v.Kind() == sk
		if r.v.Kind() == KindSlice && len(r.v.AsSlice()) == 0 {
			v, ok = typedSlice(k, nil)
		}
		if !ok {
			return Value{}, s.errorf(off, "wrapper %q holds an element that is not a %s", tag, k)
		}
		return v, nil
	}
	return Value{}, s.errorf(off, "unknown wrapper %q", tag)
}

// parseSpecialFloat parses the string of a {"$float":...} wrapper.
func parseSpecialFloat(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	// NaN(0x7ff8000000000000): a NaN that keeps its bits.
	const prefix, suffix = "NaN(0x", ")"
	if len(s) != len(prefix)+16+len(suffix) || s[:len(prefix)] != prefix || s[len(s)-1:] != suffix {
		return 0, false
	}
	bits, err := strconv.ParseUint(s[len(prefix):len(s)-1], 16, 64)
	if f := math.Float64frombits(bits); err == nil && math.IsNaN(f) {
		return f, true
	}
	return 0, false
}

// Top-level fields of a line, by index into fieldNames.
const (
	fieldType = iota
	fieldRunID
	fieldStage
	fieldName
	fieldTraceID
	fieldSpanID
	fieldParentSpanID
	fieldStartTime
	fieldEndTime
	fieldElapsedMS
	fieldStatus
	fieldStatusMessage
	fieldSpanKind
	fieldAttrs
	fieldFindings
	fieldResource
	fieldScope
	fieldTS
	fieldSeverity
	fieldSeverityNumber
	fieldSeverityText
	fieldBody
	numFields
)

var fieldNames = [numFields]string{
	fieldType: "type", fieldRunID: "run_id", fieldStage: "stage", fieldName: "name",
	fieldTraceID: "trace_id", fieldSpanID: "span_id", fieldParentSpanID: "parent_span_id",
	fieldStartTime: "start_time", fieldEndTime: "end_time", fieldElapsedMS: "elapsed_ms",
	fieldStatus: "status", fieldStatusMessage: "status_message", fieldSpanKind: "span_kind",
	fieldAttrs: "attrs", fieldFindings: "findings", fieldResource: "resource",
	fieldScope: "scope", fieldTS: "ts", fieldSeverity: "severity",
	fieldSeverityNumber: "severity_number", fieldSeverityText: "severity_text", fieldBody: "body",
}

// fieldOwner is the record type a field belongs to; typeUnknown: both.
var fieldOwner = [numFields]recordType{
	fieldParentSpanID: typeSpan, fieldStartTime: typeSpan, fieldEndTime: typeSpan,
	fieldElapsedMS: typeSpan, fieldStatus: typeSpan, fieldStatusMessage: typeSpan,
	fieldSpanKind: typeSpan, fieldFindings: typeSpan, fieldResource: typeSpan,
	fieldScope: typeSpan, fieldTS: typeEvent, fieldSeverity: typeEvent,
	fieldSeverityNumber: typeEvent, fieldSeverityText: typeEvent, fieldBody: typeEvent,
}

// recordType is the "type" of a line.
type recordType uint8

const (
	typeUnknown recordType = iota
	typeSpan
	typeEvent
)

// recordFields collects the fields of a line. "type" need not come first,
// so until it is read every known field is kept.
type recordFields struct {
	typ  recordType
	span StageSpan // the fields events share with spans go here too
	ts   time.Time
	// The log fields of an event; level is "severity", read only when
	// the number and text say nothing.
	severity Severity
	level    Level
	body     Value
}

// record decodes one line.
func (s *scanner) record(line []byte) (Record, error) {
	s.data, s.pos, s.depth, s.field = line, 0, 0, ""
	defer func() { s.data = nil }() // do not pin the caller's buffer
	s.releaseLargeBuffers()
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return Record{}, s.expectedErr("'{' starting a record")
	}
	var f recordFields
	empty, err := s.open('}')
	for more := !empty; err == nil && more; {
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		if err = f.read(s, k); err != nil {
			break
		}
		s.field = ""
		more, err = s.next('}')
	}
	if err != nil {
		return Record{}, err
	}
	s.skipSpace()
	if s.pos < len(s.data) {
		return Record{}, s.errorf(s.pos, "unexpected %s after the record", s.found())
	}
	switch f.typ {
	case typeSpan:
		span := f.span
		return Record{Span: &span}, nil
	case typeEvent:
		sev := f.severity
		if sev.Level() == LevelUnspecified && f.level != LevelUnspecified && sev.Number <= 0 {
			sev.Number = f.level.Number()
		}
		return Record{Event: &TraceEvent{
			Name:     f.span.Name,
			RunID:    f.span.RunID,
			Stage:    f.span.Stage,
			TraceID:  f.span.TraceID,
			SpanID:   f.span.SpanID,
			Time:     f.ts,
			Attrs:    f.span.Attrs,
			Severity: sev,
			Body:     f.body,
		}}, nil
	}
	return Record{}, errors.New(`record has no "type" field`)
}

// read reads the value of the top-level field key.
func (f *recordFields) read(s *scanner, key []byte) error {
	field := -1
	for i, name := range fieldNames {
		if string(key) == name {
			field = i
			break
		}
	}
	if field < 0 || (f.typ != typeUnknown && fieldOwner[field] != typeUnknown && fieldOwner[field] != f.typ) {
		return s.skip() // not a field of this record type
	}
	s.field = fieldNames[field]
	s.skipSpace()
	sp := &f.span
	var err error
	switch field {
	case fieldType:
		err = f.readType(s)
	case fieldRunID:
		sp.RunID, err = s.str()
	case fieldStage:
		sp.Stage, err = s.str()
	case fieldName:
		sp.Name, err = s.str()
	case fieldTraceID:
		sp.TraceID, err = s.traceID()
	case fieldSpanID:
		sp.SpanID, err = s.spanID()
	case fieldParentSpanID:
		sp.ParentSpanID, err = s.spanID()
	case fieldStartTime:
		sp.StartTime, err = s.rfc3339()
	case fieldEndTime:
		sp.EndTime, err = s.rfc3339()
	case fieldElapsedMS:
		err = s.skip() // derived from start_time and end_time
	case fieldStatus:
		sp.Status, err = s.status()
	case fieldStatusMessage:
		sp.StatusMessage, err = s.str()
	case fieldSpanKind:
		sp.Kind, err = s.spanKind()
	case fieldAttrs:
		sp.Attrs, err = s.attrs()
	case fieldFindings:
		sp.Findings, err = s.attrs()
	case fieldResource:
		sp.Resource, err = s.resource()
	case fieldScope:
		sp.Scope, err = s.str()
	case fieldTS:
		f.ts, err = s.unixTime()
	case fieldSeverity:
		f.level, err = s.level()
	case fieldSeverityNumber:
		f.severity.Number, err = s.int()
	case fieldSeverityText:
		f.severity.Text, err = s.str()
	case fieldBody:
		f.body, err = s.anyValue()
	}
	return err
}

// level reads "severity": a level's name; a name ParseLevel does not know
// reads as unspecified, since the field is derived.
func (s *scanner) level() (Level, error) {
	b, err := s.strField()
	if err != nil {
		return LevelUnspecified, err
	}
	l, _ := ParseLevel(string(b))
	return l, nil
}

// int reads an integer that fits an int64.
func (s *scanner) int() (int64, error) {
	off := s.pos
	b, isInt, err := s.numberBytes()
	if err != nil {
		return 0, err
	}
	n, ok := parseInt(b)
	if !isInt || !ok {
		return 0, s.errorf(off, "%s is not an integer that fits 64 bits", b)
	}
	return n, nil
}

// anyValue reads one value, as attribute values are read.
func (s *scanner) anyValue() (Value, error) {
	r, err := s.value()
	if err != nil {
		return Value{}, err
	}
	return r.v, r.err
}

func (f *recordFields) readType(s *scanner) error {
	off := s.pos
	b, err := s.strField()
	if err != nil {
		return err
	}
	var t recordType
	switch string(b) {
	case "stage_span":
		t = typeSpan
	case "trace_event":
		t = typeEvent
	default:
		return s.errorf(off, `unknown record type %q, want "stage_span" or "trace_event"`, b)
	}
	if f.typ != typeUnknown && f.typ != t {
		return s.errorf(off, "record has two types")
	}
	f.typ = t
	return nil
}

// strField reads a string field's bytes, valid until the next string.
func (s *scanner) strField() ([]byte, error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, s.expectedErr("string")
	}
	return s.strBytes()
}

func (s *scanner) str() (string, error) {
	b, err := s.strField()
	return string(b), err
}

func (s *scanner) traceID() (TraceID, error) {
	var id TraceID
	off := s.pos
	b, err := s.strField()
	if err != nil {
		return id, err
	}
	if !decodeHex(id[:], b) {
		return id, s.errorf(off, "invalid trace id %q, want 32 hex digits", b)
	}
	return id, nil
}

// spanID reads a span id; "" is the zero id.
func (s *scanner) spanID() (SpanID, error) {
	var id SpanID
	off := s.pos
	b, err := s.strField()
	if err != nil || len(b) == 0 {
		return id, err
	}
	if !decodeHex(id[:], b) {
		return id, s.errorf(off, `invalid span id %q, want 16 hex digits or ""`, b)
	}
	return id, nil
}

// decodeHex fills dst from exactly 2*len(dst) hex digits.
func decodeHex(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, src)
	return err == nil
}

func (s *scanner) status() (StatusCode, error) {
	off := s.pos
	b, err := s.strField()
	if err != nil {
		return StatusUnset, err
	}
	c, ok := ParseStatusCode(string(b))
	if !ok {
		return c, s.errorf(off, `unknown status %q, want "unset", "ok" or "error"`, b)
	}
	return c, nil
}

func (s *scanner) spanKind() (SpanKind, error) {
	off := s.pos
	b, err := s.strField()
	if err != nil {
		return SpanKindUnspecified, err
	}
	k, ok := ParseSpanKind(string(b))
	if !ok {
		return k, s.errorf(off, "unknown span kind %q", b)
	}
	return k, nil
}

func (s *scanner) rfc3339() (time.Time, error) {
	off := s.pos
	b, err := s.strField()
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseRFC3339(b)
	if !ok {
		return t, s.errorf(off, "invalid time %q, want RFC 3339 like 2006-01-02T15:04:05.000000000Z", b)
	}
	return t, nil
}

func (s *scanner) unixTime() (time.Time, error) {
	off := s.pos
	if s.pos >= len(s.data) || (s.data[s.pos] != '-' && !isDigit(s.data[s.pos])) {
		return time.Time{}, s.expectedErr("number of seconds since the epoch")
	}
	b, _, err := s.numberBytes()
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseUnixTime(b)
	if !ok {
		return t, s.errorf(off, "time %s is out of range", b)
	}
	return t, nil
}

// attrs reads an object of attributes; null and {} are nil.
func (s *scanner) attrs() (Attrs, error) {
	if s.pos < len(s.data) && s.data[s.pos] == 'n' {
		return nil, s.literal("null")
	}
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return nil, s.expectedErr("object")
	}
	r, err := s.object(true)
	if err != nil {
		return nil, err
	}
	// At this level an object is always a map: "$" keys are plain keys.
	if r.membersErr != nil {
		return nil, r.membersErr
	}
	if len(r.members) == 0 {
		return nil, nil
	}
	return r.members, nil
}

// resource reads a resource's attributes. A Decoder shares one *Resource
// among spans whose resource is written the same, and reads each such
// resource once: later ones are only skipped over.
func (s *scanner) resource() (*Resource, error) {
	start := s.pos
	if s.resources != nil {
		if err := s.skip(); err != nil {
			return nil, err
		}
		if r, ok := s.resources.m[string(s.data[start:s.pos])]; ok {
			return r, nil
		}
		s.pos = start
	}
	attrs, err := s.attrs()
	if err != nil || attrs == nil {
		return nil, err
	}
	return s.resources.get(s.data[start:s.pos], attrs), nil
}

// Span times are limited to years of at most maxYearDigits digits, which
// time.Time holds without overflow: eleven, or nine where an int has 32
// bits and holds no more.
const (
	maxYearDigits = 9 + (strconv.IntSize-32)/16
	maxYear       = 999_999_999 + (strconv.IntSize-32)/32*99_000_000_000
)

// parseRFC3339 parses [-]YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm). Unlike
// time.Parse it takes years of more than four digits, and negative ones,
// which time.Time.AppendFormat writes for times far from now. Digits of
// the fraction beyond nanoseconds are dropped.
func parseRFC3339(b []byte) (time.Time, bool) {
	p := 0
	// digits reads exactly n digits.
	digits := func(n int) (int, bool) {
		if p+n > len(b) {
			return 0, false
		}
		v := 0
		for _, c := range b[p : p+n] {
			if !isDigit(c) {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		p += n
		return v, true
	}
	sep := func(c byte) bool {
		if p < len(b) && b[p] == c {
			p++
			return true
		}
		return false
	}
	neg := sep('-')
	n := 4
	for p+n < len(b) && isDigit(b[p+n]) {
		n++
	}
	if n > maxYearDigits {
		return time.Time{}, false
	}
	year, ok1 := digits(n)
	if neg {
		year = -year
	}
	ok2 := sep('-')
	month, ok3 := digits(2)
	ok4 := sep('-')
	day, ok5 := digits(2)
	ok6 := sep('T') || sep('t')
	hour, ok7 := digits(2)
	ok8 := sep(':')
	minute, ok9 := digits(2)
	ok10 := sep(':')
	sec, ok11 := digits(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9 && ok10 && ok11) {
		return time.Time{}, false
	}
	nsec := 0
	if sep('.') {
		n := 0
		for ; p < len(b) && isDigit(b[p]); p++ {
			if n < 9 {
				nsec = nsec*10 + int(b[p]-'0')
				n++
			}
		}
		if n == 0 {
			return time.Time{}, false
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0
	switch {
	case sep('Z') || sep('z'):
	case p < len(b) && (b[p] == '+' || b[p] == '-'):
		sign := 1
		if b[p] == '-' {
			sign = -1
		}
		p++
		oh, ok1 := digits(2)
		ok2 := sep(':')
		om, ok3 := digits(2)
		if !(ok1 && ok2 && ok3) || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = sign * (oh*3600 + om*60)
	default:
		return time.Time{}, false
	}
	if p != len(b) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	t = t.Add(-time.Duration(offset) * time.Second)
	if y := t.Year(); y > maxYear || y < -maxYear {
		return time.Time{}, false // the offset took it out of range
	}
	return t, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// maxUnixSeconds bounds "ts" (about 146 billion years either way): beyond
// it time.Time's own arithmetic would overflow.
const maxUnixSeconds = 1 << 62

// parseUnixTime parses a JSON number of seconds since the epoch exactly,
// from its digits rather than through a float64, so the nanoseconds an
// Encoder writes come back unchanged. Other writers' forms (exponents, more
// than nine fractional digits) are rounded to the nearest nanosecond,
// halves away from zero.
func parseUnixTime(num []byte) (time.Time, bool) {
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	i := 0
	for i < len(num) && isDigit(num[i]) {
		i++
	}
	intPart, frac := num[:i], num[i:i]
	if i < len(num) && num[i] == '.' {
		j := i + 1
		for j < len(num) && isDigit(num[j]) {
			j++
		}
		frac, i = num[i+1:j], j
	}
	exp := 0
	if i < len(num) { // 'e' or 'E', as numberBytes checked
		i++
		expNeg := num[i] == '-'
		if num[i] == '+' || num[i] == '-' {
			i++
		}
		for ; i < len(num); i++ {
			if exp < 1e6 { // far beyond any int64; stop before overflowing
				exp = exp*10 + int(num[i]-'0')
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	// The number is 0.d₀d₁d₂... × 10^point, where d is intPart then frac.
	digit := func(k int) uint64 {
		switch {
		case k < 0:
			return 0
		case k < len(intPart):
			return uint64(intPart[k] - '0')
		case k-len(intPart) < len(frac):
			return uint64(frac[k-len(intPart)] - '0')
		}
		return 0
	}
	n := len(intPart) + len(frac)
	lead := 0
	for lead < n && digit(lead) == 0 {
		lead++
	}
	if lead == n {
		return time.Unix(0, 0).UTC(), true
	}
	point := len(intPart) + exp
	if point-lead > 19 { // at least 10^19 seconds
		return time.Time{}, false
	}
	var sec, nsec uint64
	for k := lead; k < point; k++ {
		sec = sec*10 + digit(k)
	}
	for k := point; k < point+9; k++ {
		nsec = nsec*10 + digit(k)
	}
	if digit(point+9) >= 5 {
		if nsec++; nsec == 1e9 {
			sec, nsec = sec+1, 0
		}
	}
	if sec > maxUnixSeconds {
		return time.Time{}, false
	}
	if neg {
		return time.Unix(-int64(sec), -int64(nsec)).UTC(), true
	}
	return time.Unix(int64(sec), int64(nsec)).UTC(), true
}
