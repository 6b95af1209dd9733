package redact_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stagetrace/stagetrace/redact"
)

func TestScrubber(t *testing.T) {
	const token = "tok/0123+456789<ab>"
	s := redact.NewScrubber(token)
	for _, tc := range []struct{ name, in, want string }{
		{"raw", "Bearer " + token + " refused", "Bearer [token] refused"},
		{"twice", token + "," + token, "[token],[token]"},
		{"cut at the end", "got Bearer " + token[:10], "got Bearer [token]"},
		{"cut short of the minimum", "got " + token[:redact.MinScrubPrefix-1], "got " + token[:redact.MinScrubPrefix-1]},
		{"JSON", `{"auth":"tok/0123+456789\u003cab\u003e"}`, `{"auth":"[token]"}`},
		{"JSON with escaped slash", `"tok\/0123+456789\u003cab\u003e"`, `"[token]"`},
		{"Go quoted", `"` + token + `"`, `"[token]"`},
		{"URL escaped", "q=tok%2F0123%2B456789%3Cab%3E", "q=[token]"},
		{"nothing to scrub", "all fine", "all fine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, s.Scrub(tc.in))
		})
	}
	assert.Equal(t, "x abc x", redact.NewScrubber("abcd").Scrub("x abc x"), "a short secret is scrubbed whole only")
	assert.Equal(t, "x [token] x", redact.NewScrubber("abc").Scrub("x abc x"))
	var none *redact.Scrubber
	assert.Equal(t, "text", none.Scrub("text"))
	assert.Nil(t, redact.NewScrubber(""), "no secret, no scrubber")
}

func FuzzScrub(f *testing.F) {
	f.Add("st-secret-0123456789", "HTTP/1.1 400 Bearer ", uint(40))
	f.Add("a/b+c<d>&e\"f\\g", `{"x":"`, uint(9))
	f.Fuzz(func(t *testing.T, secret, around string, cut uint) {
		if len(secret) < redact.MinScrubPrefix {
			return
		}
		n := redact.MinScrubPrefix + int(cut%uint(len(secret)-redact.MinScrubPrefix+1))
		if strings.Contains(secret, redact.TokenMask) {
			return // the mask itself could rebuild a part of the secret
		}
		text := around + secret + around + secret[:n]
		got := redact.NewScrubber(secret).Scrub(text)
		if strings.Contains(got, secret[:redact.MinScrubPrefix]) {
			t.Fatalf("Scrub(%q) = %q keeps a part of the secret", text, got)
		}
	})
}
