package redact

import (
	"errors"
	"strings"
)

// glob is a compiled key pattern in which '*' matches any run of
// characters, dots included, and every other character matches itself.
// Keys are matched without regular expressions: a glob is its literal
// parts, checked with prefix, suffix and substring searches.
type glob struct {
	parts []string // the pattern split at '*'; one part means no '*'
}

func compileGlob(pattern string) (glob, error) {
	if pattern == "" {
		return glob{}, errors.New("empty key pattern")
	}
	return glob{parts: strings.Split(pattern, "*")}, nil
}

func (g glob) match(s string) bool {
	if len(g.parts) == 1 {
		return s == g.parts[0]
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// The middle parts must appear in order between the two ends; taking
	// the leftmost place of each leaves the most room for the next.
	rest := s[len(first) : len(s)-len(last)]
	for _, p := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// keySet is a set of key patterns: exact keys in a map, globs in a list.
type keySet struct {
	exact map[string]struct{}
	globs []glob
}

func compileKeySet(patterns []string) (keySet, error) {
	ks := keySet{exact: make(map[string]struct{})}
	for _, p := range patterns {
		g, err := compileGlob(p)
		if err != nil {
			return keySet{}, err
		}
		if len(g.parts) == 1 {
			ks.exact[p] = struct{}{}
			continue
		}
		ks.globs = append(ks.globs, g)
	}
	return ks, nil
}

func (ks *keySet) empty() bool { return len(ks.exact) == 0 && len(ks.globs) == 0 }

func (ks *keySet) match(key string) bool {
	if _, ok := ks.exact[key]; ok {
		return true
	}
	for _, g := range ks.globs {
		if g.match(key) {
			return true
		}
	}
	return false
}
