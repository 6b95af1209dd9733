package processor

import (
	"encoding/binary"
	"sync"

	"go.opentelemetry.io/otel/trace"
)

// The pending table of wrapping mode maps each live span to the values it
// gets when it ends. It is written twice per span (at start and end), so
// it is built for that: shards, each a mutex over an open-addressing hash
// table, which takes one probe sequence per operation where a Go map needs
// a lookup and then a delete. A span that never ends keeps its entry, as
// it keeps its own memory, until Shutdown.

// pendingShards spreads the live spans over this many locks, so that
// goroutines starting and ending spans rarely contend.
const (
	pendingShardBits = 6
	pendingShards    = 1 << pendingShardBits
	// pendingMinSlots is the size of a shard's first table.
	pendingMinSlots = 8
)

// spanKey identifies a span: its span id as an integer, and its trace id,
// checked too because custom id generators need not make span ids unique
// across traces.
type spanKey struct {
	sid uint64
	tid trace.TraceID
}

func keyOf(sc trace.SpanContext) spanKey {
	sid := sc.SpanID()
	return spanKey{sid: binary.LittleEndian.Uint64(sid[:]), tid: sc.TraceID()}
}

// hash spreads span ids, so that sequential ones from a custom generator
// spread too. Its top bits pick the shard, the next ones the slot.
func (k spanKey) hash() uint64 { return k.sid * 0x9e3779b97f4a7c15 }

type pendingTable struct {
	shards [pendingShards]pendingShard
}

type pendingShard struct {
	mu sync.Mutex
	// slots has a power of two length; a zero sid marks a free slot (the
	// zero span id is invalid, so no recording span has it).
	slots []pendingSlot
	n     int
	shift uint8 // 64 - log2(len(slots))
	// Pad to a cache line so that shards used by different CPUs do not
	// slow each other down.
	_ [64 - 8 - 24 - 8 - 1]byte
}

type pendingSlot struct {
	sid uint64
	tid trace.TraceID
	v   *values
}

func newPendingTable() *pendingTable { return new(pendingTable) }

func (t *pendingTable) shard(h uint64) *pendingShard {
	return &t.shards[h>>(64-pendingShardBits)]
}

// home returns the slot where a key of hash h belongs.
func (sh *pendingShard) home(h uint64) int {
	return int((h << pendingShardBits) >> sh.shift)
}

// find returns the slot of sid, or of the free slot ending its probe
// sequence. It assumes sh.mu is held and sh.slots is not empty.
func (sh *pendingShard) find(sid, h uint64) (int, bool) {
	mask := len(sh.slots) - 1
	for i := sh.home(h); ; i = (i + 1) & mask {
		switch sh.slots[i].sid {
		case sid:
			return i, true
		case 0:
			return i, false
		}
	}
}

// put stores v for k. It reports false, storing nothing, when a live span
// of another trace has the same span id; the caller then keeps v another
// way.
func (t *pendingTable) put(k spanKey, v *values) bool {
	h := k.hash()
	sh := t.shard(h)
	sh.mu.Lock()
	if (sh.n+1)*4 > len(sh.slots)*3 {
		sh.grow()
	}
	i, ok := sh.find(k.sid, h)
	if ok && sh.slots[i].tid != k.tid {
		sh.mu.Unlock()
		return false
	}
	if !ok {
		sh.n++
	}
	sh.slots[i] = pendingSlot{sid: k.sid, tid: k.tid, v: v}
	sh.mu.Unlock()
	return true
}

// grow doubles the table of sh, keeping its load under 3/4.
func (sh *pendingShard) grow() {
	old := sh.slots
	size := max(2*len(old), pendingMinSlots)
	sh.slots = make([]pendingSlot, size)
	sh.shift = uint8(64 - log2(size))
	for _, s := range old {
		if s.sid != 0 {
			i, _ := sh.find(s.sid, spanKey{sid: s.sid}.hash())
			sh.slots[i] = s
		}
	}
}

func log2(n int) int {
	b := 0
	for n > 1 {
		n >>= 1
		b++
	}
	return b
}

func (t *pendingTable) get(k spanKey) (*values, bool) {
	h := k.hash()
	sh := t.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.n == 0 {
		return nil, false
	}
	i, ok := sh.find(k.sid, h)
	if !ok || sh.slots[i].tid != k.tid {
		return nil, false
	}
	return sh.slots[i].v, true
}

// take removes and returns the entry of k.
func (t *pendingTable) take(k spanKey) (*values, bool) {
	h := k.hash()
	sh := t.shard(h)
	sh.mu.Lock()
	if sh.n == 0 {
		sh.mu.Unlock()
		return nil, false
	}
	i, ok := sh.find(k.sid, h)
	if !ok || sh.slots[i].tid != k.tid {
		sh.mu.Unlock()
		return nil, false
	}
	v := sh.slots[i].v
	sh.remove(i)
	sh.mu.Unlock()
	return v, true
}

// remove frees slot i, moving back the entries after it that would no
// longer be found past the gap (backward shift deletion: no tombstones, so
// probe sequences stay short however many spans come and go).
func (sh *pendingShard) remove(i int) {
	mask := len(sh.slots) - 1
	for j := (i + 1) & mask; sh.slots[j].sid != 0; j = (j + 1) & mask {
		home := sh.home(spanKey{sid: sh.slots[j].sid}.hash())
		// The entry at j may move to i unless its home lies cyclically in
		// (i, j].
		if (j-home)&mask >= (j-i)&mask {
			sh.slots[i] = sh.slots[j]
			i = j
		}
	}
	sh.slots[i] = pendingSlot{}
	sh.n--
}

func (t *pendingTable) clear() {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		sh.slots, sh.n, sh.shift = nil, 0, 0
		sh.mu.Unlock()
	}
}
