package postgressink

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzText: whatever a string holds, text returns what a PostgreSQL text
// column takes (UTF-8 without NUL), and valid strings unchanged.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "gpt-4o", "a\x00b", "\xff\xfe", "é\x00\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := text(s)
		if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("text(%q) = %q", s, got)
		}
		if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && got != s {
			t.Fatalf("text(%q) changed a valid string to %q", s, got)
		}
	})
}
