package processor

import (
	"hash/maphash"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// cachedValues is a values and its attributes, shared read-only by the
// spans that get the same values: the sampler returns kv as their sampling
// attributes, wrapping mode keeps a pointer to it for each live span and
// each ended span it wraps.
type cachedValues struct {
	values
	kv []attribute.KeyValue
}

// valuesCacheSlots is the number of distinct values a valuesCache holds at
// once: enough for the stages of many concurrent runs.
const valuesCacheSlots = 64

// valuesCache interns values, so that the spans of one stage share one
// cachedValues rather than each carrying a copy (two strings and a flag)
// or its own attribute slice. The last one handed out is checked first:
// spans of one stage usually come one after another. Otherwise a slot
// chosen by the hash of the values is, so that the spans of concurrent
// runs do not each allocate. A value is never changed once stored, so a
// reader needs no lock. The zero valuesCache is empty and ready to use.
type valuesCache struct {
	last  cachedValuesSlot
	slots [valuesCacheSlots]cachedValuesSlot
}

// valuesSeed is the seed of the hashes that choose the slots of values.
var valuesSeed = maphash.MakeSeed()

// get returns the cachedValues of v.
func (c *valuesCache) get(v values) *cachedValues {
	if l := c.last.Load(); l != nil && l.is(v) {
		return l
	}
	slot := c.slot(v)
	e := slot.Load()
	if e == nil || !e.is(v) {
		kv := appendValues(make([]attribute.KeyValue, 0, 3), v)
		// Full, so that an append by a sampler wrapping ours copies it.
		e = &cachedValues{values: v, kv: kv[:len(kv):len(kv)]}
		slot.Store(e)
	}
	c.last.Store(e)
	return e
}

// cachedValuesSlot holds one cachedValues of a valuesCache.
type cachedValuesSlot = atomic.Pointer[cachedValues]

// slot returns the slot of v, chosen by its hash.
func (c *valuesCache) slot(v values) *cachedValuesSlot {
	h := maphash.String(valuesSeed, v.run) ^ maphash.String(valuesSeed, v.stage)*31
	if v.inherited {
		h = ^h
	}
	return &c.slots[h%valuesCacheSlots]
}

// is reports whether c holds v. Field by field: the compiler calls a
// function to compare whole structs, and the strings of the spans of one
// stage are the same ones, which makes their comparison short.
func (c *cachedValues) is(v values) bool {
	return c.inherited == v.inherited && c.run == v.run && c.stage == v.stage
}
