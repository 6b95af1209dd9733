package monitor

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompareQuantileAgreesWithStats checks the sort-free comparison alert
// rules use against the percentiles Metrics reports, for windows whose
// quantiles are exact and for sampled ones, at thresholds on, between and
// around the values.
func TestCompareQuantileAgreesWithStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fr := &fastRand{s: 42}
	cases := []struct {
		name      string
		buckets   int
		perBucket func() int
		limit     int
		value     func() float64
		exact     bool
	}{
		{"one value", 1, func() int { return 1 }, 64, func() float64 { return 7 }, true},
		{"few distinct values", 3, func() int { return 5 }, 64, func() float64 { return float64(rng.IntN(4)) }, true},
		{"continuous", 20, func() int { return 1 + rng.IntN(60) }, 64, func() float64 { return rng.ExpFloat64() * 100 }, true},
		{"sampled buckets", 30, func() int { return 10 + rng.IntN(500) }, 32, func() float64 { return rng.NormFloat64()*50 + 300 }, false},
		{"past the budget", 200, func() int { return 64 }, 64, func() float64 { return float64(rng.IntN(1000)) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &series{kind: KindSpan, name: "x"}
			for e := range c.buckets {
				b := s.at(int64(e))
				for range c.perBucket() {
					b.count++
					b.observe(c.value(), c.limit, fr)
				}
			}
			var sc scratch
			st := s.stats(s.buckets, time.Minute, true, &sc)
			require.Equal(t, c.exact, st.Exact)
			// Every sample of small windows, 300 of large ones, each with
			// its neighbours.
			var all []float64
			for _, b := range s.buckets {
				all = append(all, b.samples...)
			}
			step := max(1, len(all)/300)
			var probes []float64
			for i := 0; i < len(all); i += step {
				probes = append(probes, all[i], all[i]+1e-9, all[i]-1e-9)
			}
			probes = append(probes, st.P50, st.P95, st.P99, st.Min-1, st.Max+1)
			for _, q := range []struct {
				q float64
				v float64
			}{{0.50, st.P50}, {0.95, st.P95}, {0.99, st.P99}} {
				for _, p := range probes {
					want := cmpFloat(q.v, p)
					got := compareQuantile(s.buckets, q.q, p)
					if !c.exact && want != got {
						// Sampled quantiles come back through keys that drop
						// the low bits of the value: a probe within that of
						// the quantile may compare either way.
						if d := q.v - p; d < 1e-9*max(1, abs(p)) && d > -1e-9*max(1, abs(p)) {
							continue
						}
					}
					assert.Equal(t, want, got, "q=%v quantile=%v probe=%v", q.q, q.v, p)
				}
			}
		})
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestReservoirIsUniform checks that a full bucket's sample is a uniform
// sample of its values, and that a prefix of it is too: quantiles over a
// budget take prefixes.
func TestReservoirIsUniform(t *testing.T) {
	fr := &fastRand{s: 7}
	const limit, values, rounds = 16, 64, 4000
	var whole, head [values]int
	for range rounds {
		var b bucket
		for i := range values {
			b.observe(float64(i), limit, fr)
		}
		require.Len(t, b.samples, limit)
		for j, v := range b.samples {
			whole[int(v)]++
			if j < limit/4 {
				head[int(v)]++
			}
		}
	}
	// Each value is kept limit/values of the time, in any position.
	for i := range values {
		assert.InDelta(t, rounds*limit/values, whole[i], rounds*limit/values*0.2, "value %d in the sample", i)
		assert.InDelta(t, rounds*limit/4/values, head[i], rounds*limit/4/values*0.4, "value %d in the prefix", i)
	}
}
