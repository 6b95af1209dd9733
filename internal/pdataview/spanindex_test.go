package pdataview

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/internal/benchpair"
)

// randomKeys returns n keys drawn from a space of about space keys, so
// that a small space repeats keys.
func randomKeys(rng *rand.Rand, n, space int) []spanKey {
	keys := make([]spanKey, n)
	for i := range keys {
		v := rng.IntN(space)
		keys[i].trace[0], keys[i].trace[15] = byte(v%7), byte(v>>8)
		keys[i].span[0], keys[i].span[7] = byte(v), byte(v>>16)
	}
	return keys
}

// TestSpanIndexAgreesWithAMap holds the index to a map, the structure it
// replaces, over batches of random keys, repeated keys among them: every
// key finds the node a map assignment would have kept, the last one added,
// and a key never added finds nothing. Batches of many sizes go through
// one index, as they do through the pooled one.
func TestSpanIndexAgreesWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x spanIndex
	for round := range 300 {
		n := rng.IntN(200)
		if round%50 == 0 {
			n = 5000
		}
		keys := randomKeys(rng, n, 1+rng.IntN(3*n+1))
		want := make(map[spanKey]int, n)
		x.reset(n)
		for i, k := range keys {
			x.add(k)
			want[k] = i
		}
		require.LessOrEqual(t, 2*n, len(x.slots), "at most half full")
		for k, i := range want {
			got, ok := x.find(k)
			require.True(t, ok, "round %d: key %v", round, k)
			require.Equal(t, i, got, "round %d: the last node of a repeated key", round)
		}
		for _, k := range randomKeys(rng, 50, 1<<20) {
			if _, in := want[k]; in {
				continue
			}
			_, ok := x.find(k)
			assert.False(t, ok, "round %d: a key never added", round)
		}
	}
}

func TestSpanIndexEmpty(t *testing.T) {
	var x spanIndex
	x.reset(0)
	_, ok := x.find(spanKey{})
	assert.False(t, ok)
	x.add(spanKey{})
	i, ok := x.find(spanKey{})
	assert.True(t, ok, "the zero key is a key like another")
	assert.Equal(t, 0, i)
}

// BenchmarkSpanIndex compares the index with the map Place made for each
// batch before it, building and querying the ids of a batch of spans
// ("index/map": the index's time over the map's; paired, see
// internal/benchpair).
func BenchmarkSpanIndex(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(map[int]string{1000: "1000", 10000: "10000"}[n], func(b *testing.B) {
			keys := randomKeys(rand.New(rand.NewPCG(3, 4)), n, 1<<30)
			var x spanIndex
			sides := []func(){
				func() {
					m := make(map[spanKey]int, n)
					for i, k := range keys {
						m[k] = i
					}
					for _, k := range keys {
						if _, ok := m[k]; !ok {
							b.Fatal("lost")
						}
					}
				},
				func() {
					x.reset(n)
					for _, k := range keys {
						x.add(k)
					}
					for _, k := range keys {
						if _, ok := x.find(k); !ok {
							b.Fatal("lost")
						}
					}
				},
			}
			reps := 100000 / n
			rounds := benchpair.New([]string{"map", "index"}, []int{reps * n, reps * n})
			round := 0
			for b.Loop() {
				for _, i := range benchpair.Order(2, round) {
					rounds.Time(i, func() {
						for range reps {
							sides[i]()
						}
					})
				}
				round++
			}
			rounds.Report(b, "span", 0)
		})
	}
}
