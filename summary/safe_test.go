package summary_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/stagetrace/stagetrace/summary"
)

func TestSafe(t *testing.T) {
	cases := []struct{ in, want string }{
		{"retrieve", "retrieve"},
		{"café ✓", "café ✓"},
		{`back\slash`, `back\slash`},
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"\x1b]0;owned\x07", `\x1b]0;owned\x07`},
		{"a\rb\nc\td\x00e\x7f", `a\rb\nc\td\x00e\x7f`},
		{"\u009b31m", `\u009b31m`},
		{"evil\u202eexe.txt", `evil\u202eexe.txt`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"\xc2\x9b", `\u009b`},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, summary.Safe(c.in), "%q", c.in)
	}
}

func FuzzSafe(f *testing.F) {
	for _, s := range []string{"", "span", "\x1b]8;;http://x\x07link\x1b]8;;\x07", "a\r\nb", "\xff", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := summary.Safe(s)
		assert.True(t, utf8.ValidString(got), "valid UTF-8: %q", got)
		for _, r := range got {
			assert.False(t, r < 0x20 || (r >= 0x7f && r < 0xa0), "control %U in %q", r, got)
			assert.False(t, r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069, "override %U in %q", r, got)
		}
		assert.Equal(t, got, summary.Safe(got), "escaping is done once")
		if !strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x20 || r >= 0x7f && r < 0xa0 || r == utf8.RuneError || r >= 0x2000 && r <= 0x206f || r == 0x061c
		}) {
			assert.Equal(t, s, got, "plain text is left as it is")
		}
	})
}
