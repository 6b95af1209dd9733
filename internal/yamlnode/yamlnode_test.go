package yamlnode

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestTypeName(t *testing.T) {
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte("[{a: 1}, [1], s, 1, 1.5, true, null, !!binary aGk=]"), &doc))
	var got []string
	for _, n := range doc.Content[0].Content {
		got = append(got, TypeName(n))
	}
	assert.Equal(t, []string{"a mapping", "a list", "a string", "an integer", "a number", "a boolean", "null", "a binary"}, got)
	assert.True(t, IsNull(doc.Content[0].Content[6]))
	assert.False(t, IsNull(doc.Content[0].Content[2]))
}

func TestDeref(t *testing.T) {
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte("a: &x 5\nb: *x\n"), &doc))
	n, ok := Deref(doc.Content[0].Content[3])
	require.True(t, ok)
	assert.Equal(t, "5", n.Value)

	broken := &yaml.Node{Kind: yaml.AliasNode}
	_, ok = Deref(broken)
	assert.False(t, ok, "an alias to nothing does not resolve")
	loop := &yaml.Node{Kind: yaml.AliasNode}
	loop.Alias = loop
	_, ok = Deref(loop)
	assert.False(t, ok, "an alias loop stops")
}
