package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Pattern matches a string (a span name, a scope name, an attribute value)
// by glob or by regular expression. Set one of Glob and Regex; the zero
// Pattern sets no condition.
//
// A glob matches the whole string: * matches any run of characters, the
// empty one included, ? matches one character, and \ makes the character
// after it literal. There are no character classes. A regular expression
// has RE2 syntax (package regexp) and matches anywhere unless anchored with
// ^ and $.
type Pattern struct {
	Glob  string
	Regex string
}

// Glob returns the Pattern matching the glob g.
func Glob(g string) Pattern { return Pattern{Glob: g} }

// Regex returns the Pattern matching the regular expression re.
func Regex(re string) Pattern { return Pattern{Regex: re} }

// IsZero reports whether p sets no condition.
func (p Pattern) IsZero() bool { return p.Glob == "" && p.Regex == "" }

// String returns the pattern as the rules file writes it.
func (p Pattern) String() string {
	if p.Regex != "" {
		return "regex " + p.Regex
	}
	return "glob " + p.Glob
}

// matchKind is the strategy a compiled pattern uses, cheapest first.
type matchKind uint8

const (
	matchAny      matchKind = iota // "*"
	matchLiteral                   // no wildcard
	matchPrefix                    // "lit*"
	matchSuffix                    // "*lit"
	matchContains                  // "*lit*"
	matchAffix                     // "pre*suf"
	matchGlob                      // anything else without regexp
	matchRegex
)

// matcher is a compiled Pattern. Matching never allocates.
type matcher struct {
	kind     matchKind
	lit, suf string
	glob     []globSeg // matchGlob: the pattern split at each *
	anchorL  bool      // matchGlob: the pattern does not start with *
	anchorR  bool      // matchGlob: the pattern does not end with *
	re       *regexp.Regexp
}

// globSeg is the part of a glob between two stars: literal runs and ?s.
type globSeg []globTok

// globTok is a literal string, or one ? when lit is empty.
type globTok struct{ lit string }

var errEmptyPattern = errors.New("empty pattern")

func compilePattern(p Pattern) (*matcher, error) {
	switch {
	case p.Glob != "" && p.Regex != "":
		return nil, errors.New("both glob and regex given")
	case p.Regex != "":
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return nil, fmt.Errorf("bad regex: %w", err)
		}
		return &matcher{kind: matchRegex, re: re}, nil
	case p.Glob != "":
		m, err := compileGlob(p.Glob)
		if err != nil {
			return nil, fmt.Errorf("bad glob: %w", err)
		}
		return m, nil
	}
	return nil, errEmptyPattern
}

// compileGlob picks the cheapest strategy for g: string comparisons for
// the shapes rules mostly use, a segment matcher otherwise.
func compileGlob(g string) (*matcher, error) {
	// Parse into segments separated by unescaped stars.
	var (
		segs    []globSeg
		cur     globSeg
		lit     strings.Builder
		hasQ    bool
		leading = strings.HasPrefix(g, "*")
	)
	flushLit := func() {
		if lit.Len() > 0 {
			cur = append(cur, globTok{lit: lit.String()})
			lit.Reset()
		}
	}
	trailing := false
	for i := 0; i < len(g); i++ {
		c := g[i]
		trailing = false
		switch c {
		case '\\':
			if i+1 == len(g) {
				return nil, fmt.Errorf("%q ends with an unpaired \\", g)
			}
			_, w := utf8.DecodeRuneInString(g[i+1:])
			lit.WriteString(g[i+1 : i+1+w])
			i += w
		case '*':
			flushLit()
			segs = append(segs, cur)
			cur = nil
			trailing = true
		case '?':
			flushLit()
			cur = append(cur, globTok{})
			hasQ = true
		default:
			lit.WriteByte(c)
		}
	}
	flushLit()
	segs = append(segs, cur)
	// Drop the empty segments stars leave at the ends and between "**".
	var kept []globSeg
	for _, s := range segs {
		if len(s) > 0 {
			kept = append(kept, s)
		}
	}
	if !utf8.ValidString(g) {
		return nil, fmt.Errorf("%q is not valid UTF-8", g)
	}
	m := &matcher{anchorL: !leading, anchorR: !trailing}
	starred := len(segs) > 1
	if !hasQ {
		switch {
		case len(kept) == 0:
			m.kind = matchAny
			return m, nil
		case !starred:
			m.kind, m.lit = matchLiteral, kept[0][0].lit
			return m, nil
		case len(kept) == 1 && m.anchorL && !m.anchorR:
			m.kind, m.lit = matchPrefix, kept[0][0].lit
			return m, nil
		case len(kept) == 1 && !m.anchorL && m.anchorR:
			m.kind, m.lit = matchSuffix, kept[0][0].lit
			return m, nil
		case len(kept) == 1 && !m.anchorL && !m.anchorR:
			m.kind, m.lit = matchContains, kept[0][0].lit
			return m, nil
		case len(kept) == 2 && m.anchorL && m.anchorR:
			m.kind, m.lit, m.suf = matchAffix, kept[0][0].lit, kept[1][0].lit
			return m, nil
		}
	}
	m.kind, m.glob = matchGlob, kept
	if !starred {
		m.anchorL, m.anchorR = true, true
	}
	return m, nil
}

func (m *matcher) match(s string) bool {
	switch m.kind {
	case matchAny:
		return true
	case matchLiteral:
		return s == m.lit
	case matchPrefix:
		return strings.HasPrefix(s, m.lit)
	case matchSuffix:
		return strings.HasSuffix(s, m.lit)
	case matchContains:
		return strings.Contains(s, m.lit)
	case matchAffix:
		return len(s) >= len(m.lit)+len(m.suf) && strings.HasPrefix(s, m.lit) && strings.HasSuffix(s, m.suf)
	case matchGlob:
		return m.matchGlob(s)
	case matchRegex:
		return m.re.MatchString(s)
	}
	return false
}

// matchGlob matches the segments left to right, each at its leftmost
// place: with a star between two segments, the leftmost place of the
// first leaves the most room for the rest, so no backtracking is needed.
func (m *matcher) matchGlob(s string) bool {
	segs := m.glob
	pos := 0
	if len(segs) == 0 {
		return true // only stars; compileGlob makes these matchAny
	}
	first, last := 0, len(segs)
	if m.anchorL {
		n, ok := segs[0].matchAt(s, 0)
		if !ok {
			return false
		}
		if len(segs) == 1 && m.anchorR {
			return n == len(s)
		}
		pos, first = n, 1
	}
	if m.anchorR {
		last--
	}
	for i := first; i < last; i++ {
		found := false
		for p := pos; p <= len(s); p++ {
			if p < len(s) && !utf8.RuneStart(s[p]) {
				continue
			}
			if n, ok := segs[i].matchAt(s, p); ok {
				pos, found = n, true
				break
			}
		}
		if !found {
			return false
		}
	}
	if !m.anchorR {
		return true
	}
	// The last segment must end exactly at the end of s. A ? matches a
	// character of any width, so its start is searched for.
	seg := segs[len(segs)-1]
	for p := len(s); p >= pos; p-- {
		if p < len(s) && !utf8.RuneStart(s[p]) {
			continue
		}
		if n, ok := seg.matchAt(s, p); ok && n == len(s) {
			return true
		}
	}
	return false
}

// matchAt reports whether the segment matches s at byte offset p and
// where the match ends.
func (g globSeg) matchAt(s string, p int) (int, bool) {
	for _, t := range g {
		if t.lit == "" {
			if p >= len(s) {
				return 0, false
			}
			_, w := utf8.DecodeRuneInString(s[p:])
			p += w
			continue
		}
		if !strings.HasPrefix(s[p:], t.lit) {
			return 0, false
		}
		p += len(t.lit)
	}
	return p, true
}
