package mapping

import (
	"sync"
	"sync/atomic"

	"github.com/stagetrace/stagetrace"
)

// Mapper makes the Batcher of each export call with the same Options, and
// sizes it from the batches before: the attribute array of a batch is then
// allocated once, at about the size it ends with. It is the mapping half
// of an exporter, shared by the SDK exporter and the collector exporter.
// A Mapper is safe for concurrent use.
type Mapper struct {
	opts Options
	// attrsPerSpan is how many attributes the last batch had per span,
	// plus one.
	attrsPerSpan atomic.Int64
}

// NewMapper returns a Mapper mapping with opts.
func NewMapper(opts Options) *Mapper {
	m := &Mapper{opts: opts}
	m.attrsPerSpan.Store(8)
	return m
}

// Batcher returns a Batcher for a batch of spans spans.
func (m *Mapper) Batcher(spans int) *Batcher {
	return NewBatcher(m.opts, spans, int(m.attrsPerSpan.Load()))
}

// Reuse returns b emptied (Batcher.Reset), to map the next batch into the
// arrays of the last, or a new Batcher for a batch of spans spans when b
// is nil. Call it only once no sink can still read the batch b returned
// before (see exporter.Reuse).
func (m *Mapper) Reuse(b *Batcher, spans int) *Batcher {
	if b == nil {
		return m.Batcher(spans)
	}
	b.Reset()
	return b
}

// Finish returns the batch b mapped, and remembers its size for the next
// Batcher. spans is the number of spans b was made for.
func (m *Mapper) Finish(b *Batcher, spans int) stagetrace.Batch {
	if spans > 0 {
		if per := b.AttrCount() / spans; per > 0 {
			m.attrsPerSpan.Store(int64(per + 1))
		}
	}
	return b.Batch()
}

// maxResources bounds a ResourceCache: a service has one resource, so
// many distinct ones mean resources are being made per span upstream.
const maxResources = 256

// ResourceCache converts each distinct resource once, so that the spans
// of one resource share one *stagetrace.Resource, converted and later
// encoded once rather than once per span. K identifies a resource: the
// SDK's *resource.Resource, or a key of a pdata resource's content. It
// holds at most a few hundred resources and starts over when full. The
// zero value is ready to use and safe for concurrent use.
type ResourceCache[K comparable] struct {
	mu sync.Mutex
	m  map[K]*stagetrace.Resource
}

// Get returns the resource cached under key, converting it with convert
// the first time.
func (c *ResourceCache[K]) Get(key K, convert func() *stagetrace.Resource) *stagetrace.Resource {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res, ok := c.m[key]; ok {
		return res
	}
	if c.m == nil || len(c.m) >= maxResources {
		c.m = make(map[K]*stagetrace.Resource)
	}
	res := convert()
	c.m[key] = res
	return res
}
