package benchpair

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRatioIsTheMedianOfPerUnitRatios(t *testing.T) {
	r := New([]string{"base", "x"}, []int{1, 2})
	r.wall[0] = []time.Duration{10, 10, 10, 10, 10}
	// Per unit: 10, 10, 15, 500 (a burst), 12.5.
	r.wall[1] = []time.Duration{20, 20, 30, 1000, 25}
	assert.InDelta(t, 1.25, r.Ratio(1, 0, false), 1e-9)
	assert.InDelta(t, 0.8, r.Ratio(0, 1, false), 1e-9)
	assert.Equal(t, 10.0, median(r.wall[0]))
	assert.Equal(t, 2.5, medianFloat([]float64{3, 1, 2, 4}))
	assert.Zero(t, medianFloat(nil))
}

func TestTimeRecordsEachRun(t *testing.T) {
	r := New([]string{"a", "b"}, []int{1, 1})
	for range 3 {
		r.Time(0, func() {})
		r.Time(1, func() { time.Sleep(time.Millisecond) })
	}
	assert.Len(t, r.wall[0], 3)
	assert.Len(t, r.wall[1], 3)
	assert.Greater(t, r.Ratio(1, 0, false), 1.0)
}

func TestOrderIsAPermutationPerRound(t *testing.T) {
	firsts := map[int]bool{}
	for r := range 50 {
		o := Order(4, r)
		assert.ElementsMatch(t, []int{0, 1, 2, 3}, o)
		assert.Equal(t, o, Order(4, r), "the same round, the same order")
		firsts[o[0]] = true
	}
	assert.Len(t, firsts, 4, "every side comes first in some round")
}
