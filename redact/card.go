package redact

import "strings"

// cardMatcher finds payment card numbers without a regular expression:
// it scans runs of digits joined by single spaces or dashes, and masks
// the groups within a run that make 13 to 19 digits, start with 2 to 6 and
// pass the Luhn check. Looking at groups, not only whole runs, finds a
// card written next to another number ("qty 2 4111 1111 1111 1111").
type cardMatcher struct{}

const (
	minCardDigits = 13
	maxCardDigits = 19
)

// maybe counts digits: a string with fewer than 13 holds no card.
func (cardMatcher) maybe(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
			if n >= minCardDigits {
				return true
			}
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isWordByte reports the bytes that may not touch a card number, as \b
// in a regular expression would see them.
func isWordByte(c byte) bool {
	return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' || c == '_'
}

func (cardMatcher) replace(s, mask string) (string, bool) {
	var b strings.Builder
	last := 0
	changed := false
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || i > 0 && isWordByte(s[i-1]) {
			i++
			continue
		}
		end, digits := scanRun(s, i)
		if digits < minCardDigits {
			i = end
			continue
		}
		groups := runGroups(s, i, end)
		if end < len(s) && isWordByte(s[end]) {
			// The last group runs into a letter ("1st"): it is part of a
			// word, not of a number.
			groups = groups[:len(groups)-1]
		}
		for _, w := range cardWindows(s, groups) {
			b.WriteString(s[last:w[0]])
			b.WriteString(mask)
			last, changed = w[1], true
		}
		i = end
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// scanRun reads the run of digits starting at i, in which single spaces
// or dashes may separate groups of digits, and returns its end and how
// many digits it holds.
func scanRun(s string, i int) (end, digits int) {
	for {
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
		if i+1 < len(s) && (s[i] == ' ' || s[i] == '-') && isDigit(s[i+1]) {
			i++
			continue
		}
		return i, digits
	}
}

// runGroups returns the [start, end) of each group of digits of the run
// s[start:end].
func runGroups(s string, start, end int) [][2]int {
	var groups [][2]int
	for i := start; i < end; {
		j := i
		for j < end && isDigit(s[j]) {
			j++
		}
		groups = append(groups, [2]int{i, j})
		i = j + 1 // past the separator
	}
	return groups
}

// cardWindows returns the spans of groups, left to right and not
// overlapping, that are card numbers; at each group it takes the longest.
func cardWindows(s string, groups [][2]int) [][2]int {
	var out [][2]int
	for first := 0; first < len(groups); first++ {
		if c := s[groups[first][0]]; c < '2' || c > '6' {
			continue
		}
		best, digits := -1, 0
		for last := first; last < len(groups); last++ {
			digits += groups[last][1] - groups[last][0]
			if digits > maxCardDigits {
				break
			}
			if digits >= minCardDigits && luhn(s[groups[first][0]:groups[last][1]]) {
				best = last
			}
		}
		if best >= 0 {
			out = append(out, [2]int{groups[first][0], groups[best][1]})
			first = best
		}
	}
	return out
}

// luhn reports whether the digits of s (separators skipped) pass the
// Luhn check.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if !isDigit(c) {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
