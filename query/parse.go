package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/stagetrace/stagetrace"
)

// The filter language:
//
//	where = [ cond { "and" cond } ]
//	cond  = field ( "exists" | op value )
//	op    = "=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "=~" | "!~"
//	field = word | quoted
//	value = number | "true" | "false" | word | quoted
//
// A word is a run of bytes other than white space, control characters and
// = ! < > ~ " ' ( ). A quoted string is enclosed in " or ' and may hold the
// escapes \\ \" \' \n \r \t and \uXXXX. A number is an optional sign,
// digits with an optional fraction and an optional exponent; it is an
// int64 when it has neither fraction nor exponent and fits, a float64
// otherwise. "and", "exists", "true" and "false" are recognized in any
// case. A value written as a word or a number is taken as a string when
// the field is a built-in string field (stage=123 compares with "123") or
// the operator is ~ or !~. =~ is another spelling of ~. A filter holds at
// most MaxConditions conditions.

// SyntaxError is a mistake in filter text.
type SyntaxError struct {
	Pos int    // byte position of the mistake, from 1; len(text)+1 for its end
	Msg string // what is wrong
}

// Error returns "position N: what is wrong".
func (e *SyntaxError) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

// Parse reads filters written in the filter language. Empty or blank text
// is no filter. A mistake is reported as a *SyntaxError giving its
// position.
func Parse(where string) ([]Filter, error) {
	p := parser{src: where}
	var filters []Filter
	for {
		p.skipSpace()
		if p.eof() {
			if len(filters) > 0 {
				return nil, p.errorf(p.pos, `expected a field after "and"`)
			}
			return nil, nil
		}
		if len(filters) == MaxConditions {
			return nil, p.errorf(p.pos, "more than %d conditions: a filter holds at most %d", MaxConditions, MaxConditions)
		}
		f, err := p.cond()
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
		p.skipSpace()
		if p.eof() {
			return filters, nil
		}
		start := p.pos
		if w, ok := p.word(); !ok || !strings.EqualFold(w, "and") {
			return nil, p.errorf(start, `expected "and" or the end of the filter, found %s`, p.found(start))
		}
	}
}

// MustParse is Parse for filters written in code; it panics on a mistake.
func MustParse(where string) []Filter {
	f, err := Parse(where)
	if err != nil {
		panic(fmt.Sprintf("query.MustParse(%q): %v", where, err))
	}
	return f
}

type parser struct {
	src string
	pos int // byte offset of the next byte to read
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Pos: pos + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

// found describes what starts at pos, for error messages.
func (p *parser) found(pos int) string {
	if pos >= len(p.src) {
		return "the end"
	}
	end := pos + 1
	if isWordByte(p.src[pos]) {
		for end < len(p.src) && isWordByte(p.src[end]) && end-pos < 24 {
			end++
		}
	}
	return strconv.Quote(p.src[pos:end])
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isWordByte(c byte) bool {
	if c <= ' ' || c == 0x7f {
		return false
	}
	switch c {
	case '=', '!', '<', '>', '~', '"', '\'', '(', ')':
		return false
	}
	return true
}

// word reads a word at the current position.
func (p *parser) word() (string, bool) {
	start := p.pos
	for p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos], p.pos > start
}

// token is a field or a value as written.
type token struct {
	pos    int
	text   string // the word, or the unquoted string
	quoted bool
}

func (p *parser) token(what string) (token, error) {
	t := token{pos: p.pos}
	if p.eof() {
		return t, p.errorf(p.pos, "expected %s, found the end", what)
	}
	switch c := p.src[p.pos]; {
	case c == '"' || c == '\'':
		s, err := p.quoted()
		t.text, t.quoted = s, true
		return t, err
	case isWordByte(c):
		t.text, _ = p.word()
		return t, nil
	case c < ' ' || c == 0x7f:
		return t, p.errorf(p.pos, "expected %s, found control character %q", what, c)
	}
	return t, p.errorf(p.pos, "expected %s, found %s", what, p.found(p.pos))
}

// quoted reads a quoted string at the current position.
func (p *parser) quoted() (string, error) {
	open := p.pos
	q := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errorf(open, "unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c != '\\':
			b.WriteByte(c)
			p.pos++
			continue
		}
		esc := p.pos
		p.pos++
		if p.eof() {
			return "", p.errorf(open, "unterminated string")
		}
		switch e := p.src[p.pos]; e {
		case '\\', '"', '\'':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if p.pos+5 > len(p.src) {
				return "", p.errorf(esc, `\u needs four hex digits`)
			}
			r, err := strconv.ParseUint(p.src[p.pos+1:p.pos+5], 16, 32)
			if err != nil {
				return "", p.errorf(esc, `\u needs four hex digits`)
			}
			b.WriteRune(rune(r))
			p.pos += 4
		default:
			return "", p.errorf(esc, `unknown escape in string: use \\ \" \' \n \r \t or \uXXXX`)
		}
		p.pos++
	}
}

func (p *parser) op() (Op, error) {
	start := p.pos
	if p.eof() {
		return "", p.errorf(p.pos, "expected an operator (=, !=, >, >=, <, <=, ~, !~ or exists), found the end")
	}
	two := ""
	if p.pos+2 <= len(p.src) {
		two = p.src[p.pos : p.pos+2]
	}
	switch two {
	case "!=", ">=", "<=", "!~", opMatchAlias:
		p.pos += 2
		op, _ := ParseOp(two)
		return op, nil
	}
	switch c := p.src[p.pos]; c {
	case '=', '>', '<', '~':
		p.pos++
		return Op(string(c)), nil
	}
	if w, ok := p.word(); ok && strings.EqualFold(w, string(OpExists)) {
		return OpExists, nil
	}
	p.pos = start
	return "", p.errorf(start, "expected an operator (=, !=, >, >=, <, <=, ~, !~ or exists), found %s", p.found(start))
}

func (p *parser) cond() (Filter, error) {
	field, err := p.token("a field")
	if err != nil {
		return Filter{}, err
	}
	f := Filter{Field: field.text}
	ref, err := ParseField(f.Field)
	if err != nil {
		return Filter{}, p.errorf(field.pos, "%v", err)
	}
	p.skipSpace()
	opPos := p.pos
	if f.Op, err = p.op(); err != nil {
		return Filter{}, err
	}
	if f.Op == OpExists {
		if _, err := f.check(); err != nil {
			return Filter{}, p.errorf(opPos, "%v", err)
		}
		return f, nil
	}
	p.skipSpace()
	val, err := p.token("a value")
	if err != nil {
		return Filter{}, err
	}
	if f.Op.IsMatch() || ref.Source == SourceBuiltin && builtins[ref.Name] <= TypeID {
		// A pattern is a string, even one that reads as a number, and so is
		// a value of a built-in string field: stage=123 is the stage
		// named "123".
		f.Value = stagetrace.StringValue(val.text)
	} else if f.Value, err = valueOf(val); err != nil {
		return Filter{}, p.errorf(val.pos, "%v", err)
	}
	if _, err := f.check(); err != nil {
		pos := val.pos
		var opErr *opError
		if errors.As(err, &opErr) {
			pos = opPos
		}
		return Filter{}, p.errorf(pos, "%v", err)
	}
	return f, nil
}

// opError marks check errors about the operator rather than the value, so
// that Parse points at the operator.
type opError struct{ msg string }

func (e *opError) Error() string { return e.msg }

// valueOf types a value token: quoted strings are strings; words are
// booleans, numbers or strings.
func valueOf(t token) (stagetrace.Value, error) {
	if t.quoted {
		return stagetrace.StringValue(t.text), nil
	}
	switch {
	case strings.EqualFold(t.text, "true"):
		return stagetrace.BoolValue(true), nil
	case strings.EqualFold(t.text, "false"):
		return stagetrace.BoolValue(false), nil
	case !isNumber(t.text):
		return stagetrace.StringValue(t.text), nil
	}
	if !strings.ContainsAny(t.text, ".eE") {
		if i, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return stagetrace.Int64Value(i), nil
		}
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		return stagetrace.Value{}, fmt.Errorf("number %s is out of range", t.text)
	}
	return stagetrace.Float64Value(f), nil
}

// isNumber reports whether s is [+-] (digits [. digits] | . digits)
// [(e|E) [+-] digits].
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// isKeyword reports whether s would be read as a keyword or a boolean
// rather than as a word.
func isKeyword(s string) bool {
	for _, k := range [...]string{"and", "exists", "true", "false"} {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

func writeField(b *strings.Builder, field string) {
	if isWord(field) && !isKeyword(field) {
		b.WriteString(field)
		return
	}
	writeQuoted(b, field)
}

func writeValue(b *strings.Builder, v stagetrace.Value) {
	switch v.Kind() {
	case stagetrace.KindInt64:
		b.WriteString(strconv.FormatInt(v.AsInt64(), 10))
	case stagetrace.KindFloat64:
		s := strconv.FormatFloat(v.AsFloat64(), 'g', -1, 64)
		b.WriteString(s)
		if isNumber(s) && !strings.ContainsAny(s, ".eE") {
			// 500.0 must read back as a float, not as the int 500.
			b.WriteString(".0")
		}
	case stagetrace.KindBool:
		b.WriteString(strconv.FormatBool(v.AsBool()))
	case stagetrace.KindString:
		s := v.AsString()
		if isWord(s) && !isKeyword(s) && !isNumber(s) {
			b.WriteString(s)
			return
		}
		writeQuoted(b, s)
	default:
		// Not a filter value; written so that the result is still
		// readable, as a string.
		writeQuoted(b, v.String())
	}
}

// writeQuoted writes s in double quotes, escaping quotes, backslashes and
// control characters. Other bytes, invalid UTF-8 included, are written as
// they are: the parser reads them back unchanged.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < ' ' || c == 0x7f {
				fmt.Fprintf(b, `\u%04x`, c)
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// Caret returns two lines that show where a SyntaxError points in text:
// the text, and a caret under the mistake. The caret is placed by display
// cells, as a terminal draws the text: East Asian wide and fullwidth
// characters take two, combining marks and other zero-width characters
// none.
func Caret(text string, err *SyntaxError) string {
	pos := err.Pos - 1
	if pos > len(text) {
		pos = len(text)
	}
	if pos < 0 {
		pos = 0
	}
	line := strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, text)
	return line + "\n" + strings.Repeat(" ", cells(text[:pos])) + "^"
}

// cells is the number of terminal cells s takes on one line.
func cells(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		default:
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth:
				n += 2
			default:
				n++
			}
		}
	}
	return n
}
