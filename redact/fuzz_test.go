package redact

import (
	"strings"
	"testing"
)

// FuzzGlob checks the glob matcher against a plain dynamic-programming
// wildcard match over bytes ('*' matches any run of bytes, everything
// else itself), which works for keys that are not valid UTF-8 too.
func FuzzGlob(f *testing.F) {
	seeds := [][2]string{
		{"http.request.header.*", "http.request.header.authorization"},
		{"*.api_key", "llm.api_key"},
		{"*.api_key", "api_key"},
		{"a*b*c", "abc"},
		{"a*b*c", "aXbYbZc"},
		{"*", ""},
		{"**", "x"},
		{"a*a", "a"},
		{"ab*ba", "aba"},
		{"exact", "exact"},
		{"*é*", "café"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		g, err := compileGlob(pattern)
		if pattern == "" {
			if err == nil {
				t.Fatal("empty pattern accepted")
			}
			return
		}
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", pattern, err)
		}
		want := wildcard(pattern, key)
		if got := g.match(key); got != want {
			t.Fatalf("glob %q on %q: got %v, want %v", pattern, key, got, want)
		}
		ks, err := compileKeySet([]string{pattern})
		if err != nil {
			t.Fatal(err)
		}
		if got := ks.match(key); got != want {
			t.Fatalf("key set %q on %q: got %v, want %v", pattern, key, got, want)
		}
	})
}

// wildcard reports whether s matches p: m[j] says whether the bytes of s
// read so far match p[:j].
func wildcard(p, s string) bool {
	m := make([]bool, len(p)+1)
	m[0] = true
	for j := 1; j <= len(p) && p[j-1] == '*'; j++ {
		m[j] = true
	}
	for i := 0; i < len(s); i++ {
		next := make([]bool, len(p)+1)
		for j := 1; j <= len(p); j++ {
			if p[j-1] == '*' {
				next[j] = next[j-1] || m[j]
			} else {
				next[j] = m[j-1] && p[j-1] == s[i]
			}
		}
		m = next
	}
	return m[len(p)]
}

// separators may stand on either side of a secret: none of them can be
// part of one, so the secret's extent is what was generated.
const separators = " \n\t\"'=:,;()<>[]{}|"

// FuzzRedactString embeds a secret generated from the fuzzer's bytes, of
// a kind it picks, in arbitrary text, and checks that redaction never
// panics and never lets the secret through.
func FuzzRedactString(f *testing.F) {
	f.Add(uint8(0), []byte("seed-bytes-for-a-key"), "prefix ", " suffix", uint8(0), uint8(1))
	f.Add(uint8(5), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, "qty 2", "exp 12/27", uint8(3), uint8(0))
	f.Add(uint8(6), []byte("x"), "Authorization:", "", uint8(2), uint8(4))
	f.Add(uint8(4), []byte("jane doe"), "mail", "@", uint8(5), uint8(6))
	f.Add(uint8(7), []byte{0xff, 0, 0x7f}, "\xff\xfe", "é", uint8(9), uint8(9))
	r, err := New(Config{Presets: PresetNames()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind uint8, seed []byte, prefix, suffix string, sep1, sep2 uint8) {
		// Arbitrary input never panics.
		r.RedactString(prefix + suffix)

		shown, secret := makeSecret(kind, seed)
		text := prefix + string(separators[int(sep1)%len(separators)]) + shown +
			string(separators[int(sep2)%len(separators)]) + suffix
		if strings.Contains(prefix+suffix, secret) {
			t.Skip("the secret also appears in the surrounding text, outside a boundary")
		}
		got, changed := r.RedactString(text)
		if !changed || strings.Contains(got, secret) {
			t.Fatalf("secret %q (kind %d) survived in\n%q\n→ %q", secret, kind%8, text, got)
		}
	})
}

const (
	alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lower = "abcdefghijklmnopqrstuvwxyz"
)

// pick returns n characters of alphabet chosen by seed.
func pick(seed []byte, n int, alphabet string) string {
	var b strings.Builder
	for i := range n {
		c := byte(i * 7)
		if len(seed) > 0 {
			c += seed[i%len(seed)] + byte(i/len(seed))
		}
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}

// makeSecret returns a secret of one of the preset kinds as it is written
// (shown) and the part that must not survive: for bearer tokens the token,
// as "Bearer" itself is kept.
func makeSecret(kind uint8, seed []byte) (shown, secret string) {
	n := 0
	if len(seed) > 0 {
		n = int(seed[0])
	}
	switch kind % 8 {
	case 0:
		secret = "sk-proj-" + pick(seed, 20+n%40, alnum)
	case 1:
		secret = []string{"AKIA", "ASIA"}[n%2] + pick(seed, 16, upnum)
	case 2:
		secret = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}[n%5] + pick(seed, 36, alnum)
	case 3:
		secret = "xoxb-" + pick(seed, 12, "0123456789") + "-" + pick(seed[min(1, len(seed)):], 24, alnum)
	case 4:
		secret = pick(seed, 1+n%12, lower) + "." + pick(seed, 3, lower) + "@" + pick(seed, 2+n%9, lower) + ".example." + pick(seed, 2+n%3, lower)
	case 5:
		secret = cardNumber(seed)
	case 6:
		secret = pick(seed, 16+n%32, alnum+"-._~+/")
		return []string{"Bearer ", "bearer  ", "BEARER\t"}[n%3] + secret, secret
	default:
		secret = "eyJ" + pick(seed, 10+n%20, alnum) + ".eyJ" + pick(seed, 12, alnum) + "." + pick(seed, 20, alnum+"-_")
	}
	return secret, secret
}

// cardNumber returns a Luhn-valid number of 13 to 19 digits starting with
// 2 to 6, grouped by fours with spaces, dashes or nothing.
func cardNumber(seed []byte) string {
	n := 0
	if len(seed) > 0 {
		n = int(seed[0])
	}
	length := 13 + n%7
	digits := []byte{byte('2' + n%5)}
	digits = append(digits, pick(seed, length-2, "0123456789")...)
	// The check digit makes the Luhn sum a multiple of 10.
	for d := byte('0'); d <= '9'; d++ {
		if luhn(string(append(digits, d))) {
			digits = append(digits, d)
			break
		}
	}
	sep := []string{"", " ", "-"}[n%3]
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && i%4 == 0 {
			b.WriteString(sep)
		}
		b.WriteByte(d)
	}
	return b.String()
}
