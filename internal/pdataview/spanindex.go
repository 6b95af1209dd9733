package pdataview

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// spanKey identifies a span across the traces of one batch.
type spanKey struct {
	trace pcommon.TraceID
	span  pcommon.SpanID
}

// spanIndex finds a span of a batch by its trace and span ids, for Place
// to link spans to their parents. It is a table of node indexes, open
// addressing at most half full, kept with the nodes between batches: a
// map made for each batch cost an allocation as large as the batch's
// spans, zeroed and then collected, and its cost per span grew with the
// batch. Keys are hashed with a random seed, as a map's are (the same
// multiply-and-fold mixing as the runtime's hash where it has no AES), so
// that spans whose ids were chosen to collide cost no more than others.
type spanIndex struct {
	keys  []spanKey // the key of each node added, by node index
	slots []int32   // node index + 1; 0 is an empty slot
	shift uint8
}

// spanIndexSeed is chosen at random once per process.
var spanIndexSeed = [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()}

// mix multiplies a and b into 128 bits and folds them into 64.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// reset empties x for a batch of n spans.
func (x *spanIndex) reset(n int) {
	size := 4
	for size < 2*n {
		size <<= 1
	}
	if cap(x.slots) < size {
		x.slots = make([]int32, size)
	} else {
		x.slots = x.slots[:size]
		clear(x.slots)
	}
	x.keys = x.keys[:0]
	x.shift = uint8(64 - bits.TrailingZeros(uint(size)))
}

func (x *spanIndex) home(k spanKey) int {
	t0 := binary.LittleEndian.Uint64(k.trace[:8])
	t1 := binary.LittleEndian.Uint64(k.trace[8:])
	sp := binary.LittleEndian.Uint64(k.span[:])
	h := mix(t0^spanIndexSeed[0], t1^spanIndexSeed[1])
	return int(mix(h^sp, spanIndexSeed[2]^sp) >> x.shift)
}

// add adds the key of the next node, whose index is the number added
// before. A key added again now finds the later node, as a map
// assignment would.
func (x *spanIndex) add(k spanKey) {
	i := int32(len(x.keys)) + 1
	x.keys = append(x.keys, k)
	mask := len(x.slots) - 1
	for s := x.home(k); ; s = (s + 1) & mask {
		switch j := x.slots[s]; {
		case j == 0:
			x.slots[s] = i
			return
		case x.keys[j-1] == k:
			x.slots[s] = i
			return
		}
	}
}

// find returns the index of the node of k, and whether there is one.
func (x *spanIndex) find(k spanKey) (int, bool) {
	mask := len(x.slots) - 1
	for s := x.home(k); ; s = (s + 1) & mask {
		j := x.slots[s]
		if j == 0 {
			return 0, false
		}
		if x.keys[j-1] == k {
			return int(j - 1), true
		}
	}
}
