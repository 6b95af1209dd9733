// Package yamlnode holds what the loaders of stagetrace's YAML files (rules,
// alerts) share about yaml.Node: following aliases, bounding what aliases
// expand to, and naming a node's type in error messages.
package yamlnode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxAliasDepth bounds alias chains, which a hostile file could make long.
const maxAliasDepth = 32

// Deref follows aliases from n; ok is false for an alias that does not
// resolve within maxAliasDepth steps.
func Deref(n *yaml.Node) (_ *yaml.Node, ok bool) {
	for i := 0; n.Kind == yaml.AliasNode; i++ {
		if n.Alias == nil || i >= maxAliasDepth {
			return n, false
		}
		n = n.Alias
	}
	return n, true
}

// MaxAliasNodes bounds the nodes that aliases add to a document when
// expanded. The size cap of a file does not bound its expansion: one
// list referenced by aliases that are each referenced again grows
// exponentially, and even one large rule referenced by a few thousand
// aliases makes a loader do millions of nodes' work. Files people write
// reuse a block a few times, far below this.
const MaxAliasNodes = 100_000

// CheckExpansion returns an error when the document under n, its aliases
// expanded, has more than MaxAliasNodes nodes beyond those written, or an
// alias that does not resolve. It counts without expanding: the size of
// each anchored node is computed once.
func CheckExpansion(n *yaml.Node) error {
	c := expansion{sizes: map[*yaml.Node]int{}}
	written := c.size(n, false)
	if c.err != nil {
		return c.err
	}
	c.sizes = map[*yaml.Node]int{}
	if expanded := c.size(n, true); c.err == nil && expanded-written > MaxAliasNodes {
		c.err = fmt.Errorf("yaml aliases expand the document to more than %d nodes beyond the %d written", MaxAliasNodes, written)
	}
	return c.err
}

// expansion counts the nodes of a document.
type expansion struct {
	sizes map[*yaml.Node]int // node sizes known, -1 while being counted
	err   error
}

// limit is past any size CheckExpansion accepts: counting stops there, so
// that sizes cannot overflow, even the sum of two in a 32-bit int.
const limit = 1 << 29

// size returns the number of nodes n stands for, through aliases when
// expand is set, and at most limit.
func (c *expansion) size(n *yaml.Node, expand bool) int {
	if c.err != nil {
		return limit
	}
	if n.Kind == yaml.AliasNode {
		if !expand {
			return 1
		}
		target, ok := Deref(n)
		if !ok {
			c.err = fmt.Errorf("line %d: unresolvable alias", n.Line)
			return limit
		}
		n = target
	}
	switch known, ok := c.sizes[n]; {
	case ok && known < 0:
		c.err = fmt.Errorf("line %d: alias refers to a node that contains it", n.Line)
		return limit
	case ok:
		return known
	}
	c.sizes[n] = -1
	total := 1
	for _, child := range n.Content {
		total = min(total+c.size(child, expand), limit)
	}
	c.sizes[n] = total
	return total
}

// IsNull reports whether n is a null scalar.
func IsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// NumberOutOfRange reports whether s is written as a number that a
// float64 cannot hold, such as 1e400 or -1e400.
func NumberOutOfRange(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return errors.Is(err, strconv.ErrRange)
}

// OutOfRange reports whether n is an unquoted scalar written as a number
// that a float64 cannot hold. YAML resolves such a scalar (1e400) as a
// string, so a loader that wants a number would otherwise call it one.
func OutOfRange(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style&(yaml.TaggedStyle|yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 &&
		n.ShortTag() == "!!str" && NumberOutOfRange(n.Value)
}

// maxQuoted bounds how much of a scalar an error message repeats.
const maxQuoted = 40

// Quote returns the text of a scalar as an error message shows it: at
// most maxQuoted bytes, cut at a rune boundary, with "…" when cut.
func Quote(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// TypeName names the YAML type of n for errors: "a mapping", "a list",
// "a string", "an integer", "a number", "a boolean", "null"; an unquoted
// number out of range is named with its text, "1e400, a number out of
// range", rather than "a string".
func TypeName(n *yaml.Node) string {
	if OutOfRange(n) {
		return Quote(n.Value) + ", a number out of range"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!")
	}
	return "an unexpected node"
}
