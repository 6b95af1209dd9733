package summary

import (
	"strings"
	"unicode/utf8"
)

// Safe returns s as it may be printed to a terminal: every control
// character (C0, DEL and C1, the ESC and OSC sequences built from them,
// CR, NUL, tab and newline), every Unicode direction override, and every
// byte that is not UTF-8 is shown escaped (\x1b, \r, \n, \t, \x00,
// \u202e), so that whoever sends spans cannot rewrite the operator's
// screen or forge a table row. Other text, a backslash included, is left
// as it is, and a string needing no escape is returned unchanged.
//
// Every string stagetrace prints for people from recorded data goes
// through Safe; JSON output stays exact.
func Safe(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unsafeRune(r, n) {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError || r < 0x80:
			// A byte that is not UTF-8, or an ASCII control.
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		default:
			b.WriteString(`\u`)
			for shift := 12; shift >= 0; shift -= 4 {
				b.WriteByte(hex[r>>shift&0xf])
			}
		}
		i += n
	}
	return b.String()
}

const hex = "0123456789abcdef"

// unsafeRune reports whether rune r, n bytes long, must not reach a
// terminal as it is.
func unsafeRune(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1:
		return true // not UTF-8
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true // C0, DEL, C1
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true // direction marks and overrides
	}
	return false
}
