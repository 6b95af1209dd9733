// Package yamlnode holds what the loaders of stagetrace's YAML files (rules,
// alerts) share about yaml.Node: following aliases, bounding what aliases
// expand to, and naming a node's type in error messages.
package yamlnode

import (
	"fmt"
	"strings"

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
// that sizes cannot overflow.
const limit = 1 << 40

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

// TypeName names the YAML type of n for errors: "a mapping", "a list",
// "a string", "an integer", "a number", "a boolean", "null".
func TypeName(n *yaml.Node) string {
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
