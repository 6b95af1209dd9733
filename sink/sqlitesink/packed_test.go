package sqlitesink

import (
	"database/sql/driver"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagetrace/stagetrace/query"
)

func TestPackedRowsRoundTrip(t *testing.T) {
	var p packedRows
	require.NoError(t, p.Step(nil, []driver.Value{int64(-5), "text", []byte{0, 1, 2}, nil, int64(math.MaxInt64)}))
	require.NoError(t, p.Step(nil, []driver.Value{int64(0), "", []byte{}, nil, int64(math.MinInt64)}))
	assert.Error(t, p.Step(nil, []driver.Value{true}), "a type SQLite does not hand over")
	blob, err := p.WindowValue(nil)
	require.NoError(t, err)

	r := rowReader{b: blob.([]byte)}
	seen := map[string]string{}
	for _, want := range []struct {
		n     int64
		text  string
		blob  []byte
		limit int64
	}{{-5, "text", []byte{0, 1, 2}, math.MaxInt64}, {0, "", []byte{}, math.MinInt64}} {
		require.True(t, r.more())
		n, null := r.int()
		assert.Equal(t, want.n, n)
		assert.False(t, null)
		assert.Equal(t, want.text, r.interned(seen))
		assert.Equal(t, want.blob, r.bytes())
		_, null = r.int()
		assert.True(t, null, "NULL")
		limit, _ := r.int()
		assert.Equal(t, want.limit, limit)
	}
	assert.False(t, r.more())
	require.NoError(t, r.err)

	// Asked for the wrong type, or cut short: an error, and no more.
	r = rowReader{b: blob.([]byte)}
	r.bytes()
	assert.Error(t, r.err)
	assert.False(t, r.more())
	r = rowReader{b: blob.([]byte)[:6]}
	r.int()
	r.bytes()
	assert.Error(t, r.err)
}

func TestPackedPartials(t *testing.T) {
	var a, b query.Partial
	a.Add(1.5)
	b.Add(-2)
	b.Add(7)
	var p packedPartials
	for i, part := range []*query.Partial{&a, &b} {
		enc, err := part.AppendBinary(nil)
		require.NoError(t, err)
		require.NoError(t, p.Step(nil, []driver.Value{int64(i * 60e9), enc}))
	}
	blob, err := p.WindowValue(nil)
	require.NoError(t, err)
	var got []float64
	require.NoError(t, unpackPartials(blob.([]byte), func(ns int64, p *query.Partial) {
		got = append(got, float64(ns/60e9), float64(p.Count), p.Value(query.AggSum))
	}))
	assert.Equal(t, []float64{0, 1, 1.5, 1, 2, 5}, got)
	b2 := blob.([]byte)
	assert.Error(t, unpackPartials(b2[:len(b2)-1], func(int64, *query.Partial) {}))
	assert.Error(t, unpackPartials(b2[:5], func(int64, *query.Partial) {}))

	merged, err := mergePartialsSQL(nil, []driver.Value{mustEncode(t, &a), mustEncode(t, &b)})
	require.NoError(t, err)
	m, err := query.UnmarshalPartial(merged.([]byte))
	require.NoError(t, err)
	assert.Equal(t, 3, m.Count)
	assert.Equal(t, 6.5, m.Value(query.AggSum))
	assert.Equal(t, -2.0, m.Value(query.AggMin))
	_, err = mergePartialsSQL(nil, []driver.Value{[]byte{1}, mustEncode(t, &b)})
	assert.Error(t, err)
}

func mustEncode(t *testing.T, p *query.Partial) []byte {
	t.Helper()
	b, err := p.AppendBinary(nil)
	require.NoError(t, err)
	return b
}
