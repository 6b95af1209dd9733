package postgressink

import (
	"strings"
	"unicode/utf8"
)

// text returns s as a PostgreSQL text column holds it: text is UTF-8
// without NUL, so invalid bytes and NULs become U+FFFD. Every string
// written to or compared with a text column goes through it, so that a
// filter finds what was written; the span's record keeps s exactly.
func text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
