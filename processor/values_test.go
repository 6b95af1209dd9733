package processor

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValuesCacheShares(t *testing.T) {
	var c valuesCache
	v := values{run: "r", stage: "s", inherited: true}
	got := c.get(v)
	assert.Equal(t, v, got.values)
	assert.Equal(t, appendValues(nil, v), got.kv)
	assert.Equal(t, len(got.kv), cap(got.kv), "full, so that an append copies it")
	assert.Same(t, got, c.get(values{run: "r", stage: "s", inherited: true}), "the same values, the same copy")

	opened := c.get(values{run: "r", stage: "s"})
	assert.NotSame(t, got, opened)
	assert.False(t, opened.inherited)
	assert.Len(t, opened.kv, 2)
	assert.Len(t, c.get(values{run: "r"}).kv, 1)
	assert.Empty(t, c.get(values{}).kv)
}

// The spans of concurrent runs come interleaved: values that do not
// share a slot are each kept, so that alternating between them allocates
// nothing.
func TestValuesCacheInterleaved(t *testing.T) {
	var c valuesCache
	var vs []values
	used := map[*cachedValuesSlot]bool{}
	for i := 0; len(vs) < 4; i++ {
		v := values{run: "run-" + strconv.Itoa(i), stage: "stage", inherited: true}
		if s := c.slot(v); !used[s] {
			used[s] = true
			vs = append(vs, v)
		}
	}
	first := make([]*cachedValues, len(vs))
	for i, v := range vs {
		first[i] = c.get(v)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i, v := range vs {
			if c.get(v) != first[i] {
				t.Fatal("values not kept")
			}
		}
	})
	assert.Zero(t, allocs)

	// Values that share a slot replace each other, and stay correct.
	a := values{run: "a", stage: "x"}
	var b values
	for i := 0; ; i++ {
		b = values{run: "b" + strconv.Itoa(i), stage: "x"}
		if c.slot(b) == c.slot(a) {
			break
		}
	}
	for range 3 {
		require.Equal(t, a, c.get(a).values)
		require.Equal(t, b, c.get(b).values)
	}
}
