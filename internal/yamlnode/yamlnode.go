// Package yamlnode holds what the loaders of stagetrace's YAML files (rules,
// alerts) share about yaml.Node: following aliases, and naming a node's
// type in error messages.
package yamlnode

import (
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
