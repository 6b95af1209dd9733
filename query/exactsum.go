package query

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
)

// ExactSum is a sum of float64 values kept without rounding: its Float64
// is the exact sum rounded once, so it does not depend on the order the
// values came in nor on how they were grouped into partial sums merged
// later. Executors that read points in different orders, and stores that
// keep partial sums (rollups), therefore agree bit for bit.
//
// The zero value is an empty sum.
type ExactSum struct {
	// limbs[i] is a multiple of 2^(32*(lo+i)-1074): a float64 is an
	// integer multiple of 2^-1074, cut into 32-bit digits. Between
	// normalizations a limb may exceed 32 bits; adds counts the values
	// added since, so that no limb overflows.
	limbs []int64
	lo    int
	adds  int
	// Infinities and NaN are not in limbs: they decide the sum alone.
	posInf, negInf, nan bool
}

// maxAddsBeforeNormalize bounds the additions between carry propagations:
// each changes a limb by less than 2^32, so 2^30 of them stay far from the
// int64 bounds.
const maxAddsBeforeNormalize = 1 << 30

// Add adds v to the sum.
func (s *ExactSum) Add(v float64) {
	switch {
	case math.IsNaN(v):
		s.nan = true
		return
	case math.IsInf(v, 1):
		s.posInf = true
		return
	case math.IsInf(v, -1):
		s.negInf = true
		return
	case v == 0:
		return
	}
	bits := math.Float64bits(v)
	exp := int((bits >> 52) & 0x7ff)
	mant := bits & (1<<52 - 1)
	if exp == 0 {
		exp = 1 // subnormal
	} else {
		mant |= 1 << 52
	}
	// v = mant * 2^(exp-1075): bit 0 of mant is bit exp-1 of the sum.
	p := exp - 1
	i, r := p>>5, uint(p&31)
	lo64 := mant << r
	hi64 := mant >> (64 - r) // 0 when r is 0
	d0, d1, d2 := int64(lo64&0xffffffff), int64(lo64>>32), int64(hi64)
	if bits>>63 != 0 {
		d0, d1, d2 = -d0, -d1, -d2
	}
	s.cover(i, i+3)
	j := i - s.lo
	s.limbs[j] += d0
	s.limbs[j+1] += d1
	s.limbs[j+2] += d2
	s.added()
}

// Merge adds the values of o to the sum. It may rewrite how o holds its
// sum, never its value.
func (s *ExactSum) Merge(o *ExactSum) {
	s.posInf = s.posInf || o.posInf
	s.negInf = s.negInf || o.negInf
	s.nan = s.nan || o.nan
	if len(o.limbs) == 0 {
		return
	}
	// Normalized, o adds at most one 32-bit digit to each limb of s, as
	// one Add does, which added counts.
	o.normalize()
	s.cover(o.lo, o.lo+len(o.limbs))
	for k, d := range o.limbs {
		s.limbs[o.lo+k-s.lo] += d
	}
	s.added()
}

// added counts an addition of at most one 32-bit digit to each limb.
func (s *ExactSum) added() {
	s.adds++
	if s.adds >= maxAddsBeforeNormalize {
		s.normalize()
	}
}

// cover grows limbs to hold limb indexes from to to (exclusive).
func (s *ExactSum) cover(from, to int) {
	if len(s.limbs) == 0 {
		s.limbs = make([]int64, to-from, to-from+2)
		s.lo = from
		return
	}
	if from < s.lo {
		grown := make([]int64, len(s.limbs)+s.lo-from, len(s.limbs)+s.lo-from+2)
		copy(grown[s.lo-from:], s.limbs)
		s.limbs, s.lo = grown, from
	}
	for s.lo+len(s.limbs) < to {
		s.limbs = append(s.limbs, 0)
	}
}

// normalize propagates carries: every limb but the top one is then in
// [0, 2^32), and the top one holds the sign. Zero limbs at either end are
// dropped.
func (s *ExactSum) normalize() {
	s.adds = 0
	for k := 0; k < len(s.limbs); k++ {
		c := s.limbs[k] >> 32 // floor division by 2^32
		if c == 0 || k == len(s.limbs)-1 && c == -1 {
			continue
		}
		s.limbs[k] -= c << 32
		if k == len(s.limbs)-1 {
			s.limbs = append(s.limbs, 0)
		}
		s.limbs[k+1] += c
	}
	// A top limb of -1 over a limb with its high bit set is the same
	// number one limb shorter.
	for n := len(s.limbs); n >= 2 && s.limbs[n-1] == -1 && s.limbs[n-2] >= 1<<31; n-- {
		s.limbs[n-2] -= 1 << 32
		s.limbs = s.limbs[:n-1]
	}
	for len(s.limbs) > 0 && s.limbs[len(s.limbs)-1] == 0 {
		s.limbs = s.limbs[:len(s.limbs)-1]
	}
	for len(s.limbs) > 0 && s.limbs[0] == 0 {
		s.limbs = s.limbs[1:]
		s.lo++
	}
	if len(s.limbs) == 0 {
		s.lo = 0
	}
}

// Float64 returns the sum rounded to the nearest float64 (ties to even):
// NaN when a NaN was added or both infinities were, else the infinity
// added, else the exact sum rounded once (±Inf beyond the float64 range).
func (s *ExactSum) Float64() float64 {
	switch {
	case s.nan || s.posInf && s.negInf:
		return math.NaN()
	case s.posInf:
		return math.Inf(1)
	case s.negInf:
		return math.Inf(-1)
	}
	s.normalize()
	if len(s.limbs) == 0 {
		return 0
	}
	x := big.NewInt(s.limbs[len(s.limbs)-1])
	var d big.Int
	for k := len(s.limbs) - 2; k >= 0; k-- {
		x.Lsh(x, 32)
		x.Add(x, d.SetInt64(s.limbs[k]))
	}
	var f big.Float
	f.SetInt(x) // exact: the precision is that of x
	f.SetMantExp(&f, 32*s.lo-1074)
	v, _ := f.Float64()
	return v
}

// AppendBinary appends the sum's encoding, which UnmarshalExactSum reads.
func (s *ExactSum) AppendBinary(b []byte) ([]byte, error) {
	s.normalize()
	var flags byte
	if s.posInf {
		flags |= 1
	}
	if s.negInf {
		flags |= 2
	}
	if s.nan {
		flags |= 4
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(s.lo))
	b = binary.AppendUvarint(b, uint64(len(s.limbs)))
	for _, d := range s.limbs {
		b = binary.AppendVarint(b, d)
	}
	return b, nil
}

var errBadExactSum = errors.New("bad encoding of an exact sum")

// UnmarshalExactSum reads a sum AppendBinary encoded at the start of b and
// returns it with the bytes after it.
func UnmarshalExactSum(b []byte) (ExactSum, []byte, error) {
	var s ExactSum
	if len(b) == 0 || b[0] > 7 {
		return s, nil, errBadExactSum
	}
	s.posInf, s.negInf, s.nan = b[0]&1 != 0, b[0]&2 != 0, b[0]&4 != 0
	b = b[1:]
	lo, k := binary.Varint(b)
	if k <= 0 || lo < -1<<20 || lo > 1<<20 {
		return s, nil, errBadExactSum
	}
	b = b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return s, nil, errBadExactSum
	}
	b = b[k:]
	s.lo = int(lo)
	if n > 0 {
		s.limbs = make([]int64, n)
	}
	for i := range s.limbs {
		d, k := binary.Varint(b)
		if k <= 0 || (i < len(s.limbs)-1 && (d < 0 || d >= 1<<32)) || d >= 1<<32 || d < -1<<32 {
			return s, nil, errBadExactSum
		}
		s.limbs[i] = d
		b = b[k:]
	}
	return s, b, nil
}
