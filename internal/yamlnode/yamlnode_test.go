package yamlnode

import (
	"strings"
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

// YAML resolves a number too large for a float as a string; only an
// unquoted, untagged one was meant as a number.
func TestOutOfRange(t *testing.T) {
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(`[1e400, -1e400, "1e400", '1e400', !!str 1e400, 1e-400, 1e308, abc, 99999999999999999999999]`), &doc))
	var got []bool
	for _, n := range doc.Content[0].Content {
		got = append(got, OutOfRange(n))
	}
	assert.Equal(t, []bool{true, true, false, false, false, false, false, false, false}, got)
	assert.Equal(t, "1e400, a number out of range", TypeName(doc.Content[0].Content[0]))
	assert.Equal(t, "a string", TypeName(doc.Content[0].Content[2]))

	long := "1" + strings.Repeat("0", 400)
	assert.False(t, NumberOutOfRange(long[:300]), "1e299 fits")
	assert.True(t, NumberOutOfRange(long))
	assert.Equal(t, long[:maxQuoted]+"…", Quote(long))
	assert.Equal(t, "é…", Quote(strings.Repeat("é", 30))[maxQuoted-2:]) // cut at a rune boundary
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

func TestCheckExpansion(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 1, "a"; i < 9; i++ {
		name := string(rune('a' + i))
		laughs += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	for _, tc := range []struct {
		name, doc string
		wantErr   string
	}{
		{"no aliases", "a: [1, 2, 3]\nb: {c: d}\n", ""},
		{"a few aliases", "a: &x {k: [1, 2, 3]}\nb: *x\nc: *x\n", ""},
		{"billion laughs", laughs, "aliases expand the document to more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			require.NoError(t, yaml.Unmarshal([]byte(tc.doc), &doc))
			err := CheckExpansion(&doc)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
	assert.ErrorContains(t, CheckExpansion(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.AliasNode}}}), "unresolvable alias")
}

// expandedSize counts the nodes under n with aliases expanded, the slow
// way, stopping past stop.
func expandedSize(n *yaml.Node, stop int) int {
	if n, ok := Deref(n); ok {
		total := 1
		for _, c := range n.Content {
			if total += expandedSize(c, stop); total > stop {
				return total
			}
		}
		return total
	}
	return 1
}

func FuzzCheckExpansion(f *testing.F) {
	f.Add("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n")
	f.Add("a: &x {k: v}\nb: *x\n")
	f.Fuzz(func(t *testing.T, src string) {
		var doc yaml.Node
		if yaml.Unmarshal([]byte(src), &doc) != nil {
			return
		}
		if CheckExpansion(&doc) != nil {
			return
		}
		// What passes expands to no more than the limit allows.
		written := 0
		var count func(n *yaml.Node)
		count = func(n *yaml.Node) {
			written++
			for _, c := range n.Content {
				count(c)
			}
		}
		count(&doc)
		if got := expandedSize(&doc, written+MaxAliasNodes+1); got > written+MaxAliasNodes {
			t.Fatalf("accepted a document expanding to %d nodes, %d written", got, written)
		}
	})
}
