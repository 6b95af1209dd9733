package redact

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Names of the preset value patterns.
const (
	// PresetAPIKeys masks API keys by their published shapes: OpenAI and
	// Anthropic (sk-...), AWS access key ids (AKIA..., ASIA...), GitHub
	// tokens (ghp_..., gho_..., ghu_..., ghs_..., ghr_..., github_pat_...),
	// Slack tokens (xoxb-..., xoxp-..., ...) and Google API keys (AIza...).
	PresetAPIKeys = "api_keys"
	// PresetBearerTokens masks the token after "Bearer " (any case), and
	// JSON Web Tokens (eyJ....eyJ....sig) wherever they appear.
	PresetBearerTokens = "bearer_tokens"
	// PresetEmails masks email addresses.
	PresetEmails = "emails"
	// PresetCardNumbers masks payment card numbers: 13 to 19 digits,
	// optionally grouped by single spaces or dashes, starting with 2 to 6
	// (the card networks' ranges) and passing the Luhn check, so that most
	// other long numbers (timestamps, ids, a mistyped card) are left alone.
	PresetCardNumbers = "card_numbers"
)

// matcher finds secrets in a string.
type matcher interface {
	// maybe is a cheap test that is false only when s cannot hold a match.
	maybe(s string) bool
	// replace returns s with every match masked, and whether it changed.
	replace(s, mask string) (string, bool)
}

// reMatcher is a regular expression with a literal pre-check.
type reMatcher struct {
	re *regexp.Regexp
	// group is the submatch to mask; 0 masks the whole match.
	group int
	// needles: s must contain one of them to be worth the expression;
	// none means always try.
	needles []string
	// foldNeedles are needles compared without regard to ASCII case.
	foldNeedles []string
}

func (m *reMatcher) maybe(s string) bool {
	if len(m.needles) == 0 && len(m.foldNeedles) == 0 {
		return true
	}
	for _, n := range m.needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	for _, n := range m.foldNeedles {
		if containsFold(s, n) {
			return true
		}
	}
	return false
}

func (m *reMatcher) replace(s, mask string) (string, bool) {
	locs := m.re.FindAllStringSubmatchIndex(s, -1)
	if locs == nil {
		return s, false
	}
	var b strings.Builder
	last := 0
	changed := false
	for _, loc := range locs {
		start, end := m.span(loc)
		if start < last {
			continue // no part of the match to mask
		}
		b.WriteString(s[last:start])
		b.WriteString(mask)
		last, changed = end, true
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// span returns the part of a match to mask: the configured group, or
// with group -1 the first group that took part in the match; -1 when
// there is none.
func (m *reMatcher) span(loc []int) (start, end int) {
	if m.group >= 0 {
		return loc[2*m.group], loc[2*m.group+1]
	}
	for g := 1; 2*g+1 < len(loc); g++ {
		if loc[2*g] >= 0 {
			return loc[2*g], loc[2*g+1]
		}
	}
	return -1, -1
}

// containsFold reports whether s contains the lowercase ASCII needle in
// any case, without allocating.
func containsFold(s, needle string) bool {
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		if s[i]|0x20 == needle[0] && strings.EqualFold(s[i:i+n], needle) {
			return true
		}
	}
	return false
}

var presets = map[string]func() matcher{
	PresetAPIKeys: func() matcher {
		return &reMatcher{
			re: regexp.MustCompile(`\bsk-[A-Za-z0-9][A-Za-z0-9_\-]{19,}` +
				`|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b` +
				`|\bgh[pousr]_[A-Za-z0-9]{36,255}\b` +
				`|\bgithub_pat_[A-Za-z0-9_]{22,255}\b` +
				`|\bxox[abposre]-[A-Za-z0-9\-]{10,}` +
				`|\bAIza[0-9A-Za-z_\-]{35}`),
			needles: []string{"sk-", "AKIA", "ASIA", "gh", "xox", "AIza"},
		}
	},
	PresetBearerTokens: func() matcher {
		return &reMatcher{
			// Group 1 is the token; "Bearer" stays, so the reader still
			// sees what the value was.
			re: regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{8,}=*)` +
				`|(\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*)`),
			group:       -1, // whichever of the two matched
			needles:     []string{"eyJ"},
			foldNeedles: []string{"bearer"},
		}
	},
	PresetEmails: func() matcher {
		return &reMatcher{
			re:      regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}`),
			needles: []string{"@"},
		}
	},
	PresetCardNumbers: func() matcher { return cardMatcher{} },
}

// PresetNames returns the names of the preset value patterns, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func presetMatcher(name string) (matcher, error) {
	f, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return f(), nil
}

// patternMatcher compiles a user's pattern, with its literal prefix, if
// it has one, as the pre-check.
func patternMatcher(expr string) (matcher, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	m := &reMatcher{re: re}
	if prefix, _ := re.LiteralPrefix(); prefix != "" {
		m.needles = []string{prefix}
	}
	return m, nil
}
