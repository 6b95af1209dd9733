package redact

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// TokenMask replaces a secret, or the part of one, that [Scrubber] finds.
const TokenMask = "[token]"

// MinScrubPrefix is the length from which a leading part of a secret is
// scrubbed as the secret itself is: text cut short, such as the start of
// a response body, can end in the middle of a secret, and that much of
// one already narrows a guess a great deal. A shorter secret is scrubbed
// whole only.
const MinScrubPrefix = 8

// Scrubber removes known secret values, such as the token a client sends,
// from text built from what a peer sent back: error messages and log
// lines quoting a status line or a response body. It finds each secret by
// value, raw and in the escaped forms an echo may take (JSON, with and
// without an escaped "/", a Go quoted string, URL query escaping), whole
// or any leading part of it at least MinScrubPrefix long. A nil Scrubber
// scrubs nothing. A Scrubber is safe for concurrent use.
type Scrubber struct {
	forms []string // each secret in each form
}

// NewScrubber returns a Scrubber of secrets; empty ones are ignored.
func NewScrubber(secrets ...string) *Scrubber {
	s := &Scrubber{}
	seen := map[string]bool{}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		quoted := strconv.Quote(secret)
		js, _ := json.Marshal(secret) // a string always marshals
		jsText := string(js[1 : len(js)-1])
		for _, f := range []string{
			secret,
			jsText,
			strings.ReplaceAll(jsText, "/", `\/`),
			quoted[1 : len(quoted)-1],
			url.QueryEscape(secret),
		} {
			if !seen[f] {
				seen[f] = true
				s.forms = append(s.forms, f)
			}
		}
	}
	if len(s.forms) == 0 {
		return nil
	}
	return s
}

// Scrub returns text with every secret, and every leading part of one at
// least MinScrubPrefix long, replaced by TokenMask.
func (s *Scrubber) Scrub(text string) string {
	if s == nil {
		return text
	}
	var b strings.Builder
	for {
		at, n := s.next(text)
		if at < 0 {
			break
		}
		b.WriteString(text[:at])
		b.WriteString(TokenMask)
		text = text[at+n:]
	}
	if b.Len() == 0 {
		return text
	}
	b.WriteString(text)
	return b.String()
}

// next finds the first run of text that is a secret in some form, or a
// leading part of one at least MinScrubPrefix long, and of the runs that
// start there the longest; at is -1 when there is none.
func (s *Scrubber) next(text string) (at, n int) {
	at = -1
	for _, f := range s.forms {
		i := strings.Index(text, f[:min(len(f), MinScrubPrefix)])
		if i < 0 || (at >= 0 && i > at) {
			continue
		}
		k := 0
		for i+k < len(text) && k < len(f) && text[i+k] == f[k] {
			k++
		}
		if at < 0 || i < at || k > n {
			at, n = i, k
		}
	}
	return at, n
}
