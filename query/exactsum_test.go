package query_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/query"
)

// exactly is the sum of vs rounded once, computed with big.Float at a
// precision that holds any sum of float64s exactly.
func exactly(vs []float64) float64 {
	sum := new(big.Float).SetPrec(4096)
	for _, v := range vs {
		sum.Add(sum, new(big.Float).SetPrec(4096).SetFloat64(v))
	}
	f, _ := sum.Float64()
	return f
}

// randomValues draws values of many magnitudes and both signs, some
// subnormal, some near the float64 maximum, some cancelling each other.
func randomValues(rng *rand.Rand, n int) []float64 {
	vs := make([]float64, 0, n)
	for len(vs) < n {
		var v float64
		switch rng.IntN(6) {
		case 0:
			v = rng.Float64()
		case 1:
			v = math.Ldexp(rng.Float64(), rng.IntN(2098)-1074)
		case 2:
			v = math.Float64frombits(rng.Uint64N(1 << 52)) // subnormal
		case 3:
			v = math.MaxFloat64 * rng.Float64()
		case 4:
			v = float64(rng.IntN(1000))
		case 5:
			if len(vs) > 0 {
				v = -vs[rng.IntN(len(vs))]
			}
		}
		if rng.IntN(2) == 0 {
			v = -v
		}
		vs = append(vs, v)
	}
	return vs
}

// addShuffledHalves shuffles vs, cuts it at a random place and adds the
// values before the cut to a and the rest to b. It returns the cut.
func addShuffledHalves(rng *rand.Rand, vs []float64, a, b interface{ Add(float64) }) int {
	rng.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
	cut := rng.IntN(len(vs) + 1)
	for _, v := range vs[:cut] {
		a.Add(v)
	}
	for _, v := range vs[cut:] {
		b.Add(v)
	}
	return cut
}

func TestExactSumIsTheSumRoundedOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		vs := randomValues(rng, 1+rng.IntN(40))
		want := exactly(vs)
		var s query.ExactSum
		for _, v := range vs {
			s.Add(v)
		}
		got := s.Float64()
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), "sum of %v: %v, want %v", vs, got, want)

		// In another order, and as two partial sums merged after a
		// trip through their encoding: the same bits.
		var a, b query.ExactSum
		cut := addShuffledHalves(rng, vs, &a, &b)
		enc, err := b.AppendBinary(nil)
		require.NoError(t, err)
		back, rest, err := query.UnmarshalExactSum(enc)
		require.NoError(t, err)
		require.Empty(t, rest)
		a.Merge(&back)
		assert.Equal(t, math.Float64bits(want), math.Float64bits(a.Float64()), "merged at %d of %v", cut, vs)
	}
}

func TestExactSumSpecialValues(t *testing.T) {
	sum := func(vs ...float64) float64 {
		var s query.ExactSum
		for _, v := range vs {
			s.Add(v)
		}
		return s.Float64()
	}
	assert.Equal(t, 0.0, sum())
	assert.False(t, math.Signbit(sum(math.Copysign(0, -1))), "an empty sum is +0, as 0 + -0 is")
	assert.Equal(t, 1.0, sum(1e300, 1, -1e300), "no rounding before the end")
	assert.Equal(t, math.Inf(1), sum(math.MaxFloat64, math.MaxFloat64), "beyond the range")
	assert.Equal(t, math.Inf(-1), sum(-math.MaxFloat64, -math.MaxFloat64, 5))
	assert.Equal(t, math.MaxFloat64, sum(math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64), "an intermediate sum beyond the range is fine")
	assert.Equal(t, math.Inf(1), sum(1, math.Inf(1)))
	assert.True(t, math.IsNaN(sum(math.Inf(1), math.Inf(-1))))
	assert.True(t, math.IsNaN(sum(1, math.NaN())))
	assert.Equal(t, 5e-324, sum(5e-324, 1e-323, -1e-323), "subnormals")
}

func TestUnmarshalExactSumRefusesGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {8}, {0}, {0, 0}, {0, 0, 5, 1}} {
		_, _, err := query.UnmarshalExactSum(b)
		assert.Error(t, err, "%v", b)
	}
}

func TestPartialMergesAsTheUnion(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	negZero := math.Copysign(0, -1)
	for range 200 {
		vs := randomValues(rng, 1+rng.IntN(20))
		if rng.IntN(4) == 0 {
			vs = append(vs, 0, negZero)
		}
		var all query.Partial
		for _, v := range vs {
			all.Add(v)
		}
		var a, b query.Partial
		addShuffledHalves(rng, vs, &a, &b)
		enc, err := b.AppendBinary(nil)
		require.NoError(t, err)
		back, err := query.UnmarshalPartial(enc)
		require.NoError(t, err)
		a.Merge(&back)
		for _, agg := range []query.Agg{query.AggAvg, query.AggSum, query.AggMin, query.AggMax, query.AggCount} {
			assert.Equal(t, math.Float64bits(all.Value(agg)), math.Float64bits(a.Value(agg)), "%s of %v", agg, vs)
		}
	}
}

// TestAggregatorPartials checks that points added one by one and the
// same points added as partials per minute give the same series.
func TestAggregatorPartials(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	for _, agg := range []query.Agg{query.AggAvg, query.AggSum, query.AggMin, query.AggMax, query.AggCount} {
		q := query.MetricQuery{Name: "m", Since: base, Until: base.Add(time.Hour), Step: 5 * time.Minute, Agg: agg}
		require.NoError(t, q.Normalize(base))
		points, partials := query.NewAggregator(q), query.NewAggregator(q)
		minutes := map[int64]*query.Partial{}
		for range 2000 {
			ns := base.Add(time.Duration(rng.Int64N(int64(time.Hour)))).UnixNano()
			v := rng.NormFloat64() * 1e3
			require.NoError(t, points.Add(ns, v, func(string) (string, error) { return "", nil }))
			m := ns - ns%int64(time.Minute)
			if minutes[m] == nil {
				minutes[m] = &query.Partial{}
			}
			minutes[m].Add(v)
		}
		for m, p := range minutes {
			partials.AddPartial(m, p)
		}
		want, got := points.Series(), partials.Series()
		require.Len(t, want, 1)
		require.Len(t, want[0].Points, 12)
		assert.Equal(t, want, got, "%s", agg)
	}
}
